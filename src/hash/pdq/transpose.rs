//! The layout changes around PDQ's row filter: it runs along [`LANES`] rows at once, one per
//! SIMD lane (`lanes[x][k]`, sample x of row k), while the luma, the column filter and the
//! rest of the blur hold rows one after another (`rows[k * width + x]`).
//!
//! Owns: both transposes, the portable one in 4x4 tiles and the AVX one in 8x8 tiles, held
//! in 256-bit registers, that the AVX2 build of [`super::downsample`] runs.
//!
//! Must not: change a value; these only move f32s.

use wide::f32x4;

use super::box_filter::{Lanes, LANES};

/// Copies [`LANES`] row-major rows (`rows[k * width + x]`, `width = lanes.len()`) into the
/// lanes layout (`lanes[x][k]`). `AVX` says the caller runs on a CPU with AVX: only the
/// AVX2 build of [`super::downsample`] sets it, after checking.
#[inline(always)]
pub(super) fn rows_to_lanes<const AVX: bool>(rows: &[f32], lanes: &mut [Lanes]) {
    #[cfg(target_arch = "x86_64")]
    if AVX {
        // SAFETY: `AVX` is set only where the CPU has AVX (see above).
        return unsafe { avx::rows_to_lanes(rows, lanes) };
    }
    rows_to_lanes_tiled(rows, lanes);
}

/// The inverse of [`rows_to_lanes`].
#[inline(always)]
pub(super) fn lanes_to_rows<const AVX: bool>(lanes: &[Lanes], rows: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if AVX {
        // SAFETY: as in `rows_to_lanes`.
        return unsafe { avx::lanes_to_rows(lanes, rows) };
    }
    lanes_to_rows_tiled(lanes, rows);
}

/// [`rows_to_lanes`] as 4x4 tiles, which 128-bit shuffles transpose on any CPU.
#[inline(always)]
fn rows_to_lanes_tiled(rows: &[f32], lanes: &mut [Lanes]) {
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

/// The inverse of [`rows_to_lanes_tiled`].
#[inline(always)]
fn lanes_to_rows_tiled(lanes: &[Lanes], rows: &mut [f32]) {
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
    // One bounds check, then one vector load; element by element, each would be checked.
    let four: [f32; 4] = values[..4].try_into().expect("four values");
    f32x4::from(four)
}

#[cfg(target_arch = "x86_64")]
pub(super) mod avx {
    //! The 8x8 tiles: eight 256-bit rows in, eight columns out, by the usual three rounds of
    //! shuffles (pairs of floats, then pairs of pairs, then 128-bit halves). The tile transpose
    //! itself is also [`super::super::downsample`]'s, which makes luma in registers and
    //! transposes it there.

    use std::arch::x86_64::{
        __m256, _mm256_loadu_ps, _mm256_permute2f128_ps, _mm256_shuffle_ps, _mm256_storeu_ps,
        _mm256_unpackhi_ps, _mm256_unpacklo_ps,
    };

    use super::{Lanes, LANES};

    const _: () = assert!(LANES == 8, "a lane is one 256-bit vector");

    #[inline]
    #[target_feature(enable = "avx")]
    pub(in crate::hash::pdq) fn transpose(r: [__m256; 8]) -> [__m256; 8] {
        let lo = |a, b| _mm256_unpacklo_ps(a, b);
        let hi = |a, b| _mm256_unpackhi_ps(a, b);
        let t = [
            lo(r[0], r[1]),
            hi(r[0], r[1]),
            lo(r[2], r[3]),
            hi(r[2], r[3]),
            lo(r[4], r[5]),
            hi(r[4], r[5]),
            lo(r[6], r[7]),
            hi(r[6], r[7]),
        ];
        let u = [
            _mm256_shuffle_ps::<0x44>(t[0], t[2]),
            _mm256_shuffle_ps::<0xee>(t[0], t[2]),
            _mm256_shuffle_ps::<0x44>(t[1], t[3]),
            _mm256_shuffle_ps::<0xee>(t[1], t[3]),
            _mm256_shuffle_ps::<0x44>(t[4], t[6]),
            _mm256_shuffle_ps::<0xee>(t[4], t[6]),
            _mm256_shuffle_ps::<0x44>(t[5], t[7]),
            _mm256_shuffle_ps::<0xee>(t[5], t[7]),
        ];
        std::array::from_fn(|i| match i < 4 {
            true => _mm256_permute2f128_ps::<0x20>(u[i], u[i + 4]),
            false => _mm256_permute2f128_ps::<0x31>(u[i - 4], u[i]),
        })
    }

    /// Eight floats from `values`, which must hold eight.
    #[inline]
    #[target_feature(enable = "avx")]
    fn load(values: &[f32]) -> __m256 {
        let eight: &[f32; 8] = values[..8].try_into().expect("eight values");
        // SAFETY: `eight` is eight readable floats; the load is unaligned.
        unsafe { _mm256_loadu_ps(eight.as_ptr()) }
    }

    /// Eight floats to `out`, which must have room for eight.
    #[inline]
    #[target_feature(enable = "avx")]
    pub(in crate::hash::pdq) fn store(value: __m256, out: &mut [f32]) {
        let eight: &mut [f32; 8] = (&mut out[..8]).try_into().expect("room for eight");
        // SAFETY: `eight` is eight writable floats; the store is unaligned.
        unsafe { _mm256_storeu_ps(eight.as_mut_ptr(), value) }
    }

    #[inline]
    #[target_feature(enable = "avx")]
    pub(super) fn rows_to_lanes(rows: &[f32], lanes: &mut [Lanes]) {
        let width = lanes.len();
        let mut x = 0;
        for tile in lanes.chunks_exact_mut(8) {
            let columns = transpose(std::array::from_fn(|k| load(&rows[k * width + x..])));
            for (lane, column) in tile.iter_mut().zip(columns) {
                store(column, lane);
            }
            x += 8;
        }
        for (x, out) in lanes.iter_mut().enumerate().skip(x) {
            *out = std::array::from_fn(|k| rows[k * width + x]);
        }
    }

    #[inline]
    #[target_feature(enable = "avx")]
    pub(super) fn lanes_to_rows(lanes: &[Lanes], rows: &mut [f32]) {
        let width = lanes.len();
        let mut x = 0;
        for tile in lanes.chunks_exact(8) {
            let columns = transpose(std::array::from_fn(|i| load(&tile[i])));
            for (k, column) in columns.into_iter().enumerate() {
                store(column, &mut rows[k * width + x..]);
            }
            x += 8;
        }
        for (x, lane) in lanes.iter().enumerate().skip(x) {
            for (k, &value) in lane.iter().enumerate() {
                rows[k * width + x] = value;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_changes_round_trip_at_every_width() {
        for width in 1..=21 {
            let rows: Vec<f32> = (0..width * LANES).map(|i| i as f32).collect();
            let expected: Vec<Lanes> =
                (0..width).map(|x| std::array::from_fn(|k| rows[k * width + x])).collect();
            let mut lanes = vec![[0.0; LANES]; width];
            rows_to_lanes_tiled(&rows, &mut lanes);
            assert_eq!(lanes, expected, "width {width}");
            let mut back = vec![0.0; rows.len()];
            lanes_to_rows_tiled(&lanes, &mut back);
            assert_eq!(back, rows, "width {width}");
            #[cfg(target_arch = "x86_64")]
            if is_x86_feature_detected!("avx") {
                let mut lanes = vec![[0.0; LANES]; width];
                // SAFETY: the CPU has AVX, checked just above.
                unsafe { avx::rows_to_lanes(&rows, &mut lanes) };
                assert_eq!(lanes, expected, "width {width}, AVX");
                let mut back = vec![0.0; rows.len()];
                // SAFETY: as above.
                unsafe { avx::lanes_to_rows(&lanes, &mut back) };
                assert_eq!(back, rows, "width {width}, AVX");
            }
        }
    }
}
