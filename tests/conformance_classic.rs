//! pHash, dHash and aHash against values from Python imagehash 4.3.2 / Pillow 13.0.0 for the same
//! image files (fixtures/conformance/pdq/expected/imagehash_expected.csv).
//!
//! The grey conversion and Lanczos resize reproduce Pillow's arithmetic, and on these files the
//! JPEG decoders agree closely enough that every hash is exact. The contract is looser (median 2,
//! max 8 bits per algorithm: what a list match at the default threshold of 8 absorbs); the
//! tighter `EXACT_MAX` is there so that a regression in the resize shows.

use std::path::Path;

use mediascreen::hash::classic::{ahash, dhash, grey_from_rgb, phash};
use mediascreen::hash::{Algorithm, HashValue};

/// The contract: median and worst distance, in bits, per algorithm.
const MAX_MEDIAN: u32 = 2;
const MAX_MAX: u32 = 8;
/// What the Pillow-exact resize achieves (0 bits everywhere today), with a little room for a
/// decoder update shifting a pixel.
const EXACT_MAX: u32 = 2;

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/conformance/pdq"))
}

struct Row {
    path: String,
    expected: [HashValue; 3],
}

fn expected_rows() -> Vec<Row> {
    let csv = fixtures().join("expected/imagehash_expected.csv");
    let text = std::fs::read_to_string(&csv).unwrap_or_else(|e| panic!("{}: {e}", csv.display()));
    let mut lines = text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty());
    assert_eq!(lines.next(), Some("path,phash,dhash,ahash"), "unexpected CSV header");
    lines
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 4, "malformed row {line:?}");
            let hex = |alg, s: &str| {
                HashValue::from_hex(alg, s).unwrap_or_else(|e| panic!("row {line:?}: {e}"))
            };
            Row {
                path: f[0].to_string(),
                expected: [
                    hex(Algorithm::Phash, f[1]),
                    hex(Algorithm::Dhash, f[2]),
                    hex(Algorithm::Ahash, f[3]),
                ],
            }
        })
        .collect()
}

fn decode(path: &Path) -> Result<image::RgbImage, Box<dyn std::error::Error>> {
    Ok(image::ImageReader::open(path)?.with_guessed_format()?.decode()?.to_rgb8())
}

fn median(values: &[u32]) -> u32 {
    let mut v = values.to_vec();
    v.sort_unstable();
    // Of an even count, the upper middle value: the stricter of the two.
    v[v.len() / 2]
}

#[test]
fn classic_hashes_match_imagehash() {
    let rows = expected_rows();
    assert!(!rows.is_empty(), "no rows in the expected CSV");
    let names = ["phash", "dhash", "ahash"];
    let mut distances: [Vec<u32>; 3] = Default::default();

    println!("{:<45} {:>22} {:>22} {:>22}", "image", "phash (d)", "dhash (d)", "ahash (d)");
    for row in &rows {
        let path = fixtures().join("images").join(&row.path);
        let rgb = decode(&path).unwrap_or_else(|e| panic!("cannot decode {}: {e}", row.path));
        let grey = grey_from_rgb(&rgb);
        let got = [phash(&grey), dhash(&grey), ahash(&grey)];
        let mut line = format!("{:<45}", row.path);
        for (i, (g, e)) in got.iter().zip(&row.expected).enumerate() {
            let d = g.distance(e);
            distances[i].push(d);
            line += &format!(" {g} ({d:>2})");
        }
        println!("{line}");
    }

    let figures: Vec<(&str, u32, u32)> = names
        .iter()
        .zip(&distances)
        .map(|(name, d)| (*name, median(d), *d.iter().max().unwrap()))
        .collect();
    let summary = figures
        .iter()
        .map(|(name, med, max)| format!("{name}: median {med}, max {max}"))
        .collect::<Vec<_>>()
        .join("; ");
    println!("{} images; {summary}", rows.len());

    for (name, med, max) in &figures {
        assert!(
            *med <= MAX_MEDIAN && *max <= MAX_MAX,
            "{name} too far from imagehash over {} images (allowed median {MAX_MEDIAN}, \
             max {MAX_MAX}): {summary}",
            rows.len()
        );
        assert!(
            *max <= EXACT_MAX,
            "{name} no longer matches imagehash (almost) exactly over {} images (allowed max \
             {EXACT_MAX}); has the resize or grey conversion drifted from Pillow's? {summary}",
            rows.len()
        );
    }
}
