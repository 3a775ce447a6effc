//! PDQ, Meta's 256-bit perceptual image hash, bit-exact with the reference C++ core
//! (`pdq/cpp/hashing/pdqhashing.cpp` and `pdq/cpp/downscaling/downscaling.cpp` in
//! facebook/ThreatExchange).
//!
//! Owns: the public face of the hash ([`PdqFeatures`], [`Dihedral`]) and what is computed
//! from the 64x64 luma image: the 16x16 DCT the hash is thresholded from, the quality score,
//! and the eight dihedral variants (rotations and flips) derived from that DCT. Getting from
//! RGB8 pixels to that 64x64 image is `downsample`'s, which runs the blur of `box_filter`
//! with the layout changes of `transpose`.
//!
//! Must not: read files, decode images, or resize. The caller hands over decoded pixels at
//! whatever resolution it wants hashed; the reference CLI's 512x512 pre-resize is a property
//! of that tool, not of the hash, and is deliberately not reproduced here.
//!
//! Every floating-point step mirrors the reference's `float` arithmetic operation for
//! operation (same operand order, same rounding points). Reordering a sum, accumulating in
//! f64, or fusing the reference's multiply-adds would still give a "PDQ-like" hash, but one
//! that differs from the reference by a bit here and there, which breaks exact conformance.
//! (The blur's divisions are done by fused multiply-adds where the CPU has them, but those
//! are proven to round exactly as the division does: see `box_filter::Divisor`.)

mod box_filter;
mod downsample;
mod transpose;

use std::sync::LazyLock;

use self::downsample::downsample_rgb;
use super::HashValue;

/// Images narrower or shorter than this (in pixels) are not hashed: their hash is all zeros and
/// their quality 0, as in the reference.
pub const MIN_HASHABLE_DIM: usize = 5;

/// Side of the blurred and decimated luma image the DCT is taken of.
const DOWNSAMPLED: usize = 64;

/// Side of the kept block of DCT coefficients, i.e. the hash is `DCT_SIZE * DCT_SIZE` bits.
const DCT_SIZE: usize = 16;

/// A 16x16 block of DCT coefficients, indexed `[u][v]`: u is the vertical frequency (across
/// image rows), v the horizontal one. Index 0 is frequency 1: the DC term is not kept.
type Coefficients = [[f32; DCT_SIZE]; DCT_SIZE];

/// One of the eight symmetries of the square: the rotations and mirror images under which PDQ
/// can match an image without re-hashing its pixels.
///
/// Applying a variant to the features of image X approximates the hash of X transformed as
/// named (not bit-exactly: the reference's box filter is not symmetric for even window sizes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dihedral {
    /// The image as given.
    Orig,
    /// Rotated 90 degrees counter-clockwise.
    Rot90,
    /// Rotated 180 degrees.
    Rot180,
    /// Rotated 90 degrees clockwise (270 counter-clockwise).
    Rot270,
    /// Mirrored top to bottom (about the horizontal axis).
    FlipX,
    /// Mirrored left to right (about the vertical axis).
    FlipY,
    /// Transposed (mirrored about the main diagonal).
    FlipPlus,
    /// Mirrored about the anti-diagonal.
    FlipMinus,
}

impl Dihedral {
    /// All eight variants, in the order the reference tools print them.
    pub const ALL: [Dihedral; 8] = [
        Dihedral::Orig,
        Dihedral::Rot90,
        Dihedral::Rot180,
        Dihedral::Rot270,
        Dihedral::FlipX,
        Dihedral::FlipY,
        Dihedral::FlipPlus,
        Dihedral::FlipMinus,
    ];

    /// The name the reference C++ tool (`pdq-photo-hasher --pdqdih`) uses for the variant.
    pub fn name(self) -> &'static str {
        match self {
            Dihedral::Orig => "orig",
            Dihedral::Rot90 => "rot90",
            Dihedral::Rot180 => "rot180",
            Dihedral::Rot270 => "rot270",
            Dihedral::FlipX => "flipx",
            Dihedral::FlipY => "flipy",
            Dihedral::FlipPlus => "flipp",
            Dihedral::FlipMinus => "flipm",
        }
    }

    /// The variant that undoes this one. Only the quarter turns are not their own inverse.
    pub fn inverse(self) -> Dihedral {
        match self {
            Dihedral::Rot90 => Dihedral::Rot270,
            Dihedral::Rot270 => Dihedral::Rot90,
            other => other,
        }
    }

    /// Where coefficient `[u][v]` of the original lands, and whether it changes sign.
    ///
    /// Mirroring an image multiplies the DCT coefficient of frequency f along the mirrored
    /// axis by (-1)^f. Index u holds frequency u + 1, so coefficients at *even* indices flip
    /// sign. Rotations are a mirror plus a transpose; transposing swaps u and v.
    fn map(self, u: usize, v: usize) -> ((usize, usize), bool) {
        let u_even = u.is_multiple_of(2);
        let v_even = v.is_multiple_of(2);
        match self {
            Dihedral::Orig => ((u, v), false),
            Dihedral::Rot90 => ((v, u), v_even),
            Dihedral::Rot180 => ((u, v), u_even != v_even),
            Dihedral::Rot270 => ((v, u), u_even),
            Dihedral::FlipX => ((u, v), u_even),
            Dihedral::FlipY => ((u, v), v_even),
            Dihedral::FlipPlus => ((v, u), false),
            Dihedral::FlipMinus => ((v, u), u_even != v_even),
        }
    }
}

/// The 16x16 DCT of one image plus its quality; every hash variant is derived from it.
#[derive(Clone, Debug)]
pub struct PdqFeatures {
    /// `None` for images below [`MIN_HASHABLE_DIM`], whose hashes are all zeros, and for
    /// features read back with their variants already made.
    /// Boxed: a kilobyte inline would be copied each time a file's hashes move.
    coefficients: Option<Box<Coefficients>>,
    /// The eight variants' hashes, in [`Dihedral::ALL`]'s order, when read back from
    /// [`PdqFeatures::to_bytes`] (the DCT is then not kept).
    variants: Option<Box<[[u8; HASH_BYTES]; 8]>>,
    quality: u8,
}

/// Bytes of a PDQ hash.
const HASH_BYTES: usize = DCT_SIZE * DCT_SIZE / 8;

impl PdqFeatures {
    /// Computes the features of an image given as RGB8 pixels, row-major, 3 bytes per pixel,
    /// `rgb.len() == width * height * 3`. Hashes at full resolution: callers must not
    /// pre-resize if they want the reference's result for these exact pixels.
    pub fn from_rgb(width: usize, height: usize, rgb: &[u8]) -> PdqFeatures {
        debug_assert_eq!(
            rgb.len(),
            width * height * 3,
            "RGB buffer does not match {width}x{height}"
        );
        if width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM {
            return PdqFeatures { coefficients: None, variants: None, quality: 0 };
        }
        PdqFeatures::from_downsampled(&downsample_rgb(width, height, rgb))
    }

    /// Convenience wrapper around [`PdqFeatures::from_rgb`].
    pub fn from_image(img: &image::RgbImage) -> PdqFeatures {
        PdqFeatures::from_rgb(img.width() as usize, img.height() as usize, img.as_raw())
    }

    /// Features of an already downsampled 64x64 luma image.
    fn from_downsampled(luma: &[[f32; DOWNSAMPLED]; DOWNSAMPLED]) -> PdqFeatures {
        PdqFeatures {
            coefficients: Some(Box::new(dct_64_to_16(luma))),
            variants: None,
            quality: quality_metric(luma),
        }
    }

    /// The features as bytes, as the hash store keeps them: the quality, then the eight
    /// variants' hashes in [`Dihedral::ALL`]'s order (none for an image too small to hash).
    /// Matching needs nothing else, and reading them back costs no median per variant.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![self.quality];
        if self.coefficients.is_some() || self.variants.is_some() {
            for d in Dihedral::ALL {
                out.extend_from_slice(self.dihedral(d).as_bytes());
            }
        }
        out
    }

    /// The features [`PdqFeatures::to_bytes`] wrote, or, as stores of the first version kept
    /// them, the quality and the 256 coefficients as little-endian `f32`, row by row; `None`
    /// for bytes neither can have written.
    pub fn from_bytes(bytes: &[u8]) -> Option<PdqFeatures> {
        let (&quality, rest) = bytes.split_first()?;
        let mut features = PdqFeatures { coefficients: None, variants: None, quality };
        if rest.len() == 8 * HASH_BYTES {
            let mut variants = Box::new([[0u8; HASH_BYTES]; 8]);
            for (v, b) in variants.iter_mut().zip(rest.chunks_exact(HASH_BYTES)) {
                v.copy_from_slice(b);
            }
            features.variants = Some(variants);
        } else if rest.len() == DCT_SIZE * DCT_SIZE * 4 {
            let mut coefficients: Coefficients = [[0.0; DCT_SIZE]; DCT_SIZE];
            for (c, b) in coefficients.iter_mut().flatten().zip(rest.chunks_exact(4)) {
                *c = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
            features.coefficients = Some(Box::new(coefficients));
        } else if !rest.is_empty() {
            return None;
        }
        Some(features)
    }

    /// How much usable detail the image has, 0..=100. The reference recommends discarding
    /// hashes of quality below 50: flat or featureless images hash unreliably.
    pub fn quality(&self) -> u8 {
        self.quality
    }

    /// The PDQ hash of the image as given; the same as `dihedral(Dihedral::Orig)`.
    pub fn hash(&self) -> HashValue {
        self.dihedral(Dihedral::Orig)
    }

    /// The hash of the image under one of the eight rotations/flips, computed from the DCT
    /// (sign flips and transposition, then a fresh median), never by re-hashing pixels. All
    /// zeros for images too small to hash.
    pub fn dihedral(&self, d: Dihedral) -> HashValue {
        HashValue::from_bytes(self.dihedral_bytes(d).to_vec())
    }

    /// [`PdqFeatures::dihedral`]'s bytes, without allocating: `rescreen` asks for eight of
    /// them per stored picture, millions at a time.
    pub fn dihedral_bytes(&self, d: Dihedral) -> [u8; HASH_BYTES] {
        if let Some(variants) = &self.variants {
            let at = Dihedral::ALL.iter().position(|&v| v == d).expect("every variant is in ALL");
            return variants[at];
        }
        let Some(original) = &self.coefficients else {
            return [0u8; HASH_BYTES];
        };
        let mut transformed: Coefficients = [[0.0; DCT_SIZE]; DCT_SIZE];
        for (u, row) in original.iter().enumerate() {
            for (v, &value) in row.iter().enumerate() {
                let ((tu, tv), negate) = d.map(u, v);
                transformed[tu][tv] = if negate { -value } else { value };
            }
        }
        let hash = threshold_at_median(&transformed);
        hash.as_bytes().try_into().expect("a PDQ hash is HASH_BYTES long")
    }
}
/// The reference's heuristic quality: the sum of quantised gradients between neighbouring
/// pixels of the 64x64 image, scaled and capped at 100. The truncating float-to-int casts and
/// the integer division are part of the definition.
fn quality_metric(luma: &[[f32; DOWNSAMPLED]; DOWNSAMPLED]) -> u8 {
    // `as i32` truncates toward zero like C's conversion; |d| <= 100 so it never saturates.
    let step = |a: f32, b: f32| (((a - b) * 100.0) / 255.0) as i32;
    let mut gradient_sum: i32 = 0;
    for pair in luma.windows(2) {
        for (&above, &below) in pair[0].iter().zip(&pair[1]) {
            gradient_sum += step(above, below).abs();
        }
    }
    for row in luma {
        for pair in row.windows(2) {
            gradient_sum += step(pair[0], pair[1]).abs();
        }
    }
    (gradient_sum / 90).min(100) as u8
}

/// Rows 1..=16 of the 64-point DCT-II matrix (the DC row 0 is skipped), built as the reference
/// does: an f32 scale factor times an f64 cosine, the product rounded to f32. (The reference
/// keeps `sqrt(2/64)` in a `float`; an f64 scale moves many coefficients by an ulp or more.)
static DCT_MATRIX: LazyLock<[[f32; DOWNSAMPLED]; DCT_SIZE]> = LazyLock::new(|| {
    let n = DOWNSAMPLED as f64;
    let scale = (2.0 / n).sqrt() as f32;
    let mut matrix = [[0.0f32; DOWNSAMPLED]; DCT_SIZE];
    for (i, row) in matrix.iter_mut().enumerate() {
        for (j, entry) in row.iter_mut().enumerate() {
            let angle = (std::f64::consts::PI / 2.0 / n) * (i + 1) as f64 * (2 * j + 1) as f64;
            *entry = (f64::from(scale) * angle.cos()) as f32;
        }
    }
    matrix
});

/// The 16x16 low-frequency corner of the 2-D DCT: `D * A * D^T`, with every dot product
/// accumulated in f32 from k = 0 upwards.
fn dct_64_to_16(luma: &[[f32; DOWNSAMPLED]; DOWNSAMPLED]) -> Coefficients {
    let d = &*DCT_MATRIX;
    // Vertical pass: frequencies across rows, for each column.
    let mut vertical = [[0.0f32; DOWNSAMPLED]; DCT_SIZE];
    for (d_row, t_row) in d.iter().zip(vertical.iter_mut()) {
        for (j, t) in t_row.iter_mut().enumerate() {
            let mut sum = 0.0f32;
            for (&weight, luma_row) in d_row.iter().zip(luma) {
                sum += weight * luma_row[j];
            }
            *t = sum;
        }
    }
    // Horizontal pass.
    let mut coefficients: Coefficients = [[0.0; DCT_SIZE]; DCT_SIZE];
    for (t_row, out_row) in vertical.iter().zip(coefficients.iter_mut()) {
        for (d_row, out) in d.iter().zip(out_row.iter_mut()) {
            let mut sum = 0.0f32;
            for (&t, &weight) in t_row.iter().zip(d_row) {
                sum += t * weight;
            }
            *out = sum;
        }
    }
    coefficients
}

/// One bit per coefficient, set iff it is strictly above the median, packed as the reference's
/// 16 u16 words (word u = row u, bit v = column v) printed from word 15 down to word 0.
fn threshold_at_median(coefficients: &Coefficients) -> HashValue {
    let median = lower_median(coefficients);
    let mut words = [0u16; DCT_SIZE];
    for (word, row) in words.iter_mut().zip(coefficients) {
        for (v, &value) in row.iter().enumerate() {
            if value > median {
                *word |= 1 << v;
            }
        }
    }
    let bytes: Vec<u8> = words.iter().rev().flat_map(|w| w.to_be_bytes()).collect();
    HashValue::from_bytes(bytes)
}

/// The 128th smallest of the 256 values, which is what the reference's Torben median returns
/// for an even count.
fn lower_median(coefficients: &Coefficients) -> f32 {
    let mut values: Vec<f32> = coefficients.iter().flatten().copied().collect();
    let middle = values.len() / 2 - 1;
    *values.select_nth_unstable_by(middle, f32::total_cmp).1
}
#[cfg(test)]
mod tests;
