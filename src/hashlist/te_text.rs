//! python-threatexchange's plain-text signal list (`LocalFileSignalExchangeAPI`).
//!
//! One signal per line, its signal type name and the signal separated by a space:
//!
//! ```text
//! pdq f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22
//! video_md5 ad5148579e2a0886849021264351a52a
//! url https://example.com/
//! ```
//!
//! Blank lines and `#` comments are skipped, and runs of spaces or tabs count as one space.
//! A `vpdq` signal is a whole video: a JSON list of `"pdqHex,quality,timestamp"` frames
//! (python-threatexchange's `VPDQSignal`), read as one entry per frame, all on that line. A
//! signal type mediascreen does not compute (`url`, `raw_text`, `trend_query`) is refused,
//! not fatal. Must not match or apply hygiene.

use crate::error::Result;
use crate::hash::{Algorithm, HashValue};

use super::labels::algorithm_from_label;
use super::{text, Item, ListEntry, ParseContext};

/// Parses a whole list in this format.
pub(super) fn parse(cx: &ParseContext<'_>, bytes: &[u8], out: &mut dyn FnMut(Item)) -> Result<()> {
    text::records(cx, bytes, |line, number| items(line, number, out))
}

fn items(line: &str, number: u64, out: &mut dyn FnMut(Item)) -> std::result::Result<(), String> {
    let (signal_type, signal) = line.split_once([' ', '\t']).unwrap_or((line, ""));
    let signal = signal.trim();
    let is_name = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if signal.is_empty() || !is_name(signal_type) {
        return Err(format!(
            "expected `<signal_type> <signal>`, found {line:?} (a list of bare hashes is \
             --list-format plain)"
        ));
    }
    let algorithm = match algorithm_from_label(signal_type) {
        Ok(algorithm) => algorithm,
        Err(reason) => {
            out(Item::Refused { line: number, reason });
            return Ok(());
        }
    };
    if algorithm == Algorithm::Vpdq && signal.starts_with('[') {
        for frame in vpdq_frames(signal, number)? {
            out(Item::Entry(frame));
        }
        return Ok(());
    }
    let hash = HashValue::from_hex(algorithm, signal)
        .map_err(|e| format!("bad {algorithm} hash {signal:?}: {e}"))?;
    out(Item::Entry(ListEntry::new(algorithm, hash, number)));
    Ok(())
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

    fn parse_str(text: &str) -> Result<Vec<Item>> {
        crate::hashlist::parse_items(parse, "te.txt", None, text)
    }

    const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

    #[test]
    fn signals_load_and_other_types_are_refused() {
        let text = format!(
            "# exported\npdq {PDQ}\n\nvideo_md5\t AD5148579E2A0886849021264351A52A \r\n\
             url https://example.com/a b\nvpdq {PDQ}\nvpdq [\"{PDQ},100,0.0\", \"{PDQ},7,1.02\"]\n"
        );
        let items = parse_str(&text).unwrap();
        let Item::Entry(pdq) = &items[0] else { panic!("{items:?}") };
        assert_eq!((pdq.algorithm, pdq.line, pdq.hash.to_hex()), (Algorithm::Pdq, 2, PDQ.into()));
        let Item::Entry(md5) = &items[1] else { panic!("{items:?}") };
        assert_eq!((md5.algorithm, md5.line), (Algorithm::Md5, 4));
        assert_eq!(
            items[2],
            Item::Refused { line: 5, reason: "unsupported algorithm \"url\"".into() }
        );
        let Item::Entry(vpdq) = &items[3] else { panic!("{items:?}") };
        assert_eq!((vpdq.algorithm, vpdq.line), (Algorithm::Vpdq, 6));
        // A whole video on line 7: one entry per frame.
        let frames: Vec<_> = items[4..]
            .iter()
            .map(|item| match item {
                Item::Entry(e) => (e.algorithm, e.line, e.quality, e.timestamp),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            frames,
            [(Algorithm::Vpdq, 7, Some(100), Some(0.0)), (Algorithm::Vpdq, 7, Some(7), Some(1.02))]
        );
        assert_eq!(items.len(), 6);
        let error = parse_str(&format!("vpdq [\"{PDQ},100\"]\n")).unwrap_err().to_string();
        assert!(error.starts_with("te.txt:1: vpdq frame"), "{error}");
    }

    #[test]
    fn malformed_lines_are_fatal_with_their_line() {
        let error = |text: &str| parse_str(text).unwrap_err().to_string();
        assert_eq!(
            error(&format!("pdq {PDQ}\n\n{PDQ}\n")),
            format!(
                "te.txt:3: expected `<signal_type> <signal>`, found {PDQ:?} (a list of bare \
                 hashes is --list-format plain)"
            )
        );
        assert_eq!(
            error("# x\npdq abc\n"),
            "te.txt:2: bad pdq hash \"abc\": expected 64 hex digits for pdq, found 3"
        );
        assert!(error("{\"pdq\": 1}\n").starts_with("te.txt:1: expected"));
    }
}
