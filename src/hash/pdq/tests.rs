//! Tests of the whole hash (reference vectors, quality, dihedral variants, bit order), and the
//! test images and reference filter the submodules' tests share.

use super::box_filter::{box_filter_lanes, Lanes, Reach, LANES};
use super::downsample::luma_from_rgb;
use super::*;

/// A deterministic, detailed test image.
pub(super) fn pattern(width: usize, height: usize) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            let base = (x * 37 + y * 91 + (x * y) % 23) as u32;
            rgb.extend_from_slice(&[
                (base % 251) as u8,
                ((base * 7 + x as u32) % 253) as u8,
                ((base * 13 + 3 * y as u32) % 255) as u8,
            ]);
        }
    }
    rgb
}

// Reference vectors for the paths the fixtures' exact vectors (all 512x512, box window 4)
// do not reach: the minimum size, the unblurred 64x64 case, window 1 (not a no-op: its
// running sum rounds), odd and even windows, non-square shapes. Hash bits alone barely
// notice a last-bit error in the blur or the DCT, so each vector also carries a digest
// (FNV-1a 64 over the little-endian bytes of the 256 f32 coefficients, row-major) that
// must match the reference's coefficients bit for bit.
//
// Produced with Meta's C++ core via the `pdqhash` 0.2.8 wheel (`compute_float` for the
// coefficients, `compute` for hash and quality) on the pixels `synthetic_rgb` generates,
// ported to numpy. That wrapper computes luma in f64 and rounds it to f32, unlike the C++
// core's f32 arithmetic, so the generator nudges every pixel until both agree.

fn splitmix64_finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// An integer-only pattern (triangle waves plus SplitMix64 noise) with f32-safe luma.
pub(super) fn synthetic_rgb(width: usize, height: usize, seed: u64) -> Vec<u8> {
    let triangle = |t: u64, period: u64| (t % (2 * period)).abs_diff(period) * 255 / period;
    let (w, h) = (width as u64, height as u64);
    let mut rgb = Vec::with_capacity(width * height * 3);
    for y in 0..h {
        for x in 0..w {
            let mut pixel = [0u8; 3];
            for (ch, value) in (0u64..).zip(pixel.iter_mut()) {
                let t = x * (ch + 2) + y * (3 - ch) + x * y / (w + 7 * ch + 1);
                let smooth = triangle(t, 97 + 31 * ch);
                let offset = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                let noise = splitmix64_finalize(((y * w + x) * 3 + ch).wrapping_add(offset)) % 61;
                *value = ((smooth * 3 / 4 + noise) % 256) as u8;
            }
            let [r, mut g, mut b] = pixel;
            loop {
                let single = luma_of(&[r, g, b])[0];
                let double =
                    (f64::from(r) * 0.299 + f64::from(g) * 0.587 + f64::from(b) * 0.114) as f32;
                if single == double {
                    break;
                }
                g = g.wrapping_add(1);
                b = b.wrapping_add(1);
            }
            rgb.extend_from_slice(&[r, g, b]);
        }
    }
    rgb
}

fn coefficient_digest(coefficients: &Coefficients) -> u64 {
    let mut digest: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in coefficients.iter().flatten().flat_map(|c| c.to_le_bytes()) {
        digest = (digest ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
    }
    digest
}

#[test]
fn synthetic_vectors_match_the_reference_bit_for_bit() {
    // (width, height, seed, quality, hash, coefficient digest)
    const VECTORS: &[(usize, usize, u64, u8, &str, u64)] = &[
        (
            5,
            5,
            0,
            24,
            "de37c1f021c83c0f3b0e64d99e279b26e4d9c3f0de37c1f021c83c0f3b0e64d9",
            0x878fbbb96e8751b0,
        ),
        (
            7,
            300,
            1,
            100,
            "389c6c69c2976c7996723a946d61c12f398cc67334386ad5c06f3b34e4db9b86",
            0xc8671f77f08cb458,
        ),
        (
            64,
            64,
            2,
            100,
            "b81563a45fadbd15cf0580711de5f209602dd74930bd03e94cd903f98aabbabb",
            0xeb3d3cf1ef0a686a,
        ),
        (
            65,
            64,
            3,
            100,
            "128cb206be5c95218f47aa6d95a972ed8da5ae4924bd31e9e91925b13aab8abb",
            0x34bfb9b5299c7cf9,
        ),
        (
            64,
            65,
            4,
            100,
            "bd8d2540581b1821a34d34c159b9c6a541696a4d5c9d1fe9be5d5b71eba34abb",
            0xf1147e9acc9742e6,
        ),
        (
            129,
            200,
            5,
            100,
            "d1a201929502ad531b6623520fa3ff5a0556aa07535ed7568a05f7fcabe4babc",
            0x3f68ffa24d1f0769,
        ),
        (
            300,
            257,
            6,
            100,
            "6b3554bfab3554bfab3500bf552a007f51ea556a556aaa5545d5fe4000c2ff80",
            0x7caade1001bf7671,
        ),
        (
            640,
            480,
            7,
            100,
            "7fffffff20026bff2aaa75555555ffffffffc00080008002c555807580008155",
            0x3f1dca316d551e8c,
        ),
        (
            1000,
            700,
            8,
            100,
            "5555abaaffffeebeffffffff0000027c04513fff1145ffff0000000a04010009",
            0xbc744810b349eb04,
        ),
        (
            1601,
            1003,
            9,
            100,
            "ffff000004100000aaaad514af6bdf56feabffffa2090000cfdf1515fbfb5554",
            0xc5c4959c7e31ea69,
        ),
        (
            333,
            2000,
            10,
            100,
            "e38083800f80ffafff80ff80bf80ff807f80ff807f80ff807f80f7800f80ff80",
            0xe1e7acc092c46519,
        ),
    ];
    let mut failures = Vec::new();
    for &(width, height, seed, quality, hash, digest) in VECTORS {
        let features = PdqFeatures::from_rgb(width, height, &synthetic_rgb(width, height, seed));
        let actual_digest = coefficient_digest(features.coefficients.as_deref().unwrap());
        if features.quality() != quality
            || features.hash().to_hex() != hash
            || actual_digest != digest
        {
            failures.push(format!(
                "{width}x{height}: got q={} {} {actual_digest:#018x}, \
                 expected q={quality} {hash} {digest:#018x}",
                features.quality(),
                features.hash()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        VECTORS.len(),
        failures.join("\n")
    );
}

#[test]
fn too_small_images_hash_to_zero_with_quality_zero() {
    let zero = HashValue::from_bytes(vec![0u8; 32]);
    for (w, h) in [(4, 100), (100, 4), (4, 4), (1, 1), (0, 0)] {
        let features = PdqFeatures::from_rgb(w, h, &pattern(w, h));
        assert_eq!(features.quality(), 0, "{w}x{h}");
        assert_eq!(features.hash(), zero, "{w}x{h}");
        for d in Dihedral::ALL {
            assert_eq!(features.dihedral(d), zero, "{w}x{h} {}", d.name());
        }
    }
    // The smallest hashable size does hash.
    let features = PdqFeatures::from_rgb(5, 5, &pattern(5, 5));
    assert_ne!(features.hash(), zero);
}

/// The luma of every pixel, row-major.
pub(super) fn luma_of(rgb: &[u8]) -> Vec<f32> {
    let mut luma = vec![0.0; rgb.len() / 3];
    luma_from_rgb(rgb, &mut luma);
    luma
}

/// The reference's 1-D box filter of `input`, run in lane 0 of [`box_filter_lanes`].
pub(super) fn filter_row(input: &[f32], window: usize) -> Vec<f32> {
    let lanes: Vec<Lanes> = input.iter().map(|&x| [x; LANES]).collect();
    let reach = Reach::new(window, input.len(), false);
    let mut output = vec![0.0; input.len()];
    box_filter_lanes([&lanes], &reach, |o, [sum], divisor| output[o] = divisor.mean(sum[0]));
    output
}

#[test]
fn a_64x64_input_skips_the_blur() {
    let rgb = pattern(64, 64);
    let luma = luma_of(&rgb);
    let mut unblurred = [[0.0f32; 64]; 64];
    for (row, chunk) in unblurred.iter_mut().zip(luma.chunks_exact(64)) {
        row.copy_from_slice(chunk);
    }
    let expected = PdqFeatures::from_downsampled(&unblurred);
    let actual = PdqFeatures::from_rgb(64, 64, &rgb);
    assert_eq!(actual.coefficients, expected.coefficients);
    assert_eq!(actual.quality(), expected.quality());

    // The test can tell: running the window-1 blur anyway changes some values, because its
    // running sum rounds.
    let blurred: Vec<f32> = luma.chunks_exact(64).flat_map(|row| filter_row(row, 1)).collect();
    assert_ne!(blurred, luma);
}

#[test]
fn flat_images_have_quality_zero() {
    for (w, h) in [(64, 64), (100, 80), (640, 480)] {
        let rgb: Vec<u8> = [120u8, 30, 200].repeat(w * h);
        assert_eq!(PdqFeatures::from_rgb(w, h, &rgb).quality(), 0, "{w}x{h}");
    }
}

#[test]
fn detailed_images_have_high_quality() {
    assert_eq!(PdqFeatures::from_rgb(300, 200, &pattern(300, 200)).quality(), 100);
}

#[test]
fn dihedral_inverse_is_an_involution_and_names_are_unique() {
    for d in Dihedral::ALL {
        assert_eq!(d.inverse().inverse(), d);
    }
    assert_eq!(Dihedral::Rot90.inverse(), Dihedral::Rot270);
    assert_eq!(Dihedral::Rot180.inverse(), Dihedral::Rot180);
    let mut names: Vec<&str> = Dihedral::ALL.iter().map(|d| d.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 8);
}

#[test]
fn variant_then_inverse_restores_the_original_hash() {
    let features = PdqFeatures::from_rgb(200, 150, &pattern(200, 150));
    let original = *features.coefficients.clone().unwrap();
    for d in Dihedral::ALL {
        // Apply d, then d.inverse(), at the coefficient level.
        let mut once = [[0.0f32; 16]; 16];
        for (u, row) in original.iter().enumerate() {
            for (v, &value) in row.iter().enumerate() {
                let ((tu, tv), negate) = d.map(u, v);
                once[tu][tv] = if negate { -value } else { value };
            }
        }
        let back = PdqFeatures { coefficients: Some(Box::new(once)), variants: None, quality: 100 }
            .dihedral(d.inverse());
        assert_eq!(back, features.hash(), "{}", d.name());
    }
}

#[test]
fn hash_bits_are_in_reference_hex_order() {
    // Only coefficient (0,0) above the median (all others equal): the last hex digit's
    // lowest bit. Only (15,15): the first hex digit's highest bit.
    let mut c = [[0.0f32; 16]; 16];
    c[0][0] = 1.0;
    let hex = threshold_at_median(&c).to_hex();
    assert_eq!(hex, format!("{}1", "0".repeat(63)));
    let mut c = [[0.0f32; 16]; 16];
    c[15][15] = 1.0;
    assert_eq!(threshold_at_median(&c).to_hex(), format!("8{}", "0".repeat(63)));
}
