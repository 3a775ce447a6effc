//! Plain lists: one bare hex hash per line, the algorithm said nowhere in the file.
//!
//! ```text
//! # md5 of known files
//! ad5148579e2a0886849021264351a52a
//! 33fa572cb6fe24cc3e23694182b50da2373af7c0
//! ```
//!
//! Blank lines and `#` comments are skipped. The algorithm is the one the load options give
//! (`LoadOptions::algorithm`), else the hash's length where only one algorithm has it (32
//! hex digits: md5, 40: sha1). 16 digits (phash, dhash or ahash) and 64 (sha256 or pdq) are
//! ambiguous, and guessing would match the wrong thing, so those are fatal unless the
//! algorithm is given. Must not match or apply hygiene.

use crate::error::{Reason, Result, Setting};
use crate::hash::{Algorithm, HashValue};

use super::{text, Item, ListEntry, ParseContext};

/// Parses a whole list in this format.
pub(super) fn parse(cx: &ParseContext<'_>, bytes: &[u8], out: &mut dyn FnMut(Item)) -> Result<()> {
    text::records(cx, bytes, |hex, number| {
        out(Item::Entry(entry(cx.algorithm, hex, number)?));
        Ok(())
    })
}

fn entry(flag: Option<Algorithm>, hex: &str, line: u64) -> std::result::Result<ListEntry, Reason> {
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("expected one hex hash per line, found {hex:?}").into());
    }
    let algorithm = algorithm_for(flag, hex)?;
    let hash = HashValue::from_hex(algorithm, hex)
        .map_err(|e| format!("bad {algorithm} hash {hex:?}: {e}"))?;
    Ok(ListEntry::new(algorithm, hash, line))
}

/// The algorithm of a hash that its list does not name: `flag` (the list's algorithm given
/// in the load options) when given, else the hash's length where only one algorithm has it.
pub(super) fn algorithm_for(
    flag: Option<Algorithm>,
    hex: &str,
) -> std::result::Result<Algorithm, Reason> {
    match (flag, hex.len()) {
        (Some(algorithm), _) => Ok(algorithm),
        (None, 32) => Ok(Algorithm::Md5),
        (None, 40) => Ok(Algorithm::Sha1),
        (None, 16) => Err(ambiguous(hex, "phash, dhash or ahash")),
        (None, 64) => Err(ambiguous(hex, "sha256 or pdq")),
        (None, n) => Err(format!("{n} hex digits is the length of no known hash").into()),
    }
}

fn ambiguous(hex: &str, which: &str) -> Reason {
    let head = format!("a {}-hex-digit hash may be {which}: ", hex.len());
    name_the_algorithm(&head)
}

/// `head`, then that the list's algorithm must be given: a list whose format does not say it.
pub(super) fn name_the_algorithm(head: &str) -> Reason {
    let head = format!("{head}name the list's algorithm with ");
    Reason::calling(Setting::ListAlgorithm, &head, "LoadOptions::algorithm", "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with(algorithm: Option<Algorithm>, text: &str) -> Result<Vec<ListEntry>> {
        crate::hashlist::parse_entries(parse, "p.txt", algorithm, text)
    }

    const SHA256: &str = "25db315820a1faee9bc4a8086914f4c6fcb818448a0e1a707fe160bb67818846";

    #[test]
    fn digests_are_told_by_length() {
        let text =
            "# x\nAD5148579E2A0886849021264351A52A\n\n  33fa572cb6fe24cc3e23694182b50da2373af7c0\n";
        let entries = parse_with(None, text).unwrap();
        assert_eq!((entries[0].algorithm, entries[0].line), (Algorithm::Md5, 2));
        assert_eq!((entries[1].algorithm, entries[1].line), (Algorithm::Sha1, 4));
    }

    #[test]
    fn the_flag_decides_ambiguous_lengths() {
        let entries = parse_with(Some(Algorithm::Sha256), SHA256).unwrap();
        assert_eq!(entries[0].algorithm, Algorithm::Sha256);
        let entries = parse_with(Some(Algorithm::Pdq), SHA256).unwrap();
        assert_eq!(entries[0].algorithm, Algorithm::Pdq);
    }

    #[test]
    fn unknowable_or_malformed_lines_are_fatal() {
        let error = |algorithm, text: &str| parse_with(algorithm, text).unwrap_err().to_string();
        assert_eq!(
            error(None, &format!("d41d8cd98f00b204e9800998ecf8427e\n{SHA256}\n")),
            "p.txt:2: a 64-hex-digit hash may be sha256 or pdq: name the list's algorithm with \
             LoadOptions::algorithm"
        );
        assert!(error(None, "aca29c1c33dc23d7").starts_with("p.txt:1: a 16-hex-digit hash may be"));
        assert!(error(None, "\nabc\n").starts_with("p.txt:2: 3 hex digits"));
        assert!(error(None, "md5 abc\n").starts_with("p.txt:1: expected one hex hash per line"));
        assert!(error(Some(Algorithm::Md5), SHA256).starts_with("p.txt:1: bad md5 hash"));
    }
}
