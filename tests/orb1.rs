//! orb1 and orb2 end to end: a list made by `mediascreen hash --algorithms orb1` (or `orb2`)
//! flags a crop made at test time, with the keypoint evidence, and says which images had too
//! few keypoints.

use serde_json::Value;

mod run;
use run::{mediascreen, root};

const BRIDGE: &str = "fixtures/conformance/pdq/images/reg-test-input/dih/bridge-1-original.jpg";

#[test]
fn a_crop_of_a_listed_photo_is_flagged_by_its_keypoints() {
    a_crop_is_flagged_through_a_list_of("orb1", "500");
}

#[test]
fn a_crop_of_a_photo_listed_by_orb2_is_flagged_by_its_keypoints() {
    a_crop_is_flagged_through_a_list_of("orb2", "384");
}

/// Lists the bridge photo by `algorithm` (its signature of `keypoints` keypoints), and scans a
/// crop of it, a flat picture and an unrelated photo against that list.
fn a_crop_is_flagged_through_a_list_of(algorithm: &str, keypoints: &str) {
    let dir = tempfile::tempdir().unwrap();
    let hashed = mediascreen(&["hash", "--algorithms", algorithm, BRIDGE]);
    assert!(hashed.status.success(), "{}", String::from_utf8_lossy(&hashed.stderr));
    let list = dir.path().join("list.csv");
    std::fs::write(&list, &hashed.stdout).unwrap();
    let rows = String::from_utf8(hashed.stdout).unwrap();
    let row: Vec<&str> = rows.lines().nth(1).unwrap().split(',').collect();
    assert_eq!((row[0], row[2], row[4]), (algorithm, BRIDGE, keypoints));

    let scanned = dir.path().join("scanned");
    std::fs::create_dir(&scanned).unwrap();
    // 60 % of the width and 70 % of the height, off-centre, re-encoded as JPEG.
    let photo = image::open(root().join(BRIDGE)).unwrap();
    photo.crop_imm(480, 200, 960, 703).to_rgb8().save(scanned.join("crop.jpg")).unwrap();
    image::RgbImage::from_pixel(300, 200, image::Rgb([200, 40, 40]))
        .save(scanned.join("flat.png"))
        .unwrap();
    let other = "fixtures/screening/distinct/chelsea.jpg";
    std::fs::copy(root().join(other), scanned.join("cat.jpg")).unwrap();

    let output =
        mediascreen(&["scan", scanned.to_str().unwrap(), "--list", list.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let flagged = report["flagged"].as_array().unwrap();
    assert_eq!(flagged.len(), 1, "{flagged:?}");
    assert!(flagged[0]["path"].as_str().unwrap().ends_with("crop.jpg"));
    let m = &flagged[0]["matches"][0];
    assert_eq!(
        (&m["algorithm"], &m["id"], &m["orientation"]),
        (&algorithm.into(), &BRIDGE.into(), &"orig".into())
    );
    let k = &m["keypoints"];
    assert!(
        k["inliers"].as_u64().unwrap() >= 12 && k["good_matches"].as_u64().unwrap() >= 15,
        "{k}"
    );
    // The crop is 60 % as wide as the photo, and starts at (480, 200) of 1600 × 1004 pixels:
    // (240, 100) in the 800-pixel frame.
    assert!((k["scale"].as_f64().unwrap() - 0.6).abs() < 0.02, "{k}");
    assert!((k["offset"][0].as_f64().unwrap() - 240.0).abs() < 3.0, "{k}");
    assert!((k["offset"][1].as_f64().unwrap() - 100.0).abs() < 3.0, "{k}");
    let few = report["few_keypoints"].as_array().unwrap();
    assert_eq!(few.len(), 1, "{few:?}");
    assert!(few[0]["path"].as_str().unwrap().ends_with("flat.png"));
    assert_eq!(few[0]["keypoints"], 0);

    // The text form says what the match rests on.
    let text = mediascreen(&[
        "scan",
        scanned.to_str().unwrap(),
        "--list",
        list.to_str().unwrap(),
        "--format",
        "text",
    ]);
    let text = String::from_utf8(text.stdout).unwrap();
    let evidence = format!("{algorithm} inliers ");
    assert!(text.contains(&evidence) && text.contains(" (needs 12), scale "), "{text}");
}

#[test]
fn orb1_takes_no_threshold_and_bad_signatures_name_their_line() {
    let refused =
        mediascreen(&["scan", "fixtures/screening", "--list", "x.csv", "--threshold", "orb1=3"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("takes no threshold"));
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("bad.csv");
    std::fs::write(&list, "algorithm,hash\norb1,T1JCAQ==\n").unwrap();
    let output = mediascreen(&["scan", "fixtures/screening", "--list", list.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("bad.csv:2: bad orb1 signature"));
    // A signature of one version in a row of the other algorithm is refused, not read as
    // the row says.
    let hashed = mediascreen(&["hash", "--algorithms", "orb1", BRIDGE]);
    let rows = String::from_utf8(hashed.stdout).unwrap();
    std::fs::write(&list, rows.replace("\norb1,", "\norb2,")).unwrap();
    let output = mediascreen(&["scan", "fixtures/screening", "--list", list.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.csv:2: an orb1 signature in an orb2 row"), "{stderr}");
}
