//! PDQ's downsampling: RGB8 pixels to the 64x64 luma image the DCT is taken of, with the
//! reference's "Jarosz" tent filter, and the runtime choice of the AVX2 build of it.
//!
//! Owns: luma conversion, the filter's window size, where the 64 samples are taken, the
//! streaming of rows through both blurs ([`downsample`]), and the CPU feature dispatch
//! ([`downsample_rgb`]).
//!
//! Must not: hold the image whole, or do any f32 operation the reference does not, in another
//! order: the box filter itself is [`super::box_filter`]'s, and what is computed from the 64x64
//! image is [`super`]'s.

use super::box_filter::{box_filter_lanes, ColumnBox, Lanes, Reach, BLOCKS, LANES};
use super::transpose::{lanes_to_rows, rows_to_lanes};
use super::DOWNSAMPLED;

// ITU-R BT.601 luma weights. The reference declares them as `float` initialised from double
// literals; for these three values that rounds to the same f32 as the literals below.
const LUMA_FROM_R: f32 = 0.299;
const LUMA_FROM_G: f32 = 0.587;
const LUMA_FROM_B: f32 = 0.114;

/// [`downsample`] of RGB8 pixels, compiled for AVX2 and FMA where the CPU has them: the
/// x86-64 baseline that release builds target has no 256-bit vectors, no byte shuffles and no
/// fused multiply-adds, which the luma conversion, the blur's 8-lane sums and its divisions
/// (see [`super::box_filter::Divisor`]) are compiled to with them. Every build gets the same
/// f32 results.
pub(super) fn downsample_rgb(
    width: usize,
    height: usize,
    rgb: &[u8],
) -> [[f32; DOWNSAMPLED]; DOWNSAMPLED] {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX2 and FMA, checked just above.
        return unsafe { downsample_rgb_avx2(width, height, rgb) };
    }
    downsample_rgb_inlined::<false>(width, height, rgb)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn downsample_rgb_avx2(
    width: usize,
    height: usize,
    rgb: &[u8],
) -> [[f32; DOWNSAMPLED]; DOWNSAMPLED] {
    downsample_rgb_inlined::<true>(width, height, rgb)
}

// Everything [`downsample_rgb`] runs, here and in `box_filter`, is `#[inline(always)]`, down
// to the smallest helper, so that each of its builds gets its own copy compiled for its
// instruction set: a function left out of line would be compiled once, for the baseline.

/// `AVX2` is set only by [`downsample_rgb_avx2`], where the CPU has been checked for AVX2 and
/// FMA.
#[inline(always)]
fn downsample_rgb_inlined<const AVX2: bool>(
    width: usize,
    height: usize,
    rgb: &[u8],
) -> [[f32; DOWNSAMPLED]; DOWNSAMPLED] {
    let stride = width * 3;
    // Row-major luma of a block, where it is not made in registers: in the AVX2 build only
    // for a picture's last few rows, so it is not allocated until then.
    let mut luma = Vec::new();
    downsample::<AVX2>(
        width,
        height,
        #[inline(always)]
        |rows, lanes| {
            let rgb = &rgb[rows.start * stride..rows.end * stride];
            #[cfg(target_arch = "x86_64")]
            if AVX2 && rows.len() == LANES {
                // SAFETY: `AVX2` is set only where the CPU has AVX2 (see above).
                unsafe { avx2::luma_lanes(rgb, lanes) };
                return;
            }
            // The portable build, and a picture's last block of fewer than eight rows: the
            // rows it lacks keep stale luma, filtered and never used.
            luma.resize(LANES * width, 0.0);
            for (row, out) in rgb.chunks_exact(stride).zip(luma.chunks_exact_mut(width)) {
                luma_from_rgb(row, out);
            }
            rows_to_lanes::<AVX2>(&luma, lanes);
        },
    )
}

/// The luma in f32 of one RGB8 pixel, with the reference's operand order: `(r + g) + b`, each
/// term the channel times its weight.
#[inline(always)]
fn luma(pixel: &[u8]) -> f32 {
    LUMA_FROM_R * f32::from(pixel[0])
        + LUMA_FROM_G * f32::from(pixel[1])
        + LUMA_FROM_B * f32::from(pixel[2])
}

/// [`luma`] of each pixel of a row of RGB8 pixels.
#[inline(always)]
pub(super) fn luma_from_rgb(rgb: &[u8], out: &mut [f32]) {
    for (out, pixel) in out.iter_mut().zip(rgb.chunks_exact(3)) {
        *out = luma(pixel);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    //! The luma of eight rows at once, straight into the lanes layout: eight pixels of each row
    //! are converted in one 256-bit register, and the eight registers transposed in place, so
    //! that the luma never goes through memory row by row. Each 128-bit half of a register
    //! holds four pixels' twelve bytes, so that one in-lane byte shuffle a channel widens its
    //! four samples to 32 bits.

    use std::arch::x86_64::{
        __m128i, __m256, __m256i, _mm256_add_ps, _mm256_cvtepi32_ps, _mm256_loadu_si256,
        _mm256_mul_ps, _mm256_set1_ps, _mm256_set_m128i, _mm256_shuffle_epi8, _mm_loadu_si128,
    };

    use super::{luma, Lanes, LANES, LUMA_FROM_B, LUMA_FROM_G, LUMA_FROM_R};
    use crate::hash::pdq::transpose::avx::{store, transpose};

    /// The shuffle that puts byte `3 i + channel` of each half in its 32-bit element i, zero
    /// extended (a control byte with its top bit set writes a zero).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn widen(channel: usize) -> __m256i {
        let control: [u8; 32] = std::array::from_fn(|j| match j % 4 {
            0 => (3 * (j % 16 / 4) + channel) as u8,
            _ => 0x80,
        });
        // SAFETY: `control` is 32 readable bytes; the load is unaligned.
        unsafe { _mm256_loadu_si256(control.as_ptr().cast()) }
    }

    /// Sixteen bytes of `bytes` from `start`, which must be there.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn load16(bytes: &[u8], start: usize) -> __m128i {
        let sixteen: &[u8; 16] = bytes[start..start + 16].try_into().expect("sixteen bytes");
        // SAFETY: `sixteen` is sixteen readable bytes; the load is unaligned.
        unsafe { _mm_loadu_si128(sixteen.as_ptr().cast()) }
    }

    /// The luma of [`LANES`] rows of RGB8 pixels (`rgb`, one row after another), in the lanes
    /// layout (`lanes[x][k]`, pixel x of row k), with [`super::luma`]'s f32 operations in its
    /// order.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn luma_lanes(rgb: &[u8], lanes: &mut [Lanes]) {
        let width = lanes.len();
        let stride = 3 * width;
        let rows: [&[u8]; LANES] = std::array::from_fn(|k| &rgb[k * stride..][..stride]);
        let channels = [widen(0), widen(1), widen(2)];
        let weights = [LUMA_FROM_R, LUMA_FROM_G, LUMA_FROM_B].map(|weight| _mm256_set1_ps(weight));
        let eight = |row: &[u8], x: usize| -> __m256 {
            // The upper half is loaded from pixel x + 4: sixteen bytes, four past pixel x + 7.
            let both = _mm256_set_m128i(load16(row, 3 * x + 12), load16(row, 3 * x));
            let [r, g, b] =
                channels.map(|channel| _mm256_cvtepi32_ps(_mm256_shuffle_epi8(both, channel)));
            _mm256_add_ps(
                _mm256_add_ps(_mm256_mul_ps(weights[0], r), _mm256_mul_ps(weights[1], g)),
                _mm256_mul_ps(weights[2], b),
            )
        };
        let mut x = 0;
        while x + 8 <= width && 3 * x + 28 <= stride {
            let columns = transpose(rows.map(|row| eight(row, x)));
            for (lane, column) in lanes[x..x + 8].iter_mut().zip(columns) {
                store(column, lane);
            }
            x += 8;
        }
        for (x, lane) in lanes.iter_mut().enumerate().skip(x) {
            *lane = std::array::from_fn(|k| luma(&rows[k][3 * x..]));
        }
    }
}

/// Box-filter window for shrinking `len` samples to 64: half of `len / 64`, rounded up, because
/// two passes of the box together reach as far as one window of `len / 64`.
fn jarosz_window(len: usize) -> usize {
    // The reference's integer formula `(len + 2 * 64 - 1) / (2 * 64)`.
    len.div_ceil(2 * DOWNSAMPLED)
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
/// The image is never held whole, in f32 or at all: `fill(rows, lanes)` writes the luma of
/// image rows `rows` (at most [`LANES`] of them, and as many but at the picture's end) to
/// `lanes`, in the lanes layout (`lanes[x][k]` for column x of row `rows.start + k`), and rows
/// stream through both passes, which keep only the rows their column windows span. The second
/// pass is computed only where it is sampled. An input that is already 64x64 is used as is:
/// the reference skips the blur there, and the blur would not be a no-op even with its window
/// of 1, because the running sum rounds.
#[inline(always)]
fn downsample<const AVX2: bool>(
    width: usize,
    height: usize,
    mut fill: impl FnMut(std::ops::Range<usize>, &mut [Lanes]),
) -> [[f32; DOWNSAMPLED]; DOWNSAMPLED] {
    const ROWS: usize = BLOCKS * LANES;
    let groups = (0..height).step_by(ROWS).map(|start| start..(start + ROWS).min(height));
    let mut blocks: [Vec<Lanes>; BLOCKS] = std::array::from_fn(|_| vec![[0.0; LANES]; width]);
    if width == DOWNSAMPLED && height == DOWNSAMPLED {
        let mut out = [[0.0f32; DOWNSAMPLED]; DOWNSAMPLED];
        for (start, out) in (0..height).step_by(LANES).zip(out.chunks_exact_mut(LANES)) {
            fill(start..start + LANES, &mut blocks[0]);
            for (k, out) in out.iter_mut().enumerate() {
                *out = std::array::from_fn(|x| blocks[0][x][k]);
            }
        }
        return out;
    }
    // Other builds fuse multiply-adds if they may assume it (every aarch64 does); otherwise
    // `mul_add` would be a slow library call, and dividing is quicker.
    let fused = AVX2 || cfg!(any(target_arch = "aarch64", target_feature = "fma"));
    let row_reach = Reach::new(jarosz_window(width), width, fused);
    let column_window = jarosz_window(height);
    let mut filtered: [Vec<Lanes>; BLOCKS] = std::array::from_fn(|_| vec![[0.0; LANES]; width]);
    let mut first = ColumnBox::new(width, column_window, height, fused);
    let mut second = SecondPass::<AVX2>::new(width, height, row_reach, column_window, fused);
    for rows in groups {
        // A last group's rows past the picture's end hold stale luma, filtered and never used.
        for (block, start) in blocks.iter_mut().zip(rows.clone().step_by(LANES)) {
            fill(start..(start + LANES).min(rows.end), block);
        }
        box_filter_lanes(
            blocks.each_ref().map(Vec::as_slice),
            &row_reach,
            #[inline(always)]
            |o, sums, divisor| {
                for (filtered, sum) in filtered.iter_mut().zip(sums) {
                    divisor.means(sum, &mut filtered[o]);
                }
            },
        );
        for (filtered, block_rows) in filtered.iter().zip(rows.step_by(LANES)) {
            lanes_to_rows::<AVX2>(filtered, first.next_block());
            for _ in block_rows..(block_rows + LANES).min(height) {
                if let Some(o) = first.add_row() {
                    second.take(&first, o);
                }
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
struct SecondPass<const AVX2: bool> {
    width: usize,
    row_reach: Reach,
    sample_columns: [usize; DOWNSAMPLED],
    sample_rows: [usize; DOWNSAMPLED],
    /// Rows waiting to be row-filtered together, row-major, and the same in lanes.
    rows: Vec<f32>,
    blocks: [Vec<Lanes>; BLOCKS],
    /// Rows in `rows`.
    pending: usize,
    columns: ColumnBox,
    out: [[f32; DOWNSAMPLED]; DOWNSAMPLED],
}

impl<const AVX2: bool> SecondPass<AVX2> {
    #[inline(always)]
    fn new(
        width: usize,
        height: usize,
        row_reach: Reach,
        column_window: usize,
        fused: bool,
    ) -> SecondPass<AVX2> {
        SecondPass {
            width,
            row_reach,
            sample_columns: sample_positions(width),
            sample_rows: sample_positions(height),
            rows: vec![0.0; BLOCKS * LANES * width],
            blocks: std::array::from_fn(|_| vec![[0.0; LANES]; width]),
            pending: 0,
            columns: ColumnBox::new(DOWNSAMPLED, column_window, height, fused),
            out: [[0.0; DOWNSAMPLED]; DOWNSAMPLED],
        }
    }

    /// Takes output row `o` of the first pass's column filter.
    #[inline(always)]
    fn take(&mut self, first: &ColumnBox, o: usize) {
        first.mean(o, &mut self.rows[self.pending * self.width..][..self.width]);
        self.pending += 1;
        if self.pending == BLOCKS * LANES {
            self.filter_pending();
        }
    }

    #[inline(always)]
    fn filter_pending(&mut self) {
        for (block, rows) in self.blocks.iter_mut().zip(self.rows.chunks_exact(LANES * self.width))
        {
            rows_to_lanes::<AVX2>(rows, block);
        }
        // The sums at the sampled columns; divided only once the row is done, so that the
        // compiler does not divide at every column in case it is sampled.
        let mut sampled = [[[0.0f32; LANES]; BLOCKS]; DOWNSAMPLED];
        let mut next = 0;
        box_filter_lanes(
            self.blocks.each_ref().map(Vec::as_slice),
            &self.row_reach,
            #[inline(always)]
            |o, sums, _| {
                while self.sample_columns.get(next) == Some(&o) {
                    sampled[next] = *sums;
                    next += 1;
                }
            },
        );
        for b in 0..self.pending.div_ceil(LANES) {
            let block = self.columns.next_block();
            for (j, (sums, &x)) in sampled.iter().zip(&self.sample_columns).enumerate() {
                let divisor = self.row_reach.divisor(x);
                for (k, &sum) in sums[b].iter().enumerate() {
                    block[k * DOWNSAMPLED + j] = divisor.mean(sum);
                }
            }
            for _ in b * LANES..self.pending.min((b + 1) * LANES) {
                if let Some(o) = self.columns.add_row() {
                    self.keep_sampled(o);
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::pdq::tests::synthetic_rgb;

    #[test]
    fn the_baseline_build_agrees_with_the_one_the_cpu_runs() {
        // On a CPU with AVX2 and FMA every other test runs that build, which multiplies where
        // the baseline build divides; this keeps the baseline build, which CPUs without them
        // run, to the same bits.
        // 5x9000 has windows over 64 down its columns, where the AVX2 build divides too.
        let sizes = [(7, 300, 1), (64, 64, 2), (333, 2000, 10), (1001, 77, 3), (5, 9000, 4)];
        for (width, height, seed) in sizes {
            let rgb = synthetic_rgb(width, height, seed);
            let dispatched = downsample_rgb(width, height, &rgb);
            let baseline = downsample_rgb_inlined::<false>(width, height, &rgb);
            let bits = |a: &[[f32; DOWNSAMPLED]; DOWNSAMPLED]| {
                a.iter().flatten().map(|v| v.to_bits()).collect::<Vec<_>>()
            };
            assert_eq!(bits(&dispatched), bits(&baseline), "{width}x{height}");
        }
    }
    #[test]
    fn the_avx2_luma_is_the_baseline_luma() {
        // Every width up to 40: the eight-pixel steps, and the tails they leave (the last
        // step stops four bytes short of the row's end).
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") {
            for width in 1..=40 {
                let rgb = synthetic_rgb(width, LANES, width as u64);
                let mut baseline = vec![[0.0f32; LANES]; width];
                for (k, row) in rgb.chunks_exact(3 * width).enumerate() {
                    let mut luma = vec![0.0f32; width];
                    luma_from_rgb(row, &mut luma);
                    for (lane, luma) in baseline.iter_mut().zip(luma) {
                        lane[k] = luma;
                    }
                }
                let mut avx2 = vec![[0.0f32; LANES]; width];
                // SAFETY: the CPU has AVX2, checked just above.
                unsafe { avx2::luma_lanes(&rgb, &mut avx2) };
                let bits =
                    |v: &[Lanes]| v.iter().flatten().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&avx2), bits(&baseline), "width {width}");
            }
        }
    }

    #[test]
    fn window_sizes_round_up() {
        assert_eq!(jarosz_window(5), 1);
        assert_eq!(jarosz_window(128), 1);
        assert_eq!(jarosz_window(129), 2);
        assert_eq!(jarosz_window(512), 4);
        assert_eq!(jarosz_window(4032), 32);
    }
}
