//! DiscordChatExporter's JSON export of one channel (`guild`, `channel`, `messages[]`), made
//! with `--media` so that the assets' `url`s point at the downloaded files.
//!
//! Owns turning the local files a message references into references with a [`Context`]:
//! its `attachments[].url`, its embeds' `image`, `thumbnail`, `video` and `images[]` URLs, and
//! its `stickers[].sourceUrl`. DiscordChatExporter writes such a file's path relative to the
//! export's folder (with `\` on Windows), or absolute when the media folder lies outside it;
//! without `--media`, or when a download failed, the `url` stays `https://cdn.discordapp.com/…`.
//! Only relative paths count. A `%XX` in a path is ambiguous (the JSON writer does not
//! percent-encode, older and hand-made exports did), so both the path as written and its
//! percent-decoded form are returned.
//!
//! Must not keep `content`, embeds' text or anything but the fields of [`Message`].

use serde::Deserialize;

use super::{
    days_from_civil, json_warning, lenient_string, objects, relative_reference, rfc3339_utc,
    valid_date,
};
use super::{Context, Object};

#[derive(Deserialize)]
struct Export {
    #[serde(default)]
    guild: Object<Named>,
    #[serde(default)]
    channel: Object<Channel>,
    #[serde(default)]
    messages: Option<Vec<Object<Message>>>,
}

#[derive(Deserialize)]
struct Named {
    #[serde(default, deserialize_with = "lenient_string")]
    name: Option<String>,
}

#[derive(Deserialize)]
struct Channel {
    #[serde(default, rename = "type", deserialize_with = "lenient_string")]
    kind: Option<String>,
    /// The parent: a category, or for a thread its channel.
    #[serde(default, deserialize_with = "lenient_string")]
    category: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    name: Option<String>,
}

/// The fields of a message that say who sent which file when; its content is never read.
#[derive(Deserialize)]
struct Message {
    #[serde(default, deserialize_with = "lenient_string")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    timestamp: Option<String>,
    #[serde(default)]
    author: Object<Author>,
    #[serde(default, deserialize_with = "objects")]
    attachments: Vec<Asset>,
    #[serde(default, deserialize_with = "objects")]
    embeds: Vec<Embed>,
    #[serde(default, deserialize_with = "objects")]
    stickers: Vec<Sticker>,
}

#[derive(Deserialize)]
struct Author {
    #[serde(default, deserialize_with = "lenient_string")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    nickname: Option<String>,
}

#[derive(Deserialize)]
struct Asset {
    #[serde(default, deserialize_with = "lenient_string")]
    url: Option<String>,
}

#[derive(Deserialize)]
struct Embed {
    #[serde(default)]
    image: Object<Asset>,
    #[serde(default)]
    thumbnail: Object<Asset>,
    #[serde(default)]
    video: Object<Asset>,
    #[serde(default, deserialize_with = "objects")]
    images: Vec<Asset>,
}

#[derive(Deserialize)]
struct Sticker {
    #[serde(default, rename = "sourceUrl", deserialize_with = "lenient_string")]
    source_url: Option<String>,
}

/// The references of a DiscordChatExporter JSON export, in the order of its messages.
pub(super) fn parse(bytes: &[u8]) -> Result<Vec<(String, Context)>, String> {
    let export: Export = serde_json::from_slice(bytes)
        .map_err(|error| json_warning("DiscordChatExporter JSON", &error))?;
    let messages = export.messages.ok_or("DiscordChatExporter JSON has no messages")?;
    let chat = chat_name(export.guild.0.and_then(|g| g.name), export.channel.0);
    let mut out = Vec::new();
    for message in messages.into_iter().filter_map(|m| m.0) {
        let author = message.author.0;
        let context = Context {
            app: "discord",
            chat: chat.clone(),
            message_id: message.id,
            sender: author.as_ref().and_then(|a| non_empty(&a.nickname).or(non_empty(&a.name))),
            sender_id: author.and_then(|a| a.id),
            sent_at: message.timestamp.as_deref().and_then(utc),
        };
        let embeds = message.embeds.into_iter().flat_map(|e| {
            [e.image.0, e.thumbnail.0, e.video.0].into_iter().flatten().chain(e.images)
        });
        let urls = message
            .attachments
            .into_iter()
            .chain(embeds)
            .filter_map(|asset| asset.url)
            .chain(message.stickers.into_iter().filter_map(|s| s.source_url));
        for url in urls {
            let written = relative_reference(&url);
            let decoded = percent_decoded(&url).and_then(|d| relative_reference(&d));
            for reference in written.into_iter().chain(decoded) {
                out.push((reference, context.clone()));
            }
        }
    }
    Ok(out)
}

fn non_empty(text: &Option<String>) -> Option<String> {
    text.as_ref().filter(|t| !t.trim().is_empty()).cloned()
}

/// `GUILD / #CHANNEL` (`GUILD / #PARENT / THREAD` for a thread); the channel's name alone
/// for direct messages, whose guild DiscordChatExporter names `Direct Messages`.
fn chat_name(guild: Option<String>, channel: Option<Channel>) -> Option<String> {
    let channel = channel?;
    let name = non_empty(&channel.name)?;
    let kind = channel.kind.unwrap_or_default();
    match guild
        .filter(|g| !g.trim().is_empty() && g != "Direct Messages" && !kind.starts_with("Direct"))
    {
        None => Some(name),
        Some(guild) => match non_empty(&channel.category).filter(|_| kind.contains("Thread")) {
            Some(parent) => Some(format!("{guild} / #{parent} / {name}")),
            None => Some(format!("{guild} / #{name}")),
        },
    }
}

/// `text` with its `%XX` escapes decoded; `None` when it has none, or decodes to something
/// that is not UTF-8.
fn percent_decoded(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let (mut i, mut decoded) = (0, false);
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) if bytes[i + 1].is_ascii_hexdigit() => {
                out.push(byte);
                decoded = true;
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    decoded.then(|| String::from_utf8(out).ok()).flatten()
}

/// An ISO 8601 timestamp with an offset (`2023-01-05T14:03:21.123+01:00`), as RFC 3339 in
/// UTC (`2023-01-05T13:03:21.123Z`), fractional seconds kept as written; `None` for anything
/// else.
fn utc(timestamp: &str) -> Option<String> {
    let digits = |range: std::ops::Range<usize>| {
        let part = timestamp.get(range)?;
        part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse::<u32>().ok()).flatten()
    };
    let punctuation = timestamp.as_bytes();
    if punctuation.len() < 20
        || punctuation[4] != b'-'
        || punctuation[7] != b'-'
        || !matches!(punctuation[10], b'T' | b't' | b' ')
        || punctuation[13] != b':'
        || punctuation[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hours, minutes, seconds) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !valid_date(i64::from(year), month, day) || hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    let mut rest = timestamp.get(19..)?;
    let mut fraction = "";
    if let Some(after) = rest.strip_prefix('.') {
        let width = after.bytes().take_while(u8::is_ascii_digit).count();
        if !(1..=9).contains(&width) {
            return None;
        }
        (fraction, rest) = after.split_at(width);
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = rest.get(1..)?.split_once(':')?;
            let ok = |t: &str| t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit());
            if !ok(h) || !ok(m) {
                return None;
            }
            let (h, m) = (h.parse::<i64>().ok()?, m.parse::<i64>().ok()?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let unix = days_from_civil(i64::from(year), month, day) * 86_400
        + i64::from(hours * 3600 + minutes * 60 + seconds)
        - offset;
    let whole = rfc3339_utc(unix)?;
    Some(match fraction {
        "" => whole,
        _ => format!("{}.{fraction}Z", whole.trim_end_matches('Z')),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape DiscordChatExporter 2.4x writes (values made up).
    const EXPORT: &str = r##"{
  "guild": {"id": "111", "name": "Test Server", "iconUrl": "Test Server - general [222].json_Files/icon-1A2B.png"},
  "channel": {"id": "222", "type": "GuildTextChat", "categoryId": "333", "category": "Text Channels",
              "name": "general", "topic": null},
  "dateRange": {"after": null, "before": null},
  "exportedAt": "2024-02-01T10:00:00.1234567+00:00",
  "messages": [
    {
      "id": "1060562934567890123",
      "type": "Default",
      "timestamp": "2023-01-05T14:03:21.123+01:00",
      "timestampEdited": null,
      "callEndedTimestamp": null,
      "isPinned": false,
      "content": "look",
      "author": {"id": "444", "name": "alice", "discriminator": "0000", "nickname": "Alice",
                 "color": null, "isBot": false, "roles": [], "avatarUrl": "x_Files/avatar-9F.png"},
      "attachments": [
        {"id": "555", "url": "Test Server - general [222].json_Files\\photo-5A1C2.jpg", "fileName": "photo.jpg", "fileSizeBytes": 12345},
        {"id": "556", "url": "Export%20name_Files/image-12345.png", "fileName": "image.png", "fileSizeBytes": 99},
        {"id": "557", "url": "https://cdn.discordapp.com/attachments/222/557/remote.png", "fileName": "remote.png", "fileSizeBytes": 1},
        {"id": "558", "url": "C:\\Users\\me\\media\\abs.png", "fileName": "abs.png", "fileSizeBytes": 1}
      ],
      "embeds": [{"title": "", "url": null, "description": "secret", "image": {"url": "x_Files/embed-1.gif", "width": 1, "height": 1}, "images": [], "fields": []}],
      "stickers": [{"id": "9", "name": "wave", "format": "Png", "sourceUrl": "x_Files/sticker-9.png"}],
      "reactions": [],
      "mentions": []
    },
    {"id": "2", "type": "Default", "timestamp": "2023-01-05T13:04:00+00:00",
     "author": {"id": "666", "name": "bob", "nickname": ""},
     "attachments": [{"url": "../../../etc/passwd"}, 5]},
    7
  ]
}"##;

    #[test]
    fn attachments_embeds_and_stickers() {
        let refs = parse(EXPORT.as_bytes()).unwrap();
        let paths: Vec<&str> = refs.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "Test Server - general [222].json_Files/photo-5A1C2.jpg",
                "Export%20name_Files/image-12345.png",
                "Export name_Files/image-12345.png",
                "x_Files/embed-1.gif",
                "x_Files/sticker-9.png",
            ]
        );
        assert_eq!(
            refs[0].1,
            Context {
                app: "discord",
                chat: Some("Test Server / #general".into()),
                message_id: Some("1060562934567890123".into()),
                sender: Some("Alice".into()),
                sender_id: Some("444".into()),
                sent_at: Some("2023-01-05T13:03:21.123Z".into()),
            }
        );
    }

    #[test]
    fn direct_messages_and_threads() {
        let dm = r#"{"guild": {"id": "0", "name": "Direct Messages"}, "channel": {"id": "1", "type": "DirectTextChat", "name": "bob"},
                     "messages": [{"id": "1", "timestamp": "2023-01-05T14:03:21Z", "author": {"id": "7", "name": "bob", "nickname": ""},
                                   "attachments": [{"url": "dm_Files/a.png"}]}]}"#;
        let refs = parse(dm.as_bytes()).unwrap();
        assert_eq!(refs[0].1.chat.as_deref(), Some("bob"));
        assert_eq!(refs[0].1.sender.as_deref(), Some("bob"));
        assert_eq!(refs[0].1.sent_at.as_deref(), Some("2023-01-05T14:03:21Z"));
        let thread = r#"{"guild": {"name": "G"}, "channel": {"type": "GuildPublicThread", "category": "general", "name": "pics"},
                         "messages": [{"attachments": [{"url": "t_Files/a.png"}]}]}"#;
        assert_eq!(
            parse(thread.as_bytes()).unwrap()[0].1.chat.as_deref(),
            Some("G / #general / pics")
        );
    }

    #[test]
    fn timestamps_to_utc() {
        assert_eq!(utc("2023-01-05T14:03:21+01:00").as_deref(), Some("2023-01-05T13:03:21Z"));
        assert_eq!(utc("2023-01-01T00:30:00.5+02:00").as_deref(), Some("2022-12-31T22:30:00.5Z"));
        assert_eq!(utc("2023-01-05T23:59:59-05:30").as_deref(), Some("2023-01-06T05:29:59Z"));
        for bad in [
            "",
            "2023-01-05",
            "2023-01-05T14:03:21",
            "2023-02-30T14:03:21Z",
            "2023-01-05T14:03:21+1:00",
            "2023-01-05T14:03:21.Z",
            "+023-01-05T14:03:21Z",
        ] {
            assert_eq!(utc(bad), None, "{bad}");
        }
    }

    #[test]
    fn malformed_exports_are_warnings() {
        for bad in ["", "{", "{\"guild\": {}}", "{\"messages\": {}}", "\"secret\""] {
            let warning = parse(bad.as_bytes()).unwrap_err();
            assert!(!warning.contains("secret"), "{warning}");
        }
        assert_eq!(percent_decoded("a%2"), None);
        assert_eq!(percent_decoded("a%FF").as_deref(), None);
        assert_eq!(percent_decoded("%41%e9").as_deref(), None);
        assert_eq!(percent_decoded("%C3%A9").as_deref(), Some("é"));
    }
}
