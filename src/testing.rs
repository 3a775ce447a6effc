//! Helpers shared by the unit tests; compiled only for tests.

/// The bytes of `fixtures/<path>` in the crate's own folder.
pub(crate) fn fixture(path: &str) -> Vec<u8> {
    let at = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path);
    std::fs::read(&at).unwrap_or_else(|e| panic!("{}: {e}", at.display()))
}

/// SplitMix64: varied, reproducible test data without a dependency.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub(crate) fn hash<const W: usize>(&mut self) -> [u64; W] {
        std::array::from_fn(|_| self.next())
    }
}
