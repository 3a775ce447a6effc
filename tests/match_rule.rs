//! `compare A B` and `scan A --list <B's hashes>` decide a match by the same rules: for every
//! pair here and every algorithm the list holds, the binary's two commands agree, including
//! where the PDQ quality gate decides (a faint picture, listed with its low quality).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

mod run;
use run::{mediascreen, stdout};

fn fail(what: &str, output: &Output) -> ! {
    panic!("{what}: {:?}\n{}", output.status, String::from_utf8_lossy(&output.stderr))
}

/// `mediascreen hash --algorithms ALGORITHMS FILE`, written to a list in `dir`.
fn list_of(dir: &Path, file: &str, algorithms: &str) -> PathBuf {
    let output = mediascreen(&["hash", "--algorithms", algorithms, file]);
    if !output.status.success() {
        fail("hash", &output);
    }
    let name = format!("{}-{}.csv", Path::new(file).file_stem().unwrap().display(), algorithms);
    let path = dir.join(name.replace(',', "-"));
    std::fs::write(&path, &output.stdout).unwrap();
    path
}

/// The algorithms of `compare A B`'s rows that say MATCH, and its exit status.
fn compared(a: &str, b: &str, flags: &[&str]) -> (BTreeSet<String>, i32) {
    let output = mediascreen(&[&["compare", a, b], flags].concat());
    let code = output.status.code().unwrap_or_else(|| fail("compare", &output));
    assert!(code == 0 || code == 1, "compare {a} {b}: exit {code}");
    let matched = stdout(&output)
        .lines()
        .filter(|line| !line.starts_with("A: ") && !line.starts_with("B: "))
        .filter(|line| line.contains("MATCH"))
        .map(|line| line.split_whitespace().next().unwrap().to_string())
        .collect();
    (matched, code)
}

/// The algorithms by which `scan FILE --list LIST` flagged the file, and its exit status.
fn scanned(file: &str, list: &Path, flags: &[&str]) -> (BTreeSet<String>, i32) {
    let list = list.to_str().unwrap();
    let output = mediascreen(&[&["scan", file, "--list", list, "--quiet"], flags].concat());
    let code = output.status.code().unwrap_or_else(|| fail("scan", &output));
    assert!(code == 0 || code == 1, "scan {file}: exit {code}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["summary"]["files"], 1, "{report}");
    let matched = report["flagged"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["matches"].as_array().unwrap())
        .map(|m| m["algorithm"].as_str().unwrap().to_string())
        .collect();
    (matched, code)
}

/// The algorithms a list holds rows of.
fn listed_algorithms(list: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(list).unwrap();
    text.lines().skip(1).map(|row| row.split(',').next().unwrap().to_string()).collect()
}

/// Asserts that compare and scan agree on `a` against `b`'s hashes of `algorithms` under
/// `flags`, and returns the algorithms that matched.
fn agree(dir: &Path, a: &str, b: &str, algorithms: &str, flags: &[&str]) -> BTreeSet<String> {
    let list = list_of(dir, b, algorithms);
    let listed = listed_algorithms(&list);
    assert!(!listed.is_empty(), "{b} gave no {algorithms} rows");
    let (by_compare, _) = compared(a, b, flags);
    let by_compare: BTreeSet<String> = by_compare.intersection(&listed).cloned().collect();
    let (by_scan, code) = scanned(a, &list, flags);
    assert_eq!(by_compare, by_scan, "compare and scan disagree on {a} against {b} {flags:?}");
    assert_eq!(code, i32::from(!by_scan.is_empty()), "{a} against {b}");
    by_scan
}

/// A smooth 512-pixel picture at `contrast` (1 is full), as a PNG in `dir`: at low contrast
/// PDQ's quality drops under the gate while the hash, from the signs of low frequencies,
/// barely moves. The dither keeps faint gradients from collapsing into bands.
fn picture(dir: &Path, name: &str, contrast: f32) -> String {
    let image = image::RgbImage::from_fn(512, 512, |x, y| {
        let dither = ((x * 7 + y * 13) % 10) as f32 / 10.0;
        let (x, y) = (x as f32 * 0.1875 / 9.0, y as f32 * 0.1875 / 7.0);
        let v = 60.0 * (x * 0.7 + 3.0).sin() * (y * 1.5).cos() + 50.0 * ((x + y) * 0.9).sin();
        image::Rgb([(128.0 + contrast * v + dither) as u8; 3])
    });
    let path = dir.join(name);
    image.save(&path).unwrap();
    path.to_str().unwrap().to_string()
}

/// The PDQ quality `mediascreen hash` gives a file.
fn pdq_quality(file: &str) -> u8 {
    let output = mediascreen(&["hash", "--algorithms", "pdq", file]);
    let text = stdout(&output);
    let row = text.lines().nth(1).expect("a pdq row");
    row.split(',').nth(4).unwrap().parse().unwrap()
}

#[test]
fn a_faint_picture_is_judged_alike_on_either_side() {
    let dir = tempfile::tempdir().unwrap();
    let good = picture(dir.path(), "good.png", 1.0);
    let faint = picture(dir.path(), "faint.png", 0.2);
    let (good_q, faint_q) = (pdq_quality(&good), pdq_quality(&faint));
    assert!(good_q >= 50 && faint_q < 50, "qualities {good_q} and {faint_q}");
    let pdq = BTreeSet::from(["pdq".to_string()]);
    let none = BTreeSet::new();
    // Without a gate the two are the same picture to PDQ.
    let open = ["--pdq-min-quality", "0"];
    assert_eq!(agree(dir.path(), &good, &faint, "pdq", &open), pdq);
    // With it, a faint hash matches nothing, whether it is scanned or listed.
    for (a, b) in [(&good, &faint), (&faint, &good), (&faint, &faint)] {
        assert_eq!(agree(dir.path(), a, b, "pdq", &[]), none, "{a} against {b}");
    }
    assert_eq!(agree(dir.path(), &good, &good, "pdq", &[]), pdq);
    let at = faint_q.to_string();
    assert_eq!(agree(dir.path(), &good, &faint, "pdq", &["--pdq-min-quality", &at]), pdq);

    // A list that records no quality is trusted: the faint hash then matches.
    let list = list_of(dir.path(), &faint, "pdq");
    let text = std::fs::read_to_string(&list).unwrap();
    let blanked: String = text
        .lines()
        .map(|row| {
            let mut fields: Vec<&str> = row.split(',').collect();
            if fields[0] == "pdq" {
                fields[4] = "";
            }
            fields.join(",") + "\n"
        })
        .collect();
    let unrecorded = dir.path().join("faint-without-quality.csv");
    std::fs::write(&unrecorded, blanked).unwrap();
    assert_eq!(scanned(&good, &unrecorded, &[]).0, pdq);
}

#[test]
fn fixture_pairs_are_judged_alike() {
    let dir = tempfile::tempdir().unwrap();
    let edited = "fixtures/screening/edited";
    let half = format!("{edited}/bridge-half-size.jpg");
    let algorithms = "pdq,phash,dhash,ahash,md5,orb1";
    let cases = [
        (format!("{edited}/bridge-cropped.jpg"), half.clone(), "pdq phash dhash ahash orb1"),
        (format!("{edited}/bridge-rotated-90.jpg"), half.clone(), "pdq"),
        (format!("{edited}/bridge-mirrored.jpg"), half.clone(), "pdq orb1"),
        ("fixtures/screening/distinct/astronaut.jpg".into(), half.clone(), ""),
        (half.clone(), half.clone(), "pdq phash dhash ahash md5 orb1"),
    ];
    for (a, b, expected) in &cases {
        let expected: BTreeSet<String> = expected.split_whitespace().map(String::from).collect();
        for flags in [&[][..], &["--no-rotations"], &["--threshold", "pdq=8"]] {
            let found = agree(dir.path(), a, b, algorithms, flags);
            if flags.is_empty() {
                assert_eq!(found, expected, "{a} against {b}");
            }
        }
    }
    // Too flat to hash reliably: not matched even against itself.
    let flat = "fixtures/screening/distinct/q0003-low-quality.jpg";
    let found = agree(dir.path(), flat, flat, "pdq", &[]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn videos_are_judged_alike() {
    let dir = tempfile::tempdir().unwrap();
    let video = "fixtures/video/bridge-in-video.mp4";
    let picture = "fixtures/screening/edited/bridge-half-size.jpg";
    // A listed picture shown in a video: the frames are scanned PDQ hashes under the PDQ
    // gate, whatever the vPDQ gate says; which file is A does not matter.
    let pdq = BTreeSet::from(["pdq".to_string()]);
    assert_eq!(agree(dir.path(), video, picture, "pdq", &[]), pdq);
    assert_eq!(agree(dir.path(), video, picture, "pdq", &["--vpdq-min-quality", "100"]), pdq);
    assert!(agree(dir.path(), video, picture, "pdq", &["--threshold", "pdq=0"]).is_empty());
    assert!(compared(picture, video, &[]).0.contains("pdq"));

    let clip = "fixtures/video/chair-clip.mp4";
    let reencoded = "fixtures/video/chair-reencoded.mp4";
    let vpdq = BTreeSet::from(["vpdq".to_string()]);
    assert_eq!(agree(dir.path(), clip, reencoded, "vpdq", &[]), vpdq);
    agree(dir.path(), clip, reencoded, "vpdq", &["--vpdq-query-pct", "100"]);
    assert!(agree(dir.path(), "fixtures/video/unrelated.mp4", reencoded, "vpdq", &[]).is_empty());
}
