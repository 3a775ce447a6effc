//! Turning the paths a user names into the ordered list of things to scan.
//!
//! Owns traversal order (sorted by file name, depth first, so output never depends on the
//! file system or the thread count), de-duplication of paths named twice, the decision of
//! what is not scanned at all (symbolic links that are not followed, FIFOs, sockets, devices),
//! the paths `--include`, `--exclude` and `--max-depth` leave out ([`Filter`]), and which
//! paths belong to one worker's share of a sharded scan ([`Shard`]).
//! Must not open file contents: a FIFO must never be opened, and reading belongs to the scan.

use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use crate::error::{Error, FileError, Reason, Setting};

/// One path found by the walk, and what the walk decided about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The path, built from the root as the user gave it.
    pub path: PathBuf,
    /// What to do with it.
    pub kind: CandidateKind,
    /// For a file to read, which file the walk found at the path: the scan reads that file
    /// or reports that the tree changed. `None` where the platform has no file identity.
    pub id: Option<FileId>,
}

/// Which file the walk found at a path. The tree can change between the walk and the read
/// (a file renamed over, replaced by a link or a FIFO); what is opened must be this file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileId {
    /// The device the file is on (`st_dev`).
    pub dev: u64,
    /// Its inode number (`st_ino`).
    pub ino: u64,
    /// Whether the path is a symbolic link the walk followed (`--follow-symlinks`): only
    /// then may the scan's open follow a link at the path.
    pub through_link: bool,
    /// Its size in bytes when the walk saw it.
    pub size: u64,
    /// Its modification time then, in nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// Its status change time then, in nanoseconds since the Unix epoch.
    pub ctime_ns: i64,
}

/// The walk's verdict on a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CandidateKind {
    /// A regular file (or a followed link to one): read and scan it.
    File,
    /// Deliberately not scanned, with the reason.
    Skip(Reason),
    /// A regular file left out by the scan's budget ([`crate::scan::ScanOptions::max_files`],
    /// [`max_scan_size`](crate::scan::ScanOptions::max_scan_size)), with the reason: never the
    /// walk's verdict, but not screened all the same.
    OverBudget(Reason),
    /// Could not be listed or inspected.
    Error(FileError),
    /// An object in a bucket: read it and scan it.
    Object(Box<crate::bucket::Object>),
}

/// Which paths a walk yields, besides following links or not.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Descend at most this many levels below each root (0: the roots themselves only).
    pub max_depth: Option<usize>,
    /// When not empty, only files whose path below their root matches one of these globs.
    pub include: GlobSet,
    /// Files, and folders not descended, whose path below their root matches one of these.
    pub exclude: GlobSet,
    /// Only the paths of this shard.
    pub shard: Option<Shard>,
    /// Files never yielded, by canonical path: a report being written inside a scanned
    /// folder, which is output, not content to screen.
    pub leave_out: Vec<PathBuf>,
}

/// One of `count` disjoint slices of a walk, `index` counted from 0: what one of `count`
/// uncoordinated workers scans. A path belongs to the shard numbered by the first 8 bytes of
/// the SHA-256 of its bytes below its root (the path itself for a root that is a file), read
/// big-endian, modulo `count`. So the slices depend only on the names below the roots, not on
/// the machine, the mount point or the walk order, and together cover every path exactly once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This slice, `0..count`.
    pub index: u32,
    /// How many slices there are, 1 or more.
    pub count: u32,
}

impl Shard {
    /// Builds shard `index` of `count`, which must be in `0..count`.
    pub fn new(index: u32, count: u32) -> Result<Shard, Error> {
        if count == 0 {
            return Err(Error::Config(format!(
                "{index}/{count}: N, the number of shards, must be 1 or more"
            )));
        }
        if index >= count {
            return Err(Error::Config(format!(
                "{index}/{count}: the shard number K must be from 0 to {}",
                count.saturating_sub(1)
            )));
        }
        Ok(Shard { index, count })
    }

    /// Whether `path`, found below `root`, is in this shard.
    pub fn takes(&self, root: &Path, path: &Path) -> bool {
        let relative = match path.strip_prefix(root) {
            Ok(relative) if !relative.as_os_str().is_empty() => relative,
            _ => path,
        };
        let digest = Sha256::digest(relative.as_os_str().as_encoded_bytes());
        let head = u64::from_be_bytes(digest[..8].try_into().expect("SHA-256 has 32 bytes"));
        head % u64::from(self.count) == u64::from(self.index)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = Error;

    /// `K/N`, as the report's `settings.shard` writes it.
    fn from_str(text: &str) -> Result<Shard, Error> {
        let parsed = text.split_once('/').and_then(|(k, n)| {
            Some((k.trim().parse::<u32>().ok()?, n.trim().parse::<u32>().ok()?))
        });
        match parsed {
            Some((index, count)) => Shard::new(index, count),
            None => {
                Err(Error::Config(format!("expected a shard as K/N (e.g. 2/7), found {text:?}")))
            }
        }
    }
}

impl PartialEq for Filter {
    /// Filters compare by depth and by how many globs they hold (`GlobSet` has no equality):
    /// enough for options structs to derive `PartialEq`.
    fn eq(&self, other: &Filter) -> bool {
        (self.max_depth, self.include.len(), self.exclude.len(), self.shard, &self.leave_out)
            == (
                other.max_depth,
                other.include.len(),
                other.exclude.len(),
                other.shard,
                &other.leave_out,
            )
    }
}

impl Filter {
    /// Builds the glob sets of `--include` and `--exclude` (`*` crosses folder separators, as
    /// in ripgrep's `--glob`; `**/` is also understood), matching letters of either case when
    /// `ignore_case` (`--glob-case-insensitive`: cameras write `.JPG`, phones `.jpg`).
    pub fn new(
        max_depth: Option<usize>,
        include: &[String],
        exclude: &[String],
        ignore_case: bool,
    ) -> Result<Filter, Error> {
        let set = |globs: &[String]| -> Result<GlobSet, Error> {
            let mut builder = GlobSetBuilder::new();
            for glob in globs {
                let parsed = GlobBuilder::new(glob).case_insensitive(ignore_case).build();
                builder.add(parsed.map_err(|e| Error::Config(format!("bad glob {glob:?}: {e}")))?);
            }
            builder.build().map_err(|e| Error::Config(e.to_string()))
        };
        Ok(Filter {
            max_depth,
            include: set(include)?,
            exclude: set(exclude)?,
            shard: None,
            leave_out: Vec::new(),
        })
    }

    /// Whether an object whose key below the listed prefix is `relative` is walked: as a
    /// file at that path below a root would be (a bucket has no folders to leave out, so an
    /// excluded folder leaves out every key below it).
    #[cfg_attr(not(feature = "buckets"), allow(dead_code))]
    pub(crate) fn keeps_key(&self, relative: &str) -> bool {
        let depth = relative.split('/').count();
        if self.max_depth.is_some_and(|max| depth > max) {
            return false;
        }
        let folders = relative.match_indices('/').map(|(at, _)| &relative[..at]);
        if folders.chain([relative]).any(|part| self.exclude.is_match(part)) {
            return false;
        }
        (self.include.is_empty() || self.include.is_match(relative))
            && self.shard.is_none_or(|s| s.takes(Path::new(""), Path::new(relative)))
    }

    fn keeps(&self, root: &Path, path: &Path, is_dir: bool) -> bool {
        let relative = path.strip_prefix(root).unwrap_or(path);
        if relative.as_os_str().is_empty() {
            return true; // a root is always taken: the user named it
        }
        if self.exclude.is_match(relative) {
            return false;
        }
        is_dir || self.include.is_empty() || self.include.is_match(relative)
    }
}

/// Walks `roots` in order. Directories are descended sorted by file name; symbolic links are
/// followed only when `follow_symlinks` is set (a root given as a link is always followed,
/// since the user named it). Paths `filter` leaves out are not yielded at all; a path named
/// twice is yielded once, and (when the filter has a shard) only by the shard its first
/// naming falls in.
pub fn walk(roots: &[PathBuf], follow_symlinks: bool, filter: &Filter) -> Vec<Candidate> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut seen_urls = HashSet::new();
    for root in roots {
        if crate::bucket::is_url(root) {
            let url = root.to_str().expect("a URL is UTF-8");
            out.extend(crate::bucket::list(url, filter, &mut seen_urls));
            continue;
        }
        let mut walker = WalkDir::new(root).follow_links(follow_symlinks).sort_by_file_name();
        if let Some(depth) = filter.max_depth {
            walker = walker.max_depth(depth);
        }
        // Without links followed, every path below a root is its canonical form under the
        // root's: one canonicalisation a root rather than one (a readlink per component) a file.
        let canonical_root = (!follow_symlinks).then(|| fs::canonicalize(root).ok()).flatten();
        let walker = walker
            .into_iter()
            .filter_entry(|e| filter.keeps(root, e.path(), e.file_type().is_dir()));
        for entry in walker {
            let candidate = match entry {
                Ok(entry) => {
                    if entry.file_type().is_dir() {
                        continue;
                    }
                    let (kind, id) = match classify(entry.path(), entry.file_type()) {
                        CandidateKind::File => identify(&entry),
                        other => (other, None),
                    };
                    Candidate { kind, id, path: entry.into_path() }
                }
                Err(err) => Candidate {
                    path: err.path().unwrap_or(root).to_path_buf(),
                    kind: CandidateKind::Error(walk_error_reason(&err)),
                    id: None,
                },
            };
            // Canonical paths catch the same file named twice (`a/` and `a/x.jpg`, or `./a`).
            // Only for files read: a skipped link must not hide the file it points to.
            let key = match (&candidate.kind, &canonical_root) {
                (CandidateKind::File, Some(canonical)) => match candidate.path.strip_prefix(root) {
                    Ok(relative) if relative.as_os_str().is_empty() => canonical.clone(),
                    Ok(relative) => canonical.join(relative),
                    Err(_) => candidate.path.clone(),
                },
                (CandidateKind::File, None) => {
                    fs::canonicalize(&candidate.path).unwrap_or_else(|_| candidate.path.clone())
                }
                _ => candidate.path.clone(),
            };
            if candidate.kind == CandidateKind::File && filter.leave_out.contains(&key) {
                continue;
            }
            // De-duplicated before sharding: every shard drops the same repeats.
            if seen.insert(key) && filter.shard.is_none_or(|s| s.takes(root, &candidate.path)) {
                out.push(candidate);
            }
        }
    }
    out
}

fn classify(path: &Path, file_type: fs::FileType) -> CandidateKind {
    if file_type.is_file() {
        return CandidateKind::File;
    }
    if file_type.is_symlink() {
        // Only reached when links are not followed (walkdir resolves them otherwise).
        return CandidateKind::Skip(Reason::naming(
            Setting::FollowSymlinks,
            "symbolic link not followed",
            "",
        ));
    }
    CandidateKind::Skip(Reason::new(format!(
        "not a regular file ({})",
        special_kind(path, file_type)
    )))
}

/// A regular file's [`FileId`], from the same metadata the open will be checked against
/// (the link's target when the walk follows links). A file that is gone or no longer regular
/// by now is decided here, as the walk would have.
#[cfg(unix)]
fn identify(entry: &walkdir::DirEntry) -> (CandidateKind, Option<FileId>) {
    use std::os::unix::fs::MetadataExt;
    match entry.metadata() {
        Ok(metadata) if metadata.is_file() => {
            let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
            let id = FileId {
                dev: metadata.dev(),
                ino: metadata.ino(),
                through_link: entry.path_is_symlink(),
                size: metadata.size(),
                mtime_ns: ns(metadata.mtime(), metadata.mtime_nsec()),
                ctime_ns: ns(metadata.ctime(), metadata.ctime_nsec()),
            };
            (CandidateKind::File, Some(id))
        }
        Ok(metadata) => (classify(entry.path(), metadata.file_type()), None),
        Err(err) => (CandidateKind::Error(walk_error_reason(&err)), None),
    }
}

#[cfg(not(unix))]
fn identify(_entry: &walkdir::DirEntry) -> (CandidateKind, Option<FileId>) {
    (CandidateKind::File, None)
}

/// What a file that is not regular is, in a reason.
#[cfg(unix)]
pub(crate) fn special_kind(_path: &Path, file_type: fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_dir() {
        "directory"
    } else if file_type.is_fifo() {
        "fifo"
    } else if file_type.is_socket() {
        "socket"
    } else if file_type.is_block_device() {
        "block device"
    } else if file_type.is_char_device() {
        "character device"
    } else {
        "unknown type"
    }
}

/// What a file that is not regular is, in a reason.
#[cfg(not(unix))]
pub(crate) fn special_kind(_path: &Path, file_type: fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "directory"
    } else {
        "unknown type"
    }
}

fn walk_error_reason(err: &walkdir::Error) -> FileError {
    if let Some(ancestor) = err.loop_ancestor() {
        return FileError::io(format!("symbolic link loop back to {}", ancestor.display()));
    }
    match err.io_error() {
        Some(io) => FileError::io(io),
        None => FileError::io(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_is_sorted_and_deduplicated() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.jpg", "a/z.png", "a/c.txt", "C.gif"] {
            let p = dir.path().join(name);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, b"x").unwrap();
        }
        let roots = vec![dir.path().to_path_buf(), dir.path().join("b.jpg")];
        let found: Vec<_> = walk(&roots, false, &Filter::default())
            .into_iter()
            .map(|c| c.path.strip_prefix(dir.path()).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(found, ["C.gif", "a/c.txt", "a/z.png", "b.jpg"]);
    }

    #[test]
    fn globs_and_depth_choose_what_is_walked() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.jpg", "b.txt", "sub/c.jpg", "sub/deeper/d.jpg", "cache/e.jpg"] {
            let p = dir.path().join(name);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, b"x").unwrap();
        }
        let names = |filter: &Filter| -> Vec<String> {
            walk(&[dir.path().to_path_buf()], false, filter)
                .into_iter()
                .map(|c| c.path.strip_prefix(dir.path()).unwrap().to_string_lossy().into_owned())
                .collect()
        };
        let globs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let jpegs = Filter::new(None, &globs(&["*.jpg"]), &globs(&["cache"]), false).unwrap();
        assert_eq!(names(&jpegs), ["a.jpg", "sub/c.jpg", "sub/deeper/d.jpg"]);
        let shallow = Filter::new(Some(2), &[], &globs(&["**/deeper", "*.txt"]), false).unwrap();
        assert_eq!(names(&shallow), ["a.jpg", "cache/e.jpg", "sub/c.jpg"]);
        assert!(Filter::new(None, &globs(&["a[.jpg"]), &[], false).is_err());
        let upper = Filter::new(None, &globs(&["*.JPG"]), &[], true).unwrap();
        assert!(upper.include.is_match("a/b.jpg") && upper.include.is_match("c.Jpg"));
        let exact = Filter::new(None, &globs(&["*.JPG"]), &[], false).unwrap();
        assert!(!exact.include.is_match("a/b.jpg"));
    }

    #[test]
    fn shards_cover_every_path_once() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..60 {
            let p = dir.path().join(format!("d{}/f{i}.jpg", i % 4));
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, b"x").unwrap();
        }
        // The same file named a second time, as a root of its own, is scanned once.
        let roots = vec![dir.path().to_path_buf(), dir.path().join("d1/f1.jpg")];
        let all: Vec<_> =
            walk(&roots, false, &Filter::default()).into_iter().map(|c| c.path).collect();
        assert_eq!(all.len(), 60);
        for count in [1, 3, 7] {
            let mut union = Vec::new();
            for index in 0..count {
                let filter =
                    Filter { shard: Some(Shard::new(index, count).unwrap()), ..Filter::default() };
                let part: Vec<_> =
                    walk(&roots, false, &filter).into_iter().map(|c| c.path).collect();
                assert!(count == 1 || part.len() < 60, "shard {index}/{count} took everything");
                union.extend(part);
            }
            union.sort();
            let mut expected = all.clone();
            expected.sort();
            assert_eq!(union, expected, "{count} shards");
        }
        // Only the names below the root count: the same tree elsewhere splits the same way.
        let shard = Shard::new(1, 3).unwrap();
        assert_eq!(
            shard.takes(Path::new("/a"), Path::new("/a/x/y.jpg")),
            shard.takes(Path::new("b/c"), Path::new("b/c/x/y.jpg"))
        );
    }

    #[test]
    fn files_left_out_are_not_walked_whatever_the_path_they_are_reached_by() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.jpg", "sub/report.json", "sub/z.jpg"] {
            let p = dir.path().join(name);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, b"x").unwrap();
        }
        let report = fs::canonicalize(dir.path().join("sub/report.json")).unwrap();
        let filter = Filter { leave_out: vec![report], ..Filter::default() };
        let roots = vec![dir.path().join("sub/../."), dir.path().join("sub/./report.json")];
        let found: Vec<_> = walk(&roots, false, &filter)
            .into_iter()
            .map(|c| c.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(found, ["a.jpg", "z.jpg"]);
    }

    #[test]
    fn shards_parse_and_print_as_k_of_n() {
        assert_eq!("2/7".parse::<Shard>().unwrap(), Shard { index: 2, count: 7 });
        assert_eq!(Shard { index: 2, count: 7 }.to_string(), "2/7");
        for bad in ["7/7", "1/0", "a/3", "3", "-1/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn missing_root_is_an_error_candidate() {
        let found =
            walk(&[PathBuf::from("/nonexistent/mediascreen-test")], false, &Filter::default());
        assert_eq!(found.len(), 1);
        assert!(matches!(found[0].kind, CandidateKind::Error(_)));
    }

    #[cfg(unix)]
    #[test]
    fn links_are_skipped_unless_followed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("real.jpg"), b"x").unwrap();
        std::os::unix::fs::symlink("real.jpg", dir.path().join("link.jpg")).unwrap();
        let kinds: Vec<_> = walk(&[dir.path().to_path_buf()], false, &Filter::default())
            .into_iter()
            .map(|c| c.kind)
            .collect();
        assert!(matches!(kinds[0], CandidateKind::Skip(_)));
        assert_eq!(kinds[1], CandidateKind::File);
        // Followed, the link leads to the same file, which is scanned once.
        assert_eq!(walk(&[dir.path().to_path_buf()], true, &Filter::default()).len(), 1);
    }
}
