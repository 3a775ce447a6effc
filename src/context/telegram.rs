//! Telegram Desktop's JSON export, `result.json`: one chat (`name`, `type`, `id`,
//! `messages`) or a full export (`chats.list[]` and `left_chats.list[]`, each such a chat).
//!
//! Owns turning its messages' `photo`, `file` and `thumbnail` paths into references with a
//! [`Context`]. Those paths are relative to the export's folder, where `result.json` is, in a
//! full export too (`chats/chat_001/photos/photo_1@05-01-2023_14-03-21.jpg`). A file Telegram
//! left out is written as a sentence in parentheses (`(File not included. Change data
//! exporting settings to download.)`), which is no reference. Must not keep `text` or any
//! other field a message has beyond the ones in [`Message`]: serde skips them unread.
//!
//! Telegram Desktop escapes control characters in strings as `\xHH`, which is not JSON; a
//! file that fails to parse and holds such escapes is read once more with them rewritten as
//! `\u00HH`.

use serde::Deserialize;

use super::{
    json_warning, lenient_string, objects, relative_reference, rfc3339_utc, Context, Object,
};

#[derive(Deserialize)]
struct Export {
    #[serde(default, deserialize_with = "lenient_string")]
    name: Option<String>,
    #[serde(default)]
    messages: Option<Vec<Object<Message>>>,
    #[serde(default)]
    chats: Object<ChatList>,
    #[serde(default)]
    left_chats: Object<ChatList>,
}

#[derive(Deserialize)]
struct ChatList {
    #[serde(default, deserialize_with = "objects")]
    list: Vec<Chat>,
}

#[derive(Deserialize)]
struct Chat {
    #[serde(default, deserialize_with = "lenient_string")]
    name: Option<String>,
    #[serde(default, deserialize_with = "objects")]
    messages: Vec<Message>,
}

/// The fields of a message that say who sent what when; its text is never read.
#[derive(Deserialize)]
struct Message {
    #[serde(default, deserialize_with = "lenient_string")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    date: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    date_unixtime: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    from: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    from_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    actor: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    actor_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    photo: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    file: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    thumbnail: Option<String>,
}

/// The references of a `result.json`, in the order its chats and messages come.
pub(super) fn parse(bytes: &[u8]) -> Result<Vec<(String, Context)>, String> {
    let export: Export = match serde_json::from_slice(bytes) {
        Ok(export) => export,
        Err(error) => match repair_hex_escapes(bytes) {
            Some(repaired) => serde_json::from_slice(&repaired),
            None => Err(error),
        }
        .map_err(|error| json_warning("Telegram result.json", &error))?,
    };
    if export.messages.is_none() && export.chats.0.is_none() && export.left_chats.0.is_none() {
        return Err("Telegram result.json has no messages and no chats.list".into());
    }
    let chats = export.chats.0.into_iter().chain(export.left_chats.0).flat_map(|list| list.list);
    let single = export.messages.map(|messages| Chat {
        name: export.name,
        messages: messages.into_iter().filter_map(|m| m.0).collect(),
    });
    let mut out = Vec::new();
    for chat in single.into_iter().chain(chats) {
        for message in chat.messages {
            let context = Context {
                app: "telegram",
                chat: chat.name.clone(),
                message_id: message.id,
                sender: message.from.or(message.actor),
                sender_id: message.from_id.or(message.actor_id),
                sent_at: sent_at(message.date_unixtime.as_deref(), message.date.as_deref()),
            };
            let paths = [message.photo, message.file, message.thumbnail];
            for reference in paths.iter().flatten().filter_map(|path| media_path(path)) {
                out.push((reference, context.clone()));
            }
        }
    }
    Ok(out)
}

/// A media field's reference; `None` for the sentences Telegram writes in place of a file it
/// did not save (they all open with `(`, or hold `(File ` after a label).
fn media_path(value: &str) -> Option<String> {
    if value.starts_with('(') || value.contains("(File ") || value.contains("(Photo ") {
        return None;
    }
    relative_reference(value)
}

/// `date_unixtime` (UTC seconds, as a string) as RFC 3339 UTC. Exports from before Telegram
/// Desktop wrote it have only `date`, the exporting computer's local time without an offset:
/// that is written with the offset `-00:00`, RFC 3339's "offset unknown" (section 4.3).
fn sent_at(unixtime: Option<&str>, date: Option<&str>) -> Option<String> {
    if let Some(seconds) = unixtime.and_then(|text| text.trim().parse::<i64>().ok()) {
        return rfc3339_utc(seconds);
    }
    let date = date?;
    let bytes = date.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:dd";
    let fits = bytes.len() == shape.len()
        && bytes
            .iter()
            .zip(shape)
            .all(|(b, s)| if *s == b'd' { b.is_ascii_digit() } else { b == s });
    fits.then(|| format!("{date}-00:00"))
}

/// `bytes` with Telegram Desktop's `\xHH` string escapes rewritten as JSON's `\u00HH`;
/// `None` when there are none.
fn repair_hex_escapes(bytes: &[u8]) -> Option<Vec<u8>> {
    memchr::memmem::find(bytes, b"\\x")?;
    let mut out = Vec::with_capacity(bytes.len() + 1024);
    let (mut in_string, mut changed, mut i) = (false, false, 0);
    while i < bytes.len() {
        let byte = bytes[i];
        if in_string && byte == b'\\' {
            let hex = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_hexdigit);
            if bytes.get(i + 1) == Some(&b'x') && hex(i + 2) && hex(i + 3) {
                out.extend_from_slice(b"\\u00");
                out.extend_from_slice(&bytes[i + 2..i + 4]);
                changed = true;
                i += 4;
            } else {
                out.extend_from_slice(&bytes[i..(i + 2).min(bytes.len())]);
                i += 2;
            }
            continue;
        }
        in_string ^= byte == b'"';
        out.push(byte);
        i += 1;
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A single-chat export as Telegram Desktop 4.x writes it (values made up).
    const SINGLE: &str = r#"{
 "name": "Alice Example",
 "type": "personal_chat",
 "id": 123456,
 "messages": [
  {
   "id": 1,
   "type": "service",
   "date": "2023-01-05T14:00:00",
   "date_unixtime": "1672923600",
   "actor": "Alice Example",
   "actor_id": "user123456",
   "action": "phone_call",
   "text": "",
   "text_entities": []
  },
  {
   "id": 2,
   "type": "message",
   "date": "2023-01-05T14:03:21",
   "date_unixtime": "1672923801",
   "from": "Alice Example",
   "from_id": "user123456",
   "photo": "photos/photo_1@05-01-2023_14-03-21.jpg",
   "width": 1280,
   "height": 960,
   "text": "look at this",
   "text_entities": [{"type": "plain", "text": "look at this"}]
  },
  {
   "id": 3,
   "type": "message",
   "date": "2023-01-05T14:05:00",
   "date_unixtime": "1672923900",
   "from": null,
   "from_id": "user777",
   "file": "video_files/clip.mp4",
   "thumbnail": "video_files/clip.mp4_thumb.jpg",
   "media_type": "video_file",
   "mime_type": "video/mp4",
   "text": ["see ", {"type": "bold", "text": "this"}]
  },
  {
   "id": 4,
   "type": "message",
   "date": "2023-01-05T14:06:00",
   "date_unixtime": "1672923960",
   "from": "Bob",
   "from_id": "user999",
   "file": "(File not included. Change data exporting settings to download.)",
   "thumbnail": "(File unavailable, please try again later)",
   "text": ""
  },
  {"id": 5, "type": "message", "from": "Bob", "photo": "../../etc/passwd"},
  "not a message",
  {"id": 6, "type": "unsupported"}
 ]
}"#;

    #[test]
    fn single_chat() {
        let refs = parse(SINGLE.as_bytes()).unwrap();
        let paths: Vec<&str> = refs.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "photos/photo_1@05-01-2023_14-03-21.jpg",
                "video_files/clip.mp4",
                "video_files/clip.mp4_thumb.jpg"
            ]
        );
        assert_eq!(
            refs[0].1,
            Context {
                app: "telegram",
                chat: Some("Alice Example".into()),
                message_id: Some("2".into()),
                sender: Some("Alice Example".into()),
                sender_id: Some("user123456".into()),
                sent_at: Some("2023-01-05T13:03:21Z".into()),
            }
        );
        // A deleted account's name is null: its id still says who it was.
        assert_eq!(refs[1].1.sender, None);
        assert_eq!(refs[1].1.sender_id.as_deref(), Some("user777"));
        assert_eq!(refs[2].1.message_id.as_deref(), Some("3"));
    }

    #[test]
    fn full_export_paths_are_relative_to_its_root() {
        let json = r#"{
 "about": "Here is the data you requested. Remember: Telegram is ad free, it doesn't sell your data.",
 "personal_information": {"user_id": 1, "first_name": "Me"},
 "profile_pictures": [{"date": "2022-01-01T00:00:00", "photo": "profile_pictures/photo_1.jpg"}],
 "chats": {
  "about": "This page lists all chats from this export.",
  "list": [
   {"name": "Family", "type": "private_group", "id": 42, "messages": [
    {"id": 10, "type": "message", "date": "2023-01-05T14:03:21", "date_unixtime": "1672923801",
     "from": "Mum", "from_id": "user5", "photo": "chats/chat_001/photos/photo_1@05-01-2023_14-03-21.jpg"}]},
   {"type": "saved_messages", "id": 1, "messages": [
    {"id": 11, "type": "message", "date": "2023-01-06T08:00:00",
     "from": "Me", "from_id": "user1", "file": "chats/chat_002/files/scan.png"}]}
  ]
 },
 "left_chats": {"about": "", "list": [
   {"name": "Old channel", "type": "public_channel", "id": 77, "messages": [
    {"id": 12, "type": "service", "date_unixtime": "1672923801", "actor": "Old channel",
     "actor_id": "channel77", "action": "edit_group_photo",
     "photo": "chats/chat_003/photos/photo_2@05-01-2023_14-03-21.jpg"}]}
 ]}
}"#;
        let refs = parse(json.as_bytes()).unwrap();
        assert_eq!(refs.len(), 3, "{refs:?}");
        assert_eq!(refs[0].0, "chats/chat_001/photos/photo_1@05-01-2023_14-03-21.jpg");
        assert_eq!(refs[0].1.chat.as_deref(), Some("Family"));
        // Saved messages have no name; an export without date_unixtime has local time only.
        assert_eq!(refs[1].1.chat, None);
        assert_eq!(refs[1].1.sent_at.as_deref(), Some("2023-01-06T08:00:00-00:00"));
        assert_eq!(refs[2].1.sender.as_deref(), Some("Old channel"));
        assert_eq!(refs[2].1.sender_id.as_deref(), Some("channel77"));
    }

    #[test]
    fn hex_escapes_of_telegram_desktop_are_read() {
        let json = "{\"name\": \"A\\x01B\", \"messages\": [{\"id\": 1, \"text\": \"a\\\\x41\\x1F\", \"photo\": \"photos/p.jpg\"}]}";
        assert!(serde_json::from_str::<serde_json::Value>(json).is_err());
        let refs = parse(json.as_bytes()).unwrap();
        assert_eq!(refs[0].1.chat.as_deref(), Some("A\u{1}B"));
    }

    #[test]
    fn malformed_exports_are_warnings() {
        for bad in [
            "",
            "{",
            "[]",
            "{\"messages\": 3}",
            "{\"name\": \"x\"}",
            "\"secret words\"",
            "{\"messages\": [{\"id\": 1, \"id\": 2}]}",
        ] {
            let warning = parse(bad.as_bytes()).unwrap_err();
            assert!(!warning.contains("secret"), "{warning}");
        }
        assert_eq!(parse(b"{\"messages\": []}"), Ok(Vec::new()));
    }
}
