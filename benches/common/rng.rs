//! SplitMix64: reproducible benchmark data without a dependency. Shared by the benches
//! through `#[path]`, since benches are separate crates.

/// A fixed-seed generator: every run builds the same data.
pub struct Rng(pub u64);

#[allow(dead_code)] // each bench uses its own subset
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn hash<const W: usize>(&mut self) -> [u64; W] {
        std::array::from_fn(|_| self.next())
    }

    /// `hash` with exactly `k` distinct random bits flipped.
    pub fn near<const W: usize>(&mut self, hash: &[u64; W], k: u32) -> [u64; W] {
        let mut out = *hash;
        let distance =
            |a: &[u64; W]| -> u32 { a.iter().zip(hash).map(|(x, y)| (x ^ y).count_ones()).sum() };
        while distance(&out) < k {
            let bit = self.below(64 * W as u64) as usize;
            let (word, mask) = (bit / 64, 1 << (bit % 64));
            if (out[word] ^ hash[word]) & mask == 0 {
                out[word] ^= mask;
            }
        }
        out
    }
}
