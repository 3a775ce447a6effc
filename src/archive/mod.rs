//! Opening archives and compressed files in memory: ZIP (and the Office, OpenDocument and EPUB
//! files that are ZIPs), tar, 7z, and gzip-, bzip2-, xz- and zstd-compressed files (a tar
//! inside one is opened as the tar).
//!
//! Owns telling which containers can be opened ([`format()`]), reading their members one after
//! the other, each as a [`Entry`] handed to the caller with a reader of its bytes, and the
//! bounds on what a container may expand to ([`ArchiveLimits`], enforced by [`Meter`] on the
//! bytes the decompressors actually produce, never on the sizes the archive declares).
//!
//! Must not: write anything anywhere (nothing is ever extracted to disk: members are read
//! into memory or streamed), follow a link or a path a member names, decide what a member is
//! (the scan sniffs its bytes), or stop at a damaged member when the ones after it can still
//! be read. Everything a container holds that is not read into the caller's hands is an
//! [`Entry`] of its own with the reason, so the caller can report it.

mod sevenz;
mod stream;
mod zip;

use std::cell::Cell;
use std::io::{self, Read, Seek};

use crate::error::{FileError, FileErrorKind, Setting};

/// The bounds on opening containers, after ClamAV's (MaxRecursion, MaxFiles, MaxScanSize and
/// its bomb heuristics). A member or container that one of them kept from being screened is
/// reported as an error naming it, never as clean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Containers are opened this many levels deep: 1 opens an archive but not the archives
    /// inside it; 0 opens none.
    pub max_depth: u32,
    /// Members read from one container; those after are not screened.
    pub max_members: u64,
    /// Bytes expanded from one file given to the scan, over all the containers nested in it.
    pub max_expanded: u64,
    /// A member (or compressed stream) expanding to more than this many times its compressed
    /// size, once past [`RATIO_FLOOR`], is a bomb and not read further.
    pub max_ratio: u64,
}

impl Default for ArchiveLimits {
    /// 16 levels (ClamAV's MaxRecursion); 100,000 members (a chat export holds thousands of
    /// media; ClamAV's 10,000 would cut big ones short); 64 GiB expanded, as members are read
    /// one at a time and never all held; a ratio of 100, far above what photos, videos and
    /// chat logs compress by.
    fn default() -> Self {
        ArchiveLimits {
            max_depth: 16,
            max_members: 100_000,
            max_expanded: 64 << 30,
            max_ratio: 100,
        }
    }
}

/// Expansion below this many bytes is never called a bomb: a small text file compresses by
/// more than any sane ratio.
pub const RATIO_FLOOR: u64 = 1 << 20;

/// A container that can be opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// ZIP, and the formats made of one (Office, OpenDocument, EPUB, Chrome extensions).
    Zip,
    /// A tar archive.
    Tar,
    /// A 7z archive.
    SevenZ,
    /// One gzip-compressed file (or tar).
    Gzip,
    /// One bzip2-compressed file (or tar).
    Bzip2,
    /// One xz-compressed file (or tar).
    Xz,
    /// One zstd-compressed file (or tar).
    Zstd,
}

/// The container format of a file of `media_type` (as `sniff` types it), if it is one this
/// module opens.
pub fn format(media_type: &str) -> Option<Format> {
    Some(match media_type {
        "application/zip"
        | "application/epub+zip"
        | "application/x-google-chrome-extension"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.openxmlformats-officedocument.presentationml.presentation"
        | "application/vnd.oasis.opendocument.text"
        | "application/vnd.oasis.opendocument.spreadsheet"
        | "application/vnd.oasis.opendocument.presentation" => Format::Zip,
        "application/x-tar" => Format::Tar,
        "application/x-7z-compressed" => Format::SevenZ,
        "application/gzip" => Format::Gzip,
        "application/x-bzip2" => Format::Bzip2,
        "application/x-xz" => Format::Xz,
        "application/zstd" => Format::Zstd,
        _ => return None,
    })
}

/// One member of a container, as it is read.
pub struct Entry<'a> {
    /// Its name in the container, as stored (a path with `/`, possibly with `..` or a
    /// leading `/`, which nothing here follows).
    pub name: String,
    /// What it is.
    pub kind: EntryKind<'a>,
}

/// What a member is.
pub enum EntryKind<'a> {
    /// A regular file: its bytes, through the [`Meter`] the caller gave.
    File {
        /// The member's bytes.
        data: &'a mut dyn Read,
    },
    /// Not a file with contents of its own (a link, a device): never read, with why.
    NotAFile(String),
    /// A member that cannot be read (encrypted, an unknown compression method, a damaged
    /// header), with why.
    Unreadable(FileError),
}

/// What the caller wants after an [`Entry`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// The next member.
    Next,
    /// The next member, though this one's bytes were not all read (the limit named cut them
    /// off): they must not be decompressed to skip them (a bomb would go off), so a stream
    /// ends here.
    Abandoned(Setting),
    /// No more members.
    Stop,
}

/// Reads the members of `source`, a container of `format` (in memory, or a file on disk too
/// big to hold), in their order, handing each to `visit`. `name` is the container's own
/// name, for a compressed file's one member. Every member's bytes come through `meter`.
/// `Err` is why the container could not be read (to the end): damaged, encrypted as a whole,
/// or cut off; members already handed over stand.
pub fn open<R: Read + Seek>(
    format: Format,
    source: R,
    name: &str,
    meter: &Meter,
    visit: &mut dyn FnMut(Entry) -> Flow,
) -> Result<(), FileError> {
    match format {
        Format::Zip => zip::open(source, meter, visit),
        Format::Tar => stream::tar(source, meter, visit),
        Format::SevenZ => sevenz::open(source, meter, visit),
        Format::Gzip | Format::Bzip2 | Format::Xz | Format::Zstd => {
            stream::compressed(format, source, name, meter, visit)
        }
    }
}

/// Counts what the containers of one file given to the scan expand to, and stops a member at
/// the first byte past a limit. One per top-level file, shared by the containers nested in
/// it, read in order on one thread, so where a limit cuts does not depend on threads.
#[derive(Debug)]
pub struct Meter {
    limits: ArchiveLimits,
    expanded: Cell<u64>,
    /// The limit that stopped the last read, as read errors lose their payload on the way
    /// through the decompressors.
    tripped: Cell<Option<Tripped>>,
}

/// Which bound a read ran into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tripped {
    /// [`ArchiveLimits::max_expanded`].
    Expanded,
    /// [`ArchiveLimits::max_ratio`].
    Ratio,
}

impl Meter {
    /// A meter for one file given to the scan.
    pub fn new(limits: ArchiveLimits) -> Meter {
        Meter { limits, expanded: Cell::new(0), tripped: Cell::new(None) }
    }

    /// The limits it enforces.
    pub fn limits(&self) -> &ArchiveLimits {
        &self.limits
    }

    /// Bytes expanded so far.
    pub fn expanded(&self) -> u64 {
        self.expanded.get()
    }

    /// Takes the limit the last failed read ran into, if a limit (not damage) failed it.
    pub fn take_tripped(&self) -> Option<Tripped> {
        self.tripped.take()
    }

    /// `data`, read through the limits. `compressed` is what the bytes were expanded from, if
    /// known: a member's compressed size, or a running count of a stream's input.
    pub fn reader<'r>(&'r self, data: &'r mut dyn Read, compressed: Compressed<'r>) -> Metered<'r> {
        Metered { meter: self, data, compressed, produced: 0 }
    }

    /// The error of a member (or container) that `tripped` stopped after `read` bytes.
    pub fn limit_error(&self, tripped: Tripped, read: u64) -> FileError {
        match tripped {
            Tripped::Expanded => FileError::limit(
                Setting::ArchiveExpanded,
                format!(
                    "the archive expanded past the {}-byte limit here (after {read} bytes of \
                     this member)",
                    self.limits.max_expanded
                ),
                ": not screened",
            ),
            Tripped::Ratio => FileError::limit(
                Setting::ArchiveRatio,
                format!(
                    "expands to more than {} times its compressed size (a decompression \
                     bomb?); stopped after {read} bytes",
                    self.limits.max_ratio
                ),
                ": not screened",
            ),
        }
    }
}

/// What a member's bytes are expanded from, for the ratio guard.
#[derive(Clone, Copy)]
pub enum Compressed<'r> {
    /// Not compressed, or unknown (a member of a solid 7z block).
    Unknown,
    /// This many bytes, as the container declares them for this member.
    Declared(u64),
    /// A count of the compressed stream's input so far, against the member's output so far.
    Counted(&'r Cell<u64>),
}

/// A member's bytes, read through a [`Meter`].
pub struct Metered<'r> {
    meter: &'r Meter,
    data: &'r mut dyn Read,
    compressed: Compressed<'r>,
    produced: u64,
}

impl Read for Metered<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let meter = self.meter;
        let room = meter.limits.max_expanded.saturating_sub(meter.expanded.get());
        // One byte past the room, to tell a member that ends exactly at the limit from one
        // that goes past it.
        let want = buffer.len().min(usize::try_from(room.saturating_add(1)).unwrap_or(usize::MAX));
        let read = self.data.read(&mut buffer[..want])?;
        let read_u64 = read as u64;
        if read_u64 > room {
            return Err(self.trip(Tripped::Expanded));
        }
        meter.expanded.set(meter.expanded.get() + read_u64);
        self.produced += read_u64;
        let compressed = match self.compressed {
            Compressed::Unknown => None,
            Compressed::Declared(size) => Some(size),
            Compressed::Counted(count) => Some(count.get()),
        };
        if let Some(compressed) = compressed {
            if self.produced > RATIO_FLOOR
                && self.produced / compressed.max(1) >= meter.limits.max_ratio
            {
                return Err(self.trip(Tripped::Ratio));
            }
        }
        Ok(read)
    }
}

impl Metered<'_> {
    fn trip(&self, tripped: Tripped) -> io::Error {
        self.meter.tripped.set(Some(tripped));
        io::Error::other("archive limit")
    }
}

/// A reader that counts the bytes read through it into a shared cell: a compressed stream's
/// input, for the ratio guard.
pub(crate) struct Counting<'c, R> {
    inner: R,
    count: &'c Cell<u64>,
}

impl<'c, R: Read> Counting<'c, R> {
    pub(crate) fn new(inner: R, count: &'c Cell<u64>) -> Self {
        Counting { inner, count }
    }
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.count.set(self.count.get() + read as u64);
        Ok(read)
    }
}

/// A member or container that needs a password: never screened, whatever the scan.
pub(crate) fn encrypted(what: &str) -> FileError {
    FileError::new(
        FileErrorKind::Encrypted,
        format!("{what} is encrypted: it cannot be screened without its password"),
    )
}

/// A damaged container or member.
pub(crate) fn damaged(what: &str, error: impl std::fmt::Display) -> FileError {
    FileError::corrupt(format!("{what} is damaged: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_meter_stops_a_member_at_the_first_byte_past_the_expansion_limit() {
        let limits = ArchiveLimits { max_expanded: 10, ..ArchiveLimits::default() };
        let meter = Meter::new(limits);
        let mut ten: &[u8] = &[7; 10];
        let mut read = Vec::new();
        meter.reader(&mut ten, Compressed::Unknown).read_to_end(&mut read).unwrap();
        assert_eq!(read.len(), 10, "exactly at the limit is fine");
        let mut one: &[u8] = &[7];
        let error = meter.reader(&mut one, Compressed::Unknown).read_to_end(&mut Vec::new());
        assert!(error.is_err());
        assert_eq!(meter.take_tripped(), Some(Tripped::Expanded));
    }

    #[test]
    fn a_meter_calls_a_bomb_a_bomb_only_past_the_floor() {
        let meter = Meter::new(ArchiveLimits::default());
        let zeros = vec![0u8; RATIO_FLOOR as usize];
        let mut data: &[u8] = &zeros;
        // 1 MiB from 1 byte is under the floor, whatever the ratio.
        meter.reader(&mut data, Compressed::Declared(1)).read_to_end(&mut Vec::new()).unwrap();
        let more = vec![0u8; 2 * RATIO_FLOOR as usize];
        let mut data: &[u8] = &more;
        let error =
            meter.reader(&mut data, Compressed::Declared(1000)).read_to_end(&mut Vec::new());
        assert!(error.is_err());
        assert_eq!(meter.take_tripped(), Some(Tripped::Ratio));
    }
}
