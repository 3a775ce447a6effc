//! Choosing which listed `orb1` signatures are worth verifying against a query, when there
//! are too many to verify them all.
//!
//! Owns a multi-table locality-sensitive hash of descriptor bits: table `t` reads a 32-bit
//! slice of each descriptor (bits `32 t ..`, so the tables use disjoint bits), files the
//! listed descriptors whose [`SAMPLE_BITS`] bits of that slice are all zero under
//! [`KEY_BITS`] others, and a query descriptor that passes the same test votes for each
//! signature owning a descriptor under the same key in any table. Two descriptors of the
//! same point of the same picture differ in a few dozen of 256 bits, so they share a whole
//! key in some table far more often than unrelated ones do; a listed copy of the query
//! gathers many votes, an unrelated signature few. Only ranks:
//! [`crate::hash::orb1::verify`] decides. Must not know about lists or matching policy.

use crate::hash::orb1::{Descriptor, Signature};

/// Tables: each a different slice of the descriptor's bits.
pub const TABLES: usize = 8;

/// Bits per key.
pub const KEY_BITS: u32 = 20;

/// Bits of a table's slice that must all be zero for a descriptor to be filed in, or to look
/// up, that table: each table holds one descriptor in `2^SAMPLE_BITS`, chosen by content, so
/// that a query descriptor and a listed one a few bits apart are chosen together (both pass
/// unless one of these bits differs, as a longer key would). The vote counts, the tables'
/// size and the time to count votes all shrink by that factor, and on the benchmark corpus
/// the right photo ranks as high among the votes as with every descriptor filed.
pub const SAMPLE_BITS: u32 = 2;

/// Key bits that choose a table's bucket; the other `KEY_BITS - BUCKET_BITS` are kept beside
/// the owner in the bucket. A directory of `2^KEY_BITS` offsets per table would hold 32 MB
/// whatever the list's size.
const BUCKET_BITS: u32 = KEY_BITS - LOW_BITS;

/// Key bits kept with each owner in an entry ([`place`]).
const LOW_BITS: u32 = 4;

/// Bits of an entry that name its owner.
const OWNER_BITS: u32 = 32 - LOW_BITS;

/// The listed descriptors, bucketed by key in each table.
pub struct Candidates {
    /// Per table: `entries[starts[bucket]..starts[bucket + 1]]` are the signatures with a
    /// descriptor under a key in `bucket`, each with the key's low bits ([`place`]), sorted.
    tables: Vec<(Vec<u32>, Vec<u32>)>,
    signatures: usize,
}

/// Table `table`'s key for `descriptor`, if the table samples it ([`SAMPLE_BITS`]).
fn key(descriptor: &Descriptor, table: usize) -> Option<u32> {
    let word = (descriptor[table / 2] >> (32 * (table % 2))) as u32;
    let sampled = (word >> KEY_BITS) & ((1 << SAMPLE_BITS) - 1) == 0;
    sampled.then_some(word & ((1 << KEY_BITS) - 1))
}

/// Table `table`'s keys for the descriptors of `signature` that it samples.
fn keys(signature: &Signature, table: usize) -> impl Iterator<Item = u32> + '_ {
    signature.descriptors.iter().filter_map(move |d| key(d, table))
}

/// A key's bucket, and its entry for `owner` there: the key's low bits above the owner, so
/// that a bucket sorted by entry holds each key's owners together, ascending.
fn place(key: u32, owner: u32) -> (usize, u32) {
    ((key >> LOW_BITS) as usize, (key & ((1 << LOW_BITS) - 1)) << OWNER_BITS | owner)
}

impl Candidates {
    /// Buckets every sampled descriptor of `signatures`, of which there may be up to
    /// `2^OWNER_BITS` (a list of that many would not fit in memory).
    pub fn new(signatures: &[Signature]) -> Candidates {
        assert!(signatures.len() <= 1 << OWNER_BITS, "too many signatures to index");
        let buckets = 1usize << BUCKET_BITS;
        let tables = (0..TABLES)
            .map(|table| {
                // Counting sort: sizes, then offsets, then fill (owners ascend in each bucket).
                let mut starts = vec![0u32; buckets + 1];
                for k in signatures.iter().flat_map(|s| keys(s, table)) {
                    starts[place(k, 0).0 + 1] += 1;
                }
                for i in 0..buckets {
                    starts[i + 1] += starts[i];
                }
                let mut next = starts.clone();
                let mut entries = vec![0u32; starts[buckets] as usize];
                for (owner, signature) in signatures.iter().enumerate() {
                    for k in keys(signature, table) {
                        let (bucket, entry) = place(k, owner as u32);
                        entries[next[bucket] as usize] = entry;
                        next[bucket] += 1;
                    }
                }
                dedup(&mut starts, &mut entries);
                (starts, entries)
            })
            .collect();
        Candidates { tables, signatures: signatures.len() }
    }

    /// Each listed signature's votes from `query`'s descriptors: one per (descriptor, table)
    /// whose key one of its descriptors has too.
    pub fn votes(&self, query: &Signature) -> Vec<u32> {
        let mut votes = vec![0u32; self.signatures];
        for (table, (starts, entries)) in self.tables.iter().enumerate() {
            for k in keys(query, table) {
                let (bucket, low) = place(k, 0);
                let bucket = &entries[starts[bucket] as usize..starts[bucket + 1] as usize];
                let from = bucket.partition_point(|&e| e < low);
                let to = bucket.partition_point(|&e| e >> OWNER_BITS <= low >> OWNER_BITS);
                for &entry in &bucket[from..to] {
                    votes[(entry & ((1 << OWNER_BITS) - 1)) as usize] += 1;
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

/// Keeps each signature once per key. A signature with many alike descriptors (a flat or
/// repetitive picture: one of the benchmark corpus's 49 photos) filled common buckets with
/// itself, and every query descriptor landing there gave it one vote per copy: unrelated
/// queries voted it up to 45,361 times where true crops got as few as 420, and crowded true
/// matches out of the first places. Once per key, a vote says one query descriptor and one
/// of the signature's agree on the key, whatever the signature's texture. Sorts each bucket.
fn dedup(starts: &mut [u32], entries: &mut Vec<u32>) {
    let mut kept = 0;
    let mut from = 0;
    for bucket in 0..starts.len() - 1 {
        let end = starts[bucket + 1] as usize;
        entries[from..end].sort_unstable();
        let mut last = None;
        for at in from..end {
            let entry = entries[at];
            if last != Some(entry) {
                entries[kept] = entry;
                kept += 1;
                last = Some(entry);
            }
        }
        from = end;
        starts[bucket + 1] = kept as u32;
    }
    entries.truncate(kept);
}

/// The `n` listed signatures (positions in the slice given to [`Candidates::new`]) with the
/// most `votes` ([`Candidates::votes`]), most first, ties to the earlier; none without a vote.
pub fn ranked(votes: &[u32], n: usize) -> Vec<usize> {
    let mut ranked: Vec<usize> = (0..votes.len()).filter(|&i| votes[i] > 0).collect();
    let order = |&i: &usize| (std::cmp::Reverse(votes[i]), i);
    // A total order, so the first `n` are the same whichever way they are found.
    if ranked.len() > n && n > 0 {
        ranked.select_nth_unstable_by_key(n - 1, order);
    }
    ranked.truncate(n);
    ranked.sort_unstable_by_key(order);
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::orb1::{Format, Keypoint};
    use crate::testing::Rng;

    fn signature(descriptors: Vec<Descriptor>) -> Signature {
        let keypoints = vec![Keypoint { x: 0, y: 0, level: 0 }; descriptors.len()];
        Signature { format: Format::Orb1, width: 800, height: 800, keypoints, descriptors }
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
        assert!(index.memory() <= TABLES * 4 * ((1 << BUCKET_BITS) + 1 + 300 * 200));
    }

    #[test]
    fn votes_are_one_per_table_and_query_descriptor_whose_key_a_signature_has() {
        let mut rng = Rng(21);
        // 32 keys that fill two buckets; one descriptor in eight sampled by no table.
        let pool: Vec<Descriptor> = (0..64u64)
            .map(|i| {
                let unsampled = u64::from(i % 8 == 7) << KEY_BITS;
                let half = (i % 16) | ((i / 16 % 2) << LOW_BITS) | unsampled;
                [half | half << 32; 4]
            })
            .collect();
        let pick = |rng: &mut Rng, n: usize| {
            signature((0..n).map(|_| pool[rng.below(pool.len() as u64) as usize]).collect())
        };
        let listed: Vec<Signature> = (0..40).map(|_| pick(&mut rng, 30)).collect();
        let index = Candidates::new(&listed);
        for _ in 0..20 {
            let query = pick(&mut rng, 25);
            let expected: Vec<u32> = listed
                .iter()
                .map(|s| {
                    let count = |table| {
                        keys(&query, table).filter(|k| keys(s, table).any(|l| l == *k)).count()
                    };
                    (0..TABLES).map(count).sum::<usize>() as u32
                })
                .collect();
            assert_eq!(index.votes(&query), expected);
        }
    }

    #[test]
    fn ranked_is_the_head_of_the_whole_order() {
        let mut rng = Rng(5);
        for len in [0, 1, 7, 8, 9, 300] {
            // Few distinct counts, so that ties are common; zeros are never ranked.
            let votes: Vec<u32> = (0..len).map(|_| rng.below(6) as u32).collect();
            let mut whole: Vec<usize> = (0..len).filter(|&i| votes[i] > 0).collect();
            whole.sort_by_key(|&i| (std::cmp::Reverse(votes[i]), i));
            for n in [0, 1, 3, 8, 500] {
                assert_eq!(ranked(&votes, n), whole[..n.min(whole.len())], "{len} {n}");
            }
        }
    }
}
