//! Choosing which listed `orb1` signatures are worth verifying against a query, when there
//! are too many to verify them all.
//!
//! Owns a multi-table locality-sensitive hash of descriptor bits: table `t` files every listed
//! descriptor under [`KEY_BITS`] of its bits (bits `32 t ..`, so the tables use disjoint
//! bits), and a query descriptor votes for each signature owning a descriptor in the same
//! bucket of any table. Two descriptors of the same point of the same picture differ in a few
//! dozen of 256 bits, so they share a whole key in some table far more often than unrelated
//! ones do; a listed copy of the query gathers many votes, an unrelated signature few. Only
//! ranks: [`crate::hash::orb1::verify`] decides. Must not know about lists or matching policy.

use crate::hash::orb1::{Descriptor, Signature};

/// Tables: each a different slice of the descriptor's bits.
pub const TABLES: usize = 8;

/// Bits per key; each table has `2^KEY_BITS` buckets.
pub const KEY_BITS: u32 = 20;

/// The listed descriptors, bucketed by key in each table.
pub struct Candidates {
    /// Per table: `owners[starts[key]..starts[key + 1]]` are the signatures with a descriptor
    /// under `key`, ascending.
    tables: Vec<(Vec<u32>, Vec<u32>)>,
    signatures: usize,
}

/// Table `table`'s key for `descriptor`.
fn key(descriptor: &Descriptor, table: usize) -> usize {
    let word = descriptor[table / 2] >> (32 * (table % 2));
    (word & ((1 << KEY_BITS) - 1)) as usize
}

impl Candidates {
    /// Buckets every descriptor of `signatures`.
    pub fn new(signatures: &[Signature]) -> Candidates {
        let buckets = 1usize << KEY_BITS;
        let tables = (0..TABLES)
            .map(|table| {
                // Counting sort: sizes, then offsets, then fill (signatures ascend in each bucket).
                let mut starts = vec![0u32; buckets + 1];
                for d in signatures.iter().flat_map(|s| &s.descriptors) {
                    starts[key(d, table) + 1] += 1;
                }
                for i in 0..buckets {
                    starts[i + 1] += starts[i];
                }
                let mut next = starts.clone();
                let mut owners = vec![0u32; starts[buckets] as usize];
                for (owner, signature) in signatures.iter().enumerate() {
                    for d in &signature.descriptors {
                        let slot = &mut next[key(d, table)];
                        owners[*slot as usize] = owner as u32;
                        *slot += 1;
                    }
                }
                dedup(&mut starts, &mut owners);
                (starts, owners)
            })
            .collect();
        Candidates { tables, signatures: signatures.len() }
    }

    /// Each listed signature's votes from `query`'s descriptors: one per (descriptor, table)
    /// whose bucket holds one of its descriptors.
    pub fn votes(&self, query: &Signature) -> Vec<u32> {
        let mut votes = vec![0u32; self.signatures];
        for d in &query.descriptors {
            for (table, (starts, owners)) in self.tables.iter().enumerate() {
                let k = key(d, table);
                for &owner in &owners[starts[k] as usize..starts[k + 1] as usize] {
                    votes[owner as usize] += 1;
                }
            }
        }
        votes
    }

    /// Bytes held by the tables.
    pub fn memory(&self) -> usize {
        self.tables.iter().map(|(s, o)| 4 * (s.len() + o.len())).sum()
    }
}

/// Keeps each signature once per bucket. A signature with many alike descriptors (a flat or
/// repetitive picture: one of the benchmark corpus's 49 photos) filled common buckets with
/// itself, and every query descriptor landing there gave it one vote per copy: unrelated
/// queries voted it up to 45,361 times where true crops got as few as 420, and crowded true
/// matches out of the first places. Once per bucket, a vote says one query descriptor and one
/// of the signature's agree on the key, whatever the signature's texture.
fn dedup(starts: &mut [u32], owners: &mut Vec<u32>) {
    let mut kept = 0;
    let mut from = 0;
    for bucket in 0..starts.len() - 1 {
        let end = starts[bucket + 1] as usize;
        let mut last = None;
        for at in from..end {
            let owner = owners[at];
            if last != Some(owner) {
                owners[kept] = owner;
                kept += 1;
                last = Some(owner);
            }
        }
        from = end;
        starts[bucket + 1] = kept as u32;
    }
    owners.truncate(kept);
}

/// The `n` listed signatures (positions in the slice given to [`Candidates::new`]) with the
/// most `votes` ([`Candidates::votes`]), most first, ties to the earlier; none without a vote.
pub fn ranked(votes: &[u32], n: usize) -> Vec<usize> {
    let mut ranked: Vec<usize> = (0..votes.len()).filter(|&i| votes[i] > 0).collect();
    ranked.sort_by_key(|&i| (std::cmp::Reverse(votes[i]), i));
    ranked.truncate(n);
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::orb1::Keypoint;
    use crate::testing::Rng;

    fn signature(descriptors: Vec<Descriptor>) -> Signature {
        let keypoints = vec![Keypoint { x: 0, y: 0, level: 0 }; descriptors.len()];
        Signature { width: 800, height: 800, keypoints, descriptors }
    }

    #[test]
    fn a_noisy_copy_votes_its_signature_first() {
        let mut rng = Rng(8);
        let listed: Vec<Signature> =
            (0..300).map(|_| signature((0..200).map(|_| rng.hash::<4>()).collect())).collect();
        let index = Candidates::new(&listed);
        // Half of signature 123's descriptors, each with 12 random bits flipped.
        let noisy = listed[123].descriptors[..100]
            .iter()
            .map(|d| {
                let mut d = *d;
                for _ in 0..12 {
                    let bit = rng.below(256) as usize;
                    d[bit / 64] ^= 1 << (bit % 64);
                }
                d
            })
            .collect();
        let query = signature(noisy);
        let best = ranked(&index.votes(&query), 3);
        assert_eq!(best[0], 123, "{best:?}");
        assert_eq!(ranked(&index.votes(&query), 3), best);
        assert!(ranked(&index.votes(&signature(Vec::new())), 3).is_empty());
        assert!(index.memory() <= TABLES * 4 * ((1 << KEY_BITS) + 1 + 300 * 200));
    }
}
