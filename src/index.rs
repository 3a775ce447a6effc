//! Lookup structures over loaded hash lists.
//!
//! Owns finding the list entries that equal a digest or lie within a Hamming distance of a
//! perceptual hash. Results come back in list order (list, then line) so that callers need no
//! tie-breaking of their own. Must not know about thresholds policy, orientations or quality:
//! that is [`crate::matcher`]'s job.
//!
//! Perceptual search is currently a linear scan over a packed array of 64-bit words, which is
//! exact by construction; a sub-linear index for multi-million-entry lists replaces it behind
//! the same interface.

use std::collections::{BTreeMap, HashMap};

use crate::hash::{Algorithm, HashValue};
use crate::hashlist::HashList;

/// Where an entry lives: index of its list, index of the entry in that list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryRef {
    /// Position of the list among the loaded lists.
    pub list: usize,
    /// Position of the entry within its list.
    pub entry: usize,
}

/// Exact and Hamming lookups over every entry of a set of lists.
#[derive(Debug, Default)]
pub struct Index {
    exact: HashMap<(Algorithm, HashValue), Vec<EntryRef>>,
    perceptual: BTreeMap<Algorithm, Packed>,
}

/// One algorithm's hashes as consecutive 64-bit words, so a distance is a few popcounts.
#[derive(Debug, Default)]
struct Packed {
    words_per_hash: usize,
    words: Vec<u64>,
    refs: Vec<EntryRef>,
}

fn pack(hash: &HashValue, out: &mut Vec<u64>) {
    for chunk in hash.as_bytes().chunks(8) {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        out.push(u64::from_be_bytes(word));
    }
}

impl Index {
    /// Indexes every entry of `lists`.
    pub fn build(lists: &[HashList]) -> Index {
        let mut index = Index::default();
        for (l, list) in lists.iter().enumerate() {
            for (e, entry) in list.entries.iter().enumerate() {
                let at = EntryRef { list: l, entry: e };
                if entry.algorithm.is_digest() {
                    index.exact.entry((entry.algorithm, entry.hash.clone())).or_default().push(at);
                } else {
                    let packed = index.perceptual.entry(entry.algorithm).or_default();
                    packed.words_per_hash = entry.algorithm.byte_len().div_ceil(8);
                    pack(&entry.hash, &mut packed.words);
                    packed.refs.push(at);
                }
            }
        }
        index
    }

    /// Entries whose hash equals `hash` exactly.
    pub fn exact(&self, algorithm: Algorithm, hash: &HashValue) -> &[EntryRef] {
        self.exact.get(&(algorithm, hash.clone())).map_or(&[], Vec::as_slice)
    }

    /// Entries within `threshold` bits (inclusive) of `hash`, with their distances, in list
    /// order.
    pub fn within(
        &self,
        algorithm: Algorithm,
        hash: &HashValue,
        threshold: u32,
    ) -> Vec<(EntryRef, u32)> {
        let Some(packed) = self.perceptual.get(&algorithm) else {
            return Vec::new();
        };
        let mut query = Vec::with_capacity(packed.words_per_hash);
        pack(hash, &mut query);
        packed
            .words
            .chunks_exact(packed.words_per_hash)
            .zip(&packed.refs)
            .filter_map(|(words, at)| {
                let d: u32 = words.iter().zip(&query).map(|(a, b)| (a ^ b).count_ones()).sum();
                (d <= threshold).then_some((*at, d))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashlist::{ListEntry, ListFormat};

    fn list(entries: &[(Algorithm, &str)]) -> HashList {
        HashList {
            path: "l.csv".into(),
            sha256: HashValue::from_bytes(vec![0; 32]),
            format: ListFormat::Native,
            entries: entries
                .iter()
                .enumerate()
                .map(|(i, (algorithm, hex))| {
                    ListEntry::new(
                        *algorithm,
                        HashValue::from_hex(*algorithm, hex).unwrap(),
                        i as u64 + 2,
                    )
                })
                .collect(),
            refused: Vec::new(),
        }
    }

    #[test]
    fn linear_search_agrees_with_brute_force_distance() {
        // A tiny deterministic generator: the test needs varied hashes, not randomness.
        let mut state = 0x9e3779b97f4a7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let hexes: Vec<String> =
            (0..500).map(|_| (0..4).map(|_| format!("{:016x}", next())).collect()).collect();
        let entries: Vec<_> = hexes.iter().map(|h| (Algorithm::Pdq, h.as_str())).collect();
        let lists = [list(&entries)];
        let index = Index::build(&lists);
        let query = &lists[0].entries[7].hash;
        for threshold in [0, 100, 128, 256] {
            let expected: Vec<_> = lists[0]
                .entries
                .iter()
                .enumerate()
                .filter_map(|(e, entry)| {
                    let d = entry.hash.distance(query);
                    (d <= threshold).then_some((EntryRef { list: 0, entry: e }, d))
                })
                .collect();
            assert_eq!(index.within(Algorithm::Pdq, query, threshold), expected);
        }
    }

    #[test]
    fn exact_lookup_keeps_every_entry_and_separates_algorithms() {
        let md5 = "d41d8cd98f00b204e9800998ecf8427e";
        let lists = [list(&[(Algorithm::Md5, md5), (Algorithm::Md5, md5)])];
        let index = Index::build(&lists);
        let hash = HashValue::from_hex(Algorithm::Md5, md5).unwrap();
        assert_eq!(index.exact(Algorithm::Md5, &hash).len(), 2);
        assert!(index.within(Algorithm::Phash, &hash, 64).is_empty());
    }
}
