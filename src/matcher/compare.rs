//! `mediascreen compare A B`: how close two files are by every algorithm, and whether they
//! match under the scan's rules.
//!
//! Owns measuring two hashed files against each other by every algorithm. Whether a
//! measurement is a match is decided by the scan's own rules ([`super::rule`]), with A as the
//! scanned file and B as the list entry (B's PDQ quality as `mediascreen hash` records it), so
//! `compare` says MATCH exactly when a scan of A against a list made from B would flag it by
//! that algorithm; an animation A is matched by its picture and by its frames, as a scan
//! matches it. Between a picture and a video, the video plays the scanned file whichever it
//! is: a scan finds a listed picture in a video's frames, never the other way round.
//! Unlike a scan it reports a distance even when it is over the threshold. Must not read or
//! hash files: both arrive hashed.

use std::cmp::Reverse;
use std::fmt;

use super::{rule, MatchOptions};
use crate::hash::orb1::verify as orb1;
use crate::hash::pdq::{Dihedral, PdqFeatures};
use crate::hash::vpdq::{VideoComparison, VideoHash, VpdqFrame};
use crate::hash::{Algorithm, FileHashes};

/// How two files compare by one algorithm.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// What was measured.
    pub measure: Measure,
    /// Whether the scan would call it a match.
    pub matched: bool,
}

/// What one algorithm measured between two files.
#[derive(Clone, Debug, PartialEq)]
pub enum Measure {
    /// Digests: equal or not.
    Equal(bool),
    /// A perceptual hash's Hamming distance.
    Distance {
        /// Differing bits, at the closest orientation.
        distance: u32,
        /// The threshold in force (inclusive).
        threshold: u32,
        /// PDQ: how A relates to B at that distance (`Rot90`: A is B rotated 90°).
        orientation: Option<Dihedral>,
        /// PDQ: A's and B's qualities; a pair matches only if both pass the gate.
        qualities: Option<(u8, u8)>,
    },
    /// A picture against a video's frames (PDQ): the closest frame of quality high enough.
    Frame {
        /// Differing bits.
        distance: u32,
        /// The threshold in force.
        threshold: u32,
        /// When that frame is shown, in seconds.
        timestamp: f64,
        /// Whether the video is A (else B).
        video_is_a: bool,
        /// A's and B's qualities: the frame's and the picture's, in that file order.
        qualities: (u8, u8),
    },
    /// Two videos (vPDQ), A as the scanned one and B as the listed one.
    Video(VideoComparison),
    /// Keypoint signatures (orb1), A (or its mirror image, whichever fits better) against B.
    Keypoints {
        /// What the geometric check found.
        comparison: orb1::Comparison,
        /// Whether A's mirror image fitted better.
        mirrored: bool,
    },
}

impl fmt::Display for Comparison {
    /// One line for a person: `pdq  d=4/256  threshold 31  MATCH  A is B rot90, quality 100/98`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.matched { "MATCH" } else { "no match" };
        let bits = self.algorithm.byte_len() * 8;
        write!(f, "{:<7}", self.algorithm.name())?;
        match &self.measure {
            Measure::Equal(equal) => {
                write!(f, "{:<28}{verdict}", if *equal { "equal" } else { "differ" })
            }
            Measure::Distance { distance, threshold, orientation, qualities } => {
                let measured = format!("d={distance}/{bits}  threshold {threshold}");
                write!(f, "{measured:<28}{verdict}")?;
                if let Some(orientation) = orientation {
                    write!(f, "  A is B {}", orientation.name())?;
                }
                match qualities {
                    Some((a, b)) => write!(f, ", quality {a}/{b}"),
                    None => Ok(()),
                }
            }
            Measure::Frame { distance, threshold, timestamp, video_is_a, qualities: (a, b) } => {
                let measured = format!("d={distance}/{bits}  threshold {threshold}");
                let video = if *video_is_a { "A" } else { "B" };
                write!(f, "{measured:<28}{verdict}  closest frame of {video} at {timestamp:.3} s")?;
                write!(f, ", quality {a}/{b}")
            }
            Measure::Video(c) => {
                let measured = format!("A {:.2} %, B {:.2} %", c.query_pct, c.compared_pct);
                write!(
                    f,
                    "{measured:<28}{verdict}  frames matched: A {}/{}, B {}/{}",
                    c.query_matched, c.query_total, c.compared_matched, c.compared_total
                )
            }
            Measure::Keypoints { comparison: c, mirrored } => {
                let measured = format!("{} inliers of {} good", c.inliers, c.good);
                write!(f, "{measured:<28}{verdict}")?;
                if let Some(t) = &c.transform {
                    write!(f, "  scale {:.2}, rotation {:.1}°", t.scale, t.rotation)?;
                }
                if *mirrored {
                    write!(f, ", A mirrored")?;
                }
                Ok(())
            }
        }
    }
}

/// Every verdict the two files' hashes allow, in [`Algorithm::ALL`] order; algorithms that
/// one of them lacks (a video has no pHash) are left out.
pub fn compare(a: &FileHashes, b: &FileHashes, options: &MatchOptions) -> Vec<Comparison> {
    let mut out = Vec::new();
    for algorithm in Algorithm::ALL {
        let threshold = options.threshold(algorithm);
        let verdict = match algorithm {
            Algorithm::Pdq => pdq(a, b, threshold, options),
            Algorithm::Vpdq => match (&a.video, &b.video) {
                (Some(a), Some(b)) => {
                    let frames = b
                        .frames
                        .iter()
                        .map(|f| (f.hash.clone(), Some(f.quality), Some(f.timestamp)));
                    let index = options.index_videos([frames]);
                    let comparison = options.compare_video(&index, &a.frames, 0);
                    let matched = options.video_matches(&comparison);
                    Some((Measure::Video(comparison), matched))
                }
                _ => None,
            },
            // A scan compares a listed orb1 or orb2 signature with the scanned picture's orb1
            // signatures.
            Algorithm::Orb1 | Algorithm::Orb2 => {
                let listed = algorithm.keypoint_format().and_then(|f| b.listed_signature(f));
                a.orb1.as_ref().zip(listed).map(|(a, b)| {
                    let (comparison, mirrored) = rule::orb1_closest(a, b);
                    let matched = comparison.is_match();
                    (Measure::Keypoints { comparison, mirrored }, matched)
                })
            }
            _ => match (a.values.get(&algorithm), b.values.get(&algorithm)) {
                // B is a file, not a list entry: no size is pinned.
                (Some(x), Some(y)) if algorithm.is_digest() => {
                    Some((Measure::Equal(x == y), x == y))
                }
                (Some(x), Some(y)) => {
                    let distance = x.distance(y);
                    let measure = Measure::Distance {
                        distance,
                        threshold,
                        orientation: None,
                        qualities: None,
                    };
                    Some((measure, options.within(algorithm, distance)))
                }
                _ => None,
            },
        };
        let Some((measure, matched)) = verdict else { continue };
        out.push(Comparison { algorithm, measure, matched });
    }
    out
}

/// PDQ as a scan of A against a list made from B finds it: A's picture through its variants
/// against B's, and A's frames (a video's, or an animation's beside its picture) against
/// B's picture; the matching one of these, else the closer, the pictures on a tie. A
/// picture against a video that has no picture hash is measured against the video's frames
/// whichever file is the video, the frames playing the scanned side.
fn pdq(
    a: &FileHashes,
    b: &FileHashes,
    threshold: u32,
    options: &MatchOptions,
) -> Option<(Measure, bool)> {
    let pictures = match (&a.pdq, &b.pdq) {
        (Some(x), Some(y)) => pictures(x, y, threshold, options),
        _ => None,
    };
    let frames = match (&a.pdq, &a.video, &b.pdq, &b.video) {
        (_, Some(video), Some(picture), _) => frames(picture, video, true, threshold, options),
        (Some(picture), _, None, Some(video)) => frames(picture, video, false, threshold, options),
        _ => None,
    };
    // As the scan keeps a listed hash's closest match, the earlier on a tie.
    [pictures, frames].into_iter().flatten().min_by_key(|(measure, matched)| {
        let distance = match measure {
            Measure::Distance { distance, .. } | Measure::Frame { distance, .. } => *distance,
            _ => u32::MAX,
        };
        (!matched, distance)
    })
}

/// A's picture through its variants against B's as stored.
fn pictures(
    x: &PdqFeatures,
    y: &PdqFeatures,
    threshold: u32,
    options: &MatchOptions,
) -> Option<(Measure, bool)> {
    let target = y.hash();
    let (distance, orientation) = options
        .pdq_variants(x)
        .into_iter()
        .map(|(hash, orientation)| (hash.distance(&target), orientation))
        .min_by_key(|&(distance, _)| distance)?;
    let matched = options.pdq_matches(distance, x.quality(), Some(y.quality()));
    let qualities = Some((x.quality(), y.quality()));
    let measure =
        Measure::Distance { distance, threshold, orientation: Some(orientation), qualities };
    Some((measure, matched))
}

/// A picture against the frames of a video that the PDQ gate lets through
/// ([`MatchOptions::pdq_frames`]): the closest, of equals the better, then the earlier.
fn frames(
    picture: &PdqFeatures,
    video: &VideoHash,
    video_is_a: bool,
    threshold: u32,
    options: &MatchOptions,
) -> Option<(Measure, bool)> {
    // Every frame hashed: for an animation, those between the samples too.
    let every = video.every_frame();
    let hash = picture.hash();
    let closest: &VpdqFrame = (options.pdq_frames(&every).into_iter())
        .map(|(frame_hash, frames)| (frame_hash.distance(&hash), &every[frames[0]], frames[0]))
        .min_by_key(|&(distance, frame, first)| (distance, Reverse(frame.quality), first))
        .map(|(_, frame, _)| frame)?;
    let distance = closest.hash.distance(&hash);
    let matched = options.pdq_matches(distance, closest.quality, Some(picture.quality()));
    let qualities = if video_is_a {
        (closest.quality, picture.quality())
    } else {
        (picture.quality(), closest.quality)
    };
    let measure =
        Measure::Frame { distance, threshold, timestamp: closest.timestamp, video_is_a, qualities };
    Some((measure, matched))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::HashValue;

    /// A smooth picture (PDQ follows low frequencies), different for each seed.
    fn picture(seed: u32, transform: impl Fn(image::RgbImage) -> image::RgbImage) -> FileHashes {
        let s = seed as f32;
        let img = image::RgbImage::from_fn(96, 64, |x, y| {
            let (x, y) = (x as f32 / 9.0, y as f32 / 7.0);
            let v = 128.0
                + 60.0 * (x * 0.7 + s).sin() * (y * (0.5 + s / 3.0)).cos()
                + 50.0 * ((x + y) * 0.3 * s).sin();
            image::Rgb([v as u8; 3])
        });
        let img = transform(img);
        let mut hashes =
            FileHashes { pdq: Some(PdqFeatures::from_image(&img)), ..Default::default() };
        let md5 = HashValue::from_bytes(vec![seed as u8; 16]);
        hashes.values.insert(Algorithm::Md5, md5);
        hashes
    }

    #[test]
    fn a_rotated_copy_matches_by_pdq_and_says_how() {
        let original = picture(1, |i| i);
        let rotated = picture(1, |i| image::imageops::rotate90(&i));
        let options = MatchOptions::default();
        let rows = compare(&rotated, &original, &options);
        let pdq = rows.iter().find(|r| r.algorithm == Algorithm::Pdq).unwrap();
        assert!(pdq.matched, "{pdq:?}");
        let Measure::Distance { orientation, distance, .. } = &pdq.measure else { panic!() };
        assert!(*distance <= 31);
        // `rotate90` turns clockwise: A is B rotated 270° counter-clockwise.
        assert_eq!(*orientation, Some(Dihedral::Rot270));
        let md5 = rows.iter().find(|r| r.algorithm == Algorithm::Md5).unwrap();
        assert_eq!(md5.measure, Measure::Equal(true));

        let unrelated = compare(&picture(2, |i| i), &original, &options);
        assert!(unrelated.iter().all(|r| !r.matched), "{unrelated:?}");
        let no_rotations = MatchOptions { rotations: false, ..MatchOptions::default() };
        let pdq = compare(&rotated, &original, &no_rotations)
            .into_iter()
            .find(|r| r.algorithm == Algorithm::Pdq)
            .unwrap();
        assert!(!pdq.matched);
    }
}
