//! `mediascreen report merge`: the shards' JSON reports of one sharded scan made into the
//! report that one unsharded scan would have written.
//!
//! Owns the rules for that: only every shard of one scan, with the same tool, settings and
//! lists, is merged (anything else is refused, naming what differs); counts add up; the files
//! are put back in walk order; the flood guard, which needs the whole scan, is run again over
//! the merged matches. Works on the JSON itself (schema [`SCHEMA_VERSION`]), so it needs no
//! list and no scanned file. Must not invent data: what it cannot derive, it refuses.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use super::schema::{FloodSettings, Suspicious, FILE_ARRAYS, SCHEMA_VERSION};
use crate::error::{Reason, Setting};
use crate::hash::Algorithm;
use crate::matcher::MatchOptions;
use crate::walk::Shard;
use crate::Error;

/// Merges the reports of every shard of one scan, given with names for the error messages.
/// The result has no `settings.shard`: it covers every file. [`Error::Merge`] says why
/// the reports are not the shards of one scan.
pub fn merge(reports: &[(String, Value)]) -> Result<Value, Error> {
    merge_shards(reports).map_err(Error::Merge)
}

fn merge_shards(reports: &[(String, Value)]) -> Result<Value, Reason> {
    let ((first_name, first), rest) = reports.split_first().ok_or("no reports to merge")?;
    let objects = reports
        .iter()
        .map(|(name, report)| {
            let object = report.as_object().ok_or_else(|| format!("{name}: not a JSON report"))?;
            match object.get("schema_version").and_then(Value::as_u64) {
                Some(v) if v == u64::from(SCHEMA_VERSION) => Ok(object),
                _ => Err(format!(
                    "{name}: not a schema version {SCHEMA_VERSION} JSON report (written by \
                     another mediascreen, or not in JSON)"
                )),
            }
        })
        .collect::<Result<Vec<_>, String>>()?;
    let first_object = objects[0];
    let mut shards = BTreeSet::new();
    let mut count = None;
    for ((name, _), object) in reports.iter().zip(&objects) {
        let shard: Shard = object
            .get("settings")
            .and_then(|s| s.get("shard"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                let head = format!("{name}: not a shard's report (scanned without ");
                Reason::calling(Setting::Shard, &head, "sharding", ")")
            })?
            .parse()
            .map_err(|e| format!("{name}: {e}"))?;
        let expected = *count.get_or_insert(shard.count);
        if expected != shard.count {
            return Err(
                format!("{name}: shard {shard}, but {first_name} is one of {expected}").into()
            );
        }
        if !shards.insert(shard.index) {
            return Err(format!("{name}: shard {shard} is given twice").into());
        }
    }
    let count = count.expect("at least one report");
    let missing: Vec<String> =
        (0..count).filter(|k| !shards.contains(k)).map(|k| format!("{k}/{count}")).collect();
    if !missing.is_empty() {
        return Err(
            format!("shards missing, so files would be missing: {}", missing.join(", ")).into()
        );
    }
    for ((name, _), object) in rest.iter().zip(&objects[1..]) {
        for key in ["tool", "lists", "allowlists", "settings"] {
            let (a, b) = (without_shard(first_object.get(key)), without_shard(object.get(key)));
            if a != b {
                return Err(format!("{name}: its {key} differ from {first_name}'s").into());
            }
        }
    }

    let mut merged = first.clone();
    let out = merged.as_object_mut().expect("checked to be an object");
    if let Some(Value::Object(settings)) = out.get_mut("settings") {
        settings.shift_remove("shard");
    }
    let times = |key: &str| -> Result<Vec<SystemTime>, String> {
        objects
            .iter()
            .map(|o| {
                let text = o.get(key).and_then(Value::as_str).unwrap_or_default();
                humantime::parse_rfc3339(text).map_err(|e| format!("{key} {text:?}: {e}"))
            })
            .collect()
    };
    let started = times("started_at")?.into_iter().min().expect("at least one report");
    let finished = times("finished_at")?.into_iter().max().expect("at least one report");
    out.insert("started_at".into(), humantime::format_rfc3339_millis(started).to_string().into());
    out.insert("finished_at".into(), humantime::format_rfc3339_millis(finished).to_string().into());
    let elapsed = finished.duration_since(started).unwrap_or(Duration::ZERO).as_millis() as u64;
    out.insert("elapsed_ms".into(), elapsed.into());
    let complete = objects.iter().all(|o| o.get("complete") == Some(&Value::Bool(true)));
    out.insert("complete".into(), complete.into());

    let mut summary = Map::new();
    for object in &objects {
        let counts = object.get("summary").and_then(Value::as_object).ok_or("no summary")?;
        for (key, value) in counts {
            let n = value.as_u64().ok_or_else(|| format!("summary.{key} is not a count"))?;
            let total = summary.get(key).and_then(Value::as_u64).unwrap_or(0);
            summary.insert(key.clone(), (total + n).into());
        }
    }
    let roots: Vec<PathBuf> = first_object["settings"]["paths"]
        .as_array()
        .map(|paths| paths.iter().filter_map(Value::as_str).map(PathBuf::from).collect())
        .unwrap_or_default();
    // An array a report leaves out when empty stays out when it is empty in every shard.
    for key in FILE_ARRAYS.into_iter().filter(|k| objects.iter().any(|o| o.contains_key(*k))) {
        let mut files: Vec<Value> = objects
            .iter()
            .flat_map(|o| o.get(key).and_then(Value::as_array).cloned().unwrap_or_default())
            .collect();
        files.sort_by_cached_key(|file| walk_order(&roots, file));
        out.insert(key.into(), files.into());
    }
    let screened = ["clean", "flagged"]
        .iter()
        .map(|k| summary.get(*k).and_then(Value::as_u64).unwrap_or(0))
        .sum();
    out.insert("summary".into(), summary.into());
    flood_guard(out, screened)?;
    Ok(merged)
}

/// `value` with any `shard` key dropped, for comparing settings.
fn without_shard(value: Option<&Value>) -> Option<Value> {
    let mut value = value.cloned();
    if let Some(Value::Object(object)) = &mut value {
        object.shift_remove("shard");
    }
    value
}

/// Where a file's entry sorts: the index of the first root it lies under, then its path
/// compared name by name, which is the order of a sorted depth-first walk. An archive's
/// members sort as the archive does: the (stable) sort then keeps them after it, in the
/// archive's order, as one shard reported them.
fn walk_order(roots: &[PathBuf], file: &Value) -> (usize, PathBuf) {
    let outermost = file.get("chain").and_then(|chain| chain.get(0)).and_then(Value::as_str);
    let path = outermost.map_or_else(|| file_path(file), PathBuf::from);
    let root = roots.iter().position(|root| path.starts_with(root)).unwrap_or(roots.len());
    (root, path)
}

/// The exact path of a file entry (see [`super::FilePath`]): its `path_bytes` when present,
/// else its `path`.
fn file_path(file: &Value) -> PathBuf {
    let text = file.get("path").and_then(Value::as_str).unwrap_or_default();
    let bytes = file.get("path_bytes").and_then(Value::as_str).and_then(|h| hex::decode(h).ok());
    match bytes {
        Some(bytes) => path_from_bytes(bytes),
        None => PathBuf::from(text),
    }
}

#[cfg(unix)]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

/// The flood guard of [`crate::matcher::Matcher::flood_guard`] (its rule,
/// [`MatchOptions::flooding`], with the bounds of `settings.flood`), over a report's matches:
/// a listed hash that floods the `screened` files is listed in `suspicious`, and its matches
/// are marked.
fn flood_guard(report: &mut Map<String, Value>, screened: u64) -> Result<(), String> {
    let flood: FloodSettings = serde_json::from_value(report["settings"]["flood"].clone())
        .map_err(|_| "settings.flood is missing".to_string())?;
    let guard = MatchOptions {
        flood_min_files: flood.min_files,
        flood_share: flood.share,
        ..MatchOptions::default()
    };
    let key = |m: &Value| -> Option<(Algorithm, String)> {
        let algorithm = m.get("algorithm")?.as_str()?.parse().ok()?;
        Some((algorithm, m.get("hash")?.as_str()?.to_string()))
    };
    let mut matches = Vec::new();
    for file in report["flagged"].as_array().into_iter().flatten() {
        let content = file["sha256"].as_str().ok_or("a flagged file without sha256")?;
        for m in file["matches"].as_array().into_iter().flatten() {
            let key = key(m).ok_or("a match without algorithm or hash")?;
            matches.push((key, content, &m["sources"]));
        }
    }
    let floods = guard.flooding(matches, screened as usize);
    let suspicious = (floods.iter())
        .map(|((algorithm, hash), tally)| {
            let sources = serde_json::from_value(tally.sources.clone())
                .map_err(|e| format!("the sources of a {algorithm} match: {e}"))?;
            let (files, contents) = (tally.files, tally.contents);
            Ok(Suspicious { algorithm: *algorithm, hash: hash.clone(), files, contents, sources })
        })
        .collect::<Result<Vec<Suspicious>, String>>()?;
    let floods: BTreeSet<(Algorithm, String)> = floods.into_keys().collect();
    for file in report["flagged"].as_array_mut().into_iter().flatten() {
        for m in file["matches"].as_array_mut().into_iter().flatten() {
            let suspicious = key(m).is_some_and(|k| floods.contains(&k));
            m["suspicious"] = suspicious.into();
        }
    }
    let suspicious = serde_json::to_value(suspicious).expect("suspicious hashes serialise");
    report.insert("suspicious".into(), suspicious);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shard(k: u32, files: &[&str]) -> (String, Value) {
        let flagged: Vec<Value> = files
            .iter()
            .map(|p| json!({"path": p, "sha256": p, "matches": [{"algorithm": "md5", "hash": "aa", "suspicious": false, "sources": []}]}))
            .collect();
        let report = json!({
            "schema_version": SCHEMA_VERSION, "tool": {"name": "mediascreen"},
            "started_at": format!("2026-11-25T10:00:0{k}.000Z"),
            "finished_at": format!("2026-11-25T10:00:1{k}.000Z"), "elapsed_ms": 10000,
            "settings": {"paths": ["b", "a"], "flood": {"min_files": 2, "share": 0.5}, "shard": format!("{k}/2")},
            "lists": [], "allowlists": [], "complete": true,
            "summary": {"files": files.len(), "clean": 0, "flagged": files.len()},
            "flagged": flagged, "errors": [], "skipped": [], "low_quality": [], "few_keypoints": [],
            "allowlisted": [],
            "suspicious": [],
        });
        (format!("shard{k}.json"), report)
    }

    #[test]
    fn shards_merge_in_walk_order_and_floods_are_recounted() {
        let merged =
            merge(&[shard(1, &["a/x", "b/z/1", "b/y.jpg"]), shard(0, &["b/z.jpg", "a/a"])])
                .unwrap();
        let paths: Vec<&str> = merged["flagged"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        // Root "b" first, as given; "b/z/1" before "b/z.jpg" as a walk of b/ finds them.
        assert_eq!(paths, ["b/y.jpg", "b/z/1", "b/z.jpg", "a/a", "a/x"]);
        assert_eq!(merged["summary"]["files"], 5);
        assert_eq!(merged["started_at"], "2026-11-25T10:00:00.000Z");
        assert_eq!(merged["finished_at"], "2026-11-25T10:00:11.000Z");
        assert_eq!(merged["elapsed_ms"], 11000);
        assert!(merged["settings"].get("shard").is_none());
        // Each shard alone had too few files for the flood guard; together they do not.
        assert_eq!(merged["suspicious"][0]["files"], 5);
        assert_eq!(merged["suspicious"][0]["contents"], 5);
        assert_eq!(merged["flagged"][0]["matches"][0]["suspicious"], true);
        // Copies of one content count once: five copies are one content, not a flood.
        let mut copies = [shard(1, &["a/x", "b/z/1", "b/y.jpg"]), shard(0, &["b/z.jpg", "a/a"])];
        for (_, report) in &mut copies {
            for file in report["flagged"].as_array_mut().unwrap() {
                file["sha256"] = "one content".into();
            }
        }
        let merged = merge(&copies).unwrap();
        assert_eq!(merged["suspicious"], json!([]));
        assert_eq!(merged["flagged"][0]["matches"][0]["suspicious"], false);
    }

    #[test]
    fn anything_but_every_shard_of_one_scan_is_refused() {
        let missing = merge(&[shard(0, &["a/a"])]).unwrap_err().to_string();
        assert!(missing.contains("1/2"), "{missing}");
        let twice = merge(&[shard(0, &["a/a"]), shard(0, &["a/b"])]).unwrap_err().to_string();
        assert!(twice.contains("twice"), "{twice}");
        let mut other = shard(1, &["a/b"]);
        other.1["settings"]["flood"]["min_files"] = 3.into();
        let differ = merge(&[shard(0, &["a/a"]), other]).unwrap_err().to_string();
        assert!(differ.contains("settings"), "{differ}");
        let mut unsharded = shard(1, &["a/b"]);
        unsharded.1["settings"].as_object_mut().unwrap().shift_remove("shard");
        assert!(merge(&[shard(0, &["a/a"]), unsharded])
            .unwrap_err()
            .to_string()
            .contains("scanned without sharding"));
        let mut old = shard(1, &["a/b"]);
        old.1["schema_version"] = 2.into();
        assert!(merge(&[shard(0, &["a/a"]), old]).unwrap_err().to_string().contains("schema"));
    }
}
