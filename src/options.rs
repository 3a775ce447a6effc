//! The options of a scan: how files are found ([`ScanOptions`]) and how each is decoded and
//! hashed ([`HashOptions`]).
//!
//! Owns only the settings and their defaults, below both the scan that follows them and the
//! report that records them (re-exported as `scan::ScanOptions` and `scan::HashOptions`).
//! Must not look for anything on the machine (the defaults find no decoder and no ffmpeg)
//! and must not import `scan` or `report`.

use crate::archive::ArchiveLimits;
use crate::decode::video::{Ffmpeg, VideoLimits};
use crate::decode::Decoders;
use crate::walk::Filter;

/// How files are found and read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScanOptions {
    /// Follow symbolic links while walking. Off by default: a link can lead out of the tree
    /// the operator meant to scan.
    pub follow_symlinks: bool,
    /// Worker threads; 0 means one per CPU.
    pub threads: usize,
    /// Which paths under the roots are walked at all.
    pub filter: Filter,
    /// How each file is decoded and hashed.
    pub hashing: HashOptions,
    /// Scan at most this many files; the rest are reported as skipped.
    pub max_files: Option<u64>,
    /// Scan files (in walk order) until their sizes add up to this many bytes; the rest are
    /// reported as skipped.
    pub max_scan_size: Option<u64>,
    /// Bucket objects fetched at once, ahead of the workers; 0 means the default
    /// ([`DEFAULT_IO_CONCURRENCY`]).
    pub io_concurrency: usize,
    /// Objects named by S3 event notifications (`--s3-event`), screened after the roots, at
    /// the versions the events name.
    pub objects: Vec<crate::bucket::event::EventObject>,
    /// The hash store (`--store`): files unchanged since it recorded them are not opened,
    /// known contents not decoded, and what is computed is recorded.
    pub store: Option<crate::store::Shared>,
}

/// Requests in flight to a bucket by default: enough to hide a cloud store's latency
/// (tens of ms per object) behind a CI runner's few cores.
pub const DEFAULT_IO_CONCURRENCY: usize = 16;

/// How one file is decoded and hashed.
#[derive(Clone, Debug, PartialEq)]
pub struct HashOptions {
    /// Limits for decoding one file: every picture, still or frame (`image`), the time any
    /// decoder may take (`timeout`) and how much of a video is screened.
    /// One set, so a still image and a video frame are bounded alike.
    pub video: VideoLimits,
    /// vPDQ sampling: one frame hashed per this many seconds of video; 0 hashes every frame.
    pub seconds_per_hash: f64,
    /// Files larger than this are not decoded (nor held in memory): their digests are
    /// streamed and matched, and a picture or video among them is reported as an error.
    pub max_file_size: u64,
    /// Which decoders read JPEG and still WebP files.
    pub decoders: Decoders,
    /// How deep, and how far, archives and compressed files are opened.
    pub archive: ArchiveLimits,
    /// The ffmpeg that decodes what is not decoded in-process (VP9, HEVC, WebM…; see
    /// [`crate::decode::video::decode_video`]), e.g. [`Ffmpeg::detect`]'s; with `None`, such
    /// a file is an error that says ffmpeg would decode it.
    pub ffmpeg: Option<Ffmpeg>,
}

impl Default for HashOptions {
    /// One hash per second, as python-threatexchange and HMA hash videos; files up to 1 GiB
    /// decoded (each worker holds the file it decodes in memory); the built-in decoders only,
    /// and no ffmpeg: nothing is looked for on the machine unless the caller does
    /// ([`Decoders::detect`], [`Ffmpeg::detect`]).
    fn default() -> Self {
        HashOptions {
            video: VideoLimits::default(),
            seconds_per_hash: 1.0,
            max_file_size: 1 << 30,
            decoders: Decoders::default(),
            archive: ArchiveLimits::default(),
            ffmpeg: None,
        }
    }
}
