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
pub(super) fn corners(image: &GrayImage, threshold: u8, margin: u32) -> Vec<Corner> {
    let (w, h) = image.dimensions();
    if w <= 2 * margin || h <= 2 * margin {
        return Vec::new();
    }
    let pixels = image.as_raw();
    let stride = w as isize;
    let offsets = CIRCLE.map(|(dx, dy)| dy as isize * stride + dx as isize);
    let threshold = i16::from(threshold);
    // Every pixel's score (0: not a corner), for the suppression.
    let mut scores = vec![0u16; (w * h) as usize];
    let mut found = Vec::new();
    for y in margin..h - margin {
        for x in margin..w - margin {
            let at = (y * w + x) as isize;
            let centre = i16::from(pixels[at as usize]);
            let pixel = |o: isize| i16::from(pixels[(at + o) as usize]) - centre;
            // A 9-arc covers at least two of the four compass points: a cheap rejection,
            // before the whole circle is read.
            let compass = [0, 4, 8, 12].map(|i| pixel(offsets[i]));
            let bright = compass.iter().filter(|&&d| d > threshold).count();
            let dark = compass.iter().filter(|&&d| d < -threshold).count();
            if bright < 2 && dark < 2 {
                continue;
            }
            let score = score(&offsets.map(pixel));
            if score > threshold {
                scores[at as usize] = score as u16;
                found.push((x, y));
            }
        }
    }
    found
        .into_iter()
        .filter_map(|(x, y)| {
            let at = (y * w + x) as usize;
            let score = scores[at];
            let neighbours =
                [-stride - 1, -stride, -stride + 1, -1, 1, stride - 1, stride, stride + 1];
            let is_max = neighbours.iter().all(|&o| {
                let other = scores[(at as isize + o) as usize];
                // Ties go to the earlier pixel in raster order, so a plateau keeps one corner.
                if o < 0 {
                    other < score
                } else {
                    other <= score
                }
            });
            is_max.then_some(Corner { x: x as u16, y: y as u16, score })
        })
        .collect()
}

/// The largest `t` such that some 9-arc of `ring` (circle minus centre) is all `> t` or all
/// `< -t`, i.e. the threshold just under which the pixel stops being a corner.
fn score(ring: &[i16; 16]) -> i16 {
    let mut best = 0;
    for start in 0..16 {
        let arc = (0..ARC).map(|k| ring[(start + k) % 16]);
        let (low, high) = arc.fold((i16::MAX, i16::MIN), |(lo, hi), d| (lo.min(d), hi.max(d)));
        best = best.max(low).max(-high);
    }
    best - 1
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
