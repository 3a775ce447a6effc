//! Opening a file the walk found, and reading it once.
//!
//! Owns the guarantees that what is hashed is the file the walk saw and all of it: no link
//! followed that the walk did not follow, no FIFO or device opened in a regular file's place,
//! no pseudo file system read, and no more read than `fstat` said at open (one byte more, to
//! notice growth). Must not sniff, decode or hash: the bytes go back to [`crate::scan`].

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::{FileError, FileErrorKind, Reason, Setting};
use crate::walk::{special_kind, FileId};

/// Opens `path` for reading if it is a regular file, and says how big `fstat` says it is.
///
/// The walk saw a regular file there (`walked`, when it came from the walk), but the tree may
/// change under a scan: the open never waits (a FIFO put in its place would block for ever),
/// never follows a link the walk did not follow, and what was opened must be the file the walk
/// saw, else the tree changed during the scan and the file is an error. Files of pseudo file
/// systems (`/proc`, `/sys`), which yield endless or changing data whatever their size says,
/// are refused.
pub(crate) fn open_regular(path: &Path, walked: Option<&FileId>) -> Result<(File, u64), FileError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
        if walked.is_some_and(|id| !id.through_link) {
            flags |= libc::O_NOFOLLOW;
        }
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, flags);
    }
    let file = options.open(path).map_err(|e| open_error(path, &e, walked))?;
    let metadata = file.metadata().map_err(FileError::io)?;
    if !metadata.is_file() {
        return Err(match walked {
            Some(_) => changed_to(path, metadata.file_type()),
            None => FileError::io(format!(
                "not a regular file ({})",
                special_kind(path, metadata.file_type())
            )),
        });
    }
    #[cfg(unix)]
    if let Some(id) = walked {
        use std::os::unix::fs::MetadataExt;
        if (metadata.dev(), metadata.ino()) != (id.dev, id.ino) {
            return Err(FileError::io(
                "changed during the scan: another file is at this path now (renamed or linked \
                 over the one walked)",
            ));
        }
    }
    if let Some(name) = pseudo_file_system(&file) {
        return Err(FileError::io(format!(
            "on {name}, a pseudo file system: not read (its files are the kernel's live \
             state, not stored data, and need not end where their size says)"
        )));
    }
    Ok((file, metadata.len()))
}

/// Why `path` could not be opened. Where the walk found a regular file, a link (which the
/// open does not follow) or a socket (which cannot be opened) there now is a change.
fn open_error(path: &Path, error: &std::io::Error, walked: Option<&FileId>) -> FileError {
    let now = walked.and_then(|_| std::fs::symlink_metadata(path).ok());
    match (now.map(|m| m.file_type()), walked) {
        (Some(now), Some(id)) if now.is_symlink() && !id.through_link => FileError {
            kind: FileErrorKind::Io,
            reason: Reason::naming(
                Setting::FollowSymlinks,
                "changed during the scan: now a symbolic link, not followed",
                "",
            ),
        },
        (Some(now), Some(_)) if !now.is_file() && !now.is_symlink() => changed_to(path, now),
        _ => FileError::io(error),
    }
}

/// The reason for a path the walk found a regular file at and that is now of `file_type`.
fn changed_to(path: &Path, file_type: std::fs::FileType) -> FileError {
    let kind = special_kind(path, file_type);
    FileError::io(format!("changed during the scan: now a {kind}, not the regular file walked"))
}

/// The pseudo file system `file` is on, if it is on one: the kernel's views of processes,
/// devices and its own state (magic numbers from `linux/magic.h`). `/dev` is devtmpfs, the
/// same type as any tmpfs; its devices are not regular files, so they never get this far.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn pseudo_file_system(file: &File) -> Option<&'static str> {
    use std::os::fd::AsRawFd;
    const PSEUDO: [(u32, &str); 11] = [
        (0x0000_9fa0, "proc"),
        (0x6265_6572, "sysfs"),
        (0x6462_6720, "debugfs"),
        (0x7472_6163, "tracefs"),
        (0x7363_6673, "securityfs"),
        (0x6265_6570, "configfs"),
        (0xde5e_81e4, "efivarfs"),
        (0x6165_676c, "pstore"),
        (0x0027_e0eb, "cgroup"),
        (0x6367_7270, "cgroup2"),
        (0xcafe_4a11, "bpf"),
    ];
    let mut stat = std::mem::MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: `fstatfs` fills in the `statfs` it is given, for a descriptor open throughout.
    if unsafe { libc::fstatfs(file.as_raw_fd(), stat.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: zeroed is a valid `statfs` (plain integers), and the call succeeded.
    let stat = unsafe { stat.assume_init() };
    // The field's type differs between C libraries; every magic number fits in 32 bits.
    let magic = stat.f_type as u32;
    PSEUDO.iter().find(|(m, _)| *m == magic).map(|(_, name)| *name)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn pseudo_file_system(_file: &File) -> Option<&'static str> {
    None
}

/// Reads the `size` bytes `fstat` gave from `reader`, and tries one more: a file that is
/// shorter or longer than it said changed while it was read (or is not a file at all), and
/// its bytes are not the file's. Nothing past `size + 1` bytes is read or held.
pub(crate) fn read_sized(reader: &mut impl Read, size: u64) -> Result<Vec<u8>, FileError> {
    let capacity = usize::try_from(size).map_err(|_| {
        FileError::limit(Setting::MaxFileSize, format!("{size} bytes do not fit here"), "")
    })?;
    let mut bytes = Vec::with_capacity(capacity);
    reader.by_ref().take(size).read_to_end(&mut bytes).map_err(FileError::io)?;
    same_size(bytes.len() as u64, size, reader)?;
    Ok(bytes)
}

/// `Err` unless `read` is the `size` bytes `fstat` said, and `reader` is at its end.
pub(crate) fn same_size(read: u64, size: u64, reader: &mut impl Read) -> Result<(), FileError> {
    if read < size {
        return Err(FileError::io(format!(
            "changed during the scan: {size} bytes when opened, only {read} could be read"
        )));
    }
    let mut probe = [0u8; 1];
    loop {
        match reader.read(&mut probe) {
            Ok(0) => return Ok(()),
            Ok(_) => {
                return Err(FileError::io(format!(
                    "changed during the scan: it grew past the {size} bytes it had when opened"
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FileError::io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stop_one_byte_past_the_size_at_open() {
        // Endless (`/dev/zero`-like): one byte past the size, then the error.
        let mut endless = std::io::repeat(1);
        let error = read_sized(&mut endless, 10).unwrap_err();
        assert_eq!(error.kind, FileErrorKind::Io);
        assert_eq!(
            error.to_string(),
            "changed during the scan: it grew past the 10 bytes it had when opened"
        );
        let mut zero_said = std::io::repeat(1);
        let error = read_sized(&mut zero_said, 0).unwrap_err().to_string();
        assert!(error.contains("grew past the 0 bytes"));
        // Shorter than it said, and exactly what it said.
        let error = read_sized(&mut &[1u8; 4][..], 10).unwrap_err().to_string();
        assert_eq!(error, "changed during the scan: 10 bytes when opened, only 4 could be read");
        assert_eq!(read_sized(&mut &[1u8; 10][..], 10).unwrap(), [1u8; 10]);
    }
}
