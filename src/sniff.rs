//! Content typing by magic bytes.
//!
//! Owns the decision of what a file *is*, taken from its first bytes and never from its name:
//! a JPEG named `.txt` is an image, a text file named `.jpg` is not. Must not decode anything
//! beyond the signature.
//!
//! Every picture and video container that the built-in decoders or ffmpeg read is recognised
//! here, so that none passes for unknown bytes, which are matched by digest only and can be
//! clean: `infer`'s signatures, and before or after them (as their reliability warrants) those
//! it lacks or gets wrong: MPEG-TS (found by its packet sync even after a prefix, as ffmpeg
//! finds it), Ogg holding video, IVF, Y4M, NUT, MXF, RealMedia, raw H.264 and HEVC (a stream
//! that starts with a start code), TIFF (every TIFF, BigTIFF too), PNM, QOI, farbfeld,
//! Radiance HDR, OpenEXR, PCX, SGI, Sun raster, DPX, and TGA. TGA has no signature at its
//! start: a TGA 2.0 file ends with `TRUEVISION-XFILE.`, and one without that footer is
//! recognised only by a header that holds together (a colour-map and image type, pixel depth
//! and size the format allows, and that the decoder reads), so an older TGA whose header
//! does not is taken for unknown bytes.

use image::ImageFormat;

/// What a file's bytes say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sniffed {
    /// MIME type, `application/octet-stream` when the signature is unknown.
    pub media_type: &'static str,
    /// The still-image decoder to use, when the format is one mediascreen decodes.
    pub image_format: Option<ImageFormat>,
}

impl Sniffed {
    /// Returns true if and only if the bytes are an image or video that mediascreen would
    /// need to decode for perceptual hashes, whether or not it can.
    pub fn is_visual_media(&self) -> bool {
        is_visual(self.media_type)
    }

    /// Whether this is a picture that only ffmpeg decodes here (PCX, PSD, JPEG 2000…): it is
    /// decoded through ffmpeg, its first frame as the picture.
    pub fn is_ffmpeg_picture(&self) -> bool {
        self.image_format.is_none() && ffmpeg_format(self.media_type).is_some()
    }
}

fn is_visual(media_type: &str) -> bool {
    media_type.starts_with("image/") || media_type.starts_with("video/")
}

/// Types `bytes` by their signature.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    let known = signature(bytes).or_else(|| infer::get(bytes).map(|t| t.mime_type()));
    let media_type = match known {
        Some(visual) if is_visual(visual) => visual,
        // Neither a picture nor a video by its signature: a transport stream may be behind
        // it; and the signatures too weak to trust over another format's are tried last.
        other => transport_stream(bytes)
            .or(other)
            .or_else(|| annex_b(bytes))
            .or_else(|| pcx(bytes))
            .or_else(|| tga(bytes))
            .unwrap_or("application/octet-stream"),
    };
    let image_format = match media_type {
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/png" => Some(ImageFormat::Png),
        "image/gif" => Some(ImageFormat::Gif),
        "image/webp" => Some(ImageFormat::WebP),
        "image/bmp" => Some(ImageFormat::Bmp),
        "image/tiff" => Some(ImageFormat::Tiff),
        "image/x-portable-bitmap"
        | "image/x-portable-graymap"
        | "image/x-portable-pixmap"
        | "image/x-portable-arbitrarymap" => Some(ImageFormat::Pnm),
        "image/qoi" => Some(ImageFormat::Qoi),
        "image/x-tga" => Some(ImageFormat::Tga),
        "image/vnd.microsoft.icon" => Some(ImageFormat::Ico),
        "image/vnd.radiance" => Some(ImageFormat::Hdr),
        "image/x-farbfeld" => Some(ImageFormat::Farbfeld),
        _ => None,
    };
    Sniffed { media_type, image_format: image_format.filter(ImageFormat::reading_enabled) }
}

/// The ffmpeg demuxer (`-f`) that reads `media_type`, for the types mediascreen recognises
/// itself and hands to ffmpeg, so that ffmpeg does not have to guess them again (from a
/// prefix, a raw stream or a wrong file name); `None` for the rest, which ffmpeg probes.
pub fn ffmpeg_format(media_type: &str) -> Option<&'static str> {
    Some(match media_type {
        "video/mp2t" => "mpegts",
        "video/ogg" => "ogg",
        "video/x-ivf" => "ivf",
        "video/h264" => "h264",
        "video/h265" => "hevc",
        "video/x-yuv4mpeg" => "yuv4mpegpipe",
        "video/x-nut" => "nut",
        "video/mxf" => "mxf",
        "video/vnd.rn-realvideo" => "rm",
        "image/x-pcx" => "pcx_pipe",
        "image/vnd.adobe.photoshop" => "psd_pipe",
        "image/jp2" | "image/x-jp2-codestream" => "j2k_pipe",
        "image/x-exr" => "exr_pipe",
        "image/x-sgi" => "sgi_pipe",
        "image/x-sun-raster" => "sunrast_pipe",
        "image/x-dpx" => "dpx_pipe",
        _ => return None,
    })
}

/// What would decode a picture type that neither the built-in decoders, ffmpeg nor libheif
/// read, for the error that says it was not screened.
pub fn missing_decoder(media_type: &str) -> Option<&'static str> {
    Some(match media_type {
        "image/jxl" => "a JPEG XL decoder (libjxl)",
        "image/vnd.ms-photo" => "a JPEG XR decoder (jxrlib)",
        "image/x-canon-cr2" => "a camera raw converter (LibRaw, dcraw)",
        "image/openraster" => "an OpenRaster reader",
        "image/vnd.djvu" => "a DjVu decoder (DjVuLibre)",
        "image/vnd.dwg" => "a CAD program",
        _ => return None,
    })
}

/// The name of the file format of `media_type`, with its article, when it is a container of other files (an
/// archive, a compressed file, an Office document or an e-book, which are archives too):
/// their members may be pictures and videos, which a scan that does not open the container
/// has not screened. `None` for everything else.
pub fn container(media_type: &str) -> Option<&'static str> {
    Some(match media_type {
        "application/zip" => "a ZIP archive",
        "application/x-tar" => "a tar archive",
        "application/gzip" => "a gzip-compressed file",
        "application/x-bzip2" => "a bzip2-compressed file",
        "application/vnd.bzip3" => "a bzip3-compressed file",
        "application/x-xz" => "an xz-compressed file",
        "application/zstd" => "a zstd-compressed file",
        "application/x-lz4" => "an LZ4-compressed file",
        "application/x-lzip" => "an lzip-compressed file",
        "application/x-compress" => "a compress (.Z) file",
        "application/x-7z-compressed" => "a 7z archive",
        "application/vnd.rar" => "a RAR archive",
        "application/vnd.ms-cab-compressed" => "a CAB archive",
        "application/x-cpio" => "a cpio archive",
        "application/x-unix-archive" => "an ar archive",
        "application/vnd.debian.binary-package" => "a Debian package",
        "application/x-rpm" => "an RPM package",
        "application/x-google-chrome-extension" => "a Chrome extension (ZIP)",
        "application/epub+zip" => "an EPUB book (ZIP)",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
            "a Word document (ZIP)"
        }
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
            "an Excel workbook (ZIP)"
        }
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => {
            "a PowerPoint presentation (ZIP)"
        }
        "application/vnd.oasis.opendocument.text"
        | "application/vnd.oasis.opendocument.spreadsheet"
        | "application/vnd.oasis.opendocument.presentation" => "an OpenDocument file (ZIP)",
        "application/msword"
        | "application/vnd.ms-excel"
        | "application/vnd.ms-powerpoint"
        | "application/x-ole-storage" => "an OLE compound file (Office 97–2003, MSI)",
        _ => return None,
    })
}

/// How much of a file's start is searched for a signature that need not be at byte 0.
const SEARCHED: usize = 64 * 1024;

/// Signatures at the start of the file that `infer` lacks, or reads wrongly.
fn signature(bytes: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    let at = |offset: usize, magic: &[u8]| {
        bytes.get(offset..).is_some_and(|rest| rest.starts_with(magic))
    };
    // 3GPP and 3GPP2 (old phones' and some messengers' videos) are MP4's container under
    // their own `ftyp` brand, which `infer` does not know.
    if at(4, b"ftyp3gp") {
        return Some("video/3gpp");
    }
    if at(4, b"ftyp3g2") {
        return Some("video/3gpp2");
    }
    if starts(b"OggS") {
        // Audio-only Ogg is left to `infer` (audio/ogg, audio/opus…).
        return ogg_has_video(bytes).then_some("video/ogg");
    }
    // `infer` takes a TIFF whose bytes 8-9 happen to read "C" or "R" for none at all (its
    // Canon CR2 test), and does not know BigTIFF. A CR2 (TIFF-based raw) is left to it.
    if (starts(b"II*\0") || starts(b"MM\0*")) && !at(8, b"CR\x02") {
        return Some("image/tiff");
    }
    if starts(b"II+\0") || starts(b"MM\0+") {
        return Some("image/tiff");
    }
    if starts(b"DKIF") && bytes.get(4..6) == Some(&[0, 0]) {
        return Some("video/x-ivf");
    }
    if starts(b"YUV4MPEG2 ") {
        return Some("video/x-yuv4mpeg");
    }
    if starts(b"nut/multimedia container\0") {
        return Some("video/x-nut");
    }
    // The header partition pack's key.
    if starts(&[0x06, 0x0E, 0x2B, 0x34, 0x02, 0x05, 0x01, 0x01, 0x0D, 0x01, 0x02, 0x01, 0x01, 0x02])
    {
        return Some("video/mxf");
    }
    if starts(b".RMF\0\0\0") {
        return Some("video/vnd.rn-realvideo");
    }
    if let Some(kind) = pnm(bytes) {
        return Some(kind);
    }
    if starts(b"qoif") {
        return Some("image/qoi");
    }
    if starts(b"farbfeld") {
        return Some("image/x-farbfeld");
    }
    if starts(b"#?RADIANCE\n") || starts(b"#?RGBE\n") {
        return Some("image/vnd.radiance");
    }
    if starts(&[0x76, 0x2F, 0x31, 0x01]) {
        return Some("image/x-exr");
    }
    // A JPEG 2000 codestream without the JP2 box wrapper (`infer` knows the wrapper).
    if starts(&[0xFF, 0x4F, 0xFF, 0x51]) {
        return Some("image/x-jp2-codestream");
    }
    // SGI: magic 474, RLE flag 0 or 1, 1 or 2 bytes a sample.
    if starts(&[0x01, 0xDA])
        && bytes.get(2).is_some_and(|&b| b <= 1)
        && matches!(bytes.get(3), Some(1 | 2))
    {
        return Some("image/x-sgi");
    }
    if starts(&[0x59, 0xA6, 0x6A, 0x95]) {
        return Some("image/x-sun-raster");
    }
    if starts(b"SDPX") || starts(b"XPDS") {
        return Some("image/x-dpx");
    }
    None
}

/// An MPEG transport stream: the sync byte 0x47 at the start of several packets in a row, in
/// 188-byte packets, 192-byte ones (M2TS, a 4-byte time code first) or 204-byte ones (with
/// Reed-Solomon parity). Found anywhere in the first [`SEARCHED`] bytes, as ffmpeg finds a
/// stream behind a prefix: a transport stream behind another format's signature (a ZIP's,
/// say) would otherwise pass for that format. A short file needs all of its packets in step,
/// and at least three; a run of 0x47 bytes is not a packet header.
fn transport_stream(bytes: &[u8]) -> Option<&'static str> {
    const WANTED: usize = 8;
    let head = &bytes[..bytes.len().min(SEARCHED)];
    for (size, sync_at) in [(188, 0), (192, 4), (204, 0)] {
        let in_step = |start: usize| {
            let needed = ((bytes.len() - start - 1) / size + 1).min(WANTED);
            needed >= 3
                && bytes.get(start + 1..start + 4).is_some_and(|h| h != [0x47; 3])
                && (0..needed).all(|packet| bytes.get(start + packet * size) == Some(&0x47))
        };
        let mut from = 0;
        while let Some(found) = memchr::memchr(0x47, &head[from..]) {
            let sync = from + found;
            if sync >= sync_at && in_step(sync) {
                return Some("video/mp2t");
            }
            from = sync + 1;
        }
    }
    None
}

/// Whether an Ogg file holds a stream that is not audio: each logical stream's first page
/// (they all come before any other page of their link) starts with its codec's identification
/// header. Theora, VP8, Daala, Dirac, OGM video, and any codec not known to be audio or
/// metadata, count as video; so does an Ogg whose first pages cannot be read, for ffmpeg to
/// judge, and one where a video codec's identification header turns up later (a chained Ogg
/// whose first link is audio).
fn ogg_has_video(bytes: &[u8]) -> bool {
    const VIDEO: [&[u8]; 4] = [b"\x80theora", b"OVP80", b"\x80daala", b"BBCD\0"];
    first_streams_have_video(bytes)
        || VIDEO.iter().any(|header| memchr::memmem::find(bytes, header).is_some())
}

fn first_streams_have_video(bytes: &[u8]) -> bool {
    const NOT_VIDEO: [&[u8]; 10] = [
        b"\x01vorbis",
        b"OpusHead",
        b"\x7fFLAC",
        b"fLaC",
        b"Speex   ",
        b"PCM     ",
        b"CELT    ",
        b"fishead\0",
        b"fisbone\0",
        b"\x80kate\0\0\0",
    ];
    let mut at = 0;
    let mut streams = 0;
    while bytes.get(at..at + 4) == Some(b"OggS") {
        let Some(&segments) = bytes.get(at + 26) else { return true };
        let flags = bytes[at + 5];
        let table = at + 27;
        let Some(lacing) = bytes.get(table..table + usize::from(segments)) else { return true };
        let body = table + usize::from(segments);
        let length: usize = lacing.iter().map(|&l| usize::from(l)).sum();
        if flags & 0x02 == 0 {
            // The first page that begins no stream: every stream has been seen.
            return streams == 0;
        }
        streams += 1;
        let Some(packet) = bytes.get(body..) else { return true };
        if !NOT_VIDEO.iter().any(|audio| packet.starts_with(audio)) {
            return true;
        }
        at = body + length;
    }
    // Ran out of pages that begin streams without meeting any other page: judged on what
    // was seen, or by ffmpeg if nothing was.
    streams == 0
}

/// PNM (`P1`–`P6`, then whitespace, a width and a height, comments allowed between) and PAM
/// (`P7` and a header line naming `WIDTH`): the number alone would take text for pictures.
fn pnm(bytes: &[u8]) -> Option<&'static str> {
    let kind = match bytes.get(..2)? {
        b"P1" | b"P4" => "image/x-portable-bitmap",
        b"P2" | b"P5" => "image/x-portable-graymap",
        b"P3" | b"P6" => "image/x-portable-pixmap",
        b"P7" => {
            let head = &bytes[..bytes.len().min(512)];
            let header = memchr::memmem::find(head, b"\nWIDTH ").is_some();
            return (bytes.get(2) == Some(&b'\n') && header)
                .then_some("image/x-portable-arbitrarymap");
        }
        _ => return None,
    };
    let mut at = 2;
    let mut numbers = 0;
    while numbers < 2 {
        let space = bytes.get(at)?;
        if !space.is_ascii_whitespace() {
            return None;
        }
        while bytes.get(at).is_some_and(|b| b.is_ascii_whitespace()) {
            at += 1;
        }
        while bytes.get(at) == Some(&b'#') {
            at += memchr::memchr(b'\n', bytes.get(at..)?)? + 1;
            while bytes.get(at).is_some_and(|b| b.is_ascii_whitespace()) {
                at += 1;
            }
        }
        let digits = bytes.get(at..)?.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        at += digits;
        numbers += 1;
    }
    Some(kind)
}

/// A raw H.264 or HEVC stream (Annex B, as `.h264`/`.264`/`.hevc` files and camera dumps
/// hold it): a start code at the very start (after any zero bytes), then a NAL unit header
/// that opens a stream. A stream that starts with anything else is not recognised (start
/// codes occur by chance in other binary files, so they are not searched for).
fn annex_b(bytes: &[u8]) -> Option<&'static str> {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    if zeros < 2 || bytes.get(zeros) != Some(&1) {
        return None;
    }
    let header = bytes.get(zeros + 1..zeros + 3)?;
    // HEVC: forbidden bit 0, a parameter set, access unit delimiter, prefix SEI or IRAP
    // picture, layer 0, temporal id plus one 1.
    let hevc_type = header[0] >> 1;
    if header[0] & 0x81 == 0 && header[1] == 1 && matches!(hevc_type, 16..=21 | 32..=35 | 39) {
        return Some("video/h265");
    }
    // H.264: forbidden bit 0; SPS, PPS, access unit delimiter, SEI, or an IDR slice.
    let h264_type = header[0] & 0x1F;
    if header[0] & 0x80 == 0 && matches!(h264_type, 5..=9) {
        return Some("video/h264");
    }
    None
}

/// PCX, by the header test ffmpeg's `pcx_pipe` probe makes: manufacturer 10, version 0-5,
/// encoding 0-1, 1, 2, 4 or 8 bits a plane, a window whose corners are in order, the reserved
/// byte 0.
fn pcx(bytes: &[u8]) -> Option<&'static str> {
    let b = bytes.get(..128)?;
    let word = |at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
    let valid = b[0] == 10
        && b[1] <= 5
        && b[2] <= 1
        && matches!(b[3], 1 | 2 | 4 | 8)
        && word(4) <= word(8)
        && word(6) <= word(10)
        && b[64] == 0;
    valid.then_some("image/x-pcx")
}

/// TGA: the TGA 2.0 footer, or else a header that holds together and that the decoder reads.
fn tga(bytes: &[u8]) -> Option<&'static str> {
    if bytes.len() >= 18 + 26 && bytes.ends_with(b"TRUEVISION-XFILE.\0") {
        return Some("image/x-tga");
    }
    let h = bytes.get(..18)?;
    let (map_type, image_type, depth, descriptor) = (h[1], h[2], h[16], h[17]);
    let (width, height) = (u16::from_le_bytes([h[12], h[13]]), u16::from_le_bytes([h[14], h[15]]));
    let mapped = matches!(image_type, 1 | 9);
    let valid = map_type <= 1
        && matches!(image_type, 1..=3 | 9..=11)
        && (!mapped || (map_type == 1 && matches!(h[7], 15 | 16 | 24 | 32)))
        && matches!(depth, 8 | 15 | 16 | 24 | 32)
        && width > 0
        && height > 0
        && descriptor & 0xC0 == 0
        && descriptor & 0x0F <= depth;
    let reads = || {
        image::ImageReader::with_format(std::io::Cursor::new(bytes), ImageFormat::Tga)
            .into_dimensions()
            .is_ok()
    };
    (valid && reads()).then_some("image/x-tga")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_by_content_not_name() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png).image_format, Some(ImageFormat::Png));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF\0").media_type, "image/jpeg");
        let text = sniff(b"just some text, not a picture");
        assert_eq!(text.media_type, "application/octet-stream");
        assert!(text.image_format.is_none() && !text.is_visual_media());
        assert!(sniff(b"").image_format.is_none());
        assert_eq!(sniff(b"\0\0\0\x20ftyp3gp6\0\0\x01\0").media_type, "video/3gpp");
        assert_eq!(sniff(b"\0\0\0\x20ftyp3g2a\0\0\x01\0").media_type, "video/3gpp2");
    }

    /// `packets` transport stream packets of `size` bytes, the sync byte `sync_at` bytes in.
    fn transport(size: usize, sync_at: usize, packets: usize) -> Vec<u8> {
        let mut packet = vec![0xFFu8; size];
        packet[sync_at] = 0x47;
        packet[sync_at + 1] = 0x40;
        packet.repeat(packets)
    }

    #[test]
    fn transport_streams_are_found_by_their_sync_even_behind_a_prefix() {
        assert_eq!(sniff(&transport(188, 0, 20)).media_type, "video/mp2t");
        assert_eq!(sniff(&transport(192, 4, 20)).media_type, "video/mp2t");
        assert_eq!(sniff(&transport(204, 0, 3)).media_type, "video/mp2t");
        let mut zip = b"PK\x03\x04\x14\0\0\0\0\0".to_vec();
        zip.extend(transport(188, 0, 20));
        assert_eq!(sniff(&zip).media_type, "video/mp2t");
        // Out of step, or too short to tell: not a transport stream.
        let mut broken = transport(188, 0, 20);
        (0..20).step_by(3).for_each(|packet| broken[188 * packet] = 0);
        assert_ne!(sniff(&broken).media_type, "video/mp2t");
        assert_ne!(sniff(&[0x47; 4000]).media_type, "video/mp2t");
        assert_ne!(sniff(&transport(188, 0, 2)).media_type, "video/mp2t");
    }

    /// An Ogg page beginning a stream whose first packet is `packet`.
    fn ogg_page(packet: &[u8], begins: bool) -> Vec<u8> {
        let mut page = b"OggS\0".to_vec();
        page.push(if begins { 2 } else { 0 });
        page.extend_from_slice(&[0; 20]);
        page.push(1);
        page.push(packet.len() as u8);
        page.extend_from_slice(packet);
        page
    }

    #[test]
    fn ogg_is_video_when_any_stream_is() {
        let vorbis = ogg_page(b"\x01vorbis\0\0\0\0", true);
        let theora = ogg_page(b"\x80theora\x03\x02", true);
        let data = ogg_page(b"\x03vorbis", false);
        let audio = [vorbis.clone(), data.clone()].concat();
        assert_eq!(sniff(&audio).media_type, "audio/ogg");
        let both = [vorbis, theora.clone(), data.clone()].concat();
        assert_eq!(sniff(&both).media_type, "video/ogg");
        assert_eq!(sniff(&[theora, data].concat()).media_type, "video/ogg");
        // An unknown codec goes to ffmpeg too.
        assert_eq!(sniff(&ogg_page(b"\x80daala", true)).media_type, "video/ogg");
    }

    #[test]
    fn pictures_and_videos_infer_does_not_know() {
        let kind = |bytes: &[u8]| sniff(bytes).media_type;
        assert_eq!(kind(b"II+\0\x08\0\0\0\x10\0\0\0\0\0\0\0"), "image/tiff");
        assert_eq!(kind(b"MM\0+\0\x08\0\0\0\0\0\0\0\0\0\x10"), "image/tiff");
        // `infer` calls a TIFF whose first IFD starts at an offset written "C…" nothing.
        assert_eq!(kind(b"II*\0\x43\0\0\0\0\0\0\0"), "image/tiff");
        assert_eq!(sniff(b"II*\0\x43\0\0\0\0\0\0\0").image_format, Some(ImageFormat::Tiff));
        assert_eq!(kind(b"P6\n# made by hand\n640 480\n255\n"), "image/x-portable-pixmap");
        assert_eq!(kind(b"P5 3 2 255 abcdef"), "image/x-portable-graymap");
        assert_eq!(sniff(b"P4\n8 1\n\xff").image_format, Some(ImageFormat::Pnm));
        assert_eq!(kind(b"P7\nWIDTH 2\nHEIGHT 2\n"), "image/x-portable-arbitrarymap");
        assert_eq!(kind(b"P1 is the first point of the plan"), "application/octet-stream");
        assert_eq!(sniff(b"qoif\0\0\0\x02\0\0\0\x02\x03\0").image_format, Some(ImageFormat::Qoi));
        assert_eq!(kind(b"DKIF\0\0\x20\0VP80"), "video/x-ivf");
        assert_eq!(kind(b"YUV4MPEG2 W64 H48 F25:1\n"), "video/x-yuv4mpeg");
        assert_eq!(kind(b"\0\0\0\x01\x67\x42\0\x1e"), "video/h264");
        assert_eq!(kind(b"\0\0\x01\x09\xf0\0\0\0\x01\x67"), "video/h264");
        assert_eq!(kind(b"\0\0\0\x01\x40\x01\x0c\x01"), "video/h265");
        // An icon starts with 00 00 01 00, which is no NAL unit.
        assert_eq!(kind(b"\0\0\x01\0\x01\0\x10\x10"), "image/vnd.microsoft.icon");
        let mut pcx = vec![0u8; 128];
        pcx[..12].copy_from_slice(&[10, 5, 1, 8, 0, 0, 0, 0, 63, 0, 47, 0]);
        assert_eq!(kind(&pcx), "image/x-pcx");
        assert!(sniff(&pcx).is_ffmpeg_picture());
        assert_eq!(ffmpeg_format("image/x-pcx"), Some("pcx_pipe"));
        pcx[64] = 1;
        assert_eq!(kind(&pcx), "application/octet-stream");
    }

    #[test]
    fn tga_by_its_footer_or_a_header_that_holds_together() {
        // 2x2 true-colour, uncompressed, 24 bits.
        let mut tga = vec![0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2, 0, 24, 0];
        tga.extend_from_slice(&[0x80; 12]);
        assert_eq!(sniff(&tga).media_type, "image/x-tga");
        assert_eq!(sniff(&tga).image_format, Some(ImageFormat::Tga));
        let mut odd = tga.clone();
        odd[16] = 23;
        assert_eq!(sniff(&odd).media_type, "application/octet-stream");
        // With the TGA 2.0 footer, the header is the decoder's business.
        odd.extend_from_slice(&[0; 8]);
        odd.extend_from_slice(b"TRUEVISION-XFILE.\0");
        assert_eq!(sniff(&odd).media_type, "image/x-tga");
    }
}
