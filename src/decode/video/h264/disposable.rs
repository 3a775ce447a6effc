//! The samples of an H.264 track that need not be decoded: a frame vPDQ does not sample and
//! no other frame is predicted from (every slice with `nal_ref_idc` 0: x264's non-reference
//! B-frames, 54 of the 120 frames of the HD sample) is counted in its place but never given
//! to the decoder. Decoding is most of vPDQ's cost at one frame a second, and by the standard
//! a picture no other refers to changes nothing in those decoded after it, so the sampled
//! frames' pixels are those of a full decode.
//!
//! Owns predicting each sample's frame number (its rank in presentation order, which the
//! decoder outputs in) from the container's composition times, and reading the NAL headers
//! that make a sample disposable. Must not decode or convert anything.
//!
//! A disposable sample whose slice data is damaged is not decoded either, so the damage goes
//! unnoticed where a full decode reports the video incomplete; the sampled frames are the same.

use re_mp4::Sample;

use super::{nal_units, sample_bytes};

/// Which samples are left out, and where they fall among the frames.
#[derive(Debug, Default)]
pub(super) struct Disposable {
    /// By sample, in decode order: not given to the decoder.
    pub samples: Vec<bool>,
    /// By frame number, in presentation order: not decoded, counted in its place. Empty when
    /// nothing is left out.
    pub frames: Vec<bool>,
}

/// The samples of a track whose frames are not among every `step`-th and that no frame
/// refers to, in `bytes` (the whole file), their NAL units after `length_size`-byte lengths.
pub(super) fn disposable(
    bytes: &[u8],
    samples: &[Sample],
    length_size: usize,
    step: u64,
) -> Disposable {
    // Without composition offsets the container gives no presentation order; a stream that
    // reorders anyway would have its frames numbered wrong, so every frame is decoded.
    let reordered = samples.iter().any(|s| s.composition_timestamp != s.decode_timestamp);
    if step <= 1 || !reordered {
        return Disposable::default();
    }
    let mut by_presentation: Vec<usize> = (0..samples.len()).collect();
    by_presentation.sort_by_key(|&index| (samples[index].composition_timestamp, index));
    let mut left_out =
        Disposable { samples: vec![false; samples.len()], frames: vec![false; samples.len()] };
    for (frame, &index) in (0u64..).zip(&by_presentation) {
        let sample = &samples[index];
        if !frame.is_multiple_of(step)
            && sample_bytes(bytes, sample.offset, sample.size)
                .is_some_and(|data| unreferenced(data, length_size))
        {
            left_out.samples[index] = true;
            left_out.frames[index_of(frame)] = true;
        }
    }
    left_out
}

fn index_of(frame: u64) -> usize {
    usize::try_from(frame).expect("a frame number below a sample count")
}

/// Whether a sample holds a picture no other refers to, and nothing else the decoder keeps:
/// only non-IDR slices with `nal_ref_idc` 0, besides SEI, access unit delimiters and filler.
/// Parameter sets, IDR and data-partitioned slices, and anything unreadable are kept.
fn unreferenced(sample: &[u8], length_size: usize) -> bool {
    let mut slices = 0;
    for nal in nal_units(sample, length_size) {
        match nal.ok().and_then(|nal| nal.first()).map(|header| (header >> 5 & 3, header & 0x1f)) {
            Some((0, 1)) => slices += 1,
            Some((_, 6 | 9 | 12)) => {}
            _ => return false,
        }
    }
    slices > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_slices_no_frame_refers_to_are_disposable() {
        let sample = |nals: &[&[u8]]| -> Vec<u8> {
            nals.iter()
                .flat_map(|nal| (nal.len() as u32).to_be_bytes().into_iter().chain(nal.to_vec()))
                .collect()
        };
        // A non-reference slice, after an access unit delimiter and an SEI.
        assert!(unreferenced(&sample(&[&[0x09, 0xf0], &[0x06, 5], &[0x01, 0x9e]]), 4));
        // A reference slice (nal_ref_idc 2), an IDR slice, a parameter set beside the slice.
        assert!(!unreferenced(&sample(&[&[0x41, 0x9a]]), 4));
        assert!(!unreferenced(&sample(&[&[0x65, 0x88]]), 4));
        assert!(!unreferenced(&sample(&[&[0x68, 0xee], &[0x01, 0x9e]]), 4));
        // No slice at all, a length past the end, an empty NAL unit.
        assert!(!unreferenced(&sample(&[&[0x06, 5]]), 4));
        assert!(!unreferenced(&[0, 0, 0, 9, 0x01], 4));
        assert!(!unreferenced(&sample(&[&[0x01, 0x9e], &[]]), 4));
    }

    #[test]
    fn the_hd_sample_leaves_out_unsampled_non_reference_b_frames() {
        let bytes = crate::testing::fixture("conformance/videos/doorknob-hd-no-bar.mp4");
        let mp4 = re_mp4::Mp4::read_bytes(&bytes).unwrap();
        let (track, avc1) = super::super::h264_track(&mp4).unwrap();
        let length_size = usize::from(avc1.avcc.length_size_minus_one & 0b11) + 1;
        let left_out = disposable(&bytes, &track.samples, length_size, 30);
        let count = |flags: &[bool]| flags.iter().filter(|&&f| f).count();
        assert_eq!(track.samples.len(), 120);
        assert_eq!((count(&left_out.samples), count(&left_out.frames)), (54, 54));
        assert!(left_out.frames.iter().step_by(30).all(|&f| !f), "a sampled frame left out");
        // Every frame wanted, or no presentation order: nothing is left out.
        assert_eq!(count(&disposable(&bytes, &track.samples, length_size, 1).samples), 0);
        let mut in_order = track.samples.clone();
        in_order.iter_mut().for_each(|s| s.composition_timestamp = s.decode_timestamp);
        assert_eq!(count(&disposable(&bytes, &in_order, length_size, 30).samples), 0);
    }
}
