//! Meta's vPDQ hasher output (`vpdq-hash-video`, and the sample hashes in ThreatExchange):
//! one video per file, one line per hashed frame.
//!
//! ```text
//! 0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.000
//! 1,99,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.033
//! ```
//!
//! `frameNumber,quality,pdqHex,timestampSeconds`; every line becomes a `vpdq` entry with that
//! quality and timestamp, and the id is the file's name without its extension, so that a
//! folder of such files loaded as several lists names each video by its file. Blank lines and
//! `#` comments are skipped. Must not match or apply hygiene.

use crate::error::Result;
use crate::hash::vpdq;
use crate::hash::Algorithm;

use super::{text, Item, ListEntry, ParseContext};

/// Parses a whole list in this format.
pub(super) fn parse(cx: &ParseContext<'_>, bytes: &[u8], out: &mut dyn FnMut(Item)) -> Result<()> {
    let id = cx.path.file_stem().map(|stem| stem.to_string_lossy().into_owned());
    text::records(cx, bytes, |line, number| {
        let frame = vpdq::parse_line(line)?;
        let mut entry = ListEntry::new(Algorithm::Vpdq, frame.hash, number);
        entry.id.clone_from(&id);
        entry.quality = Some(frame.quality);
        entry.timestamp = Some(frame.timestamp);
        out(Item::Entry(entry));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDQ: &str = "e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c";

    #[test]
    fn frames_become_entries_of_one_video_named_by_the_file() {
        let text = format!("0,100,{PDQ},0.000\n\n1,42,{PDQ},0.033\n");
        let entries =
            crate::hashlist::parse_entries(parse, "hashes/chair-19.txt", None, &text).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].algorithm, Algorithm::Vpdq);
        assert_eq!(entries[1].id.as_deref(), Some("chair-19"));
        assert_eq!(
            (entries[1].line, entries[1].quality, entries[1].timestamp),
            (3, Some(42), Some(0.033))
        );
        assert_eq!(entries[0].hash.to_hex(), PDQ);
    }

    #[test]
    fn malformed_lines_are_fatal_with_their_line() {
        let text = format!("0,100,{PDQ},0.000\n1,100,{PDQ}\n");
        let error = crate::hashlist::parse_entries(parse, "v.txt", None, &text).unwrap_err();
        assert!(error.to_string().starts_with("v.txt:2: expected 4"), "{error}");
    }
}
