//! The reference's box filter, the blur PDQ's downsampling runs twice in each direction,
//! made fast without changing a bit of its result.
//!
//! Owns: the running-sum schedule of one box ([`Reach`]), the filter along [`LANES`] rows at
//! once ([`box_filter_lanes`]) and down every column at once ([`ColumnBox`]), and the SIMD
//! transposes between the two layouts.
//!
//! Must not: know about images, luma or the 64x64 target (that is [`super::downsample`]'s),
//! or compute anything but the reference's sequence of f32 operations for each row and
//! column: its running sum's rounding errors are part of the hash. Every function stays
//! `#[inline(always)]`, so that [`super::downsample`]'s AVX2 build gets its own copy.

use wide::f32x4;

/// Rows the row filter runs side by side, one per SIMD lane: each lane keeps its own running
/// sum, so every row still goes through the reference's sequence of f32 operations, but eight
/// rows advance per instruction instead of one row waiting on its own sum's latency.
pub(super) const LANES: usize = 8;

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
/// outputs. The window is centred with `half = (window + 2) / 2`, so an even window reaches one
/// sample further ahead (right/down) than behind, and it is truncated at the ends.
#[derive(Clone, Copy, Debug)]
pub(super) struct Reach {
    len: usize,
    behind: usize,
    ahead: usize,
}

impl Reach {
    /// Requires `1 <= window <= len`, which [`jarosz_window`] guarantees.
    #[inline(always)]
    pub(super) fn new(window: usize, len: usize) -> Reach {
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
    pub(super) fn count(&self, o: usize) -> f32 {
        let last = (o + self.ahead).min(self.len - 1);
        (last + 1 - o.saturating_sub(self.behind)) as f32
    }
}

/// The box filter along [`LANES`] rows at once, over `input[x][k]` (sample x of row k): calls
/// `emit(o, sum)` for every output o in order, `sum` holding each row's running sum over the
/// window around o (its mean is `sum / reach.count(o)`). Requires `input.len() == reach.len`.
#[inline(always)]
pub(super) fn box_filter_lanes(
    input: &[Lanes],
    reach: &Reach,
    mut emit: impl FnMut(usize, &Lanes),
) {
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
pub(super) fn rows_to_lanes(rows: &[f32], lanes: &mut [Lanes]) {
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
pub(super) fn lanes_to_rows(lanes: &[Lanes], rows: &mut [f32]) {
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
    pub(super) fn new(width: usize, window: usize, height: usize) -> ColumnBox {
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
        let count = self.reach.count(o);
        for (out, &sum) in out.iter_mut().zip(&self.sums) {
            *out = sum / count;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::pdq::tests::{filter_row, luma_of, pattern};

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
}
