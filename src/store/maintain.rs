//! `mediascreen store stats|prune|merge`: counting what a store holds, forgetting files that
//! are gone (only when asked), and merging the stores of shards that ran apart.
//!
//! Owns those three operations on the database. Must not read or decode scanned files
//! (`prune` only asks whether a path still exists), and must not forget anything unasked: a
//! drive not mounted tonight is not deleted content.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{open, path_of, Opening, StoreError};

/// What a store holds.
#[derive(Debug, Default, serde::Serialize)]
pub struct Stats {
    /// Files recorded (their latest state).
    pub files: u64,
    /// Distinct contents the files hold.
    pub contents: u64,
    /// Their total size in bytes.
    pub content_bytes: u64,
    /// Results kept (a content under one setup).
    pub results: u64,
    /// Results that kept a decode error (`corrupt`).
    pub errors: u64,
    /// Hash rows by algorithm.
    pub hashes: BTreeMap<String, u64>,
    /// Scans recorded, and those that never finished (killed, or running now).
    pub scans: u64,
    /// Scans without a finish time.
    pub unfinished_scans: u64,
    /// The latest scan's start (RFC 3339) and the paths it was given.
    pub last_scan: Option<(String, String)>,
    /// Each decoder setup and how many results were made under it.
    pub setups: Vec<(String, u64)>,
    /// The store file's size in bytes (without its WAL).
    pub store_bytes: u64,
}

/// Counts what the store at `path` holds.
pub fn stats(path: &Path) -> Result<Stats, StoreError> {
    let connection = open(path, Opening::Existing)?;
    let sqlite = |source| StoreError::Sqlite { path: path.to_path_buf(), source };
    let count = |sql: &str| -> Result<u64, StoreError> {
        connection.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|n| n as u64).map_err(sqlite)
    };
    let mut stats = Stats {
        files: count("SELECT count(*) FROM files")?,
        contents: count("SELECT count(*) FROM contents")?,
        content_bytes: count("SELECT coalesce(sum(size), 0) FROM contents")?,
        results: count("SELECT count(*) FROM results")?,
        errors: count("SELECT count(*) FROM results WHERE error_kind IS NOT NULL")?,
        scans: count("SELECT count(*) FROM scans")?,
        unfinished_scans: count("SELECT count(*) FROM scans WHERE finished_ns IS NULL")?,
        store_bytes: std::fs::metadata(path).map_or(0, |m| m.len()),
        ..Stats::default()
    };
    let pairs = |sql: &str| -> Result<Vec<(String, u64)>, StoreError> {
        let mut statement = connection.prepare(sql).map_err(sqlite)?;
        let rows = statement
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))
            .map_err(sqlite)?;
        rows.collect::<rusqlite::Result<_>>().map_err(sqlite)
    };
    stats.hashes =
        pairs("SELECT algorithm, count(*) FROM hashes GROUP BY algorithm")?.into_iter().collect();
    stats.setups = pairs(
        "SELECT s.description, count(r.content) FROM setups s
         LEFT JOIN results r ON r.setup = s.id GROUP BY s.id ORDER BY s.id",
    )?;
    stats.last_scan = connection
        .query_row("SELECT started_ns, paths FROM scans ORDER BY id DESC LIMIT 1", [], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .optional()
        .map_err(sqlite)?
        .map(|(ns, paths)| (rfc3339(ns), paths));
    Ok(stats)
}

fn rfc3339(ns: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()
}

/// What `prune` forgot (or, dry, would forget).
#[derive(Debug, Default, serde::Serialize)]
pub struct Pruned {
    /// Files whose paths no longer exist.
    pub files: u64,
    /// Files kept.
    pub kept: u64,
    /// Contents no file holds any more, with their results and hashes.
    pub contents: u64,
    /// The paths forgotten, in order.
    pub paths: Vec<PathBuf>,
}

/// Forgets the files recorded under `under` (all, if `None`) whose paths no longer exist,
/// then the contents no recorded file holds. A path that cannot be checked (permissions, an
/// I/O error) is kept. With `dry_run`, only says what it would forget.
pub fn prune(path: &Path, under: Option<&Path>, dry_run: bool) -> Result<Pruned, StoreError> {
    let mut connection = open(path, Opening::Existing)?;
    let sqlite = |source| StoreError::Sqlite { path: path.to_path_buf(), source };
    let transaction =
        connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sqlite)?;
    let mut pruned = Pruned::default();
    let mut gone = Vec::new();
    {
        let mut statement =
            transaction.prepare("SELECT id, path FROM files ORDER BY path").map_err(sqlite)?;
        let mut rows = statement.query([]).map_err(sqlite)?;
        while let Some(row) = rows.next().map_err(sqlite)? {
            let file = path_of(row.get(1).map_err(sqlite)?);
            // A bucket object's existence is not asked for: it is kept, as anything unchecked.
            let checked =
                under.is_none_or(|under| file.starts_with(under)) && !crate::bucket::is_url(&file);
            let missing = checked
                && matches!(std::fs::symlink_metadata(&file),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound);
            if missing {
                gone.push(row.get::<_, i64>(0).map_err(sqlite)?);
                pruned.paths.push(file);
            } else {
                pruned.kept += 1;
            }
        }
    }
    pruned.files = gone.len() as u64;
    for id in &gone {
        transaction.execute("DELETE FROM files WHERE id = ?1", [id]).map_err(sqlite)?;
    }
    transaction
        .execute_batch(
            "CREATE TEMP TABLE orphans AS SELECT id FROM contents
               WHERE id NOT IN (SELECT content FROM files);
             DELETE FROM hashes WHERE content IN (SELECT id FROM orphans);
             DELETE FROM results WHERE content IN (SELECT id FROM orphans);
             DELETE FROM contents WHERE id IN (SELECT id FROM orphans);",
        )
        .map_err(sqlite)?;
    pruned.contents = transaction
        .query_row("SELECT count(*) FROM temp.orphans", [], |r| r.get::<_, i64>(0))
        .map_err(sqlite)? as u64;
    transaction.execute_batch("DROP TABLE temp.orphans").map_err(sqlite)?;
    match dry_run {
        true => transaction.rollback().map_err(sqlite)?,
        false => transaction.commit().map_err(sqlite)?,
    }
    Ok(pruned)
}

/// What `merge` brought in from one source store.
#[derive(Debug, Default, serde::Serialize)]
pub struct Merged {
    /// The source store.
    pub source: PathBuf,
    /// Files new to the target, or seen by the source more recently than by the target.
    pub files: u64,
    /// Results copied (a content under a setup the target lacked, or with more algorithms).
    pub results: u64,
}

/// Merges each of `sources` into the store at `target` (created if missing), one source a
/// transaction: a file is kept as the store that saw it last recorded it; a content's result
/// under a setup is copied unless the target's has every algorithm of it. The sources are
/// only read (each is migrated first if older, as any open does).
pub fn merge(target: &Path, sources: &[PathBuf]) -> Result<Vec<Merged>, StoreError> {
    let mut connection = open(target, Opening::Create)?;
    let mut merged = Vec::new();
    for source in sources {
        if same_file(source, target) {
            return Err(StoreError::Unreadable {
                path: source.clone(),
                what: "the store to merge into; a store cannot be merged into itself".into(),
            });
        }
        drop(open(source, Opening::Existing)?);
        let sqlite = |e| StoreError::Sqlite { path: source.clone(), source: e };
        merged.push(merge_one(&mut connection, source).map_err(sqlite)?);
    }
    Ok(merged)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn merge_one(connection: &mut Connection, source: &Path) -> rusqlite::Result<Merged> {
    let name = source.to_string_lossy();
    connection.execute("ATTACH DATABASE ?1 AS src", [name.as_ref()])?;
    let result = (|| {
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        transaction.execute_batch(
            "INSERT INTO main.setups (description) SELECT description FROM src.setups
               WHERE true ON CONFLICT DO NOTHING;
             CREATE TEMP TABLE setup_map AS SELECT s.id AS old, m.id AS new
               FROM src.setups s JOIN main.setups m ON m.description = s.description;
             INSERT INTO main.contents (sha256, size) SELECT sha256, size FROM src.contents
               WHERE true ON CONFLICT DO NOTHING;
             CREATE TEMP TABLE content_map AS SELECT s.id AS old, m.id AS new
               FROM src.contents s JOIN main.contents m ON m.sha256 = s.sha256;
             CREATE INDEX temp.content_map_old ON content_map (old);
             CREATE TEMP TABLE scan_map (old INTEGER PRIMARY KEY, new INTEGER NOT NULL);",
        )?;
        // Scans have no natural key: each is inserted anew and its id mapped.
        let scans: Vec<(i64, i64, Option<i64>, i64, String)> = {
            let mut statement = transaction.prepare(
                "SELECT s.id, s.started_ns, s.finished_ns, m.new, s.paths FROM src.scans s
                 JOIN temp.setup_map m ON m.old = s.setup ORDER BY s.id",
            )?;
            let rows = statement
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (old, started, finished, setup, paths) in scans {
            transaction.execute(
                "INSERT INTO main.scans (started_ns, finished_ns, setup, paths)
                 VALUES (?1, ?2, ?3, ?4)",
                params![started, finished, setup, paths],
            )?;
            let new = transaction.last_insert_rowid();
            transaction.execute("INSERT INTO temp.scan_map VALUES (?1, ?2)", [old, new])?;
        }
        let files = transaction.execute(
            "INSERT INTO main.files (path, device, inode, size, mtime_ns, ctime_ns, content, scan,
               seen_ns)
             SELECT f.path, f.device, f.inode, f.size, f.mtime_ns, f.ctime_ns, c.new, s.new,
               f.seen_ns
             FROM src.files f JOIN temp.content_map c ON c.old = f.content
               JOIN temp.scan_map s ON s.old = f.scan WHERE true
             ON CONFLICT (path) DO UPDATE SET device = excluded.device, inode = excluded.inode,
               size = excluded.size, mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns,
               content = excluded.content, scan = excluded.scan, seen_ns = excluded.seen_ns
             WHERE excluded.seen_ns > files.seen_ns",
            [],
        )? as u64;
        let copies = results_to_copy(&transaction)?;
        transaction.execute_batch(
            "CREATE TEMP TABLE copies (old_content INTEGER, old_setup INTEGER,
               content INTEGER, setup INTEGER, PRIMARY KEY (old_content, old_setup));",
        )?;
        for (old_content, old_setup, content, setup) in &copies {
            transaction.execute(
                "INSERT INTO temp.copies VALUES (?1, ?2, ?3, ?4)",
                [old_content, old_setup, content, setup],
            )?;
        }
        transaction.execute_batch(
            "DELETE FROM main.hashes WHERE (content, setup) IN
               (SELECT content, setup FROM temp.copies);
             DELETE FROM main.results WHERE (content, setup) IN
               (SELECT content, setup FROM temp.copies);
             INSERT INTO main.results (content, setup, scan, algorithms, media_type, error_kind,
               error, video_fps, video_seconds_per_hash)
             SELECT c.content, c.setup, s.new, r.algorithms, r.media_type, r.error_kind,
               r.error, r.video_fps, r.video_seconds_per_hash
             FROM src.results r JOIN temp.copies c
               ON c.old_content = r.content AND c.old_setup = r.setup
               JOIN temp.scan_map s ON s.old = r.scan;
             INSERT INTO main.hashes (content, setup, n, algorithm, variant, frame, seconds,
               quality, value, detail)
             SELECT c.content, c.setup, h.n, h.algorithm, h.variant, h.frame, h.seconds,
               h.quality, h.value, h.detail
             FROM src.hashes h JOIN temp.copies c
               ON c.old_content = h.content AND c.old_setup = h.setup;
             DROP TABLE temp.copies; DROP TABLE temp.scan_map; DROP TABLE temp.content_map;
             DROP TABLE temp.setup_map;",
        )?;
        transaction.commit()?;
        Ok(Merged { source: source.to_path_buf(), files, results: copies.len() as u64 })
    })();
    connection.execute("DETACH DATABASE src", [])?;
    result
}

/// The source's results the target should take: (source content, source setup, target
/// content, target setup) of each the target lacks, or holds with fewer algorithms.
fn results_to_copy(db: &Connection) -> rusqlite::Result<Vec<(i64, i64, i64, i64)>> {
    let mut held: HashMap<(i64, i64), String> = HashMap::new();
    let mut statement = db.prepare(
        "SELECT r.content, r.setup, r.algorithms FROM main.results r
         JOIN temp.content_map c ON c.new = r.content",
    )?;
    let mut rows = statement.query([])?;
    while let Some(r) = rows.next()? {
        held.insert((r.get(0)?, r.get(1)?), r.get(2)?);
    }
    let mut copies = Vec::new();
    let mut statement = db.prepare(
        "SELECT r.content, r.setup, c.new, s.new, r.algorithms FROM src.results r
         JOIN temp.content_map c ON c.old = r.content JOIN temp.setup_map s ON s.old = r.setup",
    )?;
    let mut rows = statement.query([])?;
    while let Some(r) = rows.next()? {
        let (content, setup): (i64, i64) = (r.get(2)?, r.get(3)?);
        let theirs: String = r.get(4)?;
        let covered = held.get(&(content, setup)).is_some_and(|ours| {
            let ours: Vec<&str> = ours.split(',').collect();
            theirs.split(',').all(|a| ours.contains(&a))
        });
        if !covered {
            copies.push((r.get(0)?, r.get(1)?, content, setup));
        }
    }
    Ok(copies)
}
