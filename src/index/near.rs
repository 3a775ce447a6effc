//! Asking many PDQ hashes (`rescreen`: the variants a store kept) whether each lies within
//! the threshold of any listed hash, exactly.
//!
//! Owns two ways of asking. Against a short list, [`NearFilter`]: the listed hashes' bands
//! with their probe neighbourhoods laid out in advance, so a query costs one bucket a band
//! instead of [`super::Mih`]'s seventeen. Against a long one, [`near_any`]: the hashes asked
//! about bucketed by each band as they are, and every listed hash's band neighbourhood probed
//! (the same pigeonhole, the other way round). Must not report which entries matched or how:
//! a "yes" sends the hash to the matcher, which decides.
//!
//! # Why it is exact on the "no" side
//!
//! The same pigeonhole as [`super::Mih`]'s block filter: cut a PDQ hash into 16 bands of 16
//! bits and pair them into 8 blocks; with `R = t / 8`, a hash within `t` bits of a listed one
//! has a block within `R` bits, and in that block a band `b` within `r = R / 2` bits whose
//! partner band `b ^ 1` is within `R - d_b` bits. So for every listed hash and every band,
//! each 16-bit value within `r` bits of its band is entered, carrying that distance and the
//! partner band; a query reads its own value's bucket in each band, and an entry whose
//! distance plus the partner bands' distance is at most `R` has its listed hash compared in
//! full. The entries cost `16 × 17 × 10` bytes a listed hash at PDQ's usual threshold (r = 1),
//! which is why this is for short lists.

use rayon::prelude::*;

use super::mih::{band, distance, MASKS, PROBES_WITHIN};

const BANDS: usize = 16;
const BUCKETS: usize = 1 << 16;
/// Hashes asked band by band at a time: enough that a band's buckets are read from memory
/// once and then hit in cache many times.
const RUN: usize = 1 << 20;

/// See the module docs.
pub struct NearFilter {
    listed: Vec<[u64; 4]>,
    threshold: u32,
    block_radius: u32,
    bands: Vec<Bucketed>,
}

/// One band's entries grouped by 16-bit value: bucket `v` is entries
/// `starts[v]..starts[v + 1]`, each a listed hash's partner band (all a query reads of most
/// entries: a random partner is rarely within reach) and the rest of the entry.
struct Bucketed {
    starts: Vec<u32>,
    partners: Vec<u16>,
    entries: Vec<Entry>,
}

/// A listed hash entered under a value `distance` bits from its band.
#[derive(Clone, Copy, Default)]
struct Entry {
    distance: u32,
    listed: u32,
}

impl NearFilter {
    /// The filter of `listed` PDQ hashes (as words, word 0 most significant) at `threshold`;
    /// `None` when its entries would take more than `max_bytes`, or the threshold is too wide
    /// for probing to pay.
    pub fn new(listed: &[[u64; 4]], threshold: u32, max_bytes: usize) -> Option<NearFilter> {
        const ENTRY: usize = size_of::<Entry>() + size_of::<u16>();
        let block_radius = threshold / (BANDS as u32 / 2);
        let masks = &MASKS[..*PROBES_WITHIN.get((block_radius / 2) as usize)?];
        let entries = listed.len().checked_mul(masks.len() * BANDS)?;
        if entries.checked_mul(ENTRY)? + BANDS * BUCKETS * 4 > max_bytes
            || entries / BANDS >= u32::MAX as usize
        {
            return None;
        }
        let bands = (0..BANDS)
            .into_par_iter()
            .map(|b| {
                // Counting sort by the entered value.
                let mut starts = vec![0u32; BUCKETS + 1];
                for hash in listed {
                    let value = band(hash, b);
                    masks.iter().for_each(|m| starts[usize::from(value ^ m) + 1] += 1);
                }
                for v in 0..BUCKETS {
                    starts[v + 1] += starts[v];
                }
                let mut next = starts.clone();
                let mut partners = vec![0u16; listed.len() * masks.len()];
                let mut entries = vec![Entry::default(); listed.len() * masks.len()];
                for (id, hash) in listed.iter().enumerate() {
                    let (value, partner) = (band(hash, b), band(hash, b ^ 1));
                    for mask in masks {
                        let slot = &mut next[usize::from(value ^ mask)];
                        partners[*slot as usize] = partner;
                        let distance = mask.count_ones();
                        entries[*slot as usize] = Entry { distance, listed: id as u32 };
                        *slot += 1;
                    }
                }
                Bucketed { starts, partners, entries }
            })
            .collect();
        Some(NearFilter { listed: listed.to_vec(), threshold, block_radius, bands })
    }

    /// Whether each of `hashes` lies within the threshold of some listed hash.
    pub fn near(&self, hashes: &[[u64; 4]]) -> Vec<bool> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU has the popcnt instruction, checked just above.
            return unsafe { self.near_popcnt(hashes) };
        }
        self.near_of(hashes)
    }

    /// [`NearFilter::near`] compiled with the popcnt instruction, which the x86-64 baseline
    /// release builds target lacks: every entry a query reads costs a popcount.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt")]
    fn near_popcnt(&self, hashes: &[[u64; 4]]) -> Vec<bool> {
        self.near_of(hashes)
    }

    /// [`NearFilter::near`], inlined into each build of it.
    #[inline(always)]
    fn near_of(&self, hashes: &[[u64; 4]]) -> Vec<bool> {
        let mut near = vec![false; hashes.len()];
        let (mut queries, mut scratch) = (Vec::new(), Vec::new());
        // Band by band over a run of hashes, each band's queries sorted by their value: the
        // buckets are then read in order, front to back. Asked in the hashes' order nearly
        // every bucket read missed the cache, even with one band's buckets at a time.
        for (hashes, near) in hashes.chunks(RUN).zip(near.chunks_mut(RUN)) {
            for (b, bucketed) in self.bands.iter().enumerate() {
                queries.clear();
                queries.extend(
                    hashes
                        .iter()
                        .zip(near.iter())
                        .enumerate()
                        .filter(|q| !*q.1 .1)
                        .map(|(i, (hash, _))| Query::new(band(hash, b), band(hash, b ^ 1), 0, i)),
                );
                sort_by_value(&mut queries, &mut scratch);
                for query in &queries {
                    let (value, partner, _, i) = query.parts();
                    if self.near_in_band(&hashes[i], value, partner, bucketed) {
                        near[i] = true;
                    }
                }
            }
        }
        near
    }

    #[inline(always)]
    fn near_in_band(&self, hash: &[u64; 4], value: u16, partner: u16, bands: &Bucketed) -> bool {
        let bucket = bands.starts[usize::from(value)] as usize
            ..bands.starts[usize::from(value) + 1] as usize;
        bands.partners[bucket.clone()].iter().zip(bucket).any(|(&p, k)| {
            let reach = (p ^ partner).count_ones();
            reach <= self.block_radius && {
                let entry = bands.entries[k];
                entry.distance + reach <= self.block_radius
                    && distance(hash, &self.listed[entry.listed as usize]) <= self.threshold
            }
        })
    }
}

/// Which of `hashes` lie within `threshold` of some of `queries`, exactly, when the queries
/// are too many for a [`NearFilter`] (a million listed hashes against a chunk of stored
/// ones): the other way round, `hashes` bucketed by each band as they are, and each query's
/// band neighbourhood (radius `r`) asked, sorted by value so the buckets are read in order.
/// `None` when the threshold is too wide for probing, or a side holds 2^30 hashes or more.
pub fn near_any(hashes: &[[u64; 4]], queries: &[[u64; 4]], threshold: u32) -> Option<Vec<bool>> {
    let block_radius = threshold / (BANDS as u32 / 2);
    let masks = &MASKS[..*PROBES_WITHIN.get((block_radius / 2) as usize)?];
    if hashes.len().max(queries.len()) >= 1 << 30 {
        return None;
    }
    let join = Join { hashes, queries, masks, threshold };
    let found = (0..BANDS)
        .into_par_iter()
        .map(|b| {
            #[cfg(target_arch = "x86_64")]
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("popcnt") {
                // SAFETY: the CPU has AVX2 and popcnt, checked just above.
                return unsafe { join.band_avx2(b) };
            }
            join.band_of(b)
        })
        .reduce(Vec::new, |mut a, b| {
            a.extend(b);
            a
        });
    // A hash found through several bands is found once in each.
    let mut near = vec![false; hashes.len()];
    found.into_iter().for_each(|id| near[id as usize] = true);
    Some(near)
}

/// What [`near_any`] asks, band by band.
#[derive(Clone, Copy)]
struct Join<'a> {
    hashes: &'a [[u64; 4]],
    queries: &'a [[u64; 4]],
    masks: &'a [u16],
    threshold: u32,
}

impl Join<'_> {
    /// [`Join::band_of`] compiled with AVX2 and popcnt, which the x86-64 baseline release
    /// builds target lacks: a probe reads a whole bucket of partners, compared 16 at once.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,popcnt")]
    fn band_avx2(&self, b: usize) -> Vec<u32> {
        self.band_of(b)
    }

    /// The positions of the hashes found near a query through band `b`.
    #[inline(always)]
    fn band_of(&self, b: usize) -> Vec<u32> {
        let Join { hashes, queries, masks, threshold } = *self;
        /// Queries probed at a time: their probes sorted take a few megabytes.
        const QUERIES: usize = 1 << 16;
        let block_radius = threshold / (BANDS as u32 / 2);
        let mut starts = vec![0u32; BUCKETS + 1];
        hashes.iter().for_each(|h| starts[usize::from(band(h, b)) + 1] += 1);
        for v in 0..BUCKETS {
            starts[v + 1] += starts[v];
        }
        // The hashes themselves in bucket order too: the probes visit the buckets in order, so the
        // few hashes compared in full are then read front to back, not at random.
        let mut next = starts.clone();
        let mut partners = vec![0u16; hashes.len()];
        let mut bucketed = vec![([0u64; 4], 0u32); hashes.len()];
        for (id, hash) in hashes.iter().enumerate() {
            let slot = &mut next[usize::from(band(hash, b))];
            (partners[*slot as usize], bucketed[*slot as usize]) =
                (band(hash, b ^ 1), (*hash, id as u32));
            *slot += 1;
        }
        let mut found = vec![false; hashes.len()];
        let (mut probes, mut scratch) = (Vec::new(), Vec::new());
        for (run, queries) in queries.chunks(QUERIES).enumerate() {
            probes.clear();
            for (i, query) in queries.iter().enumerate() {
                let (value, partner) = (band(query, b), band(query, b ^ 1));
                let at = run * QUERIES + i;
                probes.extend(
                    masks.iter().map(|m| Query::new(value ^ m, partner, m.count_ones(), at)),
                );
            }
            sort_by_value(&mut probes, &mut scratch);
            for probe in &probes {
                let (value, partner, d, at) = probe.parts();
                let query = &queries[at - run * QUERIES];
                let bucket =
                    starts[usize::from(value)] as usize..starts[usize::from(value) + 1] as usize;
                if !any_within(&partners[bucket.clone()], partner, block_radius - d) {
                    continue;
                }
                for (&p, (hash, id)) in partners[bucket.clone()].iter().zip(&bucketed[bucket]) {
                    if (p ^ partner).count_ones() + d <= block_radius
                        && distance(hash, query) <= threshold
                    {
                        found[*id as usize] = true;
                    }
                }
            }
        }
        (0..hashes.len() as u32).filter(|&id| found[id as usize]).collect()
    }
}

/// Whether any of `partners` is within `reach` bits of `partner`. Written without an early
/// exit so that it compiles to vector instructions: most buckets hold none.
#[inline(always)]
fn any_within(partners: &[u16], partner: u16, reach: u32) -> bool {
    partners.iter().fold(false, |any, &p| any | ((p ^ partner).count_ones() <= reach))
}

/// A hash asked about one band: the value asked (the high 16 bits, which it is sorted by),
/// its partner band, how far the value asked is from its own band (a probe's), and the
/// hash's position (below 2^30).
#[derive(Clone, Copy, Default)]
struct Query(u64);

impl Query {
    fn new(value: u16, partner: u16, distance: u32, at: usize) -> Query {
        let low = u64::from(distance) << 30 | at as u64;
        Query(u64::from(value) << 48 | u64::from(partner) << 32 | low)
    }

    fn parts(self) -> (u16, u16, u32, usize) {
        let low = self.0 as u32;
        ((self.0 >> 48) as u16, (self.0 >> 32) as u16, low >> 30, (low & ((1 << 30) - 1)) as usize)
    }
}

/// Sorts `queries` by value: a radix sort of two byte-wide passes.
#[inline(always)]
fn sort_by_value(queries: &mut Vec<Query>, scratch: &mut Vec<Query>) {
    // Both digits counted in one pass, before either moves a query.
    let mut counts = [[0u32; 256]; 2];
    for q in queries.iter() {
        counts[0][(q.0 >> 48) as usize & 0xff] += 1;
        counts[1][(q.0 >> 56) as usize] += 1;
    }
    for (shift, counts) in [48, 56].into_iter().zip(counts) {
        let digit = |q: &Query| (q.0 >> shift) as usize & 0xff;
        let mut at = counts.map(|c| c as usize);
        let mut next = 0;
        for slot in &mut at {
            (*slot, next) = (next, next + *slot);
        }
        scratch.resize(queries.len(), Query::default());
        for q in queries.iter() {
            scratch[at[digit(q)]] = *q;
            at[digit(q)] += 1;
        }
        std::mem::swap(queries, scratch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hash `bits` bits from `hash`, the flipped bits chosen by `seed`.
    fn flipped(hash: &[u64; 4], bits: u32, seed: &mut u64) -> [u64; 4] {
        let mut out = *hash;
        let mut flipped = 0;
        while flipped < bits {
            *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let bit = (*seed >> 33) % 256;
            let word = &mut out[bit as usize / 64];
            if (*word ^ hash[bit as usize / 64]) >> (bit % 64) & 1 == 0 {
                *word ^= 1 << (bit % 64);
                flipped += 1;
            }
        }
        out
    }

    fn random(seed: &mut u64) -> [u64; 4] {
        std::array::from_fn(|_| {
            *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            *seed ^ (*seed >> 29)
        })
    }

    #[test]
    fn finds_every_hash_within_the_threshold() {
        let mut seed = 7;
        let listed: Vec<[u64; 4]> = (0..300).map(|_| random(&mut seed)).collect();
        for threshold in [0, 15, 31, 40, 47] {
            let filter = NearFilter::new(&listed, threshold, usize::MAX).expect("probed");
            for (i, hash) in listed.iter().enumerate() {
                // Every distance up to the threshold, bits spread at random and (the hard
                // case for a pigeonhole) packed into as few bands as possible.
                for bits in 0..=threshold {
                    let near = flipped(hash, bits, &mut seed);
                    let mut packed = *hash;
                    (0..bits).for_each(|k| packed[(k / 64) as usize] ^= 1 << (63 - k % 64));
                    let found = filter.near(&[near, packed]);
                    assert_eq!(found, [true, true], "t={threshold} d={bits} listed {i}");
                }
            }
        }
    }

    /// Both ways round, the same answers as comparing every pair.
    #[test]
    fn say_what_a_linear_scan_says() {
        let mut seed = 13;
        let listed: Vec<[u64; 4]> = (0..1_500).map(|_| random(&mut seed)).collect();
        // Hashes at every distance around the thresholds from a listed one, the bits spread
        // or packed into as few bands as they fit, and random ones.
        let hashes: Vec<[u64; 4]> = (0..5_000)
            .map(|i| match i % 3 {
                0 => flipped(&listed[i % listed.len()], 20 + (i as u32 / 3) % 20, &mut seed),
                1 => {
                    let mut packed = listed[i % listed.len()];
                    (0..(i as u32 % 40))
                        .for_each(|k| packed[(k / 64) as usize] ^= 1 << (63 - k % 64));
                    packed
                }
                _ => random(&mut seed),
            })
            .collect();
        for threshold in [0, 20, 31, 35, 47] {
            let linear: Vec<bool> = (hashes.iter())
                .map(|h| listed.iter().any(|l| distance(h, l) <= threshold))
                .collect();
            assert!(linear.iter().any(|n| *n) && !linear.iter().all(|n| *n));
            let filter = NearFilter::new(&listed, threshold, usize::MAX).expect("probed");
            assert_eq!(filter.near(&hashes), linear, "NearFilter, t={threshold}");
            assert_eq!(near_any(&hashes, &listed, threshold), Some(linear), "t={threshold}");
        }
        assert_eq!(near_any(&hashes, &listed, 48), None, "r = 3 is not probed");
    }

    #[test]
    fn declines_past_its_memory_budget_or_probing_radius() {
        let listed = [[0u64; 4]; 100];
        assert!(NearFilter::new(&listed, 31, 1 << 20).is_none(), "needs 4 MB of starts");
        assert!(NearFilter::new(&listed, 48, usize::MAX).is_none(), "r = 3 is not probed");
        assert!(NearFilter::new(&listed, 31, 8 << 20).is_some());
    }
}
