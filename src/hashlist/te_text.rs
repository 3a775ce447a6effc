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
//! A signal type mediascreen does not compute (`url`, `raw_text`, `trend_query`, a vPDQ
//! frame list) is refused, not fatal. Must not match or apply hygiene.

use crate::error::Result;
use crate::hash::{Algorithm, HashValue};

use super::labels::algorithm_from_label;
use super::{text, Item, ListEntry, ParseContext};

/// Parses a whole list in this format.
pub(super) fn parse(cx: &ParseContext<'_>, bytes: &[u8], out: &mut dyn FnMut(Item)) -> Result<()> {
    for (i, line) in text::utf8(cx, bytes)?.lines().enumerate() {
        let number = i as u64 + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out(item(line, number).map_err(|reason| cx.error(number, reason))?);
    }
    Ok(())
}

const VPDQ_FRAMES: &str =
    "vpdq signal is not a bare 64-hex PDQ hash (frame lists cannot be loaded yet)";

fn item(line: &str, number: u64) -> std::result::Result<Item, String> {
    let (signal_type, signal) = line.split_once([' ', '\t']).unwrap_or((line, ""));
    let signal = signal.trim();
    let is_name = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if signal.is_empty() || !is_name(signal_type) {
        return Err(format!(
            "expected `<signal_type> <signal>`, found {line:?} (a list of bare hashes is \
             --list-format plain)"
        ));
    }
    let refused = |reason: String| Ok(Item::Refused { line: number, reason });
    let algorithm = match algorithm_from_label(signal_type) {
        Ok(algorithm) => algorithm,
        Err(reason) => return refused(reason),
    };
    // python-threatexchange writes a vPDQ signal as a list of frames; only a single frame's
    // bare PDQ hash is something mediascreen can hold.
    if algorithm == Algorithm::Vpdq && HashValue::from_hex(algorithm, signal).is_err() {
        return refused(VPDQ_FRAMES.to_string());
    }
    let hash = HashValue::from_hex(algorithm, signal)
        .map_err(|e| format!("bad {algorithm} hash {signal:?}: {e}"))?;
    Ok(Item::Entry(ListEntry::new(algorithm, hash, number)))
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
             url https://example.com/a b\nvpdq {PDQ}\nvpdq [\"{PDQ},100,0.000\"]\n"
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
        assert!(matches!(&items[4], Item::Refused { line: 7, reason } if reason.contains("vpdq")));
        assert_eq!(items.len(), 5);
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
