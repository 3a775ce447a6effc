//! Who sent a file: the chat context that an export's message index gives the media it
//! references (Telegram Desktop's `result.json`, WhatsApp's `_chat.txt`, DiscordChatExporter's
//! JSON).
//!
//! Owns reading those indexes and answering, for a scanned path, which message carried it.
//! Must not read message text into anything it returns (the report never holds what people
//! wrote), and must not fail a scan: a malformed index is a warning.
//!
//! The three steps, each usable alone:
//! - [`index_kind`] tells from a file's name and first bytes whether it is an index;
//! - [`parse`] reads one index into `(reference, Context)` pairs, each reference a
//!   `/`-separated path relative to the folder holding the index, lexically normalised
//!   (`.` dropped, `..` resolved). A reference that is absolute, a URL, or climbs above that
//!   folder is left out, so an index can never attach context to files outside its export;
//! - [`Contexts`] gathers several indexes, keyed by the referenced file's path (the index's
//!   folder joined with the reference), and answers lookups by a scanned path. Everything is
//!   path arithmetic: the file system is never touched, so the same rules hold for members
//!   of archives (`export.zip!/_chat.txt` references `export.zip!/IMG-…jpg`).
//!
//! What each format gives, and the rules for dates, are in `docs/chat-exports.md`:
//! the submodules `telegram`, `whatsapp` and `discord` hold the parsers.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

mod discord;
mod telegram;
mod whatsapp;

pub use whatsapp::whatsapp_chat_name;

/// The message that carried a file, as the export's index tells it. Every field but `app` is
/// left out when the index does not say it (or says it too ambiguously, as a date in an
/// unknown locale's order).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Context {
    /// The app whose export named the file: `telegram`, `whatsapp` or `discord`.
    pub app: &'static str,
    /// The chat's (or channel's) name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat: Option<String>,
    /// The message's id in the export.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Who sent it, as the export names them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// The sender's id, where the export has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_id: Option<String>,
    /// When it was sent, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
}

/// Which app's message index a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IndexKind {
    /// Telegram Desktop's `result.json` (one chat, or a full export's `chats.list`).
    Telegram,
    /// WhatsApp's `_chat.txt` (or Android's `WhatsApp Chat with NAME.txt`).
    WhatsApp,
    /// A DiscordChatExporter JSON export of one channel.
    Discord,
}

impl IndexKind {
    /// The `app` its contexts carry.
    pub fn app(self) -> &'static str {
        match self {
            IndexKind::Telegram => "telegram",
            IndexKind::WhatsApp => "whatsapp",
            IndexKind::Discord => "discord",
        }
    }
}

/// Which kind of index a file is, from its file name and its first bytes (a few KiB are
/// plenty; the whole file does too); `None` for anything else.
///
/// - Discord: a `.json` whose head has the keys `"guild"`, `"channel"` and `"messages"`;
/// - Telegram: `result.json` whose head is a JSON object with `"messages"`, `"chats"` or
///   `"about"`;
/// - WhatsApp: `_chat.txt` whatever its head (a malformed one is then a warning), or a
///   `.txt` with `WhatsApp` in its name whose first line is a message line, as Android
///   names an export that is not zipped (`WhatsApp Chat with NAME.txt`, in the phone's
///   language: `Chat WhatsApp s uživatelem NAME.txt`).
pub fn index_kind(file_name: &OsStr, head: &[u8]) -> Option<IndexKind> {
    let name = file_name.to_str()?;
    let lower = name.to_lowercase();
    let has = |key: &[u8]| memchr::memmem::find(head, key).is_some();
    let json_object = head
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(head)
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        == Some(&b'{');
    if lower.ends_with(".json") && json_object {
        if has(b"\"guild\"") && has(b"\"channel\"") && has(b"\"messages\"") {
            return Some(IndexKind::Discord);
        }
        if name == "result.json" && (has(b"\"messages\"") || has(b"\"chats\"") || has(b"\"about\""))
        {
            return Some(IndexKind::Telegram);
        }
        return None;
    }
    if name == "_chat.txt"
        || (lower.ends_with(".txt")
            && lower.contains("whatsapp")
            && whatsapp::starts_with_message(head))
    {
        return Some(IndexKind::WhatsApp);
    }
    None
}

/// Parses one index. Returns the media it references, each a `/`-separated path relative to
/// the folder holding the index (lexically normalised, no leading `./`), with its
/// [`Context`], in the order the index lists them. References that are absolute, URLs, or
/// climb above the index's folder are left out. A malformed index is `Err(warning text)`,
/// never a panic; a malformed message inside a well-formed index is skipped.
pub fn parse(kind: IndexKind, bytes: &[u8]) -> Result<Vec<(String, Context)>, String> {
    match kind {
        IndexKind::Telegram => telegram::parse(bytes),
        IndexKind::WhatsApp => whatsapp::parse(bytes),
        IndexKind::Discord => discord::parse(bytes),
    }
}

/// The contexts of several indexes, keyed by the referenced files' paths.
///
/// A key is the index's folder joined with the reference, normalised lexically (`.` dropped,
/// `..` resolved against the components before it, never the file system); [`Contexts::get`]
/// normalises the scanned path the same way, so `dir/./a.jpg` finds what `dir/a.jpg` was
/// given. When two messages reference the same file, the first one added keeps it.
#[derive(Clone, Debug, Default)]
pub struct Contexts {
    by_path: HashMap<PathBuf, Context>,
}

impl Contexts {
    /// No contexts yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the index at `index_path` (its bytes given) and records the files it
    /// references. Returns how many references were added (those of files that already had a
    /// context are not), or the warning text of a malformed index, which adds nothing.
    pub fn add(
        &mut self,
        index_path: &Path,
        kind: IndexKind,
        bytes: &[u8],
    ) -> Result<usize, String> {
        let folder = index_path.parent().unwrap_or(Path::new(""));
        // WhatsApp's log does not name its chat; the export's zip or folder does.
        let chat = (kind == IndexKind::WhatsApp)
            .then(|| folder.file_name()?.to_str().map(|n| n.trim_end_matches('!')))
            .flatten()
            .and_then(whatsapp_chat_name);
        let mut added = 0;
        for (reference, mut context) in parse(kind, bytes)? {
            if context.chat.is_none() {
                context.chat.clone_from(&chat);
            }
            let key = normalise(&folder.join(&reference));
            if let std::collections::hash_map::Entry::Vacant(slot) = self.by_path.entry(key) {
                slot.insert(context);
                added += 1;
            }
        }
        Ok(added)
    }

    /// The context of the file at `path`, if an index referenced it.
    pub fn get(&self, path: &Path) -> Option<&Context> {
        if self.by_path.is_empty() {
            return None;
        }
        self.by_path.get(&normalise(path))
    }

    /// How many files have a context.
    pub fn len(&self) -> usize {
        self.by_path.len()
    }

    /// Whether no file has a context.
    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }
}

/// `path` with `.` removed and each `..` cancelling the normal component before it; a `..`
/// with nothing to cancel stays (`../x` is still above the start), except right after the
/// root, where it means the root.
fn normalise(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(component),
            },
            _ => out.push(component),
        }
    }
    out.iter().collect()
}

/// A reference as an index writes it, made a `/`-separated path relative to the index's
/// folder: `None` when it is empty, absolute (`/x`, `\x`, `C:…`), a URL (`https://…`: a `:`
/// before the first `/`), holds a NUL, or climbs above the folder with `..`. Backslashes
/// count as separators, as Windows writes them.
fn relative_reference(raw: &str) -> Option<String> {
    let raw = raw.replace('\\', "/");
    if raw.is_empty() || raw.starts_with('/') || raw.contains('\0') {
        return None;
    }
    if raw.split('/').next().is_some_and(|first| first.contains(':')) {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            _ => parts.push(part),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// `unix` seconds as RFC 3339 UTC to the second (`2023-01-05T13:03:21Z`); `None` outside
/// years 1970 to 9999.
fn rfc3339_utc(unix: i64) -> Option<String> {
    const YEAR_10000: i64 = 253_402_300_800;
    if !(0..YEAR_10000).contains(&unix) {
        return None;
    }
    let time = SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(unix as u64))?;
    Some(humantime::format_rfc3339_seconds(time).to_string())
}

/// Whether `day` exists in `month` of `year` (proleptic Gregorian).
fn valid_date(year: i64, month: u32, day: u32) -> bool {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// Days from 1970-01-01 to the given date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// A JSON value read as text when it is a string or a number, `None` for anything else
/// (null, booleans, arrays, objects), so one odd field never rejects a whole message.
fn lenient_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    struct Text;
    impl<'de> Visitor<'de> for Text {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    deserializer.deserialize_any(Text)
}

/// A JSON array whose object elements are read as `T` and whose other elements are skipped:
/// a stray value is one skipped message, not a rejected index.
fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    let elements = Vec::<Object<T>>::deserialize(deserializer)?;
    Ok(elements.into_iter().filter_map(|element| element.0).collect())
}

/// A warning for an index that is not the JSON it should be, naming where it went wrong
/// but never quoting it (serde's messages can quote a string of the file: message text).
fn json_warning(what: &str, error: &serde_json::Error) -> String {
    let problem = match error.classify() {
        serde_json::error::Category::Eof => "is cut short",
        serde_json::error::Category::Syntax => "is not valid JSON",
        serde_json::error::Category::Data => "does not have the expected structure",
        serde_json::error::Category::Io => "could not be read",
    };
    format!("{what} {problem} (line {}, column {})", error.line(), error.column())
}

/// One array element: `Some` when it is an object (read as `T`), `None` otherwise.
struct Object<T>(Option<T>);

impl<T> Default for Object<T> {
    fn default() -> Self {
        Object(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Element<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Element<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|t| Object(Some(t)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Object(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Object(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Object(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Object(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Object(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Object(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Object(None))
            }
        }
        deserializer.deserialize_any(Element(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_stay_inside_the_index_folder() {
        assert_eq!(relative_reference("photos/a.jpg").as_deref(), Some("photos/a.jpg"));
        assert_eq!(relative_reference("./photos/./a.jpg").as_deref(), Some("photos/a.jpg"));
        assert_eq!(relative_reference("photos/../a.jpg").as_deref(), Some("a.jpg"));
        assert_eq!(relative_reference("x_Files\\a b.png").as_deref(), Some("x_Files/a b.png"));
        for refused in [
            "",
            ".",
            "../a.jpg",
            "photos/../../a.jpg",
            "/etc/passwd",
            "\\\\server\\share\\a.jpg",
            "C:\\Users\\a.jpg",
            "c:/a.jpg",
            "https://cdn.discordapp.com/a.png",
            "file:///a.png",
            "a\0.jpg",
        ] {
            assert_eq!(relative_reference(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn normalise_is_lexical() {
        assert_eq!(normalise(Path::new("a/./b/../c.jpg")), PathBuf::from("a/c.jpg"));
        assert_eq!(normalise(Path::new("../x/./y.jpg")), PathBuf::from("../x/y.jpg"));
        assert_eq!(normalise(Path::new("/../a")), PathBuf::from("/a"));
        assert_eq!(normalise(Path::new("./a")), PathBuf::from("a"));
    }

    #[test]
    fn dates_and_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2023, 1, 5), 19_362);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert!(valid_date(2024, 2, 29) && !valid_date(2023, 2, 29) && !valid_date(2023, 13, 1));
        assert_eq!(rfc3339_utc(1_672_923_801).as_deref(), Some("2023-01-05T13:03:21Z"));
        assert_eq!(rfc3339_utc(-1), None);
        assert_eq!(rfc3339_utc(i64::MAX), None);
    }

    #[test]
    fn index_kinds() {
        let kind = |name: &str, head: &str| index_kind(OsStr::new(name), head.as_bytes());
        assert_eq!(kind("result.json", "{\n \"name\": \"Bob\",\n \"type\": \"personal_chat\",\n \"id\": 1,\n \"messages\": ["), Some(IndexKind::Telegram));
        assert_eq!(
            kind("result.json", "{\n \"about\": \"Here is the data you requested.\","),
            Some(IndexKind::Telegram)
        );
        assert_eq!(kind("result.json", "[1, 2]"), None);
        assert_eq!(kind("other.json", "{\"about\": 1, \"chats\": {}}"), None);
        let discord = "{\n  \"guild\": {\"id\": \"1\", \"name\": \"G\"},\n  \"channel\": {\"id\": \"2\"},\n  \"messages\": [";
        assert_eq!(kind("G - general [2].json", discord), Some(IndexKind::Discord));
        assert_eq!(kind("result.json", discord), Some(IndexKind::Discord));
        assert_eq!(kind("_chat.txt", ""), Some(IndexKind::WhatsApp));
        assert_eq!(
            kind("WhatsApp Chat with Alice.txt", "05/01/2023, 14:03 - Alice: hi\n"),
            Some(IndexKind::WhatsApp)
        );
        assert_eq!(kind("WhatsApp notes.txt", "shopping list\n"), None);
        assert_eq!(kind("notes.txt", "05/01/2023, 14:03 - Alice: hi\n"), None);
        assert_eq!(kind("photo.jpg", "\u{FF}\u{D8}"), None);
    }

    #[test]
    fn contexts_line_up_with_archive_members() {
        let mut contexts = Contexts::new();
        let chat = "[05/01/2023, 14:03:21] Alice: \u{200E}<attached: 00000012-PHOTO-2023-01-05-14-03-21.jpg>\n\
                    [13/01/2023, 09:00:00] Bob: <attached: ../outside.jpg>\n";
        let added =
            contexts.add(Path::new("export.zip!/_chat.txt"), IndexKind::WhatsApp, chat.as_bytes());
        assert_eq!(added, Ok(1));
        let found = contexts.get(Path::new("export.zip!/00000012-PHOTO-2023-01-05-14-03-21.jpg"));
        assert_eq!(found.and_then(|c| c.sender.as_deref()), Some("Alice"));
        assert!(contexts
            .get(Path::new("export.zip!/./00000012-PHOTO-2023-01-05-14-03-21.jpg"))
            .is_some());
        assert!(contexts.get(Path::new("outside.jpg")).is_none());
        assert!(contexts.get(Path::new("export.zip!/_chat.txt")).is_none());
        // The same index again adds nothing: the first reference keeps each file.
        assert_eq!(
            contexts.add(
                Path::new("export.zip!/x/../_chat.txt"),
                IndexKind::WhatsApp,
                chat.as_bytes()
            ),
            Ok(0)
        );
        assert_eq!(contexts.len(), 1);
        assert!(contexts.add(Path::new("result.json"), IndexKind::Telegram, b"{not json").is_err());
    }

    #[test]
    fn contexts_of_a_folder_given_relatively() {
        let mut contexts = Contexts::new();
        let json = br#"{"name": "Bob", "id": 1, "messages": [
            {"id": 7, "type": "message", "date_unixtime": "1672923801", "from": "Bob",
             "from_id": "user42", "photo": "photos/photo_1@05-01-2023_14-03-21.jpg"}]}"#;
        assert_eq!(
            contexts.add(Path::new("../exports/tg/result.json"), IndexKind::Telegram, json),
            Ok(1)
        );
        let context =
            contexts.get(Path::new("../exports/tg/photos/photo_1@05-01-2023_14-03-21.jpg"));
        assert_eq!(context.map(|c| c.app), Some("telegram"));
        assert!(contexts
            .get(Path::new("exports/tg/photos/photo_1@05-01-2023_14-03-21.jpg"))
            .is_none());
    }
}
