//! The compressed ancillary chunks of a PNG (iCCP, zTXt, iTXt): a few bytes of a file can
//! inflate to gigabytes there, and the `png` crate inflates an iCCP profile up to the whole
//! decoding allowance (1 GiB) before giving up on it quietly, once per worker.
//!
//! Owns measuring what those chunks inflate to, streamed and capped at
//! [`ANCILLARY_CAP`] for all of them together, and the file as the decoder should see it when
//! they go past: without its iCCP chunks, which are the ones the decoder inflates (text chunks
//! are kept compressed and never inflated when decoding). Must not copy the file: the
//! decoder reads it through [`Spliced`], a view that leaves the chunks out.

use std::io::{self, BufRead, Read, Seek, SeekFrom};

/// What the compressed ancillary chunks of one PNG may inflate to, all together. ICC profiles
/// are a few kilobytes (the largest printer profiles a few megabytes); text is smaller still.
pub const ANCILLARY_CAP: u64 = 16 << 20;

const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The PNG in `bytes` as the decoder should read it, if its compressed ancillary chunks
/// inflate past `ANCILLARY_CAP`: the pieces of the file without its iCCP chunks, and why.
/// `None` for every other file, which is decoded as it is.
pub(crate) fn png_ancillary_bomb(bytes: &[u8]) -> Option<(Vec<&[u8]>, String)> {
    let mut at = SIGNATURE.len();
    if !bytes.starts_with(SIGNATURE) {
        return None;
    }
    let mut inflated = 0u64;
    let mut iccp = Vec::new();
    let mut bomb = None;
    while let Some(header) = bytes.get(at..at + 8) {
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind = [header[4], header[5], header[6], header[7]];
        let data = &bytes[at + 8..(at + 8).saturating_add(length).min(bytes.len())];
        // Past the data, its CRC.
        let end = (at + 12).saturating_add(length).min(bytes.len());
        if let Some(compressed) = compressed_part(&kind, data) {
            if kind == *b"iCCP" {
                iccp.push(at..end);
            }
            if bomb.is_none() {
                inflated += inflated_size(compressed, ANCILLARY_CAP - inflated);
                if inflated >= ANCILLARY_CAP {
                    bomb = Some(String::from_utf8_lossy(&kind).into_owned());
                }
            }
        }
        if &kind == b"IEND" {
            break;
        }
        at = end;
    }
    let kind = bomb?;
    let mut pieces = Vec::new();
    let mut from = 0;
    for chunk in iccp {
        pieces.push(&bytes[from..chunk.start]);
        from = chunk.end;
    }
    pieces.push(&bytes[from..]);
    let reason = format!(
        "its compressed metadata (PNG {kind} chunk) inflates past {} MiB, a decompression \
         bomb: not inflated, the picture was screened without it",
        ANCILLARY_CAP >> 20
    );
    Some((pieces, reason))
}

/// `bytes`, sniffed as `format`, as the built-in decoders should read them: a PNG whose
/// compressed metadata inflates past [`ANCILLARY_CAP`] without its iCCP chunks, anything else
/// whole.
pub fn readable(bytes: &[u8], format: image::ImageFormat) -> Spliced<'_> {
    match png_ancillary_bomb(bytes).filter(|_| format == image::ImageFormat::Png) {
        Some((pieces, _)) => Spliced::new(pieces),
        None => Spliced::new(vec![bytes]),
    }
}

/// The zlib stream in an ancillary chunk's `data`, for the chunks that carry one.
fn compressed_part<'a>(kind: &[u8; 4], data: &'a [u8]) -> Option<&'a [u8]> {
    let after_keyword = |data: &'a [u8]| Some(&data[memchr::memchr(0, data)? + 1..]);
    match kind {
        // Keyword, 0, compression method, stream.
        b"iCCP" | b"zTXt" => after_keyword(data)?.get(1..),
        // Keyword, 0, compressed flag, method, language, 0, translated keyword, 0, text.
        b"iTXt" => {
            let rest = after_keyword(data)?;
            let (&compressed, rest) = rest.split_first()?;
            if compressed == 0 {
                return None;
            }
            after_keyword(after_keyword(rest.get(1..)?)?)
        }
        _ => None,
    }
}

/// How many bytes the zlib stream `compressed` inflates to, counting no further than `cap`.
/// A corrupt stream counts what came out before the damage.
fn inflated_size(compressed: &[u8], cap: u64) -> u64 {
    let mut inflater = flate2::read::ZlibDecoder::new(compressed).take(cap);
    let mut chunk = [0u8; 16 * 1024];
    let mut size = 0u64;
    loop {
        match inflater.read(&mut chunk) {
            Ok(0) | Err(_) => return size,
            Ok(n) => size += n as u64,
        }
    }
}

/// Pieces of one buffer read one after the other as if they were one: a file with parts left
/// out, without a copy of it.
#[derive(Clone)]
pub struct Spliced<'a> {
    pieces: Vec<&'a [u8]>,
    len: u64,
    at: u64,
}

impl<'a> Spliced<'a> {
    /// `pieces`, read in order.
    pub fn new(pieces: Vec<&'a [u8]>) -> Spliced<'a> {
        let len = pieces.iter().map(|piece| piece.len() as u64).sum();
        Spliced { pieces, len, at: 0 }
    }
}

impl BufRead for Spliced<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let mut start = 0u64;
        for piece in &self.pieces {
            let end = start + piece.len() as u64;
            if self.at < end {
                return Ok(&piece[(self.at - start) as usize..]);
            }
            start = end;
        }
        Ok(&[])
    }

    fn consume(&mut self, amount: usize) {
        self.at += amount as u64;
    }
}

impl Read for Spliced<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buffer.len());
        buffer[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }

    fn read_to_end(&mut self, buffer: &mut Vec<u8>) -> io::Result<usize> {
        let before = buffer.len();
        buffer.reserve(self.len.saturating_sub(self.at) as usize);
        loop {
            let available = self.fill_buf()?;
            if available.is_empty() {
                return Ok(buffer.len() - before);
            }
            buffer.extend_from_slice(available);
            let n = available.len();
            self.consume(n);
        }
    }
}

impl Seek for Spliced<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let at = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::End(delta) => self.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.at.checked_add_signed(delta),
        };
        self.at = at.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before 0"))?;
        Ok(self.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&[0; 4]); // CRC, not checked here
        out
    }

    fn zlib(size: usize) -> Vec<u8> {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![0u8; size]).unwrap();
        encoder.finish().unwrap()
    }

    fn png(chunks: &[Vec<u8>]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend(chunk(b"IHDR", &[0; 13]));
        chunks.iter().for_each(|c| out.extend_from_slice(c));
        out.extend(chunk(b"IDAT", b"pixels"));
        out.extend(chunk(b"IEND", b""));
        out
    }

    #[test]
    fn small_metadata_is_left_alone() {
        let profile = [b"sRGB\0\0".as_slice(), &zlib(3000)].concat();
        let text = [b"Comment\0\0".as_slice(), &zlib(100)].concat();
        assert_eq!(
            png_ancillary_bomb(&png(&[chunk(b"iCCP", &profile), chunk(b"zTXt", &text)])),
            None
        );
        assert_eq!(png_ancillary_bomb(b"GIF89a"), None);
    }

    #[test]
    fn metadata_inflating_past_the_cap_is_left_out_of_the_decoded_file() {
        let big = ANCILLARY_CAP as usize;
        let profile = [b"bomb\0\0".as_slice(), &zlib(big)].concat();
        let file = png(&[chunk(b"iCCP", &profile)]);
        let (pieces, reason) = png_ancillary_bomb(&file).unwrap();
        assert!(reason.contains("iCCP"), "{reason}");
        let mut seen = Vec::new();
        Spliced::new(pieces).read_to_end(&mut seen).unwrap();
        assert_eq!(seen, png(&[]));
        // Text is never inflated by the decoder, so it stays; it still counts as a bomb.
        let text = [b"Comment\0\0".as_slice(), &zlib(big / 2)].concat();
        let itxt = [b"Note\0\x01\0en\0\0".as_slice(), &zlib(big / 2)].concat();
        let file = png(&[chunk(b"zTXt", &text), chunk(b"iTXt", &itxt)]);
        let (pieces, reason) = png_ancillary_bomb(&file).unwrap();
        assert!(reason.contains("iTXt"), "{reason}");
        assert_eq!(pieces, [&file[..]]);
    }

    #[test]
    fn spliced_pieces_read_and_seek_as_one() {
        let mut spliced = Spliced::new(vec![b"abc".as_slice(), b"", b"defg"]);
        let mut all = String::new();
        spliced.read_to_string(&mut all).unwrap();
        assert_eq!(all, "abcdefg");
        assert_eq!(spliced.seek(SeekFrom::Start(2)).unwrap(), 2);
        let mut two = [0; 2];
        spliced.read_exact(&mut two).unwrap();
        assert_eq!(&two, b"cd");
        assert_eq!(spliced.seek(SeekFrom::End(-1)).unwrap(), 6);
        assert_eq!(spliced.fill_buf().unwrap(), b"g");
        assert!(spliced.seek(SeekFrom::Current(-10)).is_err());
    }
}
