//! Tech Against Terrorism's hash list (TCAP), as its hash-list API returns it.
//!
//! Either an array of entries (the downloadable JSON file) or an API response page, which
//! holds them under `results`:
//!
//! ```json
//! {"count": 2, "next": null, "previous": null, "checkpoint": "1724856487.709035,10594",
//!  "results": [
//!   {"id": 2819, "hash_digest": "ad5148579e2a0886849021264351a52a", "algorithm": "MD5",
//!    "ideology": "islamist", "file_type": "mp4", "deleted": false, "updated_on": 1704901040.2}]}
//! ```
//!
//! Field names are those of python-threatexchange's TAT client (`TATHashListEntry`,
//! `TATHashListResponse`). `algorithm` is `MD5` or `PDQ` (other names pass through the
//! shared label table). The list is fetched as changes since a checkpoint, so each entry is
//! a record keyed by its `id` (by its algorithm and hash if it has none) and stamped with
//! `updated_on`: the newest record of an id is its state, and `deleted: true`, TAT's
//! tombstone, removes it. The entry's id is `id` and its label `ideology`. Unlike python-threatexchange, which has no photo MD5, MD5 entries
//! load whatever their `file_type`: an MD5 is the digest of the file's bytes. Must not match
//! or apply hygiene.

use serde::Deserialize;

use crate::error::Result;
use crate::hash::HashValue;

use super::labels::algorithm_from_label;
use super::{json, Item, ListEntry, ParseContext, Record, Removal, State};

#[derive(Deserialize)]
struct HashEntry {
    /// A tombstone may carry nothing but its id.
    #[serde(default)]
    hash_digest: String,
    #[serde(default)]
    algorithm: String,
    deleted: bool,
    id: Option<serde_json::Value>,
    ideology: Option<String>,
    #[serde(default)]
    updated_on: Option<f64>,
}

/// Parses a whole list in this format.
pub(super) fn parse(cx: &ParseContext<'_>, bytes: &[u8], out: &mut dyn FnMut(Item)) -> Result<()> {
    json::parse_typed(cx, bytes, "results", "a TAT hash list entry", item, out)
}

fn item(record: HashEntry, line: u64) -> std::result::Result<Item, String> {
    let id = match record.id {
        None => None,
        Some(serde_json::Value::String(id)) => Some(id),
        Some(serde_json::Value::Number(id)) => Some(id.to_string()),
        Some(other) => return Err(format!("id {other} is neither a number nor a string")),
    };
    let key = match &id {
        Some(id) => format!("id\u{0}{id}"),
        None if record.hash_digest.is_empty() => {
            return Err("an entry with neither an id nor a hash_digest".to_string())
        }
        None => format!("{}\u{0}{}", record.algorithm, record.hash_digest.to_ascii_lowercase()),
    };
    let keyed =
        |state| Ok(Item::Record(Record { key: Some(key), stamp: record.updated_on, line, state }));
    if record.deleted {
        let reason = match &id {
            Some(id) => format!("deleted by Tech Against Terrorism (id {id})"),
            None => "deleted by Tech Against Terrorism".to_string(),
        };
        return keyed(State::Removed { removal: Removal::Deleted, reason });
    }
    let algorithm = match algorithm_from_label(&record.algorithm) {
        Ok(algorithm) => algorithm,
        Err(reason) => return Ok(Item::Refused { line, reason }),
    };
    let hex = &record.hash_digest;
    let hash = HashValue::from_hex(algorithm, hex)
        .map_err(|e| format!("bad {algorithm} hash {hex:?}: {e}"))?;
    let mut entry = ListEntry::new(algorithm, hash, line);
    entry.id = id;
    entry.label = record.ideology.filter(|i| !i.is_empty());
    keyed(State::Active(vec![entry]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::Algorithm;
    use crate::hashlist::active;

    fn parse_str(text: &str) -> Result<Vec<Item>> {
        crate::hashlist::parse_items(parse, "t.json", None, text)
    }

    const PDQ: &str = "1f811b9d267fbc6693c0c7f30e041f9df49b836303e10f067fcdfc12c02d01f9";
    const MD5: &str = "ad5148579e2a0886849021264351a52a";

    fn entry(id: u32, hash: &str, algorithm: &str, deleted: bool) -> String {
        format!(
            "{{\"hash_digest\": \"{hash}\", \"algorithm\": \"{algorithm}\", \"ideology\": \
             \"far-right\", \"file_type\": \"jpg\", \"deleted\": {deleted}, \"updated_on\": \
             1704901040.2, \"id\": {id}}}"
        )
    }

    #[test]
    fn entries_are_keyed_by_id_and_stamped() {
        let text = format!(
            "{{\"count\": 4, \"next\": null, \"results\": [\n{},\n{},\n{},\n{},\n{}]}}",
            entry(1, PDQ, "PDQ", false),
            entry(2, MD5, "MD5", false),
            entry(3, MD5, "MD5", true),
            entry(4, "00", "TMK", false),
            "{\"id\": 5, \"deleted\": true}",
        );
        let items = parse_str(&text).unwrap();
        let pdq = active(&items[0]);
        assert_eq!((pdq.algorithm, pdq.line), (Algorithm::Pdq, 2));
        assert_eq!((pdq.id.as_deref(), pdq.label.as_deref()), (Some("1"), Some("far-right")));
        let Item::Record(Record { key, stamp, .. }) = &items[1] else { panic!("{items:?}") };
        assert_eq!((key.as_deref(), *stamp), (Some("id\u{0}2"), Some(1704901040.2)));
        let deleted = |line, id: u32| {
            let reason = format!("deleted by Tech Against Terrorism (id {id})");
            let state = State::Removed { removal: Removal::Deleted, reason };
            let stamp = (id == 3).then_some(1704901040.2);
            Item::Record(Record { key: Some(format!("id\u{0}{id}")), stamp, line, state })
        };
        assert_eq!(items[2], deleted(4, 3));
        let refusal = |line: u64, reason: &str| Item::Refused { line, reason: reason.into() };
        assert_eq!(items[3], refusal(5, "unsupported algorithm \"TMK\""));
        assert_eq!(items[4], deleted(6, 5));
    }

    #[test]
    fn malformed_entries_are_fatal_at_their_line() {
        let error = |text: &str| parse_str(text).unwrap_err().to_string();
        let text = format!(
            "[{},\n{{\"hash_digest\": \"{MD5}\", \"algorithm\": \"MD5\"}}]",
            entry(1, MD5, "MD5", false)
        );
        assert_eq!(error(&text), "t.json:2: not a TAT hash list entry: missing field `deleted`");
        let text = format!("[\n\n{}]", entry(1, PDQ, "MD5", false));
        assert!(error(&text).starts_with("t.json:3: bad md5 hash"));
    }
}
