//! Helpers shared by the video decoding tests: fixtures, Meta's vPDQ per-frame hashes, and
//! the reference's byline regression metric (same frame count, frame i against frame i,
//! pairs where either quality is below 50 skipped, a pair matching when its distance is
//! below 31).

use std::path::{Path, PathBuf};

use image::RgbImage;
use mediascreen::decode::video::Decoded;
use mediascreen::hash::pdq::PdqFeatures;
use mediascreen::hash::{Algorithm, HashValue};

pub const QUALITY_FLOOR: u8 = 50;
pub const MATCH_DISTANCE: u32 = 31;

/// One frame of a reference file, or one decoded and hashed.
pub struct Frame {
    pub quality: u8,
    pub hash: HashValue,
    /// As the reference writes it: seconds with 3 decimals.
    pub timestamp: String,
}

pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path)
}

/// The reference's frames for the sample video `name`.
pub fn expected_frames(name: &str) -> Vec<Frame> {
    let text = std::fs::read_to_string(fixture(&format!("conformance/vpdq/{name}.txt"))).unwrap();
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

/// Runs `decode` with every frame wanted and hashes each frame it delivers, stamped as the
/// reference stamps them.
pub fn hash_frames(
    name: &str,
    decode: impl FnOnce(&mut dyn FnMut(u64, &RgbImage)) -> Result<Decoded, String>,
) -> (Decoded, Vec<Frame>) {
    let mut hashed = Vec::new();
    let decoded = decode(&mut |n, rgb| {
        assert_eq!(n, hashed.len() as u64, "{name}: frames delivered out of order");
        let features = PdqFeatures::from_image(rgb);
        hashed.push((features.quality(), features.hash()));
    })
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let fps = decoded.info.fps;
    let frames = hashed
        .into_iter()
        .enumerate()
        .map(|(n, (quality, hash))| Frame {
            quality,
            hash,
            timestamp: format!("{:.3}", n as f64 / fps),
        })
        .collect();
    (decoded, frames)
}

/// Distances between frames paired up, where both are good enough to compare.
pub fn distances<'a>(pairs: impl IntoIterator<Item = (&'a Frame, &'a Frame)>) -> Vec<u32> {
    pairs
        .into_iter()
        .filter(|(a, b)| a.quality >= QUALITY_FLOOR && b.quality >= QUALITY_FLOOR)
        .map(|(a, b)| a.hash.distance(&b.hash))
        .collect()
}

/// Decodes the sample video `name` with `decode` and requires every frame to match the
/// reference's by the byline metric, with the same count and timestamps.
pub fn check_video(
    name: &str,
    decode: impl FnOnce(&Path, &mut dyn FnMut(u64, &RgbImage)) -> Result<Decoded, String>,
) {
    let path = fixture(&format!("conformance/videos/{name}.mp4"));
    let started = std::time::Instant::now();
    let (decoded, hashed) = hash_frames(name, |on_frame| decode(&path, on_frame));
    let elapsed = started.elapsed();
    assert_eq!(decoded.incomplete, None, "{name}");
    let info = decoded.info;

    let expected = expected_frames(name);
    assert_eq!(hashed.len(), expected.len(), "{name}: frame count");
    assert_eq!(info.frames, expected.len() as u64, "{name}: decoded frames");
    for (i, (got, want)) in hashed.iter().zip(&expected).enumerate() {
        assert_eq!(
            got.timestamp, want.timestamp,
            "{name} frame {i}: timestamp at {} fps",
            info.fps
        );
    }
    let mut distances = distances(hashed.iter().zip(&expected));
    assert!(!distances.is_empty(), "{name}: no frame was good enough to compare");
    let exact = distances.iter().filter(|&&d| d == 0).count();
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
