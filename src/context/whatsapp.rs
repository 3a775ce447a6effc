//! WhatsApp's "Export chat" text, `_chat.txt` (Android, when not zipped: `WhatsApp Chat with
//! NAME.txt`): one message a line, continuation lines of a long message without a date.
//!
//! Owns finding which messages attached which file, and who sent them when:
//! - iOS: `[05/01/2023, 14:03:21] Alice: <attached: 00000012-PHOTO-2023-01-05-14-03-21.jpg>`,
//!   often with U+200E (left-to-right mark) before the line and before `<attached:`; the
//!   word `attached` is in the phone's language, so any `<WORD: NAME>` ending the line is read;
//! - Android: `05/01/2023, 14:03 - Alice: IMG-20230105-WA0001.jpg (file attached)`, the
//!   words in parentheses in the phone's language too, so any `NAME.EXT (WORDS)` that is a
//!   message's whole first line is read (a caption follows on the next lines);
//! - dates as the phone's locale writes them: day, month and year in either order of day and
//!   month, or year first; `/`, `.` or `-` between; two- or four-digit years; 24-hour times or
//!   12-hour ones with `AM`/`PM` (`a. m.`, lower case, after U+202F in newer exports).
//!
//! The file never names the chat (the zip does: see [`whatsapp_chat_name`]), so `chat` is left
//! out; `message_id` is the 1-based number of the line that starts the message; `sender` is
//! the name before the first `: `. `sent_at` follows the rule in `docs/chat-exports.md`:
//! day-before-month or month-before-day is decided once for the whole file, from a first
//! field above 12 (day first) or a second one above 12 (month first); when neither or both
//! occur, no message gets a `sent_at`. WhatsApp writes the phone's local time without an
//! offset, so `sent_at` carries RFC 3339's "unknown offset", `-00:00`.
//!
//! Must not keep message text: lines are looked at in place and only names of files and
//! senders are copied out.

use std::borrow::Cow;

use super::{relative_reference, valid_date, Context};

/// Whether the first non-empty line of `head` is a WhatsApp message line.
pub(super) fn starts_with_message(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    text.split('\n')
        .map(|line| line.trim_matches(|c: char| is_mark(c) || c.is_whitespace()))
        .find(|line| !line.is_empty())
        .is_some_and(|line| header(line).is_some())
}

/// The chat's name in the name WhatsApp gives an export (`WhatsApp Chat - NAME.zip` on iOS,
/// `WhatsApp Chat with NAME.txt` or `.zip` on Android, English only); `None` for any other
/// name.
pub fn whatsapp_chat_name(archive_or_folder_name: &str) -> Option<String> {
    let name = archive_or_folder_name.trim();
    let lower = name.to_ascii_lowercase();
    let stem = if lower.ends_with(".zip") || lower.ends_with(".txt") {
        &name[..name.len() - 4]
    } else {
        name
    };
    let chat = ["WhatsApp Chat - ", "WhatsApp Chat with "]
        .iter()
        .find_map(|prefix| stem.strip_prefix(prefix))?;
    let chat = chat.trim();
    (!chat.is_empty()).then(|| chat.to_owned())
}

/// The date and time a message line starts with, as written.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Stamp {
    /// The three numbers of the date in the order written, and how many digits each had.
    fields: [u32; 3],
    widths: [usize; 3],
    /// Hours (0-23), minutes, seconds; `None` when the time's marker was not understood.
    time: Option<(u32, u32, u32)>,
}

/// A message line: its stamp, and its sender and content unless it is a system line.
struct Line<'a> {
    stamp: Stamp,
    said: Option<(&'a str, &'a str)>,
}

/// The references of a `_chat.txt`, in the order of its lines.
pub(super) fn parse(bytes: &[u8]) -> Result<Vec<(String, Context)>, String> {
    let text: Cow<'_, str> = String::from_utf8_lossy(bytes);
    let mut lines = Vec::new();
    let mut any_text = false;
    for (index, line) in text.split('\n').enumerate() {
        let line = line.trim_end_matches('\r');
        any_text |= !line.trim().is_empty();
        if let Some(parsed) = header(line) {
            lines.push((index + 1, parsed));
        }
    }
    if lines.is_empty() {
        return if any_text {
            Err("WhatsApp chat has no line that starts a message (an unknown date format?)".into())
        } else {
            Ok(Vec::new())
        };
    }
    let order = date_order(lines.iter().map(|(_, line)| &line.stamp));
    let mut out = Vec::new();
    for (number, line) in lines {
        let Some((sender, content)) = line.said else { continue };
        let Some(reference) = attachment(content).and_then(relative_reference) else { continue };
        let context = Context {
            app: "whatsapp",
            chat: None,
            message_id: Some(number.to_string()),
            sender: Some(sender.to_owned()),
            sender_id: None,
            sent_at: sent_at(&line.stamp, order),
        };
        out.push((reference, context));
    }
    Ok(out)
}

/// Directional and byte-order marks WhatsApp puts around names, lines and attachments.
fn is_mark(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// The line's date, time, sender and content, if it starts a message.
fn header(line: &str) -> Option<Line<'_>> {
    let line = line.trim_start_matches(is_mark);
    let (bracketed, rest) = match line.strip_prefix('[') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let (fields, widths, rest) = date(rest)?;
    let rest = rest.strip_prefix([',', '.']).unwrap_or(rest);
    // Some locales put a word between date and time ("klo" in Finnish).
    let skipped = rest.char_indices().find(|(_, c)| c.is_ascii_digit()).map(|(i, _)| i)?;
    if skipped > 16 || rest[..skipped].contains([']', '-']) {
        return None;
    }
    let (clock, rest) = time(&rest[skipped..])?;
    let (marker, body) = if bracketed {
        let (marker, body) = rest.split_once(']')?;
        (marker, body.strip_prefix(' ').unwrap_or(body))
    } else {
        let at = [" - ", " – "]
            .iter()
            .filter_map(|dash| rest.find(dash).map(|at| (at, dash.len())))
            .min()?;
        (&rest[..at.0], &rest[at.0 + at.1..])
    };
    let marker = marker.trim_matches(|c: char| c.is_whitespace() || is_mark(c));
    if marker.chars().count() > 8 || marker.contains(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let time = twelve_hour(clock, marker);
    let said = body.split_once(": ").and_then(|(sender, content)| {
        let sender = sender.trim_matches(|c: char| c.is_whitespace() || is_mark(c));
        (!sender.is_empty()).then_some((sender, content))
    });
    Some(Line { stamp: Stamp { fields, widths, time }, said })
}

/// Three numbers of 1 to 4 digits with the same separator (`/`, `.` or `-`, a space allowed
/// after it), and what follows.
fn date(text: &str) -> Option<([u32; 3], [usize; 3], &str)> {
    let mut fields = [0; 3];
    let mut widths = [0; 3];
    let mut rest = text;
    let mut separator = None;
    for i in 0..3 {
        let width = rest.bytes().take_while(u8::is_ascii_digit).count();
        if !(1..=4).contains(&width) {
            return None;
        }
        fields[i] = rest[..width].parse().ok()?;
        widths[i] = width;
        rest = &rest[width..];
        if i < 2 {
            let sep = rest.chars().next().filter(|c| matches!(c, '/' | '.' | '-'))?;
            if separator.is_some_and(|s| s != sep) {
                return None;
            }
            separator = Some(sep);
            rest = &rest[1..];
            rest = rest.strip_prefix(' ').unwrap_or(rest);
        }
    }
    Some((fields, widths, rest))
}

/// A number of as many digits as `widths` allows, and what follows.
fn number(text: &str, widths: std::ops::RangeInclusive<usize>) -> Option<(Option<u32>, &str)> {
    let width = text.bytes().take_while(u8::is_ascii_digit).count();
    widths.contains(&width).then(|| (text[..width].parse::<u32>().ok(), &text[width..]))
}

/// `H:MM` or `H:MM:SS` (`.` instead of `:` too), and what follows.
fn time(text: &str) -> Option<((u32, u32, u32), &str)> {
    let (hours, rest) = number(text, 1..=2)?;
    let rest = rest.strip_prefix([':', '.'])?;
    let (minutes, mut rest) = number(rest, 2..=2)?;
    let mut seconds = Some(0);
    if let Some(after) = rest.strip_prefix([':', '.']) {
        if let Some((value, after)) = number(after, 2..=2) {
            (seconds, rest) = (value, after);
        }
    }
    Some(((hours?, minutes?, seconds?), rest))
}

/// The clock in 24 hours: as written without a marker, converted with `AM`/`PM` (any case,
/// dots and spaces ignored), `None` for a marker not understood or a time out of range.
fn twelve_hour(
    (hours, minutes, seconds): (u32, u32, u32),
    marker: &str,
) -> Option<(u32, u32, u32)> {
    if minutes > 59 || seconds > 59 {
        return None;
    }
    let marker: String = marker
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.')
        .flat_map(char::to_lowercase)
        .collect();
    let hours = match marker.as_str() {
        "" if hours < 24 => hours,
        "am" if (1..=12).contains(&hours) => hours % 12,
        "pm" if (1..=12).contains(&hours) => hours % 12 + 12,
        _ => return None,
    };
    Some((hours, minutes, seconds))
}

/// Day before month, or month before day, for a whole file's dates that do not start with
/// the year.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Order {
    DayMonth,
    MonthDay,
}

/// The file's order: `None` when no date shows it, or dates show both.
fn date_order<'a>(stamps: impl Iterator<Item = &'a Stamp>) -> Option<Order> {
    let (mut day_first, mut month_first) = (false, false);
    for stamp in stamps.filter(|stamp| stamp.widths[0] != 4) {
        day_first |= stamp.fields[0] > 12;
        month_first |= stamp.fields[1] > 12;
    }
    match (day_first, month_first) {
        (true, false) => Some(Order::DayMonth),
        (false, true) => Some(Order::MonthDay),
        _ => None,
    }
}

/// The stamp as RFC 3339 with the unknown offset `-00:00`; `None` for an impossible date, or
/// one not starting with the year in a file of unknown order.
fn sent_at(stamp: &Stamp, order: Option<Order>) -> Option<String> {
    let [a, b, c] = stamp.fields;
    let (year, month, day, year_width) = match (stamp.widths[0], order) {
        (4, _) => (a, b, c, 4),
        (_, Some(Order::DayMonth)) => (c, b, a, stamp.widths[2]),
        (_, Some(Order::MonthDay)) => (c, a, b, stamp.widths[2]),
        (_, None) => return None,
    };
    let year = match year_width {
        2 => 2000 + year,
        4 => year,
        _ => return None,
    };
    let (hours, minutes, seconds) = stamp.time?;
    if !(1970..=2100).contains(&year) || !valid_date(i64::from(year), month, day) {
        return None;
    }
    Some(format!("{year:04}-{month:02}-{day:02}T{hours:02}:{minutes:02}:{seconds:02}-00:00"))
}

/// The file a message's first line attaches: iOS's `… <attached: NAME>` or Android's
/// `NAME.EXT (file attached)`.
fn attachment(content: &str) -> Option<&str> {
    let first = content.split('\n').next()?.trim_matches(|c: char| c.is_whitespace() || is_mark(c));
    if let Some(inside) = first.strip_suffix('>') {
        let (_, tag) = inside.rsplit_once('<')?;
        let (label, name) = tag.split_once(": ")?;
        let name = name.trim_matches(|c: char| c.is_whitespace() || is_mark(c));
        return (!label.trim().is_empty() && !name.is_empty()).then_some(name);
    }
    let inside = first.strip_suffix(')')?;
    let (name, label) = inside.rsplit_once(" (")?;
    let name = name.trim_matches(|c: char| c.is_whitespace() || is_mark(c));
    let (_, extension) = name.rsplit_once('.')?;
    let extension_ok =
        (1..=5).contains(&extension.len()) && extension.chars().all(|c| c.is_ascii_alphanumeric());
    (extension_ok
        && !label.trim().is_empty()
        && !label.contains('(')
        && name.len() > extension.len() + 1)
        .then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(text: &str) -> Vec<(String, Context)> {
        parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn ios_export_with_marks() {
        let text = "\u{200E}[05/01/2023, 14:03:21] Alice: \u{200E}<attached: 00000012-PHOTO-2023-01-05-14-03-21.jpg>\n\
                    [05/01/2023, 14:04:00] Bob Smith: a long message\n\
                    that goes on <attached: not-a-message.jpg>\n\
                    \u{200E}[13/01/2023, 09:15:02] Bob Smith: Some file.pdf \u{2022} 2 pages \u{200E}<attached: 00000013-Some file.pdf>\n\
                    \u{200E}[13/01/2023, 09:16:00] Alice: \u{200E}image omitted\n\
                    [13/01/2023, 09:17:00] Alice: <attached: ../../escape.jpg>\n";
        let refs = refs(text);
        let paths: Vec<&str> = refs.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["00000012-PHOTO-2023-01-05-14-03-21.jpg", "00000013-Some file.pdf"]);
        assert_eq!(
            refs[0].1,
            Context {
                app: "whatsapp",
                chat: None,
                message_id: Some("1".into()),
                sender: Some("Alice".into()),
                sender_id: None,
                sent_at: Some("2023-01-05T14:03:21-00:00".into()),
            }
        );
        assert_eq!(refs[1].1.message_id.as_deref(), Some("4"));
        assert_eq!(refs[1].1.sender.as_deref(), Some("Bob Smith"));
    }

    #[test]
    fn android_export_twelve_hour_month_first() {
        let text = "1/5/23, 2:03\u{202F}PM - Messages and calls are end-to-end encrypted. Tap to learn more.\r\n\
                    1/5/23, 2:03\u{202F}PM - Alice: IMG-20230105-WA0001.jpg (file attached)\r\n\
                    caption on the next line\r\n\
                    1/13/23, 12:15\u{202F}AM - +1 555-0100: VID-20230113-WA0002.mp4 (file attached)\r\n\
                    1/13/23, 12:16 AM - Bob: <Media omitted>\r\n\
                    1/13/23, 12:17 a. m. - Bob: Dokument.pdf (Datei angehängt)\r\n";
        let refs = refs(text);
        let got: Vec<(&str, &str, Option<&str>)> = refs
            .iter()
            .map(|(p, c)| (p.as_str(), c.sender.as_deref().unwrap(), c.sent_at.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("IMG-20230105-WA0001.jpg", "Alice", Some("2023-01-05T14:03:00-00:00")),
                ("VID-20230113-WA0002.mp4", "+1 555-0100", Some("2023-01-13T00:15:00-00:00")),
                ("Dokument.pdf", "Bob", Some("2023-01-13T00:17:00-00:00")),
            ]
        );
        assert_eq!(refs[1].1.message_id.as_deref(), Some("4"));
    }

    #[test]
    fn day_first_german_and_year_first() {
        let text = "05.01.23, 14:03 - Anna: IMG-20230105-WA0001.jpg (Datei angehängt)\n\
                    25.01.23, 08:00 - Anna: hallo\n";
        assert_eq!(refs(text)[0].1.sent_at.as_deref(), Some("2023-01-05T14:03:00-00:00"));
        let text =
            "[2023-01-05 14:03:21] Anna: <attached: 00000001-PHOTO-2023-01-05-14-03-21.jpg>\n";
        assert_eq!(refs(text)[0].1.sent_at.as_deref(), Some("2023-01-05T14:03:21-00:00"));
        let text = "[12.3.2022 klo 14.08.18] Matti: <liite: 00000001-PHOTO.jpg>\n[13.3.2022 klo 9.01.00] Matti: moi\n";
        assert_eq!(refs(text)[0].1.sent_at.as_deref(), Some("2022-03-12T14:08:18-00:00"));
    }

    #[test]
    fn undecidable_or_contradictory_order_leaves_sent_at_out() {
        let text = "05/01/2023, 14:03 - Alice: IMG-20230105-WA0001.jpg (file attached)\n\
                    06/01/2023, 10:00 - Bob: ok\n";
        let refs1 = refs(text);
        assert_eq!(refs1.len(), 1);
        assert_eq!(refs1[0].1.sent_at, None);
        let text =
            "13/01/2023, 14:03 - Alice: IMG-1.jpg (file attached)\n01/13/2023, 10:00 - Bob: ok\n";
        assert_eq!(refs(text)[0].1.sent_at, None);
        // An unknown marker keeps the message but not its time.
        let text = "[13/01/2023, 2:03:21 nachm.] Alice: <attached: 00000001-PHOTO.jpg>\n";
        assert_eq!(refs(text)[0].1.sent_at, None);
        // A date that cannot exist.
        let text = "[31/02/2023, 14:03:21] Alice: <attached: 00000001-PHOTO.jpg>\n[13/01/2023, 14:03:21] A: x\n";
        assert_eq!(refs(text)[0].1.sent_at, None);
    }

    #[test]
    fn not_a_chat_is_a_warning() {
        assert!(parse(b"hello\nworld\n").is_err());
        assert_eq!(parse(b""), Ok(Vec::new()));
        assert_eq!(
            parse(b"\xFF\xFE[05/01/2023"),
            Err("WhatsApp chat has no line that starts a message (an unknown date format?)".into())
        );
        // Invalid UTF-8 in one message does not lose the others.
        let text = b"[13/01/2023, 14:03:21] A\xFF: <attached: 00000001-PHOTO.jpg>\n";
        assert_eq!(parse(text).unwrap()[0].1.sender.as_deref(), Some("A\u{FFFD}"));
    }

    #[test]
    fn chat_names_from_export_names() {
        assert_eq!(whatsapp_chat_name("WhatsApp Chat - Family.zip").as_deref(), Some("Family"));
        assert_eq!(
            whatsapp_chat_name("WhatsApp Chat with Bob Smith.txt").as_deref(),
            Some("Bob Smith")
        );
        assert_eq!(whatsapp_chat_name("WhatsApp Chat - Family").as_deref(), Some("Family"));
        assert_eq!(whatsapp_chat_name("export.zip"), None);
        assert_eq!(whatsapp_chat_name("WhatsApp Chat - .zip"), None);
    }
}
