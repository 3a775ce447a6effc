//! python-threatexchange's `threatexchange dataset -P --csv`: every fetched signal with its
//! collaboration and aggregate opinion.
//!
//! ```text
//! signal_type,signal_str,collab,category,tags
//! pdq,f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,Sample Data,POSITIVE_CLASS,media_type_photo bridge
//! video_md5,ad5148579e2a0886849021264351a52a,Sample Data,NEGATIVE_CLASS,
//! ```
//!
//! The header is always there (`csv.DictWriter.writeheader`); tags are separated by spaces.
//! Rows are read exactly as `dataset -P` lines are ([`super::te_text::record`]): keyed by
//! signal type, signal and collaboration, removed when the opinion says not to match, and
//! refused when the signal type is one mediascreen does not compute. Must not match or apply
//! hygiene.

use crate::error::Result;

use super::te_text::{record, Signal};
use super::{text, Item, ParseContext};

const COLUMNS: [&str; 5] = ["signal_type", "signal_str", "collab", "category", "tags"];

/// Parses a whole list in this format.
pub(super) fn parse(cx: &ParseContext<'_>, bytes: &[u8], out: &mut dyn FnMut(Item)) -> Result<()> {
    let mut first = true;
    text::csv_records(cx, bytes, |row, line| {
        if std::mem::take(&mut first) {
            if !row.iter().map(str::to_ascii_lowercase).eq(COLUMNS) {
                return Err(format!("expected the header {}", COLUMNS.join(",")).into());
            }
            return Ok(());
        }
        let [Some(signal_type), Some(signal), Some(collab), Some(category), Some(tags), None] =
            [0, 1, 2, 3, 4, 5].map(|i| row.get(i))
        else {
            let found = row.len();
            return Err(format!("expected 5 fields ({}), found {found}", COLUMNS.join(",")).into());
        };
        let signal = Signal {
            signal_type: Some(signal_type),
            signal,
            collab: Some(collab.to_string()).filter(|c| !c.is_empty()),
            category: Some(category).filter(|c| !c.is_empty()),
            tags: tags.split_whitespace().collect(),
        };
        out(record(cx.algorithm, signal, line)?);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::Algorithm;
    use crate::hashlist::{active, Record, Removal, State};

    const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    const MD5: &str = "ad5148579e2a0886849021264351a52a";

    fn parse_str(text: &str) -> Result<Vec<Item>> {
        crate::hashlist::parse_items(parse, "d.csv", None, text)
    }

    #[test]
    fn rows_load_with_collaboration_and_opinion() {
        let text = format!(
            "signal_type,signal_str,collab,category,tags\r\n\
             pdq,{PDQ},Sample Data,POSITIVE_CLASS,media_type_photo bridge\r\n\
             video_md5,{MD5},Sample Data,NEGATIVE_CLASS,\r\n\
             raw_text,\"a, b\",Sample Data,POSITIVE_CLASS,\r\n\
             vpdq,\"[\"\"{PDQ},100,0.0\"\"]\",Videos,DISPUTED,\r\n"
        );
        let items = parse_str(&text).unwrap();
        let pdq = active(&items[0]);
        assert_eq!((pdq.algorithm, pdq.line), (Algorithm::Pdq, 2));
        assert_eq!(
            pdq.label.as_deref(),
            Some("Sample Data: POSITIVE_CLASS media_type_photo,bridge")
        );
        assert!(matches!(
            &items[1],
            Item::Record(Record {
                line: 3,
                state: State::Removed { removal: Removal::FalsePositive, .. },
                ..
            })
        ));
        assert_eq!(
            items[2],
            Item::Refused { line: 4, reason: "unsupported algorithm \"raw_text\"".into() }
        );
        assert!(matches!(
            &items[3],
            Item::Record(Record { state: State::Removed { removal: Removal::Disputed, .. }, .. })
        ));
    }

    #[test]
    fn malformed_rows_are_fatal_at_their_line() {
        let error = |text: &str| parse_str(text).unwrap_err().to_string();
        assert!(error("signal_type,signal_str\n").starts_with("d.csv:1: expected the header"));
        let header = "signal_type,signal_str,collab,category,tags\n";
        assert!(error(&format!("{header}pdq,{PDQ},c,POSITIVE_CLASS\n"))
            .starts_with("d.csv:2: expected 5 fields"));
        assert!(error(&format!("{header}\npdq,{MD5},c,POSITIVE_CLASS,\n"))
            .starts_with("d.csv:3: bad pdq hash"));
    }
}
