//! The triangle-filter resize of a grey image that `orb1`'s frame and pyramid are made with.
//!
//! Owns reproducing, bit for bit, what `image::imageops::resize` with `FilterType::Triangle`
//! (image 0.25) gives for a grey image: listed `orb1` signatures were made with it, and a
//! single pixel rounded the other way moves keypoints and descriptor bits. The same weights
//! are computed by the same `f32` operations in the same order, and every output pixel's sum
//! is accumulated in the same order; only the work that crate does for the three channels a
//! grey image does not have, and its column-by-column pass over the intermediate image, are
//! left out. Must not change the arithmetic: the test at the bottom checks it against the
//! crate.

use image::GrayImage;

/// One output pixel's source span: the first source pixel and the normalised weights of it
/// and the ones after it.
struct Taps {
    first: usize,
    weights: Vec<f32>,
}

/// The taps of each of `to` output pixels resampled from `from` source pixels (both > 0).
fn taps(from: u32, to: u32) -> Vec<Taps> {
    let ratio = from as f32 / to as f32;
    let sratio = if ratio < 1.0 { 1.0 } else { ratio };
    // The triangle's support is 1, scaled by the reduction.
    let support = sratio;
    (0..to)
        .map(|out| {
            let centre = (out as f32 + 0.5) * ratio;
            let left = ((centre - support).floor() as i64).clamp(0, i64::from(from) - 1);
            let right = ((centre + support).ceil() as i64).clamp(left + 1, i64::from(from));
            let centre = centre - 0.5;
            let mut weights: Vec<f32> = (left..right)
                .map(|i| {
                    let x = ((i as f32 - centre) / sratio).abs();
                    if x < 1.0 {
                        1.0 - x
                    } else {
                        0.0
                    }
                })
                .collect();
            let mut sum = 0.0f32;
            for w in &weights {
                sum += w;
            }
            for w in &mut weights {
                *w /= sum;
            }
            Taps { first: left as usize, weights }
        })
        .collect()
}

/// `image` resized to `width` × `height`, as `imageops::resize(image, width, height,
/// FilterType::Triangle)` would.
#[inline(always)]
pub(super) fn resize(image: &GrayImage, width: u32, height: u32) -> GrayImage {
    let (w, h) = image.dimensions();
    if (w, h) == (width, height) {
        return image.clone();
    }
    if w == 0 || h == 0 {
        return GrayImage::new(width, height);
    }
    let (w, pixels) = (w as usize, image.as_raw());
    let (width, height) = (width as usize, height as usize);
    // Columns first: every row of the intermediate image is a weighted sum of source rows,
    // each output pixel's terms added in source order as the crate adds them. The
    // intermediate is kept transposed, so that the pass across works on whole columns too:
    // both passes are then loops over contiguous floats, with many sums in flight.
    // Sixteen rows (or columns) at a time, so that the transposed copy writes whole cache
    // lines.
    const BLOCK: usize = 16;
    let mut rows = vec![0f32; BLOCK * w];
    let mut transposed = vec![0f32; w * height];
    let down = taps(h, height as u32);
    for (block, taps) in down.chunks(BLOCK).enumerate() {
        for (row, taps) in rows.chunks_exact_mut(w).zip(taps) {
            row.fill(0.0);
            for (k, &weight) in taps.weights.iter().enumerate() {
                let source = &pixels[(taps.first + k) * w..][..w];
                for (t, &p) in row.iter_mut().zip(source) {
                    *t += f32::from(p) * weight;
                }
            }
        }
        let y0 = block * BLOCK;
        for x in 0..w {
            let column = &mut transposed[x * height + y0..][..taps.len()];
            for (r, t) in column.iter_mut().enumerate() {
                *t = rows[r * w + x];
            }
        }
    }
    let mut columns = vec![0f32; BLOCK * height];
    let mut out = vec![0u8; width * height];
    let across = taps(w as u32, width as u32);
    for (block, taps) in across.chunks(BLOCK).enumerate() {
        for (column, taps) in columns.chunks_exact_mut(height).zip(taps) {
            column.fill(0.0);
            for (k, &weight) in taps.weights.iter().enumerate() {
                let source = &transposed[(taps.first + k) * height..][..height];
                for (t, &v) in column.iter_mut().zip(source) {
                    *t += v * weight;
                }
            }
        }
        let x0 = block * BLOCK;
        for y in 0..height {
            let row = &mut out[y * width + x0..][..taps.len()];
            for (c, o) in row.iter_mut().enumerate() {
                // Rounding half away from zero, as `f32::round` (a libm call on the x86-64
                // baseline): the sum plus a half is exact in f64, and the cast truncates.
                *o = (f64::from(columns[c * height + y].clamp(0.0, 255.0)) + 0.5) as u8;
            }
        }
    }
    GrayImage::from_raw(width as u32, height as u32, out).expect("one byte per pixel")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Rng;
    use image::imageops::{self, FilterType};

    #[test]
    fn the_same_pixels_as_the_image_crate() {
        let mut rng = Rng(0x5e5a);
        let sizes = [
            ((1, 1), (3, 2)),
            ((7, 5), (7, 9)),
            ((800, 600), (667, 500)),
            ((800, 533), (223, 149)),
            ((1003, 1501), (535, 800)),
            ((1600, 1200), (800, 600)),
            ((9000, 1), (800, 1)),
            ((313, 41), (800, 105)),
        ];
        for ((w, h), (to_w, to_h)) in sizes {
            // Smooth ramps and noise: rounding differences show on both.
            let image = GrayImage::from_fn(w, h, |x, y| {
                let noise = rng.below(256) as u32;
                image::Luma([if (x / 7 + y / 5) % 2 == 0 {
                    noise as u8
                } else {
                    (x + 3 * y) as u8
                }])
            });
            let ours = resize(&image, to_w, to_h);
            let theirs = imageops::resize(&image, to_w, to_h, FilterType::Triangle);
            assert!(ours == theirs, "{w}×{h} to {to_w}×{to_h}");
        }
        assert_eq!(resize(&GrayImage::new(0, 0), 4, 3).dimensions(), (4, 3));
    }
}
