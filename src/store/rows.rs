//! What one content's hashes look like as rows of the store's `hashes` table, and back.
//!
//! Owns the encoding only (docs/store-format.md): one row a digest or 64-bit hash, one for
//! PDQ (the hashes of its rotations and mirror images kept, so that they can be matched
//! later), one a sampled video frame, one each for the orb1 signature and its mirror. Must
//! not touch the database.

use sha2::Digest;

use crate::hash::orb1::{Features, Signature};
use crate::hash::pdq::PdqFeatures;
use crate::hash::vpdq::{VideoHash, VpdqFrame};
use crate::hash::{Algorithm, FileHashes, HashValue};

/// One row of `hashes` (without the content and setup it belongs to).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Row {
    pub algorithm: String,
    /// `''`; `mirrored` for orb1's mirrored signature; `between` for an animation's frames
    /// between the vPDQ samples.
    pub variant: &'static str,
    pub frame: Option<i64>,
    pub seconds: Option<f64>,
    pub quality: Option<i64>,
    pub value: Vec<u8>,
    /// PDQ: [`PdqFeatures::to_bytes`]; orb1: the signature's bytes.
    pub detail: Option<Vec<u8>>,
}

impl Row {
    fn plain(algorithm: Algorithm, value: &HashValue) -> Row {
        Row {
            algorithm: algorithm.name().to_string(),
            variant: "",
            frame: None,
            seconds: None,
            quality: None,
            value: value.as_bytes().to_vec(),
            detail: None,
        }
    }
}

/// The rows of `hashes`.
pub(super) fn to_rows(hashes: &FileHashes) -> Vec<Row> {
    let mut rows: Vec<Row> = hashes.values.iter().map(|(&a, v)| Row::plain(a, v)).collect();
    if let Some(pdq) = &hashes.pdq {
        rows.push(Row {
            quality: Some(i64::from(pdq.quality())),
            detail: Some(pdq.to_bytes()),
            ..Row::plain(Algorithm::Pdq, &pdq.hash())
        });
    }
    if let Some(video) = &hashes.video {
        let samples = video.frames.iter().map(|f| ("", f));
        for (variant, f) in samples.chain(video.between.iter().map(|f| ("between", f))) {
            rows.push(Row {
                variant,
                frame: Some(f.frame as i64),
                seconds: Some(f.timestamp),
                quality: Some(i64::from(f.quality)),
                ..Row::plain(Algorithm::Vpdq, &f.hash)
            });
        }
    }
    if let Some(orb1) = &hashes.orb1 {
        for (variant, signature) in [("", &orb1.signature), ("mirrored", &orb1.mirrored)] {
            let bytes = signature.to_bytes();
            rows.push(Row {
                variant,
                quality: Some(signature.len() as i64),
                value: sha2::Sha256::digest(&bytes).to_vec(),
                detail: Some(bytes),
                ..Row::plain(Algorithm::Orb1, &HashValue::from_bytes(Vec::new()))
            });
        }
    }
    rows
}

/// The hashes `rows` hold, for a file of `size` bytes; `video` is the vPDQ sampling's frame
/// rate and interval when a video hash was stored (it may have no frames). `Err` names a row
/// this version cannot read.
pub(super) fn from_rows(
    size: u64,
    video: Option<(f64, f64)>,
    rows: Vec<Row>,
) -> Result<FileHashes, String> {
    let mut hashes = FileHashes { size, ..FileHashes::default() };
    hashes.video = video.map(|(fps, seconds_per_hash)| VideoHash {
        fps,
        seconds_per_hash,
        ..VideoHash::default()
    });
    let mut orb1 = (None, None);
    for row in rows {
        let algorithm: Algorithm = row.algorithm.parse().map_err(|_| bad(&row))?;
        match algorithm {
            Algorithm::Pdq => {
                let detail = row.detail.as_deref().unwrap_or_default();
                hashes.pdq = Some(PdqFeatures::from_bytes(detail).ok_or_else(|| bad(&row))?);
            }
            Algorithm::Vpdq => {
                let video = hashes.video.as_mut().ok_or_else(|| bad(&row))?;
                let frame = VpdqFrame {
                    hash: HashValue::from_bytes(row.value.clone()),
                    quality: row.quality.and_then(|q| u8::try_from(q).ok()).unwrap_or(0),
                    frame: row
                        .frame
                        .and_then(|f| u64::try_from(f).ok())
                        .ok_or_else(|| bad(&row))?,
                    timestamp: row.seconds.ok_or_else(|| bad(&row))?,
                };
                match row.variant {
                    "between" => video.between.push(frame),
                    _ => video.frames.push(frame),
                }
            }
            Algorithm::Orb1 => {
                let bytes = row.detail.as_deref().unwrap_or_default();
                let signature = Signature::from_bytes(bytes).map_err(|_| bad(&row))?;
                match row.variant {
                    "mirrored" => orb1.1 = Some(signature),
                    _ => orb1.0 = Some(signature),
                }
            }
            _ => {
                hashes.values.insert(algorithm, HashValue::from_bytes(row.value));
            }
        }
    }
    if let Some(video) = &mut hashes.video {
        video.frames.sort_by_key(|f| f.frame);
        video.between.sort_by_key(|f| f.frame);
    }
    hashes.orb1 = match orb1 {
        (Some(signature), Some(mirrored)) => Some(Features { signature, mirrored }),
        (None, None) => None,
        _ => return Err("an orb1 signature without its mirror".into()),
    };
    Ok(hashes)
}

fn bad(row: &Row) -> String {
    format!("a {} row ({}) this version cannot read", row.algorithm, row.variant)
}

/// The variant names rows are read back with (a row's text from the database).
pub(super) fn variant(text: &str) -> &'static str {
    match text {
        "mirrored" => "mirrored",
        "between" => "between",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picture_and_a_video_round_trip_through_rows() {
        let rgb = image::RgbImage::from_fn(120, 90, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let mut hashes = FileHashes { size: 1234, ..FileHashes::default() };
        hashes.values.insert(Algorithm::Sha256, HashValue::from_bytes(vec![9; 32]));
        hashes.pdq = Some(PdqFeatures::from_image(&rgb));
        hashes.orb1 = Some(Features::from_image(&rgb));
        let frame = |n: u64| VpdqFrame {
            hash: HashValue::from_bytes(vec![n as u8; 32]),
            quality: 80,
            frame: n,
            timestamp: n as f64 / 25.0,
        };
        hashes.video = Some(VideoHash {
            frames: vec![frame(0), frame(25)],
            fps: 25.0,
            seconds_per_hash: 1.0,
            between: vec![frame(3)],
        });
        let video = hashes.video.as_ref().map(|v| (v.fps, v.seconds_per_hash));
        let back = from_rows(1234, video, to_rows(&hashes)).unwrap();
        assert_eq!(back.values, hashes.values);
        let (pdq, again) = (hashes.pdq.as_ref().unwrap(), back.pdq.as_ref().unwrap());
        assert_eq!((again.hash(), again.quality()), (pdq.hash(), pdq.quality()));
        use crate::hash::pdq::Dihedral;
        assert_eq!(again.dihedral(Dihedral::Rot90), pdq.dihedral(Dihedral::Rot90));
        assert_eq!(back.video, hashes.video);
        assert_eq!(back.orb1, hashes.orb1);
    }

    #[test]
    fn a_row_of_an_unknown_algorithm_is_refused() {
        let row = Row {
            algorithm: "pdna".into(),
            ..Row::plain(Algorithm::Md5, &HashValue::from_bytes(vec![0; 16]))
        };
        assert!(from_rows(0, None, vec![row]).is_err());
    }
}
