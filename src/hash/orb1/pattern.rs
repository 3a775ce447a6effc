//! The BRIEF sampling pattern of `orb1`: which 256 pairs of points around a keypoint are
//! compared to make its descriptor.
//!
//! Owns the table [`PAIRS`], fixed for ever by the `orb1` version: a listed signature is only
//! comparable with a query described by the very same pairs. The table was drawn once, as the
//! BRIEF paper's best-performing "G II" sampling (both points of a pair drawn independently
//! from an isotropic Gaussian of σ = 31/5 around the keypoint, cut to the 27×27 square that
//! leaves room for the 5×5 box each point is smoothed over), from a splitmix64 stream seeded
//! with `SEED`, and written out here so that no random number generator runs at hashing
//! time; the test at the bottom redraws it and checks that it is still that draw. Must not
//! change: a new pattern is a new algorithm version.

/// The seed the table was drawn from.
#[cfg(test)]
const SEED: u64 = 0x6f72_6231_6272_6966; // "orb1brif"

/// How far (in pixels of the pyramid level) a sampled point lies from the keypoint at most,
/// in either direction.
pub(super) const REACH: i32 = 13;

/// The 256 tests `(ax, ay, bx, by)`: bit `i` of a descriptor is set when the smoothed
/// intensity at `(ax, ay)` from the keypoint is less than at `(bx, by)`.
pub(super) const PAIRS: [[i8; 4]; 256] = [
    [3, 8, 0, 1],
    [-9, -8, 0, -3],
    [3, 2, 0, -7],
    [-2, 1, 0, -6],
    [-2, 1, 4, -3],
    [-2, 5, -11, -9],
    [7, -1, 1, -9],
    [-4, -2, 9, -4],
    [8, -6, -7, 7],
    [3, 0, -7, 9],
    [4, -3, -2, 5],
    [-12, 4, -7, 0],
    [3, -8, 7, -9],
    [4, 3, 10, -5],
    [7, 5, 1, -2],
    [4, 3, 5, -2],
    [-5, 3, 1, 12],
    [5, -3, -10, -4],
    [7, -3, -6, 11],
    [-3, -6, 0, -7],
    [9, 2, 7, -6],
    [-13, -1, 8, 1],
    [11, -7, 1, -10],
    [2, -9, -10, -7],
    [5, 10, 5, -6],
    [9, 0, 6, -3],
    [-5, -3, 6, -3],
    [-5, -8, 0, 7],
    [0, -3, 11, 10],
    [3, -7, 6, -2],
    [9, -3, 6, 2],
    [-5, -2, -2, 0],
    [4, -4, 9, 5],
    [0, -3, 0, -4],
    [-5, 5, -6, -2],
    [10, 3, -7, 10],
    [4, -4, -7, 7],
    [-1, 4, -10, 0],
    [10, 3, 5, -2],
    [1, -7, 1, -2],
    [0, -8, 3, 5],
    [-6, 2, -5, -3],
    [1, 4, -4, -7],
    [0, -7, 1, -7],
    [-4, 4, 0, 3],
    [2, -3, 4, 4],
    [6, 4, 13, 2],
    [-1, 3, 3, -5],
    [-2, 9, -5, 13],
    [0, 1, 2, 3],
    [1, -4, 8, -1],
    [3, 9, 0, 6],
    [-5, -1, 6, -6],
    [5, -9, 4, 0],
    [0, 2, 0, -7],
    [-8, -5, -2, -1],
    [5, -3, -3, -2],
    [-5, 3, 0, 7],
    [8, -4, 1, -8],
    [5, -5, 12, 4],
    [-1, 1, -2, 5],
    [-7, 5, -3, 1],
    [1, -6, 4, -5],
    [-3, -3, -4, -8],
    [-3, -5, 3, -3],
    [4, 2, -8, 8],
    [0, -1, 11, -1],
    [1, 0, 5, -7],
    [5, 11, 6, -1],
    [-1, -2, 4, 0],
    [8, -9, 3, 6],
    [6, -1, 5, 0],
    [3, -6, 8, 4],
    [4, 0, 10, 7],
    [-6, 8, -6, -5],
    [3, 4, -3, 13],
    [-5, 3, 1, 8],
    [1, 1, -1, 2],
    [-11, -3, 12, 7],
    [2, 9, 3, 12],
    [-4, 6, -3, 13],
    [-5, -4, -7, 9],
    [2, 5, 3, -10],
    [-3, 1, 5, -8],
    [-4, 5, 8, 1],
    [-1, -7, -6, -6],
    [-1, 8, 7, -6],
    [-7, 6, -3, 12],
    [4, 0, -5, -3],
    [6, -1, 0, 4],
    [2, -9, -4, -1],
    [-3, 4, -5, -13],
    [-5, 3, -3, 6],
    [4, 4, 4, -3],
    [0, -1, 6, 6],
    [-8, 2, -3, 3],
    [0, 6, -2, 7],
    [1, -5, 11, 1],
    [-4, -5, 7, 3],
    [-3, 0, -3, 10],
    [-3, -8, -1, 9],
    [0, -2, -1, -2],
    [-1, -5, -4, -7],
    [-6, -6, -7, 5],
    [0, -4, -8, -4],
    [3, 10, 1, -3],
    [-9, 2, 8, 2],
    [7, -2, -4, -6],
    [6, 1, -2, -3],
    [-4, 0, 1, -7],
    [2, -10, -6, -5],
    [2, 3, 5, -1],
    [3, -9, -1, -4],
    [-1, 7, 7, 5],
    [7, 1, -4, 5],
    [2, 0, -5, -6],
    [-8, 6, 0, -4],
    [3, -3, -2, -8],
    [-11, -4, 7, 10],
    [11, -3, -3, -4],
    [6, -2, 13, 1],
    [-9, -3, 3, 3],
    [7, 0, -9, 6],
    [-12, -2, 0, -4],
    [-3, 2, -8, -7],
    [1, -4, 6, -7],
    [7, 10, -4, -1],
    [5, -5, 11, -2],
    [-7, 1, 0, 13],
    [0, -9, 1, 6],
    [10, -10, -7, -5],
    [-3, 1, 10, -8],
    [-7, 1, 8, 10],
    [0, 1, 6, 2],
    [4, 2, 3, -2],
    [1, -7, -7, 3],
    [3, -7, 1, 5],
    [1, -2, -5, 3],
    [-1, -4, 3, -3],
    [-1, -1, 6, 3],
    [-6, -5, 7, -7],
    [0, 8, -9, -3],
    [-13, 7, 0, -10],
    [-3, -1, 0, -2],
    [13, 5, 4, 7],
    [-2, 0, -10, -6],
    [0, 4, -9, 3],
    [5, -1, -1, -2],
    [-2, 5, -2, 1],
    [-3, 0, -3, 2],
    [0, 10, -2, 4],
    [-13, -6, 5, -4],
    [2, -2, -1, -1],
    [0, 0, -6, -4],
    [6, 3, 3, 3],
    [13, 5, -13, -7],
    [3, 0, -10, 1],
    [1, -10, -5, -3],
    [7, -5, 6, 5],
    [-5, -9, 10, -7],
    [-3, 9, -7, 4],
    [-3, -4, -1, -6],
    [-1, -6, -7, -10],
    [-13, -9, 4, -4],
    [11, -2, 9, -1],
    [0, -7, 6, 10],
    [-10, 5, 5, 2],
    [-8, 4, 0, -2],
    [6, 11, -5, -9],
    [12, 9, -10, -3],
    [-5, -4, 7, 2],
    [2, 4, 7, 8],
    [-1, -1, -2, 2],
    [-6, 6, 2, -4],
    [-4, -3, 0, -4],
    [4, 2, -3, -12],
    [2, -1, 6, 7],
    [-5, 5, -1, -3],
    [6, -4, -2, -2],
    [-2, -4, 2, -11],
    [8, 2, 4, -8],
    [-3, -12, -1, -10],
    [-8, -9, 12, 0],
    [-1, 4, -2, -3],
    [-3, 0, -5, 7],
    [0, 6, -3, 3],
    [6, -5, -1, -1],
    [7, 0, -1, 1],
    [-4, 1, -3, 2],
    [10, -4, -1, -1],
    [8, 7, 2, -6],
    [6, 1, -8, -11],
    [0, -7, 7, -7],
    [3, -5, 8, 2],
    [-4, 1, 2, 3],
    [0, -6, 1, 6],
    [-4, 0, 2, 0],
    [1, -5, -7, -3],
    [10, 5, -6, 6],
    [4, -12, -3, 5],
    [3, 8, -1, -4],
    [5, 3, 7, 3],
    [1, -2, -12, 9],
    [7, 0, -11, -4],
    [0, -9, -2, 0],
    [0, 2, 1, 7],
    [-1, 2, -3, 13],
    [4, 9, -2, -6],
    [-6, 3, -2, 3],
    [13, -4, -6, -6],
    [8, -4, 6, 0],
    [-5, 4, 9, -4],
    [-6, -4, 5, -3],
    [9, 9, -3, 8],
    [6, -1, -1, 1],
    [-4, -6, 8, 10],
    [-1, -6, -2, 8],
    [9, -4, 1, 0],
    [4, -5, -12, 2],
    [5, 3, -7, -3],
    [11, 2, 7, -2],
    [-5, 4, 3, -7],
    [-6, -2, 2, -2],
    [-8, -5, 1, -7],
    [3, 1, 0, 5],
    [0, -1, -7, -7],
    [-6, 4, 13, -3],
    [3, 4, -5, 3],
    [0, 0, -7, 5],
    [3, -9, 4, 6],
    [4, 5, 3, -6],
    [-2, 11, 0, -7],
    [4, 4, 4, 0],
    [-3, 4, -7, -5],
    [13, -1, 9, 5],
    [1, 12, 6, -7],
    [5, 0, 9, -3],
    [-2, 4, -6, -5],
    [-1, -5, 3, -7],
    [-5, -2, 1, -2],
    [4, 0, 6, 6],
    [6, -1, -4, 8],
    [-7, -6, 2, -2],
    [3, -5, -6, -3],
    [-12, 3, 6, 10],
    [-1, 0, 0, 3],
    [-9, 0, -4, 6],
    [-9, -5, 12, 4],
    [-2, -5, 11, -6],
    [-8, -8, -4, -1],
    [-4, 8, 7, -1],
    [-4, 2, 1, -8],
    [-4, -8, 7, 1],
    [0, -12, -11, -3],
    [-3, 0, 1, -9],
    [0, -7, 5, -6],
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Rng;

    /// One coordinate: a normal deviate as the sum of twelve uniform 16-bit draws (variance
    /// 2^32), scaled to σ = 6.2 and rounded, redrawn until it lies within [`REACH`]. Integer
    /// arithmetic only, so the draw is the same on every machine.
    fn coordinate(rng: &mut Rng) -> i8 {
        loop {
            let sum: i64 = (0..12).map(|_| (rng.next() >> 48) as i64).sum();
            let centred = sum - 12 * 32_768;
            // centred / 65536 * 6.2, rounded half away from zero.
            let scaled = centred * 62;
            let c = (scaled.abs() + 327_680) / 655_360 * scaled.signum();
            if c.abs() <= i64::from(REACH) {
                return c as i8;
            }
        }
    }

    fn draw() -> Vec<[i8; 4]> {
        let mut rng = Rng(SEED);
        let mut pairs: Vec<[i8; 4]> = Vec::new();
        while pairs.len() < 256 {
            let pair = [0; 4].map(|_| coordinate(&mut rng));
            let same_point = pair[0] == pair[2] && pair[1] == pair[3];
            let seen =
                pairs.iter().any(|p| *p == pair || *p == [pair[2], pair[3], pair[0], pair[1]]);
            if !same_point && !seen {
                pairs.push(pair);
            }
        }
        pairs
    }

    #[test]
    fn the_table_is_the_seeded_draw() {
        let pairs = draw();
        if PAIRS.to_vec() != pairs {
            let rows: Vec<String> = pairs
                .chunks(4)
                .map(|c| {
                    let cells: Vec<String> = c.iter().map(|p| format!("{p:?}")).collect();
                    format!("    {},", cells.join(", "))
                })
                .collect();
            panic!("the table differs from the draw; the draw is:\n{}", rows.join("\n"));
        }
    }
}
