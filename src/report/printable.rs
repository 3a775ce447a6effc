//! Text from the scanned tree or the lists, made safe to print for a person.
//!
//! A file name (or a list's label) may hold a newline, a carriage return or an escape
//! sequence: printed raw, it forges lines of the report or drives the terminal. Every
//! human-facing line that carries such text goes through [`printable`].

use std::borrow::Cow;

/// `text` with the characters that could forge a line or move the terminal escaped as JSON
/// escapes them: `\n`, `\r`, `\t`, `\u001b` for the other control characters (C0, DEL and
/// C1), and `\\` for a backslash, so that an escaped name cannot be mistaken for a name that
/// holds the escape literally (on Windows a backslash is the separator, not part of a name,
/// and is left alone). The bidirectional controls, which reorder what a terminal shows, are
/// escaped too (`\u202e`). Anything else is unchanged.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' if needs_escape(c) => out.push_str("\\\\"),
            c if needs_escape(c) => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || (c == '\\' && cfg!(not(windows)))
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_as_json_escapes_them() {
        assert!(matches!(printable("photos/a b.jpg"), Cow::Borrowed(_)));
        assert_eq!(printable("a\nb.jpg: FLAGGED"), "a\\nb.jpg: FLAGGED");
        assert_eq!(printable("x\r\t\u{1b}[31m\u{7f}\u{9b}"), "x\\r\\t\\u001b[31m\\u007f\\u009b");
        assert_eq!(printable("gpj.\u{202e}exe"), "gpj.\\u202eexe");
        assert_eq!(printable("café 写真.jpg"), "café 写真.jpg");
        #[cfg(not(windows))]
        assert_eq!(printable("a\\nb"), "a\\\\nb");
    }
}
