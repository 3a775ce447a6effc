//! vPDQ video matching: the frames of many videos indexed together, and a query video compared
//! with each of them by python-threatexchange's rules.
//!
//! Owns: filtering each side's frames (exact repeats dropped, then frames of low quality),
//! counting a listed video's frames (one by one, or by stretches when it was hashed much more
//! densely than the scan samples), and the percentages of a [`VideoComparison`]. Must not:
//! decide whether a comparison is a match ([`crate::hash::vpdq::is_match`] and the matcher's
//! rule do), or know about hash lists: a listed video arrives as plain frames.
//!
//! The two reference comparisons disagree. The C++ `matchTwoHashBrute` keeps repeated hashes
//! and counts distance `< D`; python-threatexchange (`match_VPDQ_hash_brute`, what HMA runs)
//! drops exact repeats and counts `<= D`. [`compare`] follows python-threatexchange: its
//! thresholds are inclusive like every other threshold in mediascreen, and without the dedupe
//! a still scene held for many frames would weigh as many matched frames.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{group_sorted, words, Mih};
use crate::hash::vpdq::{VideoComparison, VpdqFrame};
use crate::hash::HashValue;

/// Compares two videos' frames by python-threatexchange's rules: on each side, exact repeats
/// of a hash are dropped (the first is kept) and then frames below `min_quality`; a remaining
/// frame matches if some remaining frame of the other side is within `distance` bits
/// (inclusive). Hashes must be 32 bytes.
///
/// To compare one video with many, index them once with [`VideoIndex::new`].
pub fn compare(
    query: &[VpdqFrame],
    compared: &[VpdqFrame],
    distance: u32,
    min_quality: u8,
) -> VideoComparison {
    let frames = compared.iter().map(|f| (f.hash.clone(), Some(f.quality), Some(f.timestamp)));
    VideoIndex::new([frames], min_quality, 0.0).search_one(query, distance, min_quality, 0)
}

/// The unit each kept frame of a listed video counts for (see [`VideoIndex::new`]): its own
/// position, or, when the frames carry timestamps and lie less than half a `window` apart
/// (the median gap), the number of the `window`-long stretch it falls in.
fn units(kept: &[([u64; 4], Option<f64>)], window: f64) -> Vec<u32> {
    let times: Option<Vec<f64>> = kept.iter().map(|&(_, t)| t).collect();
    let dense = times.as_ref().filter(|_| window > 0.0).filter(|times| {
        let mut gaps: Vec<f64> = times.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
        gaps.sort_by(f64::total_cmp);
        gaps.get(gaps.len() / 2).is_some_and(|&median| median < window / 2.0)
    });
    match dense {
        Some(times) => times.iter().map(|t| (t / window) as u32).collect(),
        None => (0..kept.len() as u32).collect(),
    }
}

fn percent(matched: usize, total: usize) -> f64 {
    if total == 0 {
        return 0.0;
    }
    // Multiply first, then one division: the same correctly rounded value as Python's
    // `cnt * 100 / len`, so results agree to the last bit.
    (matched * 100) as f64 / total as f64
}

/// A listed video's frame as [`VideoIndex::new`] takes it: hash, quality and timestamp, the
/// last two when the list gives them.
pub type ListedFrame = (HashValue, Option<u8>, Option<f64>);

/// The frames of many videos (the listed ones), indexed together so that a query video costs
/// one index search per distinct frame, whatever the number of videos.
///
/// Each video is filtered by python-threatexchange's rules when it is added: exact repeats of
/// a hash dropped (the first kept), then frames below the quality floor.
pub struct VideoIndex {
    /// The distinct hashes kept from all videos.
    index: Mih<4>,
    /// `owners[starts[i]..starts[i + 1]]` are the videos (ascending) that keep hash `i`, each
    /// with the unit of that video it counts for (see [`VideoIndex::new`]).
    starts: Vec<u32>,
    owners: Vec<(u32, u32)>,
    /// Per video, how many units (distinct frames, or windows) it has.
    totals: Vec<usize>,
}

/// A query video's frames after python-threatexchange's filter.
struct Kept<'a> {
    frames: &'a [VpdqFrame],
    /// The distinct hashes that take part, and the position in `frames` of each one's first
    /// occurrence.
    hashes: Vec<([u64; 4], usize)>,
}

impl<'a> Kept<'a> {
    fn new(frames: &'a [VpdqFrame], min_quality: u8) -> Kept<'a> {
        let mut seen = HashSet::new();
        let hashes = frames
            .iter()
            .enumerate()
            .map(|(i, f)| (words(f.hash.as_bytes()), i, f.quality))
            // Dedupe before the quality filter, as python-threatexchange does: a repeat whose
            // first occurrence was too dark is dropped even if the repeat itself passes.
            .filter(|&(hash, _, quality)| seen.insert(hash) && quality >= min_quality)
            .map(|(hash, i, _)| (hash, i))
            .collect();
        Kept { frames, hashes }
    }
}

/// What one listed video has matched so far in [`VideoIndex::compare`].
#[derive(Default)]
struct Tally {
    /// Positions in [`Kept::hashes`] of the query hashes that matched, ascending.
    query: Vec<usize>,
    /// The units of the listed video that matched.
    listed: HashSet<u32>,
    closest: u32,
}

impl VideoIndex {
    /// Indexes `videos`, each given as its frames' hashes (32 bytes), qualities and
    /// timestamps in frame order; a frame of unknown quality is kept. Video ids are positions
    /// in `videos`.
    ///
    /// A video's percentage counts its distinct frames, as the reference does, unless it was
    /// hashed much more densely than the scan samples (`window` seconds per hash, 0 = every
    /// frame): its frames then count by `window`-long stretch of its timeline, a stretch
    /// matching if any of its frames does. Otherwise a list made from every frame (as Meta's
    /// sample hashes are) could never be 80 % found by a scan that samples one frame a
    /// second, however completely the listed video is in it.
    pub fn new<V, F>(videos: V, min_quality: u8, window: f64) -> VideoIndex
    where
        V: IntoIterator<Item = F>,
        F: IntoIterator<Item = ListedFrame>,
    {
        let mut pairs = Vec::new();
        let mut totals = Vec::new();
        for (video, frames) in videos.into_iter().enumerate() {
            let mut seen = HashSet::new();
            let kept: Vec<([u64; 4], Option<f64>)> = frames
                .into_iter()
                .map(|(hash, quality, timestamp)| {
                    debug_assert_eq!(hash.as_bytes().len(), 32, "vPDQ frames carry PDQ hashes");
                    (words(hash.as_bytes()), quality, timestamp)
                })
                .filter(|&(hash, quality, _)| {
                    seen.insert(hash) && quality.is_none_or(|q| q >= min_quality)
                })
                .map(|(hash, _, timestamp)| (hash, timestamp))
                .collect();
            let units = units(&kept, window);
            totals.push(units.iter().collect::<HashSet<_>>().len());
            pairs.extend(
                kept.iter().zip(units).map(|(&(hash, _), unit)| (hash, (video as u32, unit))),
            );
        }
        let (hashes, starts, owners) = group_sorted(pairs);
        VideoIndex { index: Mih::new(hashes), starts, owners, totals }
    }

    /// Number of videos indexed.
    pub fn len(&self) -> usize {
        self.totals.len()
    }

    /// Returns true if and only if no video is indexed.
    pub fn is_empty(&self) -> bool {
        self.totals.is_empty()
    }

    /// Compares `query` with every indexed video by the rules of [`compare`] (`min_quality`
    /// should be the one the index was built with), returning the videos that share at least
    /// one matching frame with it, in id order.
    pub fn search(
        &self,
        query: &[VpdqFrame],
        distance: u32,
        min_quality: u8,
    ) -> Vec<(u32, VideoComparison)> {
        self.compare(&Kept::new(query, min_quality), distance)
    }

    /// [`VideoIndex::search`] for indexed video `video` alone, returning its comparison also
    /// when no frame matched (nothing matched, of either side's total).
    pub fn search_one(
        &self,
        query: &[VpdqFrame],
        distance: u32,
        min_quality: u8,
        video: u32,
    ) -> VideoComparison {
        let kept = Kept::new(query, min_quality);
        let found = self.compare(&kept, distance).into_iter().find(|(v, _)| *v == video);
        found.map_or_else(
            || VideoComparison {
                query_matched: 0,
                query_total: kept.hashes.len(),
                compared_matched: 0,
                compared_total: self.totals[video as usize],
                query_pct: 0.0,
                compared_pct: 0.0,
                closest: None,
                matched_query_frames: Vec::new(),
            },
            |(_, comparison)| comparison,
        )
    }

    fn compare(&self, kept: &Kept<'_>, distance: u32) -> Vec<(u32, VideoComparison)> {
        let mut tallies: BTreeMap<u32, Tally> = BTreeMap::new();
        let mut found = Vec::new();
        for (k, (hash, _)) in kept.hashes.iter().enumerate() {
            found.clear();
            self.index.search(hash, distance, &mut found);
            for &(id, d) in &found {
                let id = id as usize;
                let owners = &self.owners[self.starts[id] as usize..self.starts[id + 1] as usize];
                for &(video, unit) in owners {
                    let tally = tallies
                        .entry(video)
                        .or_insert_with(|| Tally { closest: u32::MAX, ..Tally::default() });
                    if tally.query.last() != Some(&k) {
                        tally.query.push(k);
                    }
                    tally.listed.insert(unit);
                    tally.closest = tally.closest.min(d);
                }
            }
        }
        // Where each query frame's hash is kept, so repeats of a matched hash are reported.
        let first: HashMap<[u64; 4], usize> =
            kept.hashes.iter().enumerate().map(|(k, (hash, _))| (*hash, k)).collect();
        let kept_of: Vec<Option<usize>> =
            kept.frames.iter().map(|f| first.get(&words(f.hash.as_bytes())).copied()).collect();
        tallies
            .into_iter()
            .map(|(video, tally)| {
                let matched: HashSet<usize> = tally.query.iter().copied().collect();
                let matched_query_frames = (0..kept.frames.len())
                    .filter(|&i| kept_of[i].is_some_and(|k| matched.contains(&k)))
                    .collect();
                let total = self.totals[video as usize];
                let comparison = VideoComparison {
                    query_matched: tally.query.len(),
                    query_total: kept.hashes.len(),
                    compared_matched: tally.listed.len(),
                    compared_total: total,
                    query_pct: percent(tally.query.len(), kept.hashes.len()),
                    compared_pct: percent(tally.listed.len(), total),
                    closest: Some(tally.closest),
                    matched_query_frames,
                };
                (video, comparison)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::hash::vpdq::tests::{frame, random_hash};
    use crate::hash::vpdq::{
        is_match, time_ranges, timestamp, DEFAULT_MATCH_PCT, DEFAULT_MIN_FRAMES,
    };
    use crate::testing::Rng;

    /// `hash` with `bits` distinct bits flipped.
    fn near(rng: &mut Rng, hash: &HashValue, bits: u32) -> HashValue {
        let mut bytes = hash.as_bytes().to_vec();
        let mut flipped = HashSet::new();
        while flipped.len() < bits as usize {
            let bit = rng.below(256) as usize;
            if flipped.insert(bit) {
                bytes[bit / 8] ^= 1 << (bit % 8);
            }
        }
        HashValue::from_bytes(bytes)
    }

    /// python-threatexchange's `match_VPDQ_hash_brute`, pair by pair.
    fn brute(query: &[VpdqFrame], compared: &[VpdqFrame], distance: u32, q: u8) -> (f64, f64) {
        fn keep(frames: &[VpdqFrame], q: u8) -> Vec<&VpdqFrame> {
            let mut unique: Vec<&VpdqFrame> = Vec::new();
            for f in frames {
                if !unique.iter().any(|u| u.hash == f.hash) {
                    unique.push(f);
                }
            }
            unique.retain(|f| f.quality >= q);
            unique
        }
        fn in_other(a: &[&VpdqFrame], b: &[&VpdqFrame], distance: u32) -> f64 {
            let hits = a.iter().filter(|x| b.iter().any(|y| x.hash.distance(&y.hash) <= distance));
            hits.count() as f64
        }
        let (query, compared) = (keep(query, q), keep(compared, q));
        let pct =
            |hits: f64, total: usize| if total == 0 { 0.0 } else { hits * 100.0 / total as f64 };
        (
            pct(in_other(&query, &compared, distance), query.len()),
            pct(in_other(&compared, &query, distance), compared.len()),
        )
    }

    #[test]
    fn repeats_are_dropped_before_the_quality_filter() {
        let mut rng = Rng(1);
        let (a, b, c) = (random_hash(&mut rng), random_hash(&mut rng), random_hash(&mut rng));
        let query = [
            frame(&a, 100, 0),
            frame(&a, 100, 1), // repeat: counted once
            frame(&b, 10, 2),  // too dark
            frame(&b, 90, 3),  // repeat of a dropped frame: dropped with it
            frame(&c, 60, 4),
        ];
        let compared = [frame(&a, 100, 0), frame(&b, 100, 1), frame(&b, 100, 2)];
        let r = compare(&query, &compared, 31, 50);
        assert_eq!((r.query_matched, r.query_total), (1, 2));
        assert_eq!((r.compared_matched, r.compared_total), (1, 2));
        assert_eq!((r.query_pct, r.compared_pct), (50.0, 50.0));
        assert_eq!(r.matched_query_frames, [0, 1]);

        let empty = compare(&query[2..3], &compared, 31, 50);
        assert_eq!((empty.query_total, empty.query_pct, empty.compared_pct), (0, 0.0, 0.0));
        assert!(empty.matched_query_frames.is_empty());
    }

    #[test]
    fn the_distance_is_inclusive() {
        let mut rng = Rng(2);
        let a = random_hash(&mut rng);
        let at = [frame(&near(&mut rng, &a, 31), 100, 0)];
        let past = [frame(&near(&mut rng, &a, 32), 100, 0)];
        let query = [frame(&a, 100, 0)];
        assert_eq!(compare(&query, &at, 31, 50).query_matched, 1);
        assert_eq!(compare(&query, &past, 31, 50).query_matched, 0);
    }

    /// A listed video of `listed` distinct frames, and a query holding `padding` unrelated
    /// frames, then all of it, then `padding` more.
    fn padded(rng: &mut Rng, listed: u64, padding: u64) -> (Vec<VpdqFrame>, Vec<VpdqFrame>) {
        let compared: Vec<VpdqFrame> =
            (0..listed).map(|n| frame(&random_hash(rng), 100, n)).collect();
        let mut query = Vec::new();
        for n in 0..listed + 2 * padding {
            let hash = match n.checked_sub(padding).filter(|&i| i < listed) {
                Some(i) => near(rng, &compared[i as usize].hash, 6),
                None => random_hash(rng),
            };
            query.push(frame(&hash, 100, n));
        }
        (query, compared)
    }

    #[test]
    fn a_listed_video_padded_into_a_longer_one_matches() {
        let (query, compared) = padded(&mut Rng(3), 20, 40);
        let r = compare(&query, &compared, 31, 50);
        assert_eq!((r.query_pct, r.compared_pct), (20.0, 100.0));
        assert!(is_match(&r, DEFAULT_MATCH_PCT, DEFAULT_MATCH_PCT, DEFAULT_MIN_FRAMES));
        assert_eq!(r.matched_query_frames, (40..60).collect::<Vec<_>>());
        // python-threatexchange's own rule, the query side alone, misses it.
        assert!(!is_match(&r, 80.0, 101.0, 3));
    }

    #[test]
    fn a_clip_cut_from_a_listed_video_matches() {
        let mut rng = Rng(4);
        let long: Vec<VpdqFrame> =
            (0..100).map(|n| frame(&random_hash(&mut rng), 100, n)).collect();
        let clip: Vec<VpdqFrame> = (0..10)
            .map(|n| frame(&near(&mut rng, &long[30 + n as usize].hash, 6), 100, n))
            .collect();
        let r = compare(&clip, &long, 31, 50);
        assert_eq!((r.query_pct, r.compared_pct), (100.0, 10.0));
        assert!(is_match(&r, DEFAULT_MATCH_PCT, DEFAULT_MATCH_PCT, DEFAULT_MIN_FRAMES));
        assert!(!is_match(&r, 80.0, 80.0, 11));
    }

    #[test]
    fn a_still_image_needs_more_than_its_one_frame() {
        let mut rng = Rng(5);
        let still = random_hash(&mut rng);
        let query: Vec<VpdqFrame> = (0..90).map(|n| frame(&still, 100, n)).collect();
        let compared = [frame(&still, 100, 0), frame(&random_hash(&mut rng), 100, 1)];
        let r = compare(&query, &compared, 31, 50);
        assert_eq!((r.query_matched, r.query_pct, r.compared_pct), (1, 100.0, 50.0));
        assert!(!is_match(&r, DEFAULT_MATCH_PCT, DEFAULT_MATCH_PCT, DEFAULT_MIN_FRAMES));
        // Every repeat is reported, so the still scene is one range.
        assert_eq!(r.matched_query_frames.len(), 90);
        assert_eq!(time_ranges(&query, &r.matched_query_frames, 0.1), [(0.0, timestamp(89, 30.0))]);
    }

    #[test]
    fn densely_hashed_videos_count_by_stretches_of_the_scan_interval() {
        let frame = |t: f64| ([t.to_bits(), 0, 0, 0], Some(t));
        let every_frame: Vec<_> = (0..90).map(|n| frame(n as f64 / 30.0)).collect();
        let units = units(&every_frame, 1.0);
        assert_eq!((units[0], units[29], units[30], units[89]), (0, 0, 1, 2));
        assert_eq!(super::units(&every_frame, 0.0), (0..90).collect::<Vec<u32>>());
        // Hashed at the scan's own rate, or with a frame missing its time: frame by frame.
        let per_second: Vec<_> = (0..5).map(|n| frame(n as f64)).collect();
        assert_eq!(super::units(&per_second, 1.0), [0, 1, 2, 3, 4]);
        let untimed = [frame(0.0), ([1, 0, 0, 0], None)];
        assert_eq!(super::units(&untimed, 1.0), [0, 1]);
    }

    #[test]
    fn compare_agrees_with_pair_by_pair_matching() {
        let mut rng = Rng(7);
        let (mut matched, mut total) = (0, 0);
        for round in 0..21 {
            // Round 0 keeps over 2,500 frames a side, where the index probes instead of scanning.
            let size = |rng: &mut Rng| if round == 0 { 4000 } else { rng.below(300) };
            let quality = |rng: &mut Rng| match rng.below(8) {
                0 => rng.below(50) as u8,
                _ => 50 + rng.below(51) as u8,
            };
            let compared: Vec<VpdqFrame> = (0..size(&mut rng))
                .map(|n| frame(&random_hash(&mut rng), quality(&mut rng), n))
                .collect();
            let mut query = Vec::new();
            for n in 0..size(&mut rng) {
                let hash = match rng.below(4) {
                    0 if !compared.is_empty() => {
                        // Planted neighbours: a few nearly equal, most straddling 31 bits.
                        let target = &compared[rng.below(compared.len() as u64) as usize].hash;
                        let bits = match rng.below(8) {
                            0 => rng.below(3),
                            _ => 24 + rng.below(14),
                        };
                        near(&mut rng, target, bits as u32)
                    }
                    1 if !query.is_empty() => {
                        let earlier: &VpdqFrame = &query[rng.below(query.len() as u64) as usize];
                        earlier.hash.clone()
                    }
                    _ => random_hash(&mut rng),
                };
                query.push(frame(&hash, quality(&mut rng), n));
            }
            let distance = [31, 0, 36][round % 3];
            let r = compare(&query, &compared, distance, 50);
            assert_eq!((r.query_pct, r.compared_pct), brute(&query, &compared, distance, 50));
            for &i in &r.matched_query_frames {
                assert!(compared
                    .iter()
                    .any(|c| c.quality >= 50 && c.hash.distance(&query[i].hash) <= distance));
            }
            if distance == 31 {
                (matched, total) = (matched + r.query_matched, total + r.query_total);
            }
        }
        assert!(matched > total / 10 && matched < total / 2, "{matched} of {total}");
    }
}
