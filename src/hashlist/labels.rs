//! The algorithm labels that foreign lists use, normalised to mediascreen's names.
//!
//! Owns one table for every source: python-threatexchange signal types (`pdq`, `video_md5`),
//! ThreatExchange indicator types (`HASH_PDQ`, `HASH_VIDEO_MD5`), StopNCII signal types
//! (`ImagePDQ`, `VideoMD5`), Tech Against Terrorism (`MD5`, `PDQ`) and NCMEC fingerprint
//! names (`md5`, `sha1`, `pdq`), plus mediascreen's own names. Labels compare without regard
//! to case, `_` or `-`, so `HASH_VIDEO_MD5`, `hash-video-md5` and `hashvideomd5` are one
//! label. Anything else (`pdna`, `VideoTMK`, `url`) is unsupported. Must not read lists.

use crate::hash::Algorithm;

use super::Removal;

/// python-threatexchange's aggregate opinion categories (`AggregateSignalOpinionCategory`), as
/// `dataset -P` and `dataset --csv` print them.
pub(super) const CATEGORIES: [&str; 4] =
    ["POSITIVE_CLASS", "NEGATIVE_CLASS", "INVESTIGATION_SEED", "DISPUTED"];

/// Whether a ThreatExchange opinion says not to match its signal, and why.
///
/// python-threatexchange keeps its members' opinions two ways. Its aggregate category is
/// `NEGATIVE_CLASS` when the signal "generates false positives, or is test/example data",
/// and `DISPUTED` when some members call it positive and others negative. Its ThreatExchange
/// client also tags a descriptor `false_positive` when this member said so (its own
/// descriptor marked `NON_MALICIOUS`, or its reaction `DISAGREE_WITH_TAGS`), `disputed` when
/// another member did, and `true_positive` when this member confirmed it; `match` hid
/// false positives unless asked. A member's own `true_positive` settles a dispute; a
/// `false_positive` is never overruled.
pub(super) fn opinion(category: Option<&str>, tags: &[&str]) -> Option<Removal> {
    let tagged = |tag: &str| tags.iter().any(|t| t.eq_ignore_ascii_case(tag));
    if category == Some("NEGATIVE_CLASS") || tagged("false_positive") {
        Some(Removal::FalsePositive)
    } else if (category == Some("DISPUTED") || tagged("disputed")) && !tagged("true_positive") {
        Some(Removal::Disputed)
    } else {
        None
    }
}

/// Foreign names of algorithms mediascreen computes, folded. The MD5 or SHA-256 of a video
/// is the digest of the file's bytes like any other file's, so the video types are plain
/// digests here.
const ALIASES: [(&str, Algorithm); 9] = [
    ("videomd5", Algorithm::Md5),
    ("videosha256", Algorithm::Sha256),
    ("hashpdq", Algorithm::Pdq),
    ("hashmd5", Algorithm::Md5),
    ("hashvideomd5", Algorithm::Md5),
    ("hashsha1", Algorithm::Sha1),
    ("hashsha256", Algorithm::Sha256),
    ("hashvideosha256", Algorithm::Sha256),
    ("imagepdq", Algorithm::Pdq),
];

/// Unsupported labels that contain a supported one: a file called `..._HASH_URL_MD5.csv`
/// holds MD5s of URLs, not of files, and must not be read as an MD5 list.
const UNSUPPORTED_COMPOUNDS: [&str; 4] = ["urlmd5", "hashurlmd5", "pdqocr", "hashpdqocr"];

fn fold(label: &str) -> String {
    label.chars().filter(|c| !matches!(c, '_' | '-')).collect::<String>().to_ascii_lowercase()
}

/// The algorithm a source's label stands for, or why it is not one mediascreen computes.
pub(super) fn algorithm_from_label(label: &str) -> Result<Algorithm, String> {
    let label = label.trim();
    let folded = fold(label);
    ALIASES
        .iter()
        .find(|(name, _)| *name == folded)
        .map(|&(_, algorithm)| algorithm)
        .or_else(|| label.parse().ok())
        .ok_or_else(|| format!("unsupported algorithm {label:?}"))
}

/// The algorithms that a file name names, as ThreatExchange exports say theirs
/// (`te_HASH_PDQ.csv`, `pdq.csv`): one result per distinct label found, unsupported labels
/// as errors. Words are the name's alphanumeric runs; the longest label wins at each word, so
/// `HASH_URL_MD5` is one unsupported label and not `md5`.
pub(super) fn algorithms_in_name(name: &str) -> Vec<Result<Algorithm, String>> {
    let words: Vec<&str> =
        name.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let known = |label: &str| {
        let result = algorithm_from_label(label);
        let compound = UNSUPPORTED_COMPOUNDS.contains(&fold(label).as_str());
        (result.is_ok() || compound).then_some(result)
    };
    let mut found = Vec::new();
    let mut start = 0;
    while start < words.len() {
        let longest = (start + 1..=words.len())
            .rev()
            .find_map(|end| known(&words[start..end].join("_")).map(|hit| (end, hit)));
        match longest {
            Some((end, hit)) => {
                if !found.contains(&hit) {
                    found.push(hit);
                }
                start = end;
            }
            None => start += 1,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_normalises_to_one_name() {
        let cases = [
            ("pdq", Algorithm::Pdq),
            ("HASH_PDQ", Algorithm::Pdq),
            ("ImagePDQ", Algorithm::Pdq),
            ("PDQ", Algorithm::Pdq),
            ("vpdq", Algorithm::Vpdq),
            ("video_md5", Algorithm::Md5),
            ("VideoMD5", Algorithm::Md5),
            ("HASH_MD5", Algorithm::Md5),
            ("HASH_VIDEO_MD5", Algorithm::Md5),
            ("md5", Algorithm::Md5),
            ("SHA1", Algorithm::Sha1),
            ("HASH_SHA1", Algorithm::Sha1),
            ("video_sha256", Algorithm::Sha256),
            ("HASH_VIDEO_SHA256", Algorithm::Sha256),
            ("sha-256", Algorithm::Sha256),
            ("phash", Algorithm::Phash),
        ];
        for (label, algorithm) in cases {
            assert_eq!(algorithm_from_label(label), Ok(algorithm), "{label}");
        }
    }

    #[test]
    fn other_labels_are_unsupported() {
        for label in ["pdna", "PDNA", "VideoTMK", "url", "raw_text", "HASH_URL_MD5", "pdq_ocr"] {
            let reason = algorithm_from_label(label).unwrap_err();
            assert_eq!(reason, format!("unsupported algorithm {label:?}"));
        }
    }

    #[test]
    fn opinions_that_say_not_to_match() {
        assert_eq!(opinion(Some("POSITIVE_CLASS"), &["media_type_photo"]), None);
        assert_eq!(opinion(Some("INVESTIGATION_SEED"), &[]), None);
        assert_eq!(opinion(None, &[]), None);
        assert_eq!(opinion(Some("NEGATIVE_CLASS"), &[]), Some(Removal::FalsePositive));
        assert_eq!(opinion(None, &["a", "false_positive"]), Some(Removal::FalsePositive));
        assert_eq!(opinion(Some("DISPUTED"), &[]), Some(Removal::Disputed));
        assert_eq!(opinion(None, &["disputed"]), Some(Removal::Disputed));
        assert_eq!(opinion(None, &["disputed", "true_positive"]), None);
        assert_eq!(
            opinion(Some("POSITIVE_CLASS"), &["false_positive", "true_positive"]),
            Some(Removal::FalsePositive)
        );
    }

    #[test]
    fn file_names_name_their_algorithm() {
        let one = |name: &str| algorithms_in_name(name);
        assert_eq!(one("te_HASH_PDQ.csv"), [Ok(Algorithm::Pdq)]);
        assert_eq!(one("simple.HASH_VIDEO_MD5.te"), [Ok(Algorithm::Md5)]);
        assert_eq!(one("pdq.csv"), [Ok(Algorithm::Pdq)]);
        assert_eq!(one("video_md5-2024-05-01.csv"), [Ok(Algorithm::Md5)]);
        assert_eq!(one("export.csv"), []);
        assert_eq!(one("HASH_URL_MD5.csv"), [Err("unsupported algorithm \"HASH_URL_MD5\"".into())]);
        assert_eq!(one("pdq_and_md5.csv").len(), 2);
    }
}
