//! The flags behind the library's settings, as the binary's messages name them.
//!
//! The library says a limit plainly ("over the 1000 limit"), or names an option in its own
//! words (`LoadOptions::format`), and marks which setting it is; here each such setting gets
//! the flag a person would change. Must not word messages otherwise: the text is the
//! library's, but for the one flag whose unit is not the library's (`--flood-percent`).

use anyhow::anyhow;
use mediascreen::error::{Error, FileError, Setting};

/// The flag that sets `setting`, as it is named after a limit or in place of the library's
/// words for the setting; `None` for a setting no flag changes as the library takes it.
pub fn flag(setting: Setting) -> Option<String> {
    let flag = match setting {
        Setting::MaxPixels => "--max-pixels",
        Setting::MaxFileSize => "--max-file-size",
        Setting::MaxVideoSeconds => "--max-video-seconds",
        Setting::FileTimeout => "--file-timeout",
        Setting::FollowSymlinks => "use --follow-symlinks",
        Setting::MaxFiles => "--max-files",
        Setting::MaxScanSize => "--max-scan-size",
        Setting::Shard => "--shard",
        Setting::ListFormat => "--list-format",
        Setting::ListAlgorithm => "--list-algorithm",
        Setting::StrictLists => "--strict",
        Setting::Allowlist => "--allow",
        Setting::PdqMinQuality => "--pdq-min-quality",
        Setting::VideoQueryPct => "--vpdq-query-pct",
        Setting::VideoListedPct => "--vpdq-listed-pct",
        Setting::VideoMinQuality => "--vpdq-min-quality",
        Setting::SecondsPerHash => "--vpdq-interval",
        Setting::ArchiveDepth => "--max-archive-depth",
        Setting::ArchiveMembers => "--max-archive-members",
        Setting::ArchiveExpanded => "--max-archive-size",
        Setting::ArchiveRatio => "--max-archive-ratio",
        _ => return None,
    };
    Some(flag.to_string())
}

/// A library error with the settings it points to named by their flags.
pub fn named(mut error: Error) -> Error {
    error.name_settings(flag);
    error
}

/// An option the library refused, as the binary says it. `--flood-percent` gives the flood
/// share in percent, so its range is said in percent.
pub fn refused(error: Error) -> anyhow::Error {
    match error {
        Error::Setting { which: Setting::FloodShare, .. } => {
            anyhow!("--flood-percent must be between 0 and 100")
        }
        error => named(error).into(),
    }
}

/// `error` as a person reads it from the binary: with the flag of its setting.
pub fn described(error: &FileError) -> String {
    let mut error = error.clone();
    error.reason.name_setting(flag);
    error.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mediascreen::decode::timed_out;

    #[test]
    fn a_limit_is_named_by_its_flag_where_the_text_refers_to_it() {
        let error = timed_out(std::time::Duration::from_secs(3));
        assert_eq!(
            described(&error),
            "decoding took longer than the 3 s time limit (--file-timeout); abandoned"
        );
    }
}
