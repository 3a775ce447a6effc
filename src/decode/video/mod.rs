//! Video decoding of untrusted bytes: H.264 in MP4/MOV in-process ([`h264`]), animated GIF
//! and WebP through the image decoders, everything else through an `ffmpeg` found on `PATH`.
//!
//! Owns choosing the decoder for a sniffed video, numbering frames from 0 in decode order,
//! the frame rate the vPDQ reference would see, converting only the sampled frames to RGB8,
//! and the limits on one video (`--max-video-seconds`, the per-file time limit). Must not
//! hash or choose which frames to sample: the caller gives the step, as a function of the
//! frame rate, and hashes what it is handed. Nothing is ever written to disk.

pub mod h264;

use std::path::Path;
use std::time::{Duration, Instant};

use image::RgbImage;

pub use h264::decode_h264_mp4;

/// What a decoded video turned out to be.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoInfo {
    /// Width of the decoded pictures; the container's if none decoded.
    pub width: u32,
    /// Height of the decoded pictures; the container's if none decoded.
    pub height: u32,
    /// Average frame rate, as ffmpeg's `avg_frame_rate`, which the vPDQ reference divides
    /// frame numbers by to get timestamps.
    pub fps: f64,
    /// Duration the container declares, in seconds (0 when it declares none).
    pub duration_s: f64,
    /// Frames decoded (all of them, not only the sampled ones).
    pub frames: u64,
}

/// The result of decoding a video that could at least be started.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// What the video is.
    pub info: VideoInfo,
    /// Why decoding stopped before the end, if it did: a corrupt or truncated stream, a
    /// limit, a panicking decoder. The frames before that point were delivered.
    pub incomplete: Option<String>,
}

/// The sampling step for a frame rate: every how many frames one is converted and handed
/// over (frame `n` is when `n % step == 0`). A step of 0 is taken as 1.
pub type Step<'a> = &'a dyn Fn(f64) -> u64;

/// Bounds on decoding one video.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VideoLimits {
    /// Frames after this many seconds are not decoded, and the video is reported incomplete.
    pub max_seconds: f64,
    /// Wall-clock time one video may take to decode.
    pub timeout: Duration,
}

impl Default for VideoLimits {
    /// Three hours of video, and half an hour to decode it: a 3 h 720p H.264 video decodes
    /// in about 30 min on one core here.
    fn default() -> Self {
        VideoLimits { max_seconds: 3.0 * 3600.0, timeout: Duration::from_secs(30 * 60) }
    }
}

impl VideoLimits {
    /// The number of the last frame inside [`VideoLimits::max_seconds`] at `fps`.
    pub(crate) fn last_frame(&self, fps: f64) -> u64 {
        if fps > 0.0 {
            // `as` saturates, so an absurd limit or rate just means no limit.
            ((self.max_seconds * fps).ceil() as u64).saturating_sub(1)
        } else {
            u64::MAX
        }
    }

    /// Why decoding stopped at frame `frame` because of [`VideoLimits::max_seconds`].
    pub(crate) fn too_long(&self, frame: u64) -> String {
        format!(
            "video runs past the {} s limit (--max-video-seconds); screened its first {frame} \
             frames only",
            self.max_seconds
        )
    }

    pub(crate) fn deadline(&self) -> Deadline {
        Deadline { at: Instant::now() + self.timeout, timeout: self.timeout }
    }
}

/// When a video's decoding must give up.
pub(crate) struct Deadline {
    at: Instant,
    timeout: Duration,
}

impl Deadline {
    /// `Err` with the reason once the time is up, `frame` being the frames decoded so far.
    pub(crate) fn check(&self, frame: u64) -> Result<(), String> {
        if Instant::now() < self.at {
            return Ok(());
        }
        Err(format!(
            "decoding took longer than the {} s time limit (--file-timeout); screened its \
             first {frame} frames only",
            self.timeout.as_secs()
        ))
    }
}

/// Decodes the video in `bytes`, sniffed as `media_type`, read from `path`, handing every
/// `step(fps)`-th frame to `on_frame` as RGB8.
///
/// `Err` means nothing could be decoded, with the reason (for a codec mediascreen cannot
/// decode in-process when `ffmpeg` is missing, the reason says so and that installing it
/// fixes it).
pub fn decode_video(
    bytes: &[u8],
    _path: &Path,
    media_type: &str,
    limits: &VideoLimits,
    step: Step<'_>,
    on_frame: &mut dyn FnMut(u64, &RgbImage),
) -> Result<Decoded, String> {
    match media_type {
        "video/mp4" | "video/quicktime" | "video/x-m4v" => {
            decode_h264_mp4(bytes, limits, step, on_frame)
        }
        other => Err(format!("{other} cannot be decoded yet")),
    }
}
