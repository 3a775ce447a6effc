//! mediascreen's native list format: UTF-8 CSV with a header row (see
//! `docs/hashlist-format.md`).
//!
//! Columns `algorithm` and `hash` are required; `id`, `label`, `quality` and `timestamp` are
//! optional; order is free. Lines starting with `#` are comments. An unknown column is an
//! error rather than ignored, so a misspelt `lable` is caught instead of silently dropped.
//!
//! Also owns writing the format ([`NativeWriter`], [`native_rows`]: what `mediascreen hash`
//! prints), so that the columns written are the columns read. Must not hash or match.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io;

use crate::error::Result;
use crate::hash::orb1::Signature;
use crate::hash::{Algorithm, FileHashes, HashValue};

use super::{Collector, Item, ListEntry, ParseContext};

/// Every column, in the order [`NativeWriter`] writes them.
const COLUMNS: [&str; 6] = ["algorithm", "hash", "id", "label", "quality", "timestamp"];

/// One row of a native list: its algorithm, and its fields in the order of its header.
pub type NativeRow = (Algorithm, [String; COLUMNS.len()]);

/// Writes a native list: a header naming every column, then rows.
pub struct NativeWriter<W: io::Write> {
    out: csv::Writer<W>,
}

impl<W: io::Write> NativeWriter<W> {
    /// Starts a list on `out` with its header.
    pub fn new(out: W) -> csv::Result<NativeWriter<W>> {
        let mut out = csv::Writer::from_writer(out);
        out.write_record(COLUMNS)?;
        Ok(NativeWriter { out })
    }

    /// Writes `rows` and flushes them, so a reader downstream sees each file's rows as they
    /// come.
    pub fn write(&mut self, rows: &[NativeRow]) -> csv::Result<()> {
        for (_, row) in rows {
            self.out.write_record(row)?;
        }
        Ok(self.out.flush()?)
    }

    /// Flushes what is written.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The native-list rows of one file's `hashes` under `id` and `label`: one per algorithm of
/// `algorithms` it has, one per sampled frame for vPDQ; orb1's `quality` is the signature's
/// keypoint count.
pub fn native_rows(
    id: &str,
    label: &str,
    algorithms: &BTreeSet<Algorithm>,
    hashes: &FileHashes,
) -> Vec<NativeRow> {
    let row = |algorithm: Algorithm, hash: String, quality: String, timestamp: String| {
        let (name, id, label) = (algorithm.name().to_string(), id.to_string(), label.to_string());
        (algorithm, [name, hash, id, label, quality, timestamp])
    };
    let mut rows = Vec::new();
    for &algorithm in algorithms {
        if algorithm == Algorithm::Vpdq {
            for frame in hashes.video.iter().flat_map(|v| &v.frames) {
                let (quality, timestamp) =
                    (frame.quality.to_string(), format!("{:.3}", frame.timestamp));
                rows.push(row(algorithm, frame.hash.to_hex(), quality, timestamp));
            }
            continue;
        }
        if let Some(format) = algorithm.keypoint_format() {
            if let Some(signature) = hashes.listed_signature(format) {
                let (text, keypoints) = (signature.to_base64(), signature.len().to_string());
                rows.push(row(algorithm, text, keypoints, String::new()));
            }
            continue;
        }
        let (hash, quality) = match (algorithm, &hashes.pdq) {
            (Algorithm::Pdq, Some(pdq)) => (pdq.hash(), Some(pdq.quality())),
            _ => match hashes.values.get(&algorithm) {
                Some(value) => (value.clone(), None),
                None => continue,
            },
        };
        let quality = quality.map(|q| q.to_string()).unwrap_or_default();
        rows.push(row(algorithm, hash.to_hex(), quality, String::new()));
    }
    rows
}

/// Column positions, resolved once from the header.
#[derive(Clone)]
struct Layout {
    width: usize,
    algorithm: usize,
    hash: usize,
    id: Option<usize>,
    label: Option<usize>,
    quality: Option<usize>,
    timestamp: Option<usize>,
}

/// Parses a whole native list. Fails on the first bad line.
///
/// Lines are split by hand rather than by a CSV reader over the whole file: lists reach ten
/// million lines, errors must name the right line (the csv crate miscounts around comments
/// and blank lines), and almost no line needs quoting. A line with a quote goes through the
/// csv crate on its own, so quoting rules are the standard ones. An entry cannot span lines.
pub(super) fn parse(cx: &ParseContext<'_>, bytes: &[u8], out: &mut dyn FnMut(Item)) -> Result<()> {
    let mut parser = Parser::default();
    parser.feed(cx, bytes, out)?;
    parser.finish(cx)
}

/// A native parser fed whole lines a chunk at a time, so a list of millions of lines is
/// parsed while it is read instead of being held in memory whole.
#[derive(Clone, Default)]
pub(super) struct Parser {
    layout: Option<Layout>,
    lines_seen: u64,
}

impl Parser {
    /// Parses `bytes`, which must end at a line break unless they are the end of the list.
    pub(super) fn feed(
        &mut self,
        cx: &ParseContext<'_>,
        bytes: &[u8],
        out: &mut dyn FnMut(Item),
    ) -> Result<()> {
        let bytes = match self.lines_seen {
            0 => bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes),
            _ => bytes,
        };
        // Validating the whole chunk at once is much faster than line by line.
        let chunk = std::str::from_utf8(bytes).map_err(|e| {
            let newlines = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
            cx.error(self.lines_seen + newlines as u64 + 1, "not valid UTF-8")
        })?;
        let mut fields: Vec<Cow<'_, str>> = Vec::new();
        for text in chunk.split_inclusive('\n') {
            self.lines_seen += 1;
            let line = self.lines_seen;
            let trimmed = text.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let text = text.trim_end_matches(['\n', '\r']);
            split_fields(text, &mut fields).map_err(|reason| cx.error(line, reason))?;
            let Some(layout) = &self.layout else {
                self.layout = Some(layout(&fields).map_err(|reason| cx.error(line, reason))?);
                continue;
            };
            if fields.len() != layout.width {
                let reason = format!(
                    "expected {} fields as in the header, found {}",
                    layout.width,
                    fields.len()
                );
                return Err(cx.error(line, reason));
            }
            let entry = entry(layout, &fields, line).map_err(|reason| cx.error(line, reason))?;
            if entry.algorithm == Algorithm::Vpdq && entry.id.is_none() {
                // The id is what ties a video's frames together; alone, a frame can never
                // reach the frames a video match needs.
                let reason = "vpdq row without an id: its video cannot be told apart".to_string();
                out(Item::Refused { line, reason });
                continue;
            }
            out(Item::Entry(entry));
        }
        Ok(())
    }

    /// [`Parser::feed`] into `sink`, splitting the lines between two threads once the header
    /// is known: on a ten-million-line list, parsing is most of the load time.
    pub(super) fn feed_parallel(
        &mut self,
        cx: &ParseContext<'_>,
        bytes: &[u8],
        sink: &mut Collector,
    ) -> Result<()> {
        let middle = bytes.len() / 2;
        let split = bytes[middle..].iter().position(|&b| b == b'\n').map(|i| middle + i + 1);
        let (Some(_), Some(split)) = (&self.layout, split) else {
            return self.feed(cx, bytes, &mut |item| sink.take(item));
        };
        let (first, second) = bytes.split_at(split);
        let mut later = self.clone();
        later.lines_seen += first.iter().filter(|&&b| b == b'\n').count() as u64;
        let mut later_sink = Collector::default();
        let (a, b) = rayon::join(
            || self.feed(cx, first, &mut |item| sink.take(item)),
            || later.feed(cx, second, &mut |item| later_sink.take(item)),
        );
        // The first error in file order is the one to report.
        a?;
        b?;
        sink.append(later_sink);
        self.lines_seen = later.lines_seen;
        Ok(())
    }

    /// Checks the list as a whole once every line was fed.
    pub(super) fn finish(&self, cx: &ParseContext<'_>) -> Result<()> {
        match self.layout {
            Some(_) => Ok(()),
            None => Err(cx.error(0, "empty list: no header row")),
        }
    }
}

/// Splits one CSV line into trimmed fields, borrowing them from the line when no quoting is
/// involved (the common case, and the fast one).
fn split_fields<'a>(
    text: &'a str,
    fields: &mut Vec<Cow<'a, str>>,
) -> std::result::Result<(), String> {
    fields.clear();
    if !text.contains('"') {
        fields.extend(text.split(',').map(|f| Cow::Borrowed(f.trim())));
        return Ok(());
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let record = reader
        .records()
        .next()
        .ok_or("empty record")?
        .map_err(|e| format!("malformed CSV: {e}"))?;
    fields.extend(record.iter().map(|f| Cow::Owned(f.to_string())));
    Ok(())
}

fn layout(header: &[Cow<'_, str>]) -> std::result::Result<Layout, String> {
    let names: Vec<String> = header.iter().map(|h| h.to_ascii_lowercase()).collect();
    if let Some(unknown) = names.iter().find(|n| !COLUMNS.contains(&n.as_str())) {
        return Err(format!(
            "unknown column {unknown:?} in header (expected {})",
            COLUMNS.join(",")
        ));
    }
    let find = |name: &str| -> std::result::Result<Option<usize>, String> {
        let mut hits = names.iter().enumerate().filter(|(_, n)| *n == name).map(|(i, _)| i);
        let first = hits.next();
        if hits.next().is_some() {
            return Err(format!("column {name:?} appears twice in header"));
        }
        Ok(first)
    };
    let required = |name: &str| {
        find(name)?.ok_or_else(|| {
            format!("header lacks required column {name:?} (a native list starts with a header such as algorithm,hash,id,label)")
        })
    };
    Ok(Layout {
        width: names.len(),
        algorithm: required("algorithm")?,
        hash: required("hash")?,
        id: find("id")?,
        label: find("label")?,
        quality: find("quality")?,
        timestamp: find("timestamp")?,
    })
}

fn entry(
    layout: &Layout,
    fields: &[Cow<'_, str>],
    line: u64,
) -> std::result::Result<ListEntry, String> {
    let field = |i: usize| fields.get(i).map_or("", |f| &**f);
    let optional = |i: Option<usize>| i.map(field).filter(|s| !s.is_empty());

    let algorithm: Algorithm = field(layout.algorithm).parse().map_err(|e| format!("{e}"))?;
    if algorithm.keypoint_format().is_some() {
        let (hash, quality) = (field(layout.hash), optional(layout.quality));
        return signature_entry(algorithm, hash, quality, line).map(|entry| ListEntry {
            id: optional(layout.id).map(str::to_string),
            label: optional(layout.label).map(str::to_string),
            ..entry
        });
    }
    let hash = HashValue::from_hex(algorithm, field(layout.hash))
        .map_err(|e| format!("bad {algorithm} hash {:?}: {e}", field(layout.hash)))?;
    let quality = optional(layout.quality)
        .map(|q| match q.parse::<u8>() {
            Ok(q) if q <= 100 => Ok(q),
            _ => Err(format!("quality {q:?} is not an integer from 0 to 100")),
        })
        .transpose()?;
    let timestamp = optional(layout.timestamp)
        .map(|t| match t.parse::<f64>() {
            Ok(t) if t.is_finite() && t >= 0.0 => Ok(t),
            _ => Err(format!("timestamp {t:?} is not a non-negative number of seconds")),
        })
        .transpose()?;
    Ok(ListEntry {
        algorithm,
        hash,
        id: optional(layout.id).map(str::to_string),
        label: optional(layout.label).map(str::to_string),
        quality,
        timestamp,
        size: None,
        line,
    })
}

/// An `orb1` or `orb2` row: the hash column is a base64 signature of that format (kept whole,
/// as bytes), and the quality column, when given, its keypoint count (up to 500 or 384, so
/// not PDQ's 0–100 quality).
fn signature_entry(
    algorithm: Algorithm,
    text: &str,
    quality: Option<&str>,
    line: u64,
) -> std::result::Result<ListEntry, String> {
    let signature =
        Signature::from_base64(text).map_err(|e| format!("bad {algorithm} signature: {e}"))?;
    if Algorithm::from(signature.format) != algorithm {
        return Err(format!("an {} signature in an {algorithm} row", signature.format.name()));
    }
    if let Some(q) = quality {
        if q.parse::<usize>().ok() != Some(signature.len()) {
            return Err(format!(
                "quality {q:?} is not the signature's {} keypoints",
                signature.len()
            ));
        }
    }
    Ok(ListEntry::new(algorithm, HashValue::from_bytes(signature.to_bytes()), line))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn parse_str(text: &str) -> Result<Vec<ListEntry>> {
        crate::hashlist::parse_entries(parse, "list.csv", None, text)
    }

    fn error_text(text: &str) -> String {
        parse_str(text).unwrap_err().to_string()
    }

    const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

    #[test]
    fn invalid_utf8_names_its_line() {
        let cx = ParseContext { path: Path::new("list.csv"), algorithm: None };
        let err = parse(&cx, b"algorithm,hash\n# ok\nmd5,\xff\n", &mut |_| {}).unwrap_err();
        assert_eq!(err.to_string(), "list.csv:3: not valid UTF-8");
    }

    #[test]
    fn chunks_split_between_threads_keep_order_and_line_numbers() {
        let cx = ParseContext { path: Path::new("list.csv"), algorithm: None };
        let row = |i: usize| format!("md5,{i:032x},id{i}\n");
        let mut parser = Parser::default();
        let mut sink = Collector::default();
        parser.feed_parallel(&cx, b"algorithm,hash,id\n", &mut sink).unwrap();
        let chunk: String = (0..99).map(row).collect::<String>() + "# comment\n\n";
        parser.feed_parallel(&cx, chunk.as_bytes(), &mut sink).unwrap();
        parser.feed_parallel(&cx, row(99).as_bytes(), &mut sink).unwrap();
        parser.finish(&cx).unwrap();
        let entries = &sink.entries;
        assert_eq!(entries.len(), 100);
        for i in [0, 49, 50, 98] {
            assert_eq!(entries.id(i), Some(format!("id{i}").as_str()));
            assert_eq!(entries.line(i), i as u64 + 2);
        }
        // Two comment/blank lines sit between rows 98 and 99.
        assert_eq!(entries.line(99), 103);

        // An error in the second half names its own line.
        let bad: String = (0..10).map(row).collect::<String>() + "md5,zz,bad\n" + &row(11);
        let err = parser.feed_parallel(&cx, bad.as_bytes(), &mut sink).unwrap_err();
        assert!(err.to_string().starts_with("list.csv:114: bad md5 hash"), "{err}");
    }

    #[test]
    fn columns_in_any_order_with_comments_and_blank_lines() {
        let text = format!(
            "\u{feff}# a comment\nhash,Label,algorithm,id\n\n{},\"bridge, original\",PDQ,b1\n# x\nd41d8cd98f00b204e9800998ecf8427e,,md5,\n",
            PDQ.to_uppercase()
        );
        let entries = parse_str(&text).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].algorithm, Algorithm::Pdq);
        assert_eq!(entries[0].hash.to_hex(), PDQ);
        assert_eq!(entries[0].label.as_deref(), Some("bridge, original"));
        assert_eq!(entries[0].id.as_deref(), Some("b1"));
        assert_eq!(entries[0].line, 4);
        assert_eq!(entries[1].algorithm, Algorithm::Md5);
        assert_eq!(entries[1].id, None);
        assert_eq!(entries[1].line, 6);
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        assert_eq!(
            error_text("algorithm,hash\nmd5,d41d8cd98f00b204e9800998ecf8427e\npdq,abc\n"),
            "list.csv:3: bad pdq hash \"abc\": expected 64 hex digits for pdq, found 3"
        );
        assert!(
            error_text("algorithm,hash\npdna,00\n").starts_with("list.csv:2: unknown algorithm")
        );
        assert!(error_text("algorithm,hash,quality\nphash,aca29c1c33dc23d7,101\n")
            .starts_with("list.csv:2: quality"));
        assert!(
            error_text("algorithm,hash\nphash,aca29c1c33dc23d7,extra\n").starts_with("list.csv:2:")
        );
        assert!(error_text("hash\nphash\n")
            .starts_with("list.csv:1: header lacks required column \"algorithm\""));
        assert!(error_text("algorithm,hash,lable\n").contains("unknown column \"lable\""));
        assert!(error_text("").starts_with("list.csv: empty list"));
    }

    #[test]
    fn vpdq_rows_without_an_id_are_refused() {
        let text = format!("algorithm,hash,id\nvpdq,{PDQ},v1\nvpdq,{PDQ},\n");
        let items = crate::hashlist::parse_items(parse, "list.csv", None, &text).unwrap();
        assert!(matches!(&items[0], Item::Entry(e) if e.id.as_deref() == Some("v1")));
        assert!(matches!(&items[1], Item::Refused { line: 3, reason } if reason.contains("id")));
    }

    #[test]
    fn timestamps_and_quality_parse() {
        let entries = parse_str(&format!(
            "algorithm,hash,id,label,quality,timestamp\nvpdq,{PDQ},v1,,87,1.5\n"
        ))
        .unwrap();
        assert_eq!(entries[0].quality, Some(87));
        assert_eq!(entries[0].timestamp, Some(1.5));
    }
}
