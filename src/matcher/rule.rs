//! When a scanned hash matches a listed one: the rules that a scan ([`super::Matcher`]) and
//! `mediascreen compare` ([`super::compare`]) both decide by, one function each, so that the
//! two cannot disagree. In `compare`, file A plays the scanned file and file B the list entry.
//!
//! - **Digests** match by equal bytes; an entry that pins a file size (ClamAV) matches only a
//!   file of that size ([`size_fits`]).
//! - **Perceptual hashes** match at a Hamming distance at or under the algorithm's threshold,
//!   inclusive as in the references ([`MatchOptions::within`]).
//! - **PDQ quality**: a pair matches only if the scanned hash's quality is at least
//!   `pdq_min_quality` (`--pdq-min-quality`, default 50) **and** so is the listed hash's, when
//!   its list records one; a listed hash without a quality counts as good
//!   ([`MatchOptions::pdq_quality_passes`], [`MatchOptions::pdq_matches`]). Meta's reference
//!   discards every PDQ hash under 50 (`pdq/README.md`; python-threatexchange's `PdqSignal`
//!   hashes nothing under 50): a flat or tiny picture hashes close to unrelated flat pictures,
//!   whichever side of the pair it is on, so a listed hash of quality 10 is as unreliable as a
//!   scanned one. A list without qualities is trusted because the reference producers apply
//!   that gate when they hash; a quality the list does record is its producer's own
//!   measurement of the listed picture (`mediascreen hash` writes it), and the only one there
//!   is.
//! - **PDQ orientation**: the scanned hash is matched through its 8 rotated and mirrored
//!   variants (only as stored when `rotations` is off), the closest reported, ties going to
//!   the earlier variant of [`Dihedral::ALL`] ([`MatchOptions::pdq_variants`]).
//! - **A listed picture shown in a video**: each sampled frame of the scanned video is a
//!   scanned PDQ hash as stored (vPDQ keeps no DCT to rotate, nor does the reference), under
//!   the PDQ threshold and quality rules above, not the vPDQ ones: the pair is two PDQ hashes
//!   ([`MatchOptions::pdq_frames`]). An animation is matched this way beside its picture.
//! - **vPDQ**: python-threatexchange's comparison (exact repeats dropped, then frames under
//!   `video.min_quality` on either side, a listed frame without a quality kept; frames within
//!   the `vpdq` threshold match), a listed video hashed much more densely than the scan
//!   samples counted by stretches of the sampling interval ([`MatchOptions::index_videos`],
//!   [`MatchOptions::compare_videos`]); a comparison is a match by
//!   [`MatchOptions::video_matches`].
//! - **orb1**: the scanned image as given and mirrored, against the listed signature, the
//!   orientation with more inliers kept ([`orb1_closest`]); a match by
//!   [`verify::Comparison::is_match`].
//!
//! Must not search lists or build reports: callers find the candidates (an index, or the
//! other file) and ask these functions whether each one is a match.

use std::collections::BTreeMap;

use crate::hash::orb1::verify::{self, Comparison};
use crate::hash::orb1::{Features, Signature};
use crate::hash::pdq::{Dihedral, PdqFeatures};
use crate::hash::vpdq::{self, VideoComparison, VpdqFrame};
use crate::hash::{Algorithm, HashValue};
use crate::index::video::{ListedFrame, VideoIndex};

use super::MatchOptions;

impl MatchOptions {
    /// Whether two hashes of `algorithm` `distance` bits apart are close enough to match.
    pub fn within(&self, algorithm: Algorithm, distance: u32) -> bool {
        distance <= self.threshold(algorithm)
    }

    /// Whether a PDQ hash of `quality` may take part in a match: at least
    /// [`MatchOptions::pdq_min_quality`], or `None`, a listed hash whose list records no
    /// quality.
    pub fn pdq_quality_passes(&self, quality: Option<u8>) -> bool {
        quality.is_none_or(|q| q >= self.pdq_min_quality)
    }

    /// The whole PDQ rule for one pair: `distance` within the threshold and both hashes'
    /// qualities passing [`MatchOptions::pdq_quality_passes`].
    pub fn pdq_matches(&self, distance: u32, scanned: u8, listed: Option<u8>) -> bool {
        self.within(Algorithm::Pdq, distance)
            && self.pdq_quality_passes(Some(scanned))
            && self.pdq_quality_passes(listed)
    }

    /// The hashes a scanned PDQ picture is matched through, each with the orientation it
    /// reveals when it matches (how the scanned picture relates to the listed one: the
    /// variant that matched undoes the picture's transformation). Of equally close variants
    /// the first counts.
    pub fn pdq_variants(&self, scanned: &PdqFeatures) -> Vec<(HashValue, Dihedral)> {
        self.pdq_transforms().iter().map(|&v| (scanned.dihedral(v), v.inverse())).collect()
    }

    /// The transformations of a scanned picture whose hashes
    /// [`MatchOptions::pdq_variants`] matches through: every rotation and mirror image, or
    /// none but the picture as it is (`--no-rotations`).
    pub fn pdq_transforms(&self) -> &'static [Dihedral] {
        if self.rotations {
            &Dihedral::ALL
        } else {
            &[Dihedral::Orig]
        }
    }

    /// The frames of a scanned video that may match a listed picture, by distinct hash (a
    /// still scene repeats one hash for many frames): each hash with the indices of the
    /// frames showing it whose quality passes [`MatchOptions::pdq_quality_passes`], in frame
    /// order. The first of them gives the hash its quality. Each is then a scanned PDQ hash
    /// as stored, under [`MatchOptions::pdq_matches`].
    pub fn pdq_frames<'f>(&self, frames: &'f [VpdqFrame]) -> BTreeMap<&'f HashValue, Vec<usize>> {
        let mut frames_of: BTreeMap<&HashValue, Vec<usize>> = BTreeMap::new();
        for (i, frame) in frames.iter().enumerate() {
            if self.pdq_quality_passes(Some(frame.quality)) {
                frames_of.entry(&frame.hash).or_default().push(i);
            }
        }
        frames_of
    }

    /// Indexes listed videos (each its frames in frame order) for
    /// [`MatchOptions::compare_videos`].
    pub fn index_videos<V, F>(&self, videos: V) -> VideoIndex
    where
        V: IntoIterator<Item = F>,
        F: IntoIterator<Item = ListedFrame>,
    {
        VideoIndex::new(videos, self.video.min_quality, self.video.seconds_per_hash)
    }

    /// How a scanned video's frames compare with every indexed video sharing a matching
    /// frame with it, in video order.
    pub fn compare_videos(
        &self,
        index: &VideoIndex,
        scanned: &[VpdqFrame],
    ) -> Vec<(u32, VideoComparison)> {
        index.search(scanned, self.threshold(Algorithm::Vpdq), self.video.min_quality)
    }

    /// [`MatchOptions::compare_videos`] against one indexed video, also when no frame matched.
    pub fn compare_video(
        &self,
        index: &VideoIndex,
        scanned: &[VpdqFrame],
        video: u32,
    ) -> VideoComparison {
        index.search_one(scanned, self.threshold(Algorithm::Vpdq), self.video.min_quality, video)
    }

    /// Whether a scanned video matches a listed one ([`vpdq::is_match`] at these options).
    pub fn video_matches(&self, comparison: &VideoComparison) -> bool {
        let video = &self.video;
        vpdq::is_match(comparison, video.query_pct, video.listed_pct, video.min_frames)
    }
}

/// Whether a file of `size` bytes may match a digest entry that pins the size `listed`:
/// a ClamAV signature is its digest and its size together, and ClamAV reads it that way.
pub fn size_fits(size: u64, listed: Option<u64>) -> bool {
    listed.is_none_or(|listed| listed == size)
}

/// A scanned image's signatures against a listed one: as given and mirrored, the comparison
/// with more inliers (as given on a tie), and whether it was the mirrored one.
pub fn orb1_closest(scanned: &Features, listed: &Signature) -> (Comparison, bool) {
    let plain = verify::compare(&scanned.signature, listed);
    let mirror = verify::compare(&scanned.mirrored, listed);
    orb1_closer(plain, mirror)
}

/// Of a scanned image's comparisons with one listed signature, as given and mirrored, the
/// one [`orb1_closest`] keeps, and whether it is the mirrored one.
pub fn orb1_closer(plain: Comparison, mirror: Comparison) -> (Comparison, bool) {
    if mirror.inliers > plain.inliers {
        (mirror, true)
    } else {
        (plain, false)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::hash::vpdq::VideoHash;
    use crate::hash::FileHashes;
    use crate::hashlist::HashList;
    use crate::matcher::compare::compare;
    use crate::matcher::{Matcher, VideoMatchOptions};
    use crate::testing::Rng;

    /// A smooth 512-pixel picture at `contrast` (1 is full): lower contrast lowers PDQ's
    /// quality while the hash, taken from the sign of low frequencies, barely moves. The
    /// dither keeps faint gradients from collapsing into bands.
    fn picture(contrast: f32) -> PdqFeatures {
        let mut rng = Rng(3);
        let img = image::RgbImage::from_fn(512, 512, |x, y| {
            let (x, y) = (x as f32 * 0.1875 / 9.0, y as f32 * 0.1875 / 7.0);
            let v = 60.0 * (x * 0.7 + 3.0).sin() * (y * 1.5).cos() + 50.0 * ((x + y) * 0.9).sin();
            let dither = rng.below(1000) as f32 / 1000.0;
            image::Rgb([(128.0 + contrast * v + dither) as u8; 3])
        });
        PdqFeatures::from_image(&img)
    }

    fn pdq_file(features: &PdqFeatures) -> FileHashes {
        FileHashes { pdq: Some(features.clone()), ..FileHashes::default() }
    }

    /// A native list of one row per `(algorithm, hash, quality, timestamp)`, all of one id.
    fn list(rows: &[(&str, HashValue, Option<u8>, Option<f64>)]) -> HashList {
        let mut csv = String::from("algorithm,hash,id,label,quality,timestamp\n");
        for (algorithm, hash, quality, timestamp) in rows {
            let quality = quality.map(|q| q.to_string()).unwrap_or_default();
            let timestamp = timestamp.map(|t| format!("{t:.3}")).unwrap_or_default();
            csv += &format!("{algorithm},{hash},listed,,{quality},{timestamp}\n");
        }
        HashList::from_bytes(Path::new("listed.csv"), csv.as_bytes(), &Default::default()).unwrap()
    }

    /// Whether a scan of `scanned` against `list` finds a match by `algorithm`.
    fn scan_matches(
        scanned: &FileHashes,
        list: HashList,
        options: &MatchOptions,
        algorithm: Algorithm,
    ) -> bool {
        let matcher = Matcher::new(vec![list], options.clone()).unwrap();
        matcher.match_hashes(scanned).matches.iter().any(|m| m.algorithm == algorithm)
    }

    /// Whether `compare scanned listed` says MATCH by `algorithm`.
    fn compare_matches(
        scanned: &FileHashes,
        listed: &FileHashes,
        options: &MatchOptions,
        algorithm: Algorithm,
    ) -> bool {
        let rows = compare(scanned, listed, options);
        rows.iter().find(|r| r.algorithm == algorithm).is_some_and(|r| r.matched)
    }

    #[test]
    fn the_pdq_quality_rule_gates_both_sides_and_trusts_a_list_without_quality() {
        let options = MatchOptions::default();
        assert!(options.pdq_matches(31, 50, Some(50)));
        assert!(!options.pdq_matches(32, 100, Some(100)));
        assert!(!options.pdq_matches(0, 49, Some(100)));
        assert!(!options.pdq_matches(0, 100, Some(49)));
        assert!(options.pdq_matches(0, 100, None));
        let open = MatchOptions { pdq_min_quality: 0, ..MatchOptions::default() };
        assert!(open.pdq_matches(0, 0, Some(0)));
    }

    #[test]
    fn scan_and_compare_decide_low_quality_pdq_pairs_alike() {
        let (good, faint) = (picture(1.0), picture(0.2));
        assert!(
            good.quality() >= 50 && faint.quality() < 50,
            "{} {}",
            good.quality(),
            faint.quality()
        );
        let distance = good.hash().distance(&faint.hash());
        assert!(distance <= 10, "{distance}");
        let pictures = [&good, &faint];
        for min_quality in [0, faint.quality(), faint.quality() + 1, 50, 100] {
            let options = MatchOptions { pdq_min_quality: min_quality, ..MatchOptions::default() };
            for scanned in pictures {
                for listed in pictures {
                    let expected =
                        scanned.quality() >= min_quality && listed.quality() >= min_quality;
                    let row = [("pdq", listed.hash(), Some(listed.quality()), None)];
                    let scan =
                        scan_matches(&pdq_file(scanned), list(&row), &options, Algorithm::Pdq);
                    let compared = compare_matches(
                        &pdq_file(scanned),
                        &pdq_file(listed),
                        &options,
                        Algorithm::Pdq,
                    );
                    let case = (min_quality, scanned.quality(), listed.quality());
                    assert_eq!(scan, expected, "scan {case:?}");
                    assert_eq!(compared, expected, "compare {case:?}");
                }
            }
        }
        // The same faint hash listed without its quality counts as good.
        let options = MatchOptions::default();
        let row = [("pdq", faint.hash(), None, None)];
        assert!(scan_matches(&pdq_file(&good), list(&row), &options, Algorithm::Pdq));
        // An entry is judged by its own quality even when a good one carries the same hash.
        let rows =
            [("pdq", faint.hash(), Some(faint.quality()), None), ("pdq", faint.hash(), None, None)];
        let matcher = Matcher::new(vec![list(&rows)], options.clone()).unwrap();
        let found = matcher.match_hashes(&pdq_file(&good));
        assert_eq!(found.matches.len(), 1);
        assert_eq!(found.matches[0].sources.iter().map(|s| s.entry).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn scan_and_compare_decide_a_listed_picture_in_a_video_alike() {
        let (good, faint) = (picture(1.0), picture(0.2));
        let frame = |features: &PdqFeatures, n: u64| VpdqFrame {
            hash: features.hash(),
            quality: features.quality(),
            frame: n,
            timestamp: n as f64,
        };
        let video = |frames: Vec<VpdqFrame>| FileHashes {
            video: Some(VideoHash { frames, fps: 1.0, seconds_per_hash: 1.0, between: Vec::new() }),
            ..FileHashes::default()
        };
        let faint_video = video(vec![frame(&faint, 0), frame(&faint, 1)]);
        let good_video = video(vec![frame(&faint, 0), frame(&good, 1)]);
        // The PDQ gate applies to frames matched against a picture, not the vPDQ one: the
        // pair is two PDQ hashes.
        let video_gates = [0, 50, 100];
        for (min_quality, video_min_quality) in [50, 0].into_iter().zip(video_gates) {
            let options = MatchOptions {
                pdq_min_quality: min_quality,
                video: VideoMatchOptions { min_quality: video_min_quality, ..Default::default() },
                ..MatchOptions::default()
            };
            for scanned in [&faint_video, &good_video] {
                for listed in [&good, &faint] {
                    let expected = listed.quality() >= min_quality
                        && scanned.video.as_ref().unwrap().frames.iter().any(|f| {
                            f.quality >= min_quality && f.hash.distance(&listed.hash()) <= 31
                        });
                    let row = [("pdq", listed.hash(), Some(listed.quality()), None)];
                    let scan = scan_matches(scanned, list(&row), &options, Algorithm::Pdq);
                    let file = pdq_file(listed);
                    let case = (min_quality, video_min_quality, listed.quality());
                    assert_eq!(scan, expected, "scan {case:?}");
                    for compared in [
                        compare_matches(scanned, &file, &options, Algorithm::Pdq),
                        compare_matches(&file, scanned, &options, Algorithm::Pdq),
                    ] {
                        assert_eq!(compared, expected, "compare {case:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn scan_and_compare_match_an_animation_by_its_frames_beside_its_picture() {
        let listed = picture(1.0);
        // An animation whose first frame (its picture) is unrelated to the listed picture
        // and whose second frame shows it.
        let mut rng = Rng(7);
        let noise = image::RgbImage::from_fn(64, 64, |_, _| image::Rgb([rng.below(256) as u8; 3]));
        let first = PdqFeatures::from_image(&noise);
        let options = MatchOptions::default();
        let far = options.pdq_variants(&first).iter().all(|(h, _)| h.distance(&listed.hash()) > 31);
        assert!(far && first.quality() >= 50, "{}", first.quality());
        let frame = |features: &PdqFeatures, n: u64| VpdqFrame {
            hash: features.hash(),
            quality: features.quality(),
            frame: n,
            timestamp: n as f64,
        };
        let frames = vec![frame(&first, 0), frame(&listed, 1)];
        let animation = FileHashes {
            pdq: Some(first),
            video: Some(VideoHash { frames, fps: 1.0, seconds_per_hash: 1.0, between: Vec::new() }),
            ..FileHashes::default()
        };
        let row = [("pdq", listed.hash(), Some(listed.quality()), None)];
        assert!(scan_matches(&animation, list(&row), &options, Algorithm::Pdq));
        assert!(compare_matches(&animation, &pdq_file(&listed), &options, Algorithm::Pdq));
    }

    #[test]
    fn scan_and_compare_decide_video_pairs_alike() {
        let mut rng = Rng(15);
        let mut random = || {
            let bytes: Vec<u8> = rng.hash::<4>().iter().flat_map(|w| w.to_be_bytes()).collect();
            HashValue::from_bytes(bytes)
        };
        let listed: Vec<VpdqFrame> = (0..10)
            .map(|n| VpdqFrame {
                hash: random(),
                quality: if n % 3 == 0 { 40 } else { 90 },
                frame: n,
                timestamp: n as f64,
            })
            .collect();
        let rows: Vec<_> = listed
            .iter()
            .map(|f| ("vpdq", f.hash.clone(), Some(f.quality), Some(f.timestamp)))
            .collect();
        let listed_file = FileHashes {
            video: Some(VideoHash {
                frames: listed.clone(),
                fps: 1.0,
                seconds_per_hash: 1.0,
                between: Vec::new(),
            }),
            ..FileHashes::default()
        };
        // Clips of the listed video of every length, padded with unrelated frames.
        for length in 0..=listed.len() {
            for padding in [0, 5, 20] {
                let mut frames: Vec<VpdqFrame> = listed[..length].to_vec();
                frames.extend((0..padding).map(|_| VpdqFrame {
                    hash: random(),
                    quality: 90,
                    frame: 0,
                    timestamp: 0.0,
                }));
                for (n, frame) in frames.iter_mut().enumerate() {
                    (frame.frame, frame.timestamp) = (n as u64, n as f64);
                }
                let scanned = FileHashes {
                    video: Some(VideoHash {
                        frames,
                        fps: 1.0,
                        seconds_per_hash: 1.0,
                        between: Vec::new(),
                    }),
                    ..FileHashes::default()
                };
                for min_quality in [0, 50] {
                    let options = MatchOptions {
                        video: VideoMatchOptions { min_quality, ..Default::default() },
                        ..MatchOptions::default()
                    };
                    let scan = scan_matches(&scanned, list(&rows), &options, Algorithm::Vpdq);
                    let compared =
                        compare_matches(&scanned, &listed_file, &options, Algorithm::Vpdq);
                    assert_eq!(scan, compared, "{length} frames, {padding} padding, {min_quality}");
                }
            }
        }
    }
}
