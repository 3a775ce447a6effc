//! Telling a list's format from its file name and its first few kilobytes.
//!
//! Owns the guess that `--list-format` overrides: ClamAV's extensions are decisive; otherwise
//! the content says. JSON is StopNCII if it uses StopNCII's field names (`hashRecords`,
//! `signalType`, `hashValue`) and TAT if it uses TAT's (`hash_digest`); XML is NCMEC's; text
//! is told by its first line that is neither blank nor a `#` comment:
//!
//! | first line | format |
//! |---|---|
//! | a CSV header naming `algorithm` and `hash` | native |
//! | `<digits>,<digits>,<64 hex>,<seconds>` | Meta's vPDQ hasher output |
//! | `indicator,first_descriptor_id,…`, or `<hex>,<digits>,…,…` | ThreatExchange CSV |
//! | `<hex>:<size or *>:<name>…` | ClamAV (`.hdb` for MD5, else `.hsb`) |
//! | `<signal_type> <hex>`, or `vpdq [<frames>]` | python-threatexchange text |
//! | `<hex>` | plain |
//!
//! Anything else is `None`: a wrong guess would only surface later as a confusing parse
//! error. Must not parse lists: the parsers validate every line.

use std::path::Path;

use super::ListFormat;

/// How much of the file is looked at.
const SNIFF_BYTES: usize = 8192;

/// The format of a list, judged from its name and content; `None` when it cannot be told.
pub(super) fn detect(path: &Path, bytes: &[u8]) -> Option<ListFormat> {
    let extension = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    match extension.as_deref() {
        Some("hdb") => return Some(ListFormat::ClamAvHdb),
        Some("hsb") => return Some(ListFormat::ClamAvHsb),
        _ => {}
    }
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(SNIFF_BYTES)]);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    match text.chars().next()? {
        '[' | '{' => json(text),
        '<' => Some(ListFormat::Ncmec),
        _ => first_line(text),
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

fn first_line(text: &str) -> Option<ListFormat> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#'))?;
    let is_hex = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit());
    let columns: Vec<String> = line.split(',').map(|c| c.trim().to_ascii_lowercase()).collect();
    if columns.iter().any(|c| c == "algorithm") && columns.iter().any(|c| c == "hash") {
        return Some(ListFormat::Native);
    }
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    // Before ThreatExchange CSV, which a frame number would pass for as an indicator.
    if let [frame, quality, hash, seconds] = &columns[..] {
        if digits(frame) && digits(quality) && hash.len() == 64 && is_hex(hash) {
            return seconds.parse::<f64>().is_ok().then_some(ListFormat::VpdqText);
        }
    }
    let header = columns.len() > 1 && columns[0] == "indicator";
    if header || (columns.len() == 4 && is_hex(&columns[0]) && digits(&columns[1])) {
        return Some(ListFormat::TeCsv);
    }
    if let [hash, size, _name, ..] = line.split(':').collect::<Vec<_>>()[..] {
        if is_hex(hash) && (size == "*" || digits(size)) {
            let md5 = hash.len() == 32;
            return Some(if md5 { ListFormat::ClamAvHdb } else { ListFormat::ClamAvHsb });
        }
    }
    match line.split_whitespace().collect::<Vec<_>>()[..] {
        [hash] if is_hex(hash) => Some(ListFormat::Plain),
        [word, hash]
            if is_hex(hash)
                && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
        {
            Some(ListFormat::TeText)
        }
        ["vpdq", frames, ..] if frames.starts_with('[') => Some(ListFormat::TeText),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guess(name: &str, text: &str) -> Option<ListFormat> {
        detect(Path::new(name), text.as_bytes())
    }

    const MD5: &str = "ad5148579e2a0886849021264351a52a";

    #[test]
    fn extensions_and_content_decide() {
        use ListFormat::*;
        assert_eq!(guess("x.HDB", "anything"), Some(ClamAvHdb));
        assert_eq!(guess("x.hsb", ""), Some(ClamAvHsb));
        assert_eq!(guess("l.csv", "\u{feff}# c\nHash,Algorithm\n"), Some(Native));
        assert_eq!(guess("l.csv", "indicator,first_descriptor_id,added_on,labels\n"), Some(TeCsv));
        assert_eq!(guess("l.te", &format!("{MD5},123,2020-01-01,a b\n")), Some(TeCsv));
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
    fn unknown_shapes_are_not_guessed() {
        assert_eq!(guess("l.txt", ""), None);
        assert_eq!(guess("l.txt", "hello world\n"), None);
        assert_eq!(guess("l.json", "[{\"sha\": 1}]"), None);
        assert_eq!(guess("l.txt", "url https://example.com/\n"), None);
    }
}
