//! ClamAV hash signature databases: `.hdb` and `.hsb`.
//!
//! ```text
//! # a comment, only with the `#` in the first column
//! ad5148579e2a0886849021264351a52a:9559:Demo.Q0291.Exact
//! 25db315820a1faee9bc4a8086914f4c6fcb818448a0e1a707fe160bb67818846:*:Demo.AnySize:73
//! ```
//!
//! `HashString:FileSize:MalwareName[:MinFL[:MaxFL]]` per line, as ClamAV's docs and its
//! loader (`cli_loadhash`) define it. The hash's length says its algorithm (32 hex digits:
//! md5, 40: sha1, 64: sha256) in either file kind, as in ClamAV, which only recommends `.hsb`
//! for SHA. The size is a positive decimal that the file must also have, or `*` for any size,
//! which ClamAV accepts only with a functionality level of at least 73. The name is the
//! entry's id. The functionality levels only say which ClamAV engines load a line, so every
//! well-formed line loads here. Lenient only where ClamAV is (CRLF line ends; blank lines are
//! malformed there and here). Must not match or apply hygiene.

use crate::error::Result;
use crate::hash::{Algorithm, HashValue};

use super::{text, Item, ListEntry, ParseContext};

/// The functionality level that introduced `*` sizes.
const WILDCARD_SIZE_FLEVEL: u32 = 73;

/// Parses a `.hdb` list (`md5:size:name`).
pub(super) fn parse_hdb(
    cx: &ParseContext<'_>,
    bytes: &[u8],
    out: &mut dyn FnMut(Item),
) -> Result<()> {
    parse(cx, bytes, out)
}

/// Parses a `.hsb` list (`sha1|sha256:size:name`).
pub(super) fn parse_hsb(
    cx: &ParseContext<'_>,
    bytes: &[u8],
    out: &mut dyn FnMut(Item),
) -> Result<()> {
    parse(cx, bytes, out)
}

fn parse(cx: &ParseContext<'_>, bytes: &[u8], out: &mut dyn FnMut(Item)) -> Result<()> {
    for (i, line) in text::utf8(cx, bytes)?.lines().enumerate() {
        let number = i as u64 + 1;
        if line.starts_with('#') {
            continue;
        }
        out(Item::Entry(entry(line, number).map_err(|reason| cx.error(number, reason))?));
    }
    Ok(())
}

fn entry(line: &str, number: u64) -> std::result::Result<ListEntry, String> {
    let fields: Vec<&str> = line.split(':').collect();
    let (hex, size, name, levels) = match fields.as_slice() {
        [hex, size, name, levels @ ..] if levels.len() <= 2 => (*hex, *size, *name, levels),
        _ => {
            return Err(format!(
                "expected HashString:FileSize:MalwareName[:MinFL[:MaxFL]], found {line:?}"
            ))
        }
    };
    let levels = levels
        .iter()
        .map(|level| level.parse::<u32>().map_err(|_| format!("bad functionality level {level:?}")))
        .collect::<std::result::Result<Vec<u32>, String>>()?;
    let size = match size {
        "*" if levels.first().is_some_and(|&min| min >= WILDCARD_SIZE_FLEVEL) => None,
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
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Vec<ListEntry>> {
        crate::hashlist::parse_entries(parse_hsb, "db.hsb", None, text)
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
        assert!(first_bad(&format!("{MD5}:1:X:new")).starts_with("db.hsb:2: bad functionality"));
        assert!(first_bad("abc:1:X").starts_with("db.hsb:2: a 3-character hash is none"));
        assert!(first_bad(&format!("{}:1:X", "z".repeat(32))).starts_with("db.hsb:2: bad md5"));
        assert!(first_bad("").starts_with("db.hsb:2: expected"));
        assert!(first_bad(" # indented").starts_with("db.hsb:2: expected"));
    }
}
