//! The flags of how files are read and decoded, shared by `scan` and `hash`, and the
//! [`HashOptions`] they make. Must not look for tools on the machine but through
//! [`Decoders::detect`] (ffmpeg is found by the command, once its Ctrl-C handler is set).

use std::time::Duration;

use anyhow::Result;
use clap::Args as ClapArgs;
use mediascreen::archive::ArchiveLimits;
use mediascreen::decode::system::SystemDecoders;
use mediascreen::decode::video::VideoLimits;
use mediascreen::decode::{DecodeLimits, Decoders};
use mediascreen::matcher::MatchOptions;
use mediascreen::scan::HashOptions;

use super::names::refused;
use super::parse::parse_size;

/// How files are decoded; shared by `scan` and `hash`.
#[derive(Debug, ClapArgs)]
pub struct DecodeArgs {
    /// vPDQ sampling: hash one video frame per this many seconds (0 = every frame). Lists
    /// made at one interval match scans at another, less closely the further apart they are.
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0, help_heading = "Performance")]
    pub vpdq_interval: f64,
    /// Read at most this much of each video; a longer one is an error (what came before
    /// still counts).
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0 * 3600.0, help_heading = "Limits")]
    pub max_video_seconds: f64,
    /// Give up decoding a video after this many seconds of wall-clock time; it is an error
    /// (what was decoded still counts).
    #[arg(long, value_name = "SECONDS", default_value_t = 1800, help_heading = "Limits")]
    pub file_timeout: u64,
    /// Files larger than this (bytes; K, M, G suffixes) are not decoded, only digested; a
    /// picture or video among them is an error.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size, help_heading = "Limits")]
    pub max_file_size: u64,
    /// Pictures, animation canvases and frames, and video frames of more pixels than this are
    /// not decoded and are errors: a decompression bomb is refused from its header. It also
    /// sets the memory budget (docs/memory.md).
    #[arg(long, value_name = "N", default_value_t = 200_000_000, help_heading = "Limits")]
    pub max_pixels: u64,
    /// Open archives (ZIP, tar, 7z, gzip…) nested at most this deep; an archive deeper down is
    /// an error (its own digests still count), as is one when 0.
    #[arg(long, value_name = "N", default_value_t = 16, help_heading = "Limits")]
    pub max_archive_depth: u32,
    /// Screen at most this many members of one archive; one with more is an error.
    #[arg(long, value_name = "N", default_value_t = 100_000, help_heading = "Limits")]
    pub max_archive_members: u64,
    /// Expand at most this many bytes (K, M, G, T suffixes) from one file given to the scan,
    /// over all the archives nested in it; members past it are errors. Members are held in
    /// memory one at a time (and up to --max-file-size each), never written to disk.
    #[arg(long, value_name = "SIZE", default_value = "64G", value_parser = parse_size, help_heading = "Limits")]
    pub max_archive_size: u64,
    /// An archive member expanding to more than this many times its compressed size (past
    /// 1 MiB) is a decompression bomb: not read further, an error.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..), help_heading = "Limits")]
    pub max_archive_ratio: u64,
    /// Decode JPEG and WebP with the built-in Rust decoders even where the system has
    /// libjpeg-turbo and libwebp, which are otherwise used, being faster. The built-in
    /// decoders are memory-safe on hostile files and give the same pixels on every machine.
    /// HEIC, HEIF and AVIF, which have no built-in decoder, are still decoded by libheif.
    #[arg(long, help_heading = "Performance")]
    pub builtin_decoders: bool,
}

impl DecodeArgs {
    pub(super) fn options(&self) -> Result<HashOptions> {
        MatchOptions::check_seconds_per_hash(self.vpdq_interval).map_err(refused)?;
        let video = VideoLimits {
            max_seconds: self.max_video_seconds,
            timeout: Duration::from_secs(self.file_timeout),
            image: DecodeLimits { max_pixels: self.max_pixels, ..DecodeLimits::default() },
        };
        video.check().map_err(refused)?;
        Ok(HashOptions {
            video,
            seconds_per_hash: self.vpdq_interval,
            max_file_size: self.max_file_size,
            archive: ArchiveLimits {
                max_depth: self.max_archive_depth,
                max_members: self.max_archive_members,
                max_expanded: self.max_archive_size,
                max_ratio: self.max_archive_ratio,
            },
            decoders: if self.builtin_decoders {
                // HEIC and AVIF have no built-in decoder: libheif still decodes them.
                Decoders::System(SystemDecoders::libheif_only())
            } else {
                Decoders::detect()
            },
            // Found by the command once its Ctrl-C handler is in place ([`find_ffmpeg`]):
            // running ffmpeg to ask its version takes a moment.
            ffmpeg: None,
        })
    }
}
