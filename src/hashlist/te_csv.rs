//! ThreatExchange indicator CSV: python-threatexchange's store of one indicator type.
//!
//! ```text
//! indicator,first_descriptor_id,added_on,labels
//! f8f8f0cee0f4...9c9b22,3058061737574159,2020-07-01T18:31:15+0000,media_type_photo bridge
//! ```
//!
//! Four columns: the hash, the id of its first ThreatExchange descriptor (the entry's id),
//! when it was added, and its tags separated by spaces (the entry's label). The header row is
//! optional because python-threatexchange's `SimpleSignalType.store` writes none. The rows do
//! not say the indicator type: the file name does (`te_HASH_PDQ.csv`, `pdq.csv`), unless
//! the load options' algorithm overrides it; a name that names an unsupported type (`HASH_URL_MD5`)
//! makes every row a refusal. A row is a record keyed by its indicator, as the store is: a
//! later row for the same hash replaces an earlier one. The opinion tags that
//! python-threatexchange's client adds to the labels decide whether it is matched at all: a
//! `false_positive` row, or one only `disputed` (not also `true_positive`), is removed (see
//! [`super::labels::opinion`]). Must not match or apply hygiene.

use std::path::Path;

use crate::error::{Reason, Result};
use crate::hash::{Algorithm, HashValue};

use super::labels::{algorithms_in_name, opinion};
use super::plain::name_the_algorithm;
use super::text;
use super::{Item, ListEntry, ParseContext, Record, State};

const COLUMNS: [&str; 4] = ["indicator", "first_descriptor_id", "added_on", "labels"];

/// The rows' algorithm, or why every row is refused.
type RowAlgorithm = std::result::Result<Algorithm, String>;

/// Parses a whole list in this format.
pub(super) fn parse(cx: &ParseContext<'_>, bytes: &[u8], out: &mut dyn FnMut(Item)) -> Result<()> {
    let algorithm = match cx.algorithm {
        Some(algorithm) => Ok(algorithm),
        None => algorithm_from_name(cx.path).map_err(|reason| cx.error(0, reason))?,
    };
    let mut first = true;
    text::csv_records(cx, bytes, |record, line| {
        let is_header = first && record.get(0).is_some_and(|f| f.eq_ignore_ascii_case(COLUMNS[0]));
        first = false;
        if is_header {
            if !record.iter().map(str::to_ascii_lowercase).eq(COLUMNS) {
                return Err(format!("unexpected header (expected {})", COLUMNS.join(",")).into());
            }
            return Ok(());
        }
        out(item(&algorithm, record, line)?);
        Ok(())
    })
}

fn algorithm_from_name(path: &Path) -> std::result::Result<RowAlgorithm, Reason> {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    match algorithms_in_name(&name).as_slice() {
        [one] => Ok(one.clone()),
        found => Err(name_the_algorithm(&format!(
            "cannot tell the indicator type from the file name {name:?} ({}); ",
            if found.is_empty() { "it names none" } else { "it names several" }
        ))),
    }
}

fn item(
    algorithm: &RowAlgorithm,
    record: &csv::StringRecord,
    line: u64,
) -> std::result::Result<Item, String> {
    let [indicator, descriptor, _added_on, labels] = [0, 1, 2, 3].map(|i| record.get(i));
    let (Some(indicator), Some(descriptor), Some(labels), None) =
        (indicator, descriptor, labels, record.get(4))
    else {
        return Err(format!("expected 4 fields ({}), found {}", COLUMNS.join(","), record.len()));
    };
    if descriptor.is_empty() || !descriptor.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("first_descriptor_id {descriptor:?} is not a ThreatExchange id"));
    }
    let algorithm = match algorithm {
        Ok(algorithm) => *algorithm,
        Err(reason) => return Ok(Item::Refused { line, reason: reason.clone() }),
    };
    let hash = HashValue::from_hex(algorithm, indicator)
        .map_err(|e| format!("bad {algorithm} hash {indicator:?}: {e}"))?;
    let key = Some(format!("{algorithm}\u{0}{}", hash.to_hex()));
    let tags: Vec<&str> = labels.split_whitespace().collect();
    let state = match opinion(None, &tags) {
        Some(removal) => {
            let reason = format!("descriptor {descriptor} is labelled {labels:?}");
            State::Removed { removal, reason }
        }
        None => {
            let mut entry = ListEntry::new(algorithm, hash, line);
            entry.id = Some(descriptor.to_string());
            entry.label = Some(labels.to_string()).filter(|l| !l.is_empty());
            State::Active(vec![entry])
        }
    };
    Ok(Item::Record(Record { key, stamp: None, line, state }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashlist::{active, Removal};

    fn parse_as(name: &str, algorithm: Option<Algorithm>, text: &str) -> Result<Vec<Item>> {
        let cx = ParseContext { path: Path::new(name), algorithm };
        let mut items = Vec::new();
        parse(&cx, text.as_bytes(), &mut |item| items.push(item))?;
        Ok(items)
    }

    const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    const MD5: &str = "ad5148579e2a0886849021264351a52a";

    #[test]
    fn rows_take_the_file_names_algorithm() {
        let text = format!(
            "indicator,first_descriptor_id,added_on,labels\n\
             {PDQ},3058061737574159,2020-07-01T18:31:15+0000,\"media_type_photo, bridge\"\n\n\
             {PDQ},42,2020-07-02T00:00:00+0000,\n"
        );
        let items = parse_as("dir/te_HASH_PDQ.csv", None, &text).unwrap();
        let first = active(&items[0]);
        assert_eq!((first.algorithm, first.line), (Algorithm::Pdq, 2));
        assert_eq!(first.id.as_deref(), Some("3058061737574159"));
        assert_eq!(first.label.as_deref(), Some("media_type_photo, bridge"));
        let second = active(&items[1]);
        assert_eq!((second.line, second.label.as_deref()), (4, None));
    }

    #[test]
    fn the_flag_wins_and_headerless_rows_load() {
        let text = format!("{MD5},7,2021-01-01T00:00:00+0000,video\n");
        let items = parse_as("simple.HASH_PDQ.te", Some(Algorithm::Md5), &text).unwrap();
        assert_eq!(active(&items[0]).algorithm, Algorithm::Md5);
        let items = parse_as("video_md5.te", None, &text).unwrap();
        assert_eq!((active(&items[0]).algorithm, active(&items[0]).line), (Algorithm::Md5, 1));
    }

    #[test]
    fn rows_are_keyed_by_indicator_and_opinions_remove_them() {
        let text = format!(
            "{PDQ},1,2020-07-01T00:00:00+0000,media_type_photo\n\
             {MD5}{MD5},2,mine,false_positive media_type_photo\n\
             {},3,2020-07-01T00:00:00+0000,disputed\n\
             {},4,2020-07-01T00:00:00+0000,disputed true_positive\n",
            PDQ.to_uppercase(),
            PDQ.replace('f', "e"),
        );
        let items = parse_as("pdq.csv", None, &text).unwrap();
        let said: Vec<_> = items
            .iter()
            .map(|item| match item {
                Item::Record(Record { key, state: State::Removed { removal, .. }, .. }) => {
                    (key.clone().unwrap(), Some(*removal))
                }
                Item::Record(Record { key, .. }) => (key.clone().unwrap(), None),
                other => panic!("{other:?}"),
            })
            .collect();
        let key = |hex: &str| format!("pdq\u{0}{}", hex.to_lowercase());
        assert_eq!(
            said,
            [
                (key(PDQ), None),
                (key(&format!("{MD5}{MD5}")), Some(Removal::FalsePositive)),
                (key(PDQ), Some(Removal::Disputed)),
                (key(&PDQ.replace('f', "e")), None),
            ]
        );
    }

    #[test]
    fn unsupported_types_are_refused_row_by_row() {
        let text = "indicator,first_descriptor_id,added_on,labels\nabc,1,x,\ndef,2,y,\n";
        let items = parse_as("HASH_URL_MD5.csv", None, text).unwrap();
        assert_eq!(
            items,
            [2, 3].map(|line| Item::Refused {
                line,
                reason: "unsupported algorithm \"HASH_URL_MD5\"".into()
            })
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        let error = |name: &str, text: &str| parse_as(name, None, text).unwrap_err().to_string();
        assert!(error("export.csv", "").starts_with(
            "export.csv: cannot tell the indicator type from the file name \"export.csv\" \
             (it names none)"
        ));
        assert!(error("pdq-md5.csv", "").contains("(it names several)"));
        let text = format!("{PDQ},1,t,\n{PDQ},2,t\n");
        assert!(error("pdq.csv", &text).starts_with("pdq.csv:2: expected 4 fields"));
        let text = format!("{PDQ},1,t,\n{MD5},2,t,\n");
        assert!(error("pdq.csv", &text).starts_with("pdq.csv:2: bad pdq hash"));
        assert!(error("pdq.csv", &format!("{PDQ},x1,t,\n")).contains("is not a ThreatExchange id"));
        assert!(error("pdq.csv", "indicator,id\n").starts_with("pdq.csv:1: unexpected header"));
    }
}
