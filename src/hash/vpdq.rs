//! vPDQ, Meta's video hash: the PDQ hashes of sampled frames, compared as a bag of frames.
//!
//! Owns: which frames the reference hasher samples and the timestamps it gives them
//! ([`frame_step`], [`timestamp`]), its per-frame text format ([`parse_reference`],
//! [`write_reference`]), what a comparison of two videos' frames found ([`VideoComparison`]),
//! the decision whether it is a match ([`is_match`]) and the stretches of a video that matched
//! ([`time_ranges`]).
//!
//! Must not: decode video or hash pixels (the caller runs [`super::pdq`] on the frames it
//! decodes and samples with [`frame_step`]), read files, know about hash lists and their ids,
//! or search: comparing videos' frames is [`crate::index::video`]'s, which imports this
//! module and never the reverse.

use std::fmt::Write as _;

use super::{Algorithm, HashValue};

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

/// How much of two videos' frames match each other, as [`crate::index::video::compare`] finds it.
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
pub(crate) mod tests {
    use super::*;

    use crate::testing::Rng;

    /// A random PDQ hash.
    pub(crate) fn random_hash(rng: &mut Rng) -> HashValue {
        HashValue::from_bytes(
            rng.hash::<4>().iter().flat_map(|w| w.to_be_bytes()).collect::<Vec<_>>(),
        )
    }

    /// A frame of a 30 fps video.
    pub(crate) fn frame(hash: &HashValue, quality: u8, n: u64) -> VpdqFrame {
        VpdqFrame { hash: hash.clone(), quality, frame: n, timestamp: timestamp(n, 30.0) }
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
}
