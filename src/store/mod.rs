//! The hash store (`scan --store FILE`, `rescreen`): an SQLite file that keeps, for every file
//! a scan saw, its identity and content digest, and for every content what one decoder setup
//! computed from it, so that the next scan need not open an unchanged file nor decode known
//! content, and `rescreen` can match everything seen against new lists without the files.
//!
//! Owns the database: its schema and forward migrations (docs/store-format.md), the rules by
//! which a stored result stands in for reading a file, and batched writes. Must not read or
//! decode a scanned file (the scan hands its results in) and must not decide matches.

mod maintain;
mod recorded;
mod rows;
mod tools;

pub use maintain::{merge, prune, stats, Merged, Pruned, Stats};
pub use recorded::{Contents, Recorded, RecordedContent, RecordedFile, RecordedResult};
pub use tools::Tools;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OpenFlags, TransactionBehavior};

use crate::error::{FileError, FileErrorKind};
use crate::hash::{Algorithm, FileHashes, HashValue};

/// The schema this version writes; a store of a later one is refused, earlier ones migrated.
pub const SCHEMA_VERSION: i64 = 3;

/// What each schema version adds to the one before (index 0 makes version 1).
const MIGRATIONS: [&str; 3] =
    [include_str!("schema_v1.sql"), include_str!("schema_v2.sql"), include_str!("schema_v3.sql")];

/// A file modified within this long before the start of the scan that recorded it may have
/// changed again within the same timestamp tick (FAT keeps 2 s): it is read again next time.
const RACY_NS: i64 = 2_000_000_000;

/// Files recorded per transaction: a killed scan loses at most this many, never the store.
const BATCH: usize = 512;

/// Why a store could not be used. Every case is the operator's to fix (a path, a permission,
/// a newer mediascreen); none is rebuilt silently.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// There is no store at the path (only a scan creates one).
    #[error("{path}: no store there (a scan with --store creates one)")]
    Missing {
        /// The path given.
        path: PathBuf,
    },
    /// The store file could not be created (a missing folder, permissions).
    #[error("{path}: cannot create the store: {source}")]
    Create {
        /// The store's path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// SQLite could not open, read or write the file (missing folder, permissions, a file
    /// that is not a database or is corrupt, a lock held too long).
    #[error("{path}: {source}")]
    Sqlite {
        /// The store's path.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The file is an SQLite database, but not a store (nothing of it is changed).
    #[error("{path}: an SQLite database, but not a mediascreen store")]
    NotAStore {
        /// The store's path.
        path: PathBuf,
    },
    /// A later mediascreen wrote it; this one would misread it.
    #[error(
        "{path}: a store of schema {found}, written by a later mediascreen (this one reads up \
         to {SCHEMA_VERSION}); upgrade mediascreen"
    )]
    Newer {
        /// The store's path.
        path: PathBuf,
        /// Its schema version.
        found: i64,
    },
    /// A stored row this version cannot read.
    #[error("{path}: {what}")]
    Unreadable {
        /// The store's path.
        path: PathBuf,
        /// Which row, and why.
        what: String,
    },
}

/// Which file was at a path, as `stat` tells it: an unchanged identity means the file need
/// not be opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    /// `st_dev`.
    pub device: u64,
    /// `st_ino`.
    pub inode: u64,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// Status change time, nanoseconds since the Unix epoch.
    pub ctime_ns: i64,
}

/// What a scan computed from one content, as the store keeps it.
#[derive(Debug)]
pub struct Stored {
    /// MIME type from the content.
    pub media_type: &'static str,
    /// The hashes.
    pub hashes: FileHashes,
    /// Why the perceptual hashes were not (fully) computed: only errors that the same
    /// decoders would meet again are stored (a corrupt file), never a limit or a time-out.
    pub error: Option<FileError>,
}

impl Stored {
    /// Whether a result with this error may be stored, to stand for decoding next time.
    pub fn keepable(error: Option<&FileError>) -> bool {
        error.is_none_or(|e| e.kind == FileErrorKind::Corrupt)
    }
}

/// A store shared by a scan's workers (compared by identity, as options are compared).
#[derive(Clone, Debug)]
pub struct Shared(pub std::sync::Arc<Store>);

impl PartialEq for Shared {
    fn eq(&self, other: &Shared) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// A file as the store last recorded it.
#[derive(Clone, Debug)]
struct Known {
    identity: Option<Identity>,
    content: i64,
    sha256: HashValue,
    /// When the scan that recorded its identity started.
    seen_ns: i64,
}

/// One file's record, waiting for its batch.
struct Record {
    path: Vec<u8>,
    identity: Option<Identity>,
    sha256: HashValue,
    size: u64,
    computed: Option<(String, Stored)>,
}

/// A connection that only reads. Its lookups share one read transaction, renewed every
/// [`Reader::SNAPSHOT_LOOKUPS`]: a statement run on its own takes and drops WAL locks (system
/// calls) each time, which cost a re-scan of unchanged files more than the lookups did. The
/// renewal bounds how stale a snapshot is (what this scan wrote since is not seen: a copy
/// is then decoded once more) and how long it holds back a checkpoint.
struct Reader {
    connection: Connection,
    lookups: u32,
}

impl Reader {
    const SNAPSHOT_LOOKUPS: u32 = 1024;

    fn renew(&mut self) {
        if self.lookups == Self::SNAPSHOT_LOOKUPS {
            // A failed COMMIT leaves no transaction to renew; BEGIN below starts one again.
            let _ = self.connection.execute_batch("COMMIT");
            self.lookups = 0;
        }
        if self.lookups == 0 && self.connection.is_autocommit() {
            // Without one, every lookup runs in a transaction of its own: slower, still right.
            let _ = self.connection.execute_batch("BEGIN");
        }
        self.lookups += 1;
    }
}

/// An open store, for one scan (or one `rescreen`).
pub struct Store {
    path: PathBuf,
    /// The connection that writes.
    connection: Mutex<Connection>,
    /// Connections that only read, one per worker thread (WAL lets them read side by side,
    /// and a re-scan of an unchanged tree is nothing but reads).
    readers: Vec<Mutex<Reader>>,
    known: HashMap<Vec<u8>, Known>,
    /// What relative paths are made absolute against: the store keys files by absolute
    /// path, so that scans from other folders, `rescreen` and `store prune` agree on them.
    cwd: PathBuf,
    /// The row of `setups` for the decoder setup and hash versions results are kept under
    /// (see [`setup`]).
    setup: i64,
    scan: i64,
    started_ns: i64,
    pending: Mutex<Vec<Record>>,
    failed: Mutex<Option<StoreError>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).field("setup", &self.setup).finish()
    }
}

/// Whether opening a store may create it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Opening {
    /// A scan's: created if missing.
    Create,
    /// `rescreen` and the `store` commands: it must exist.
    Existing,
}

/// The store at `path`, created (mode 0600: it holds paths and hashes) if there is none and
/// `opening` allows it, migrated forward if older.
fn open(path: &Path, opening: Opening) -> Result<Connection, StoreError> {
    let sqlite = |source| StoreError::Sqlite { path: path.to_path_buf(), source };
    if !path.exists() {
        if opening == Opening::Existing {
            return Err(StoreError::Missing { path: path.to_path_buf() });
        }
        create_private(path)
            .map_err(|source| StoreError::Create { path: path.to_path_buf(), source })?;
    }
    // Never SQLITE_OPEN_CREATE: the file exists by now, and one removed meanwhile must not
    // come back as an empty store.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut connection = connect(path, flags).map_err(sqlite)?;
    connection.pragma_update(None, "journal_mode", "WAL").map_err(sqlite)?;
    connection.pragma_update(None, "synchronous", "NORMAL").map_err(sqlite)?;
    // The version is read under the write lock: two shard processes creating one store at
    // once must not both migrate it.
    let transaction =
        connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sqlite)?;
    let version: i64 =
        transaction.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(sqlite)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Newer { path: path.to_path_buf(), found: version });
    }
    if version == 0 {
        let tables: i64 = transaction
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(sqlite)?;
        if tables > 0 {
            return Err(StoreError::NotAStore { path: path.to_path_buf() });
        }
    }
    for (made, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        transaction.execute_batch(sql).map_err(sqlite)?;
        transaction.pragma_update(None, "user_version", made as i64 + 1).map_err(sqlite)?;
    }
    transaction.commit().map_err(sqlite)?;
    Ok(connection)
}

/// A connection to the store at `path`, waiting up to a minute for another process's write.
fn connect(path: &Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(std::time::Duration::from_secs(60))?;
    // The plan of a statement must not depend on the values bound to it: otherwise the
    // bundled SQLite (built with STAT4) prepares a lookup again each time it is run, which
    // was most of a re-scan's time.
    connection.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(connection)
}

fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other.map(drop),
    }
}

/// The setup results are kept under: what decoded the pictures and videos and how videos
/// were sampled. Results of another setup are not reused (a different libjpeg-turbo may
/// change a PDQ hash by a bit).
pub fn setup(options: &crate::options::HashOptions) -> String {
    let decoders = &options.decoders;
    format!(
        "hashes {}; jpeg {}; webp {}; heif {}; ffmpeg {}; vpdq every {} s, first {} s",
        env!("CARGO_PKG_VERSION"),
        decoders.jpeg(),
        decoders.webp(),
        decoders.heif().unwrap_or_else(|| "none".into()),
        options.ffmpeg.as_ref().map_or("none", |f| f.version()),
        options.seconds_per_hash,
        options.video.max_seconds,
    )
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

impl Store {
    /// Opens the store at `path` for a scan of `roots` under the setup `setup` makes (with
    /// the programs' answers the store kept, [`Tools`]): records the scan's start, and loads
    /// what it knows of every file.
    pub fn for_scan(
        path: &Path,
        roots: &[PathBuf],
        setup: impl FnOnce(&Tools) -> String,
    ) -> Result<Store, StoreError> {
        let connection = open(path, Opening::Create)?;
        let sqlite = |source| StoreError::Sqlite { path: path.to_path_buf(), source };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let setup = setup(&Tools::new(connect(path, flags).map_err(sqlite)?));
        let started_ns = now_ns();
        connection
            .execute(
                "INSERT INTO setups (description) VALUES (?1) ON CONFLICT DO NOTHING",
                [&setup],
            )
            .map_err(sqlite)?;
        let setup: i64 = connection
            .query_row("SELECT id FROM setups WHERE description = ?1", [&setup], |r| r.get(0))
            .map_err(sqlite)?;
        let roots: Vec<String> = roots.iter().map(|r| r.to_string_lossy().into_owned()).collect();
        connection
            .execute(
                "INSERT INTO scans (started_ns, setup, paths) VALUES (?1, ?2, ?3)",
                params![started_ns, setup, serde_json::to_string(&roots).unwrap_or_default()],
            )
            .map_err(sqlite)?;
        let scan = connection.last_insert_rowid();
        let known = load_files(&connection).map_err(sqlite)?;
        let cwd = std::env::current_dir()
            .map_err(|source| StoreError::Create { path: path.to_path_buf(), source })?;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let readers = (0..rayon::current_num_threads().max(1))
            .map(|_| {
                connect(path, flags).map(|connection| Mutex::new(Reader { connection, lookups: 0 }))
            })
            .collect::<rusqlite::Result<_>>()
            .map_err(sqlite)?;
        Ok(Store {
            cwd,
            readers,
            path: path.to_path_buf(),
            connection: Mutex::new(connection),
            known,
            setup,
            scan,
            started_ns,
            pending: Mutex::new(Vec::new()),
            failed: Mutex::new(None),
        })
    }

    /// The store's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What was computed from the file at `path` if its identity is what the store recorded
    /// (and was not recorded within a timestamp tick of its change), with every one of
    /// `algorithms`: then the file need not be opened.
    pub fn unchanged(
        &self,
        path: &Path,
        identity: &Identity,
        algorithms: &BTreeSet<Algorithm>,
    ) -> Option<Stored> {
        let known = self.known.get(&self.key(path))?;
        // As git's index does, on the modification time: a write in the recording scan's
        // tick could leave every field of the identity as it was.
        let racy = identity.mtime_ns.saturating_add(RACY_NS) > known.seen_ns;
        if known.identity != Some(*identity) || racy {
            return None;
        }
        let stored = self.result(known.content, &known.sha256, algorithms)?;
        Some(stored)
    }

    /// What was computed from the content whose SHA-256 is `sha256`, with every one of
    /// `algorithms`, under this scan's setup: then it need not be decoded.
    pub fn known_content(
        &self,
        sha256: &HashValue,
        algorithms: &BTreeSet<Algorithm>,
    ) -> Option<Stored> {
        let content: i64 = self
            .reader()
            .connection
            .prepare_cached("SELECT id FROM contents WHERE sha256 = ?1")
            .and_then(|mut s| s.query_row([sha256.as_bytes()], |r| r.get(0)))
            .ok()?;
        let stored = self.result(content, sha256, algorithms)?;
        Some(stored)
    }

    /// This worker thread's reading connection, in a read transaction.
    fn reader(&self) -> std::sync::MutexGuard<'_, Reader> {
        let thread = rayon::current_thread_index().unwrap_or(0);
        let mut reader = self.readers[thread % self.readers.len()]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        reader.renew();
        reader
    }

    /// The result of `content` (whose SHA-256 is `sha256`) under this scan's setup, if it
    /// has every one of `algorithms`; its SHA-256 always among its hashes, as a scan's are.
    fn result(
        &self,
        content: i64,
        sha256: &HashValue,
        algorithms: &BTreeSet<Algorithm>,
    ) -> Option<Stored> {
        let found = read_result(&self.reader().connection, content, self.setup).ok().flatten()?;
        let (computed, mut stored) = found;
        stored.hashes.values.entry(Algorithm::Sha256).or_insert_with(|| sha256.clone());
        algorithms.is_subset(&computed).then_some(stored)
    }

    /// Records that `path` (with `identity`, where there is one) held the content `sha256`
    /// of `size` bytes, and, if this scan computed it (`algorithms` from it, as `stored`),
    /// what it computed. Written in batches; [`Store::finish`] writes the last, and says if
    /// any could not be written (a store that cannot be written costs the next scan its
    /// speed, never this scan its results).
    pub fn record(
        &self,
        path: &Path,
        identity: Option<Identity>,
        sha256: &HashValue,
        size: u64,
        computed: Option<(&BTreeSet<Algorithm>, Stored)>,
    ) {
        let computed = computed.map(|(algorithms, stored)| {
            let names: Vec<&str> = algorithms.iter().map(|a| a.name()).collect();
            (names.join(","), stored)
        });
        let record =
            Record { path: self.key(path), identity, sha256: sha256.clone(), size, computed };
        let batch = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            pending.push(record);
            if pending.len() < BATCH {
                return;
            }
            std::mem::take(&mut *pending)
        };
        if let Err(error) = self.write(batch) {
            self.failed.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert(error);
        }
    }

    /// Writes what is pending and marks the scan finished; `Err` if anything of the scan
    /// could not be written.
    pub fn finish(&self) -> Result<(), StoreError> {
        if let Some(error) = self.failed.lock().unwrap_or_else(PoisonError::into_inner).take() {
            return Err(error);
        }
        let batch =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        self.write(batch)?;
        let connection = self.connection.lock().unwrap_or_else(PoisonError::into_inner);
        let finished = connection.execute(
            "UPDATE scans SET finished_ns = ?1 WHERE id = ?2",
            params![now_ns(), self.scan],
        );
        finished.map(drop).map_err(|source| self.sqlite(source))
    }

    /// The bytes `path` is stored under: absolute, made so lexically (`.` dropped, links and
    /// `..` kept as the walk saw them).
    /// A bucket object's URL is kept as it is.
    fn key(&self, path: &Path) -> Vec<u8> {
        if crate::bucket::is_url(path) {
            return path.as_os_str().as_encoded_bytes().to_vec();
        }
        let absolute: PathBuf = self.cwd.join(path).components().collect();
        absolute.into_os_string().into_encoded_bytes()
    }

    fn sqlite(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite { path: self.path.clone(), source }
    }

    fn write(&self, batch: Vec<Record>) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut connection = self.connection.lock().unwrap_or_else(PoisonError::into_inner);
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.sqlite(e))?;
        for record in batch {
            write_record(&transaction, &record, self.setup, self.scan, self.started_ns)
                .map_err(|e| self.sqlite(e))?;
        }
        transaction.commit().map_err(|e| self.sqlite(e))
    }
}

fn write_record(
    db: &rusqlite::Transaction<'_>,
    record: &Record,
    setup: i64,
    scan: i64,
    started_ns: i64,
) -> rusqlite::Result<()> {
    db.prepare_cached(
        "INSERT INTO contents (sha256, size) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?
    .execute(params![record.sha256.as_bytes(), record.size as i64])?;
    let content: i64 = db
        .prepare_cached("SELECT id FROM contents WHERE sha256 = ?1")?
        .query_row([record.sha256.as_bytes()], |r| r.get(0))?;
    let id = record.identity;
    db.prepare_cached(
        "INSERT INTO files (path, device, inode, size, mtime_ns, ctime_ns, content, scan, seen_ns)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (path) DO UPDATE SET device = excluded.device, inode = excluded.inode,
           size = excluded.size, mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns,
           content = excluded.content, scan = excluded.scan, seen_ns = excluded.seen_ns",
    )?
    .execute(params![
        record.path,
        id.map(|i| i.device as i64),
        id.map(|i| i.inode as i64),
        record.size as i64,
        id.map(|i| i.mtime_ns),
        id.map(|i| i.ctime_ns),
        content,
        scan,
        started_ns,
    ])?;
    let Some((algorithms, stored)) = &record.computed else { return Ok(()) };
    db.prepare_cached("DELETE FROM hashes WHERE content = ?1 AND setup = ?2")?
        .execute(params![content, setup])?;
    let video = stored.hashes.video.as_ref();
    db.prepare_cached(
        "INSERT OR REPLACE INTO results (content, setup, scan, algorithms, media_type, error_kind,
           error, video_fps, video_seconds_per_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        content,
        setup,
        scan,
        algorithms,
        stored.media_type,
        stored.error.as_ref().map(|e| e.kind.name()),
        stored.error.as_ref().map(|e| e.to_string()),
        video.map(|v| v.fps),
        video.map(|v| v.seconds_per_hash),
    ])?;
    let mut insert = db.prepare_cached(
        "INSERT INTO hashes (content, setup, n, algorithm, variant, frame, seconds, quality,
           value, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for (n, row) in rows::to_rows(&stored.hashes).into_iter().enumerate() {
        insert.execute(params![
            content,
            setup,
            n as i64,
            row.algorithm,
            row.variant,
            row.frame,
            row.seconds,
            row.quality,
            row.value,
            row.detail
        ])?;
    }
    Ok(())
}

fn load_files(connection: &Connection) -> rusqlite::Result<HashMap<Vec<u8>, Known>> {
    let mut statement = connection.prepare(
        "SELECT f.path, f.device, f.inode, f.size, f.mtime_ns, f.ctime_ns, f.content, f.seen_ns,
           c.sha256
         FROM files f JOIN contents c ON c.id = f.content",
    )?;
    let rows = statement.query_map([], |r| {
        let identity = match (r.get::<_, Option<i64>>(1)?, r.get::<_, Option<i64>>(2)?) {
            (Some(device), Some(inode)) => Some(Identity {
                device: device as u64,
                inode: inode as u64,
                size: r.get::<_, i64>(3)? as u64,
                mtime_ns: r.get::<_, Option<i64>>(4)?.unwrap_or(i64::MAX),
                ctime_ns: r.get::<_, Option<i64>>(5)?.unwrap_or(i64::MAX),
            }),
            _ => None,
        };
        let known = Known {
            identity,
            content: r.get(6)?,
            sha256: HashValue::from_bytes(r.get::<_, Vec<u8>>(8)?),
            seen_ns: r.get(7)?,
        };
        Ok((r.get::<_, Vec<u8>>(0)?, known))
    })?;
    rows.collect()
}

/// The result kept for `content` under `setup`, with the algorithms it computed.
fn read_result(
    connection: &Connection,
    content: i64,
    setup: i64,
) -> rusqlite::Result<Option<(BTreeSet<Algorithm>, Stored)>> {
    // One statement: the result's columns come with each of its hash rows (a result whose
    // hashes all failed has none: the LEFT JOIN still gives its one row).
    let mut statement = connection.prepare_cached(
        "SELECT r.algorithms, r.media_type, r.error_kind, r.error, r.video_fps,
           r.video_seconds_per_hash, c.size,
           h.algorithm, h.variant, h.frame, h.seconds, h.quality, h.value, h.detail
         FROM results r JOIN contents c ON c.id = r.content
           LEFT JOIN hashes h ON h.content = r.content AND h.setup = r.setup
         WHERE r.content = ?1 AND r.setup = ?2",
    )?;
    let mut result = None;
    let mut rows = Vec::new();
    let mut found = statement.query(params![content, setup])?;
    while let Some(r) = found.next()? {
        if result.is_none() {
            result = Some((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<f64>>(4)?,
                r.get::<_, Option<f64>>(5)?,
                r.get::<_, i64>(6)?,
            ));
        }
        if r.get_ref(7)? != rusqlite::types::ValueRef::Null {
            rows.push(hash_row(r, 7)?);
        }
    }
    let Some((algorithms, media_type, error_kind, error, fps, spacing, size)) = result else {
        return Ok(None);
    };
    let video = fps.zip(spacing);
    let Ok(hashes) = rows::from_rows(size as u64, video, rows) else { return Ok(None) };
    let algorithms = algorithms.split(',').filter_map(|a| a.parse().ok()).collect();
    let error = match (error_kind.as_deref(), error) {
        (Some("corrupt"), Some(reason)) => Some(FileError::corrupt(reason)),
        _ => None,
    };
    Ok(Some((algorithms, Stored { media_type: media_type_of(&media_type), hashes, error })))
}

/// The `hashes` row whose columns `algorithm, variant, frame, seconds, quality, value,
/// detail` start at column `at` of `r`.
fn hash_row(r: &rusqlite::Row, at: usize) -> rusqlite::Result<rows::Row> {
    let text = |i| r.get_ref(i).and_then(|v| v.as_str().map_err(rusqlite::Error::from));
    Ok(rows::Row {
        algorithm: text(at)?.to_string(),
        variant: rows::variant(text(at + 1)?),
        frame: r.get(at + 2)?,
        seconds: r.get(at + 3)?,
        quality: r.get(at + 4)?,
        value: r.get(at + 5)?,
        detail: r.get(at + 6)?,
    })
}

/// The path whose bytes the store holds.
fn path_of(bytes: Vec<u8>) -> PathBuf {
    #[cfg(unix)]
    {
        PathBuf::from(<std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// The `&'static str` for a media type read back from the store: the scan's types are static
/// strings, and a store holds a handful of distinct ones, each kept once.
fn media_type_of(text: &str) -> &'static str {
    static SEEN: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(&known) = seen.get(text) {
        return known;
    }
    let kept: &'static str = Box::leak(text.to_owned().into_boxed_str());
    seen.insert(kept);
    kept
}
