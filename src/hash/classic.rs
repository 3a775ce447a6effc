//! The 64-bit hashes of Python imagehash 4.3: pHash, dHash and aHash (`hash_size` 8).
//!
//! Owns their definitions and bit order: bit `i` of imagehash's flattened boolean array is bit
//! `7 - i % 8` of byte `i / 8`, so `HashValue::to_hex` prints what `str(hash)` prints.
//! It must not read files or decode images; callers hand it decoded pixels.

use std::sync::LazyLock;

use image::imageops::{self, FilterType};
use image::{GrayImage, RgbImage};
use image_hasher::{BitOrder, HashAlg, Hasher, HasherConfig};

use super::HashValue;

/// imagehash resizes with PIL's LANCZOS (a.k.a. ANTIALIAS); this is image's nearest equivalent.
const FILTER: FilterType = FilterType::Lanczos3;

/// Grey conversion as Pillow's convert("L") does it, from decoded RGB8 pixels. Computed once per
/// image and shared by the three hashes.
///
/// Pillow uses ITU-R 601 weights in 16-bit fixed point, rounded; `image`'s `to_luma8` uses
/// Rec. 709 weights, which shifts grey levels enough to flip bits near a threshold.
pub fn grey_from_rgb(rgb: &RgbImage) -> GrayImage {
    let (width, height) = rgb.dimensions();
    let luma = rgb
        .as_raw()
        .chunks_exact(3)
        .map(|p| {
            let l = u32::from(p[0]) * 19595 + u32::from(p[1]) * 38470 + u32::from(p[2]) * 7471;
            ((l + 0x8000) >> 16) as u8
        })
        .collect();
    GrayImage::from_raw(width, height, luma).expect("one grey byte per RGB pixel")
}

/// imagehash's `phash`: 32x32 grey, 2-D DCT-II, bit = low-frequency 8x8 coefficient > their median.
pub fn phash(grey: &GrayImage) -> HashValue {
    let small = imageops::resize(grey, 32, 32, FILTER);
    let pixels: Vec<f64> = small.as_raw().iter().map(|&p| f64::from(p)).collect();
    let c = &*DCT_ROWS;

    // Only the 8 lowest frequencies on each axis are kept, so the separable DCT is two small
    // matrix products (C · X · Cᵀ) rather than two full 32-point transforms.
    let mut cols = [[0.0f64; 32]; 8]; // C · X: frequency along y, pixel column along x
    for (k, row) in cols.iter_mut().enumerate() {
        for (y, line) in pixels.chunks_exact(32).enumerate() {
            for (acc, &p) in row.iter_mut().zip(line) {
                *acc += c[k][y] * p;
            }
        }
    }
    let mut low = [0.0f64; 64];
    for (ky, row) in cols.iter().enumerate() {
        for kx in 0..8 {
            low[ky * 8 + kx] = row.iter().zip(&c[kx]).map(|(a, b)| a * b).sum();
        }
    }

    // Coefficients that are exactly zero in theory (every AC one of a flat image, say) come out
    // as rounding noise here but as exact zeros from scipy; left as noise they would turn into
    // random bits around a median of zero.
    for v in &mut low {
        if v.abs() < 1e-6 {
            *v = 0.0;
        }
    }
    let mut sorted = low;
    sorted.sort_by(f64::total_cmp);
    let median = (sorted[31] + sorted[32]) / 2.0;
    from_bits(low.iter().map(|&v| v > median))
}

/// Unnormalised DCT-II basis (scipy.fftpack's, without the factor 2, which a median ignores):
/// `cos(pi * k * (2n + 1) / 64)` for the 8 lowest frequencies `k` of a 32-point signal.
static DCT_ROWS: LazyLock<[[f64; 32]; 8]> = LazyLock::new(|| {
    let mut c = [[0.0; 32]; 8];
    for (k, row) in c.iter_mut().enumerate() {
        for (n, v) in row.iter_mut().enumerate() {
            *v = (std::f64::consts::PI * k as f64 * (2 * n + 1) as f64 / 64.0).cos();
        }
    }
    c
});

/// imagehash's `dhash`: 9x8 grey, bit = pixel brighter than its left neighbour, row by row.
pub fn dhash(grey: &GrayImage) -> HashValue {
    // image_hasher's Gradient is exactly this comparison; MsbFirst gives imagehash's bit order.
    static HASHER: LazyLock<Hasher> = LazyLock::new(|| {
        HasherConfig::new()
            .hash_alg(HashAlg::Gradient)
            .hash_size(8, 8)
            .resize_filter(FILTER)
            .bit_order(BitOrder::MsbFirst)
            .to_hasher()
    });
    HashValue::from_bytes(HASHER.hash_image(grey).as_bytes())
}

/// imagehash's `average_hash`: 8x8 grey, bit = pixel > mean of the 64 pixels.
pub fn ahash(grey: &GrayImage) -> HashValue {
    // Not image_hasher's Mean: it compares with `>=` against a mean truncated to an integer,
    // which sets every bit of a flat image where imagehash sets none.
    let small = imageops::resize(grey, 8, 8, FILTER);
    let sum: u32 = small.as_raw().iter().map(|&p| u32::from(p)).sum();
    let mean = f64::from(sum) / 64.0;
    from_bits(small.as_raw().iter().map(|&p| f64::from(p) > mean))
}

/// Packs 64 booleans, first one most significant, into hex-order bytes.
fn from_bits(bits: impl Iterator<Item = bool>) -> HashValue {
    let mut bytes = [0u8; 8];
    for (i, bit) in bits.enumerate() {
        bytes[i / 8] |= u8::from(bit) << (7 - i % 8);
    }
    HashValue::from_bytes(bytes.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grey image from a function of (x, y).
    fn grey(width: u32, height: u32, f: impl Fn(u32, u32) -> u8) -> GrayImage {
        GrayImage::from_fn(width, height, |x, y| image::Luma([f(x, y)]))
    }

    // The synthetic images below are already at hash resolution, so neither Pillow nor `image`
    // resamples them and the expected hex follows from imagehash's definitions alone.

    #[test]
    fn dhash_bits_are_row_major_first_bit_most_significant() {
        // 9x8, columns 0-3 dark, 4-8 bright: in each row only comparison 3 (column 4 > column 3)
        // is true, which is bit 3 of 0..8, so 0b0001_0000 per row.
        let img = grey(9, 8, |x, _| if x < 4 { 40 } else { 200 });
        assert_eq!(dhash(&img).to_hex(), "1010101010101010");
    }

    #[test]
    fn ahash_bits_are_row_major_first_bit_most_significant() {
        // Left half dark: each row is 0000_1111.
        let left_dark = grey(8, 8, |x, _| if x < 4 { 40 } else { 200 });
        assert_eq!(ahash(&left_dark).to_hex(), "0f0f0f0f0f0f0f0f");
        // Top half bright: the first four rows are the first four bytes.
        let top_bright = grey(8, 8, |_, y| if y < 4 { 200 } else { 40 });
        assert_eq!(ahash(&top_bright).to_hex(), "ffffffff00000000");
    }

    #[test]
    fn resampled_half_split_images_match_imagehash() {
        // From imagehash 4.3.2 on the same 64x64 images. dHash's 5a comes from Lanczos ringing
        // at the 64 -> 9 resize; pHash's even horizontal frequencies and all vertical ones are
        // exactly zero, which only the noise flush reproduces.
        let left_dark = grey(64, 64, |x, _| if x < 32 { 40 } else { 200 });
        assert_eq!(phash(&left_dark).to_hex(), "9100000000000000");
        assert_eq!(dhash(&left_dark).to_hex(), "5a5a5a5a5a5a5a5a");
        assert_eq!(ahash(&left_dark).to_hex(), "0f0f0f0f0f0f0f0f");
        let top_bright = grey(64, 64, |_, y| if y < 32 { 200 } else { 40 });
        assert_eq!(phash(&top_bright).to_hex(), "8080000000800000");
        assert_eq!(dhash(&top_bright).to_hex(), "0000000000000000");
        assert_eq!(ahash(&top_bright).to_hex(), "ffffffff00000000");
    }

    #[test]
    fn uniform_image_sets_no_comparison_bits() {
        // imagehash compares with a strict `>`, so nothing is brighter than a flat image's mean or
        // its neighbour; for pHash only the DC coefficient exceeds the median of zeros.
        for level in [0u8, 1, 128, 255] {
            let img = grey(50, 30, |_, _| level);
            assert_eq!(ahash(&img).to_hex(), "0000000000000000", "level {level}");
            assert_eq!(dhash(&img).to_hex(), "0000000000000000", "level {level}");
            let dc = if level == 0 { "0000000000000000" } else { "8000000000000000" };
            assert_eq!(phash(&img).to_hex(), dc, "level {level}");
        }
    }

    #[test]
    fn grey_matches_pillow_convert_l() {
        // Values from Pillow 13: Image.new("RGB", (1, 1), rgb).convert("L").getpixel((0, 0)).
        let cases = [
            ([0, 0, 0], 0),
            ([255, 255, 255], 255),
            ([255, 0, 0], 76),
            ([0, 255, 0], 150),
            ([0, 0, 255], 29),
            ([10, 200, 30], 124),
            // Rounding the decimal weights 0.299/0.587/0.114 gives 52 here; Rec. 709 gives 62.
            ([0, 84, 28], 53),
        ];
        for (rgb, l) in cases {
            let img = RgbImage::from_pixel(1, 1, image::Rgb(rgb));
            assert_eq!(grey_from_rgb(&img).as_raw()[..], [l], "{rgb:?}");
        }
    }
}
