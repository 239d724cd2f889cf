//! Chat prompts rendered from the model's own Jinja template (`tokenizer.chat_template` in GGUF metadata or
//! `tokenizer_config.json`) with `minijinja`, following transformers' `apply_chat_template`: variables
//! `messages`, `add_generation_prompt`, `bos_token`, `eos_token`; `raise_exception`; blocks trimmed as
//! transformers' Jinja environment does (`trim_blocks`, `lstrip_blocks`); Python string methods
//! (`.strip()`, `.startswith()`…) as templates use them.

use crate::{Error, Result};
use minijinja::value::Serde;
use minijinja::value::ValueKind;
use minijinja::{context, Environment, ErrorKind, Value};
use serde::{Deserialize, Serialize};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    /// A message from `role`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        ChatMessage {
            role,
            content: content.into(),
        }
    }
}

/// The work one render may do: about one unit per instruction or per 64 bytes built. A template comes with
/// the model file, so it is outside data: without a budget `{% for i in range(9999) %}{% for j in range(9999)
/// %}…` runs for hours and a doubling `{% set ns.s = ns.s ~ ns.s %}` fills memory. Real templates render a
/// 1,000-message conversation within it (see the tests); spending all of it on turning a long list into text
/// takes about 0.2 s.
pub const TEMPLATE_FUEL: u64 = 500_000;
/// How deep rendering may nest (loops and ifs count one level, a macro call about ten): deep enough for
/// every published template, shallow enough for a wasm worker's stack.
pub const TEMPLATE_RECURSION: usize = 200;

/// A parsed chat template with the model's BOS/EOS token texts.
#[derive(Debug)]
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
}

fn template_error(e: minijinja::Error) -> Error {
    Error::invalid("chat template", e.to_string())
}

impl ChatTemplate {
    /// Parses `source`; a template that does not parse is an error that names the line.
    pub fn new(source: &str, bos_token: &str, eos_token: &str) -> Result<Self> {
        let mut env = Environment::new();
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(template_error)?;
        env.set_syntax(syntax);
        env.set_fuel(Some(TEMPLATE_FUEL));
        env.set_recursion_limit(TEMPLATE_RECURSION);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        // Printing a sequence walks all of it, fuel-free and past the output cap: refuse long ones up front.
        env.set_formatter(|out, state, value| {
            let collection = matches!(
                value.kind(),
                ValueKind::Seq | ValueKind::Iterable | ValueKind::Map
            );
            if collection && value.len().is_some_and(|n| n > TEMPLATE_PRINTED_ITEMS) {
                return Err(minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    format!("it prints a list of more than {TEMPLATE_PRINTED_ITEMS} items"),
                ));
            }
            minijinja::escape_formatter(out, state, value)
        });
        env.add_function(
            "raise_exception",
            |msg: String| -> std::result::Result<String, minijinja::Error> {
                Err(minijinja::Error::new(ErrorKind::InvalidOperation, msg))
            },
        );
        env.add_template_owned("chat", source.to_string())
            .map_err(template_error)?;
        Ok(ChatTemplate {
            env,
            bos_token: bos_token.to_string(),
            eos_token: eos_token.to_string(),
        })
    }

    /// The prompt for `messages`; with `add_generation_prompt` it ends where the assistant's reply starts.
    pub fn render(&self, messages: &[ChatMessage], add_generation_prompt: bool) -> Result<String> {
        let template = self.env.get_template("chat").map_err(template_error)?;
        let mut out = CappedOutput::default();
        template
            .render_captured_to(
                context! {
                    messages => Value::from(Serde(messages)),
                    add_generation_prompt => add_generation_prompt,
                    bos_token => &self.bos_token,
                    eos_token => &self.eos_token,
                },
                &mut out,
            )
            .map_err(|e| {
                if out.overflowed {
                    Error::invalid(
                        "chat template",
                        format!("the prompt it renders grows past {TEMPLATE_OUTPUT_BYTES} bytes"),
                    )
                } else {
                    template_error(e)
                }
            })?;
        String::from_utf8(out.bytes)
            .map_err(|_| Error::invalid("chat template", "the prompt it renders is not UTF-8"))
    }
}

/// The most a rendered prompt may hold: eight times the text of the longest context window the catalog's
/// models have (32k tokens, about 128 KB), and an early stop for a template that prints a value repeated
/// millions of times, which one Jinja operation builds at no fuel cost.
pub const TEMPLATE_OUTPUT_BYTES: usize = 1 << 20;

/// The longest list a template may print with `{{ … }}` (formatting one is not metered by fuel, and a single
/// `[x] * n` makes a list of any length). Templates print strings; a printed list is a short debugging aid.
pub const TEMPLATE_PRINTED_ITEMS: usize = 10_000;

/// A writer that refuses to grow past [`TEMPLATE_OUTPUT_BYTES`], ending the render there.
#[derive(Default)]
struct CappedOutput {
    bytes: Vec<u8>,
    overflowed: bool,
}

impl std::io::Write for CappedOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > TEMPLATE_OUTPUT_BYTES {
            self.overflowed = true;
            return Err(std::io::Error::other("the rendered prompt is too long"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str) -> Result<String> {
        let messages = [ChatMessage::new(Role::User, "Hi")];
        ChatTemplate::new(source, "<s>", "</s>")?.render(&messages, true)
    }

    /// Values repeated millions of times (one operation each, at no fuel cost): printing a long list is
    /// refused, long text stops at the output cap, looping runs out of fuel.
    #[test]
    fn huge_repeated_values_are_refused() {
        // Found by the fuzzer: seconds per input before these limits.
        let printed = render("{{ ['VV=9'] * 54871545 }}").expect_err("too long");
        assert!(
            printed.to_string().contains("more than 10000 items"),
            "{printed}"
        );
        let long_text = render("{{ 'ab' * 600000 }}").expect_err("too long");
        assert!(long_text.to_string().contains("grows past"), "{long_text}");
        let looped =
            render("{% for x in [7] * 90000000 %}{{ x }}{% endfor %}").expect_err("too long");
        assert!(looped.to_string().contains("fuel"), "{looped}");
        // A long list turned into text (`~`) is charged for the text it built: out of fuel. (The text is built
        // before it is charged: ten times this many items take ten times as long, 0.7 s here.)
        let joined = render("{{ messages * 3 * 23 * 2208 ~ 66 }}").expect_err("too long");
        assert!(joined.to_string().contains("fuel"), "{joined}");
        // A short list prints.
        let listed = render("{{ ['a'] * 3 }}").expect("a short list prints");
        assert_eq!(listed, "['a', 'a', 'a']");
    }

    /// A long conversation through a real template (SmolLM2's, in its GGUF) stays far inside the budget.
    #[test]
    fn a_long_conversation_renders() {
        let source = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}\
            {{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}\
            {% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}\
            {% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
        let template = ChatTemplate::new(source, "", "").expect("parses");
        let messages: Vec<ChatMessage> = (0..1000)
            .map(|i| {
                let role = if i % 2 == 0 {
                    Role::User
                } else {
                    Role::Assistant
                };
                ChatMessage::new(role, "word ".repeat(150))
            })
            .collect();
        let prompt = template.render(&messages, true).expect("renders");
        assert!(prompt.len() > 750_000, "{}", prompt.len());
    }

    /// Found while writing the fuzz target: without a budget these ran for hours, filled memory or
    /// (macros) recursed to the stack's end.
    #[test]
    fn runaway_templates_are_stopped() {
        for source in [
            "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}",
            "{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
            "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
            "{{ 'ab' * 90000000 }}",
            "{{ '{:>500000000}'.format('a') }}",
            "{{ '%500000000s'|format('a') }}",
        ] {
            let err = render(source).expect_err(source);
            assert!(err.to_string().contains("chat template"), "{err}");
        }
    }
}
