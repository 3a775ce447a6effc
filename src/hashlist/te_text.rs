//! python-threatexchange's text signal lists: what its file exchange reads
//! (`LocalFileSignalExchangeAPI`) and what `threatexchange dataset -P` prints.
//!
//! ```text
//! pdq f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22
//! url https://example.com/
//! pdq 1f811b9d267fbc6693c0c7f30e041f9df49b836303e10f067fcdfc12c02d01f9 'Sample Data' POSITIVE_CLASS media_type_photo,bridge
//! video_md5 ad5148579e2a0886849021264351a52a 'Sample Data' NEGATIVE_CLASS
//! ```
//!
//! One signal per line: its signal type name, a space, the signal. `dataset -P` adds the
//! collaboration's name as a Python `repr` (left out when `-c` names one collaboration), the
//! aggregate opinion category and its tags joined by commas; with `-s` naming one signal type
//! it leaves the type out, and the hash's length must then say it (`LoadOptions::algorithm` for 64
//! hex digits, which may be PDQ or a video SHA-256). Blank lines and `#` comments are
//! skipped, and runs of spaces or tabs count as one space. A `vpdq` signal is a whole video: a
//! JSON list of `"pdqHex,quality,timestamp"` frames (`VPDQSignal`), one entry per frame, all
//! on that line. A signal type mediascreen does not compute (`url`, `raw_text`, `pdq_ocr`) is
//! refused, not fatal, whatever follows it.
//!
//! Each line is a record keyed by signal type, signal and collaboration, as the exchange's
//! fetched state is: a later line for the same key replaces an earlier one. An opinion that
//! says not to match (`NEGATIVE_CLASS`, `DISPUTED`, the `false_positive` tag: see
//! [`super::labels::opinion`]) removes the signal. The collaboration, category and tags are
//! the entry's label. Must not match or apply hygiene.

use crate::error::{Reason, Result, Setting};
use crate::hash::{Algorithm, HashValue};

use super::labels::{algorithm_from_label, opinion, CATEGORIES};
use super::plain::algorithm_for;
use super::{text, Item, ListEntry, ParseContext, Record, State};

/// python-threatexchange's signal type names (`SignalType.get_name()`), supported or not: a
/// line starting with one of these is a signal whatever its signal looks like.
const SIGNAL_TYPES: [&str; 12] = [
    "pdq",
    "vpdq",
    "video_md5",
    "video_sha256",
    "md5",
    "sha256",
    "url",
    "url_md5",
    "raw_text",
    "trend_query",
    "pdq_ocr",
    "text_tlsh",
];

/// Parses a whole list in this format.
pub(super) fn parse(cx: &ParseContext<'_>, bytes: &[u8], out: &mut dyn FnMut(Item)) -> Result<()> {
    text::records(cx, bytes, |line, number| {
        out(item(cx.algorithm, line, number)?);
        Ok(())
    })
}

/// One signal of python-threatexchange, as its outputs give it.
pub(super) struct Signal<'a> {
    /// The signal type's name; `None` when the output left it out.
    pub signal_type: Option<&'a str>,
    /// The hash (or, for `vpdq`, the JSON list of frames).
    pub signal: &'a str,
    /// The collaboration it was fetched from, if said.
    pub collab: Option<String>,
    /// The aggregate opinion category, if said.
    pub category: Option<&'a str>,
    /// The opinion's tags.
    pub tags: Vec<&'a str>,
}

/// True if `line` has the shape of a line of this format (for detection).
pub(super) fn is_signal_line(line: &str) -> bool {
    let (first, rest) = split_word(line);
    if rest.is_empty() {
        return false;
    }
    SIGNAL_TYPES.contains(&first)
        || (is_type_name(first) && is_hex(split_word(rest).0))
        || (is_hex(first) && typeless_tail(rest))
}

/// A word that can be a signal type's name (`video_md5`, `pdq-ocr`).
fn is_type_name(word: &str) -> bool {
    word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn is_hex(word: &str) -> bool {
    !word.is_empty() && word.chars().all(|c| c.is_ascii_hexdigit())
}

/// True if what follows a hash is `dataset -P`'s metadata, so the hash had no type before it.
fn typeless_tail(rest: &str) -> bool {
    rest.starts_with(['\'', '"']) || CATEGORIES.contains(&split_word(rest).0)
}

/// The first word of `text` and the rest, trimmed.
fn split_word(text: &str) -> (&str, &str) {
    let (word, rest) = text.split_once([' ', '\t']).unwrap_or((text, ""));
    (word, rest.trim())
}

fn item(flag: Option<Algorithm>, line: &str, number: u64) -> std::result::Result<Item, Reason> {
    let (first, rest) = split_word(line);
    let (signal_type, rest) = if is_hex(first) && typeless_tail(rest) {
        (None, line)
    } else if rest.is_empty() || !is_type_name(first) {
        let head =
            format!("expected `<signal_type> <signal>`, found {line:?} (a list of bare hashes is ");
        let words = "LoadOptions::format";
        return Err(Reason::calling(Setting::ListFormat, &head, words, " plain)"));
    } else {
        (Some(first), rest)
    };
    if let Some(name) = signal_type {
        if let Err(reason) = algorithm_from_label(name) {
            return Ok(Item::Refused { line: number, reason });
        }
    }
    let (signal, metadata) = match rest.strip_prefix('[') {
        // A vpdq signal: a JSON list, spaces and all.
        Some(_) => {
            let mut values = serde_json::Deserializer::from_str(rest).into_iter::<Vec<String>>();
            match values.next() {
                Some(Ok(_)) => rest.split_at(values.byte_offset()),
                _ => {
                    return Err(format!("vpdq signal is not a JSON list of frames: {rest:?}").into())
                }
            }
        }
        None => split_word(rest),
    };
    let metadata = metadata.trim();
    let (collab, metadata) = match metadata.chars().next() {
        Some(quote @ ('\'' | '"')) => {
            let (collab, after) = python_string(metadata, quote)
                .ok_or_else(|| format!("unterminated collaboration name in {line:?}"))?;
            (Some(collab), after.trim())
        }
        _ => (None, metadata.trim()),
    };
    let (category, tags) = split_word(metadata);
    let category = match category {
        "" => None,
        c if CATEGORIES.contains(&c) => Some(c),
        other => {
            return Err(format!(
                "expected `<signal_type> <signal> ['collaboration'] [CATEGORY [tags]]`, found \
                 {other:?} after the signal"
            )
            .into())
        }
    };
    let tags = tags.split(',').map(str::trim).filter(|t| !t.is_empty()).collect();
    record(flag, Signal { signal_type, signal: signal.trim(), collab, category, tags }, number)
}

/// The record one signal stands for: its entries, or its removal when its opinion says so.
/// `flag` is the algorithm the load options give, for a signal without a type.
pub(super) fn record(
    flag: Option<Algorithm>,
    signal: Signal<'_>,
    line: u64,
) -> std::result::Result<Item, Reason> {
    let algorithm = match signal.signal_type {
        Some(name) => match algorithm_from_label(name) {
            Ok(algorithm) => algorithm,
            Err(reason) => return Ok(Item::Refused { line, reason }),
        },
        None => algorithm_for(flag, signal.signal)?,
    };
    let text = signal.signal;
    let mut entries = if algorithm == Algorithm::Vpdq && text.starts_with('[') {
        vpdq_frames(text, line)?
    } else {
        let hash = HashValue::from_hex(algorithm, text)
            .map_err(|e| format!("bad {algorithm} hash {text:?}: {e}"))?;
        vec![ListEntry::new(algorithm, hash, line)]
    };
    let collab = signal.collab.as_deref().unwrap_or_default();
    let key = format!(
        "{}\u{0}{}\u{0}{collab}",
        signal.signal_type.unwrap_or(algorithm.name()),
        text.to_ascii_lowercase()
    );
    let label = [
        signal.collab.as_deref().map(|c| format!("{c}:")),
        signal.category.map(str::to_string),
        Some(signal.tags.join(",")).filter(|t| !t.is_empty()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let state = match opinion(signal.category, &signal.tags) {
        Some(removal) => State::Removed { removal, reason: format!("{algorithm} signal, {label}") },
        None => {
            let label = Some(label).filter(|l| !l.is_empty());
            for entry in &mut entries {
                entry.label.clone_from(&label);
            }
            State::Active(entries)
        }
    };
    Ok(Item::Record(Record { key: Some(key), stamp: None, line, state }))
}

/// A Python `repr` of a string that starts `text` with `quote`, decoded, and what follows it.
fn python_string(text: &str, quote: char) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            c if c == quote => return Some((value, &text[i + 1..])),
            '\\' => {
                let (_, escaped) = chars.next()?;
                let hex = |chars: &mut std::iter::Skip<std::str::CharIndices<'_>>, n: usize| {
                    let digits: String = chars.by_ref().take(n).map(|(_, c)| c).collect();
                    u32::from_str_radix(&digits, 16).ok().and_then(char::from_u32)
                };
                value.push(match escaped {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'x' => hex(&mut chars, 2)?,
                    'u' => hex(&mut chars, 4)?,
                    'U' => hex(&mut chars, 8)?,
                    other => other,
                });
            }
            c => value.push(c),
        }
    }
    None
}

/// The frames of a python-threatexchange vPDQ signal: `["pdqHex,quality,timestamp", …]`.
fn vpdq_frames(signal: &str, line: u64) -> std::result::Result<Vec<ListEntry>, String> {
    let frames: Vec<String> = serde_json::from_str(signal)
        .map_err(|e| format!("vpdq signal is not a JSON list of frames: {e}"))?;
    frames
        .iter()
        .map(|frame| {
            let bad = || format!("vpdq frame {frame:?} is not \"pdqHex,quality,timestamp\"");
            let [hex, quality, timestamp] = frame.split(',').collect::<Vec<_>>()[..] else {
                return Err(bad());
            };
            let hash = HashValue::from_hex(Algorithm::Vpdq, hex.trim()).map_err(|_| bad())?;
            let mut entry = ListEntry::new(Algorithm::Vpdq, hash, line);
            entry.quality =
                Some(quality.trim().parse().ok().filter(|q| *q <= 100).ok_or_else(bad)?);
            entry.timestamp =
                Some(timestamp.trim().parse().ok().filter(|t: &f64| *t >= 0.0).ok_or_else(bad)?);
            Ok(entry)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(algorithm: Option<Algorithm>, text: &str) -> Result<Vec<Item>> {
        crate::hashlist::parse_items(parse, "te.txt", algorithm, text)
    }

    /// Each item as (line, what it says): the entries' algorithm and label, or the removal.
    fn said(items: &[Item]) -> Vec<(u64, String)> {
        items
            .iter()
            .map(|item| match item {
                Item::Record(Record { line, state: State::Active(entries), .. }) => {
                    let e = &entries[0];
                    let label = e.label.as_deref().unwrap_or("-");
                    (*line, format!("{} x{} {label}", e.algorithm, entries.len()))
                }
                Item::Record(Record { line, state: State::Removed { removal, .. }, .. }) => {
                    (*line, format!("removed: {removal}"))
                }
                Item::Refused { line, reason } => (*line, reason.clone()),
                Item::Entry(e) => panic!("unkeyed entry {e:?}"),
            })
            .collect()
    }

    const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    const MD5: &str = "ad5148579e2a0886849021264351a52a";

    #[test]
    fn signals_load_and_other_types_are_refused() {
        let text = format!(
            "# exported\npdq {PDQ}\n\nvideo_md5\t AD5148579E2A0886849021264351A52A \r\n\
             url https://example.com/a b\nvpdq {PDQ}\nvpdq [\"{PDQ},100,0.0\", \"{PDQ},7,1.02\"]\n\
             pdq_ocr {PDQ},some text\n"
        );
        let items = parse_str(None, &text).unwrap();
        assert_eq!(
            said(&items),
            [
                (2, "pdq x1 -".into()),
                (4, "md5 x1 -".into()),
                (5, "unsupported algorithm \"url\"".into()),
                (6, "vpdq x1 -".into()),
                (7, "vpdq x2 -".into()),
                (8, "unsupported algorithm \"pdq_ocr\"".into()),
            ]
        );
        let Item::Record(Record { state: State::Active(frames), key, .. }) = &items[4] else {
            panic!()
        };
        let frames: Vec<_> = frames.iter().map(|e| (e.quality, e.timestamp)).collect();
        assert_eq!(frames, [(Some(100), Some(0.0)), (Some(7), Some(1.02))]);
        assert!(key.as_deref().unwrap().starts_with("vpdq\u{0}[\""));
        let error = parse_str(None, &format!("vpdq [\"{PDQ},100\"]\n")).unwrap_err().to_string();
        assert!(error.starts_with("te.txt:1: vpdq frame"), "{error}");
    }

    #[test]
    fn dataset_print_lines_carry_collaboration_and_opinion() {
        let text = format!(
            "pdq {PDQ} 'Sample Data' POSITIVE_CLASS media_type_photo,bridge\n\
             video_md5 {MD5} \"It's mine\" NEGATIVE_CLASS\n\
             pdq {PDQ} 'Other \\'Collab\\'' DISPUTED\n\
             pdq {PDQ} INVESTIGATION_SEED\n\
             vpdq [\"{PDQ},100,0.0\", \"{PDQ},90,1.0\"] 'Videos' POSITIVE_CLASS\n\
             url https://example.com/ 'Sample Data' POSITIVE_CLASS\n"
        );
        let items = parse_str(None, &text).unwrap();
        assert_eq!(
            said(&items),
            [
                (1, "pdq x1 Sample Data: POSITIVE_CLASS media_type_photo,bridge".into()),
                (2, "removed: false_positive".into()),
                (3, "removed: disputed".into()),
                (4, "pdq x1 INVESTIGATION_SEED".into()),
                (5, "vpdq x2 Videos: POSITIVE_CLASS".into()),
                (6, "unsupported algorithm \"url\"".into()),
            ]
        );
        let keys: Vec<_> = items[..4]
            .iter()
            .map(|i| match i {
                Item::Record(r) => r.key.clone().unwrap(),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(keys[0], format!("pdq\u{0}{PDQ}\u{0}Sample Data"));
        assert_eq!(keys[2], format!("pdq\u{0}{PDQ}\u{0}Other 'Collab'"));
        assert_eq!(keys[3], format!("pdq\u{0}{PDQ}\u{0}"));
    }

    #[test]
    fn a_signal_without_its_type_is_told_by_length_or_the_flag() {
        let text = format!("{MD5} 'Sample Data' POSITIVE_CLASS\n");
        assert_eq!(
            said(&parse_str(None, &text).unwrap()),
            [(1, "md5 x1 Sample Data: POSITIVE_CLASS".into())]
        );
        let text = format!("{PDQ} 'Sample Data' POSITIVE_CLASS\n");
        let error = parse_str(None, &text).unwrap_err().to_string();
        assert!(error.contains("may be sha256 or pdq"), "{error}");
        let items = parse_str(Some(Algorithm::Pdq), &text).unwrap();
        assert_eq!(said(&items), [(1, "pdq x1 Sample Data: POSITIVE_CLASS".into())]);
    }

    #[test]
    fn malformed_lines_are_fatal_with_their_line() {
        let error = |text: &str| parse_str(None, text).unwrap_err().to_string();
        assert_eq!(
            error(&format!("pdq {PDQ}\n\n{PDQ}\n")),
            format!(
                "te.txt:3: expected `<signal_type> <signal>`, found {PDQ:?} (a list of bare \
                 hashes is LoadOptions::format plain)"
            )
        );
        assert_eq!(
            error("# x\npdq abc\n"),
            "te.txt:2: bad pdq hash \"abc\": expected 64 hex digits for pdq, found 3"
        );
        assert!(error("{\"pdq\": 1}\n").starts_with("te.txt:1: expected"));
        assert!(error(&format!("pdq {PDQ} 'unterminated POSITIVE_CLASS\n"))
            .starts_with("te.txt:1: unterminated collaboration name"));
        assert!(error(&format!("pdq {PDQ} extra\n")).contains("found \"extra\" after the signal"));
    }
}
