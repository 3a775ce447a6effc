//! 7z archives, through `sevenz-rust2`, on one thread and with its memory bounded.
//!
//! Owns reading a 7z's entries in order. Must not let the decoder run ahead on threads of its
//! own or take a dictionary the size of the machine (both are set here), nor drain a member
//! it stopped reading (a solid block's rest is skipped instead, and reported).

use std::io::{Read, Seek};

use sevenz_rust2::{ArchiveReader, EntryDecision, Error, Password};

use super::{damaged, encrypted, Compressed, Entry, EntryKind, Flow, Meter};
use crate::error::{FileError, FileErrorKind};

/// The decoder's own memory bound (dictionaries, models), in KiB: 7-Zip's largest usual
/// dictionary is 256 MiB, and a file asking for more is refused rather than obeyed.
const MEMORY_LIMIT_KB: usize = 512 * 1024;

pub(super) fn open(
    source: impl Read + Seek,
    meter: &Meter,
    visit: &mut dyn FnMut(Entry) -> Flow,
) -> Result<(), FileError> {
    let mut reader =
        ArchiveReader::new_with_memory_limit(source, Password::empty(), MEMORY_LIMIT_KB)
            .map_err(|e| error("the 7z archive", e))?;
    reader.set_thread_count(1);
    // A block cut short leaves its other members unread: reported once the rest is read.
    let mut cut: Option<(String, crate::error::Setting)> = None;
    let result = reader.for_each_entries_with_decision(|entry, data| {
        if entry.is_directory {
            return Ok(EntryDecision::Continue);
        }
        let mut data = meter.reader(data, Compressed::Unknown);
        let flow =
            visit(Entry { name: entry.name.clone(), kind: EntryKind::File { data: &mut data } });
        Ok(match flow {
            Flow::Next => EntryDecision::Continue,
            Flow::Abandoned(setting) => {
                cut.get_or_insert((entry.name.clone(), setting));
                EntryDecision::SkipBlock
            }
            Flow::Stop => EntryDecision::Stop,
        })
    });
    result.map_err(|e| error("the 7z archive", e))?;
    match cut {
        Some((name, setting)) => Err(FileError::limit(
            setting,
            format!("not read past {name}, which was stopped at a limit"),
            ": the members after it in its block were not screened",
        )),
        None => Ok(()),
    }
}

fn error(what: &str, error: Error) -> FileError {
    match error {
        Error::PasswordRequired | Error::MaybeBadPassword(_) => encrypted(what),
        Error::UnsupportedCompressionMethod(method) if method.to_uppercase().contains("AES") => {
            encrypted(what)
        }
        Error::UnsupportedCompressionMethod(method) => FileError::new(
            FileErrorKind::Unsupported { media_type: "application/x-7z-compressed".into() },
            format!("{what} uses a compression method mediascreen cannot read: {method}"),
        ),
        error => damaged(what, error),
    }
}
