//! Telling a list's format from its file name and its first kilobytes.
//!
//! Owns the guess that `LoadOptions::format` overrides. ClamAV's extensions are decisive, as they
//! are to ClamAV (`.hdb`, `.hdu`: hdb; `.hsb`, `.hsu`: hsb; `.fp`, `.sfp`: its allowlist),
//! and its section and import-table databases are refused whatever the content says. JSON is
//! StopNCII if it uses StopNCII's field names (`hashRecords`, `signalType`, `hashValue`) and
//! TAT if it uses TAT's (`hash_digest`); XML is NCMEC's. A CSV whose first line is a header
//! is told by the header (native: names `algorithm` and `hash`; `indicator,…`: ThreatExchange;
//! `signal_type,signal_str,…`: python-threatexchange's `dataset --csv`). Any other text is
//! told by the shape of every line of the sample, not of its first: a format is chosen only
//! if all of them fit it, trying in this order:
//!
//! | every line | format |
//! |---|---|
//! | `<digits>,<digits>,<64 hex>,<seconds>` | Meta's vPDQ hasher output |
//! | `<hex>,<digits>,…,…` | ThreatExchange CSV without its header |
//! | `<hex>:<size or *>:<name>…` | ClamAV (hdb if every hash is MD5, else hsb) |
//! | `<hex>  <file name>` or `<hex> *<file name>` | `md5sum`/`sha1sum`/`sha256sum` output |
//! | `<hex>` | plain |
//! | `<signal_type> <signal>…` (a python-threatexchange signal type, or a word and a hash), or `<hex> ['collab'] CATEGORY…` | python-threatexchange text |
//!
//! Anything else is `None`: a wrong guess would only surface later as a confusing parse error,
//! or worse, as a list read with the wrong algorithm. Must not parse lists: the parsers
//! validate every line.

use std::path::Path;

use super::sum::is_sum_line;
use super::te_text::is_signal_line;
use super::ListFormat;

/// How many lines of the sample are looked at.
const SAMPLE_LINES: usize = 400;

/// Why a list must not be used whatever it holds, if it must not: ClamAV databases that hash
/// something other than whole files.
pub(super) fn unusable(path: &Path) -> Option<String> {
    let what = match extension(path).as_deref()? {
        "mdb" | "msb" | "mdu" | "msu" => "PE sections",
        "imp" => "PE import tables",
        _ => return None,
    };
    Some(format!("a ClamAV database of {what}, not of whole files: mediascreen cannot match it"))
}

/// Why the first bytes of a file (`whole` when they are all of it) cannot be a hash list, if
/// they cannot: nothing in it, or a picture, video or archive passed where a list belongs.
pub(super) fn not_a_list(bytes: &[u8], whole: bool) -> Option<String> {
    if whole && bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Some(
            "the file is empty: a list with no entries would call every file clean".into(),
        );
    }
    let text = String::from_utf8_lossy(bytes);
    if whole && text.lines().map(str::trim).all(|l| l.is_empty() || l.starts_with('#')) {
        return Some("the file holds only comments and blank lines: no entries".into());
    }
    let sniffed = crate::sniff::sniff(bytes);
    let kind = match sniffed.media_type {
        "application/octet-stream" => return None,
        text if text.starts_with("text/") => return None,
        media if sniffed.is_visual_media() => format!("a picture or video ({media})"),
        other => format!("a {other} file"),
    };
    Some(format!("{kind}, not a hash list (were a list and a scanned path swapped?)"))
}

fn extension(path: &Path) -> Option<String> {
    path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// The format of a list, judged from its name and the first bytes of it that were read
/// (`bytes`, cut anywhere); `None` when it cannot be told.
pub(super) fn detect(path: &Path, bytes: &[u8]) -> Option<ListFormat> {
    match extension(path).as_deref() {
        Some("hdb" | "hdu") => return Some(ListFormat::ClamAvHdb),
        Some("hsb" | "hsu") => return Some(ListFormat::ClamAvHsb),
        Some("fp" | "sfp") => return Some(ListFormat::ClamAvFp),
        _ => {}
    }
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    match text.chars().next()? {
        '[' | '{' => json(text),
        '<' => Some(ListFormat::Ncmec),
        _ => lines(text),
    }
}

fn json(text: &str) -> Option<ListFormat> {
    let has_key = |key: &str| text.contains(&format!("\"{key}\""));
    if ["hashRecords", "signalType", "hashValue"].into_iter().any(has_key) {
        Some(ListFormat::StopNcii)
    } else if has_key("hash_digest") {
        Some(ListFormat::Tat)
    } else {
        None
    }
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit())
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

fn lines(text: &str) -> Option<ListFormat> {
    let mut lines: Vec<&str> =
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    // The sample may end inside a line; a cut line could fit no format.
    if lines.len() > 1 && !text.ends_with('\n') {
        lines.pop();
    }
    lines.truncate(SAMPLE_LINES);
    let first = *lines.first()?;
    let columns: Vec<String> = first.split(',').map(|c| c.trim().to_ascii_lowercase()).collect();
    if columns.iter().any(|c| c == "algorithm") && columns.iter().any(|c| c == "hash") {
        return Some(ListFormat::Native);
    }
    if columns.len() > 1 && columns[0] == "indicator" {
        return Some(ListFormat::TeCsv);
    }
    if columns.len() > 1 && columns[..2] == ["signal_type", "signal_str"] {
        return Some(ListFormat::TeDataset);
    }
    let all = |fits: fn(&str) -> bool| lines.iter().all(|line| fits(line));
    if all(vpdq_frame) {
        return Some(ListFormat::VpdqText);
    }
    if all(te_csv_row) {
        return Some(ListFormat::TeCsv);
    }
    if all(clamav) {
        let md5 = lines.iter().all(|line| line.split(':').next().is_some_and(|h| h.len() == 32));
        return Some(if md5 { ListFormat::ClamAvHdb } else { ListFormat::ClamAvHsb });
    }
    if all(is_sum_line) {
        return Some(ListFormat::Sum);
    }
    if all(is_hex) {
        return Some(ListFormat::Plain);
    }
    if all(is_signal_line) {
        return Some(ListFormat::TeText);
    }
    None
}

fn vpdq_frame(line: &str) -> bool {
    match line.split(',').map(str::trim).collect::<Vec<_>>()[..] {
        [frame, quality, hash, seconds] => {
            is_digits(frame)
                && is_digits(quality)
                && hash.len() == 64
                && is_hex(hash)
                && seconds.parse::<f64>().is_ok()
        }
        _ => false,
    }
}

fn te_csv_row(line: &str) -> bool {
    let columns: Vec<&str> = line.split(',').map(str::trim).collect();
    columns.len() == 4 && is_hex(columns[0]) && is_digits(columns[1])
}

fn clamav(line: &str) -> bool {
    match line.split(':').collect::<Vec<_>>()[..] {
        [hash, size, _name, ..] => is_hex(hash) && (size == "*" || is_digits(size)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guess(name: &str, text: &str) -> Option<ListFormat> {
        detect(Path::new(name), text.as_bytes())
    }

    const MD5: &str = "ad5148579e2a0886849021264351a52a";
    const SHA256: &str = "25db315820a1faee9bc4a8086914f4c6fcb818448a0e1a707fe160bb67818846";

    #[test]
    fn extensions_and_content_decide() {
        use ListFormat::*;
        assert_eq!(guess("x.HDB", "anything"), Some(ClamAvHdb));
        assert_eq!(guess("x.hsb", ""), Some(ClamAvHsb));
        assert_eq!(guess("daily.hdu", ""), Some(ClamAvHdb));
        assert_eq!(guess("local.fp", &format!("{MD5}:9559:Good\n")), Some(ClamAvFp));
        assert_eq!(guess("local.SFP", ""), Some(ClamAvFp));
        assert_eq!(guess("l.csv", "\u{feff}# c\nHash,Algorithm\n"), Some(Native));
        assert_eq!(guess("l.csv", "indicator,first_descriptor_id,added_on,labels\n"), Some(TeCsv));
        assert_eq!(guess("l.te", &format!("{MD5},123,2020-01-01,a b\n")), Some(TeCsv));
        assert_eq!(
            guess("d.csv", "signal_type,signal_str,collab,category,tags\n"),
            Some(TeDataset)
        );
        assert_eq!(guess("l.txt", &format!("{MD5}:9559:Name\n")), Some(ClamAvHdb));
        assert_eq!(guess("l.txt", &format!("\n# pytx\nvideo_md5 {MD5}\n")), Some(TeText));
        assert_eq!(guess("l.txt", &format!("{MD5}\n")), Some(Plain));
        let pdq = "e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c";
        assert_eq!(guess("v.txt", &format!("0,100,{pdq},0.000\n")), Some(VpdqText));
        assert_eq!(guess("v.txt", &format!("vpdq [\"{pdq},100,0.0\"]\n")), Some(TeText));
        assert_eq!(guess("l", "[{\"signalType\": \"ImagePDQ\"}]"), Some(StopNcii));
        assert_eq!(guess("l", "{\"count\": 0, \"hashRecords\": []}"), Some(StopNcii));
        assert_eq!(guess("l", "[{\"hash_digest\": \"00\", \"algorithm\": \"MD5\"}]"), Some(Tat));
        assert_eq!(guess("l.xml", "<?xml version=\"1.0\"?><queryResult/>"), Some(Ncmec));
    }

    #[test]
    fn every_line_of_the_sample_decides_not_the_first() {
        use ListFormat::*;
        // python-threatexchange writes its signals in no particular order.
        let te = format!("url https://example.com/a page\nraw_text some words\npdq {SHA256}\n");
        assert_eq!(guess("te.txt", &te), Some(TeText));
        assert_eq!(guess("te.txt", "pdq_ocr 0f0f,some text, with commas\n"), Some(TeText));
        // `dataset -P`, with and without the signal type.
        let printed = format!("pdq {SHA256} 'Sample Data' POSITIVE_CLASS media_type_photo\n");
        assert_eq!(guess("p.txt", &printed), Some(TeText));
        assert_eq!(guess("p.txt", &format!("{SHA256} \"It's\" NEGATIVE_CLASS\n")), Some(TeText));
        // *sum output: 64 hex digits with a file name are a SHA-256.
        let sums = format!("{SHA256}  photo one.jpg\n{SHA256} *photo2.jpg\n\\{SHA256}  a\\\\b\n");
        assert_eq!(guess("SHA256SUMS", &sums), Some(Sum));
        assert_eq!(guess("MD5SUMS", &format!("{MD5}  x.jpg\n")), Some(Sum));
        // A plain list with one line of another shape is not guessed.
        assert_eq!(guess("l.txt", &format!("{MD5}\n{MD5}  x.jpg\n")), None);
        assert_eq!(guess("l.txt", &format!("{MD5}\n{MD5}:12:Name\n")), None);
        // A sample cut inside its last line is judged without that line.
        assert_eq!(guess("l.txt", &format!("{MD5}\n{MD5}\n{}", &MD5[..7])), Some(Plain));
    }

    #[test]
    fn unknown_shapes_are_not_guessed() {
        assert_eq!(guess("l.txt", ""), None);
        assert_eq!(guess("l.txt", "hello world\n"), None);
        assert_eq!(guess("l.json", "[{\"sha\": 1}]"), None);
    }

    #[test]
    fn empty_files_and_media_are_not_lists() {
        assert!(not_a_list(b"", true).unwrap().starts_with("the file is empty"));
        assert!(not_a_list(b" \n\n", true).unwrap().starts_with("the file is empty"));
        assert_eq!(not_a_list(b" \n\n", false), None);
        assert!(not_a_list(b"# a\n\n  # b\n", true).unwrap().contains("only comments"));
        let jpeg = [0xff, 0xd8, 0xff, 0xe0, 0, 0x10, b'J', b'F', b'I', b'F', 0];
        assert!(not_a_list(&jpeg, false).unwrap().starts_with("a picture or video (image/jpeg)"));
        assert!(not_a_list(b"\x1f\x8b\x08\0\0\0\0\0", true).unwrap().contains("gzip"));
        assert_eq!(not_a_list(b"<?xml version=\"1.0\"?><queryResult/>", true), None);
        assert_eq!(not_a_list(b"algorithm,hash\n", true), None);
    }

    #[test]
    fn clamav_databases_of_parts_of_files_are_unusable() {
        assert!(unusable(Path::new("x.imp")).unwrap().contains("PE import tables"));
        assert!(unusable(Path::new("daily.MDB")).unwrap().contains("PE sections"));
        assert_eq!(unusable(Path::new("x.hdb")), None);
    }
}
