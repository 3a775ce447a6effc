//! HEIC and AVIF through the system's libheif: PDQ within 2 bits of Meta's reference PDQ of
//! the pixels pillow-heif decodes with the same libheif (`fixtures/heif/expected-pdq.csv`),
//! the container's rotation applied and an Exif orientation not, a scan that flags the
//! listed photographs, and, without libheif, an error naming `apt-get install libheif1`,
//! never clean.
//!
//! The tests that need libheif are `#[ignore = "needs libheif"]`: run anyway
//! (`--include-ignored`, as `.ci/run` does), they fail where it is missing.

use std::sync::Arc;
use std::time::Duration;

use mediascreen::decode::{decode_heif, DecodeLimits, Decoders};
use mediascreen::error::FileErrorKind;
use mediascreen::hash::pdq::PdqFeatures;
use mediascreen::hash::{Algorithm, HashValue};
use mediascreen::hashlist::HashList;
use mediascreen::matcher::{MatchOptions, Matcher};
use mediascreen::scan::{self, HashOptions, ScanOptions, Status};
use mediascreen::sniff::sniff;

mod run;
use run::{flagged, root, scan as scan_cli, DEMO};

/// One row of `fixtures/heif/expected-pdq.csv`.
struct Expected {
    file: String,
    width: u32,
    height: u32,
    pdq: HashValue,
}

fn expected() -> Vec<Expected> {
    let text = std::fs::read_to_string(root().join("fixtures/heif/expected-pdq.csv")).unwrap();
    let rows = text.lines().filter(|line| !line.starts_with('#')).skip(1);
    rows.map(|row| {
        let fields: Vec<&str> = row.split(',').collect();
        Expected {
            file: fields[0].to_string(),
            width: fields[1].parse().unwrap(),
            height: fields[2].parse().unwrap(),
            pdq: HashValue::from_hex(Algorithm::Pdq, fields[3]).unwrap(),
        }
    })
    .collect()
}

fn with_libheif() -> Decoders {
    let decoders = Decoders::detect();
    assert!(decoders.heif().is_some(), "libheif is not installed (apt-get install libheif1)");
    decoders
}

#[test]
#[ignore = "needs libheif"]
fn pdq_of_each_fixture_is_within_two_bits_of_the_reference() {
    let decoders = with_libheif();
    let expected = expected();
    assert_eq!(expected.len(), 4);
    for row in expected {
        let bytes = Arc::new(std::fs::read(root().join("fixtures/heif").join(&row.file)).unwrap());
        let media_type = sniff(&bytes).media_type;
        let timeout = Duration::from_secs(30);
        let picture = decode_heif(&bytes, media_type, DecodeLimits::default(), timeout, decoders)
            .unwrap_or_else(|e| panic!("{}: {e}", row.file));
        assert_eq!(picture.damage, None, "{}", row.file);
        // The irot fixture comes out upright, the Exif-only one as stored: the container's
        // rotation is applied, an Exif orientation is not.
        assert_eq!(picture.rgb.dimensions(), (row.width, row.height), "{}", row.file);
        let features = PdqFeatures::from_image(&picture.rgb);
        let distance = features.hash().distance(&row.pdq);
        println!("{distance} bits  {}", row.file);
        assert!(distance <= 2, "{}: {distance} bits from the reference", row.file);
    }
}

#[test]
#[ignore = "needs libheif"]
fn a_scan_flags_the_heif_fixtures_by_the_listed_photographs() {
    with_libheif();
    let cases = [
        ("bridge.heic", "image/heif", "demo-bridge", "orig"),
        ("pen.avif", "image/avif", "demo-pen", "orig"),
        ("pen-irot.heic", "image/heif", "demo-pen", "orig"),
        // Stored turned a quarter anti-clockwise, which only its Exif says to undo.
        ("pen-exif-orientation.heic", "image/heif", "demo-pen", "rot90"),
    ];
    // `--builtin-decoders` concerns JPEG and WebP: libheif decodes HEIF either way.
    for extra in [&[][..], &["--builtin-decoders"][..]] {
        let (code, report, _) = scan_cli(&[&["fixtures/heif", "--list", DEMO], extra].concat());
        assert_eq!(code, 1, "{report}");
        let heif = report["settings"]["decoders"]["heif"].as_str().unwrap();
        assert!(heif.starts_with("libheif "), "{heif}");
        assert_eq!(report["summary"]["flagged"], 4, "{}", report["summary"]);
        assert_eq!(report["summary"]["errors"], 0, "{}", report["errors"]);
        for (file, media_type, id, orientation) in cases {
            let path = format!("fixtures/heif/{file}");
            let entry = flagged(&report, &path).unwrap_or_else(|| panic!("{path} not flagged"));
            assert_eq!(entry["media_type"], media_type, "{path}");
            let m = &entry["matches"][0];
            assert_eq!(m["algorithm"], "pdq", "{path}: {m}");
            assert_eq!(m["sources"][0]["id"], id, "{path}: {m}");
            assert_eq!(m["orientation"], orientation, "{path}: {m}");
        }
    }
}

#[test]
fn without_libheif_a_heif_picture_is_an_error_naming_libheif1_never_clean() {
    let list = HashList::load(&root().join(DEMO), &Default::default()).unwrap();
    let matcher = Matcher::new(vec![list], MatchOptions::default()).unwrap();
    // The built-in decoders alone: no libheif, whether the machine has one or not.
    let options = ScanOptions {
        hashing: HashOptions { decoders: Decoders::BuiltinOnly, ..HashOptions::default() },
        ..ScanOptions::default()
    };
    let scanned = scan::scan(&[root().join("fixtures/heif")], &matcher, &options);
    let pictures: Vec<_> = scanned
        .files
        .iter()
        .filter(|file| file.path.extension().is_some_and(|e| e == "heic" || e == "avif"))
        .collect();
    assert_eq!(pictures.len(), 4);
    for file in pictures {
        assert_eq!(file.outcome.status(), Status::Error, "{}", file.path.display());
        let scan::Outcome::Scanned { perceptual_error: Some(error), .. } = &file.outcome else {
            panic!("{}: {:?}", file.path.display(), file.outcome);
        };
        assert!(
            matches!(error.kind, FileErrorKind::Unsupported { .. }),
            "{}: {error:?}",
            file.path.display()
        );
        assert!(error.to_string().contains("apt-get install libheif1"), "{error}");
    }
}
