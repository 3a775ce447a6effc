//! vPDQ, Meta's video hash: the PDQ hashes of sampled frames, compared as a bag of frames.
//!
//! Owns: which frames the reference hasher samples and the timestamps it gives them
//! ([`frame_step`], [`timestamp`]), its per-frame text format ([`parse_reference`],
//! [`write_reference`]), the comparison of two videos' frames ([`compare`]), the decision
//! whether a comparison is a match ([`is_match`]) and the stretches of a video that matched
//! ([`time_ranges`]).
//!
//! Must not: decode video or hash pixels (the caller runs [`super::pdq`] on the frames it
//! decodes and samples with [`frame_step`]), read files, or know about hash lists and their
//! ids: a listed video reaches [`compare`] as plain frames.
//!
//! The two reference comparisons disagree. The C++ `matchTwoHashBrute` keeps repeated hashes
//! and counts distance `< D`; python-threatexchange (`match_VPDQ_hash_brute`, what HMA runs)
//! drops exact repeats and counts `<= D`. [`compare`] follows python-threatexchange: its
//! thresholds are inclusive like every other threshold in mediascreen, and without the dedupe
//! a still scene held for many frames would weigh as many matched frames.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use super::{Algorithm, HashValue};
use crate::index::{group_sorted, words, Mih};

/// Default Hamming distance (inclusive) for two frames to match: python-threatexchange's
/// `VPDQ_DISTANCE_THRESHOLD`, PDQ's usual 31.
pub const DEFAULT_DISTANCE: u32 = Algorithm::Vpdq.default_threshold();

/// Default lowest frame quality that takes part in a comparison: python-threatexchange's
/// `VPDQ_QUALITY_THRESHOLD`. Below it, dark or flat frames match almost anything.
pub const DEFAULT_MIN_QUALITY: u8 = 50;

/// Default percentage, for each side, at which [`is_match`] flags a comparison.
pub const DEFAULT_MATCH_PCT: f64 = 80.0;

/// Default number of distinct matched query frames [`is_match`] requires.
pub const DEFAULT_MIN_FRAMES: usize = 3;

/// One hashed video frame.
#[derive(Clone, Debug, PartialEq)]
pub struct VpdqFrame {
    /// The frame's PDQ hash (32 bytes).
    pub hash: HashValue,
    /// The PDQ quality of the frame, 0–100.
    pub quality: u8,
    /// The frame's number, counted from 0 in decode order.
    pub frame: u64,
    /// The frame's time in seconds, as [`timestamp`] computes it.
    pub timestamp: f64,
}

/// Every how many frames the reference hashes one, when asked for one hash per
/// `seconds_per_hash` of a video playing at `fps`: frame `n` (0-based, decode order) is hashed
/// if and only if `n % frame_step(..) == 0`. Zero seconds means every frame.
pub fn frame_step(seconds_per_hash: f64, fps: f64) -> u64 {
    // `as` truncates like the reference's cast to int (29.97 fps at 1 s gives 29, not 30),
    // and turns NaN and negative products into 0, which then means every frame.
    ((seconds_per_hash * fps) as u64).max(1)
}

/// The time in seconds the reference gives frame `frame` of a video playing at `fps`.
///
/// The reference keeps the frame rate as an `f32` and divides in `f32`. That is visible in its
/// 3-decimal output: at 29.97 fps (30000/1001) about one frame in fourteen prints differently
/// from an `f64` division (frame 75: 2.503, where `f64` gives 2.502), and at 15 fps past about
/// 8192 s `f32` runs out of precision for the third decimal.
pub fn timestamp(frame: u64, fps: f64) -> f64 {
    f64::from(frame as f32 / fps as f32)
}

/// A video's vPDQ hash: the frames sampled from it, and how they were sampled.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VideoHash {
    /// The sampled frames, in frame order.
    pub frames: Vec<VpdqFrame>,
    /// The frame rate the timestamps were computed with; 0 when unknown.
    pub fps: f64,
    /// The sampling interval asked for (0 = every frame).
    pub seconds_per_hash: f64,
    /// The frames between the samples, hashed too where every frame counts on its own (an
    /// animation's, shown for as long as its delay says, however short): matched against
    /// listed pictures, never in a comparison of videos, which the samples alone make.
    /// Empty for a video.
    pub between: Vec<VpdqFrame>,
}

impl VideoHash {
    /// Every hashed frame, the samples and those [`VideoHash::between`] them, in frame order.
    pub fn every_frame(&self) -> std::borrow::Cow<'_, [VpdqFrame]> {
        if self.between.is_empty() {
            return std::borrow::Cow::Borrowed(&self.frames);
        }
        let mut every: Vec<VpdqFrame> = self.frames.iter().chain(&self.between).cloned().collect();
        every.sort_by_key(|frame| frame.frame);
        std::borrow::Cow::Owned(every)
    }

    /// [`VideoHash::time_ranges`] for the frames at indices `matched` of `every` (which is
    /// [`VideoHash::every_frame`]).
    pub fn every_frame_ranges(&self, every: &[VpdqFrame], matched: &[usize]) -> Vec<(f64, f64)> {
        let sampled = if self.between.is_empty() { self.seconds_per_hash } else { 0.0 };
        time_ranges(every, matched, default_gap(sampled, self.fps))
    }

    /// The stretches of this video covered by the frames at indices `matched`, bridging the
    /// gap [`default_gap`] gives for how it was sampled.
    pub fn time_ranges(&self, matched: &[usize]) -> Vec<(f64, f64)> {
        time_ranges(&self.frames, matched, default_gap(self.seconds_per_hash, self.fps))
    }
}

/// Parses the reference hasher's output: one line per frame,
/// `frameNumber,quality,pdqHex,timestampSeconds`. The error names the line at fault.
pub fn parse_reference(text: &str) -> Result<Vec<VpdqFrame>, String> {
    text.lines()
        .enumerate()
        .map(|(i, line)| parse_line(line).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

/// Parses one line of the reference hasher's output (see [`parse_reference`]).
pub fn parse_line(line: &str) -> Result<VpdqFrame, String> {
    let fields: Vec<&str> = line.split(',').collect();
    let [frame, quality, hex, seconds] = fields[..] else {
        return Err(format!("expected 4 comma-separated fields, found {}", fields.len()));
    };
    let frame = frame.parse().map_err(|_| format!("frame number {frame:?} is not a count"))?;
    let quality = quality
        .parse()
        .ok()
        .filter(|q| *q <= 100)
        .ok_or_else(|| format!("quality {quality:?} is not 0 to 100"))?;
    let hash = HashValue::from_hex(Algorithm::Pdq, hex).map_err(|e| e.to_string())?;
    let timestamp = seconds
        .parse()
        .ok()
        .filter(|t: &f64| t.is_finite() && *t >= 0.0)
        .ok_or_else(|| format!("timestamp {seconds:?} is not a time in seconds"))?;
    Ok(VpdqFrame { hash, quality, frame, timestamp })
}

/// Writes frames in the reference hasher's format, byte for byte: one line per frame, each
/// ending in a newline, lower-case hex, the timestamp with 3 decimals.
pub fn write_reference(frames: &[VpdqFrame]) -> String {
    let mut out = String::with_capacity(frames.len() * 80);
    for f in frames {
        writeln!(out, "{},{},{},{:.3}", f.frame, f.quality, f.hash, f.timestamp)
            .expect("writing to a String cannot fail");
    }
    out
}

/// How much of two videos' frames match each other.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoComparison {
    /// Distinct query hashes (of quality high enough) within the distance of some compared
    /// frame.
    pub query_matched: usize,
    /// Distinct query hashes of quality high enough.
    pub query_total: usize,
    /// Distinct compared hashes (of quality high enough) within the distance of some query
    /// frame.
    pub compared_matched: usize,
    /// Distinct compared hashes of quality high enough.
    pub compared_total: usize,
    /// `100 * query_matched / query_total`, or 0 when no query frame takes part.
    pub query_pct: f64,
    /// `100 * compared_matched / compared_total`, or 0 when no compared frame takes part.
    pub compared_pct: f64,
    /// The smallest distance between a matched pair of frames, if any matched.
    pub closest: Option<u32>,
    /// Indices into the query slice, ascending, of every frame whose hash matched. Exact
    /// repeats of a matched hash are listed too, although only the first counts in
    /// `query_matched`, so that a still scene gives one unbroken [`time_ranges`] range.
    pub matched_query_frames: Vec<usize>,
}

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

/// Whether a comparison is a match: at least `query_pct` percent of the query's frames, or at
/// least `compared_pct` percent of the compared video's, matched, and at least `min_frames`
/// distinct query frames did.
///
/// Either side may carry the match because the query may hold the listed video padded out
/// with other footage (the compared side then matches almost whole) or be a clip cut from it
/// (the query side does). python-threatexchange asks for the query side only; that misses the
/// padded case. `min_frames` keeps a video of one or two distinct frames (a still image, or a
/// short clip of one) from matching on the strength of a single picture.
pub fn is_match(c: &VideoComparison, query_pct: f64, compared_pct: f64, min_frames: usize) -> bool {
    (c.query_pct >= query_pct || c.compared_pct >= compared_pct) && c.query_matched >= min_frames
}

/// The gap [`time_ranges`] should bridge for a video sampled at one hash per
/// `seconds_per_hash` and playing at `fps`: two and a half sampling intervals. One missing
/// sample (a frame dropped for low quality, or one just over the distance) does not split a
/// range, two do; the half interval absorbs the `f32` rounding of [`timestamp`].
pub fn default_gap(seconds_per_hash: f64, fps: f64) -> f64 {
    if fps > 0.0 {
        2.5 * frame_step(seconds_per_hash, fps) as f64 / fps
    } else {
        2.5 * seconds_per_hash
    }
}

/// The stretches of `frames` covered by the frames at indices `matched` (as in
/// [`VideoComparison::matched_query_frames`]): `[start, end]` in seconds, in time order, two
/// matched timestamps falling in one stretch when they are at most `gap` seconds apart. A lone
/// matched frame gives a stretch with `start == end`.
pub fn time_ranges(frames: &[VpdqFrame], matched: &[usize], gap: f64) -> Vec<(f64, f64)> {
    let mut times: Vec<f64> = matched.iter().map(|&i| frames[i].timestamp).collect();
    times.sort_by(f64::total_cmp);
    let mut ranges: Vec<(f64, f64)> = Vec::new();
    for t in times {
        match ranges.last_mut() {
            Some((_, end)) if t - *end <= gap => *end = t,
            _ => ranges.push((t, t)),
        }
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::Rng;

    fn random_hash(rng: &mut Rng) -> HashValue {
        HashValue::from_bytes(
            rng.hash::<4>().iter().flat_map(|w| w.to_be_bytes()).collect::<Vec<_>>(),
        )
    }

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
    fn frame(hash: &HashValue, quality: u8, n: u64) -> VpdqFrame {
        VpdqFrame { hash: hash.clone(), quality, frame: n, timestamp: timestamp(n, 30.0) }
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
    fn frame_step_truncates_and_never_drops_below_one() {
        assert_eq!(frame_step(1.0, 30.0), 30);
        assert_eq!(frame_step(1.0, 30000.0 / 1001.0), 29);
        assert_eq!(frame_step(0.0, 30.0), 1);
        assert_eq!(frame_step(1.0, 0.5), 1);
        assert_eq!(frame_step(-1.0, 30.0), 1);
    }

    #[test]
    fn timestamps_divide_in_f32_like_the_reference() {
        let ntsc = 30000.0 / 1001.0;
        assert_eq!(format!("{:.3}", timestamp(75, ntsc)), "2.503");
        assert_eq!(format!("{:.3}", 75.0 / ntsc), "2.502");
        assert_eq!(format!("{:.3}", timestamp(563, 30.0)), "18.767");
    }

    #[test]
    fn reference_lines_are_validated() {
        let hex = "e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c";
        let text = format!("0,100,{hex},0.000\n1,99,{hex},0.033\n");
        let frames = parse_reference(&text).unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!((frames[1].frame, frames[1].quality, frames[1].timestamp), (1, 99, 0.033));
        assert_eq!(write_reference(&frames), text);
        for bad in [
            format!("0,100,{hex}"),
            format!("x,100,{hex},0.000"),
            format!("0,101,{hex},0.000"),
            "0,100,e271,0.000".to_string(),
            format!("0,100,{hex},-1"),
            format!("0,100,{hex},0.000,extra"),
        ] {
            let text = format!("0,100,{hex},0.000\n{bad}\n");
            let err = parse_reference(&text).unwrap_err();
            assert!(err.starts_with("line 2: "), "{bad:?}: {err}");
        }
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
    fn every_frame_merges_the_samples_and_the_frames_between_in_order() {
        let frame = |n: u64| VpdqFrame {
            hash: HashValue::from_hex(Algorithm::Pdq, &format!("{n:064x}")).unwrap(),
            quality: 100,
            frame: n,
            timestamp: n as f64 / 10.0,
        };
        let mut video = VideoHash {
            frames: vec![frame(0), frame(10)],
            fps: 10.0,
            seconds_per_hash: 1.0,
            between: Vec::new(),
        };
        assert!(matches!(video.every_frame(), std::borrow::Cow::Borrowed(_)));
        video.between = vec![frame(1), frame(2), frame(11)];
        let every = video.every_frame();
        assert_eq!(every.iter().map(|f| f.frame).collect::<Vec<_>>(), [0, 1, 2, 10, 11]);
        // Frames hashed one by one: a gap of 2.5 frames, not 2.5 samples, splits a stretch.
        assert_eq!(video.every_frame_ranges(&every, &[1, 2]), [(0.1, 0.2)]);
        assert_eq!(video.every_frame_ranges(&every, &[1, 4]), [(0.1, 0.1), (1.1, 1.1)]);
    }

    #[test]
    fn time_ranges_bridge_one_missing_sample_but_not_two() {
        let mut rng = Rng(6);
        let step = frame_step(1.0, 30.0);
        let frames: Vec<VpdqFrame> =
            (0..12).map(|i| frame(&random_hash(&mut rng), 100, i * step)).collect();
        let gap = default_gap(1.0, 30.0);
        assert_eq!(gap, 2.5);
        // Samples at 0–3 s, 5–6 s (4 s missing), then 9 s (7 s and 8 s missing).
        let matched = [9, 0, 1, 2, 3, 5, 6];
        assert_eq!(time_ranges(&frames, &matched, gap), [(0.0, 6.0), (9.0, 9.0)]);
        assert!(time_ranges(&frames, &[], gap).is_empty());
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
