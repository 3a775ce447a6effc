//! Programs' answers the store keeps: the first line of `-version` of each ffmpeg and ffprobe
//! a scan used, by the binary's identity, so that a re-scan with the same binaries does not
//! start them (each start loads ffmpeg's libraries: about as long as a re-scan of a few
//! hundred unchanged files takes).
//!
//! Owns when a kept answer stands in: the binary's device, inode, size and times unchanged,
//! and not changed within a timestamp tick of the asking (as for files). Must not find or
//! run programs: the caller says which binary and how to ask it.

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use rusqlite::{params, Connection, OptionalExtension};

use super::{now_ns, Identity, RACY_NS};

/// The store's kept answers, asked from any thread.
pub struct Tools {
    connection: Mutex<Connection>,
}

impl Tools {
    pub(super) fn new(connection: Connection) -> Tools {
        Tools { connection: Mutex::new(connection) }
    }

    /// What `ask` says of the binary at `program` (an absolute path): kept from an earlier
    /// scan when the binary is unchanged, else asked, and kept when it answers. A store that
    /// cannot be read or written only costs the asking.
    pub fn version(&self, program: &Path, ask: impl FnOnce() -> Option<String>) -> Option<String> {
        let Some(identity) = identity(program) else { return ask() };
        let key = program.as_os_str().as_encoded_bytes();
        let lock = || self.connection.lock().unwrap_or_else(PoisonError::into_inner);
        let kept: Option<(Identity, i64, String)> = lock()
            .query_row(
                "SELECT device, inode, size, mtime_ns, ctime_ns, seen_ns, version FROM tools
                 WHERE path = ?1",
                [&key],
                |r| {
                    let identity = Identity {
                        device: r.get::<_, i64>(0)? as u64,
                        inode: r.get::<_, i64>(1)? as u64,
                        size: r.get::<_, i64>(2)? as u64,
                        mtime_ns: r.get(3)?,
                        ctime_ns: r.get(4)?,
                    };
                    Ok((identity, r.get(5)?, r.get(6)?))
                },
            )
            .optional()
            .ok()
            .flatten();
        if let Some((kept_identity, seen_ns, version)) = kept {
            let racy = identity.mtime_ns.saturating_add(RACY_NS) > seen_ns;
            if kept_identity == identity && !racy {
                return Some(version);
            }
        }
        let seen_ns = now_ns();
        // Asked without the lock: ffmpeg and ffprobe are asked side by side.
        let version = ask()?;
        let Identity { device, inode, size, mtime_ns, ctime_ns } = identity;
        let _ = lock().execute(
            "INSERT OR REPLACE INTO tools (path, device, inode, size, mtime_ns, ctime_ns,
               seen_ns, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                key,
                device as i64,
                inode as i64,
                size as i64,
                mtime_ns,
                ctime_ns,
                seen_ns,
                version
            ],
        );
        Some(version)
    }
}

/// The binary's identity as it is now (through links, as running it goes); `None` where
/// the platform has none or it cannot be read: then it is always asked.
#[cfg(unix)]
fn identity(program: &Path) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(program).ok()?;
    let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
    Some(Identity {
        device: m.dev(),
        inode: m.ino(),
        size: m.size(),
        mtime_ns: ns(m.mtime(), m.mtime_nsec()),
        ctime_ns: ns(m.ctime(), m.ctime_nsec()),
    })
}

#[cfg(not(unix))]
fn identity(_program: &Path) -> Option<Identity> {
    None
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::store::{open, Opening};

    /// Writes `text` to `path`, modified `ago` before now.
    fn write(path: &Path, text: &str, ago: Duration) {
        std::fs::write(path, text).unwrap();
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::now() - ago).unwrap();
    }

    #[test]
    fn an_unchanged_binary_is_asked_once_and_a_changed_or_racy_one_again() {
        let dir = tempfile::tempdir().unwrap();
        let tools = Tools::new(open(&dir.path().join("audit.db"), Opening::Create).unwrap());
        let program = dir.path().join("ffmpeg");
        let asked = Cell::new(0);
        let ask = |answer: &str| {
            asked.set(asked.get() + 1);
            Some(answer.to_string())
        };
        let hour = Duration::from_secs(3600);
        write(&program, "one", hour);
        assert_eq!(tools.version(&program, || ask("v1")).as_deref(), Some("v1"));
        assert_eq!(tools.version(&program, || ask("v2")).as_deref(), Some("v1"));
        assert_eq!(asked.get(), 1, "kept while the binary is unchanged");

        write(&program, "a new build", hour / 2);
        assert_eq!(tools.version(&program, || ask("v2")).as_deref(), Some("v2"));
        assert_eq!(tools.version(&program, || ask("v3")).as_deref(), Some("v2"));
        assert_eq!(asked.get(), 2, "asked again once it changed");

        // Changed within a tick of being asked: it could change again unseen.
        write(&program, "racy", Duration::ZERO);
        assert_eq!(tools.version(&program, || ask("v4")).as_deref(), Some("v4"));
        assert_eq!(tools.version(&program, || ask("v5")).as_deref(), Some("v5"));
        // A program that does not answer is not kept, and one that is not there is asked.
        assert_eq!(tools.version(&dir.path().join("gone"), || None), None);
        assert_eq!(tools.version(&dir.path().join("gone"), || ask("v6")).as_deref(), Some("v6"));
    }
}
