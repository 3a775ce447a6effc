//! FAST-9 corners on one grey pyramid level: the 16-pixel Bresenham circle of radius 3, a
//! pixel being a corner when 9 contiguous circle pixels are all brighter than it by more than
//! the threshold, or all darker. Each corner's score is the largest threshold at which it
//! would still be one, and only local maxima of that score (3×3) are kept.
//!
//! Owns corner detection only; choosing which corners become keypoints is the caller's. Must
//! not look outside the image: corners closer than `margin` to an edge are not reported.

use image::GrayImage;

/// The circle, clockwise from straight up.
const CIRCLE: [(i32, i32); 16] = [
    (0, -3),
    (1, -3),
    (2, -2),
    (3, -1),
    (3, 0),
    (3, 1),
    (2, 2),
    (1, 3),
    (0, 3),
    (-1, 3),
    (-2, 2),
    (-3, 1),
    (-3, 0),
    (-3, -1),
    (-2, -2),
    (-1, -3),
];

/// Contiguous circle pixels a corner needs.
const ARC: usize = 9;

/// A corner: its pixel and its score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Corner {
    pub x: u16,
    pub y: u16,
    pub score: u16,
}

/// The corners of `image` whose score exceeds `threshold`, at least `margin` (≥ 3) pixels
/// from every edge, after 3×3 non-maximum suppression, in raster order.
#[inline(always)]
pub(super) fn corners(image: &GrayImage, threshold: u8, margin: u32) -> Vec<Corner> {
    let (w, h) = image.dimensions();
    if w <= 2 * margin || h <= 2 * margin {
        return Vec::new();
    }
    let found = candidates(image, threshold, margin);
    // Every pixel's score (0: not a corner), for the suppression.
    let mut scores = vec![0u16; (w * h) as usize];
    for c in &found {
        scores[c.y as usize * w as usize + c.x as usize] = c.score;
    }
    let stride = w as isize;
    found
        .into_iter()
        .filter(|c| {
            let at = c.y as usize * w as usize + c.x as usize;
            let neighbours =
                [-stride - 1, -stride, -stride + 1, -1, 1, stride - 1, stride, stride + 1];
            neighbours.iter().all(|&o| {
                let other = scores[(at as isize + o) as usize];
                // Ties go to the earlier pixel in raster order, so a plateau keeps one corner.
                if o < 0 {
                    other < c.score
                } else {
                    other <= c.score
                }
            })
        })
        .collect()
}

/// Every pixel at least `margin` from the edges whose [`score`] exceeds `threshold`, in
/// raster order, before suppression.
///
/// A score over `threshold` means a 9-arc all brighter, or all darker, than the centre by
/// more than `threshold + 1`, and such an arc holds two neighbouring compass points (up,
/// right, down, left) that differ as much. So a row is first screened on its compass points
/// alone, in a loop over plain bytes that the compiler vectorises; the few pixels left get
/// the whole circle as two 16-bit masks (brighter, darker), tested for 9 set bits in a row,
/// and only the corners among them are scored.
#[inline(always)]
fn candidates(image: &GrayImage, threshold: u8, margin: u32) -> Vec<Corner> {
    let (w, h) = image.dimensions();
    let (width, pixels) = (w as usize, image.as_raw());
    let offsets = CIRCLE.map(|(dx, dy)| dy as isize * width as isize + dx as isize);
    let need = threshold.saturating_add(1);
    let (first, last) = (margin as usize, (w - margin) as usize);
    // One byte a pixel (1: screened in), padded to whole words so that runs of pixels
    // screened out are skipped eight at a time.
    let mut maybe = vec![0u8; (last - first).next_multiple_of(8)];
    let mut found = Vec::new();
    for y in margin as usize..(h - margin) as usize {
        let row = y * width;
        let span = |offset: isize| {
            let start = (row + first).wrapping_add_signed(offset);
            &pixels[start..start + last - first]
        };
        let (centre, up, right, down, left) =
            (span(0), span(offsets[0]), span(offsets[4]), span(offsets[8]), span(offsets[12]));
        for (i, flag) in maybe[..last - first].iter_mut().enumerate() {
            let c = centre[i];
            let bright = |p: u8| p.saturating_sub(c) > need;
            let dark = |p: u8| c.saturating_sub(p) > need;
            let (bu, br, bd, bl) =
                (bright(up[i]), bright(right[i]), bright(down[i]), bright(left[i]));
            let (du, dr, dd, dl) = (dark(up[i]), dark(right[i]), dark(down[i]), dark(left[i]));
            *flag = u8::from(
                (bu & br)
                    | (br & bd)
                    | (bd & bl)
                    | (bl & bu)
                    | (du & dr)
                    | (dr & dd)
                    | (dd & dl)
                    | (dl & du),
            );
        }
        let words = maybe.as_chunks::<8>().0.iter().map(|w| u64::from_le_bytes(*w));
        let screened = words.enumerate().flat_map(|(at, mut word)| {
            std::iter::from_fn(move || {
                (word != 0).then(|| {
                    let i = 8 * at + word.trailing_zeros() as usize / 8;
                    word &= word - 1;
                    i
                })
            })
        });
        for i in screened {
            let at = row + first + i;
            let centre = i16::from(pixels[at]);
            let ring = offsets.map(|o| i16::from(pixels[at.wrapping_add_signed(o)]) - centre);
            let need = i16::from(need);
            let (mut bright, mut dark) = (0u32, 0u32);
            for (k, &d) in ring.iter().enumerate() {
                bright |= u32::from(d > need) << k;
                dark |= u32::from(d < -need) << k;
            }
            if has_arc(bright) || has_arc(dark) {
                let x = (first + i) as u16;
                found.push(Corner { x, y: y as u16, score: score(&ring) as u16 });
            }
        }
    }
    found
}

/// Whether the 16-bit circular `mask` has [`ARC`] set bits in a row.
#[inline(always)]
fn has_arc(mask: u32) -> bool {
    // Doubled, a run across bit 15 is a plain run; then runs of 2, 4, 8, and one more.
    let m = mask | mask << 16;
    let two = m & m >> 1;
    let four = two & two >> 2;
    let eight = four & four >> 4;
    eight & m >> 8 != 0
}

/// The largest `t` such that some 9-arc of `ring` (circle minus centre) is all `> t` or all
/// `< -t`, i.e. the threshold just under which the pixel stops being a corner.
#[inline(always)]
fn score(ring: &[i16; 16]) -> i16 {
    // Every 9-arc's least and greatest from those of arcs of 2, 4 and 8 (arc `i` starting at
    // `i`), each step a rotation of the whole ring, which fits one vector register: 16
    // lanes at once instead of 16 × 9 terms one by one.
    const _: () = assert!(ARC == 9);
    let turned =
        |ring: &[i16; 16], by: usize| -> [i16; 16] { std::array::from_fn(|i| ring[(i + by) % 16]) };
    let (mut low, mut high) = (*ring, *ring);
    for by in [1, 2, 4] {
        let (l, h) = (turned(&low, by), turned(&high, by));
        low = std::array::from_fn(|i| low[i].min(l[i]));
        high = std::array::from_fn(|i| high[i].max(h[i]));
    }
    let last = turned(ring, 8);
    let best: [i16; 16] = std::array::from_fn(|i| low[i].min(last[i]).max(-high[i].max(last[i])));
    best.into_iter().fold(0, i16::max) - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bright_square_has_corners_and_a_flat_image_none() {
        let mut image = GrayImage::from_pixel(40, 40, image::Luma([30]));
        for y in 15..40 {
            for x in 15..40 {
                image.put_pixel(x, y, image::Luma([200]));
            }
        }
        let found = corners(&image, 20, 4);
        assert!(found.iter().any(|c| (14..=16).contains(&c.x) && (14..=16).contains(&c.y)));
        // Straight edges are not corners.
        assert!(found.iter().all(|c| c.x < 18 && c.y < 18), "{found:?}");
        let flat = GrayImage::from_pixel(40, 40, image::Luma([128]));
        assert!(corners(&flat, 3, 4).is_empty());
    }

    #[test]
    fn the_screened_candidates_are_every_pixel_scoring_over_the_threshold() {
        let mut rng = crate::testing::Rng(0xfa57);
        // Noise over blocks: flat areas, edges, corners and texture.
        let image = GrayImage::from_fn(97, 61, |x, y| {
            let block = ((x / 6 + y / 4) % 3) as u64 * 90;
            image::Luma([(block + rng.below(40)) as u8])
        });
        let (w, h) = image.dimensions();
        for threshold in [3, 8, 20] {
            let mut expected = Vec::new();
            for y in 4..h - 4 {
                for x in 4..w - 4 {
                    let centre = i16::from(image.get_pixel(x, y)[0]);
                    let ring = CIRCLE.map(|(dx, dy)| {
                        let (px, py) = (x.wrapping_add_signed(dx), y.wrapping_add_signed(dy));
                        i16::from(image.get_pixel(px, py)[0]) - centre
                    });
                    let score = score(&ring);
                    if score > i16::from(threshold) {
                        expected.push(Corner { x: x as u16, y: y as u16, score: score as u16 });
                    }
                }
            }
            assert!(expected.len() > 20, "{threshold}: {}", expected.len());
            assert_eq!(candidates(&image, threshold, 4), expected, "{threshold}");
        }
    }

    #[test]
    fn the_score_is_the_best_arc_of_nine() {
        let mut rng = crate::testing::Rng(0xfa5e);
        for _ in 0..20_000 {
            let ring: [i16; 16] = std::array::from_fn(|_| rng.below(511) as i16 - 255);
            let mut best = 0;
            for start in 0..16 {
                let arc = (0..ARC).map(|k| ring[(start + k) % 16]);
                let (lo, hi) = arc.fold((i16::MAX, i16::MIN), |(l, h), d| (l.min(d), h.max(d)));
                best = best.max(lo).max(-hi);
            }
            assert_eq!(score(&ring), best - 1, "{ring:?}");
        }
    }

    #[test]
    fn the_score_is_the_threshold_a_corner_survives() {
        let mut ring = [0i16; 16];
        for d in ring.iter_mut().take(9) {
            *d = 50;
        }
        assert_eq!(score(&ring), 49);
        ring[4] = 21;
        assert_eq!(score(&ring), 20);
        ring[4] = -60;
        assert_eq!(score(&ring), -1);
    }
}
