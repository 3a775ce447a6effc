//! Exact Hamming-radius search over fixed-width binary hashes (multi-index hashing).
//!
//! Owns: the stored hashes of one hash kind (`W` 64-bit words: 4 for PDQ, 1 for the 64-bit
//! pHash/dHash/aHash family), the id of each (its position in the sorted input), and the
//! per-band bucket tables that answer "every stored hash within distance ≤ t of this query".
//!
//! Must not: approximate — every answer is exactly what a linear scan returns, for every
//! threshold; sort or dedupe its input (the caller does, so that ids stay meaningful to it);
//! know anything about lists, hash kinds, files or matches beyond `(id, distance)`.
//!
//! # Design
//!
//! The hash is cut into `m = 4W` bands of 16 bits, band 0 being the most significant bits of
//! word 0. If `d(x, q) ≤ t`, some band of `x` is within `floor(t/m)` bits of the same band of
//! `q` (pigeonhole), so probing, in every band, the buckets of all 16-bit values within that
//! radius of the query's band finds every match; candidates are then verified on the full
//! hash. Each band is a CSR table (bucket offsets, then ids grouped by bucket, built with a
//! counting sort). The input is sorted, so band 0's buckets are already contiguous id ranges
//! and band 0 stores offsets only. Past radius 2 the probe count explodes (`Σ C(16, i)`), and
//! on tiny indexes probing costs more than scanning, so both fall back to a linear scan.
//!
//! At 10M PDQ hashes a bucket holds ~150 ids and `t = 31` probes 16 × 17 buckets, i.e. ~40k
//! candidates per query. Verifying one is a cache and TLB miss into the 320 MB hash array,
//! and those misses dominate, so each stored id carries a fingerprint of its *partner* band
//! (`b ^ 1`) that rejects most candidates before the hash array is touched:
//!
//! **Block filter.** Pair bands into `m/2` blocks `(2j, 2j+1)` and let `R = floor(t / (m/2))`.
//! If `d(x, q) ≤ t`, some block has distance `≤ R` (else the total is `≥ (m/2)(R+1) > t`).
//! In that block the two halves sum to `≤ R`, so one of them, band `b`, has
//! `d_b ≤ floor(R/2) = floor(t/m) = r`: it lies in a probed bucket of band `b`, and its
//! partner satisfies `d_{b^1} ≤ R - d_b`. The fingerprint is a linear XOR-fold `f` of the
//! partner's 16 bits onto `k` bits (bit `i` goes to bit `i mod k`). Each output bit is the XOR
//! of a disjoint group of input bits, so it can be 1 only if some bit of its group is, hence
//! `popcount(f(a) ^ f(b)) = popcount(f(a ^ b)) ≤ popcount(a ^ b)`. Keeping only candidates with
//! `d_b + popcount(f(x_{b^1}) ^ f(q_{b^1})) ≤ R` therefore never drops a match: every match
//! passes in band `b` above (it may be rejected in other bands, which is harmless). The bound
//! holds for every `t`, so the filter is always on. Band 0 stores no entries; its candidates
//! sit contiguously in the hash array, so their partner band is read from the hash, exactly.
//!
//! **Entries.** An entry is one `u32`: the low bits of the id, then the `k`-bit fingerprint,
//! so the filter costs no memory over plain ids. To leave the fingerprint enough bits, each
//! bucket is split into cells by the id's high bits (its *slice*), which the cell position
//! then implies. More slices mean a wider fingerprint but more offsets, so slices are capped at
//! one per `MIN_CELL_ENTRIES` ids per bucket (offsets ≤ 1/8 of the entries). At 10M hashes
//! that is 10 slices and a 12-bit fingerprint (39 MB of offsets), which cuts the candidates
//! verified per query from ~41k to ~900; an 8-bit fingerprint in plain 24-bit ids left ~6k. Small indexes get the exact 16-bit partner band with one slice; near 2^32 ids the
//! fingerprint narrows towards nothing — slower, still exact.

use rayon::prelude::*;

/// Bits per band; 16 keeps a band's probe set small and its offsets cache-friendly.
const BAND_BITS: u32 = 16;
const BUCKETS: usize = 1 << BAND_BITS;
/// Largest per-band probe radius worth enumerating: radius 3 would be 697 probes per band.
const MAX_RADIUS: u32 = 2;
/// Number of 16-bit values within distance 0, 1, 2 of a value: probes per band by radius.
pub(super) const PROBES_WITHIN: [usize; MAX_RADIUS as usize + 1] = [1, 17, 137];
/// Every 16-bit XOR mask of weight ≤ 2, lightest first, so a radius-`r` probe set is a prefix.
pub(super) const MASKS: [u16; 137] = masks_by_weight();
/// Below this many stored hashes per bucket probe, a linear scan beats probing (measured).
const LINEAR_HASHES_PER_PROBE: usize = 8;
/// Average ids per (bucket, slice) cell below which more slices cost more than they filter.
const MIN_CELL_ENTRIES: usize = 8;
/// Bit counts of all 16-bit values. The baseline x86-64 target has no popcount instruction
/// and the software one is a dozen instructions; the filter runs ~40k times per query.
static WEIGHT16: [u8; 1 << 16] = weights16();

const fn masks_by_weight() -> [u16; 137] {
    let mut masks = [0u16; 137];
    let mut n = 1;
    let mut i = 0;
    while i < 16 {
        masks[n] = 1 << i;
        n += 1;
        i += 1;
    }
    let mut i = 0;
    while i < 16 {
        let mut j = i + 1;
        while j < 16 {
            masks[n] = (1 << i) | (1 << j);
            n += 1;
            j += 1;
        }
        i += 1;
    }
    masks
}

const fn weights16() -> [u8; 1 << 16] {
    let mut weights = [0u8; 1 << 16];
    let mut value = 1;
    while value < weights.len() {
        weights[value] = weights[value >> 1] + (value & 1) as u8;
        value += 1;
    }
    weights
}

/// Bit count of the low 16 bits of `value`.
fn weight16(value: u32) -> u32 {
    u32::from(WEIGHT16[usize::from(value as u16)])
}

/// Exact index of `W`-word hashes; see the module docs.
pub struct Mih<const W: usize> {
    hashes: Vec<[u64; W]>,
    /// Band 0: `BUCKETS + 1` offsets into `hashes`, which the input order already groups.
    band0: Vec<u32>,
    /// Bands `1..4W`, at `band - 1`.
    tables: Vec<BandTable>,
    layout: Layout,
}

/// One band's buckets, each split into `layout.slices` cells by id slice: cell
/// `bucket * slices + slice` lists `layout.entry(id, fold)` for the ids of that slice whose
/// band has that value, `fold` being the fingerprint of their partner band.
struct BandTable {
    /// `BUCKETS * slices + 1` cell starts into `entries`.
    cells: Vec<u32>,
    entries: Vec<u32>,
}

/// How an entry's 32 bits are shared between the id and the fingerprint.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Layout {
    /// Fingerprint width, in the entry's low bits.
    fold_bits: u32,
    /// Id bits kept in the entry, above the fingerprint; the higher ones are the slice.
    id_low_bits: u32,
    slices: usize,
}

impl Layout {
    fn new(len: usize, fold_bits: u32, id_low_bits: u32) -> Layout {
        assert!(fold_bits <= BAND_BITS && fold_bits + id_low_bits <= 32);
        let slices = (len as u64).div_ceil(1 << id_low_bits).max(1) as usize;
        Layout { fold_bits, id_low_bits, slices }
    }

    /// The widest fingerprint whose slices stay within the offsets budget.
    fn for_len(len: usize) -> Layout {
        let max_slices = (len / (BUCKETS * MIN_CELL_ENTRIES)).max(1);
        (0..=BAND_BITS)
            .rev()
            .map(|fold_bits| Layout::new(len, fold_bits, 32 - fold_bits))
            .find(|layout| layout.slices <= max_slices)
            .expect("a zero-bit fingerprint leaves the whole entry to the id")
    }

    fn entry(&self, id: u32, fold: u32) -> u32 {
        let id_low = u64::from(id) & ((1 << self.id_low_bits) - 1);
        ((id_low as u32) << self.fold_bits) | fold
    }

    fn slice(&self, id: u32) -> usize {
        (u64::from(id) >> self.id_low_bits) as usize
    }

    /// The first id of `slice`; or'ed with an entry's id bits it gives the id.
    fn slice_base(&self, slice: usize) -> u32 {
        ((slice as u64) << self.id_low_bits) as u32
    }

    fn fold_mask(&self) -> u32 {
        (1 << self.fold_bits) - 1
    }
}

impl<const W: usize> std::fmt::Debug for Mih<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mih").field("len", &self.len()).finish_non_exhaustive()
    }
}

impl<const W: usize> Mih<W> {
    /// Hashes per 64-byte cache line (at least 1), for touching a run of hashes line by line.
    const HASHES_PER_LINE: usize = if W >= 8 { 1 } else { 8 / W };

    /// `hashes` must be sorted ascending (lexicographic on the words, word 0 most significant)
    /// and free of duplicates (the caller dedupes); ids are positions in it.
    ///
    /// # Panics
    /// If `hashes` is unsorted or has duplicates (band 0 and the id order of results rely on
    /// it), or has `u32::MAX` or more entries.
    pub fn new(hashes: Vec<[u64; W]>) -> Mih<W> {
        let layout = Layout::for_len(hashes.len());
        // So few that every search reads them all, even at radius 0: the tables (a few MB of
        // offsets whatever the count) would only cost every start of a scan some milliseconds.
        let tables = hashes.len() >= bands::<W>() * LINEAR_HASHES_PER_PROBE;
        Self::with_layout(hashes, layout, tables)
    }

    /// `new` with a chosen layout, so tests can exercise narrow fingerprints and many slices
    /// on small sets.
    fn with_layout(mut hashes: Vec<[u64; W]>, layout: Layout, tables: bool) -> Mih<W> {
        assert!(W > 0, "Mih needs at least one word per hash");
        assert!(hashes.len() < u32::MAX as usize, "Mih holds fewer than u32::MAX hashes");
        assert!(
            hashes.windows(2).all(|pair| pair[0] < pair[1]),
            "Mih::new needs hashes sorted ascending and free of duplicates"
        );
        assert_eq!(layout, Layout::new(hashes.len(), layout.fold_bits, layout.id_low_bits));
        // The memory budget is tight; surplus capacity from the caller's dedupe would count.
        hashes.shrink_to_fit();

        if !tables {
            return Mih { hashes, band0: Vec::new(), tables: Vec::new(), layout };
        }
        let (band0, tables) = rayon::join(
            || band0_offsets(&hashes),
            || (1..4 * W).into_par_iter().map(|b| BandTable::build(&hashes, b, layout)).collect(),
        );
        Mih { hashes, band0, tables, layout }
    }

    /// Number of hashes stored.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Returns true if and only if no hash is stored.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Every hash stored, in id order.
    pub fn hashes(&self) -> &[[u64; W]] {
        &self.hashes
    }

    /// The hash with this id; panics if `id` is not below `len()`.
    pub fn hash(&self, id: u32) -> &[u64; W] {
        &self.hashes[id as usize]
    }

    /// Every id whose hash is within `threshold` bits (inclusive) of `query`, with its
    /// distance, appended to `out` in ascending id order, each id once. Exact for every
    /// threshold: multi-index hashing when the pigeonhole radius is small enough to pay off,
    /// a linear scan otherwise.
    pub fn search(&self, query: &[u64; W], threshold: u32, out: &mut Vec<(u32, u32)>) {
        let radius = threshold / bands::<W>() as u32;
        // `None` past MAX_RADIUS.
        let probes = PROBES_WITHIN.get(radius as usize).map(|per_band| per_band * bands::<W>());
        match probes {
            Some(probes) if self.len() >= probes * LINEAR_HASHES_PER_PROBE => {
                self.search_mih(query, threshold, out)
            }
            _ => self.search_linear(query, threshold, out),
        }
    }

    /// The largest threshold [`Mih::search`] answers by probing; past it, every search reads
    /// every stored hash.
    pub const fn max_probed_threshold() -> u32 {
        (MAX_RADIUS + 1) * bands::<W>() as u32 - 1
    }

    /// Linear scan with the same contract as [`Mih::search`]: the reference it is tested and
    /// benchmarked against.
    pub fn search_linear(&self, query: &[u64; W], threshold: u32, out: &mut Vec<(u32, u32)>) {
        for (id, hash) in self.hashes.iter().enumerate() {
            let d = distance(hash, query);
            if d <= threshold {
                out.push((id as u32, d));
            }
        }
    }

    /// Approximate heap bytes held (hashes, offsets and entries).
    pub fn heap_bytes(&self) -> usize {
        let tables: usize = self
            .tables
            .iter()
            .map(|t| (t.cells.capacity() + t.entries.capacity()) * size_of::<u32>())
            .sum();
        self.hashes.capacity() * size_of::<[u64; W]>()
            + self.band0.capacity() * size_of::<u32>()
            + self.tables.capacity() * size_of::<BandTable>()
            + tables
    }

    /// The probing path; callers guarantee `threshold / 4W ≤ MAX_RADIUS`.
    fn search_mih(&self, query: &[u64; W], threshold: u32, out: &mut Vec<(u32, u32)>) {
        SCRATCH.with_borrow_mut(|scratch| self.search_mih_with(query, threshold, out, scratch));
    }

    // At list scale every step below waits on memory, not arithmetic: buckets and candidate
    // hashes are scattered over ~1 GB. So each step first issues all of its independent loads
    // (bucket offsets, bucket lines, candidate hashes) in a tight loop with no data-dependent
    // branches, letting the CPU overlap the misses instead of taking them one at a time.
    fn search_mih_with(
        &self,
        query: &[u64; W],
        threshold: u32,
        out: &mut Vec<(u32, u32)>,
        scratch: &mut Scratch,
    ) {
        let bands = bands::<W>();
        let radius = threshold / bands as u32;
        let block_radius = threshold / (bands as u32 / 2);
        let masks = &MASKS[..PROBES_WITHIN[radius as usize]];
        let layout = self.layout;

        let probes = &mut scratch.probes;
        probes.clear();
        for band_index in 0..bands {
            let query_band = band(query, band_index);
            for &mask in masks {
                let bucket = usize::from(query_band ^ mask);
                let (start, end) = match band_index {
                    0 => (self.band0[bucket], self.band0[bucket + 1]),
                    b => {
                        let cells = &self.tables[b - 1].cells;
                        (cells[bucket * layout.slices], cells[(bucket + 1) * layout.slices])
                    }
                };
                // Never underflows: mask weight ≤ radius ≤ block_radius / 2.
                let budget = block_radius - mask.count_ones();
                probes.push(Probe { band_index, bucket, budget, start, end });
            }
        }

        let mut touched = 0;
        for probe in probes.iter() {
            touched ^= match probe.band_index {
                0 => self.touch_hashes((probe.start..probe.end).step_by(Self::HASHES_PER_LINE)),
                b => u64::from(touch(&self.tables[b - 1].entries[probe.range()])),
            };
        }
        std::hint::black_box(touched);

        // Block filter (module docs).
        let candidates = &mut scratch.candidates;
        candidates.clear();
        let query_partner0 = u32::from(band(query, 1));
        let (fold_bits, fold_mask) = (layout.fold_bits, layout.fold_mask());
        for probe in probes.iter() {
            let budget = probe.budget;
            if probe.band_index == 0 {
                for id in probe.start..probe.end {
                    let partner = u32::from(band(&self.hashes[id as usize], 1));
                    if weight16(partner ^ query_partner0) <= budget {
                        candidates.push(id);
                    }
                }
                continue;
            }
            let table = &self.tables[probe.band_index - 1];
            let query_fold = fold(band(query, probe.band_index ^ 1), fold_bits);
            let cells = &table.cells[probe.bucket * layout.slices..][..=layout.slices];
            for (slice, cell) in cells.windows(2).enumerate() {
                let base = layout.slice_base(slice);
                for &entry in &table.entries[cell[0] as usize..cell[1] as usize] {
                    if weight16((entry ^ query_fold) & fold_mask) <= budget {
                        candidates.push(base | (entry >> fold_bits));
                    }
                }
            }
        }

        std::hint::black_box(self.touch_hashes(candidates.iter().copied()));
        let start = out.len();
        for &id in candidates.iter() {
            let d = distance(&self.hashes[id as usize], query);
            if d <= threshold {
                out.push((id, d));
            }
        }

        // A near hash is usually close in several bands and so found more than once; matches
        // are few, so sorting them beats tracking which ids were already seen.
        if out.len() - start > 1 {
            let mut found = out.split_off(start);
            found.sort_unstable();
            found.dedup();
            out.append(&mut found);
        }
    }

    /// Loads the first and last word of each listed hash, to start their cache misses early;
    /// both, because a hash may straddle two cache lines (allocations are 16-byte aligned).
    fn touch_hashes(&self, ids: impl Iterator<Item = u32>) -> u64 {
        ids.fold(0, |acc, id| {
            let hash = &self.hashes[id as usize];
            acc ^ hash[0] ^ hash[W - 1]
        })
    }
}

/// Loads one word per cache line of `entries`, to start their cache misses early.
fn touch(entries: &[u32]) -> u32 {
    entries.iter().step_by(64 / size_of::<u32>()).fold(0, |acc, &entry| acc ^ entry)
}

/// One probed bucket: ids `start..end` for band 0, else `start..end` of the band's entries.
struct Probe {
    band_index: usize,
    bucket: usize,
    /// How far the partner band may differ, given this bucket's own distance from the query.
    budget: u32,
    start: u32,
    end: u32,
}

impl Probe {
    fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// Per-thread buffers reused across queries, so a search does not allocate.
#[derive(Default)]
struct Scratch {
    probes: Vec<Probe>,
    candidates: Vec<u32>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

const fn bands<const W: usize>() -> usize {
    4 * W
}

pub(super) fn distance<const W: usize>(a: &[u64; W], b: &[u64; W]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

/// Band `index` of `hash`; band 0 is the top 16 bits of word 0, so it follows the sort order.
pub(super) fn band<const W: usize>(hash: &[u64; W], index: usize) -> u16 {
    (hash[index / 4] >> (48 - 16 * (index % 4))) as u16
}

/// XOR-fold of a band onto `bits` bits (bit `i` to bit `i mod bits`); never increases
/// distance, see the module docs.
fn fold(value: u16, bits: u32) -> u32 {
    if bits == 0 {
        return 0;
    }
    let mask = (1u32 << bits) - 1;
    let mut rest = u32::from(value);
    let mut folded = 0;
    while rest != 0 {
        folded ^= rest & mask;
        rest >>= bits;
    }
    folded
}

/// Prefix sums of band-0 bucket sizes: with sorted input, bucket `v` is ids
/// `offsets[v]..offsets[v + 1]`.
fn band0_offsets<const W: usize>(hashes: &[[u64; W]]) -> Vec<u32> {
    let mut offsets = vec![0u32; BUCKETS + 1];
    for hash in hashes {
        offsets[usize::from(band(hash, 0)) + 1] += 1;
    }
    for bucket in 0..BUCKETS {
        offsets[bucket + 1] += offsets[bucket];
    }
    offsets
}

impl BandTable {
    /// Counting sort of all ids by (band value, slice). Ids are visited in ascending order, so
    /// each cell lists its ids ascending and only one slice's cells are being filled at a time.
    fn build<const W: usize>(hashes: &[[u64; W]], band_index: usize, layout: Layout) -> BandTable {
        let cell_of = |id: usize, hash: &[u64; W]| {
            usize::from(band(hash, band_index)) * layout.slices + layout.slice(id as u32)
        };
        let mut cells = vec![0u32; BUCKETS * layout.slices + 1];
        for (id, hash) in hashes.iter().enumerate() {
            cells[cell_of(id, hash) + 1] += 1;
        }
        for cell in 0..BUCKETS * layout.slices {
            cells[cell + 1] += cells[cell];
        }
        let mut next = cells[..BUCKETS * layout.slices].to_vec();
        let mut entries = vec![0u32; hashes.len()];
        for (id, hash) in hashes.iter().enumerate() {
            let slot = &mut next[cell_of(id, hash)];
            let fold = fold(band(hash, band_index ^ 1), layout.fold_bits);
            entries[*slot as usize] = layout.entry(id as u32, fold);
            *slot += 1;
        }
        BandTable { cells, entries }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::testing::Rng;

    fn flip(hash: &mut [u64], bit: usize) {
        hash[bit / 64] ^= 1 << (bit % 64);
    }

    /// `hash` with `k` distinct random bits flipped.
    fn near<const W: usize>(rng: &mut Rng, hash: &[u64; W], k: u32) -> [u64; W] {
        let mut out = *hash;
        let mut flipped = 0;
        while flipped < k.min(64 * W as u32) {
            let bit = rng.below(64 * W as u64) as usize;
            if ((out[bit / 64] ^ hash[bit / 64]) >> (bit % 64)) & 1 == 0 {
                flip(&mut out, bit);
                flipped += 1;
            }
        }
        out
    }

    fn sorted_dedup<const W: usize>(mut hashes: Vec<[u64; W]>) -> Vec<[u64; W]> {
        hashes.sort_unstable();
        hashes.dedup();
        hashes
    }

    /// `Mih::search`, `Mih::search_linear` or `Mih::search_mih`.
    type SearchFn<const W: usize> = fn(&Mih<W>, &[u64; W], u32, &mut Vec<(u32, u32)>);

    fn search_with<const W: usize>(
        mih: &Mih<W>,
        how: SearchFn<W>,
        query: &[u64; W],
        threshold: u32,
    ) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        how(mih, query, threshold, &mut out);
        out
    }

    /// `search` (and the probing path itself, whenever its radius allows, even where `search`
    /// would pick the scan) agree with the linear scan.
    fn check_agrees<const W: usize>(mih: &Mih<W>, query: &[u64; W], threshold: u32) {
        let expected = search_with(mih, Mih::search_linear, query, threshold);
        assert!(expected.windows(2).all(|p| p[0].0 < p[1].0));
        assert_eq!(search_with(mih, Mih::search, query, threshold), expected, "t={threshold}");
        if threshold / bands::<W>() as u32 <= MAX_RADIUS {
            let probed = search_with(mih, Mih::search_mih, query, threshold);
            assert_eq!(probed, expected, "probing, t={threshold}, {:?}", mih.layout);
        }
    }

    /// A random stored set with planted near neighbours, and queries near it and far from it.
    fn random_case<const W: usize>(
        seed: u64,
        size: usize,
        planted: usize,
    ) -> (Vec<[u64; W]>, Vec<[u64; W]>) {
        let mut rng = Rng(seed);
        let mut stored: Vec<[u64; W]> = (0..size).map(|_| rng.hash()).collect();
        for _ in 0..planted.min(size) {
            let base = stored[rng.below(size as u64) as usize];
            let k = rng.below(41) as u32;
            stored.push(near(&mut rng, &base, k));
        }
        let stored = sorted_dedup(stored);
        let mut queries: Vec<[u64; W]> = (0..4).map(|_| rng.hash()).collect();
        let near_queries = if stored.is_empty() { 0 } else { 8 };
        for _ in 0..near_queries {
            let base = stored[rng.below(stored.len() as u64) as usize];
            let k = rng.below(41) as u32;
            queries.push(near(&mut rng, &base, k));
        }
        (stored, queries)
    }

    /// `(fold_bits, id_low_bits)` pairs: the exact partner band and plain ids, and narrow
    /// fingerprints with up to 16 slices (~2000 hashes need 11 id bits).
    const LAYOUTS: [(u32, u32); 6] = [(16, 16), (0, 32), (12, 9), (8, 7), (3, 8), (1, 31)];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn pdq_width_matches_linear_scan(
            seed in any::<u64>(),
            size in 0usize..2000,
            planted in 0usize..60,
            (fold_bits, id_low_bits) in prop::sample::select(LAYOUTS.to_vec()),
            thresholds in prop::collection::vec(0u32..=64, 3),
        ) {
            let (stored, queries) = random_case::<4>(seed, size, planted);
            let layout = Layout::new(stored.len(), fold_bits, id_low_bits);
            let mih = Mih::with_layout(stored, layout, true);
            for query in &queries {
                for &t in thresholds.iter().chain(&[0, 31, 47, 48, 256]) {
                    check_agrees(&mih, query, t);
                }
            }
        }

        #[test]
        fn sixty_four_bit_width_matches_linear_scan(
            seed in any::<u64>(),
            size in 0usize..2000,
            planted in 0usize..60,
            (fold_bits, id_low_bits) in prop::sample::select(LAYOUTS.to_vec()),
            thresholds in prop::collection::vec(0u32..=16, 3),
        ) {
            let (stored, queries) = random_case::<1>(seed, size, planted);
            let layout = Layout::new(stored.len(), fold_bits, id_low_bits);
            let mih = Mih::with_layout(stored, layout, true);
            for query in &queries {
                for &t in thresholds.iter().chain(&[0, 8, 11, 12, 64]) {
                    check_agrees(&mih, query, t);
                }
            }
        }
    }

    /// `hash` with `count` distinct random bits of band `band_index` flipped.
    fn flip_in_band<const W: usize>(
        rng: &mut Rng,
        hash: &mut [u64; W],
        band_index: usize,
        count: u32,
    ) {
        let mut chosen = 0u16;
        while chosen.count_ones() < count {
            chosen |= 1 << rng.below(16);
        }
        hash[band_index / 4] ^= u64::from(chosen) << (48 - 16 * (band_index % 4));
    }

    /// The filter's bound is tight when exactly one block is within `R` and every other block
    /// is just over it. Plant such neighbours at distance exactly `t`, for every probing
    /// threshold, block, split of that block's bits between its halves, and fold width.
    fn check_tight_neighbours<const W: usize>() {
        let mut rng = Rng(W as u64);
        let blocks = 2 * W;
        for t in 0..=(MAX_RADIUS + 1) * bands::<W>() as u32 - 1 {
            let block_radius = t / blocks as u32;
            let over = t as usize % blocks;
            for (fold_bits, id_low_bits) in LAYOUTS {
                let mut stored: Vec<[u64; W]> = (0..300).map(|_| rng.hash()).collect();
                let mut cases = Vec::new();
                for tight in 0..blocks {
                    for near_half in 0..=block_radius {
                        let query: [u64; W] = rng.hash();
                        let mut planted = query;
                        for block in 0..blocks {
                            let (a, b) = if block == tight {
                                (near_half, block_radius - near_half)
                            } else {
                                // `over` of the other blocks carry one extra bit to reach `t`.
                                let rank = (block + blocks - tight - 1) % blocks;
                                let bits = block_radius + u32::from(rank < over);
                                (bits / 2, bits - bits / 2)
                            };
                            flip_in_band(&mut rng, &mut planted, 2 * block, a);
                            flip_in_band(&mut rng, &mut planted, 2 * block + 1, b);
                        }
                        assert_eq!(distance(&planted, &query), t);
                        stored.push(planted);
                        cases.push((query, planted));
                    }
                }
                let stored = sorted_dedup(stored);
                let layout = Layout::new(stored.len(), fold_bits, id_low_bits);
                let mih = Mih::with_layout(stored, layout, true);
                for (query, planted) in cases {
                    let found = search_with(&mih, Mih::search_mih, &query, t);
                    assert!(
                        found.iter().any(|&(id, d)| mih.hash(id) == &planted && d == t),
                        "W={W} t={t} {layout:?}"
                    );
                    check_agrees(&mih, &query, t);
                }
            }
        }
    }

    #[test]
    fn tight_neighbours_are_found_pdq_width() {
        check_tight_neighbours::<4>();
    }

    #[test]
    fn tight_neighbours_are_found_other_widths() {
        check_tight_neighbours::<1>();
        check_tight_neighbours::<2>();
    }

    /// With its tables, however few the hashes: the probing path checked on edge cases.
    fn probed<const W: usize>(hashes: Vec<[u64; W]>) -> Mih<W> {
        let layout = Layout::for_len(hashes.len());
        Mih::with_layout(hashes, layout, true)
    }

    #[test]
    fn empty_index() {
        let mih = probed::<4>(Vec::new());
        assert!(mih.is_empty());
        assert_eq!(mih.len(), 0);
        for t in [0, 31, 47, 48, 256] {
            check_agrees(&mih, &[0; 4], t);
            assert!(search_with(&mih, Mih::search, &[0; 4], t).is_empty());
        }
    }

    #[test]
    fn all_zero_and_all_one_hashes() {
        let mih = probed::<4>(vec![[0; 4], [u64::MAX; 4]]);
        assert_eq!(mih.hash(1), &[u64::MAX; 4]);
        for query in [[0; 4], [u64::MAX; 4]] {
            for t in [0, 1, 31, 47, 128, 255, 256, 1000] {
                check_agrees(&mih, &query, t);
            }
        }
        assert_eq!(search_with(&mih, Mih::search, &[0; 4], 0), [(0, 0)]);
        assert_eq!(search_with(&mih, Mih::search, &[u64::MAX; 4], 255), [(1, 0)]);
        assert_eq!(search_with(&mih, Mih::search, &[0; 4], 256), [(0, 0), (1, 256)]);
        let mut half = [0; 4];
        half[..2].copy_from_slice(&[u64::MAX; 2]);
        assert_eq!(search_with(&mih, Mih::search, &half, 128), [(0, 128), (1, 128)]);
    }

    #[test]
    fn threshold_256_returns_everything() {
        let (stored, queries) = random_case::<4>(7, 500, 20);
        let mih = Mih::new(stored);
        let found = search_with(&mih, Mih::search, &queries[0], 256);
        assert_eq!(found.len(), mih.len());
        assert!(found.iter().enumerate().all(|(i, &(id, _))| id as usize == i));
    }

    #[test]
    fn a_set_too_small_to_probe_has_no_tables_and_is_still_exact() {
        let (stored, queries) = random_case::<4>(11, 100, 20);
        let mih = Mih::new(stored);
        assert!(mih.tables.is_empty() && mih.band0.is_empty());
        for query in &queries {
            for threshold in [0, 31, 64] {
                let expected = search_with(&mih, Mih::search_linear, query, threshold);
                assert_eq!(search_with(&mih, Mih::search, query, threshold), expected);
            }
        }
    }

    #[test]
    fn appends_after_existing_results() {
        let (stored, queries) = random_case::<1>(3, 1500, 40);
        let mih = Mih::new(stored);
        for query in &queries {
            let expected = search_with(&mih, Mih::search_linear, query, 8);
            let mut out = vec![(u32::MAX, 99)];
            mih.search(query, 8, &mut out);
            mih.search_mih(query, 8, &mut out);
            assert_eq!(out[0], (u32::MAX, 99));
            assert_eq!(out[1..], [expected.clone(), expected].concat());
        }
    }

    #[test]
    fn fold_never_overestimates_distance() {
        for bits in 0..=16 {
            let mut rng = Rng(u64::from(bits));
            for _ in 0..2000 {
                let (a, b) = (rng.next() as u16, rng.next() as u16);
                let folded = (fold(a, bits) ^ fold(b, bits)).count_ones();
                assert!(folded <= (a ^ b).count_ones());
            }
        }
        assert_eq!(fold(0xabcd, 16), 0xabcd);
    }

    #[test]
    fn layout_widens_the_fingerprint_as_far_as_the_offsets_budget_allows() {
        let layout = |len| {
            let Layout { fold_bits, id_low_bits, slices } = Layout::for_len(len);
            (fold_bits, id_low_bits, slices)
        };
        assert_eq!(layout(0), (16, 16, 1));
        assert_eq!(layout(65_536), (16, 16, 1));
        assert_eq!(layout(1_000_000), (12, 20, 1));
        assert_eq!(layout(10_000_000), (12, 20, 10));
        assert_eq!(layout(u32::MAX as usize - 1), (12, 20, 4096));
    }

    #[test]
    fn entries_round_trip_ids_and_fingerprints() {
        let mut rng = Rng(5);
        for (fold_bits, id_low_bits) in LAYOUTS {
            let len = 1 << 20;
            let layout = Layout::new(len, fold_bits, id_low_bits);
            for _ in 0..1000 {
                let id = rng.below(len as u64) as u32;
                let fingerprint = fold(rng.next() as u16, fold_bits);
                let entry = layout.entry(id, fingerprint);
                assert_eq!(layout.slice_base(layout.slice(id)) | (entry >> fold_bits), id);
                assert_eq!(entry & layout.fold_mask(), fingerprint);
            }
        }
    }

    #[test]
    #[should_panic(expected = "sorted ascending")]
    fn unsorted_input_is_rejected() {
        Mih::<1>::new(vec![[2], [1]]);
    }

    #[test]
    #[should_panic(expected = "sorted ascending")]
    fn duplicate_input_is_rejected() {
        Mih::<1>::new(vec![[1], [1]]);
    }
}
