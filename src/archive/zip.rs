//! ZIP archives (and the formats made of one), through the `zip` crate.
//!
//! Owns walking the central directory in its order and reading each member through the
//! meter. Must not trust a member's declared size (the meter counts what inflates), nor stop
//! at an encrypted or damaged member when the next can be read.

use std::io::{self, Read, Seek, SeekFrom};

use zip::result::ZipError;
use zip::ZipArchive;

use super::{damaged, encrypted, Compressed, Entry, EntryKind, Flow, Meter};
use crate::error::{FileError, FileErrorKind};

pub(super) fn open<R: Read + Seek>(
    mut source: R,
    meter: &Meter,
    visit: &mut dyn FnMut(Entry) -> Flow,
) -> Result<(), FileError> {
    let declared = declared_members(&mut source);
    let mut archive = match ZipArchive::new(&mut source) {
        Ok(archive) => archive,
        Err(ZipError::UnsupportedArchive(what)) => return Err(unsupported(what)),
        Err(e) => return from_local_headers(source, meter, visit, Some(e)),
    };
    // The crate keeps one member per name: a second member of the same name would go unseen
    // (and a hostile archive could hide one that way), so such an archive is read from its
    // members' own headers, every one of them.
    if declared.is_some_and(|declared| declared > archive.len() as u64) {
        drop(archive);
        return from_local_headers(source, meter, visit, None);
    }
    for index in 0..archive.len() {
        let (name, is_dir, is_link, is_encrypted, compressed) = match archive.by_index_data(index) {
            Ok(entry) => (
                entry.name().map_or_else(|_| format!("(member {})", index + 1), |n| n.into_owned()),
                entry.is_dir(),
                entry.is_symlink(),
                entry.encrypted(),
                entry.compressed_size(),
            ),
            Err(e) => return Err(damaged("the ZIP archive", e)),
        };
        if is_dir {
            continue;
        }
        let kind = if is_link {
            EntryKind::NotAFile("a symbolic link in the archive: links are not followed".into())
        } else if is_encrypted {
            EntryKind::Unreadable(encrypted("the member"))
        } else {
            match archive.by_index(index) {
                Ok(mut file) => {
                    let mut data = meter.reader(&mut file, Compressed::Declared(compressed));
                    let flow = visit(Entry { name, kind: EntryKind::File { data: &mut data } });
                    if flow == Flow::Stop {
                        return Ok(());
                    }
                    continue;
                }
                Err(ZipError::UnsupportedArchive(what)) => EntryKind::Unreadable(unsupported(what)),
                Err(e) => EntryKind::Unreadable(damaged("the member", e)),
            }
        };
        if visit(Entry { name, kind }) == Flow::Stop {
            return Ok(());
        }
    }
    Ok(())
}

/// A ZIP whose central directory is missing or damaged (a download cut short, a file
/// carved from a disk), or names two members alike: its members read front to back from their
/// own headers, as far as they go. Never clean when the directory is damaged (`directory`):
/// that is the archive's error, whatever was read.
fn from_local_headers<R: Read + Seek>(
    mut source: R,
    meter: &Meter,
    visit: &mut dyn FnMut(Entry) -> Flow,
    directory: Option<ZipError>,
) -> Result<(), FileError> {
    let damage = |what: &str| match &directory {
        Some(error) => format!("the ZIP archive is damaged ({error}); {what}"),
        None => format!("the ZIP archive names two members alike; {what}"),
    };
    if let Err(e) = source.seek(SeekFrom::Start(0)) {
        return Err(damaged("the ZIP archive", e));
    }
    let mut cursor = io::BufReader::new(source);
    let mut index = 0;
    let ended = loop {
        index += 1;
        let mut file = match zip::read::read_zipfile_from_stream(&mut cursor) {
            Ok(Some(file)) => file,
            Ok(None) if directory.is_none() => return Ok(()),
            Ok(None) => break "its members were read from their own headers".to_string(),
            Err(e) => break format!("members were read from their own headers up to: {e}"),
        };
        let name = file.name().map_or_else(|_| format!("(member {index})"), |n| n.into_owned());
        if file.is_dir() {
            continue;
        }
        let kind = if file.encrypted() {
            EntryKind::Unreadable(encrypted("the member"))
        } else {
            let compressed = Compressed::Declared(file.compressed_size());
            let mut data = meter.reader(&mut file, compressed);
            match visit(Entry { name, kind: EntryKind::File { data: &mut data } }) {
                Flow::Next => continue,
                Flow::Stop => return Ok(()),
                // Dropping the member skips its compressed bytes unread (zip's `Drop`).
                Flow::Abandoned(setting) => {
                    return Err(FileError::limit(
                        setting,
                        damage(&format!("not read past {index} members")),
                        ": the members after it were not screened",
                    ));
                }
            }
        };
        if visit(Entry { name, kind }) == Flow::Stop {
            return Ok(());
        }
    };
    Err(FileError::corrupt(damage(&ended)))
}

/// The member count the end of central directory record declares (its 16-bit field; `None`
/// where there is no record, or the count is in a ZIP64 record).
fn declared_members(source: &mut (impl Read + Seek)) -> Option<u64> {
    // The record is 22 bytes and a comment of up to 65,535.
    let size = source.seek(SeekFrom::End(0)).ok()?;
    source.seek(SeekFrom::Start(size.saturating_sub(22 + 65_535))).ok()?;
    let mut tail = Vec::new();
    source.read_to_end(&mut tail).ok()?;
    let at = memchr::memmem::rfind(&tail, b"PK\x05\x06")?;
    let record = tail.get(at..at + 22)?;
    let count = u16::from_le_bytes([record[10], record[11]]);
    (count != u16::MAX).then_some(u64::from(count))
}

/// What the `zip` crate cannot read: a password (its words), or a compression method it
/// lacks.
fn unsupported(what: &str) -> FileError {
    if what == ZipError::PASSWORD_REQUIRED || what.to_lowercase().contains("encrypt") {
        return encrypted("the member");
    }
    FileError::new(
        FileErrorKind::Unsupported { media_type: "application/zip".into() },
        format!("a ZIP feature mediascreen cannot read: {what}"),
    )
}
