//! PDQ, Meta's 256-bit perceptual image hash, bit-exact with the reference C++ core
//! (`pdq/cpp/hashing/pdqhashing.cpp` and `pdq/cpp/downscaling/downscaling.cpp` in
//! facebook/ThreatExchange).
//!
//! Owns: turning RGB8 pixels into the 16x16 DCT the hash is thresholded from
//! ([`PdqFeatures`]), the quality score, and the eight dihedral variants (rotations and flips)
//! derived from that DCT ([`Dihedral`]).
//!
//! Must not: read files, decode images, or resize. The caller hands over decoded pixels at
//! whatever resolution it wants hashed; the reference CLI's 512x512 pre-resize is a property
//! of that tool, not of the hash, and is deliberately not reproduced here.
//!
//! Every floating-point step mirrors the reference's `float` arithmetic operation for
//! operation (same operand order, same rounding points). Reordering a sum, accumulating in
//! f64, or fusing a multiply-add would still give a "PDQ-like" hash, but one that differs from
//! the reference by a bit here and there, which breaks exact conformance.

use std::sync::LazyLock;

use wide::f32x4;

use super::HashValue;

/// Images narrower or shorter than this (in pixels) are not hashed: their hash is all zeros and
/// their quality 0, as in the reference.
pub const MIN_HASHABLE_DIM: usize = 5;

/// Side of the blurred and decimated luma image the DCT is taken of.
const DOWNSAMPLED: usize = 64;

/// Side of the kept block of DCT coefficients, i.e. the hash is `DCT_SIZE * DCT_SIZE` bits.
const DCT_SIZE: usize = 16;

// ITU-R BT.601 luma weights. The reference declares them as `float` initialised from double
// literals; for these three values that rounds to the same f32 as the literals below.
const LUMA_FROM_R: f32 = 0.299;
const LUMA_FROM_G: f32 = 0.587;
const LUMA_FROM_B: f32 = 0.114;

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
    /// `None` for images below [`MIN_HASHABLE_DIM`], whose hashes are all zeros.
    coefficients: Option<Coefficients>,
    quality: u8,
}

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
            return PdqFeatures { coefficients: None, quality: 0 };
        }
        PdqFeatures::from_downsampled(&downsample_rgb(width, height, rgb))
    }

    /// Convenience wrapper around [`PdqFeatures::from_rgb`].
    pub fn from_image(img: &image::RgbImage) -> PdqFeatures {
        PdqFeatures::from_rgb(img.width() as usize, img.height() as usize, img.as_raw())
    }

    /// Features of an already downsampled 64x64 luma image.
    fn from_downsampled(luma: &[[f32; DOWNSAMPLED]; DOWNSAMPLED]) -> PdqFeatures {
        PdqFeatures { coefficients: Some(dct_64_to_16(luma)), quality: quality_metric(luma) }
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
        let Some(original) = &self.coefficients else {
            return HashValue::from_bytes(vec![0u8; DCT_SIZE * DCT_SIZE / 8]);
        };
        let mut transformed: Coefficients = [[0.0; DCT_SIZE]; DCT_SIZE];
        for (u, row) in original.iter().enumerate() {
            for (v, &value) in row.iter().enumerate() {
                let ((tu, tv), negate) = d.map(u, v);
                transformed[tu][tv] = if negate { -value } else { value };
            }
        }
        threshold_at_median(&transformed)
    }
}

/// [`downsample`] of RGB8 pixels, compiled for AVX2 where the CPU has it: the x86-64
/// baseline that release builds target has no 256-bit vectors and no byte shuffles, and with
/// them the luma conversion runs about three times faster and the blur's sums 8 lanes per
/// instruction. Both builds perform the same f32 operations, so the result is the same.
fn downsample_rgb(width: usize, height: usize, rgb: &[u8]) -> [[f32; DOWNSAMPLED]; DOWNSAMPLED] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { downsample_rgb_avx2(width, height, rgb) };
    }
    downsample_rgb_inlined(width, height, rgb)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn downsample_rgb_avx2(
    width: usize,
    height: usize,
    rgb: &[u8],
) -> [[f32; DOWNSAMPLED]; DOWNSAMPLED] {
    downsample_rgb_inlined(width, height, rgb)
}

// Everything [`downsample_rgb`] runs is `#[inline(always)]`, down to the smallest helper, so
// that each of its builds gets its own copy compiled for its instruction set: a function left
// out of line would be compiled once, for the baseline.

#[inline(always)]
fn downsample_rgb_inlined(
    width: usize,
    height: usize,
    rgb: &[u8],
) -> [[f32; DOWNSAMPLED]; DOWNSAMPLED] {
    let stride = width * 3;
    downsample(width, height, |rows, luma| {
        let rows = rgb[rows.start * stride..rows.end * stride].chunks_exact(stride);
        for (row, out) in rows.zip(luma.chunks_exact_mut(width)) {
            luma_from_rgb(row, out);
        }
    })
}

/// Per-pixel luma in f32 of a row of RGB8 pixels, with the reference's operand order:
/// `(r + g) + b`, each term the channel times its weight.
#[inline(always)]
fn luma_from_rgb(rgb: &[u8], out: &mut [f32]) {
    for (out, pixel) in out.iter_mut().zip(rgb.chunks_exact(3)) {
        *out = LUMA_FROM_R * f32::from(pixel[0])
            + LUMA_FROM_G * f32::from(pixel[1])
            + LUMA_FROM_B * f32::from(pixel[2]);
    }
}

/// Box-filter window for shrinking `len` samples to 64: half of `len / 64`, rounded up, because
/// two passes of the box together reach as far as one window of `len / 64`.
fn jarosz_window(len: usize) -> usize {
    // The reference's integer formula `(len + 2 * 64 - 1) / (2 * 64)`.
    len.div_ceil(2 * DOWNSAMPLED)
}

/// Rows the row filter runs side by side, one per SIMD lane: each lane keeps its own running
/// sum, so every row still goes through the reference's sequence of f32 operations, but eight
/// rows advance per instruction instead of one row waiting on its own sum's latency.
const LANES: usize = 8;

/// One column of [`LANES`] consecutive rows.
type Lanes = [f32; LANES];

#[inline(always)]
fn add_lanes(sum: &mut Lanes, x: &Lanes) {
    for (s, x) in sum.iter_mut().zip(x) {
        *s += x;
    }
}

#[inline(always)]
fn subtract_lanes(sum: &mut Lanes, x: &Lanes) {
    for (s, x) in sum.iter_mut().zip(x) {
        *s -= x;
    }
}

/// The schedule of the reference's box filter over `len` samples with a window of `window`.
///
/// The reference keeps the window's sum as a running f32 sum, updated in a fixed order (add
/// the incoming sample, then subtract the outgoing one), because its rounding errors carry
/// along the row and are part of the result. Both filters below follow this schedule: after
/// adding sample `i`, [`Reach::after_adding`] says which output is complete and which sample
/// leaves the window first; after the last sample, [`Reach::drain`] gives the remaining
/// outputs. The window is centred with `half = (window + 2) / 2`, so an even window reaches one
/// sample further ahead (right/down) than behind, and it is truncated at the ends.
#[derive(Clone, Copy, Debug)]
struct Reach {
    len: usize,
    behind: usize,
    ahead: usize,
}

impl Reach {
    /// Requires `1 <= window <= len`, which [`jarosz_window`] guarantees.
    #[inline(always)]
    fn new(window: usize, len: usize) -> Reach {
        debug_assert!((1..=len).contains(&window));
        let half = (window + 2) / 2;
        Reach { len, behind: window - half, ahead: half - 1 }
    }

    /// Once sample `i` is added: the output that is then complete, if any, and the sample to
    /// subtract before it is taken, if the window is already full.
    #[inline(always)]
    fn after_adding(&self, i: usize) -> Option<(usize, Option<usize>)> {
        let o = i.checked_sub(self.ahead)?;
        Some((o, o.checked_sub(self.behind + 1)))
    }

    /// The outputs left once every sample is added, each with the sample to subtract first.
    #[inline(always)]
    fn drain(&self) -> impl Iterator<Item = (usize, usize)> {
        let behind = self.behind;
        (self.len - self.ahead..self.len).map(move |o| (o, o - behind - 1))
    }

    /// How many samples the window around output `o` covers: what its sum is divided by.
    #[inline(always)]
    fn count(&self, o: usize) -> f32 {
        let last = (o + self.ahead).min(self.len - 1);
        (last + 1 - o.saturating_sub(self.behind)) as f32
    }
}

/// The box filter along [`LANES`] rows at once, over `input[x][k]` (sample x of row k): calls
/// `emit(o, sum)` for every output o in order, `sum` holding each row's running sum over the
/// window around o (its mean is `sum / reach.count(o)`). Requires `input.len() == reach.len`.
#[inline(always)]
fn box_filter_lanes(input: &[Lanes], reach: &Reach, mut emit: impl FnMut(usize, &Lanes)) {
    let mut sum = [0.0f32; LANES];
    for (i, x) in input.iter().enumerate() {
        add_lanes(&mut sum, x);
        if let Some((o, leaving)) = reach.after_adding(i) {
            if let Some(j) = leaving {
                subtract_lanes(&mut sum, &input[j]);
            }
            emit(o, &sum);
        }
    }
    for (o, j) in reach.drain() {
        subtract_lanes(&mut sum, &input[j]);
        emit(o, &sum);
    }
}

/// Copies [`LANES`] row-major rows (`rows[k * width + x]`, `width = lanes.len()`) into the
/// lanes layout (`lanes[x][k]`), as 4x4 tiles that SIMD shuffles transpose.
#[inline(always)]
fn rows_to_lanes(rows: &[f32], lanes: &mut [Lanes]) {
    let width = lanes.len();
    for k in (0..LANES).step_by(4) {
        let row = |r: usize| &rows[(k + r) * width..][..width];
        let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
        let mut x = 0;
        for out in lanes.chunks_exact_mut(4) {
            let tile = [load4(&r0[x..]), load4(&r1[x..]), load4(&r2[x..]), load4(&r3[x..])];
            for (out, column) in out.iter_mut().zip(f32x4::transpose(tile)) {
                out[k..k + 4].copy_from_slice(&column.to_array());
            }
            x += 4;
        }
    }
    for (x, out) in lanes.iter_mut().enumerate().skip(width - width % 4) {
        *out = std::array::from_fn(|k| rows[k * width + x]);
    }
}

/// The inverse of [`rows_to_lanes`].
#[inline(always)]
fn lanes_to_rows(lanes: &[Lanes], rows: &mut [f32]) {
    let width = lanes.len();
    for k in (0..LANES).step_by(4) {
        let (_, rows) = rows.split_at_mut(k * width);
        let (r0, rows) = rows.split_at_mut(width);
        let (r1, rows) = rows.split_at_mut(width);
        let (r2, rows) = rows.split_at_mut(width);
        let r3 = &mut rows[..width];
        let mut x = 0;
        for tile in lanes.chunks_exact(4) {
            let tile = [
                load4(&tile[0][k..]),
                load4(&tile[1][k..]),
                load4(&tile[2][k..]),
                load4(&tile[3][k..]),
            ];
            let [c0, c1, c2, c3] = f32x4::transpose(tile);
            r0[x..x + 4].copy_from_slice(&c0.to_array());
            r1[x..x + 4].copy_from_slice(&c1.to_array());
            r2[x..x + 4].copy_from_slice(&c2.to_array());
            r3[x..x + 4].copy_from_slice(&c3.to_array());
            x += 4;
        }
    }
    for (x, lanes) in lanes.iter().enumerate().skip(width - width % 4) {
        for (k, &value) in lanes.iter().enumerate() {
            rows[k * width + x] = value;
        }
    }
}

/// The first four values of `values` in one vector.
#[inline(always)]
fn load4(values: &[f32]) -> f32x4 {
    f32x4::from([values[0], values[1], values[2], values[3]])
}

/// The box filter down every column at once, fed rows in order: each column goes through the
/// very same sequence of f32 operations as the reference's strided per-column loop, but
/// memory is read in order and only the rows the window spans are held.
struct ColumnBox {
    width: usize,
    reach: Reach,
    /// Running sum of each column.
    sums: Vec<f32>,
    /// A ring of input rows, kept until they leave the window: room for the window and a
    /// whole block of [`LANES`] rows written ahead of being added, in a multiple of [`LANES`]
    /// rows so that a block is always contiguous.
    history: Vec<f32>,
    /// Input rows taken so far.
    added: usize,
    /// Outputs given after the last row.
    drained: usize,
}

impl ColumnBox {
    #[inline(always)]
    fn new(width: usize, window: usize, height: usize) -> ColumnBox {
        let rows = (window + LANES).next_multiple_of(LANES);
        ColumnBox {
            width,
            reach: Reach::new(window, height),
            sums: vec![0.0; width],
            history: vec![0.0; rows * width],
            added: 0,
            drained: 0,
        }
    }

    /// Where input row `row` lives in `history`.
    #[inline(always)]
    fn slot(&self, row: usize) -> std::ops::Range<usize> {
        let start = row % (self.history.len() / self.width) * self.width;
        start..start + self.width
    }

    /// Where the caller writes the next [`LANES`] input rows, row-major, before adding them
    /// with [`ColumnBox::add_row`]. Rows are taken in whole blocks (but for the last).
    #[inline(always)]
    fn next_block(&mut self) -> &mut [f32] {
        debug_assert_eq!(self.added % LANES, 0);
        let start = self.slot(self.added).start;
        &mut self.history[start..start + LANES * self.width]
    }

    /// Takes in the next row written to [`ColumnBox::next_block`]; returns the output row this
    /// completes, if any, for [`ColumnBox::mean`].
    #[inline(always)]
    fn add_row(&mut self) -> Option<usize> {
        let row = self.added;
        self.added += 1;
        let slot = self.slot(row);
        for (sum, &x) in self.sums.iter_mut().zip(&self.history[slot]) {
            *sum += x;
        }
        let (o, leaving) = self.reach.after_adding(row)?;
        if let Some(j) = leaving {
            self.subtract(j);
        }
        Some(o)
    }

    /// Once every row is in: the next output row not yet given, if any, for
    /// [`ColumnBox::mean`].
    #[inline(always)]
    fn drain_row(&mut self) -> Option<usize> {
        let (o, j) = self.reach.drain().nth(self.drained)?;
        self.drained += 1;
        self.subtract(j);
        Some(o)
    }

    #[inline(always)]
    fn subtract(&mut self, row: usize) {
        let slot = self.slot(row);
        for (sum, &x) in self.sums.iter_mut().zip(&self.history[slot]) {
            *sum -= x;
        }
    }

    /// Writes output row `o`, just completed, to `out`.
    #[inline(always)]
    fn mean(&self, o: usize, out: &mut [f32]) {
        let count = self.reach.count(o);
        for (out, &sum) in out.iter_mut().zip(&self.sums) {
            *out = sum / count;
        }
    }
}

/// Where the 64 samples along a side of `len` pixels are taken: the centres of a 64-cell grid.
/// The index is computed in f64 and truncated, as in the reference; integer arithmetic would
/// round differently.
#[inline(always)]
fn sample_positions(len: usize) -> [usize; DOWNSAMPLED] {
    std::array::from_fn(|i| ((i as f64 + 0.5) * len as f64 / DOWNSAMPLED as f64) as usize)
}

/// Blurs a `width` x `height` luma image with the reference's "Jarosz" tent filter (twice: a
/// box along every row, then a box along every column) and samples it down to 64x64.
///
/// The image is never held whole, in f32 or at all: `fill(rows, luma)` writes the luma of
/// image rows `rows` (at most [`LANES`] of them) to `luma`, row-major (`luma[k * width + x]`
/// for column x of row `rows.start + k`), and rows stream through both passes, which keep only
/// the rows their column windows span. The second pass is computed only where it is sampled.
/// An input that is already 64x64 is used as is: the reference skips the blur there, and the
/// blur would not be a no-op even with its window of 1, because the running sum rounds.
#[inline(always)]
fn downsample(
    width: usize,
    height: usize,
    mut fill: impl FnMut(std::ops::Range<usize>, &mut [f32]),
) -> [[f32; DOWNSAMPLED]; DOWNSAMPLED] {
    let blocks = (0..height).step_by(LANES).map(|start| start..(start + LANES).min(height));
    let mut luma = vec![0.0f32; LANES * width];
    if width == DOWNSAMPLED && height == DOWNSAMPLED {
        let mut out = [[0.0f32; DOWNSAMPLED]; DOWNSAMPLED];
        for rows in blocks {
            fill(rows.clone(), &mut luma);
            for (out, row) in out[rows].iter_mut().zip(luma.chunks_exact(width)) {
                out.copy_from_slice(row);
            }
        }
        return out;
    }
    let row_reach = Reach::new(jarosz_window(width), width);
    let column_window = jarosz_window(height);
    let mut block = vec![[0.0f32; LANES]; width];
    let mut filtered = vec![[0.0f32; LANES]; width];
    let mut first = ColumnBox::new(width, column_window, height);
    let mut second = SecondPass::new(width, height, row_reach, column_window);
    for rows in blocks {
        fill(rows.clone(), &mut luma);
        rows_to_lanes(&luma, &mut block);
        box_filter_lanes(&block, &row_reach, |o, sum| {
            let count = row_reach.count(o);
            filtered[o] = sum.map(|s| s / count);
        });
        lanes_to_rows(&filtered, first.next_block());
        for _ in rows {
            if let Some(o) = first.add_row() {
                second.take(&first, o);
            }
        }
    }
    while let Some(o) = first.drain_row() {
        second.take(&first, o);
    }
    second.finish()
}

/// The second blur (rows, then columns) of [`downsample`], fed the first blur's rows in order
/// and computed only for the 64 sampled columns (the row pass still sums every sample: its
/// running sum's rounding depends on them all).
struct SecondPass {
    width: usize,
    row_reach: Reach,
    sample_columns: [usize; DOWNSAMPLED],
    sample_rows: [usize; DOWNSAMPLED],
    /// Rows waiting to be row-filtered together, row-major, and the same in lanes.
    rows: Vec<f32>,
    block: Vec<Lanes>,
    /// Rows in `rows`.
    pending: usize,
    columns: ColumnBox,
    out: [[f32; DOWNSAMPLED]; DOWNSAMPLED],
}

impl SecondPass {
    #[inline(always)]
    fn new(width: usize, height: usize, row_reach: Reach, column_window: usize) -> SecondPass {
        SecondPass {
            width,
            row_reach,
            sample_columns: sample_positions(width),
            sample_rows: sample_positions(height),
            rows: vec![0.0; LANES * width],
            block: vec![[0.0; LANES]; width],
            pending: 0,
            columns: ColumnBox::new(DOWNSAMPLED, column_window, height),
            out: [[0.0; DOWNSAMPLED]; DOWNSAMPLED],
        }
    }

    /// Takes output row `o` of the first pass's column filter.
    #[inline(always)]
    fn take(&mut self, first: &ColumnBox, o: usize) {
        first.mean(o, &mut self.rows[self.pending * self.width..][..self.width]);
        self.pending += 1;
        if self.pending == LANES {
            self.filter_pending();
        }
    }

    #[inline(always)]
    fn filter_pending(&mut self) {
        rows_to_lanes(&self.rows, &mut self.block);
        // The sums at the sampled columns; divided only once the row is done, so that the
        // compiler does not divide at every column in case it is sampled.
        let mut sampled = [[0.0f32; LANES]; DOWNSAMPLED];
        let mut next = 0;
        box_filter_lanes(&self.block, &self.row_reach, |o, sum| {
            while self.sample_columns.get(next) == Some(&o) {
                sampled[next] = *sum;
                next += 1;
            }
        });
        let block = self.columns.next_block();
        for (j, (lanes, &x)) in sampled.iter().zip(&self.sample_columns).enumerate() {
            let count = self.row_reach.count(x);
            for (k, &sum) in lanes.iter().enumerate() {
                block[k * DOWNSAMPLED + j] = sum / count;
            }
        }
        for _ in 0..self.pending {
            if let Some(o) = self.columns.add_row() {
                self.keep_sampled(o);
            }
        }
        self.pending = 0;
    }

    #[inline(always)]
    fn finish(mut self) -> [[f32; DOWNSAMPLED]; DOWNSAMPLED] {
        if self.pending > 0 {
            self.filter_pending();
        }
        while let Some(o) = self.columns.drain_row() {
            self.keep_sampled(o);
        }
        self.out
    }

    /// Copies blurred row `o` (its 64 sampled columns) to every output row sampled from it.
    #[inline(always)]
    fn keep_sampled(&mut self, o: usize) {
        for (out, &row) in self.out.iter_mut().zip(&self.sample_rows) {
            if row == o {
                self.columns.mean(o, out);
            }
        }
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
mod tests {
    use super::*;

    /// A deterministic, detailed test image.
    fn pattern(width: usize, height: usize) -> Vec<u8> {
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
    fn synthetic_rgb(width: usize, height: usize, seed: u64) -> Vec<u8> {
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
                    let noise =
                        splitmix64_finalize(((y * w + x) * 3 + ch).wrapping_add(offset)) % 61;
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
            let features =
                PdqFeatures::from_rgb(width, height, &synthetic_rgb(width, height, seed));
            let actual_digest = coefficient_digest(&features.coefficients.unwrap());
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
    fn the_baseline_build_agrees_with_the_one_the_cpu_runs() {
        // On a CPU with AVX2 every other test runs the AVX2 build; this keeps the baseline
        // build, which CPUs without it run, to the same bits.
        for (width, height, seed) in [(7, 300, 1), (64, 64, 2), (333, 2000, 10), (1001, 77, 3)] {
            let rgb = synthetic_rgb(width, height, seed);
            let dispatched = downsample_rgb(width, height, &rgb);
            let baseline = downsample_rgb_inlined(width, height, &rgb);
            let bits = |a: &[[f32; DOWNSAMPLED]; DOWNSAMPLED]| {
                a.iter().flatten().map(|v| v.to_bits()).collect::<Vec<_>>()
            };
            assert_eq!(bits(&dispatched), bits(&baseline), "{width}x{height}");
        }
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
    fn luma_of(rgb: &[u8]) -> Vec<f32> {
        let mut luma = vec![0.0; rgb.len() / 3];
        luma_from_rgb(rgb, &mut luma);
        luma
    }

    /// The reference's 1-D box filter of `input`, run in lane 0 of [`box_filter_lanes`].
    fn filter_row(input: &[f32], window: usize) -> Vec<f32> {
        let lanes: Vec<Lanes> = input.iter().map(|&x| [x; LANES]).collect();
        let reach = Reach::new(window, input.len());
        let mut output = vec![0.0; input.len()];
        box_filter_lanes(&lanes, &reach, |o, sum| output[o] = sum[0] / reach.count(o));
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
        let original = features.coefficients.unwrap();
        for d in Dihedral::ALL {
            // Apply d, then d.inverse(), at the coefficient level.
            let mut once = [[0.0f32; 16]; 16];
            for (u, row) in original.iter().enumerate() {
                for (v, &value) in row.iter().enumerate() {
                    let ((tu, tv), negate) = d.map(u, v);
                    once[tu][tv] = if negate { -value } else { value };
                }
            }
            let back = PdqFeatures { coefficients: Some(once), quality: 100 }.dihedral(d.inverse());
            assert_eq!(back, features.hash(), "{}", d.name());
        }
    }

    #[test]
    fn column_pass_matches_row_pass_on_the_transpose() {
        // The column filter must perform the same f32 operations as the 1-D filter, column by
        // column; compare against it on each column, for odd and even windows, feeding the rows
        // in blocks as `downsample` does (the last one partial).
        let (width, height) = (7, 300);
        let luma = luma_of(&pattern(width, height));
        for window in [1, 2, 3, 4, 7, 8, 300] {
            let mut columns = ColumnBox::new(width, window, height);
            let mut image = vec![f32::NAN; width * height];
            let mut keep = |columns: &ColumnBox, o: usize| {
                columns.mean(o, &mut image[o * width..(o + 1) * width]);
            };
            for rows in luma.chunks(LANES * width) {
                columns.next_block()[..rows.len()].copy_from_slice(rows);
                for _ in 0..rows.len() / width {
                    if let Some(o) = columns.add_row() {
                        keep(&columns, o);
                    }
                }
            }
            while let Some(o) = columns.drain_row() {
                keep(&columns, o);
            }
            for x in 0..width {
                let column: Vec<f32> = (0..height).map(|y| luma[y * width + x]).collect();
                let actual: Vec<f32> = (0..height).map(|y| image[y * width + x]).collect();
                assert_eq!(actual, filter_row(&column, window), "window {window}, column {x}");
            }
        }
    }

    #[test]
    fn lanes_are_independent_rows() {
        let (width, height) = (37, LANES);
        let luma = luma_of(&pattern(width, height));
        let mut lanes = vec![[0.0; LANES]; width];
        rows_to_lanes(&luma, &mut lanes);
        let reach = Reach::new(5, width);
        let mut filtered = vec![[0.0; LANES]; width];
        box_filter_lanes(&lanes, &reach, |o, sum| filtered[o] = sum.map(|s| s / reach.count(o)));
        let mut rows = vec![0.0; width * height];
        lanes_to_rows(&filtered, &mut rows);
        for (row, expected) in rows.chunks_exact(width).zip(luma.chunks_exact(width)) {
            assert_eq!(row, filter_row(expected, 5));
        }
    }

    #[test]
    fn layout_changes_round_trip_at_every_width() {
        for width in 1..=13 {
            let rows: Vec<f32> = (0..width * LANES).map(|i| i as f32).collect();
            let mut lanes = vec![[0.0; LANES]; width];
            rows_to_lanes(&rows, &mut lanes);
            assert_eq!(lanes[width - 1][LANES - 1], rows[LANES * width - 1], "width {width}");
            let mut back = vec![0.0; rows.len()];
            lanes_to_rows(&lanes, &mut back);
            assert_eq!(back, rows, "width {width}");
        }
    }

    #[test]
    fn box_filter_averages_over_the_reference_window() {
        // Window 8 reaches 3 behind and 4 ahead; at the ends it is truncated.
        let input: Vec<f32> = (0..16).map(|i| i as f32).collect();
        let output = filter_row(&input, 8);
        let mean = |lo: usize, hi: usize| (lo..=hi).sum::<usize>() as f32 / (hi - lo + 1) as f32;
        assert_eq!(output[0], mean(0, 4));
        assert_eq!(output[5], mean(2, 9));
        assert_eq!(output[15], mean(12, 15));
    }

    #[test]
    fn window_sizes_round_up() {
        assert_eq!(jarosz_window(5), 1);
        assert_eq!(jarosz_window(128), 1);
        assert_eq!(jarosz_window(129), 2);
        assert_eq!(jarosz_window(512), 4);
        assert_eq!(jarosz_window(4032), 32);
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
}
