//! Archives read front to back: tar, and files compressed with gzip, bzip2, xz or zstd (a
//! tar inside one opened as the tar, as `tar.gz` is one archive to its users).
//!
//! Owns the decompressors and walking tar headers. Must not skip over a member it stopped
//! reading: skipping a stream means decompressing it, and the member may be a bomb; the rest
//! of the stream is reported as not screened instead.

use std::cell::Cell;
use std::io::{self, Read};

use super::{damaged, Compressed, Counting, Entry, EntryKind, Flow, Format, Meter};
use crate::error::FileError;

/// Where a tar header keeps its magic.
const TAR_MAGIC_AT: usize = 257;

pub(super) fn tar(
    source: impl Read,
    meter: &Meter,
    visit: &mut dyn FnMut(Entry) -> Flow,
) -> Result<(), FileError> {
    tar_entries(source, Compressed::Unknown, meter, visit)
}

pub(super) fn compressed(
    format: Format,
    source: impl Read,
    name: &str,
    meter: &Meter,
    visit: &mut dyn FnMut(Entry) -> Flow,
) -> Result<(), FileError> {
    let input = Cell::new(0);
    let counted = Counting::new(source, &input);
    let mut decoder: Box<dyn Read> = match format {
        Format::Gzip => Box::new(flate2::read::MultiGzDecoder::new(counted)),
        Format::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(counted)),
        Format::Xz => Box::new(lzma_rust2::XzReader::new(counted, true)),
        Format::Zstd => Box::new(
            zstd::stream::read::Decoder::new(counted).map_err(|e| damaged(what(format), e))?,
        ),
        Format::Zip | Format::Tar | Format::SevenZ => unreachable!("not a compressed stream"),
    };
    // Enough of the start to see a tar header, read before the meter as a tar's headers are.
    let mut head = Vec::with_capacity(512);
    (&mut decoder).take(512).read_to_end(&mut head).map_err(|e| damaged(what(format), e))?;
    let is_tar = head.get(TAR_MAGIC_AT..TAR_MAGIC_AT + 5) == Some(b"ustar");
    let mut whole = io::Cursor::new(head).chain(decoder);
    if is_tar {
        return tar_entries(&mut whole, Compressed::Counted(&input), meter, visit);
    }
    let mut data = meter.reader(&mut whole, Compressed::Counted(&input));
    let member = Entry { name: decompressed_name(name), kind: EntryKind::File { data: &mut data } };
    visit(member);
    Ok(())
}

/// The compressed file's one member is named as `gzip -d` would name it.
fn decompressed_name(name: &str) -> String {
    let base = name.rsplit(['/', '!']).next().unwrap_or(name);
    for (suffix, then) in [(".tgz", ".tar"), (".tbz2", ".tar"), (".txz", ".tar"), (".tzst", ".tar")]
    {
        if let Some(stem) = base.strip_suffix(suffix) {
            return format!("{stem}{then}");
        }
    }
    for suffix in [".gz", ".bz2", ".xz", ".zst", ".zstd"] {
        if let Some(stem) = base.strip_suffix(suffix).filter(|s| !s.is_empty()) {
            return stem.to_string();
        }
    }
    format!("{base}.decompressed")
}

fn what(format: Format) -> &'static str {
    match format {
        Format::Gzip => "the gzip stream",
        Format::Bzip2 => "the bzip2 stream",
        Format::Xz => "the xz stream",
        Format::Zstd => "the zstd stream",
        Format::Zip | Format::Tar | Format::SevenZ => "the archive",
    }
}

fn tar_entries(
    source: impl Read,
    compressed: Compressed,
    meter: &Meter,
    visit: &mut dyn FnMut(Entry) -> Flow,
) -> Result<(), FileError> {
    let mut archive = tar::Archive::new(source);
    let entries = archive.entries().map_err(|e| damaged("the tar archive", e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| damaged("the tar archive", e))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let header = entry.header();
        let link = || {
            header
                .link_name_bytes()
                .map(|target| String::from_utf8_lossy(&target).into_owned())
                .unwrap_or_default()
        };
        use tar::EntryType as T;
        let kind = match header.entry_type() {
            T::Directory => continue,
            T::Symlink => EntryKind::NotAFile(format!(
                "a symbolic link in the archive (to {}): links are not followed",
                link()
            )),
            T::Link => EntryKind::NotAFile(format!(
                "a hard link in the archive to {}, which is screened under that name",
                link()
            )),
            T::Char | T::Block | T::Fifo => {
                EntryKind::NotAFile("a device or FIFO in the archive: it holds no data".into())
            }
            _ => {
                let mut data = meter.reader(&mut entry, compressed);
                let flow =
                    visit(Entry { name: name.clone(), kind: EntryKind::File { data: &mut data } });
                match flow {
                    Flow::Next => continue,
                    Flow::Stop => return Ok(()),
                    Flow::Abandoned(setting) => {
                        return Err(FileError::limit(
                            setting,
                            format!("not read past {name}, which was stopped at a limit"),
                            ": the members after it were not screened",
                        ))
                    }
                }
            }
        };
        if visit(Entry { name, kind }) == Flow::Stop {
            return Ok(());
        }
    }
    Ok(())
}
