//! The reference's box filter, the blur PDQ's downsampling runs twice in each direction,
//! made fast without changing a bit of its result.
//!
//! Owns: the running-sum schedule of one box ([`Reach`]), the division of a window's sum by
//! its count ([`Divisor`]), and the filter along [`BLOCKS`] x [`LANES`] rows at once
//! ([`box_filter_lanes`]) and down every column at once ([`ColumnBox`]). The layout changes
//! between the two are [`super::transpose`]'s.
//!
//! Must not: know about images, luma or the 64x64 target (that is [`super::downsample`]'s),
//! or compute anything but the reference's sequence of f32 operations for each row and
//! column: its running sum's rounding errors are part of the hash. Every function stays
//! `#[inline(always)]`, so that [`super::downsample`]'s AVX2 build gets its own copy.

/// Rows the row filter runs side by side, one per SIMD lane: each lane keeps its own running
/// sum, so every row still goes through the reference's sequence of f32 operations, but eight
/// rows advance per instruction instead of one row waiting on its own sum's latency.
pub(super) const LANES: usize = 8;

/// Blocks of [`LANES`] rows the row filter runs side by side. A block's running sums are one
/// chain of dependent additions, each waiting on the one before; two independent chains in one
/// loop keep the adder busy while each waits.
pub(super) const BLOCKS: usize = 2;

/// One column of [`LANES`] consecutive rows.
pub(super) type Lanes = [f32; LANES];

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
/// outputs. ([`box_filter_lanes`] runs the same schedule unrolled into its stretches; the test
/// `column_pass_matches_row_pass_on_the_transpose` holds the two filters to each other.) The
/// window is centred with `half = (window + 2) / 2`, so an even window reaches one sample
/// further ahead (right/down) than behind, and it is truncated at the ends.
///
/// `fused` says whether the CPU the caller is compiled for fuses multiply-adds, which lets
/// [`Divisor`] replace the division by a multiplication; the result is the same either way.
#[derive(Clone, Copy, Debug)]
pub(super) struct Reach {
    len: usize,
    behind: usize,
    ahead: usize,
    fused: bool,
}

impl Reach {
    /// Requires `1 <= window <= len`, which [`jarosz_window`] guarantees.
    #[inline(always)]
    pub(super) fn new(window: usize, len: usize, fused: bool) -> Reach {
        debug_assert!((1..=len).contains(&window));
        let half = (window + 2) / 2;
        Reach { len, behind: window - half, ahead: half - 1, fused }
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

    /// What output `o`'s sum is divided by to give its mean.
    #[inline(always)]
    pub(super) fn divisor(&self, o: usize) -> Divisor {
        Divisor::new(self.count(o), self.fused)
    }
}

/// Counts up to which [`Divisor`] may multiply by the reciprocal instead of dividing: the
/// test `reciprocal_quotients_round_as_division` checks every f32 sum against each of them.
/// Windows reach 64 for sides up to 8,192 pixels; larger pictures divide.
const FUSED_COUNTS: f32 = 64.0;

/// Division of a window's sum by its sample count, with the reference's rounding.
///
/// A division costs several times a multiplication, and the blur divides once for every pixel
/// twice over. With fused multiply-adds, `sum / count` rounded is had without dividing: the
/// product by the rounded reciprocal is within about an ulp of the quotient, the fused
/// `sum - q * count` is its exact remainder, and one fused step with it rounds to the correctly
/// rounded quotient. That holds for every f32 sum and every count up to [`FUSED_COUNTS`], which
/// a test checks exhaustively: over the 2^23 significands of one binade, which stand for all
/// sums, because scaling by a power of two is exact for every value met here (luma and its
/// sums are multiples of 2^-27 and at most 255 times a window, so no step is subnormal or
/// overflows).
#[derive(Clone, Copy, Debug)]
pub(super) struct Divisor {
    count: f32,
    reciprocal: Option<f32>,
}

impl Divisor {
    #[inline(always)]
    fn new(count: f32, fused: bool) -> Divisor {
        let reciprocal = (fused && count <= FUSED_COUNTS).then(|| 1.0 / count);
        Divisor { count, reciprocal }
    }

    /// `sum / count`, rounded as the division rounds.
    #[inline(always)]
    pub(super) fn mean(&self, sum: f32) -> f32 {
        match self.reciprocal {
            Some(reciprocal) => quotient(sum, self.count, reciprocal),
            None => sum / self.count,
        }
    }

    /// [`Divisor::mean`] of each of `sums`, written to `out`; the choice between dividing and
    /// multiplying is made once, outside the loop.
    #[inline(always)]
    pub(super) fn means(&self, sums: &[f32], out: &mut [f32]) {
        match self.reciprocal {
            Some(reciprocal) => {
                for (out, &sum) in out.iter_mut().zip(sums) {
                    *out = quotient(sum, self.count, reciprocal);
                }
            }
            None => {
                for (out, &sum) in out.iter_mut().zip(sums) {
                    *out = sum / self.count;
                }
            }
        }
    }
}

/// `sum / count` correctly rounded, from `reciprocal = 1 / count` rounded, for the counts
/// [`Divisor`] uses it for. Both steps must be fused multiply-adds: unfused, the remainder
/// would round away.
#[inline(always)]
fn quotient(sum: f32, count: f32, reciprocal: f32) -> f32 {
    let estimate = sum * reciprocal;
    let remainder = (-estimate).mul_add(count, sum);
    remainder.mul_add(reciprocal, estimate)
}

/// Adds sample `x` of each block to its sums.
#[inline(always)]
fn add_at<const N: usize>(sums: &mut [Lanes; N], input: &[&[Lanes]; N], x: usize) {
    for (sum, block) in sums.iter_mut().zip(input) {
        add_lanes(sum, &block[x]);
    }
}

/// Subtracts sample `x` of each block from its sums.
#[inline(always)]
fn subtract_at<const N: usize>(sums: &mut [Lanes; N], input: &[&[Lanes]; N], x: usize) {
    for (sum, block) in sums.iter_mut().zip(input) {
        subtract_lanes(sum, &block[x]);
    }
}

/// The box filter along `N` blocks of [`LANES`] rows at once, over `input[b][x][k]` (sample x
/// of row k of block b): calls `emit(o, sums, divisor)` for every output o in order, `sums[b]`
/// holding each row's running sum over the window around o and `divisor` what it is divided
/// by for the mean. Requires every block to hold `reach.len` samples.
///
/// The schedule is [`Reach`]'s, unrolled into its four stretches (filling, growing, full,
/// shrinking) so that the inner loop has no test but its bound and the full windows share
/// one divisor.
#[inline(always)]
pub(super) fn box_filter_lanes<const N: usize>(
    input: [&[Lanes]; N],
    reach: &Reach,
    mut emit: impl FnMut(usize, &[Lanes; N], &Divisor),
) {
    let len = reach.len;
    let input = input.map(|block| &block[..len]);
    let mut sums = [[0.0f32; LANES]; N];
    for x in 0..reach.ahead {
        add_at(&mut sums, &input, x);
    }
    for o in 0..=reach.behind {
        add_at(&mut sums, &input, o + reach.ahead);
        emit(o, &sums, &reach.divisor(o));
    }
    let full = Divisor::new((reach.behind + 1 + reach.ahead) as f32, reach.fused);
    for o in reach.behind + 1..len - reach.ahead {
        add_at(&mut sums, &input, o + reach.ahead);
        subtract_at(&mut sums, &input, o - reach.behind - 1);
        emit(o, &sums, &full);
    }
    for (o, j) in reach.drain() {
        subtract_at(&mut sums, &input, j);
        emit(o, &sums, &reach.divisor(o));
    }
}

/// The box filter down every column at once, fed rows in order: each column goes through the
/// very same sequence of f32 operations as the reference's strided per-column loop, but
/// memory is read in order and only the rows the window spans are held.
pub(super) struct ColumnBox {
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
    pub(super) fn new(width: usize, window: usize, height: usize, fused: bool) -> ColumnBox {
        let rows = (window + LANES).next_multiple_of(LANES);
        ColumnBox {
            width,
            reach: Reach::new(window, height, fused),
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
    pub(super) fn next_block(&mut self) -> &mut [f32] {
        debug_assert_eq!(self.added % LANES, 0);
        let start = self.slot(self.added).start;
        &mut self.history[start..start + LANES * self.width]
    }

    /// Takes in the next row written to [`ColumnBox::next_block`]; returns the output row this
    /// completes, if any, for [`ColumnBox::mean`].
    #[inline(always)]
    pub(super) fn add_row(&mut self) -> Option<usize> {
        let row = self.added;
        self.added += 1;
        let entering = &self.history[self.slot(row)];
        let Some((o, leaving)) = self.reach.after_adding(row) else {
            for (sum, &x) in self.sums.iter_mut().zip(entering) {
                *sum += x;
            }
            return None;
        };
        match leaving {
            // One pass for both, each column still adding before it subtracts.
            Some(j) => {
                let leaving = &self.history[self.slot(j)];
                for ((sum, &x), &y) in self.sums.iter_mut().zip(entering).zip(leaving) {
                    *sum = (*sum + x) - y;
                }
            }
            None => {
                for (sum, &x) in self.sums.iter_mut().zip(entering) {
                    *sum += x;
                }
            }
        }
        Some(o)
    }

    /// Once every row is in: the next output row not yet given, if any, for
    /// [`ColumnBox::mean`].
    #[inline(always)]
    pub(super) fn drain_row(&mut self) -> Option<usize> {
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
    pub(super) fn mean(&self, o: usize, out: &mut [f32]) {
        self.reach.divisor(o).means(&self.sums, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::pdq::tests::{filter_row, luma_of, pattern};
    use crate::hash::pdq::transpose::{lanes_to_rows, rows_to_lanes};

    #[test]
    fn column_pass_matches_row_pass_on_the_transpose() {
        // The column filter must perform the same f32 operations as the 1-D filter, column by
        // column; compare against it on each column, for odd and even windows, feeding the rows
        // in blocks as `downsample` does (the last one partial).
        let (width, height) = (7, 300);
        let luma = luma_of(&pattern(width, height));
        for window in [1, 2, 3, 4, 7, 8, 300] {
            let mut columns = ColumnBox::new(width, window, height, false);
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
    fn reciprocal_quotients_round_as_division() {
        // Every significand, for every count the blur may multiply for; see `Divisor` for why
        // one binade stands for every sum. Counts are split over threads: 2^29 quotients.
        #[inline(always)]
        fn first_wrong(count: f32) -> Option<f32> {
            let reciprocal = 1.0 / count;
            (0..1u32 << 23)
                .map(|m| f32::from_bits(0x3f80_0000 | m))
                .find(|&sum| quotient(sum, count, reciprocal).to_bits() != (sum / count).to_bits())
        }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "fma")]
        fn first_wrong_fma(count: f32) -> Option<f32> {
            first_wrong(count)
        }
        let check = |count: f32| {
            #[cfg(target_arch = "x86_64")]
            if is_x86_feature_detected!("fma") {
                // SAFETY: the CPU has FMA, checked just above.
                return unsafe { first_wrong_fma(count) };
            }
            first_wrong(count)
        };
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let wrong: Vec<(f32, f32)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|t| {
                    scope.spawn(move || {
                        (1..=FUSED_COUNTS as usize)
                            .skip(t)
                            .step_by(threads)
                            .filter_map(|c| check(c as f32).map(|sum| (c as f32, sum)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
        });
        assert_eq!(wrong, [], "(count, sum) pairs whose quotient rounds differently");
        // Beyond FUSED_COUNTS, and without fused multiply-adds, the divisor divides.
        assert_eq!(Divisor::new(FUSED_COUNTS + 1.0, true).reciprocal, None);
        assert_eq!(Divisor::new(3.0, false).reciprocal, None);
    }

    #[test]
    fn blocks_filtered_side_by_side_are_filtered_alone() {
        let width = 41;
        let luma = luma_of(&pattern(width, BLOCKS * LANES));
        let blocks: Vec<Vec<Lanes>> = luma
            .chunks_exact(LANES * width)
            .map(|rows| {
                let mut lanes = vec![[0.0; LANES]; width];
                rows_to_lanes::<false>(rows, &mut lanes);
                lanes
            })
            .collect();
        let inputs: [&[Lanes]; BLOCKS] = std::array::from_fn(|b| blocks[b].as_slice());
        for window in [1, 2, 5, 8, 41] {
            let reach = Reach::new(window, width, true);
            let mut together = vec![[[0.0f32; LANES]; BLOCKS]; width];
            box_filter_lanes(inputs, &reach, |o, sums, divisor| {
                for (out, sum) in together[o].iter_mut().zip(sums) {
                    divisor.means(sum, out);
                }
            });
            for (b, block) in inputs.iter().enumerate() {
                let mut alone = vec![[0.0f32; LANES]; width];
                box_filter_lanes([*block], &reach, |o, [sum], divisor| {
                    divisor.means(sum, &mut alone[o]);
                });
                let side_by_side: Vec<Lanes> = together.iter().map(|t| t[b]).collect();
                assert_eq!(side_by_side, alone, "block {b}, window {window}");
            }
        }
    }

    #[test]
    fn lanes_are_independent_rows() {
        let (width, height) = (37, LANES);
        let luma = luma_of(&pattern(width, height));
        let mut lanes = vec![[0.0; LANES]; width];
        rows_to_lanes::<false>(&luma, &mut lanes);
        let reach = Reach::new(5, width, false);
        let mut filtered = vec![[0.0; LANES]; width];
        box_filter_lanes([&lanes], &reach, |o, [sum], _| {
            filtered[o] = sum.map(|s| s / reach.count(o));
        });
        let mut rows = vec![0.0; width * height];
        lanes_to_rows::<false>(&filtered, &mut rows);
        for (row, expected) in rows.chunks_exact(width).zip(luma.chunks_exact(width)) {
            assert_eq!(row, filter_row(expected, 5));
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
}
