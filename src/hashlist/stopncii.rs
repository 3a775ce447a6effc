//! StopNCII.org hash records, as its FetchHashes API returns them.
//!
//! Either an array of hash records or a whole FetchHashes response page, which holds them
//! under `hashRecords`:
//!
//! ```json
//! {"count": 1, "nextPageToken": "", "nextSetTimestamp": 1625175071, "hasMoreRecords": false,
//!  "hashRecords": [
//!   {"lastModtimestamp": 1625175071, "signalType": "ImagePDQ",
//!    "hashValue": "f8f8f0ce...9c9b22", "hashStatus": "Active",
//!    "caseNumbers": {"cc592711-7068-442f-b5d2-24d50d389751": "Active"}, "CSPFeedbacks": []}]}
//! ```
//!
//! Field names and values are those of python-threatexchange's StopNCII client
//! (`StopNCIIHashRecord`, `StopNCIISignalType`, `StopNCIICaseStatus`). `signalType` `ImagePDQ`
//! and `VideoMD5` load; `VideoTMK`, `Text`, `URL` are refused. The feed is a stream of
//! changes to hashes, so each record is keyed by its signal type and hash value and stamped
//! with `lastModtimestamp`: the newest record of a hash is its state. `hashStatus` `Withdrawn`
//! and `Deleted` mean the person withdrew every case or StopNCII deleted it, so that record
//! removes the hash; a status the client does not know is refused rather than guessed to be
//! active. Records have no id of their own: the case numbers are the entry's id. Must not
//! match or apply hygiene.

use serde::Deserialize;

use crate::error::Result;
use crate::hash::HashValue;

use super::labels::algorithm_from_label;
use super::{json, Item, ListEntry, ParseContext, Record, Removal, State};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HashRecord {
    signal_type: String,
    hash_value: String,
    hash_status: String,
    /// When the record last changed, in seconds since 1970.
    #[serde(default)]
    last_modtimestamp: Option<f64>,
    /// Case number to case status. StopNCII sends `[]` for a record with no cases.
    #[serde(default)]
    case_numbers: serde_json::Value,
}

/// Parses a whole list in this format.
pub(super) fn parse(cx: &ParseContext<'_>, bytes: &[u8], out: &mut dyn FnMut(Item)) -> Result<()> {
    json::parse_typed(cx, bytes, "hashRecords", "a StopNCII hash record", item, out)
}

fn item(record: HashRecord, line: u64) -> std::result::Result<Item, String> {
    let key = format!("{}\u{0}{}", record.signal_type, record.hash_value.to_ascii_lowercase());
    let keyed = |state| {
        Ok(Item::Record(Record { key: Some(key), stamp: record.last_modtimestamp, line, state }))
    };
    let (removal, reason) = match record.hash_status.as_str() {
        "Received" | "Active" | "Unknown" => (None, ""),
        "Withdrawn" => (Some(Removal::Withdrawn), "withdrawn by StopNCII"),
        "Deleted" => (Some(Removal::Deleted), "deleted by StopNCII"),
        other => {
            let reason = format!("unknown StopNCII hashStatus {other:?}");
            return Ok(Item::Refused { line, reason });
        }
    };
    if let Some(removal) = removal {
        return keyed(State::Removed { removal, reason: reason.to_string() });
    }
    let algorithm = match algorithm_from_label(&record.signal_type) {
        Ok(algorithm) => algorithm,
        Err(reason) => return Ok(Item::Refused { line, reason }),
    };
    let hex = &record.hash_value;
    let hash = HashValue::from_hex(algorithm, hex)
        .map_err(|e| format!("bad {algorithm} hash {hex:?}: {e}"))?;
    let mut entry = ListEntry::new(algorithm, hash, line);
    entry.id = record
        .case_numbers
        .as_object()
        .map(|cases| {
            // Sorted: the id must not depend on the order the publisher wrote the cases in.
            let mut numbers: Vec<&str> = cases.keys().map(String::as_str).collect();
            numbers.sort_unstable();
            numbers.join(" ")
        })
        .filter(|cases| !cases.is_empty());
    keyed(State::Active(vec![entry]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::Algorithm;
    use crate::hashlist::active;

    fn parse_str(text: &str) -> Result<Vec<Item>> {
        crate::hashlist::parse_items(parse, "s.json", None, text)
    }

    fn record(signal_type: &str, hash: &str, status: &str) -> String {
        format!(
            "{{\"lastModtimestamp\": 1, \"signalType\": \"{signal_type}\", \"hashValue\": \
             \"{hash}\", \"hashStatus\": \"{status}\", \"caseNumbers\": {{\"c2\": \"{status}\", \
             \"c1\": \"Received\"}}}}"
        )
    }

    const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    const MD5: &str = "ad5148579e2a0886849021264351a52a";

    #[test]
    fn records_are_keyed_by_signal_type_and_hash_and_stamped() {
        let text = format!(
            "[\n{},\n{},\n{},\n{},\n{},\n{}\n]",
            record("ImagePDQ", PDQ, "Active"),
            record("VideoMD5", MD5, "Received"),
            record("ImagePDQ", &PDQ.to_uppercase(), "Withdrawn"),
            record("VideoTMK", "whatever", "Active"),
            record("ImagePDQ", PDQ, "Deleted"),
            record("ImagePDQ", PDQ, "Pending"),
        );
        let items = parse_str(&text).unwrap();
        let pdq = active(&items[0]);
        assert_eq!(
            (pdq.algorithm, pdq.line, pdq.id.as_deref()),
            (Algorithm::Pdq, 2, Some("c1 c2"))
        );
        let md5 = active(&items[1]);
        assert_eq!((md5.algorithm, md5.line), (Algorithm::Md5, 3));
        let removed = |line: u64, removal: Removal, reason: &str| {
            Item::Record(Record {
                key: Some(format!("ImagePDQ\u{0}{PDQ}")),
                stamp: Some(1.0),
                line,
                state: State::Removed { removal, reason: reason.into() },
            })
        };
        assert_eq!(items[2], removed(4, Removal::Withdrawn, "withdrawn by StopNCII"));
        let refusal = |line: u64, reason: &str| Item::Refused { line, reason: reason.into() };
        assert_eq!(items[3], refusal(5, "unsupported algorithm \"VideoTMK\""));
        assert_eq!(items[4], removed(6, Removal::Deleted, "deleted by StopNCII"));
        assert_eq!(items[5], refusal(7, "unknown StopNCII hashStatus \"Pending\""));
    }

    #[test]
    fn a_fetch_response_page_is_accepted() {
        let text = format!(
            "{{\"count\": 1, \"nextPageToken\": null, \"hasMoreRecords\": false,\n\
             \"hashRecords\": [\n  {}]}}",
            record("ImagePDQ", PDQ, "Active")
                .replace("\"caseNumbers\": {", "\"caseNumbers\": [], \"x\": {")
        );
        let items = parse_str(&text).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!((active(&items[0]).line, active(&items[0]).id.as_deref()), (3, None));
    }

    #[test]
    fn malformed_records_are_fatal_at_their_line() {
        let error = |text: &str| parse_str(text).unwrap_err().to_string();
        let text =
            format!("[{},\n {{\"signalType\": \"ImagePDQ\"}}]", record("ImagePDQ", PDQ, "Active"));
        assert_eq!(error(&text), "s.json:2: not a StopNCII hash record: missing field `hashValue`");
        let text = format!("[\n{}]", record("ImagePDQ", MD5, "Active"));
        assert!(error(&text).starts_with("s.json:2: bad pdq hash"));
    }
}
