//! What every parser needs from a list's raw bytes: its text, and the line an offset is on.
//!
//! Owns decoding (a list must be UTF-8; a leading byte-order mark is dropped), walking the
//! records of line-per-record and CSV formats, and turning byte offsets into 1-based line
//! numbers, for the formats whose records are found by position rather than line by line
//! (CSV, JSON, XML). Must not know any list format.

use crate::error::{Reason, Result};

use super::ParseContext;

/// The list as text, or a fatal error at the line of its first byte that is not UTF-8.
pub(super) fn utf8<'a>(cx: &ParseContext<'_>, bytes: &'a [u8]) -> Result<&'a str> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| cx.error(Lines::new(bytes).at(e.valid_up_to()), "not valid UTF-8"))?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// Calls `record` with each line of a line-per-record list, trimmed, and its 1-based number,
/// skipping blank lines and `#` comments; a record's `Err` becomes a fatal error at its line.
pub(super) fn records(
    cx: &ParseContext<'_>,
    bytes: &[u8],
    mut record: impl FnMut(&str, u64) -> std::result::Result<(), Reason>,
) -> Result<()> {
    for (i, line) in utf8(cx, bytes)?.lines().enumerate() {
        let (number, line) = (i as u64 + 1, line.trim());
        if !line.is_empty() && !line.starts_with('#') {
            record(line, number).map_err(|reason| cx.error(number, reason))?;
        }
    }
    Ok(())
}

/// Calls `record` with each record of a CSV list (fields trimmed, rows of any width) and the
/// 1-based line it starts on; a record's `Err`, or bad CSV, becomes a fatal error at its line.
pub(super) fn csv_records(
    cx: &ParseContext<'_>,
    bytes: &[u8],
    mut record: impl FnMut(&csv::StringRecord, u64) -> std::result::Result<(), Reason>,
) -> Result<()> {
    let text = utf8(cx, bytes)?;
    // The csv crate's line numbers skip blank lines, and a record's byte offset is where the
    // blank lines before it start, so a record's line is that of its first non-blank byte.
    let mut lines = Lines::new(text.as_bytes());
    let mut line_of = |position: Option<&csv::Position>| {
        let rest = &text[position.map_or(0, |p| p.byte() as usize)..];
        lines.at(text.len() - rest.trim_start_matches(['\r', '\n']).len())
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    for row in reader.records() {
        let row = row.map_err(|e| cx.error(line_of(e.position()), e.to_string()))?;
        let line = line_of(row.position());
        record(&row, line).map_err(|reason| cx.error(line, reason))?;
    }
    Ok(())
}

/// Line numbers of byte offsets. Counting resumes from the last offset asked about, because
/// parsers ask in file order and a list can hold millions of records.
pub(super) struct Lines<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    pub(super) fn new(text: &'a [u8]) -> Lines<'a> {
        Lines { text, offset: 0, line: 1 }
    }

    /// The 1-based line that the byte at `offset` is on.
    pub(super) fn at(&mut self, offset: usize) -> u64 {
        let offset = offset.min(self.text.len());
        if offset < self.offset {
            (self.offset, self.line) = (0, 1);
        }
        let newlines = self.text[self.offset..offset].iter().filter(|&&b| b == b'\n').count();
        self.line += newlines as u64;
        self.offset = offset;
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_lines_in_any_order() {
        let mut lines = Lines::new(b"a\nbc\n\nd");
        assert_eq!(lines.at(0), 1);
        assert_eq!(lines.at(3), 2);
        assert_eq!(lines.at(6), 4);
        assert_eq!(lines.at(2), 2);
        assert_eq!(lines.at(99), 4);
    }
}
