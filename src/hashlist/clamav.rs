//! ClamAV hash signature databases: `.hdb`, `.hsb` (and their PUA twins `.hdu`, `.hsu`), and
//! the false-positive databases `.fp`, `.sfp`.
//!
//! ```text
//! # a comment, only with the `#` in the first column
//! ad5148579e2a0886849021264351a52a:9559:Demo.Q0291.Exact
//! 25db315820a1faee9bc4a8086914f4c6fcb818448a0e1a707fe160bb67818846:*:Demo.AnySize:73
//! ```
//!
//! `HashString:FileSize:MalwareName[:MinFL[:MaxFL]]` per line, read as ClamAV's loader
//! (`cli_loadhash` in `libclamav/readdb.c`) reads it. The hash's length says its algorithm
//! (32 hex digits: md5, 40: sha1, 64: sha256) in either file kind, as in ClamAV, which only
//! recommends `.hsb` for SHA. The size is a positive decimal that the file must also have, or
//! `*` for any size, which ClamAV accepts only with a MinFL of at least 73. The name is the
//! entry's id. The levels are read with C's `atoi`, as ClamAV reads them: an empty or
//! non-numeric level is 0. A line with a MaxFL below the level of current ClamAV engines is
//! one ClamAV has retired, so it is a removal here, whatever else it holds, as ClamAV skips it
//! unread. A MinFL above that level only keeps older engines from a line whose syntax they
//! lack, which is not a reason to miss a file, so such lines load. Lenient only where ClamAV
//! is (CRLF line ends; blank lines are malformed there and here). Which file is an allowlist
//! is the file name's business (see `detect`). Must not match or apply hygiene.

use crate::error::Result;
use crate::hash::{Algorithm, HashValue};

use super::{text, Item, ListEntry, ParseContext, Record, Removal, State};

/// The functionality level that introduced `*` sizes.
const WILDCARD_SIZE_FLEVEL: i64 = 73;

/// The functionality level of current ClamAV engines (`CL_FLEVEL` in `libclamav/others.h` of
/// ClamAV's sources of July 2026): a line whose MaxFL is below it is one they skip.
const CLAMAV_FLEVEL: i64 = 240;

/// Parses a ClamAV hash database of any of the kinds above.
pub(super) fn parse(cx: &ParseContext<'_>, bytes: &[u8], out: &mut dyn FnMut(Item)) -> Result<()> {
    for (i, line) in text::utf8(cx, bytes)?.lines().enumerate() {
        let number = i as u64 + 1;
        if line.starts_with('#') {
            continue;
        }
        out(item(line, number).map_err(|reason| cx.error(number, reason))?);
    }
    Ok(())
}

/// C's `atoi`: leading blanks, a sign, the digits that follow; 0 when there are none.
fn atoi(text: &str) -> i64 {
    let text = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    let end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
    digits[..end.min(18)].parse::<i64>().map_or(0, |n| sign * n)
}

fn item(line: &str, number: u64) -> std::result::Result<Item, String> {
    let fields: Vec<&str> = line.split(':').collect();
    let (hex, size, name, levels) = match fields.as_slice() {
        [hex, size, name, levels @ ..] if levels.len() <= 2 => (*hex, *size, *name, levels),
        _ => {
            return Err(format!(
                "expected HashString:FileSize:MalwareName[:MinFL[:MaxFL]], found {line:?}"
            ))
        }
    };
    if let Some(&max) = levels.get(1) {
        let max = atoi(max);
        if max < CLAMAV_FLEVEL {
            let reason = format!(
                "{name}: retired by ClamAV (MaxFL {max}, below current engines' {CLAMAV_FLEVEL})"
            );
            let state = State::Removed { removal: Removal::Retired, reason };
            return Ok(Item::Record(Record { key: None, stamp: None, line: number, state }));
        }
    }
    let min_level = levels.first().map(|level| atoi(level));
    let size = match size {
        "*" if min_level.is_some_and(|min| min >= WILDCARD_SIZE_FLEVEL) => None,
        "*" => {
            return Err(format!(
                "a `*` size needs a minimum functionality level of {WILDCARD_SIZE_FLEVEL} or more \
                 (ClamAV rejects it too)"
            ))
        }
        _ => match size.parse::<u64>() {
            Ok(n) if n > 0 && n < 0xffff_ffff => Some(n),
            _ => return Err(format!("bad file size {size:?} (a positive number of bytes, or *)")),
        },
    };
    let algorithm = match hex.len() {
        32 => Algorithm::Md5,
        40 => Algorithm::Sha1,
        64 => Algorithm::Sha256,
        n => return Err(format!("a {n}-character hash is none of md5, sha1, sha256: {hex:?}")),
    };
    let hash = HashValue::from_hex(algorithm, hex)
        .map_err(|e| format!("bad {algorithm} hash {hex:?}: {e}"))?;
    let mut entry = ListEntry::new(algorithm, hash, number);
    entry.size = size;
    entry.id = Some(name.to_string()).filter(|n| !n.is_empty());
    Ok(Item::Entry(entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Vec<ListEntry>> {
        crate::hashlist::parse_entries(parse, "db.hsb", None, text)
    }

    const MD5: &str = "ad5148579e2a0886849021264351a52a";
    const SHA1: &str = "33fa572cb6fe24cc3e23694182b50da2373af7c0";
    const SHA256: &str = "25db315820a1faee9bc4a8086914f4c6fcb818448a0e1a707fe160bb67818846";

    #[test]
    fn algorithm_by_length_size_and_name() {
        let text = format!(
            "#comment\n{MD5}:9559:Demo.Md5\r\n{SHA1}:9559:Demo.Sha1:0\n{SHA256}:*:Demo.Any:73:255\n"
        );
        let entries = parse_str(&text).unwrap();
        let got: Vec<_> = entries
            .iter()
            .map(|e| (e.algorithm, e.size, e.id.as_deref().unwrap(), e.line))
            .collect();
        assert_eq!(
            got,
            [
                (Algorithm::Md5, Some(9559), "Demo.Md5", 2),
                (Algorithm::Sha1, Some(9559), "Demo.Sha1", 3),
                (Algorithm::Sha256, None, "Demo.Any", 4),
            ]
        );
    }

    #[test]
    fn malformed_lines_are_fatal_as_in_clamav() {
        let error = |text: &str| parse_str(text).unwrap_err().to_string();
        let first_bad = |bad: &str| error(&format!("{MD5}:1:Ok\n{bad}\n"));
        assert!(first_bad(&format!("{SHA256}:*:Any")).starts_with("db.hsb:2: a `*` size needs"));
        assert!(first_bad(&format!("{SHA256}:*:Any:72")).starts_with("db.hsb:2: a `*` size"));
        assert!(first_bad(&format!("{MD5}:0:Zero")).starts_with("db.hsb:2: bad file size \"0\""));
        assert!(first_bad(&format!("{MD5}:12k:X")).starts_with("db.hsb:2: bad file size"));
        assert!(first_bad(&format!("{MD5}:1")).starts_with("db.hsb:2: expected HashString"));
        assert!(first_bad(&format!("{MD5}:1:X:1:2:3")).starts_with("db.hsb:2: expected"));
        // A non-numeric MinFL is 0 to ClamAV's atoi, too low for a `*` size.
        assert!(first_bad(&format!("{SHA256}:*:Any:new")).starts_with("db.hsb:2: a `*` size"));
        assert!(first_bad("abc:1:X").starts_with("db.hsb:2: a 3-character hash is none"));
        assert!(first_bad(&format!("{}:1:X", "z".repeat(32))).starts_with("db.hsb:2: bad md5"));
        assert!(first_bad("").starts_with("db.hsb:2: expected"));
        assert!(first_bad(" # indented").starts_with("db.hsb:2: expected"));
    }

    #[test]
    fn levels_read_as_clamav_reads_them() {
        let text = format!(
            "{MD5}:1:Future:999\n{MD5}:2:Old:0:120\n{MD5}:3:EmptyMax:73:\n{SHA1}:*:Live:73:300\n\
             {SHA1}:4:Text:x73:y\n{SHA256}:*:Digits:73abc\n"
        );
        let items = crate::hashlist::parse_items(parse, "db.hsb", None, &text).unwrap();
        let got: Vec<(u64, String)> = items
            .iter()
            .map(|item| match item {
                Item::Entry(e) => (e.line, format!("loaded {}", e.id.as_deref().unwrap())),
                Item::Record(Record {
                    line, state: State::Removed { removal, reason }, ..
                }) => (*line, format!("{removal}: {reason}")),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            got,
            [
                (1, "loaded Future".into()),
                (
                    2,
                    "retired: Old: retired by ClamAV (MaxFL 120, below current engines' 240)"
                        .into()
                ),
                (
                    3,
                    "retired: EmptyMax: retired by ClamAV (MaxFL 0, below current engines' 240)"
                        .into()
                ),
                (4, "loaded Live".into()),
                (
                    5,
                    "retired: Text: retired by ClamAV (MaxFL 0, below current engines' 240)".into()
                ),
                (6, "loaded Digits".into()),
            ]
        );
        assert_eq!((atoi(" -12x"), atoi("+7"), atoi(""), atoi("abc")), (-12, 7, 0, 0));
    }
}
