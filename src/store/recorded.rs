//! Everything a store recorded, read in bulk for `rescreen`: each file's latest state and,
//! for each content, the latest result any setup kept, its hashes streamed in content order.
//!
//! Owns the bulk queries (one pass over each table, never a query per file: a million files
//! are read in seconds). Must not write to the store, and must not decide matches.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rusqlite::{Connection, OpenFlags};

use super::{connect, hash_row, media_type_of, open, rows, Opening, StoreError};
use crate::error::FileError;
use crate::hash::{Algorithm, FileHashes, HashValue};

/// A file as the store last recorded it.
#[derive(Clone, Debug)]
pub struct RecordedFile {
    /// Its path, as the store keys it (absolute).
    pub path: PathBuf,
    /// Its content (an id within this store).
    pub content: i64,
}

/// A content the store recorded.
#[derive(Clone, Debug)]
pub struct RecordedContent {
    /// Its SHA-256.
    pub sha256: HashValue,
    /// Its size in bytes.
    pub size: u64,
    /// The latest result kept of it, under whichever setup; `None` when only its digest
    /// was recorded (an archive, a file too big to hold, or one whose hashes were not kept).
    pub result: Option<RecordedResult>,
}

/// What one scan computed from a content.
#[derive(Clone, Debug)]
pub struct RecordedResult {
    /// The algorithms that scan asked for.
    pub algorithms: std::sync::Arc<BTreeSet<Algorithm>>,
    /// MIME type from the content.
    pub media_type: &'static str,
    /// Why its perceptual hashes are missing (only `corrupt` is kept).
    pub error: Option<FileError>,
    setup: i64,
    /// The scan that computed it: a content's latest result is the one of its latest scan.
    scan: i64,
    video: Option<(f64, f64)>,
}

/// The contents a store recorded, by id: SQLite numbers them from 1 with few gaps, so a
/// vector indexed by id (a million of them read in a fraction of the time a hash map took).
#[derive(Debug, Default)]
pub struct Contents(Vec<Option<RecordedContent>>);

impl Contents {
    /// The content with this id, if the store recorded it.
    pub fn get(&self, id: i64) -> Option<&RecordedContent> {
        self.0.get(usize::try_from(id).ok()?)?.as_ref()
    }

    fn get_mut(&mut self, id: i64) -> Option<&mut RecordedContent> {
        self.0.get_mut(usize::try_from(id).ok()?)?.as_mut()
    }

    /// Every content, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (i64, &RecordedContent)> {
        self.0.iter().enumerate().filter_map(|(id, c)| Some((id as i64, c.as_ref()?)))
    }
}

impl std::ops::Index<i64> for Contents {
    type Output = RecordedContent;

    fn index(&self, id: i64) -> &RecordedContent {
        self.get(id).expect("a content the store recorded")
    }
}

/// A store read for `rescreen`: its files and contents in memory, its hashes streamed.
pub struct Recorded {
    path: PathBuf,
    /// Every file, sorted by path (component by component, as a walk orders them).
    pub files: Vec<RecordedFile>,
    /// The contents the files hold.
    pub contents: Contents,
    /// The setups the results were made under, as `setups.description` says them.
    pub setups: Vec<String>,
}

impl std::fmt::Debug for Recorded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorded")
            .field("path", &self.path)
            .field("files", &self.files.len())
            .finish()
    }
}

impl Recorded {
    /// Reads what the existing store at `path` recorded (a missing file is an error, never
    /// an empty store).
    pub fn read(path: &Path) -> Result<Recorded, StoreError> {
        let connection = open(path, Opening::Existing)?;
        let sqlite = |source| StoreError::Sqlite { path: path.to_path_buf(), source };
        // The files on a thread and a connection of their own, beside the contents: each is
        // one core's work. Not one snapshot (nor was it with one connection): what a scan
        // or prune changed meanwhile is squared below.
        let (files, contents) = std::thread::scope(|scope| {
            let files = scope.spawn(|| {
                let reading = connect(path, read_only()).and_then(|c| read_files(&c));
                let mut files = reading.map_err(sqlite)?;
                files.par_sort_unstable_by(|a, b| walk_order(&a.path, &b.path));
                Ok::<_, StoreError>(files)
            });
            let contents = read_contents(&connection).map_err(sqlite);
            (files.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), contents)
        });
        let (mut files, mut contents) = (files?, contents?);
        // A file whose content is not there any more was forgotten by a prune meanwhile.
        files.retain(|f| contents.get(f.content).is_some());
        let mut used = vec![false; contents.0.len()];
        files.iter().for_each(|f| used[f.content as usize] = true);
        contents.0.iter_mut().zip(used).filter(|(_, used)| !used).for_each(|(c, _)| *c = None);
        let setups = read_setups(&connection, &contents).map_err(sqlite)?;
        Ok(Recorded { path: path.to_path_buf(), files, contents, setups })
    }

    /// The store's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Hands `each` the hashes of `algorithms` (and the SHA-256) of every content that has a
    /// result, `batch` contents at a time, in content order (those with no row read come
    /// last: with a list of SHA-256 alone, every one); stops early when `each` returns
    /// `false`. Reads through a connection of its own, so it may run on another thread than
    /// the one matching.
    pub fn hashes(
        &self,
        batch: usize,
        algorithms: &BTreeSet<Algorithm>,
        mut each: impl FnMut(Vec<(i64, FileHashes)>) -> bool,
    ) -> Result<(), StoreError> {
        let sqlite = |source| StoreError::Sqlite { path: self.path.clone(), source };
        let unreadable = |what: String| StoreError::Unreadable { path: self.path.clone(), what };
        let connection = connect(&self.path, read_only()).map_err(sqlite)?;
        // The SHA-256 comes from `contents`: its rows, and those of algorithms no list holds,
        // are left in the table (SQLite skips them without handing over their columns).
        let names: Vec<&str> =
            algorithms.iter().filter(|a| **a != Algorithm::Sha256).map(|a| a.name()).collect();
        let wanted = vec!["?"; names.len()].join(",");
        // The table's own order (schema 2 keys it so): read front to back.
        let mut statement = connection
            .prepare(&format!(
                "SELECT content, setup, algorithm, variant, frame, seconds, quality, value, detail
                 FROM hashes WHERE algorithm IN ({wanted}) ORDER BY content, setup, n"
            ))
            .map_err(sqlite)?;
        let mut rows = statement.query(rusqlite::params_from_iter(names)).map_err(sqlite)?;
        let mut done = vec![false; self.contents.0.len()];
        let mut pending: Vec<(i64, FileHashes)> = Vec::with_capacity(batch);
        let mut current: Option<(i64, Vec<rows::Row>)> = None;
        let finish = |content: i64, found: Vec<rows::Row>| -> Result<_, StoreError> {
            let Some(recorded) = self.contents.get(content) else { return Ok(None) };
            let Some(result) = &recorded.result else { return Ok(None) };
            let mut hashes = rows::from_rows(recorded.size, result.video, found)
                .map_err(|e| unreadable(format!("content {content}: {e}")))?;
            hashes.values.insert(Algorithm::Sha256, recorded.sha256.clone());
            Ok(Some((content, hashes)))
        };
        loop {
            let row = rows.next().map_err(sqlite)?;
            let content = row.map(|r| r.get::<_, i64>(0)).transpose().map_err(sqlite)?;
            if current.as_ref().is_some_and(|(c, _)| Some(*c) != content) {
                let (id, found) = current.take().expect("checked");
                if let Some(one) = finish(id, found)? {
                    done[one.0 as usize] = true;
                    pending.push(one);
                }
                if pending.len() >= batch && !each(std::mem::take(&mut pending)) {
                    return Ok(());
                }
            }
            let (Some(row), Some(content)) = (row, content) else { break };
            let setup: i64 = row.get(1).map_err(sqlite)?;
            let chosen = self.contents.get(content).and_then(|c| c.result.as_ref());
            let found = &mut current.get_or_insert_with(|| (content, Vec::new())).1;
            if chosen.is_none_or(|r| r.setup != setup) {
                continue;
            }
            found.push(hash_row(row, 2).map_err(sqlite)?);
        }
        // Results with no rows read (a corrupt file asked only for perceptual hashes, or none
        // of `algorithms`).
        let rest: Vec<i64> = (self.contents.iter())
            .filter(|(id, c)| c.result.is_some() && !done[*id as usize])
            .map(|(id, _)| id)
            .collect();
        for id in rest {
            pending.extend(finish(id, Vec::new())?);
            if pending.len() >= batch && !each(std::mem::take(&mut pending)) {
                return Ok(());
            }
        }
        if !pending.is_empty() {
            each(pending);
        }
        Ok(())
    }
}

fn read_only() -> OpenFlags {
    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
}

/// The order a walk lists paths in, component by component: as comparing their bytes with
/// `/` below every other byte, without splitting them into components.
fn walk_order(a: &Path, b: &Path) -> std::cmp::Ordering {
    let key = |byte: u8| if byte == b'/' { 0 } else { u16::from(byte) + 1 };
    let (a, b) = (a.as_os_str().as_encoded_bytes(), b.as_os_str().as_encoded_bytes());
    // The mapping is one-to-one, so only the first differing byte decides. Paths share long
    // folder prefixes, and a million are sorted: eight bytes are compared at a time.
    let common = a.len().min(b.len());
    let mut at = 0;
    while at + 8 <= common {
        let word = |bytes: &[u8]| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8"));
        let differ = word(a) ^ word(b);
        if differ != 0 {
            let i = at + (differ.trailing_zeros() / 8) as usize;
            return key(a[i]).cmp(&key(b[i]));
        }
        at += 8;
    }
    match a[at..common].iter().zip(&b[at..common]).position(|(x, y)| x != y) {
        Some(i) => key(a[at + i]).cmp(&key(b[at + i])),
        None => a.len().cmp(&b.len()),
    }
}

fn read_files(connection: &Connection) -> rusqlite::Result<Vec<RecordedFile>> {
    let mut statement = connection.prepare("SELECT path, content FROM files")?;
    let rows = statement.query_map([], |r| {
        let bytes: Vec<u8> = r.get(0)?;
        Ok(RecordedFile { path: super::path_of(bytes), content: r.get(1)? })
    })?;
    rows.collect()
}

fn read_contents(connection: &Connection) -> rusqlite::Result<Contents> {
    let last: i64 = connection.query_row("SELECT max(id) FROM contents", [], |r| {
        r.get::<_, Option<i64>>(0).map(Option::unwrap_or_default)
    })?;
    let mut contents = Contents(Vec::new());
    contents.0.resize_with(last.max(0) as usize + 1, || None);
    let mut statement = connection.prepare("SELECT id, sha256, size FROM contents")?;
    let mut rows = statement.query([])?;
    while let Some(r) = rows.next()? {
        let content = RecordedContent {
            sha256: HashValue::from_bytes(r.get::<_, Vec<u8>>(1)?),
            size: r.get::<_, i64>(2)? as u64,
            result: None,
        };
        // Rows written while this one is read lie past `last`: not part of this reading.
        if let Some(slot) = contents.0.get_mut(r.get::<_, i64>(0)? as usize) {
            *slot = Some(content);
        }
    }
    // The latest result of each content: the one of the latest scan (kept as the rows come,
    // in the table's own order: an ORDER BY made SQLite sort a million rows).
    let mut statement = connection.prepare(
        "SELECT content, setup, algorithms, media_type, error_kind, error, video_fps,
           video_seconds_per_hash, scan FROM results",
    )?;
    let mut rows = statement.query([])?;
    // A store holds a handful of distinct algorithm sets: each is parsed once.
    let mut parsed: HashMap<String, std::sync::Arc<BTreeSet<Algorithm>>> = HashMap::new();
    while let Some(r) = rows.next()? {
        let Some(content) = contents.get_mut(r.get::<_, i64>(0)?) else { continue };
        let scan: i64 = r.get(8)?;
        if content.result.as_ref().is_some_and(|kept| kept.scan > scan) {
            continue;
        }
        let algorithms = r.get_ref(2)?.as_str().map_err(rusqlite::Error::from)?;
        let algorithms = match parsed.get(algorithms) {
            Some(known) => std::sync::Arc::clone(known),
            None => {
                let set: BTreeSet<Algorithm> =
                    algorithms.split(',').filter_map(|a| a.parse().ok()).collect();
                let set = std::sync::Arc::new(set);
                parsed.insert(algorithms.to_string(), std::sync::Arc::clone(&set));
                set
            }
        };
        let error =
            match (r.get::<_, Option<String>>(4)?.as_deref(), r.get::<_, Option<String>>(5)?) {
                (Some("corrupt"), Some(reason)) => Some(FileError::corrupt(reason)),
                _ => None,
            };
        content.result = Some(RecordedResult {
            algorithms,
            media_type: media_type_of(r.get_ref(3)?.as_str().map_err(rusqlite::Error::from)?),
            error,
            setup: r.get(1)?,
            scan,
            video: r.get::<_, Option<f64>>(6)?.zip(r.get::<_, Option<f64>>(7)?),
        });
    }
    Ok(contents)
}

fn read_setups(connection: &Connection, contents: &Contents) -> rusqlite::Result<Vec<String>> {
    let used: BTreeSet<i64> =
        contents.iter().filter_map(|(_, c)| c.result.as_ref().map(|r| r.setup)).collect();
    let mut statement = connection.prepare("SELECT id, description FROM setups ORDER BY id")?;
    let rows = statement.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    let mut setups = Vec::new();
    for row in rows {
        let (id, description) = row?;
        if used.contains(&id) {
            setups.push(description);
        }
    }
    Ok(setups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Rng;

    /// Component by component is how `Path` compares clean paths: the walk's order. Long
    /// shared prefixes, so that paths differ within, at and past the eight-byte words.
    #[test]
    fn walk_order_is_component_order() {
        let mut rng = Rng(221);
        let alphabet = b" !-.0/_aA\xc3\xa9";
        let prefixes = ["/a", "/srv/audit/2026-12", "/srv/audit/2026-12/night photos"];
        let mut path = || {
            let mut bytes = prefixes[rng.below(3) as usize].as_bytes().to_vec();
            for _ in 0..rng.below(12) {
                let byte = alphabet[rng.below(alphabet.len() as u64) as usize];
                // No empty component, and none that is `.` or `..`.
                if byte == b'/' && matches!(bytes.last(), Some(b'/' | b'.')) {
                    continue;
                }
                bytes.push(byte);
            }
            while matches!(bytes.last(), Some(b'/' | b'.')) {
                bytes.pop();
            }
            PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
        };
        let paths: Vec<PathBuf> = (0..300).map(|_| path()).collect();
        for a in &paths {
            for b in &paths {
                assert_eq!(walk_order(a, b), a.cmp(b), "{a:?} against {b:?}");
            }
        }
    }
}
