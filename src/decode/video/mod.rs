//! Video decoding of untrusted bytes: H.264 in MP4/MOV in-process ([`h264`]), animated GIF,
//! WebP and PNG, and the pages of a multi-page TIFF, through the image decoders
//! ([`animation`]), everything else (and the pictures only ffmpeg reads, as one-frame videos),
//! and MP4/MOV the in-process decoder cannot handle, through an `ffmpeg` found at run time
//! ([`ffmpeg`]).
//!
//! Owns choosing the decoder for a sniffed video, numbering frames from 0 in decode order,
//! the frame rate the vPDQ reference would see, converting only the sampled frames to RGB8,
//! and the limits on one video (its seconds screened, the per-file time limit). Must not
//! hash or choose which frames to sample: the caller gives the step, as a function of the
//! frame rate, and hashes what it is handed. Nothing is ever written to disk.

pub mod animation;
mod child;
pub mod ffmpeg;
pub mod h264;

use std::time::{Duration, Instant};

use image::{ImageFormat, RgbImage};

use super::DecodeLimits;
use crate::error::{Error, FileError, FileErrorKind, Reason, Setting};
pub use animation::{decode_animation, decode_pages, is_animated};
pub use ffmpeg::{decode_ffmpeg, decode_ffmpeg_as, Ffmpeg, FFMPEG_VARIABLE};
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
    /// Frames decoded (all of them, not only the sampled ones; the H.264 decoder's frames
    /// that no sampled one needs are counted as if decoded).
    pub frames: u64,
}

/// The result of decoding a video that could at least be started.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// What the video is.
    pub info: VideoInfo,
    /// Why decoding stopped before the end, if it did: a corrupt or truncated stream, a
    /// limit, a panicking decoder. The frames before that point were delivered.
    pub incomplete: Option<FileError>,
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
    /// Bounds on one decoded picture, as for still images.
    pub image: DecodeLimits,
}

impl Default for VideoLimits {
    /// Three hours of video, and half an hour to decode it: a 3 h 720p H.264 video decodes
    /// in about 30 min on one core here.
    fn default() -> Self {
        VideoLimits {
            max_seconds: 3.0 * 3600.0,
            timeout: Duration::from_secs(30 * 60),
            image: DecodeLimits::default(),
        }
    }
}

impl VideoLimits {
    /// Checks the limits: some of a video must be screened, so
    /// [`VideoLimits::max_seconds`] is more than 0.
    pub fn check(&self) -> crate::Result<()> {
        if self.max_seconds > 0.0 {
            return Ok(());
        }
        Err(Error::setting(
            Setting::MaxVideoSeconds,
            "VideoLimits::max_seconds",
            " must be more than 0",
        ))
    }

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
    pub(crate) fn too_long(&self, frame: u64) -> FileError {
        FileError::limit(
            Setting::MaxVideoSeconds,
            format!("video runs past the {} s limit", self.max_seconds),
            &format!("; screened its first {frame} frames only"),
        )
    }

    pub(crate) fn deadline(&self) -> Deadline {
        Deadline { at: Instant::now() + self.timeout, timeout: self.timeout }
    }
}

/// Why a video that decoded `decoded` frames where its container declares `declared` is
/// incomplete, if it is: damage that a decoder passes over without a word (a corrupt sample
/// table, a stream that stops decoding) shows only as frames missing. `exact` when the
/// container counts its frames (an MP4's samples), and a healthy decode then delivers them
/// all: fewer than 90 % is damage, the tenth left for what legitimately goes (an edit list
/// trimming an encoder's priming frames, a last incomplete group of pictures). Otherwise the
/// count is an estimate (duration times average frame rate, off for variable-rate video and
/// for a file whose audio outlasts its video), and only fewer than half is taken for damage.
pub(crate) fn short_of_declared(decoded: u64, declared: u64, exact: bool) -> Option<FileError> {
    let short = if exact {
        decoded.saturating_mul(10) < declared.saturating_mul(9)
    } else {
        decoded.saturating_mul(2) < declared
    };
    short.then(|| {
        let declared = if exact { format!("{declared}") } else { format!("about {declared}") };
        FileError::corrupt(format!(
            "decoded {decoded} of {declared} frames the container declares: the rest are \
             damaged or unreadable; screened what decoded"
        ))
    })
}

/// When a video's decoding must give up.
pub(crate) struct Deadline {
    at: Instant,
    timeout: Duration,
}

impl Deadline {
    /// `Err` with the reason once the time is up, `frame` being the frames decoded so far.
    pub(crate) fn check(&self, frame: u64) -> Result<(), FileError> {
        if Instant::now() < self.at {
            return Ok(());
        }
        Err(self.reason(frame))
    }

    /// Why decoding stopped at frame `frame` because the time ran out.
    pub(crate) fn reason(&self, frame: u64) -> FileError {
        let head = format!("decoding took longer than the {} s time limit", self.timeout.as_secs());
        let tail = format!("; screened its first {frame} frames only");
        FileError {
            kind: FileErrorKind::Timeout,
            reason: Reason::naming(Setting::FileTimeout, head, &tail),
        }
    }

    /// The time left, zero once it is up.
    pub(crate) fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }
}

/// Decodes the video in `bytes`, sniffed as `media_type`, handing every `step(fps)`-th frame
/// to `on_frame` as RGB8. Animated GIF, WebP and PNG count as video, and so does a TIFF (every
/// page, whatever the step). What is not decoded in-process goes to `ffmpeg` (the caller's,
/// e.g. [`Ffmpeg::detect`]'s), read by the demuxer [`crate::sniff`] names for its type; with
/// `None`, as when none is installed, such a video is an error.
///
/// `Err` means nothing could be decoded, with the reason (for a codec mediascreen cannot
/// decode in-process when `ffmpeg` is missing, the reason says so and that installing it
/// fixes it).
pub fn decode_video(
    ffmpeg: Option<&Ffmpeg>,
    bytes: &[u8],
    media_type: &str,
    limits: &VideoLimits,
    step: Step<'_>,
    on_frame: &mut dyn FnMut(u64, &RgbImage),
) -> Result<Decoded, FileError> {
    match media_type {
        "video/mp4" | "video/quicktime" | "video/x-m4v" | "video/3gpp" | "video/3gpp2" => {
            // In-process first: it is faster and needs nothing installed. Whatever it cannot
            // start on (HEVC, AV1, profiles openh264 lacks) goes to ffmpeg; nothing was
            // delivered yet, so the frames are not handed over twice.
            let reason = match decode_h264_mp4(bytes, limits, step, on_frame) {
                Err(reason) => reason,
                Ok(Decoded { info, incomplete: Some(reason) }) if info.frames == 0 => reason,
                decoded => return decoded,
            };
            match ffmpeg {
                Some(ffmpeg) => decode_ffmpeg(ffmpeg, bytes, limits, step, on_frame).map_err(|e| {
                    FileError { kind: e.kind, reason: reason.reason.joined("; ffmpeg: ", e.reason) }
                }),
                None => {
                    // Over a limit, ffmpeg would be too: the limit is what to change.
                    let kind = match reason.kind {
                        kind @ FileErrorKind::Limit { .. } => kind,
                        _ => FileErrorKind::NeedsTool { tool: "ffmpeg" },
                    };
                    let then = Reason::new("installing ffmpeg may decode it");
                    Err(FileError { kind, reason: reason.reason.joined("; ", then) })
                }
            }
        }
        "image/gif" => decode_animation(bytes, ImageFormat::Gif, limits, step, on_frame),
        "image/webp" => decode_animation(bytes, ImageFormat::WebP, limits, step, on_frame),
        "image/png" => decode_animation(bytes, ImageFormat::Png, limits, step, on_frame),
        "image/tiff" => decode_pages(bytes, limits, on_frame),
        // Videos, and the pictures only ffmpeg reads (their first frame is the picture).
        media if media.starts_with("video/") || crate::sniff::ffmpeg_format(media).is_some() => {
            match ffmpeg {
                Some(ffmpeg) => {
                    let format = crate::sniff::ffmpeg_format(media);
                    decode_ffmpeg_as(ffmpeg, bytes, format, limits, step, on_frame)
                }
                None => Err(FileError::new(
                    FileErrorKind::NeedsTool { tool: "ffmpeg" },
                    format!(
                        "{} cannot be decoded in-process; install ffmpeg to screen it",
                        describe(bytes, media)
                    ),
                )),
            }
        }
        other => Err(FileError::new(
            FileErrorKind::Unsupported { media_type: other.to_string() },
            format!("{other} is not a video"),
        )),
    }
}

/// The media type with the codec, when the container names it within its first bytes
/// (Matroska and WebM do): what a user needs to know to judge a missing decoder.
fn describe(bytes: &[u8], media_type: &str) -> String {
    match matroska_codec(bytes) {
        Some(codec) => format!("{media_type} ({codec})"),
        None => media_type.to_string(),
    }
}

/// The first video CodecID of a Matroska/WebM file, in ffmpeg's naming where it differs.
fn matroska_codec(bytes: &[u8]) -> Option<String> {
    // The CodecID element (ID 0x86, one-byte size) of the first track sits in the header,
    // well inside 64 KiB; a video codec's ID starts "V_".
    let head = &bytes[..bytes.len().min(64 * 1024)];
    head.windows(4).enumerate().find_map(|(at, w)| {
        let size = usize::from(w[1].checked_sub(0x80)?);
        if w[0] != 0x86 || &w[2..] != b"V_" {
            return None;
        }
        let id = std::str::from_utf8(head.get(at + 2..at + 2 + size)?).ok()?;
        Some(match id {
            "V_MPEG4/ISO/AVC" => "h264".to_string(),
            "V_MPEGH/ISO/HEVC" => "hevc".to_string(),
            other => other.trim_start_matches("V_").to_ascii_lowercase(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_far_short_of_the_declared_count_are_damage() {
        assert_eq!(short_of_declared(210, 210, true), None);
        assert_eq!(short_of_declared(189, 210, true), None);
        let short = short_of_declared(1, 210, true).unwrap().to_string();
        assert!(short.starts_with("decoded 1 of 210 frames"), "{short}");
        assert!(short_of_declared(188, 210, true).is_some());
        // An estimate leaves room for variable frame rates: only under half is damage.
        assert_eq!(short_of_declared(110, 210, false), None);
        assert!(short_of_declared(100, 210, false).unwrap().to_string().contains("about 210"));
        assert_eq!(short_of_declared(0, 0, true), None);
    }

    #[test]
    fn matroska_codec_ids_are_named() {
        let mut header = b"\x1a\x45\xdf\xa3 junk \xae\x86\x85V_VP9\x83\x81\x01".to_vec();
        assert_eq!(matroska_codec(&header).as_deref(), Some("vp9"));
        assert_eq!(describe(&header, "video/webm"), "video/webm (vp9)");
        header.truncate(14);
        assert_eq!(matroska_codec(&header), None);
        assert_eq!(describe(b"RIFF", "video/x-msvideo"), "video/x-msvideo");
    }
}
