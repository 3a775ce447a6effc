//! Who sent a file: the chat context that an export's message index gives the media it
//! references (Telegram Desktop's `result.json`, WhatsApp's `_chat.txt`, DiscordChatExporter's
//! JSON).
//!
//! Owns reading those indexes and answering, for a scanned path, which message carried it.
//! Must not read message text into anything it returns (the report never holds what people
//! wrote), and must not fail a scan: a malformed index is a warning.

use serde::Serialize;

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
