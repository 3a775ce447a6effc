//! `mediascreen compare A B`: how close two files are by every algorithm, and whether they
//! match under the scan's rules.
//!
//! Owns the per-algorithm verdicts between two hashed files. The rules are the scan's
//! ([`MatchOptions`]): thresholds, the PDQ quality gate, dihedral variants, the vPDQ
//! percentages, and a picture matched against a video's frames; here both sides are files
//! rather than one a list, and a distance is reported even when it is over the threshold.
//! Must not read or hash files: both arrive hashed.

use std::fmt;

use super::MatchOptions;
use crate::hash::orb1::verify as orb1;
use crate::hash::pdq::Dihedral;
use crate::hash::vpdq::{self, VideoComparison, VpdqFrame};
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
        /// PDQ: both files' qualities; below the gate, a PDQ hash does not match.
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
            Measure::Frame { distance, threshold, timestamp, video_is_a } => {
                let measured = format!("d={distance}/{bits}  threshold {threshold}");
                let video = if *video_is_a { "A" } else { "B" };
                write!(f, "{measured:<28}{verdict}  closest frame of {video} at {timestamp:.3} s")
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
        let measure = match algorithm {
            Algorithm::Pdq => pdq(a, b, threshold, options),
            Algorithm::Vpdq => match (&a.video, &b.video) {
                (Some(a), Some(b)) => Some(Measure::Video(vpdq::compare(
                    &a.frames,
                    &b.frames,
                    threshold,
                    options.video.min_quality,
                ))),
                _ => None,
            },
            Algorithm::Orb1 => match (&a.orb1, &b.orb1) {
                (Some(a), Some(b)) => {
                    let plain = orb1::compare(&a.signature, &b.signature);
                    let mirror = orb1::compare(&a.mirrored, &b.signature);
                    let mirrored = mirror.inliers > plain.inliers;
                    let comparison = if mirrored { mirror } else { plain };
                    Some(Measure::Keypoints { comparison, mirrored })
                }
                _ => None,
            },
            _ => match (a.values.get(&algorithm), b.values.get(&algorithm)) {
                (Some(x), Some(y)) if algorithm.is_digest() => Some(Measure::Equal(x == y)),
                (Some(x), Some(y)) => Some(Measure::Distance {
                    distance: x.distance(y),
                    threshold,
                    orientation: None,
                    qualities: None,
                }),
                _ => None,
            },
        };
        let Some(measure) = measure else { continue };
        let matched = match &measure {
            Measure::Equal(equal) => *equal,
            Measure::Distance { distance, threshold, qualities, .. } => {
                distance <= threshold
                    && qualities.is_none_or(|(x, y)| x.min(y) >= options.pdq_min_quality)
            }
            Measure::Frame { distance, threshold, .. } => distance <= threshold,
            Measure::Video(c) => {
                let video = &options.video;
                vpdq::is_match(c, video.query_pct, video.listed_pct, video.min_frames)
            }
            Measure::Keypoints { comparison, .. } => comparison.is_match(),
        };
        out.push(Comparison { algorithm, measure, matched });
    }
    out
}

/// PDQ between two pictures (A's variants against B as stored), or between a picture and the
/// frames of a video, as a scan finds a listed picture in a video.
fn pdq(a: &FileHashes, b: &FileHashes, threshold: u32, options: &MatchOptions) -> Option<Measure> {
    if let (Some(x), Some(y)) = (&a.pdq, &b.pdq) {
        let target = y.hash();
        let variants: &[Dihedral] =
            if options.rotations { &Dihedral::ALL } else { &[Dihedral::Orig] };
        let (distance, variant) = variants
            .iter()
            .map(|&v| (x.dihedral(v).distance(&target), v))
            .min_by_key(|&(distance, v)| (distance, v))?;
        return Some(Measure::Distance {
            distance,
            threshold,
            // The variant that brings A onto B undoes A's transformation.
            orientation: Some(variant.inverse()),
            qualities: Some((x.quality(), y.quality())),
        });
    }
    let (picture, frames, video_is_a) = match (&a.pdq, &b.video, &a.video, &b.pdq) {
        (Some(picture), Some(video), _, _) => (picture, &video.frames, false),
        (_, _, Some(video), Some(picture)) => (picture, &video.frames, true),
        _ => return None,
    };
    if picture.quality() < options.pdq_min_quality {
        return None;
    }
    let hash = picture.hash();
    let closest: &VpdqFrame = frames
        .iter()
        .filter(|f| f.quality >= options.video.min_quality)
        .min_by_key(|f| f.hash.distance(&hash))?;
    Some(Measure::Frame {
        distance: closest.hash.distance(&hash),
        threshold,
        timestamp: closest.timestamp,
        video_is_a,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::pdq::PdqFeatures;
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
