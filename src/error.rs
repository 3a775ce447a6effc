//! The library's errors: [`Error`] for failures that stop a run, [`FileError`] for one file.
//!
//! [`Error`] is what makes a run meaningless: a hash list that cannot be read or parsed, a
//! bad setting, reports that cannot be merged. Problems with one scanned file are
//! [`FileError`]s instead: they become that file's outcome ([`crate::scan::Outcome::Error`])
//! and the scan goes on. Both are sorted by who is at fault and what a caller can do. Must
//! not name the binary's flags: a message points to a [`Setting`], which the binary names.

use std::ops::Range;
use std::path::PathBuf;

/// A failure that stops a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file the run depends on (a hash list) could not be read.
    #[error("{}: {}", path.display(), io_reason(error))]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said; in the message already, so not a `source` that
        /// a chain of causes would print a second time.
        error: std::io::Error,
    },
    /// A hash list has a line that does not parse; printed the way compilers print, so
    /// editors can jump to it (`FILE:LINE: reason`, or `FILE: reason` for the whole file).
    #[error("{}", located(path, *line, reason))]
    HashList {
        /// The list file.
        path: PathBuf,
        /// 1-based line number (0 when the problem is the file as a whole).
        line: u64,
        /// What is wrong with it, pointing to the load option that would settle it, if one
        /// would ([`LoadOptions`](crate::hashlist::LoadOptions)).
        reason: Reason,
    },
    /// An option's value is out of its range, as a check of the options found
    /// ([`MatchOptions::check`](crate::matcher::MatchOptions::check), which
    /// [`Matcher::new`](crate::matcher::Matcher::new) runs;
    /// [`VideoLimits::check`](crate::decode::video::VideoLimits::check);
    /// [`check_seconds_per_hash`](crate::matcher::MatchOptions::check_seconds_per_hash)).
    #[error("{reason}")]
    Setting {
        /// The option.
        which: Setting,
        /// What it must be, the option named in the library's words.
        reason: Reason,
    },
    /// A value that is not a setting's (a shard, a glob) does not parse.
    #[error("{0}")]
    Config(String),
    /// Reports given to be merged are not shards of one scan.
    #[error("{0}")]
    Merge(Reason),
    /// A report cannot be made into a review page: it is not a report this version reads, or
    /// previews were asked of one whose paths are redacted.
    #[error("{0}")]
    ReviewPage(Reason),
}

impl Error {
    /// [`Error::Setting`]: `words`, the library's name for `which`, then what it `must` be.
    pub(crate) fn setting(which: Setting, words: &str, must: &str) -> Error {
        Error::Setting { which, reason: Reason::calling(which, "", words, must) }
    }

    /// Names the settings the error points to by what `name` calls them (the binary's
    /// flags), as [`Reason::name_setting`] does.
    pub fn name_settings(&mut self, name: impl Fn(Setting) -> Option<String>) {
        if let Error::HashList { reason, .. }
        | Error::Setting { reason, .. }
        | Error::Merge(reason)
        | Error::ReviewPage(reason) = self
        {
            reason.name_setting(name);
        }
    }
}

/// `FILE:LINE: reason`, without a line when it is 0 (the file as a whole).
fn located(path: &std::path::Path, line: u64, reason: &Reason) -> String {
    match line {
        0 => format!("{}: {reason}", path.display()),
        _ => format!("{}:{line}: {reason}", path.display()),
    }
}

/// What the operating system said, in words a person reads: the common cases without
/// Rust's `(os error N)`, which only repeats the kind.
fn io_reason(error: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match error.kind() {
        NotFound => "no such file".to_string(),
        PermissionDenied => "permission denied".to_string(),
        IsADirectory => "a folder, not a file".to_string(),
        _ => error.to_string(),
    }
}

/// Result alias for the library.
pub type Result<T> = std::result::Result<T, Error>;

/// A setting that a message can point to: the limit a file hit, what would have had a path
/// read, the load option that would settle a list's problem, the option a constructor
/// refused. The library's text says it plainly; a program that has its own names for
/// settings (the binary's flags) gives them with [`Reason::name_setting`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Setting {
    /// [`DecodeLimits::max_pixels`](crate::decode::DecodeLimits::max_pixels), which also
    /// bounds the memory a video decoder may hold.
    MaxPixels,
    /// The fixed bounds on a picture's sides and a decoder's allocations
    /// ([`DecodeLimits::max_dimension`](crate::decode::DecodeLimits::max_dimension),
    /// [`max_alloc`](crate::decode::DecodeLimits::max_alloc)).
    DecodeBounds,
    /// [`HashOptions::max_file_size`](crate::scan::HashOptions::max_file_size).
    MaxFileSize,
    /// [`VideoLimits::max_seconds`](crate::decode::video::VideoLimits::max_seconds).
    MaxVideoSeconds,
    /// [`VideoLimits::timeout`](crate::decode::video::VideoLimits::timeout).
    FileTimeout,
    /// [`ScanOptions::follow_symlinks`](crate::scan::ScanOptions::follow_symlinks).
    FollowSymlinks,
    /// [`ScanOptions::max_files`](crate::scan::ScanOptions::max_files).
    MaxFiles,
    /// [`ScanOptions::max_scan_size`](crate::scan::ScanOptions::max_scan_size).
    MaxScanSize,
    /// [`Filter::shard`](crate::walk::Filter::shard): a scan split between workers.
    Shard,
    /// [`LoadOptions::format`](crate::hashlist::LoadOptions::format).
    ListFormat,
    /// [`LoadOptions::algorithm`](crate::hashlist::LoadOptions::algorithm).
    ListAlgorithm,
    /// [`LoadOptions::strict`](crate::hashlist::LoadOptions::strict).
    StrictLists,
    /// [`LoadOptions::allowlist`](crate::hashlist::LoadOptions::allowlist).
    Allowlist,
    /// One of [`MatchOptions::thresholds`](crate::matcher::MatchOptions::thresholds).
    Threshold(crate::hash::Algorithm),
    /// [`MatchOptions::pdq_min_quality`](crate::matcher::MatchOptions::pdq_min_quality).
    PdqMinQuality,
    /// [`MatchOptions::flood_share`](crate::matcher::MatchOptions::flood_share).
    FloodShare,
    /// [`VideoMatchOptions::query_pct`](crate::matcher::VideoMatchOptions::query_pct).
    VideoQueryPct,
    /// [`VideoMatchOptions::listed_pct`](crate::matcher::VideoMatchOptions::listed_pct).
    VideoListedPct,
    /// [`VideoMatchOptions::min_quality`](crate::matcher::VideoMatchOptions::min_quality).
    VideoMinQuality,
    /// The vPDQ sampling interval:
    /// [`HashOptions::seconds_per_hash`](crate::scan::HashOptions::seconds_per_hash), and the
    /// [`VideoMatchOptions::seconds_per_hash`](crate::matcher::VideoMatchOptions::seconds_per_hash)
    /// it is matched at.
    SecondsPerHash,
    /// [`ArchiveLimits::max_depth`](crate::archive::ArchiveLimits::max_depth).
    ArchiveDepth,
    /// [`ArchiveLimits::max_members`](crate::archive::ArchiveLimits::max_members).
    ArchiveMembers,
    /// [`ArchiveLimits::max_expanded`](crate::archive::ArchiveLimits::max_expanded).
    ArchiveExpanded,
    /// [`ArchiveLimits::max_ratio`](crate::archive::ArchiveLimits::max_ratio).
    ArchiveRatio,
}

/// Why something failed (a file was not fully screened, a list did not load, an option was
/// refused), as a person reads it, with the places where the settings behind it may be named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    text: String,
    /// The settings the text points to, in order.
    marks: Vec<Mark>,
}

/// Where a [`Reason`]'s text points to a setting.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Mark {
    setting: Setting,
    /// The library's words for the setting in the text, which its name replaces; or, when
    /// empty, the place its name is added at, in parentheses.
    words: Range<usize>,
    /// The name a program gave the setting.
    name: Option<String>,
}

impl Reason {
    /// A reason that points to no setting.
    pub fn new(text: impl Into<String>) -> Reason {
        Reason { text: text.into(), marks: Vec::new() }
    }

    /// `head`, `words` (the library's words for `setting`), then `tail`; once a program
    /// names the setting, its name stands in place of the words.
    pub(crate) fn calling(setting: Setting, head: &str, words: &str, tail: &str) -> Reason {
        let start = head.len();
        let text = format!("{head}{words}{tail}");
        let mark = Mark { setting, words: start..start + words.len(), name: None };
        Reason { text, marks: vec![mark] }
    }

    /// `head` then `tail`, naming `setting` between them once a program names it.
    pub(crate) fn naming(setting: Setting, head: impl Into<String>, tail: &str) -> Reason {
        let mut text = head.into();
        let at = text.len();
        text.push_str(tail);
        Reason { text, marks: vec![Mark { setting, words: at..at, name: None }] }
    }

    /// The (first) setting the reason points to, if any.
    pub fn setting(&self) -> Option<Setting> {
        self.marks.first().map(|mark| mark.setting)
    }

    /// Names the reason's settings by what `name` calls them (a flag, say): in place of the
    /// library's words for one, or in parentheses where the text refers to it. A setting it
    /// gives no name keeps the plain text.
    pub fn name_setting(&mut self, name: impl Fn(Setting) -> Option<String>) {
        for mark in &mut self.marks {
            mark.name = name(mark.setting);
        }
    }

    /// This reason, `separator`, then `then`: two reasons told as one, each keeping the
    /// places of its settings.
    pub(crate) fn joined(mut self, separator: &str, then: Reason) -> Reason {
        self.text.push_str(separator);
        let offset = self.text.len();
        self.text.push_str(&then.text);
        let shifted = then
            .marks
            .into_iter()
            .map(|mark| Mark { words: mark.words.start + offset..mark.words.end + offset, ..mark });
        self.marks.extend(shifted);
        self
    }

    /// The reason after `prefix` (what it happened to: `frame 3: `).
    pub(crate) fn prefixed(self, prefix: &str) -> Reason {
        Reason::new(prefix).joined("", self)
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut from = 0;
        for Mark { words, name, .. } in &self.marks {
            let Some(name) = name else { continue };
            f.write_str(&self.text[from..words.start])?;
            if words.is_empty() {
                write!(f, " ({name})")?;
            } else {
                f.write_str(name)?;
            }
            from = words.end;
        }
        f.write_str(&self.text[from..])
    }
}

impl From<String> for Reason {
    fn from(text: String) -> Reason {
        Reason::new(text)
    }
}

impl From<&str> for Reason {
    fn from(text: &str) -> Reason {
        Reason::new(text)
    }
}

/// What kind of problem kept one file from being (fully) screened: who is at fault, and so
/// what a caller can do about it. The report gives it as `kind` ([`FileErrorKind::name`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileErrorKind {
    /// The file could not be found, opened or read, or changed while it was scanned, or is
    /// on a pseudo file system: try again, or look at the file system.
    Io,
    /// A recognised picture format that nothing here decodes: only its digests were matched.
    Unsupported {
        /// Its MIME type.
        media_type: String,
    },
    /// A tool that would decode the file is not installed.
    NeedsTool {
        /// The tool (`ffmpeg`).
        tool: &'static str,
    },
    /// The file, or what it decodes to, is over a limit: raise the setting to screen it.
    Limit {
        /// Which.
        which: Setting,
    },
    /// Decoding took longer than the time allowed.
    Timeout,
    /// The data is truncated or damaged (a cut-off JPEG, frames missing from a video): what
    /// decoded may still have been matched.
    Corrupt,
    /// A decoder (or mediascreen itself) panicked on the file: a bug to report.
    DecoderPanic,
    /// An archive or archive member that needs a password: not screened.
    Encrypted,
    /// A bucket refused the credentials, or they do not allow reading: fix the credentials
    /// or the bucket's policy.
    AccessDenied,
    /// A bucket's server or the network failed (after retries), or a body came back cut
    /// short: try again.
    Remote,
    /// `rescreen`: the hash store holds no hashes of the file's content for an algorithm the
    /// lists need (or none at all): scan the file again with the store to add them.
    NotInStore,
}

impl FileErrorKind {
    /// The kind's stable snake_case name, as the report gives it.
    pub fn name(&self) -> &'static str {
        match self {
            FileErrorKind::Io => "io",
            FileErrorKind::Unsupported { .. } => "unsupported",
            FileErrorKind::NeedsTool { .. } => "needs_tool",
            FileErrorKind::Limit { .. } => "limit",
            FileErrorKind::Timeout => "timeout",
            FileErrorKind::Corrupt => "corrupt",
            FileErrorKind::DecoderPanic => "decoder_panic",
            FileErrorKind::Encrypted => "encrypted",
            FileErrorKind::AccessDenied => "access_denied",
            FileErrorKind::Remote => "remote",
            FileErrorKind::NotInStore => "not_in_store",
        }
    }
}

/// Why one file could not be (fully) screened: its kind, and the text a person reads.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct FileError {
    /// What kind of problem it is.
    pub kind: FileErrorKind,
    /// What happened, in words.
    pub reason: Reason,
}

impl FileError {
    /// An error of `kind` that points to no setting.
    pub fn new(kind: FileErrorKind, text: impl Into<String>) -> FileError {
        FileError { kind, reason: Reason::new(text) }
    }

    /// [`FileErrorKind::Io`].
    pub(crate) fn io(text: impl std::fmt::Display) -> FileError {
        FileError::new(FileErrorKind::Io, text.to_string())
    }

    /// [`FileErrorKind::Corrupt`].
    pub(crate) fn corrupt(text: impl std::fmt::Display) -> FileError {
        FileError::new(FileErrorKind::Corrupt, text.to_string())
    }

    /// Over the limit `which`: `head`, where the setting is named, then `tail`.
    pub(crate) fn limit(which: Setting, head: impl Into<String>, tail: &str) -> FileError {
        FileError {
            kind: FileErrorKind::Limit { which },
            reason: Reason::naming(which, head, tail),
        }
    }

    /// What the `image` crate said: a limit of [`Setting::DecodeBounds`], else damage.
    pub(crate) fn image(error: image::ImageError) -> FileError {
        let text = error.to_string();
        match error {
            image::ImageError::Limits(_) => FileError::limit(Setting::DecodeBounds, text, ""),
            _ => FileError::corrupt(text),
        }
    }

    /// The error after `prefix` (what it happened to: `frame 3: `).
    pub(crate) fn prefixed(self, prefix: &str) -> FileError {
        FileError { kind: self.kind, reason: self.reason.prefixed(prefix) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_setting_of_a_joined_reason_is_named_where_its_text_refers_to_it() {
        let pixels = Reason::naming(Setting::MaxPixels, "over the 10 limit", ": not decoded");
        let time = Reason::naming(Setting::FileTimeout, "past the 3 s limit", "");
        let mut joined = pixels.joined("; ffmpeg: ", time).prefixed("frame 0: ");
        let plain = "frame 0: over the 10 limit: not decoded; ffmpeg: past the 3 s limit";
        assert_eq!(joined.to_string(), plain);
        assert_eq!(joined.setting(), Some(Setting::MaxPixels));
        joined.name_setting(|s| (s == Setting::MaxPixels).then(|| "-p".to_string()));
        let named = "frame 0: over the 10 limit (-p): not decoded; ffmpeg: past the 3 s limit";
        assert_eq!(joined.to_string(), named);
        joined.name_setting(|s| Some(format!("{s:?}")));
        assert!(joined.to_string().ends_with("past the 3 s limit (FileTimeout)"), "{joined}");
    }

    #[test]
    fn a_settings_name_stands_in_place_of_the_librarys_words_for_it() {
        let format = Reason::calling(Setting::ListFormat, "name it with ", "the format", "");
        let mut reason = Reason::new("cannot tell; ").joined("", format);
        assert_eq!(reason.to_string(), "cannot tell; name it with the format");
        reason.name_setting(|_| Some("--list-format".to_string()));
        assert_eq!(reason.to_string(), "cannot tell; name it with --list-format");
    }
}
