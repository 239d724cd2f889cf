//! Replies as safe Markdown: fenced code blocks become `<pre><code>`, blank lines separate paragraphs, and
//! everything is a text node (Yew escapes it), so a reply can never inject HTML into the page.

use yew::prelude::*;

/// Renders `text`'s paragraphs and fenced code blocks.
pub fn render(text: &str) -> Html {
    let mut blocks = Vec::new();
    for (i, part) in text.split("```").enumerate() {
        if i % 2 == 1 {
            // Inside a fence: the first line may name the language.
            let (lang, code) = match part.split_once('\n') {
                Some((first, rest)) if !first.trim().contains(' ') => (first.trim(), rest),
                _ => ("", part),
            };
            blocks.push(html! {
                <pre><code data-lang={lang.to_string()}>{ code.trim_end_matches('\n').to_string() }</code></pre>
            });
        } else {
            for para in part.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
                let lines: Vec<&str> = para.lines().collect();
                let last = lines.len().saturating_sub(1);
                blocks.push(html! {
                    <p>{ for lines.iter().enumerate().map(|(j, line)| html! {
                        <>{ line.to_string() }if j < last { <br /> }</>
                    }) }</p>
                });
            }
        }
    }
    html! { <>{ for blocks }</> }
}
