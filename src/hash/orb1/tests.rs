use std::path::Path;

use image::{imageops, RgbImage};

use super::verify::{compare, Comparison};
use super::*;

fn fixture(path: &str) -> RgbImage {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path);
    image::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).to_rgb8()
}

const BRIDGE: &str = "conformance/pdq/images/reg-test-input/dih/bridge-1-original.jpg";
const PEN: &str = "conformance/pdq/images/reg-test-input/pen-and-coaster.png";

/// The better of comparing `query` as given and mirrored with `listed`, as the matcher does.
fn best(query: &Features, listed: &Signature) -> Comparison {
    let (a, b) = (compare(&query.signature, listed), compare(&query.mirrored, listed));
    if b.inliers > a.inliers {
        b
    } else {
        a
    }
}

/// The keypoints of `signature` in each cell of a 4×4 grid over its frame.
fn cells(signature: &Signature) -> [usize; 16] {
    let (w, h) = (u32::from(signature.width) * 4, u32::from(signature.height) * 4);
    let mut cells = [0; 16];
    for k in &signature.keypoints {
        cells[(u32::from(k.y) * 4 / h * 4 + u32::from(k.x) * 4 / w) as usize] += 1;
    }
    cells
}

#[test]
fn signatures_round_trip_through_bytes_and_base64() {
    let signature = Features::from_image(&fixture(PEN)).signature;
    assert_eq!(signature.len(), MAX_KEYPOINTS);
    assert_eq!((signature.width, signature.height), (800, 636));
    assert_eq!(Signature::from_bytes(&signature.to_bytes()).unwrap(), signature);
    let text = signature.to_base64();
    assert_eq!(text.len(), (10 + 37 * 500usize).div_ceil(3) * 4);
    assert_eq!(Signature::from_base64(&text).unwrap(), signature);
    // Damage is refused, not misread.
    assert!(Signature::from_base64(&text[..text.len() - 4]).is_err());
    assert!(Signature::from_base64(&text.replacen('A', "*", 1)).is_err());
    let mut bytes = signature.to_bytes();
    bytes[3] = 3;
    assert!(Signature::from_bytes(&bytes).unwrap_err().to_string().contains("version 3"));
    // 500 keypoints are too many for orb2.
    bytes[3] = 2;
    let refused = Signature::from_bytes(&bytes).unwrap_err().to_string();
    assert_eq!(refused, "500 keypoints, more than orb2's 384");
    // Bits past the last byte do not count, as they did not before the base64 crate read it.
    let flat = Signature {
        format: Format::Orb1,
        width: 800,
        height: 600,
        keypoints: vec![],
        descriptors: vec![],
    };
    let text = flat.to_base64();
    let loose = format!("{}AB==", text.strip_suffix("AA==").unwrap());
    assert_eq!(Signature::from_base64(&loose).unwrap(), flat);
}

#[test]
fn signature_bytes_are_pinned_for_this_version() {
    // Every list made with `--algorithms orb1` holds signatures computed once, by whichever
    // build made it, and is matched against signatures this build computes. The recipe leans
    // on `image`'s resizing (the frame and every pyramid level): should a new release of it,
    // or any change here, move a single keypoint or descriptor bit, every such list would
    // quietly start matching less. If this has to change, it is a new `Format` (a new
    // version byte and algorithm name for lists), never a new constant for an old one. A PNG,
    // so that no JPEG decoder's rounding is in the bytes.
    use sha2::{Digest, Sha256};
    let image = fixture(PEN);
    let orb1 = Features::from_image(&image).signature;
    let orb2 = Signature::orb2(&image);
    let pinned = [
        (&orb1, 1, "926904f30ccc4280a7530f9499a20ed7e167aadb366734585c909c802aaa5ab2"),
        (&orb2, 2, "162b119e7481f339df92a5c836b22057aa05067411dbafe0753ea9afeb4c87ac"),
    ];
    for (signature, version, digest) in pinned {
        assert_eq!(signature.to_bytes()[3], version);
        assert_eq!(hex::encode(Sha256::digest(signature.to_bytes())), digest, "{version}");
    }
}

#[test]
fn orb2_keeps_fewer_keypoints_spread_over_the_grid() {
    let image = fixture(BRIDGE);
    let (orb1, orb2) = (Features::from_image(&image), Signature::orb2(&image));
    assert_eq!((orb2.format, orb2.len()), (Format::Orb2, ORB2_KEYPOINTS));
    assert_eq!((orb2.width, orb2.height), (orb1.signature.width, orb1.signature.height));
    assert_eq!(Signature::from_base64(&orb2.to_base64()).unwrap(), orb2);
    assert!(quotas(ORB2_KEYPOINTS).iter().sum::<usize>() == ORB2_KEYPOINTS);
    assert!(cells(&orb2).iter().all(|&n| n >= 8), "{:?}", cells(&orb2));
    // A crop's orb1 signatures find the listed orb2 one.
    let crop = imageops::crop_imm(&image, 300, 100, 1040, 652).to_image();
    let found = best(&Features::from_image(&crop), &orb2);
    assert!(found.is_match(), "{found:?}");
}

#[test]
fn extraction_is_deterministic_and_mirrors_match_each_other() {
    let image = fixture(PEN);
    let (a, b) = (Features::from_image(&image), Features::from_image(&image));
    assert_eq!(a, b);
    assert!(compare(&a.signature, &b.signature).is_match());
    // A mirrored copy matches through the mirrored signature, not the plain one.
    let mirrored = Features::from_image(&imageops::flip_horizontal(&image));
    let through_mirror = compare(&mirrored.mirrored, &a.signature);
    assert!(through_mirror.is_match(), "{through_mirror:?}");
    assert!(through_mirror.inliers > 5 * compare(&mirrored.signature, &a.signature).inliers);
}

#[test]
fn a_crop_matches_its_original_with_the_crop_geometry() {
    let image = fixture(BRIDGE);
    let listed = Features::from_image(&image).signature;
    // 65 % of each side, off-centre, then halved: the frame scale is 0.65.
    let crop = imageops::crop_imm(&image, 300, 100, 1040, 652).to_image();
    let crop = imageops::resize(&crop, 520, 326, imageops::FilterType::Triangle);
    let found = best(&Features::from_image(&crop), &listed);
    assert!(found.is_match(), "{found:?}");
    let t = found.transform.unwrap();
    assert!((t.scale - 0.65).abs() < 0.02, "{t:?}");
    assert!(t.rotation.abs() < 1.0, "{t:?}");
    // The crop's origin lands at (300, 100) of 1600 pixels, i.e. (150, 50) of the frame.
    assert!((t.offset[0] - 150.0).abs() < 3.0 && (t.offset[1] - 50.0).abs() < 3.0, "{t:?}");
}

#[test]
fn unrelated_photographs_do_not_match() {
    let photos =
        [BRIDGE, PEN, "screening/distinct/astronaut.jpg", "screening/distinct/chelsea.jpg"];
    let features: Vec<Features> =
        photos.iter().map(|p| Features::from_image(&fixture(p))).collect();
    for (i, query) in features.iter().enumerate() {
        for (j, listed) in features.iter().enumerate() {
            let found = best(query, &listed.signature);
            assert_eq!(found.is_match(), i == j, "{} vs {}: {found:?}", photos[i], photos[j]);
        }
    }
}

#[test]
fn flat_and_tiny_images_have_too_few_keypoints() {
    let flat = RgbImage::from_pixel(640, 480, image::Rgb([90, 120, 200]));
    let features = Features::from_image(&flat);
    assert!(features.signature.is_empty() && features.mirrored.is_empty());
    assert_eq!(Signature::from_base64(&features.signature.to_base64()).unwrap().len(), 0);
    let tiny = Features::from_image(&RgbImage::from_pixel(1, 1, image::Rgb([0, 0, 0])));
    assert_eq!((tiny.signature.width, tiny.signature.height, tiny.signature.len()), (800, 800, 0));
    assert!(!compare(&features.signature, &tiny.signature).is_match());
    // A long thin strip is averaged only as far as its short side allows.
    let strip =
        Features::from_image(&RgbImage::from_fn(9000, 3, |x, _| image::Rgb([(x % 251) as u8; 3])));
    assert_eq!((strip.signature.width, strip.signature.height), (800, 1));
    assert_eq!(grey(&RgbImage::new(9000, 3)).dimensions(), (3000, 1));
}

#[test]
fn keypoints_spread_over_the_grid() {
    let signature = Features::from_image(&fixture(BRIDGE)).signature;
    assert!(cells(&signature).iter().all(|&n| n >= 10), "{:?}", cells(&signature));
    assert!(quotas(MAX_KEYPOINTS).iter().sum::<usize>() == MAX_KEYPOINTS);
}

#[test]
fn the_grey_division_is_exact() {
    let mut rng = crate::testing::Rng(0xd1f);
    // Every area the grey reduction divides by up to blocks of 64 × 64, at the edges of its
    // sums and at random ones.
    for n in 1..=64u32 {
        let area = n * n * 256;
        let divide = Divisor::new(area);
        let top = area * 255 + area / 2;
        let edges = [0, 1, area - 1, area, area + 1, top - 1, top, u32::MAX];
        for sum in edges.into_iter().chain((0..2_000).map(|_| rng.next() as u32)) {
            assert_eq!(divide.of(sum), sum / area, "{sum} / {area}");
        }
    }
}

#[test]
fn every_build_gives_the_same_signature() {
    // The dispatch picks an AVX2 build where the CPU has it; the portable one must agree bit
    // for bit, or a list made on one machine would match less on another.
    for (path, crop) in [(PEN, None), (BRIDGE, Some((37, 11, 301, 207)))] {
        let mut image = fixture(path);
        if let Some((x, y, w, h)) = crop {
            image = imageops::crop_imm(&image, x, y, w, h).to_image();
        }
        for format in [Format::Orb1, Format::Orb2] {
            assert_eq!(
                signatures(&image, format, true),
                signatures_inlined(&image, format, true),
                "{path} {format:?}"
            );
        }
    }
}
