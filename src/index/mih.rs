//! STAND-IN for the multi-index hashing table (being written): same API, linear search.

/// Hashes of `W` 64-bit words, searchable by Hamming distance.
#[derive(Debug)]
pub struct Mih<const W: usize> {
    hashes: Vec<[u64; W]>,
}

impl<const W: usize> Mih<W> {
    /// `hashes` sorted ascending and free of duplicates; ids are positions in it.
    pub fn new(hashes: Vec<[u64; W]>) -> Mih<W> {
        Mih { hashes }
    }

    /// Number of hashes.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Returns true if and only if there are no hashes.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The hash with this id.
    pub fn hash(&self, id: u32) -> &[u64; W] {
        &self.hashes[id as usize]
    }

    /// Every id within `threshold` bits of `query`, with its distance, in ascending id order.
    pub fn search(&self, query: &[u64; W], threshold: u32, out: &mut Vec<(u32, u32)>) {
        self.search_linear(query, threshold, out);
    }

    /// Linear scan; same contract as [`Mih::search`].
    pub fn search_linear(&self, query: &[u64; W], threshold: u32, out: &mut Vec<(u32, u32)>) {
        for (id, hash) in self.hashes.iter().enumerate() {
            let d: u32 = hash.iter().zip(query).map(|(a, b)| (a ^ b).count_ones()).sum();
            if d <= threshold {
                out.push((id as u32, d));
            }
        }
    }
}
