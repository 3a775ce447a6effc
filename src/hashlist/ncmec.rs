//! NCMEC hash-sharing entries: the XML that the NCMEC Hash API's `entries` endpoint returns.
//!
//! ```xml
//! <queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">
//!   <images count="2" maxTimestamp="2017-10-24T15:10:00Z">
//!     <image>
//!       <member id="42">Example Member</member>
//!       <id>image1</id>
//!       <classification>A1</classification>
//!       <fingerprints><md5>…</md5><sha1>…</sha1><pdna>…</pdna></fingerprints>
//!     </image>
//!     <deletedImage><member id="43">Example Member</member><id>image4</id></deletedImage>
//!   </images>
//! </queryResult>
//! ```
//!
//! Read as python-threatexchange's NCMEC client reads it (`NCMECEntryUpdate.from_xml`): an
//! entry is an `image` or `video` element, and a `deletedImage` or `deletedVideo` one is
//! NCMEC's tombstone for an entry. Each child of an entry's `fingerprints` becomes one list
//! entry, with the entry's `id` and `classification` as id and label; fingerprints
//! mediascreen does not compute (`pdna`, `tmk-pdqf`, `videntifier`, …) are refused. The API
//! pages through changes, so each entry is a record keyed as the client keys it, by its
//! member's id and its own (`<member id="42">`, `<id>`): a later update of an entry replaces
//! it, and a later tombstone removes it, so pages concatenated in the order they were fetched
//! load as NCMEC means them, and where both records have a `timestamp`, the newer one wins
//! whatever the order. Namespaces, feedback and paging are ignored, and entries are taken
//! wherever they are. Must not match or apply hygiene.

use quick_xml::events::{BytesRef, Event};
use quick_xml::Reader;

use crate::error::Result;
use crate::hash::HashValue;

use super::labels::algorithm_from_label;
use super::text::{self, Lines};
use super::{Item, ListEntry, ParseContext, Record, Removal, State};

/// An entry being read: where it opened and what it has said so far.
struct Entry {
    line: u64,
    /// Its index in the stack of open elements.
    depth: usize,
    deleted: bool,
    id: Option<String>,
    /// The `id` attribute of its `member`.
    member: Option<String>,
    /// Its `timestamp`, in seconds since 1970, if it has one that reads.
    stamp: Option<f64>,
    classification: Option<String>,
    /// (line, element name, text) of each fingerprint.
    fingerprints: Vec<(u64, String, String)>,
}

/// Parses a whole list in this format.
pub(super) fn parse(cx: &ParseContext<'_>, bytes: &[u8], out: &mut dyn FnMut(Item)) -> Result<()> {
    let text = text::utf8(cx, bytes)?;
    let mut lines = Lines::new(text.as_bytes());
    let mut reader = Reader::from_str(text);
    let mut open: Vec<String> = Vec::new();
    let mut entry: Option<Entry> = None;
    let mut chars = String::new();
    loop {
        // Text is not trimmed, so every event starts where the one before it ended.
        let line = lines.at(reader.buffer_position() as usize);
        let event = reader.read_event().map_err(|e| {
            cx.error(lines.at(reader.error_position() as usize), format!("malformed XML: {e}"))
        })?;
        let (tag, closes) = match &event {
            Event::Start(tag) => (tag, false),
            Event::Empty(tag) => (tag, true),
            Event::End(_) => {
                let name = open.pop().unwrap_or_default();
                close(cx, &mut entry, &open, &name, &chars, out)?;
                continue;
            }
            Event::Text(t) => {
                chars.push_str(&t.xml10_content());
                continue;
            }
            Event::CData(t) => {
                chars.push_str(&t.xml10_content());
                continue;
            }
            Event::GeneralRef(r) => {
                chars.push_str(&reference(r).map_err(|reason| cx.error(line, reason))?);
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = tag.local_name().as_ref().to_string();
        open_element(&mut entry, &open, &name, line);
        if let Some(e) = entry.as_mut().filter(|e| open.len() == e.depth + 1) {
            if name.eq_ignore_ascii_case("member") {
                let id = tag.try_get_attribute("id").ok().flatten();
                e.member = id.map(|a| a.value.trim().to_string());
            }
        }
        chars.clear();
        if closes {
            close(cx, &mut entry, &open, &name, &chars, out)?;
        } else {
            open.push(name);
        }
    }
    match open.last() {
        Some(name) => Err(cx.error(lines.at(text.len()), format!("the XML ends inside <{name}>"))),
        None => Ok(()),
    }
}

fn open_element(entry: &mut Option<Entry>, open: &[String], name: &str, line: u64) {
    let deleted = ["deletedImage", "deletedVideo"].iter().any(|n| n.eq_ignore_ascii_case(name));
    let is_entry = deleted || ["image", "video"].iter().any(|n| n.eq_ignore_ascii_case(name));
    if entry.is_none() && is_entry {
        *entry = Some(Entry {
            line,
            depth: open.len(),
            deleted,
            id: None,
            member: None,
            stamp: None,
            classification: None,
            fingerprints: Vec::new(),
        });
    } else if let Some(e) = entry {
        if in_fingerprints(e, open) {
            e.fingerprints.push((line, name.to_string(), String::new()));
        }
    }
}

/// True if an element whose parents are `open` is a fingerprint of `entry`.
fn in_fingerprints(entry: &Entry, open: &[String]) -> bool {
    open.len() == entry.depth + 2 && open[entry.depth + 1].eq_ignore_ascii_case("fingerprints")
}

/// Handles the end of element `name`, whose parents are `open` and whose text is `chars`.
fn close(
    cx: &ParseContext<'_>,
    entry: &mut Option<Entry>,
    open: &[String],
    name: &str,
    chars: &str,
    out: &mut dyn FnMut(Item),
) -> Result<()> {
    let Some(e) = entry else { return Ok(()) };
    let value = Some(chars.trim().to_string()).filter(|v| !v.is_empty());
    if open.len() == e.depth {
        return emit(cx, entry.take().expect("an entry is open"), out);
    }
    if open.len() == e.depth + 1 {
        if name.eq_ignore_ascii_case("id") {
            e.id = value;
        } else if name.eq_ignore_ascii_case("classification") {
            e.classification = value;
        } else if name.eq_ignore_ascii_case("timestamp") {
            e.stamp = value.as_deref().and_then(seconds);
        }
    } else if in_fingerprints(e, open) {
        if let Some(fingerprint) = e.fingerprints.last_mut() {
            fingerprint.2 = value.unwrap_or_default();
        }
    }
    Ok(())
}

fn emit(cx: &ParseContext<'_>, entry: Entry, out: &mut dyn FnMut(Item)) -> Result<()> {
    let Some(id) = entry.id else {
        return Err(cx.error(entry.line, "NCMEC entry without an <id>"));
    };
    let key = Some(format!("{}-{id}", entry.member.as_deref().unwrap_or_default()));
    let line = entry.line;
    if entry.deleted {
        let reason = format!("deleted by NCMEC (entry {id:?})");
        let state = State::Removed { removal: Removal::Deleted, reason };
        out(Item::Record(Record { key, stamp: entry.stamp, line, state }));
        return Ok(());
    }
    if entry.fingerprints.is_empty() {
        let reason = format!("NCMEC entry {id:?} has no fingerprints");
        out(Item::Refused { line, reason });
    }
    let mut entries = Vec::new();
    for (line, name, hex) in entry.fingerprints {
        let algorithm = match algorithm_from_label(&name) {
            Ok(algorithm) => algorithm,
            Err(reason) => {
                out(Item::Refused { line, reason });
                continue;
            }
        };
        let hash = HashValue::from_hex(algorithm, &hex)
            .map_err(|e| cx.error(line, format!("bad {algorithm} hash {hex:?}: {e}")))?;
        let mut item = ListEntry::new(algorithm, hash, line);
        item.id = Some(id.clone());
        item.label.clone_from(&entry.classification);
        entries.push(item);
    }
    out(Item::Record(Record { key, stamp: entry.stamp, line, state: State::Active(entries) }));
    Ok(())
}

/// Seconds since 1970 of an NCMEC timestamp (`2017-10-24T15:00:00Z`), if it reads as one.
fn seconds(timestamp: &str) -> Option<f64> {
    let time = humantime::parse_rfc3339_weak(timestamp).ok()?;
    Some(time.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs_f64())
}

/// The text an entity or character reference stands for.
fn reference(r: &BytesRef<'_>) -> std::result::Result<String, String> {
    if let Some(c) = r.resolve_char_ref().map_err(|e| format!("malformed XML: {e}"))? {
        return Ok(c.to_string());
    }
    let name: &str = r.as_ref();
    quick_xml::escape::resolve_predefined_entity(name)
        .map(str::to_string)
        .ok_or_else(|| format!("malformed XML: unknown entity &{name};"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::Algorithm;

    fn parse_str(text: &str) -> Result<Vec<Item>> {
        crate::hashlist::parse_items(parse, "n.xml", None, text)
    }

    const MD5: &str = "ad5148579e2a0886849021264351a52a";
    const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

    #[test]
    fn fingerprints_load_and_deleted_or_unsupported_ones_are_refused() {
        let text = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">
  <images count="2" maxTimestamp="2017-10-24T15:10:00Z">
    <image>
      <member id="42">Example &amp; Member</member>
      <id>image&#49;</id>
      <classification>A1</classification>
      <fingerprints>
        <md5>{MD5}</md5>
        <pdna>a1a1a1a1...</pdna>
        <pdq><![CDATA[{PDQ}]]></pdq>
      </fingerprints>
      <feedback><affirmativeFeedback type="Md5"><members>
        <member id="42">M</member>
      </members></affirmativeFeedback></feedback>
    </image>
    <deletedImage>
      <member id="43">Example Member2</member>
      <id>image4</id>
    </deletedImage>
  </images>
  <videos><video><id>v1</id><fingerprints>
    <tmk-pdqf rel="self" href="/v2/x"/>
  </fingerprints></video></videos>
</queryResult>"#
        );
        let items = parse_str(&text).unwrap();
        let refusal = |line: u64, reason: &str| Item::Refused { line, reason: reason.into() };
        assert_eq!(items[0], refusal(10, "unsupported algorithm \"pdna\""));
        let Item::Record(Record { key, line: 4, state: State::Active(image), .. }) = &items[1]
        else {
            panic!("{items:?}")
        };
        assert_eq!(key.as_deref(), Some("42-image1"));
        let [md5, pdq] = &image[..] else { panic!("{image:?}") };
        assert_eq!((md5.algorithm, md5.line), (Algorithm::Md5, 9));
        assert_eq!((md5.id.as_deref(), md5.label.as_deref()), (Some("image1"), Some("A1")));
        assert_eq!((pdq.algorithm, pdq.line, pdq.hash.to_hex()), (Algorithm::Pdq, 11, PDQ.into()));
        let reason = "deleted by NCMEC (entry \"image4\")".to_string();
        let state = State::Removed { removal: Removal::Deleted, reason };
        let deleted = Record { key: Some("43-image4".into()), stamp: None, line: 17, state };
        assert_eq!(seconds("2017-10-24T15:10:00Z"), Some(1508857800.0));
        assert_eq!(items[2], Item::Record(deleted));
        assert_eq!(items[3], refusal(23, "unsupported algorithm \"tmk-pdqf\""));
        assert!(
            matches!(&items[4], Item::Record(Record { key: Some(k), state: State::Active(v), .. }) if k == "-v1" && v.is_empty())
        );
        assert_eq!(items.len(), 5);
    }

    #[test]
    fn malformed_entries_are_fatal_at_their_line() {
        let error = |text: &str| parse_str(text).unwrap_err().to_string();
        let text =
            format!("<image><id>a</id>\n<fingerprints>\n<md5>{PDQ}</md5></fingerprints></image>");
        assert!(error(&text).starts_with("n.xml:3: bad md5 hash"));
        assert_eq!(
            error("<images>\n<image><fingerprints/></image></images>"),
            "n.xml:2: NCMEC entry without an <id>"
        );
        let mismatched = error("<images>\n<image><id>a</id></images>");
        assert!(mismatched.starts_with("n.xml:2: malformed XML"), "{mismatched}");
        assert_eq!(error("<images>\n<image>\n"), "n.xml:3: the XML ends inside <image>");
        assert!(error("<a>&bogus;</a>").starts_with("n.xml:1: malformed XML: unknown entity"));
    }
}
