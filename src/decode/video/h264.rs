//! In-process decoding of H.264 video held in MP4/MOV containers.
//!
//! Owns demuxing the first H.264 track, rewriting its samples from the container's
//! length-prefixed form into the Annex-B stream the decoder expects, decoding the frames in
//! presentation order (all but the `disposable` ones, which are only counted) and converting
//! the sampled ones to RGB8 the way the vPDQ reference does (BT.601, limited range). Must not
//! hash, resize or touch the scan pipeline: the caller chooses the sampling step and hashes
//! what it is given.

mod disposable;

use std::panic::{catch_unwind, AssertUnwindSafe};

use image::RgbImage;
use openh264::decoder::{DecodedYUV, Decoder, DecoderConfig, Flush};
use openh264::formats::YUVSource;
use openh264::OpenH264API;
use re_mp4::{Avc1Box, Mp4, StsdBoxContent, Track, TrackKind};

use super::{short_of_declared, Decoded, Step, VideoInfo, VideoLimits};
use crate::decode::{panic_reason, room_for_decoder};
use crate::error::{FileError, FileErrorKind};

/// Start code that separates NAL units in an Annex-B stream.
const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// Decodes the first H.264 video track of an MP4/MOV held in memory.
///
/// Frames are numbered from 0 in presentation order, the order vPDQ counts them in. Only
/// every `step(fps)`-th is converted to RGB and passed to `on_frame`, since conversion is a
/// large share of the cost, and frames neither sampled nor referred to are not decoded.
///
/// `Err` means nothing could be decoded: not MP4/MOV, no H.264 video track, or a container
/// too damaged to read. A stream that breaks, runs into a limit or makes a dependency panic
/// part way gives `Ok` with [`Decoded::incomplete`] set, after the frames before the break.
pub fn decode_h264_mp4(
    bytes: &[u8],
    limits: &VideoLimits,
    step: Step<'_>,
    on_frame: &mut dyn FnMut(u64, &RgbImage),
) -> Result<Decoded, FileError> {
    if let Some((at, what)) = unreadable_nested_box(bytes) {
        // re_mp4 would loop forever on it, or allocate what the box claims.
        return Err(FileError::corrupt(format!(
            "not a readable MP4/MOV: the box at byte {at} {what}"
        )));
    }
    let read = |bytes: &[u8]| {
        catch_unwind(AssertUnwindSafe(|| Mp4::read_bytes(bytes)))
            .map_err(|panic| panic_reason(&*panic))?
            .map_err(|e| {
                FileError::corrupt(format!("not a readable MP4/MOV (corrupt or truncated?): {e}"))
            })
    };
    // A file cut off inside its media data (the sample index in front, as chat apps and
    // `+faststart` write it) still has every sample before the cut: read it as if the data
    // box ended where the file does, and the samples past the end stop decoding there.
    let mp4 = read(bytes).or_else(|error| {
        clamp_last_box(bytes)
            .ok_or(error.clone())
            .and_then(|clamped| read(&clamped).map_err(|_| error))
    })?;
    let (track, avc1) = h264_track(&mp4)?;
    // openh264 allocates its frames by the parameter sets' picture size, which the container
    // need not agree with: that size must be within the limits before anything is decoded,
    // and the decoder's frames wait for room as pictures do.
    let (width, height) = avc1
        .avcc
        .sequence_parameter_sets
        .iter()
        .filter_map(|sps| sps_dimensions(&sps.bytes))
        .reduce(|(w, h), (sw, sh)| (w.max(sw), h.max(sh)))
        .unwrap_or((track.width.into(), track.height.into()));
    limits.image.check_pixels(width, height)?;
    let pixels = u64::from(width) * u64::from(height);
    let _room = room_for_decoder(pixels * DECODER_BYTES_PER_PIXEL, &limits.image, || {
        format!("a {width}x{height} H.264 video")
    })?;
    let duration_s =
        if track.timescale == 0 { 0.0 } else { track.duration as f64 / track.timescale as f64 };
    let fps = average_frame_rate(track, &mp4);
    let mut info = VideoInfo {
        width: track.width.into(),
        height: track.height.into(),
        fps,
        duration_s,
        frames: 0,
    };
    let mut sink = FrameSink {
        next: 0,
        left_out: Vec::new(),
        dimensions: None,
        rgb: RgbImage::new(0, 0),
        step: step(fps).max(1),
        last: limits.last_frame(fps),
        on_frame,
    };
    // A hostile file must cost one error, not the whole scan, even if a dependency panics.
    let incomplete =
        catch_unwind(AssertUnwindSafe(|| decode(bytes, track, avc1, limits, pixels, &mut sink)))
            .unwrap_or_else(|panic| Err(panic_reason(&*panic)))
            .err()
            .or_else(|| {
                // Every sample decoded without an error, yet pictures may not have come out
                // of them (openh264 passes over what it cannot decode).
                let declared = (track.samples.len() as u64).min(sink.last.saturating_add(1));
                short_of_declared(sink.next, declared, true)
            });
    if let Some((width, height)) = sink.dimensions {
        (info.width, info.height) = (width, height);
    }
    info.frames = sink.next;
    Ok(Decoded { info, incomplete })
}

/// What decoding H.264 takes a pixel: openh264 keeps up to 16 reference frames and a few
/// more of 1.5 bytes a pixel (4K took 23 bytes a pixel), and one frame is converted to RGB.
const DECODER_BYTES_PER_PIXEL: u64 = 30;

/// Decodes the samples of `track`, whose parameter sets allow pictures of up to `pixels`.
fn decode(
    bytes: &[u8],
    track: &Track,
    avc1: &Avc1Box,
    limits: &VideoLimits,
    pixels: u64,
    sink: &mut FrameSink<'_>,
) -> Result<(), FileError> {
    let deadline = limits.deadline();
    let config = DecoderConfig::new().flush_after_decode(Flush::NoFlush);
    let mut decoder = Decoder::with_api_config(OpenH264API::from_source(), config)
        .map_err(|e| FileError::io(format!("cannot start the H.264 decoder: {e}")))?;

    let avcc = &avc1.avcc;
    let length_size = usize::from(avcc.length_size_minus_one & 0b11) + 1;
    // MP4 keeps the parameter sets out of band; a decoder that meets an IDR without them
    // cannot decode it, so every sync sample carries them in front.
    let parameter_sets: Vec<&[u8]> = avcc
        .sequence_parameter_sets
        .iter()
        .chain(&avcc.picture_parameter_sets)
        .map(|nal| &nal.bytes[..])
        .collect();
    let left_out = disposable::disposable(bytes, &track.samples, length_size, sink.step);
    sink.left_out = left_out.frames;
    let mut packet = Vec::new();
    for (index, sample) in track.samples.iter().enumerate() {
        if sink.next > sink.last {
            return Err(limits.too_long(sink.next));
        }
        deadline.check(sink.next)?;
        if left_out.samples.get(index) == Some(&true) {
            continue;
        }
        let data = sample_bytes(bytes, sample.offset, sample.size).ok_or_else(|| {
            FileError::corrupt(format!("sample {index} lies outside the file (truncated?)"))
        })?;
        if let Some((width, height)) = larger_picture(data, length_size, pixels) {
            return Err(FileError::corrupt(format!(
                "sample {index}: a parameter set in the stream makes the picture {width}x{height}, \
                 larger than its header said: not decoded"
            )));
        }
        packet.clear();
        let prefix = if sample.is_sync { &parameter_sets[..] } else { &[] };
        to_annex_b(data, length_size, prefix, &mut packet)
            .map_err(|e| FileError::corrupt(format!("sample {index}: {e}")))?;
        let decoded = decoder.decode(&packet).map_err(|e| {
            FileError::corrupt(format!("H.264 decoding failed at sample {index}: {e}"))
        })?;
        if let Some(picture) = decoded {
            sink.push(&picture);
        }
    }
    // B-frames make the decoder hold pictures back for reordering; without draining them the
    // last few frames of every such file would silently go missing.
    let remaining = decoder
        .flush_remaining()
        .map_err(|e| FileError::corrupt(format!("H.264 decoding failed at end of stream: {e}")))?;
    for picture in &remaining {
        sink.push(picture);
    }
    sink.count_left_out();
    Ok(())
}

/// The picture size of a sequence parameter set among the NAL units of `sample` (each after
/// a `length_size`-byte length) that is more than `pixels`, if one is.
fn larger_picture(sample: &[u8], length_size: usize, pixels: u64) -> Option<(u32, u32)> {
    nal_units(sample, length_size)
        .map_while(Result::ok)
        .filter(|nal| nal.first().is_some_and(|header| header & 0x1f == 7))
        .filter_map(sps_dimensions)
        .find(|&(w, h)| u64::from(w) * u64::from(h) > pixels)
}

/// The NAL units of `sample`, each preceded by a big-endian length of `length_size` bytes;
/// an error for a length that is cut short or overruns the sample, and nothing after it.
fn nal_units(sample: &[u8], length_size: usize) -> impl Iterator<Item = Result<&[u8], String>> {
    let mut rest = Some(sample);
    std::iter::from_fn(move || {
        let sample = rest.take().filter(|sample| !sample.is_empty())?;
        let Some((prefix, tail)) = sample.split_at_checked(length_size) else {
            return Some(Err("NAL unit length cut short".to_string()));
        };
        let length = prefix.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        let Some((nal, tail)) = tail.split_at_checked(length) else {
            return Some(Err(format!("NAL unit of {length} bytes overruns its sample")));
        };
        rest = Some(tail);
        Some(Ok(nal))
    })
}

/// The picture size an H.264 sequence parameter set declares (the NAL unit, header byte
/// included), after cropping: the decoder allocates it rounded up to whole macroblocks.
/// `None` if it cannot be read.
fn sps_dimensions(nal: &[u8]) -> Option<(u32, u32)> {
    // The payload without its emulation prevention bytes (00 00 03 stands for 00 00).
    let mut payload = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &byte in nal.get(1..)? {
        if zeros >= 2 && byte == 3 {
            zeros = 0;
            continue;
        }
        zeros = if byte == 0 { zeros + 1 } else { 0 };
        payload.push(byte);
    }
    let mut bits = Bits { bytes: &payload, at: 0 };
    let profile = bits.read(8)?;
    bits.read(16)?; // constraint flags, level
    bits.exp_golomb()?; // seq_parameter_set_id
    let mut chroma_format = 1; // 4:2:0 unless said otherwise
    if matches!(profile, 100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135) {
        chroma_format = bits.exp_golomb()?;
        if chroma_format == 3 {
            bits.read(1)?; // separate_colour_plane_flag
        }
        bits.exp_golomb()?; // bit_depth_luma_minus8
        bits.exp_golomb()?; // bit_depth_chroma_minus8
        bits.read(1)?; // qpprime_y_zero_transform_bypass_flag
        if bits.read(1)? == 1 {
            for list in 0..if chroma_format == 3 { 12 } else { 8 } {
                if bits.read(1)? == 1 {
                    // A scaling list: deltas until one makes the next scale 0.
                    let (mut last, mut next) = (8i64, 8i64);
                    for _ in 0..if list < 6 { 16 } else { 64 } {
                        if next != 0 {
                            next = (last + bits.signed_exp_golomb()?).rem_euclid(256);
                        }
                        last = if next == 0 { last } else { next };
                    }
                }
            }
        }
    }
    bits.exp_golomb()?; // log2_max_frame_num_minus4
    match bits.exp_golomb()? {
        0 => {
            bits.exp_golomb()?; // log2_max_pic_order_cnt_lsb_minus4
        }
        1 => {
            bits.read(1)?; // delta_pic_order_always_zero_flag
            bits.signed_exp_golomb()?; // offset_for_non_ref_pic
            bits.signed_exp_golomb()?; // offset_for_top_to_bottom_field
            for _ in 0..bits.exp_golomb()?.min(256) {
                bits.signed_exp_golomb()?;
            }
        }
        _ => {}
    }
    bits.exp_golomb()?; // max_num_ref_frames
    bits.read(1)?; // gaps_in_frame_num_value_allowed_flag
    let width = (bits.exp_golomb()? + 1).checked_mul(16)?;
    let map_units = bits.exp_golomb()? + 1;
    let fields = 2 - bits.read(1)?; // 1 when frame_mbs_only_flag
    let height = map_units.checked_mul(16 * fields)?;
    if fields == 2 {
        bits.read(1)?; // mb_adaptive_frame_field_flag
    }
    bits.read(1)?; // direct_8x8_inference_flag
    let (mut crop_x, mut crop_y) = (0, 0);
    if bits.read(1)? == 1 {
        // In chroma samples: two luma samples each way in 4:2:0, across in 4:2:2.
        let unit_x = if matches!(chroma_format, 1 | 2) { 2 } else { 1 };
        let unit_y = if chroma_format == 1 { 2 } else { 1 } * fields;
        crop_x = (bits.exp_golomb()? + bits.exp_golomb()?).saturating_mul(unit_x);
        crop_y = (bits.exp_golomb()? + bits.exp_golomb()?).saturating_mul(unit_y);
    }
    let (width, height) = (width.checked_sub(crop_x)?, height.checked_sub(crop_y)?);
    Some((u32::try_from(width).ok()?, u32::try_from(height).ok()?))
}

/// Bits read from the most significant down, as H.264 writes them.
struct Bits<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Bits<'_> {
    fn read(&mut self, count: u32) -> Option<u64> {
        let mut value = 0u64;
        for _ in 0..count {
            let byte = self.bytes.get(self.at / 8)?;
            value = value << 1 | u64::from(byte >> (7 - self.at % 8) & 1);
            self.at += 1;
        }
        Some(value)
    }

    /// An unsigned Exp-Golomb code, `ue(v)`.
    fn exp_golomb(&mut self) -> Option<u64> {
        let mut zeros = 0;
        while self.read(1)? == 0 {
            zeros += 1;
            if zeros > 32 {
                return None;
            }
        }
        Some((1u64 << zeros) - 1 + self.read(zeros)?)
    }

    /// A signed Exp-Golomb code, `se(v)`.
    fn signed_exp_golomb(&mut self) -> Option<i64> {
        let code = i64::try_from(self.exp_golomb()?).ok()?;
        Some(if code % 2 == 1 { (code + 1) / 2 } else { -(code / 2) })
    }
}

/// The frame rate ffmpeg reports as `avg_frame_rate` for an MP4 track, which the vPDQ
/// reference divides frame numbers by: samples per second of the sample-to-time table's total
/// (`mov.c`), not of the media header's duration, which counts an encoder's priming delay
/// too (x264 in MP4 gives 29.8 fps for a 30 fps stream that way, and every timestamp and
/// sampling step drifts).
fn average_frame_rate(track: &Track, mp4: &Mp4) -> f64 {
    let (frames, ticks) = track.trak(mp4).mdia.minf.stbl.stts.entries.iter().fold(
        (0u64, 0u64),
        |(frames, ticks), run| {
            let count = u64::from(run.sample_count);
            (frames + count, ticks + count * u64::from(run.sample_delta))
        },
    );
    if ticks == 0 {
        return 0.0;
    }
    (frames as f64 * track.timescale as f64) / ticks as f64
}

/// The first video track coded as H.264, with its decoder configuration.
fn h264_track(mp4: &Mp4) -> Result<(&Track, &Avc1Box), FileError> {
    let mut other_codec = None;
    for track in mp4.tracks().values().filter(|t| t.kind == Some(TrackKind::Video)) {
        match &track.trak(mp4).mdia.minf.stbl.stsd.contents {
            StsdBoxContent::Avc1(avc1) => return Ok((track, avc1)),
            _ => other_codec = other_codec.or_else(|| Some(track.codec_string(mp4))),
        }
    }
    match other_codec {
        // What ffmpeg decodes.
        Some(codec) => Err(FileError::new(
            FileErrorKind::NeedsTool { tool: "ffmpeg" },
            format!(
                "video is not H.264 (codec {})",
                codec.unwrap_or_else(|| "unknown".to_string())
            ),
        )),
        None => Err(FileError::corrupt("no video track")),
    }
}

/// A copy of `bytes` whose last top-level box is shortened to end with the file, if that box
/// claims to run past the end (a truncated file); `None` if no box does.
fn clamp_last_box(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut at = 0usize;
    while at + 8 <= bytes.len() {
        let size = u64::from(u32::from_be_bytes(bytes[at..at + 4].try_into().ok()?));
        let (size, large) = match size {
            0 => return None, // runs to the end by definition
            1 => (u64::from_be_bytes(bytes.get(at + 8..at + 16)?.try_into().ok()?), true),
            size => (size, false),
        };
        let end = (at as u64).checked_add(size)?;
        if end <= bytes.len() as u64 {
            if size < 8 {
                return None;
            }
            at = end as usize;
            continue;
        }
        let mut clamped = bytes.to_vec();
        let rest = (bytes.len() - at) as u64;
        if large {
            clamped[at + 8..at + 16].copy_from_slice(&rest.to_be_bytes());
        } else {
            clamped[at..at + 4].copy_from_slice(&u32::try_from(rest).ok()?.to_be_bytes());
        }
        return Some(clamped);
    }
    None
}

/// Where a box nested in `moov` or `moof` has a size re_mp4 (0.5) cannot be trusted with, and
/// what is wrong with it, if one has:
///
/// - size 0: re_mp4 steps from a child box to the next by the child's size, so it would read
///   the same header forever (a fuzzed file hung the scan that way); only the top level may
///   end in a box of size 0 ("to the end of the file"), and re_mp4 stops there;
/// - past the end of the box that holds it (or of the file): re_mp4 allocates some boxes'
///   contents by their declared size before reading them (a fuzzed `meta` child asked for
///   845 MB; a 64-bit size can ask for more than any allocator gives, which aborts);
/// - smaller than its header, which no well-formed file has either.
///
/// Walks the boxes re_mp4 walks: every container box it reads child by child, from where it
/// starts reading them.
fn unreadable_nested_box(bytes: &[u8]) -> Option<(usize, &'static str)> {
    let mut at = 0;
    while let Some(header) = box_header(bytes, at) {
        if header.size == 0 {
            return None;
        }
        if matches!(&header.kind, b"moov" | b"moof") {
            let end = at.saturating_add(header.size).min(bytes.len());
            if let Some(found) = unreadable_child(bytes, at + header.header_len, end) {
                return Some(found);
            }
        }
        at = at.checked_add(header.size)?;
    }
    None
}

/// Why a sample table box in `bytes[body..end]` (after its header) cannot be what it says, if
/// it cannot: re_mp4 reserves room for as many entries as a table declares before reading
/// them, so a count of four billion in a few bytes would exhaust memory.
fn table_overrun(bytes: &[u8], kind: &[u8; 4], body: usize, end: usize) -> Option<&'static str> {
    let word = |at: usize| -> Option<usize> {
        let bytes: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(u32::from_be_bytes(bytes) as usize)
    };
    // After the version and flags: the entry count, then the entries.
    let (count, entry_len, entries) = match kind {
        b"stts" | b"ctts" | b"co64" => (word(body + 4)?, 8, body + 8),
        b"stsc" => (word(body + 4)?, 12, body + 8),
        b"stco" | b"stss" => (word(body + 4)?, 4, body + 8),
        b"stsz" => {
            let (size, count) = (word(body + 4)?, word(body + 8)?);
            if size != 0 {
                // Samples of one size have no table: each still takes a byte of the file.
                return (count > bytes.len())
                    .then_some("declares more samples than the file holds");
            }
            (count, 4, body + 12)
        }
        _ => return None,
    };
    (count.saturating_mul(entry_len) > end.saturating_sub(entries))
        .then_some("declares more table entries than it holds")
}

/// [`unreadable_nested_box`] for the children in `bytes[at..end]`, and theirs.
fn unreadable_child(bytes: &[u8], mut at: usize, end: usize) -> Option<(usize, &'static str)> {
    while at < end {
        let Some(header) = box_header(bytes, at) else {
            return Some((at, "is cut short"));
        };
        if header.size == 0 {
            return Some((at, "has size 0"));
        }
        if header.size < header.header_len {
            return Some((at, "is smaller than its header"));
        }
        let box_end = at.saturating_add(header.size);
        if box_end > end {
            return Some((at, "runs past the box that holds it"));
        }
        let body = at + header.header_len;
        if let Some(reason) = table_overrun(bytes, &header.kind, body, box_end) {
            return Some((at, reason));
        }
        // Where re_mp4 starts reading a container's children: after a full box's version and
        // flags (`meta`, when present), after the entry count of a sample description or data
        // reference (`stsd`, `dref`), after a sample entry's fixed fields (`avc1`: 78 bytes,
        // `mp4a`: 28, 16 more in version 1).
        let children = match &header.kind {
            b"moov" | b"trak" | b"mdia" | b"minf" | b"stbl" | b"dinf" | b"mvex" | b"moof"
            | b"traf" | b"udta" | b"ilst" | b"wave" => Some(body),
            b"meta" => match bytes.get(body..body + 8) {
                Some([0, 0, 0, 0, ..]) => Some(body + 4),
                Some([.., b'h', b'd', b'l', b'r']) => Some(body),
                _ => None,
            },
            // re_mp4 reads as many data references as the count says, stepping back on one of
            // size 0: four billion steps in place.
            b"stsd" | b"dref" => Some(body + 8),
            b"avc1" | b"avc3" => Some(body + 78),
            b"mp4a" => match bytes.get(body + 8..body + 10) {
                Some([0, 1]) => Some(body + 44),
                Some(_) => Some(body + 28),
                None => None,
            },
            _ => None,
        };
        if let Some(found) = children.and_then(|from| unreadable_child(bytes, from, box_end)) {
            return Some(found);
        }
        at = box_end;
    }
    None
}

/// A box header as re_mp4 reads it.
struct BoxHeader {
    kind: [u8; 4],
    /// The whole box's size, header included; 0 for "to the end".
    size: usize,
    header_len: usize,
}

/// The box header at `at`, if the bytes hold one.
fn box_header(bytes: &[u8], at: usize) -> Option<BoxHeader> {
    let head = bytes.get(at..at.checked_add(8)?)?;
    let kind = head[4..8].try_into().ok()?;
    let size = u32::from_be_bytes(head[..4].try_into().ok()?);
    if size != 1 {
        return Some(BoxHeader { kind, size: size as usize, header_len: 8 });
    }
    let large = u64::from_be_bytes(bytes.get(at + 8..at.checked_add(16)?)?.try_into().ok()?);
    let size = usize::try_from(large).unwrap_or(usize::MAX);
    Some(BoxHeader { kind, size, header_len: 16 })
}

/// The bytes of one sample, or `None` if the sample table points past the end of the file.
fn sample_bytes(bytes: &[u8], offset: u64, size: u64) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(usize::try_from(size).ok()?)?;
    bytes.get(start..end)
}

/// Appends `sample`, a sequence of NAL units each preceded by a big-endian length of
/// `length_size` bytes, to `out` as start-code separated NAL units, after `parameter_sets`.
fn to_annex_b(
    sample: &[u8],
    length_size: usize,
    parameter_sets: &[&[u8]],
    out: &mut Vec<u8>,
) -> Result<(), String> {
    for nal in parameter_sets {
        out.extend_from_slice(&START_CODE);
        out.extend_from_slice(nal);
    }
    for nal in nal_units(sample, length_size) {
        out.extend_from_slice(&START_CODE);
        out.extend_from_slice(nal?);
    }
    Ok(())
}

/// Numbers decoded pictures and converts the sampled ones, reusing one RGB buffer.
struct FrameSink<'a> {
    next: u64,
    /// By frame number: not decoded, but numbered as if it had been (see [`disposable`]).
    left_out: Vec<bool>,
    dimensions: Option<(u32, u32)>,
    rgb: RgbImage,
    step: u64,
    /// The last frame inside `--max-video-seconds`.
    last: u64,
    on_frame: &'a mut dyn FnMut(u64, &RgbImage),
}

impl FrameSink<'_> {
    fn push(&mut self, picture: &DecodedYUV<'_>) {
        self.count_left_out();
        let frame = self.next;
        self.next += 1;
        let (width, height) = picture.dimensions();
        let (width, height) = (width as u32, height as u32);
        self.dimensions.get_or_insert((width, height));
        if !frame.is_multiple_of(self.step) || frame > self.last {
            return;
        }
        if self.rgb.dimensions() != (width, height) {
            self.rgb = RgbImage::new(width, height);
        }
        // openh264's converter is BT.601 limited range, the same matrix swscale applies to
        // untagged SD and HD H.264, so hashes line up with the reference's.
        picture.write_rgb8(&mut self.rgb);
        (self.on_frame)(frame, &self.rgb);
    }

    /// Counts the frames left out from the next one on, up to one that is decoded.
    fn count_left_out(&mut self) {
        while usize::try_from(self.next).is_ok_and(|n| self.left_out.get(n) == Some(&true)) {
            self.next += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_prefixes_become_start_codes_after_the_parameter_sets() {
        let sample = [0, 0, 0, 2, 0x65, 9, 0, 0, 0, 1, 0x06];
        let mut out = Vec::new();
        to_annex_b(&sample, 4, &[&[0x67, 1], &[0x68, 2]], &mut out).unwrap();
        assert_eq!(
            out,
            [0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2, 0, 0, 0, 1, 0x65, 9, 0, 0, 0, 1, 0x06]
        );
        out.clear();
        to_annex_b(&[0, 1, 0x41], 2, &[], &mut out).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 0x41]);
    }

    #[test]
    fn a_box_cut_off_by_the_end_of_the_file_is_clamped_to_it() {
        let mut file = [0, 0, 0, 12, b'f', b't', b'y', b'p', 1, 2, 3, 4].to_vec();
        file.extend_from_slice(&[0, 0, 1, 0, b'm', b'd', b'a', b't', 9, 9]);
        let clamped = clamp_last_box(&file).unwrap();
        assert_eq!(&clamped[12..16], &[0, 0, 0, 10]);
        assert_eq!((&clamped[..12], &clamped[16..]), (&file[..12], &file[16..]));
        // Whole files, and boxes that cannot be walked, are left alone.
        assert_eq!(clamp_last_box(&clamped), None);
        assert_eq!(clamp_last_box(&[0, 0, 0, 3, 1, 2, 3, 4, 5]), None);
        let mut large = [0, 0, 0, 1, b'm', b'd', b'a', b't'].to_vec();
        large.extend_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(&clamp_last_box(&large).unwrap()[8..16], &16u64.to_be_bytes());
    }

    #[test]
    fn nested_boxes_re_mp4_cannot_read_are_found_before_it_reads_them() {
        // moov > trak > a box of size 0.
        let mut file = [0, 0, 0, 12, b'f', b't', b'y', b'p', 1, 2, 3, 4].to_vec();
        file.extend_from_slice(&[0, 0, 0, 24, b'm', b'o', b'o', b'v']);
        file.extend_from_slice(&[0, 0, 0, 16, b't', b'r', b'a', b'k']);
        file.extend_from_slice(&[0, 0, 0, 0, b'f', b'r', b'e', b'e']);
        assert_eq!(unreadable_nested_box(&file), Some((28, "has size 0")));
        let error = decode_h264_mp4(&file, &VideoLimits::default(), &|_| 1, &mut |_, _| {});
        assert!(error.unwrap_err().to_string().contains("size 0"));
        file[28..32].copy_from_slice(&[0, 0, 0, 9]);
        assert_eq!(unreadable_nested_box(&file), Some((28, "runs past the box that holds it")));
        file[28..32].copy_from_slice(&[0, 0, 0, 7]);
        assert_eq!(unreadable_nested_box(&file), Some((28, "is smaller than its header")));
        // At the top level, size 0 means "to the end of the file".
        file[12..16].copy_from_slice(&[0, 0, 0, 8]);
        file.extend_from_slice(&[0, 0, 0, 0, b'm', b'd', b'a', b't', 1, 2]);
        assert_eq!(unreadable_nested_box(&file), None);
        let whole = crate::testing::fixture("conformance/videos/test-padded-dimensions.mp4");
        assert_eq!(unreadable_nested_box(&whole), None);
    }

    #[test]
    fn sample_tables_must_hold_what_they_declare() {
        let table = |kind: &[u8; 4], words: &[u32]| -> Vec<u8> {
            let mut out = (8 + 4 * words.len() as u32).to_be_bytes().to_vec();
            out.extend_from_slice(kind);
            out.extend(words.iter().flat_map(|w| w.to_be_bytes()));
            out
        };
        let check =
            |bytes: &[u8]| table_overrun(bytes, bytes[4..8].try_into().unwrap(), 8, bytes.len());
        assert_eq!(check(&table(b"stco", &[0, 2, 100, 200])), None);
        assert!(check(&table(b"stco", &[0, 3, 100, 200])).is_some());
        assert!(check(&table(b"stts", &[0, u32::MAX])).is_some());
        assert_eq!(check(&table(b"stsz", &[0, 0, 2, 10, 20])), None);
        assert!(check(&table(b"stsz", &[0, 0, 3, 10, 20])).is_some());
        assert!(check(&table(b"stsz", &[0, 512, u32::MAX])).is_some());
        assert_eq!(check(&table(b"stsz", &[0, 512, 4])), None);
        assert_eq!(check(&table(b"free", &[u32::MAX, u32::MAX])), None);
    }

    #[test]
    fn parameter_sets_give_the_picture_size_the_decoder_allocates() {
        // x264's, baseline profile, 16000x14000.
        let huge = hex::decode("6742c03eda003e8006d7b011000003000100000300020f08042a").unwrap();
        assert_eq!(sps_dimensions(&huge), Some((16000, 14000)));
        // High profile (chroma format and depth fields), emulation prevention bytes, 240x360
        // coded as 240x368 and cropped.
        let high = hex::decode("6764000dacd983c2ff970110000003001000000303c0f14299a0").unwrap();
        assert_eq!(sps_dimensions(&high), Some((240, 360)));
        assert_eq!(sps_dimensions(&high[..4]), None);
        assert_eq!(sps_dimensions(&[]), None);
        // In a sample, after a 4-byte length: found when larger than what was allowed for.
        let mut sample = (huge.len() as u32).to_be_bytes().to_vec();
        sample.extend_from_slice(&huge);
        sample.extend_from_slice(&[0, 0, 0, 2, 0x65, 0x88]);
        assert_eq!(larger_picture(&sample, 4, 240 * 360), Some((16000, 14000)));
        assert_eq!(larger_picture(&sample, 4, 16000 * 14000), None);
        let limits = VideoLimits {
            image: crate::decode::DecodeLimits { max_pixels: 1_000_000, ..Default::default() },
            ..VideoLimits::default()
        };
        let fixture = crate::testing::fixture("video/chair-clip.mp4");
        assert!(decode_h264_mp4(&fixture, &limits, &|_| 1, &mut |_, _| {}).is_ok());
        let few = VideoLimits {
            image: crate::decode::DecodeLimits { max_pixels: 240 * 360 - 1, ..Default::default() },
            ..VideoLimits::default()
        };
        let error = decode_h264_mp4(&fixture, &few, &|_| 1, &mut |_, _| {}).unwrap_err();
        assert_eq!(error.reason.setting(), Some(crate::error::Setting::MaxPixels));
        assert!(error.to_string().contains("240x360"), "{error}");
    }

    #[test]
    fn malformed_samples_are_errors() {
        let mut out = Vec::new();
        assert!(to_annex_b(&[0, 0, 0, 9, 0x65], 4, &[], &mut out).is_err());
        assert!(to_annex_b(&[0, 0], 4, &[], &mut out).is_err());
        assert_eq!(sample_bytes(&[1, 2, 3], 2, 2), None);
        assert_eq!(sample_bytes(&[1, 2, 3], u64::MAX, 2), None);
        assert_eq!(sample_bytes(&[1, 2, 3], 1, 2), Some(&[2, 3][..]));
    }
}
