//! H.264-in-MP4 decoding checked against Meta's vPDQ per-frame hashes.
//!
//! Each sample video is decoded, every frame hashed with PDQ at native size, and the result
//! compared with the reference's regression metric: same frame count, frame i against frame i,
//! pairs where either quality is below 50 skipped, a pair matching when its distance is below
//! 31, and every compared pair required to match.

use std::path::Path;

use mediascreen::decode::video::{decode_h264_mp4, Decoded, VideoLimits};
use mediascreen::hash::pdq::PdqFeatures;
use mediascreen::hash::{Algorithm, HashValue};

const QUALITY_FLOOR: u8 = 50;
const MATCH_DISTANCE: u32 = 31;

struct Frame {
    quality: u8,
    hash: HashValue,
    timestamp: String,
}

fn fixture(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/conformance").join(path)
}

fn expected_frames(name: &str) -> Vec<Frame> {
    let text = std::fs::read_to_string(fixture(&format!("vpdq/{name}.txt"))).unwrap();
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 4, "{name} line {i}: {line}");
            assert_eq!(fields[0].parse::<usize>().unwrap(), i, "{name}: frames out of order");
            Frame {
                quality: fields[1].parse().unwrap(),
                hash: HashValue::from_hex(Algorithm::Pdq, fields[2]).unwrap(),
                timestamp: fields[3].to_string(),
            }
        })
        .collect()
}

fn check_video(name: &str) {
    let bytes = std::fs::read(fixture(&format!("videos/{name}.mp4"))).unwrap();
    let mut hashed = Vec::new();
    let started = std::time::Instant::now();
    let decoded = decode_h264_mp4(&bytes, &VideoLimits::default(), &|_| 1, &mut |n, rgb| {
        assert_eq!(n, hashed.len() as u64, "{name}: frames delivered out of order");
        let features = PdqFeatures::from_image(rgb);
        hashed.push((features.quality(), features.hash()));
    })
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(decoded.incomplete, None, "{name}");
    let info = decoded.info;
    let elapsed = started.elapsed();

    let expected = expected_frames(name);
    assert_eq!(hashed.len(), expected.len(), "{name}: frame count");
    assert_eq!(info.frames, expected.len() as u64, "{name}: sample count");

    let mut distances = Vec::new();
    let mut exact = 0;
    for (i, ((quality, hash), want)) in hashed.iter().zip(&expected).enumerate() {
        assert_eq!(
            format!("{:.3}", i as f64 / info.fps),
            want.timestamp,
            "{name} frame {i}: timestamp at {} fps",
            info.fps
        );
        if *quality < QUALITY_FLOOR || want.quality < QUALITY_FLOOR {
            continue;
        }
        let distance = hash.distance(&want.hash);
        exact += usize::from(distance == 0);
        distances.push(distance);
    }
    assert!(!distances.is_empty(), "{name}: no frame was good enough to compare");
    let mismatched = distances.iter().filter(|&&d| d >= MATCH_DISTANCE).count();
    distances.sort_unstable();
    println!(
        "{name}: {}x{} {} frames in {:.2?} ({:.0} frames/s), {} compared, {exact} exact, \
         max distance {}, median {}",
        info.width,
        info.height,
        hashed.len(),
        elapsed,
        hashed.len() as f64 / elapsed.as_secs_f64(),
        distances.len(),
        distances[distances.len() - 1],
        distances[distances.len() / 2],
    );
    assert_eq!(mismatched, 0, "{name}: {mismatched} of {} frames differ", distances.len());
}

#[test]
fn padded_dimensions_match_the_reference() {
    check_video("test-padded-dimensions");
}

#[test]
fn doorknob_hd_matches_the_reference() {
    check_video("doorknob-hd-no-bar");
}

#[test]
fn pattern_sd_grey_bar_matches_the_reference() {
    check_video("pattern-sd-grey-bar");
}

#[test]
fn only_wanted_frames_are_converted() {
    let bytes = std::fs::read(fixture("videos/test-padded-dimensions.mp4")).unwrap();
    let mut seen = Vec::new();
    let decoded =
        decode_h264_mp4(&bytes, &VideoLimits::default(), &|_| 10, &mut |n, _| seen.push(n))
            .unwrap();
    let wanted: Vec<u64> = (0..decoded.info.frames).filter(|n| n % 10 == 0).collect();
    assert_eq!(seen, wanted);
}

#[test]
fn decoding_stops_at_the_length_limit() {
    let bytes = std::fs::read(fixture("videos/doorknob-hd-no-bar.mp4")).unwrap();
    let limits = VideoLimits { max_seconds: 1.0, ..VideoLimits::default() };
    let mut seen = Vec::new();
    let decoded = decode_h264_mp4(&bytes, &limits, &|_| 1, &mut |n, _| seen.push(n)).unwrap();
    let fps = decoded.info.fps;
    let reason = decoded.incomplete.expect("a 1 s limit stops a longer video");
    assert!(reason.contains("--max-video-seconds"), "{reason}");
    // Every frame stamped before 1 s, and none after.
    assert_eq!(seen.len() as f64, fps.ceil(), "{fps} fps");
    let limits = VideoLimits { timeout: std::time::Duration::ZERO, ..VideoLimits::default() };
    let decoded = decode_h264_mp4(&bytes, &limits, &|_| 1, &mut |_, _| {}).unwrap();
    assert!(decoded.incomplete.unwrap().contains("--file-timeout"));
}

/// Decodes the whole of `bytes` with every frame wanted.
fn decode_all(bytes: &[u8]) -> Result<Decoded, String> {
    decode_h264_mp4(bytes, &VideoLimits::default(), &|_| 1, &mut |_, _| {})
}

#[test]
fn truncated_video_is_an_error() {
    let bytes = std::fs::read(fixture("videos/doorknob-hd-no-bar.mp4")).unwrap();
    let error = decode_all(&bytes[..bytes.len() / 2]).expect_err("half a video decoded");
    println!("truncated: {error}");
    assert!(!error.contains("panicked"), "{error}");
}

#[test]
fn non_video_is_an_error() {
    let png = std::fs::read(fixture("pdq/images/misc-images/wee.jpg")).unwrap();
    let error = decode_all(&png).expect_err("a JPEG decoded");
    println!("not a video: {error}");
    assert!(!error.is_empty());
}

#[test]
fn corrupted_samples_are_errors() {
    let mut bytes = std::fs::read(fixture("videos/doorknob-hd-no-bar.mp4")).unwrap();
    // The sample data follows the `moov` box in this file, so scribbling over its middle keeps
    // the container readable but leaves a sample whose NAL lengths make no sense.
    let middle = bytes.len() / 2;
    bytes[middle..middle + 4096].fill(0xA5);
    let error = decode_all(&bytes).unwrap().incomplete.expect("a corrupted video decoded whole");
    println!("corrupted: {error}");
    assert!(!error.contains("panicked"), "{error}");
}
