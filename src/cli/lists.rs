//! Loading the lists a command names, and what a person is told about them before anything
//! is scanned: refused entries, removed records, PDQ rows under the quality gate, thresholds
//! that cannot do what was meant. Must not parse lists: that is the library's `hashlist`.

use anyhow::Result;

use mediascreen::hash::Algorithm;
use mediascreen::hashlist::{HashList, LoadOptions};

use super::names::named;

/// Refused entries are not fatal, but an operator must hear of them: a list that loses most
/// of its entries to hygiene is a list problem worth knowing before trusting a clean scan.
pub(super) fn warn_refused(list: &HashList) {
    const SHOWN: usize = 20;
    for refusal in list.refused.iter().take(SHOWN) {
        eprintln!(
            "mediascreen: warning: {}:{}: entry skipped: {}",
            list.path.display(),
            refusal.line,
            refusal.reason
        );
    }
    if list.refused.len() > SHOWN {
        eprintln!(
            "mediascreen: warning: {}: {} more entries skipped (counted in the report)",
            list.path.display(),
            list.refused.len() - SHOWN
        );
    }
    if !list.removed.is_empty() {
        eprintln!(
            "mediascreen: note: {}: {} records not matched: their publisher {} them \
             (`mediascreen list check` lists them)",
            list.path.display(),
            list.removed.len(),
            removed_summary(list)
        );
    }
}

/// A `--threshold` that cannot do what its user meant is said so, not silently applied.
pub(super) fn warn_thresholds(thresholds: &[(Algorithm, u32)], lists: &[HashList]) {
    for &(algorithm, threshold) in thresholds {
        let warn = |why: String| {
            eprintln!("mediascreen: warning: --threshold {algorithm}={threshold}: {why}")
        };
        if !lists.iter().any(|list| list.counts().contains_key(&algorithm)) {
            warn(format!("no list holds {algorithm} entries, so it changes nothing"));
        }
        let bits = algorithm.byte_len() as u32 * 8;
        if threshold > bits / 4 {
            warn(format!(
                "more than a quarter of the hash's {bits} bits: unrelated pictures match at \
                 that distance (the default is {})",
                algorithm.default_threshold()
            ));
        }
        let probed = mediascreen::index::Index::max_probed_threshold(algorithm);
        if threshold > probed {
            warn(format!(
                "past {probed}, every file is compared with every listed hash, which is slow \
                 on a big list"
            ));
        }
    }
}

/// `-` as a path: standard input.
pub(super) fn is_stdin(path: &std::path::Path) -> bool {
    path.as_os_str() == "-"
}

/// Loads the list `flag` names, its errors naming the flag, so a person knows which argument
/// to fix.
pub(super) fn load_list(
    flag: &str,
    path: &std::path::Path,
    options: &LoadOptions,
) -> Result<HashList> {
    read_list(path, options).map_err(|error| anyhow::anyhow!("{flag} {error}"))
}

/// Loads the list at `path`, or from standard input when it is `-`; its error names the
/// flags that would settle it.
pub fn read_list(
    path: &std::path::Path,
    options: &LoadOptions,
) -> mediascreen::error::Result<HashList> {
    if !is_stdin(path) {
        return HashList::load(path, options).map_err(named);
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
        .map_err(|error| mediascreen::error::Error::Io { path: path.to_path_buf(), error })?;
    HashList::from_bytes(path, &bytes, options).map_err(named)
}

/// PDQ entries whose recorded quality is under the gate can never match (see
/// `matcher::rule`); a list that holds them must not look fuller than it is.
pub(super) fn warn_low_quality(list: &HashList, min_quality: u8) {
    let entries = &list.entries;
    let low = (0..entries.len())
        .filter(|&row| entries.algorithms()[row] == Algorithm::Pdq)
        .filter(|&row| entries.quality(row).is_some_and(|q| q < min_quality))
        .count();
    if low > 0 {
        eprintln!(
            "mediascreen: warning: {}: {low} pdq entries record a quality under \
             --pdq-min-quality {min_quality}: they cannot match",
            list.path.display()
        );
    }
}

/// `1 withdrawn, 2 deleted`: what a list's publisher took back, by kind.
pub fn removed_summary(list: &HashList) -> String {
    let counts = list.removed_counts();
    let parts: Vec<String> = counts.iter().map(|(kind, n)| format!("{n} {kind}")).collect();
    parts.join(", ")
}
