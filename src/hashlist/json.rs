//! Finding the records of a JSON hash list, and the line each record starts on.
//!
//! Owns the shape that the JSON exchanges share: the records are either the whole document,
//! an array (`[{...}, {...}]`), or an array under one key of a response page
//! (`{"count": 2, "hashRecords": [{...}, {...}]}`), whose other keys are skipped. serde_json
//! parses each value; this module only steps between them, because serde_json does not say
//! where a value was and every error and refusal must name the record's line (the line of its
//! `{`). Must not interpret records: that is each format's parser.

use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::Value;

use crate::error::{Error, Reason, Result};

use super::text::Lines;
use super::{Item, ParseContext};

/// Parses a whole JSON list whose records deserialise as `R` (named `what` in errors), turning
/// each into an item with `item`; a record that does not deserialise, or that `item` rejects,
/// is a fatal error at the record's line.
pub(super) fn parse_typed<R: DeserializeOwned>(
    cx: &ParseContext<'_>,
    bytes: &[u8],
    page_key: &str,
    what: &str,
    item: fn(R, u64) -> std::result::Result<Item, String>,
    out: &mut dyn FnMut(Item),
) -> Result<()> {
    records(cx, super::text::utf8(cx, bytes)?, page_key, &mut |line, value| {
        let record: R = serde_json::from_value(value)
            .map_err(|e| cx.error(line, format!("not {what}: {e}")))?;
        out(item(record, line).map_err(|reason| cx.error(line, reason))?);
        Ok(())
    })
}

/// Calls `each(line, record)` for every record, in file order. `page_key` is the key of the
/// records array in a response page.
fn records(
    cx: &ParseContext<'_>,
    text: &str,
    page_key: &str,
    each: &mut dyn FnMut(u64, Value) -> Result<()>,
) -> Result<()> {
    let mut doc = Cursor { cx, text, pos: 0, lines: Lines::new(text.as_bytes()) };
    doc.skip_space();
    let start = doc.pos;
    match doc.peek() {
        Some(b'[') => doc.array(each)?,
        Some(b'{') => {
            if !doc.page(page_key, each)? {
                let reason = format!("the JSON object has no {page_key:?} array of records");
                return Err(doc.error_at(start, reason));
            }
        }
        _ => return Err(doc.error_at(start, "expected a JSON array of records, or a page object")),
    }
    doc.skip_space();
    if doc.pos < text.len() {
        return Err(doc.error_at(doc.pos, "unexpected text after the JSON document"));
    }
    Ok(())
}

struct Cursor<'a> {
    cx: &'a ParseContext<'a>,
    text: &'a str,
    pos: usize,
    lines: Lines<'a>,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        let rest = &self.text[self.pos..];
        self.pos += rest.len() - rest.trim_start_matches([' ', '\t', '\r', '\n']).len();
    }

    fn error_at(&mut self, offset: usize, reason: impl Into<Reason>) -> Error {
        let line = self.lines.at(offset);
        self.cx.error(line, reason)
    }

    /// Parses the one value that starts at the cursor and steps past it.
    fn value<T: DeserializeOwned>(&mut self) -> Result<T> {
        let start = self.pos;
        let mut values = serde_json::Deserializer::from_str(&self.text[start..]).into_iter::<T>();
        match values.next() {
            Some(Ok(value)) => {
                self.pos += values.byte_offset();
                Ok(value)
            }
            Some(Err(e)) => {
                // serde_json counts lines from the start of the slice it was given.
                let line = self.lines.at(start) + e.line().saturating_sub(1) as u64;
                Err(self.cx.error(line, format!("malformed JSON: {e}")))
            }
            None => Err(self.error_at(start, "malformed JSON: the document ends early")),
        }
    }

    /// Steps past one of `bytes` (after any space) and returns it, or fails naming `what`.
    fn expect(&mut self, bytes: &[u8], what: &str) -> Result<u8> {
        self.skip_space();
        match self.peek() {
            Some(b) if bytes.contains(&b) => {
                self.pos += 1;
                Ok(b)
            }
            _ => Err(self.error_at(self.pos, format!("malformed JSON: expected {what}"))),
        }
    }

    fn array(&mut self, each: &mut dyn FnMut(u64, Value) -> Result<()>) -> Result<()> {
        self.expect(b"[", "'['")?;
        self.skip_space();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_space();
            let line = self.lines.at(self.pos);
            let record = self.value()?;
            each(line, record)?;
            if self.expect(b",]", "',' or ']' after a record")? == b']' {
                return Ok(());
            }
        }
    }

    /// Walks a page object; true if it held the records array.
    fn page(
        &mut self,
        page_key: &str,
        each: &mut dyn FnMut(u64, Value) -> Result<()>,
    ) -> Result<bool> {
        self.expect(b"{", "'{'")?;
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(false);
        }
        let mut found = false;
        loop {
            self.skip_space();
            let key: String = self.value()?;
            self.expect(b":", "':' after a key")?;
            self.skip_space();
            if key == page_key {
                self.array(each)?;
                found = true;
            } else {
                self.value::<IgnoredAny>()?;
            }
            if self.expect(b",}", "',' or '}' after a value")? == b'}' {
                return Ok(found);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn lines_of(text: &str) -> Result<Vec<(u64, Value)>> {
        let cx = ParseContext { path: Path::new("l.json"), algorithm: None };
        let mut seen = Vec::new();
        records(&cx, text, "items", &mut |line, value| {
            seen.push((line, value));
            Ok(())
        })?;
        Ok(seen)
    }

    #[test]
    fn records_are_found_in_arrays_and_pages_with_their_lines() {
        let array = "\n[\n  {\"a\": \"x,}]\"},\n  {\"a\": 2}\n]\n";
        let seen = lines_of(array).unwrap();
        assert_eq!(seen.iter().map(|(l, _)| *l).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(seen[0].1["a"], "x,}]");

        let page =
            "{\"count\": 1, \"next\": null,\n \"items\": [\n {\"a\": 1}], \"x\": {\"items\": 5}}";
        let seen = lines_of(page).unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].0, 3);
        assert!(lines_of("[]").unwrap().is_empty());
    }

    #[test]
    fn malformed_json_names_its_line() {
        let error = |text: &str| lines_of(text).unwrap_err().to_string();
        assert!(error("[\n{\"a\": 1},\n{\"a\": }\n]").starts_with("l.json:3: malformed JSON"));
        assert!(error("[{}\n{}]").starts_with("l.json:2: malformed JSON: expected ','"));
        assert!(error("{\n\"n\": 0}").starts_with("l.json:1: the JSON object has no \"items\""));
        assert!(error("[{}] x").starts_with("l.json:1: unexpected text"));
        assert!(error("\"items\"").starts_with("l.json:1: expected a JSON array"));
    }
}
