//! The 64-bit hashes of Python imagehash 4.3: pHash, dHash and aHash (`hash_size` 8).
//!
//! Owns their definitions and bit order: bit `i` of imagehash's flattened boolean array is bit
//! `7 - i % 8` of byte `i / 8`, so `HashValue::to_hex` prints what `str(hash)` prints. Also owns
//! the reduction to hash resolution: a Pillow-exact grey conversion and Lanczos resize, since a
//! grey level off here and there flips bits that sit on a threshold.
//! It must not read files or decode images; callers hand it decoded pixels.

use std::borrow::Cow;
use std::sync::LazyLock;

use image::{GrayImage, RgbImage};

use super::HashValue;

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
    let small = resize_lanczos(grey, 32, 32);
    let pixels: Vec<f64> = small.iter().map(|&p| f64::from(p)).collect();
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
    let small = resize_lanczos(grey, 9, 8);
    from_bits(small.chunks_exact(9).flat_map(|row| row.windows(2).map(|pair| pair[1] > pair[0])))
}

/// imagehash's `average_hash`: 8x8 grey, bit = pixel > mean of the 64 pixels.
pub fn ahash(grey: &GrayImage) -> HashValue {
    // The mean is a float, as numpy's is: truncating it to an integer would set every bit of a
    // flat image, where imagehash sets none.
    let small = resize_lanczos(grey, 8, 8);
    let sum: u32 = small.iter().map(|&p| u32::from(p)).sum();
    let mean = f64::from(sum) / 64.0;
    from_bits(small.iter().map(|&p| f64::from(p) > mean))
}

/// Packs 64 booleans, first one most significant, into hex-order bytes.
fn from_bits(bits: impl Iterator<Item = bool>) -> HashValue {
    let mut bytes = [0u8; 8];
    for (i, bit) in bits.enumerate() {
        bytes[i / 8] |= u8::from(bit) << (7 - i % 8);
    }
    HashValue::from_bytes(bytes.to_vec())
}

/// Half-width of Pillow's Lanczos window, in source pixels when not downscaling.
const LANCZOS_SUPPORT: f64 = 3.0;

/// Resizes grey pixels as Pillow 13's `Image.resize((width, height), Image.LANCZOS)` does for a
/// mode "L" image (no `box`, no `reducing_gap`), bit for bit; returns the pixels row by row.
///
/// `image`'s Lanczos3 differs from Pillow's by a grey level here and there, which flips hash bits
/// sitting on a threshold, so this follows Pillow's own arithmetic (libImaging/Resample.c): two
/// one-dimensional passes, each skipped when its dimension is unchanged, weights in fixed point,
/// and the intermediate image rounded and clipped to 8 bits, which makes the pass order matter.
fn resize_lanczos(src: &GrayImage, width: u32, height: u32) -> Vec<u8> {
    let (in_width, in_height) = (src.width() as usize, src.height() as usize);
    let (width, height) = (width as usize, height as usize);
    let source = src.as_raw().as_slice();
    if source.is_empty() {
        return vec![0; width * height];
    }

    // Pillow 13 runs the vertical pass first when the height loses more than twice as many
    // pixels as the width does (to make the horizontal pass cheaper). Older releases (11.0, for
    // one) always ran the horizontal pass first, so their hashes of such images can differ.
    let height_loss = in_height as i64 - height as i64;
    let width_loss = in_width as i64 - width as i64;
    if height_loss > 0 && height_loss > 2 * width_loss {
        let plane = vertical_pass(source, in_width, 0, &Weights::new(in_height, height));
        return if width == in_width {
            plane
        } else {
            horizontal_pass(&plane, in_width, &Weights::new(in_width, width))
        };
    }

    // Horizontal first, and only over the source rows the vertical pass will read: row `r` of
    // its output is source row `r + first_row`.
    let vertical = Weights::new(in_height, height);
    let (plane, first_row) = if width == in_width {
        (Cow::Borrowed(source), 0)
    } else {
        let rows = vertical.span();
        let band = &source[rows.start * in_width..rows.end * in_width];
        let horizontal = Weights::new(in_width, width);
        (Cow::Owned(horizontal_pass(band, in_width, &horizontal)), rows.start)
    };
    if height == in_height {
        plane.into_owned()
    } else {
        vertical_pass(&plane, width, first_row, &vertical)
    }
}

/// Resamples every row of `rows` (rows `in_width` long) to `weights.len()` pixels.
fn horizontal_pass(rows: &[u8], in_width: usize, weights: &Weights) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() / in_width * weights.len());
    for row in rows.chunks_exact(in_width) {
        out.extend((0..weights.len()).map(|x| {
            let (start, taps) = weights.taps(x);
            let sum = taps
                .iter()
                .zip(&row[start..])
                .fold(ROUNDING, |sum, (&k, &p)| sum + k * i32::from(p));
            to_u8(sum)
        }));
    }
    out
}

/// Resamples the columns of `plane` (rows `width` long, its first row being source row
/// `first_row`) to `weights.len()` rows.
fn vertical_pass(plane: &[u8], width: usize, first_row: usize, weights: &Weights) -> Vec<u8> {
    let mut out = Vec::with_capacity(width * weights.len());
    // Whole rows at a time, to read the plane in memory order; each pixel still adds up its taps
    // in Pillow's order.
    let mut sums = vec![0i32; width];
    for y in 0..weights.len() {
        let (start, taps) = weights.taps(y);
        let rows = plane[(start - first_row) * width..].chunks_exact(width);
        sums.fill(ROUNDING);
        for (&k, row) in taps.iter().zip(rows) {
            for (sum, &p) in sums.iter_mut().zip(row) {
                *sum += k * i32::from(p);
            }
        }
        out.extend(sums.iter().map(|&sum| to_u8(sum)));
    }
    out
}

/// Pillow's fixed-point precision for 8-bit resampling: 32 bits less 8 for the pixel value and
/// 2 of headroom, because Lanczos weights can sum (in absolute value) to more than 1. Sums stay
/// under 2^31: 255 × (sum of |weight|, well under 2) × 2^22.
const PRECISION_BITS: u32 = 32 - 8 - 2;

/// A sum starts at one half so that the final shift rounds to nearest.
const ROUNDING: i32 = 1 << (PRECISION_BITS - 1);

/// A fixed-point sum of weighted pixels back to a pixel, clipped to 0..=255.
fn to_u8(sum: i32) -> u8 {
    (sum >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Pillow's Lanczos weights along one axis, for every output position, in fixed point.
///
/// Output pixel `i` covers source coordinates around `(i + 0.5) * scale`; when shrinking, the
/// window is stretched by `scale` so every source pixel contributes (that is the antialiasing).
/// Each pixel's weights are normalised to sum to 1 before rounding to fixed point.
struct Weights {
    /// Source index of each output pixel's first tap.
    starts: Vec<usize>,
    /// Number of taps of each output pixel (fewer near the edges).
    lens: Vec<usize>,
    /// `stride` slots per output pixel, the first `lens[i]` of them used.
    taps: Vec<i32>,
    stride: usize,
}

impl Weights {
    fn new(in_size: usize, out_size: usize) -> Self {
        // The float operations and their order are Pillow's, so that a weight landing on a
        // rounding boundary rounds the same way.
        let scale = in_size as f64 / out_size as f64;
        let filter_scale = scale.max(1.0);
        let support = LANCZOS_SUPPORT * filter_scale;
        let stride = support.ceil() as usize * 2 + 1;

        let mut weights = Weights {
            starts: Vec::with_capacity(out_size),
            lens: Vec::with_capacity(out_size),
            taps: Vec::with_capacity(out_size * stride),
            stride,
        };
        let mut window = Vec::with_capacity(stride);
        for i in 0..out_size {
            let center = (i as f64 + 0.5) * scale;
            // Pillow rounds the window ends by adding 0.5 and truncating; `as` saturates a
            // negative start to 0, which is Pillow's clamp.
            let start = (center - support + 0.5) as usize;
            let end = ((center + support + 0.5) as usize).min(in_size);
            window.clear();
            window.extend(
                (start..end).map(|x| lanczos((x as f64 - center + 0.5) * (1.0 / filter_scale))),
            );
            let total: f64 = window.iter().sum();
            weights.starts.push(start);
            weights.lens.push(window.len());
            weights.taps.extend(window.iter().map(|&w| {
                let w = if total == 0.0 { w } else { w / total };
                // Round half away from zero, as Pillow does.
                let fixed = w * f64::from(1 << PRECISION_BITS);
                (if w < 0.0 { fixed - 0.5 } else { fixed + 0.5 }) as i32
            }));
            weights.taps.resize((i + 1) * stride, 0);
        }
        weights
    }

    /// The first source index and the fixed-point weights of output pixel `i`.
    fn taps(&self, i: usize) -> (usize, &[i32]) {
        let from = i * self.stride;
        (self.starts[i], &self.taps[from..from + self.lens[i]])
    }

    /// Number of output pixels.
    fn len(&self) -> usize {
        self.starts.len()
    }

    /// The source indices some output pixel reads.
    fn span(&self) -> std::ops::Range<usize> {
        match (self.starts.first(), self.starts.last(), self.lens.last()) {
            (Some(&first), Some(&last), Some(&len)) => first..last + len,
            _ => 0..0,
        }
    }
}

/// Pillow's Lanczos kernel: `sinc(x) · sinc(x / 3)` on [-3, 3), zero elsewhere.
fn lanczos(x: f64) -> f64 {
    fn sinc(x: f64) -> f64 {
        if x == 0.0 {
            1.0
        } else {
            let x = x * std::f64::consts::PI;
            x.sin() / x
        }
    }
    if (-LANCZOS_SUPPORT..LANCZOS_SUPPORT).contains(&x) {
        sinc(x) * sinc(x / LANCZOS_SUPPORT)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grey image from a function of (x, y).
    fn grey(width: u32, height: u32, f: impl Fn(u32, u32) -> u8) -> GrayImage {
        GrayImage::from_fn(width, height, |x, y| image::Luma([f(x, y)]))
    }

    // The synthetic images below are already at hash resolution, so Pillow does not resample them
    // and the expected hex follows from imagehash's definitions alone.

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

    #[test]
    fn resize_matches_pillow_lanczos() {
        // Expected pixels from Pillow 13: Image.fromarray(pixels, "L").resize(size, Image.LANCZOS).
        let resize = |img: &GrayImage, w, h| {
            resize_lanczos(img, w, h).chunks(w as usize).map(<[u8]>::to_vec).collect::<Vec<_>>()
        };

        // Downscale on both axes, horizontal pass first.
        let gradient = grey(20, 5, |x, y| (x * 11 + y * 10) as u8);
        assert_eq!(
            resize(&gradient, 7, 3),
            [
                [13, 44, 76, 108, 139, 171, 202],
                [30, 61, 93, 125, 156, 188, 219],
                [47, 78, 110, 142, 173, 205, 236],
            ]
        );

        // Upscale, where ringing overshoots and is clipped; rounding the intermediate image
        // makes this differ from running the vertical pass first.
        let checker = grey(3, 3, |x, y| if (x + y) % 2 == 1 { 255 } else { 0 });
        assert_eq!(
            resize(&checker, 5, 5),
            [
                [0, 105, 255, 105, 0],
                [110, 125, 145, 125, 110],
                [255, 145, 0, 145, 255],
                [110, 125, 145, 125, 110],
                [0, 105, 255, 105, 0],
            ]
        );

        // The height loses more than twice as many pixels as the width: Pillow runs the vertical
        // pass first, and horizontal-first would give different pixels.
        let tall = grey(4, 12, |x, y| ((x * 70 + (y % 4) * 60) % 256) as u8);
        assert_eq!(resize(&tall, 3, 3), [[99, 134, 103], [113, 135, 100], [127, 136, 90]]);
    }
}
