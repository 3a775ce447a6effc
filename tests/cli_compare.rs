//! `mediascreen compare A B` end to end: every algorithm's distance, rotations, thresholds,
//! pictures against videos, and the exit status.

mod run;
use run::{code, mediascreen, stderr};

#[test]
fn compare_gives_every_distance_and_exits_one_on_a_match() {
    let compare = |a: &str, b: &str, extra: &[&str]| -> (i32, String) {
        let output = mediascreen(&[&["compare", a, b][..], extra].concat());
        (code(&output), String::from_utf8(output.stdout).unwrap())
    };
    let rotated = "fixtures/screening/edited/bridge-rotated-90.jpg";
    let half = "fixtures/screening/edited/bridge-half-size.jpg";
    let (status, text) = compare(rotated, half, &[]);
    assert_eq!(status, 1, "{text}");
    let line = |text: &str, algorithm: &str| -> String {
        text.lines().find(|l| l.starts_with(&format!("{algorithm} "))).unwrap().to_string()
    };
    let pdq = line(&text, "pdq");
    assert!(pdq.contains("MATCH") && pdq.contains("A is B rot90"), "{pdq}");
    for algorithm in ["phash", "dhash", "ahash", "md5", "sha1", "sha256"] {
        assert!(line(&text, algorithm).contains("no match"), "{text}");
    }
    // With rotations off the pair does not match; a recompressed copy 2 bits away does not
    // match by PDQ under a threshold of 1 (it still does by the 64-bit hashes).
    assert_eq!(compare(rotated, half, &["--no-rotations"]).0, 0);
    let recompressed = "fixtures/screening/edited/bridge-recompressed-q20.jpg";
    assert!(line(&compare(recompressed, half, &[]).1, "pdq").contains("d=2/256"));
    let strict = compare(recompressed, half, &["--threshold", "pdq=1"]).1;
    assert!(line(&strict, "pdq").contains("no match"), "{strict}");

    let (status, text) = compare("fixtures/screening/distinct/astronaut.jpg", half, &[]);
    assert_eq!(status, 0, "{text}");
    assert!(line(&text, "pdq").contains("no match"));
    assert!(line(&text, "orb1").contains("no match"), "{text}");
    assert!(line(&text, "orb2").contains("no match"), "{text}");
    // A crop, by its keypoints: B's orb1 and orb2 signatures, as a list made from B holds.
    let (_, text) = compare("fixtures/screening/edited/bridge-cropped.jpg", half, &[]);
    assert!(line(&text, "orb1").contains("MATCH  scale"), "{text}");
    assert!(line(&text, "orb2").contains("MATCH  scale"), "{text}");

    // A picture against a video's frames, and two videos.
    let (status, text) = compare("fixtures/video/bridge-in-video.mp4", half, &[]);
    assert_eq!(status, 1, "{text}");
    assert!(line(&text, "pdq").contains("closest frame of A at 4.000 s"), "{text}");
    let (status, text) =
        compare("fixtures/video/chair-clip.mp4", "fixtures/video/chair-padded.mp4", &[]);
    assert_eq!(status, 1, "{text}");
    assert!(line(&text, "vpdq").contains("A 100.00 %"), "{text}");
    let (status, _) = compare("fixtures/video/chair-clip.mp4", "fixtures/video/unrelated.mp4", &[]);
    assert_eq!(status, 0);

    let missing = mediascreen(&["compare", half, "fixtures/no-such-file.jpg"]);
    assert_eq!(code(&missing), 2);
    assert!(stderr(&missing).contains("no-such-file.jpg"));
}
