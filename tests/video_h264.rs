//! H.264-in-MP4 decoding checked against Meta's vPDQ per-frame hashes.
//!
//! Each sample video is decoded, every frame hashed with PDQ at native size, and the result
//! compared with the reference's byline regression metric (see `common`), every compared pair
//! required to match.

mod common;

use common::{check_video, fixture};
use mediascreen::decode::video::{decode_h264_mp4, Decoded, VideoLimits};
use mediascreen::error::{FileError, FileErrorKind, Setting};

/// Decodes the sample `name` in-process and checks it against the reference.
fn check_in_process(name: &str) {
    check_video(name, |path, on_frame| {
        let bytes = std::fs::read(path).unwrap();
        decode_h264_mp4(&bytes, &VideoLimits::default(), &|_| 1, on_frame)
            .map_err(|e| e.to_string())
    });
}

#[test]
fn padded_dimensions_match_the_reference() {
    check_in_process("test-padded-dimensions");
}

#[test]
fn doorknob_hd_matches_the_reference() {
    check_in_process("doorknob-hd-no-bar");
}

#[test]
fn pattern_sd_grey_bar_matches_the_reference() {
    check_in_process("pattern-sd-grey-bar");
}

#[test]
fn only_wanted_frames_are_converted() {
    let bytes = std::fs::read(fixture("conformance/videos/test-padded-dimensions.mp4")).unwrap();
    let mut seen = Vec::new();
    let decoded =
        decode_h264_mp4(&bytes, &VideoLimits::default(), &|_| 10, &mut |n, _| seen.push(n))
            .unwrap();
    let wanted: Vec<u64> = (0..decoded.info.frames).filter(|n| n % 10 == 0).collect();
    assert_eq!(seen, wanted);
}

#[test]
fn decoding_stops_at_the_length_limit() {
    let bytes = std::fs::read(fixture("conformance/videos/doorknob-hd-no-bar.mp4")).unwrap();
    let limits = VideoLimits { max_seconds: 1.0, ..VideoLimits::default() };
    let mut seen = Vec::new();
    let decoded = decode_h264_mp4(&bytes, &limits, &|_| 1, &mut |n, _| seen.push(n)).unwrap();
    let fps = decoded.info.fps;
    let reason = decoded.incomplete.expect("a 1 s limit stops a longer video");
    assert_eq!(reason.kind, FileErrorKind::Limit { which: Setting::MaxVideoSeconds }, "{reason}");
    // Every frame stamped before 1 s, and none after.
    assert_eq!(seen.len() as f64, fps.ceil(), "{fps} fps");
    let limits = VideoLimits { timeout: std::time::Duration::ZERO, ..VideoLimits::default() };
    let decoded = decode_h264_mp4(&bytes, &limits, &|_| 1, &mut |_, _| {}).unwrap();
    let reason = decoded.incomplete.unwrap();
    assert_eq!(reason.kind, FileErrorKind::Timeout);
    assert_eq!(reason.reason.setting(), Some(Setting::FileTimeout));
}

/// A fingerprint of a frame's pixels: a whole decode of the HD sample is 330 MB of RGB.
fn fingerprint(rgb: &image::RgbImage) -> (u32, u32, u64) {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    rgb.as_raw().hash(&mut hasher);
    (rgb.width(), rgb.height(), hasher.finish())
}

#[test]
fn sampled_frames_are_those_of_a_whole_decode() {
    // Frames neither sampled nor referred to are not decoded: what is sampled must not change.
    for name in [
        "conformance/videos/doorknob-hd-no-bar.mp4",
        "conformance/videos/pattern-sd-grey-bar.mp4",
        "conformance/videos/test-padded-dimensions.mp4",
        "video/bridge-in-video.mp4",
        "video/chair-clip.mp4",
        "video/chair-padded.mp4",
        "video/chair-reencoded.mp4",
        "video/unrelated.mp4",
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let decode = |step: u64| {
            let mut frames = Vec::new();
            let decoded =
                decode_h264_mp4(&bytes, &VideoLimits::default(), &|_| step, &mut |n, rgb| {
                    frames.push((n, fingerprint(rgb)));
                })
                .unwrap();
            (decoded, frames)
        };
        let (whole, every) = decode(1);
        assert_eq!(whole.incomplete, None, "{name}");
        for step in [2, 3, 7, 29, 30] {
            let (sampled, frames) = decode(step);
            assert_eq!(sampled, whole, "{name}, step {step}");
            let wanted: Vec<_> = every.iter().filter(|(n, _)| n % step == 0).copied().collect();
            assert_eq!(frames, wanted, "{name}, step {step}");
        }
    }
}

/// Decodes the whole of `bytes` with every frame wanted.
fn decode_all(bytes: &[u8]) -> Result<Decoded, FileError> {
    decode_h264_mp4(bytes, &VideoLimits::default(), &|_| 1, &mut |_, _| {})
}

#[test]
fn truncated_video_keeps_the_frames_before_the_cut() {
    let bytes = std::fs::read(fixture("conformance/videos/doorknob-hd-no-bar.mp4")).unwrap();
    let mut seen = 0;
    let decoded =
        decode_h264_mp4(&bytes[..bytes.len() / 2], &VideoLimits::default(), &|_| 1, &mut |_, _| {
            seen += 1;
        })
        .expect("the sample index is in front of the data: the first half decodes");
    let reason = decoded.incomplete.expect("half a video is incomplete");
    println!("truncated: {seen} frames, then {reason}");
    assert!(reason.to_string().contains("truncated"), "{reason}");
    assert!(seen > 20 && seen < 120, "{seen} frames");
}

#[test]
fn non_video_is_an_error() {
    let png = std::fs::read(fixture("conformance/pdq/images/misc-images/wee.jpg")).unwrap();
    let error = decode_all(&png).expect_err("a JPEG decoded");
    println!("not a video: {error}");
    assert!(!error.to_string().is_empty());
}

#[test]
fn corrupted_samples_are_errors() {
    let mut bytes = std::fs::read(fixture("conformance/videos/doorknob-hd-no-bar.mp4")).unwrap();
    // The sample data follows the `moov` box in this file, so scribbling over its middle keeps
    // the container readable but leaves a sample whose NAL lengths make no sense.
    let middle = bytes.len() / 2;
    bytes[middle..middle + 4096].fill(0xA5);
    let error = decode_all(&bytes).unwrap().incomplete.expect("a corrupted video decoded whole");
    println!("corrupted: {error}");
    assert!(!error.to_string().contains("panicked"), "{error}");
}
