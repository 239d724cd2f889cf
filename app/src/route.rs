//! Hash routes (`#/search?c=sample&q=…`) so links work on any static host under any path prefix,
//! and the query carries each page's shareable state.

use std::collections::BTreeMap;

/// A page of the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Home,
    Vad,
    Transcribe,
    Speak,
    RemoveBackground,
    Search,
    Chat,
    Device,
    Models,
    NotFound,
}

impl Route {
    /// Every page with a navigation entry, in menu order.
    pub const NAV: [Route; 9] = [
        Route::Home,
        Route::Vad,
        Route::Transcribe,
        Route::Speak,
        Route::RemoveBackground,
        Route::Search,
        Route::Chat,
        Route::Device,
        Route::Models,
    ];

    /// The path after `#` (without query).
    pub fn path(self) -> &'static str {
        match self {
            Route::Home => "/",
            Route::Vad => "/vad",
            Route::Transcribe => "/transcribe",
            Route::Speak => "/speak",
            Route::RemoveBackground => "/remove-background",
            Route::Search => "/search",
            Route::Chat => "/chat",
            Route::Device => "/device",
            Route::Models => "/models",
            Route::NotFound => "/not-found",
        }
    }

    /// The label in menus and titles.
    pub fn title(self) -> &'static str {
        match self {
            Route::Home => "Home",
            Route::Vad => "Voice activity",
            Route::Transcribe => "Transcribe",
            Route::Speak => "Speak",
            Route::RemoveBackground => "Remove background",
            Route::Search => "Search",
            Route::Chat => "Chat",
            Route::Device => "Device",
            Route::Models => "Models",
            Route::NotFound => "Not found",
        }
    }

    fn from_path(path: &str) -> Route {
        let trimmed = path.trim_end_matches('/');
        Route::NAV
            .into_iter()
            .find(|r| r.path().trim_end_matches('/') == trimmed)
            .unwrap_or(Route::NotFound)
    }
}

/// A parsed location: the page and its query parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub route: Route,
    pub query: BTreeMap<String, String>,
}

impl Location {
    /// Parses `location.hash` (with or without the leading `#`). An empty hash is the home page.
    pub fn parse(hash: &str) -> Location {
        let hash = hash.strip_prefix('#').unwrap_or(hash);
        let (path, query) = hash.split_once('?').unwrap_or((hash, ""));
        let route = if path.is_empty() {
            Route::Home
        } else {
            Route::from_path(path)
        };
        let query = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(k), decode(v))
            })
            .collect();
        Location { route, query }
    }

    /// A page with no query.
    pub fn of(route: Route) -> Location {
        Location {
            route,
            query: BTreeMap::new(),
        }
    }

    /// The hash for this location, `#/path?k=v`, keys sorted so equal states give equal links.
    pub fn to_hash(&self) -> String {
        let mut out = format!("#{}", self.route.path());
        let pairs: Vec<String> = self
            .query
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        if !pairs.is_empty() {
            out.push('?');
            out.push_str(&pairs.join("&"));
        }
        out
    }

    /// The same location with one query value set (an empty value removes it).
    pub fn with(&self, key: &str, value: &str) -> Location {
        let mut next = self.clone();
        if value.is_empty() {
            next.query.remove(key);
        } else {
            next.query.insert(key.to_string(), value.to_string());
        }
        next
    }

    /// A query value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str)
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes percent escapes and `+` as space; invalid escapes are kept as written.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_route_and_query() {
        let loc = Location::parse("#/search?c=sample&q=hello%20world");
        assert_eq!(loc.route, Route::Search);
        assert_eq!(loc.get("q"), Some("hello world"));
        assert_eq!(loc.get("c"), Some("sample"));
    }

    #[test]
    fn round_trips_unicode_and_reserved() {
        let loc = Location::of(Route::Speak).with("text", "Héllo & 你好 #1 +=");
        let again = Location::parse(&loc.to_hash());
        assert_eq!(again, loc);
    }

    #[test]
    fn empty_and_unknown() {
        assert_eq!(Location::parse("").route, Route::Home);
        assert_eq!(Location::parse("#/").route, Route::Home);
        assert_eq!(Location::parse("#/nope").route, Route::NotFound);
        assert_eq!(
            Location::parse("#/remove-background/").route,
            Route::RemoveBackground
        );
    }

    #[test]
    fn bad_escapes_do_not_panic() {
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
    }
}
