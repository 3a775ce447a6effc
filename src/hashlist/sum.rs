//! The output of GNU coreutils' `md5sum`, `sha1sum` and `sha256sum`: the commonest plain list.
//!
//! ```text
//! ad5148579e2a0886849021264351a52a  exact/q0291.jpg
//! 25db315820a1faee9bc4a8086914f4c6fcb818448a0e1a707fe160bb67818846 *q0291.jpg
//! \25db315820a1faee9bc4a8086914f4c6fcb818448a0e1a707fe160bb67818846  new\nline.jpg
//! SHA256 (q0291.jpg) = 25db315820a1faee9bc4a8086914f4c6fcb818448a0e1a707fe160bb67818846
//! ```
//!
//! The digest, a space, then a space (text mode) or `*` (binary mode) and the file's name; a
//! line starting with `\` has its name escaped (`\\`, `\n`, `\r`). `--tag` writes the BSD form
//! on the last line. The name is the entry's id. The digest's length says the algorithm, since
//! each tool writes one: 32 hex digits are MD5, 40 SHA-1, and 64 SHA-256, never PDQ, which no
//! such tool writes. The SHA-2 tools mediascreen has no counterpart of (`sha224sum`,
//! `sha384sum`, `sha512sum`) are refused line by line. Blank lines and `#` comments are
//! skipped. Must not match or apply hygiene.

use crate::error::{Reason, Result, Setting};
use crate::hash::{Algorithm, HashValue};

use super::{text, Item, ListEntry, ParseContext};

/// Parses a whole list in this format.
pub(super) fn parse(cx: &ParseContext<'_>, bytes: &[u8], out: &mut dyn FnMut(Item)) -> Result<()> {
    text::records(cx, bytes, |line, number| {
        out(item(cx.algorithm, line, number)?);
        Ok(())
    })
}

/// True if `line` has the shape of a line of this format (for detection).
pub(super) fn is_sum_line(line: &str) -> bool {
    split(line).is_some_and(|(hex, name)| {
        matches!(hex.len(), 32 | 40 | 56 | 64 | 96 | 128)
            && hex.chars().all(|c| c.is_ascii_hexdigit())
            && !name.is_empty()
    })
}

/// The digest and the file name of a line, in either form.
fn split(line: &str) -> Option<(&str, String)> {
    if let Some((tag, rest)) = line.split_once(" (") {
        let (name, hex) = rest.rsplit_once(") = ")?;
        return tag.chars().all(|c| c.is_ascii_alphanumeric()).then(|| (hex, name.to_string()));
    }
    let (escaped, line) = match line.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let (hex, rest) = line.split_once(' ')?;
    let name = rest.strip_prefix([' ', '*'])?;
    Some((hex, if escaped { unescape(name) } else { name.to_string() }))
}

fn unescape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        out.push(match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n') => '\n',
                Some('r') => '\r',
                Some(other) => other,
                None => '\\',
            },
            (c, false) => c,
        });
    }
    out
}

fn item(flag: Option<Algorithm>, line: &str, number: u64) -> std::result::Result<Item, Reason> {
    let Some((hex, name)) = split(line).filter(|(hex, name)| !hex.is_empty() && !name.is_empty())
    else {
        return Err(
            format!("expected `<hex>  <file name>` as md5sum writes it, found {line:?}").into()
        );
    };
    let algorithm = match hex.len() {
        32 => Algorithm::Md5,
        40 => Algorithm::Sha1,
        64 => Algorithm::Sha256,
        56 | 96 | 128 => {
            let bits = hex.len() * 4;
            let reason = format!("unsupported algorithm \"sha{bits}\" (a sha{bits}sum line)");
            return Ok(Item::Refused { line: number, reason });
        }
        n => {
            return Err(format!("{n} hex digits is the length of no checksum tool's digest").into())
        }
    };
    if let Some(flag) = flag.filter(|&flag| flag != algorithm) {
        let head = format!("a {}-hex-digit checksum is {algorithm}, not ", hex.len());
        let tail = format!(" {flag}");
        let words = "LoadOptions::algorithm";
        return Err(Reason::calling(Setting::ListAlgorithm, &head, words, &tail));
    }
    let hash = HashValue::from_hex(algorithm, hex)
        .map_err(|e| format!("bad {algorithm} hash {hex:?}: {e}"))?;
    let mut entry = ListEntry::new(algorithm, hash, number);
    entry.id = Some(name);
    Ok(Item::Entry(entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD5: &str = "ad5148579e2a0886849021264351a52a";
    const SHA1: &str = "33fa572cb6fe24cc3e23694182b50da2373af7c0";
    const SHA256: &str = "25db315820a1faee9bc4a8086914f4c6fcb818448a0e1a707fe160bb67818846";

    fn parse_str(flag: Option<Algorithm>, text: &str) -> Result<Vec<Item>> {
        crate::hashlist::parse_items(parse, "SUMS", flag, text)
    }

    #[test]
    fn every_form_coreutils_writes() {
        let text = format!(
            "{MD5}  exact/q0291.jpg\n{SHA1} *bin ary.jpg\n\\{SHA256}  new\\nline\\\\x.jpg\n\
             SHA256 (tagged (1).jpg) = {SHA256}\n{}  big.iso\n",
            "0".repeat(128)
        );
        let items = parse_str(None, &text).unwrap();
        let got: Vec<_> = items
            .iter()
            .map(|item| match item {
                Item::Entry(e) => format!("{} {}", e.algorithm, e.id.as_deref().unwrap()),
                Item::Refused { reason, .. } => reason.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            got,
            [
                "md5 exact/q0291.jpg",
                "sha1 bin ary.jpg",
                "sha256 new\nline\\x.jpg",
                "sha256 tagged (1).jpg",
                "unsupported algorithm \"sha512\" (a sha512sum line)",
            ]
        );
    }

    #[test]
    fn malformed_lines_and_conflicting_flags_are_fatal() {
        let error = |flag, text: &str| parse_str(flag, text).unwrap_err().to_string();
        assert!(error(None, &format!("{MD5} x.jpg\n")).starts_with("SUMS:1: expected"));
        assert!(error(None, &format!("{MD5}  \n")).starts_with("SUMS:1: expected"));
        assert!(error(None, "abc  x.jpg\n").starts_with("SUMS:1: 3 hex digits"));
        assert!(error(None, &format!("{}  x.jpg\n", "z".repeat(32))).starts_with("SUMS:1: bad md5"));
        let conflict = error(Some(Algorithm::Pdq), &format!("{SHA256}  x.jpg\n"));
        assert!(
            conflict.contains("checksum is sha256, not LoadOptions::algorithm pdq"),
            "{conflict}"
        );
    }
}
