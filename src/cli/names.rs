//! The flags behind the library's settings, as the binary's messages name them.
//!
//! The library says a limit plainly ("over the 1000 limit") and marks which setting it is;
//! here each such setting gets the flag a person would change. Must not word messages
//! otherwise: the text is the library's.

use mediascreen::error::{FileError, Setting};

/// The flag that sets `setting`, as it is named in parentheses after the limit; `None` for a
/// setting no flag changes.
pub fn flag(setting: Setting) -> Option<String> {
    let flag = match setting {
        Setting::MaxPixels => "--max-pixels",
        Setting::MaxFileSize => "--max-file-size",
        Setting::MaxVideoSeconds => "--max-video-seconds",
        Setting::FileTimeout => "--file-timeout",
        Setting::FollowSymlinks => "use --follow-symlinks",
        Setting::MaxFiles => "--max-files",
        Setting::MaxScanSize => "--max-scan-size",
        _ => return None,
    };
    Some(flag.to_string())
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
