//! Lookup structures over loaded hash lists.
//!
//! Owns finding the listed hashes that equal a digest or lie within a Hamming distance of a
//! perceptual hash. Each distinct perceptual hash is stored once, however many lists (or lines)
//! carry it, together with every entry that carries it; digests are kept one per entry, sorted,
//! so the entries of one digest lie side by side. Either way a match reports all their ids.
//! Results come back in a fixed order (by distance is the matcher's job; here, by hash). Must
//! not know about threshold policy, orientations or quality: that is [`crate::matcher`]'s job.

#[doc(hidden)]
pub mod keypoints;
mod listed;
mod mih;
mod near;
pub mod video;

use std::collections::BTreeMap;

use rayon::slice::ParallelSliceMut;

use crate::hash::{Algorithm, HashValue};

pub use listed::ListedHashes;
pub use near::{near_any, NearFilter};
// Public for the index benchmark, which measures it alone.
#[doc(hidden)]
pub use mih::Mih;

/// Where an entry lives: index of its list, index of the entry in that list (u32s, because
/// an index of ten million entries holds one of these per entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryRef {
    /// Position of the list among the loaded lists.
    pub list: u32,
    /// Position of the entry within its list.
    pub entry: u32,
}

/// One distinct listed hash that a query reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit<'a> {
    /// The listed hash.
    pub hash: HashValue,
    /// Hamming distance to the query (0 for digests).
    pub distance: u32,
    /// Every entry carrying this hash, in list order.
    pub sources: &'a [EntryRef],
}

/// Exact and Hamming lookups over every entry of a set of lists.
#[derive(Debug, Default)]
pub struct Index {
    exact: BTreeMap<Algorithm, Digests>,
    perceptual: BTreeMap<Algorithm, Table>,
}

/// One digest algorithm's listed digests, sorted, each beside an entry that carries it: two
/// allocations however long the list, where a hash map held two small ones per entry (a
/// million-entry MD5 list took seconds to build and to free, and 100 MB), and a binary search
/// per lookup.
#[derive(Debug)]
struct Digests {
    /// Zero-padded to the widest digest; within one algorithm every digest has one length.
    keys: Vec<[u8; DIGEST_KEY]>,
    entries: Vec<EntryRef>,
}

/// Bytes of [`Digests`] keys: SHA-256's, the longest digest.
const DIGEST_KEY: usize = 32;

impl Digests {
    fn build(mut pairs: Vec<([u8; DIGEST_KEY], EntryRef)>) -> Digests {
        // Entries sort by list, then line: equal digests keep list order.
        pairs.par_sort_unstable();
        let (keys, entries) = pairs.into_iter().unzip();
        Digests { keys, entries }
    }

    fn get(&self, digest: &[u8]) -> &[EntryRef] {
        let key = digest_key(digest);
        let start = self.keys.partition_point(|k| *k < key);
        let end = start + self.keys[start..].partition_point(|k| *k == key);
        &self.entries[start..end]
    }
}

fn digest_key(digest: &[u8]) -> [u8; DIGEST_KEY] {
    let mut key = [0u8; DIGEST_KEY];
    key[..digest.len()].copy_from_slice(digest);
    key
}

/// One perceptual algorithm's distinct hashes and, per hash, the entries carrying it.
#[derive(Debug)]
struct Table {
    hashes: Hashes,
    /// `sources[starts[i]..starts[i + 1]]` carry hash `i`; `None` when every hash has exactly
    /// one source (the usual case, and 40 MB saved at ten million entries), so `sources[i]`.
    starts: Option<Vec<u32>>,
    sources: Vec<EntryRef>,
}

/// 256-bit and 64-bit hashes get tables of their own width so distances stay a few popcounts.
#[derive(Debug)]
enum Hashes {
    Wide(Mih<4>),
    Narrow(Mih<1>),
}

/// The hash's bytes as `W` big-endian words, the form [`Mih`] stores and compares: their
/// order is the hex order, so sorting words sorts hashes.
pub(crate) fn words<const W: usize>(bytes: &[u8]) -> [u64; W] {
    let mut out = [0u64; W];
    for (word, chunk) in out.iter_mut().zip(bytes.chunks(8)) {
        let mut bytes = [0u8; 8];
        bytes[..chunk.len()].copy_from_slice(chunk);
        *word = u64::from_be_bytes(bytes);
    }
    out
}

fn unwords<const W: usize>(words: &[u64; W], len: usize) -> HashValue {
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).take(len).collect();
    HashValue::from_bytes(bytes)
}

/// Sorts `(key, source)` pairs so that equal keys become neighbours, then keeps each key
/// once: returns the distinct keys, ascending, and their sources, those of key `i` being
/// `sources[starts[i]..starts[i + 1]]`, in the order the pairs sort in.
pub(crate) fn group_sorted<K: Ord + Copy + Send, S: Ord + Send>(
    mut pairs: Vec<(K, S)>,
) -> (Vec<K>, Vec<u32>, Vec<S>) {
    pairs.par_sort_unstable();
    let mut keys = Vec::new();
    let mut starts = Vec::new();
    let mut sources = Vec::with_capacity(pairs.len());
    for (key, source) in pairs {
        if keys.last() != Some(&key) {
            keys.push(key);
            starts.push(sources.len() as u32);
        }
        sources.push(source);
    }
    starts.push(sources.len() as u32);
    (keys, starts, sources)
}

/// Searches one table, returning the hits' hashes and their `(id, distance)`.
fn search_table<const W: usize>(
    mih: &Mih<W>,
    hash: &HashValue,
    threshold: u32,
    linear: bool,
    len: usize,
) -> (Vec<HashValue>, Vec<(u32, u32)>) {
    let query = words(hash.as_bytes());
    let mut found = Vec::new();
    if linear {
        mih.search_linear(&query, threshold, &mut found);
    } else {
        mih.search(&query, threshold, &mut found);
    }
    (found.iter().map(|&(id, _)| unwords(mih.hash(id), len)).collect(), found)
}

impl Table {
    /// Keeps each distinct hash once, with the run of entries carrying it.
    fn build<const W: usize>(
        pairs: Vec<([u64; W], EntryRef)>,
        wrap: fn(Mih<W>) -> Hashes,
    ) -> Table {
        let (hashes, starts, sources) = group_sorted(pairs);
        let starts = (sources.len() != hashes.len()).then_some(starts);
        Table { hashes: wrap(Mih::new(hashes)), starts, sources }
    }

    fn sources(&self, id: u32) -> &[EntryRef] {
        let id = id as usize;
        match &self.starts {
            Some(starts) => &self.sources[starts[id] as usize..starts[id + 1] as usize],
            None => std::slice::from_ref(&self.sources[id]),
        }
    }
}

impl Index {
    /// Indexes every entry of the lists whose hashes `listed` holds, keeping the one copy.
    /// vPDQ entries are left out: they are frames of videos, compared video by video through
    /// a [`video::VideoIndex`]; so are orb1 and orb2 entries, compared by their keypoints (see
    /// [`crate::matcher`]). Both are built from the same [`ListedHashes`], before this
    /// consumes it.
    pub fn build(listed: ListedHashes) -> Index {
        let mut exact: BTreeMap<Algorithm, Vec<([u8; DIGEST_KEY], EntryRef)>> = BTreeMap::new();
        let mut wide: BTreeMap<Algorithm, Vec<([u64; 4], EntryRef)>> = BTreeMap::new();
        let mut narrow: BTreeMap<Algorithm, Vec<([u64; 1], EntryRef)>> = BTreeMap::new();
        for (l, columns) in listed.lists.into_iter().enumerate() {
            for (e, (slot, &algorithm)) in
                columns.hashes.iter().zip(&columns.algorithms).enumerate()
            {
                let at = EntryRef { list: l as u32, entry: e as u32 };
                let bytes = &slot[..algorithm.byte_len()];
                if algorithm == Algorithm::Vpdq || algorithm.keypoint_format().is_some() {
                    continue;
                } else if algorithm.is_digest() {
                    exact.entry(algorithm).or_default().push((digest_key(bytes), at));
                } else if algorithm.byte_len() == 32 {
                    wide.entry(algorithm).or_default().push((words(bytes), at));
                } else {
                    narrow.entry(algorithm).or_default().push((words(bytes), at));
                }
            }
        }
        let mut perceptual = BTreeMap::new();
        for (algorithm, pairs) in wide {
            perceptual.insert(algorithm, Table::build(pairs, Hashes::Wide));
        }
        for (algorithm, pairs) in narrow {
            perceptual.insert(algorithm, Table::build(pairs, Hashes::Narrow));
        }
        let exact = exact.into_iter().map(|(a, pairs)| (a, Digests::build(pairs))).collect();
        Index { exact, perceptual }
    }

    /// The entries whose hash equals `hash` exactly, in list order.
    pub fn exact(&self, algorithm: Algorithm, hash: &HashValue) -> &[EntryRef] {
        match self.exact.get(&algorithm) {
            // Keys hold at most 32 bytes: a longer query (a caller's mistake) matches nothing.
            Some(digests) if hash.as_bytes().len() <= DIGEST_KEY => digests.get(hash.as_bytes()),
            _ => &[],
        }
    }

    /// The distinct listed 256-bit hashes of `algorithm` (PDQ), as big-endian words, sorted.
    pub fn wide(&self, algorithm: Algorithm) -> &[[u64; 4]] {
        match self.perceptual.get(&algorithm) {
            Some(Table { hashes: Hashes::Wide(mih), .. }) => mih.hashes(),
            _ => &[],
        }
    }

    /// The largest threshold at which the index finds `algorithm`'s hashes (256 or 64 bits)
    /// without reading every listed hash; a larger one still answers exactly, but a search
    /// then costs as much as the list is long.
    pub fn max_probed_threshold(algorithm: Algorithm) -> u32 {
        match algorithm.byte_len() {
            32 => Mih::<4>::max_probed_threshold(),
            _ => Mih::<1>::max_probed_threshold(),
        }
    }

    /// The distinct listed hashes within `threshold` bits (inclusive) of `hash`, in the
    /// order of the hashes.
    pub fn within(&self, algorithm: Algorithm, hash: &HashValue, threshold: u32) -> Vec<Hit<'_>> {
        self.search(algorithm, hash, threshold, false)
    }

    /// [`Index::within`] by a linear scan of every distinct hash: the reference that tests
    /// and benchmarks compare the index against.
    pub fn within_linear(
        &self,
        algorithm: Algorithm,
        hash: &HashValue,
        threshold: u32,
    ) -> Vec<Hit<'_>> {
        self.search(algorithm, hash, threshold, true)
    }

    fn search(
        &self,
        algorithm: Algorithm,
        hash: &HashValue,
        threshold: u32,
        linear: bool,
    ) -> Vec<Hit<'_>> {
        let Some(table) = self.perceptual.get(&algorithm) else {
            return Vec::new();
        };
        let len = algorithm.byte_len();
        let (hashes, found) = match &table.hashes {
            Hashes::Wide(mih) => search_table(mih, hash, threshold, linear, len),
            Hashes::Narrow(mih) => search_table(mih, hash, threshold, linear, len),
        };
        hashes
            .into_iter()
            .zip(found)
            .map(|(hash, (id, distance))| Hit { hash, distance, sources: table.sources(id) })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashlist::{Entries, HashList, ListEntry, ListFormat};

    fn list(rows: &[(Algorithm, &str)]) -> HashList {
        let mut entries = Entries::default();
        for (i, (algorithm, hex)) in rows.iter().enumerate() {
            let hash = HashValue::from_hex(*algorithm, hex).unwrap();
            entries.push(&ListEntry::new(*algorithm, hash, i as u64 + 2));
        }
        HashList {
            path: "l.csv".into(),
            sha256: HashValue::from_bytes(vec![0; 32]),
            format: ListFormat::Native,
            entries,
            refused: Vec::new(),
            removed: Vec::new(),
        }
    }

    const A: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    const B: &str = "1f811b9d267fbc6693c0c7f30e041f9df49b836303e10f067fcdfc12c02d01f9";

    #[test]
    fn a_hash_in_several_lists_is_one_hit_with_every_source() {
        let mut lists = [
            list(&[(Algorithm::Pdq, A), (Algorithm::Pdq, B)]),
            list(&[
                (Algorithm::Pdq, B),
                (Algorithm::Phash, "aca29c1c33dc23d7"),
                (Algorithm::Pdq, A),
            ]),
        ];
        let index = Index::build(ListedHashes::take(&mut lists));
        let query = HashValue::from_hex(Algorithm::Pdq, A).unwrap();
        let hits = index.within(Algorithm::Pdq, &query, 31);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].hash, query);
        assert_eq!(hits[0].distance, 0);
        assert_eq!(
            hits[0].sources,
            [EntryRef { list: 0, entry: 0 }, EntryRef { list: 1, entry: 2 }]
        );
        // Everything is within 256 bits; each distinct hash comes back once.
        assert_eq!(index.within(Algorithm::Pdq, &query, 256).len(), 2);
        let phash = HashValue::from_hex(Algorithm::Phash, "aca29c1c33dc23d6").unwrap();
        let hits = index.within(Algorithm::Phash, &phash, 1);
        assert_eq!((hits.len(), hits[0].distance), (1, 1));
        assert_eq!(hits[0].hash.to_hex(), "aca29c1c33dc23d7");
        assert!(index.within(Algorithm::Dhash, &phash, 64).is_empty());
    }

    #[test]
    fn exact_lookup_keeps_every_entry_and_separates_algorithms() {
        let md5 = "d41d8cd98f00b204e9800998ecf8427e";
        let mut lists = [list(&[(Algorithm::Md5, md5)]), list(&[(Algorithm::Md5, md5)])];
        let index = Index::build(ListedHashes::take(&mut lists));
        let hash = HashValue::from_hex(Algorithm::Md5, md5).unwrap();
        assert_eq!(index.exact(Algorithm::Md5, &hash).len(), 2);
        assert!(index.exact(Algorithm::Sha1, &hash).is_empty());
    }
}
