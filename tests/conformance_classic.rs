//! pHash, dHash and aHash against values from Python imagehash 4.3.2 / Pillow 13.0.0 for the same
//! image files (fixtures/conformance/pdq/expected/imagehash_expected.csv).
//!
//! Exact equality is not expected: `image`'s Lanczos3 resize differs from Pillow's by a grey level
//! here and there (the JPEG decoders differ too, but on these files that alone flips no bit), and
//! that flips bits sitting on a threshold. The bounds are what a list match can absorb (the
//! default threshold is 8 bits).

use std::path::Path;

use mediascreen::hash::classic::{ahash, dhash, grey_from_rgb, phash};
use mediascreen::hash::{Algorithm, HashValue};

const MAX_MEDIAN: u32 = 2;
const MAX_MAX: u32 = 8;

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
    }
}
