//! PDQ conformance against Meta's reference C++ implementation, on the staged fixtures in
//! `fixtures/conformance/pdq` (see its MANIFEST.md and ALGORITHM.md).
//!
//! * `pixels/`: the exact pixel arrays the C++ CLI hashed; our hash and quality must be
//!   bit-exact, including all eight dihedral variants.
//! * `images/`: whole files decoded here at full resolution, while the CLI decoded with
//!   ImageMagick and pre-resized to 512x512. Meta's criterion for that case: distance <= 10 for
//!   images of quality >= 80.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use mediascreen::hash::pdq::{Dihedral, PdqFeatures};
use mediascreen::hash::{Algorithm, HashValue};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/conformance/pdq")
}

fn read_lines(relative: &str) -> Vec<String> {
    let path = fixtures().join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()
}

fn pdq_hex(hex: &str) -> HashValue {
    HashValue::from_hex(Algorithm::Pdq, hex)
        .unwrap_or_else(|e| panic!("bad expected hash {hex:?}: {e}"))
}

fn decode(relative: &str) -> Result<image::RgbImage, Box<dyn std::error::Error>> {
    let img =
        image::ImageReader::open(fixtures().join(relative))?.with_guessed_format()?.decode()?;
    Ok(img.to_rgb8())
}

fn features_of(relative: &str) -> PdqFeatures {
    let img = decode(relative).unwrap_or_else(|e| panic!("decoding {relative}: {e}"));
    PdqFeatures::from_image(&img)
}

/// One row of `pixels/expected.csv`.
struct PixelVector {
    hash: String,
    quality: u8,
    pixels_png: String,
    source_image: String,
}

fn pixel_vectors() -> Vec<PixelVector> {
    let lines = read_lines("pixels/expected.csv");
    assert_eq!(lines[0], "hash,quality,pixels_png,source_image", "unexpected header");
    lines[1..]
        .iter()
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 4, "bad line {line:?}");
            PixelVector {
                hash: fields[0].to_string(),
                quality: fields[1].parse().unwrap(),
                pixels_png: fields[2].to_string(),
                source_image: fields[3].to_string(),
            }
        })
        .collect()
}

#[test]
fn pixel_vectors_hash_bit_exactly() {
    let vectors = pixel_vectors();
    assert!(!vectors.is_empty());
    let mut failures = Vec::new();
    for v in &vectors {
        let features = features_of(&v.pixels_png);
        let hash = features.hash();
        let ok = hash == pdq_hex(&v.hash) && features.quality() == v.quality;
        println!(
            "{} {} q={} (expected q={}) {}",
            if ok { "ok  " } else { "FAIL" },
            hash,
            features.quality(),
            v.quality,
            v.pixels_png
        );
        if !ok {
            failures.push(format!(
                "{}: got {hash} q={}, expected {} q={} (distance {})",
                v.pixels_png,
                features.quality(),
                v.hash,
                v.quality,
                hash.distance(&pdq_hex(&v.hash))
            ));
        }
    }
    println!("pixel vectors exact: {}/{}", vectors.len() - failures.len(), vectors.len());
    assert!(
        failures.is_empty(),
        "{} of {} pixel vectors differ:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

#[test]
fn dihedral_variants_hash_bit_exactly() {
    let png_for_source: HashMap<String, String> =
        pixel_vectors().into_iter().map(|v| (v.source_image, v.pixels_png)).collect();
    let lines = read_lines("expected/pdq/pdq_cpp_dihedral_details.txt");
    assert!(!lines.is_empty());

    let mut checked = 0;
    let mut failures = Vec::new();
    let mut by_source: HashMap<String, PdqFeatures> = HashMap::new();
    for line in &lines {
        let fields: HashMap<&str, &str> = line
            .split(',')
            .map(|kv| kv.split_once('=').unwrap_or_else(|| panic!("bad field {kv:?} in {line:?}")))
            .collect();
        let source = fields["filename"];
        let png =
            png_for_source.get(source).unwrap_or_else(|| panic!("no pixels PNG for {source}"));
        let features = features_of(png);
        let quality: u8 = fields["quality"].parse().unwrap();
        if features.quality() != quality {
            failures.push(format!("{png}: quality {} != {quality}", features.quality()));
        }
        if features.hash() != pdq_hex(fields["hash"]) {
            failures.push(format!("{png}: hash {} != {}", features.hash(), fields["hash"]));
        }
        for d in Dihedral::ALL {
            let expected = pdq_hex(fields[d.name()]);
            let actual = features.dihedral(d);
            checked += 1;
            if actual != expected {
                failures.push(format!(
                    "{png} {}: got {actual}, expected {expected} (distance {})",
                    d.name(),
                    actual.distance(&expected)
                ));
            }
        }
        by_source.insert(source.to_string(), features);
    }
    println!(
        "dihedral variants exact: {}/{checked} ({} images)",
        checked - (failures.len().min(checked)),
        lines.len()
    );
    assert!(failures.is_empty(), "dihedral mismatches:\n{}", failures.join("\n"));

    // Meaning of the variants: the repo's physically rotated/flipped copies of bridge-1 must be
    // close to the corresponding variant of bridge-1 (e.g. Rot90 = 90 degrees counter-clockwise),
    // and each copy's inverse variant must be close to bridge-1 itself.
    let dir = "images/reg-test-input/dih/";
    let original = &by_source[&format!("{dir}bridge-1-original.jpg")];
    let copies = [
        ("bridge-1-original.jpg", Dihedral::Orig),
        ("bridge-2-rotate-90.jpg", Dihedral::Rot90),
        ("bridge-3-rotate-180.jpg", Dihedral::Rot180),
        ("bridge-4-rotate-270.jpg", Dihedral::Rot270),
        ("bridge-5-flipx.jpg", Dihedral::FlipX),
        ("bridge-6-flipy.jpg", Dihedral::FlipY),
        ("bridge-7-flip-plus-1.jpg", Dihedral::FlipPlus),
        ("bridge-8-flip-minus-1.jpg", Dihedral::FlipMinus),
    ];
    let mut report = String::new();
    for (file, d) in copies {
        let copy = &by_source[&format!("{dir}{file}")];
        let forward = copy.hash().distance(&original.dihedral(d));
        let back = copy.dihedral(d.inverse()).distance(&original.hash());
        writeln!(
            report,
            "{file}: vs bridge-1 {} = {forward} bits; its {} vs bridge-1 = {back} bits",
            d.name(),
            d.inverse().name()
        )
        .unwrap();
        assert!(
            forward <= 31 && back <= 31,
            "{file} does not match bridge-1 under {}:\n{report}",
            d.name()
        );
    }
    print!("{report}");
}

#[test]
fn full_resolution_images_are_close_to_the_reference() {
    let lines = read_lines("expected/pdq/pdq_cpp_reference.csv");
    let mut table = String::new();
    writeln!(table, "{:>4}  {:>5}  {:>5}  {:<48}  note", "dist", "ref_q", "our_q", "path").unwrap();
    let mut compared = Vec::new();
    let mut failures = Vec::new();
    for line in &lines {
        let mut fields = line.splitn(3, ',');
        let (Some(hex), Some(quality), Some(path)) = (fields.next(), fields.next(), fields.next())
        else {
            panic!("bad line {line:?}");
        };
        let reference = pdq_hex(hex);
        let reference_quality: u8 = quality.parse().unwrap();
        let img = match decode(path) {
            Ok(img) => img,
            Err(e) => {
                writeln!(
                    table,
                    "{:>4}  {reference_quality:>5}  {:>5}  {path:<48}  DECODE ERROR: {e}",
                    "-", "-"
                )
                .unwrap();
                failures.push(format!("{path}: cannot decode: {e}"));
                continue;
            }
        };
        let features = PdqFeatures::from_image(&img);
        let distance = features.hash().distance(&reference);
        let note = if reference_quality < 80 {
            "not compared (reference quality < 80)".to_string()
        } else {
            compared.push(distance);
            if distance > 10 {
                failures.push(format!("{path}: distance {distance} > 10"));
                "FAIL".to_string()
            } else {
                String::new()
            }
        };
        writeln!(
            table,
            "{distance:>4}  {reference_quality:>5}  {:>5}  {path:<48}  {}x{} {note}",
            features.quality(),
            img.width(),
            img.height()
        )
        .unwrap();
    }
    compared.sort_unstable();
    let n = compared.len();
    let median = match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => f64::from(compared[n / 2]),
        _ => f64::from(compared[n / 2 - 1] + compared[n / 2]) / 2.0,
    };
    let max = compared.last().copied().unwrap_or(0);
    writeln!(
        table,
        "quality>=80 images compared: {n} of {}; median distance {median}, max {max}",
        lines.len()
    )
    .unwrap();
    println!("{table}");
    assert!(n > 0, "nothing compared\n{table}");
    assert!(failures.is_empty(), "{}\n\n{table}", failures.join("\n"));
}
