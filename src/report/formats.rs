//! The report's other forms, one file at a time: JSON lines for programs that read as the
//! scan goes, clamscan-style text for a person at a terminal, and CSV for spreadsheets.
//!
//! Owns only the layout of those lines; what they say comes from the same per-file entries
//! the JSON report files ([`Files::add`]), so every form agrees. Must not print: the binary
//! writes the lines where they go.

use std::cmp::Ordering;

use crate::error::Setting;
use crate::hash::orb1::verify;
use crate::matcher::{MatchOptions, Matcher};
use crate::outcome::{FileReport, Outcome, Status};

use super::schema::FILE_ARRAYS;
use super::{printable, FilePath, Files, MatchEntry, Report};

/// The CSV header of `--format csv`.
pub const CSV_HEADER: [&str; 13] = [
    "path",
    "status",
    "algorithm",
    "distance",
    "threshold",
    "orientation",
    "time_ranges",
    "list",
    "line",
    "id",
    "label",
    "hash",
    "reason",
];

impl Files {
    /// One `--format jsonl` line for `file`, as it is decided: `"type": "file"`, its path and
    /// `status` (`clean`, `flagged`, `error`, `skipped`), and what the report files under that
    /// outcome (matches, or the error's stage and reason, or why it was skipped). The flood
    /// guard's marks come only with the summary line, since they need the whole scan.
    pub fn line(matcher: &Matcher, file: &FileReport) -> String {
        let mut one = Files::of(matcher, file);
        let status = match file.outcome.status() {
            Status::Clean => "clean",
            Status::Flagged => "flagged",
            Status::Error => "error",
            Status::Skipped => "skipped",
        };
        let mut line = match (one.flagged.pop(), one.errors.pop(), one.skipped.pop()) {
            (Some(flagged), _, _) => serde_json::to_value(flagged),
            (None, Some(error), _) => serde_json::to_value(error),
            (None, None, Some(skipped)) => serde_json::to_value(skipped),
            (None, None, None) => serde_json::to_value(FilePath::new(file)),
        }
        .expect("a file's entry serialises");
        let object = line.as_object_mut().expect("entries are objects");
        if let Outcome::Scanned { size, media_type, sha256, .. } = &file.outcome {
            object.entry("size").or_insert((*size).into());
            object.entry("media_type").or_insert((*media_type).into());
            object.entry("sha256").or_insert(sha256.to_hex().into());
        }
        if let Some(low) = one.low_quality.pop() {
            object.insert("pdq_below_quality".to_string(), low.quality.into());
        }
        if let Some(few) = one.few_keypoints.pop() {
            object.insert("orb1_keypoints".to_string(), few.keypoints.into());
        }
        if let Some(allowed) = one.allowlisted.pop() {
            let matches = serde_json::to_value(allowed.matches).expect("matches serialise");
            object.insert("allowlisted".to_string(), matches);
        }
        let mut out = serde_json::Map::new();
        out.insert("type".to_string(), "file".into());
        out.insert("status".to_string(), status.into());
        out.extend(std::mem::take(object));
        serde_json::to_string(&out).expect("a file's entry serialises")
    }

    /// `--format text`: the lines of a flagged file, clamscan-style: the first names the
    /// file and its strongest match (`PATH: FLAGGED sha256 exact list=LIST id=ID label=LABEL`),
    /// then each other match has a line of its own (`  also pdq d=22/31 (rot90) list=…`), each
    /// with the threshold it was judged by. Nothing for other files, which the closing summary
    /// lists.
    pub fn text_line(matcher: &Matcher, file: &FileReport) -> Option<String> {
        let mut one = Files::of(matcher, file);
        let flagged = one.flagged.pop()?;
        let options = matcher.options();
        let mut matches: Vec<&MatchEntry> = flagged.matches.iter().collect();
        matches.sort_by(|a, b| by_strength(a, b));
        let (best, rest) = matches.split_first()?;
        let path = printable(&flagged.path.path);
        let mut line = format!("{path}: FLAGGED {}", describe(best, options));
        if let Some(reason) = &flagged.perceptual_error {
            line.push_str(&format!(" [incomplete: {}]", one_line(reason)));
        }
        if let Some(context) = &flagged.path.context {
            line.push_str(&sent_by(context));
        }
        for m in rest {
            line.push_str(&format!("\n  also {}", describe(m, options)));
        }
        Some(line)
    }

    /// `--format csv`: one row per match of a flagged file, one row for any other file.
    pub fn csv_rows(matcher: &Matcher, file: &FileReport) -> Vec<[String; 13]> {
        let mut one = Files::of(matcher, file);
        let path = file.path.to_string_lossy().into_owned();
        let row = |status: &str, reason: &str| -> [String; 13] {
            let mut row: [String; 13] = Default::default();
            (row[0], row[1], row[12]) = (path.clone(), status.to_string(), reason.to_string());
            row
        };
        if let Some(flagged) = one.flagged.pop() {
            let reason = flagged.perceptual_error.as_deref().unwrap_or("");
            return flagged
                .matches
                .iter()
                .map(|m| {
                    let mut r = row("flagged", reason);
                    r[2] = m.algorithm.name().to_string();
                    r[3] = m.distance.to_string();
                    r[4] = m.threshold.to_string();
                    r[5] = m.orientation.unwrap_or("").to_string();
                    r[6] = m.video.as_ref().map_or(String::new(), |v| ranges(&v.time_ranges));
                    r[7].clone_from(&m.list);
                    r[8] = m.line.to_string();
                    r[9] = m.id.clone().unwrap_or_default();
                    r[10] = m.label.clone().unwrap_or_default();
                    r[11].clone_from(&m.hash);
                    r
                })
                .collect();
        }
        if let Some(error) = one.errors.pop() {
            return vec![row("error", &format!("{}: {}", error.stage, error.reason))];
        }
        if let Some(skipped) = one.skipped.pop() {
            return vec![row("skipped", &skipped.reason)];
        }
        vec![row("clean", "")]
    }
}

impl Report {
    /// The closing line of `--format jsonl`: the report without the per-file arrays, which
    /// the file lines carried, and with `"type": "summary"`.
    pub fn summary_line(&self) -> String {
        let mut value = serde_json::to_value(self).expect("a report serialises");
        let object = value.as_object_mut().expect("a report is an object");
        for key in FILE_ARRAYS {
            object.shift_remove(key);
        }
        let mut line = serde_json::Map::new();
        line.insert("type".to_string(), "summary".into());
        line.extend(std::mem::take(object));
        serde_json::to_string(&line).expect("a report serialises")
    }

    /// The end of `--format text` but its last line ([`Report::next_steps`]): the errors with
    /// their reasons, the files some algorithm could not judge, and the counts.
    pub fn text_summary(&self) -> String {
        let mut out = String::new();
        let files = &self.files;
        for error in &files.errors {
            out.push_str(&format!(
                "{}: ERROR ({}) {}\n",
                printable(&error.path.path),
                error.stage,
                one_line(&error.reason)
            ));
        }
        // A clean result means less for these files: say so, one line each.
        let min_quality = self.settings.pdq_min_quality;
        for low in &files.low_quality {
            out.push_str(&format!(
                "{}: LOW QUALITY pdq quality {} (needs {min_quality}): not matched by pdq\n",
                printable(&low.path.path),
                low.quality
            ));
        }
        for few in &files.few_keypoints {
            out.push_str(&format!(
                "{}: FEW KEYPOINTS orb1 {} keypoints (needs {}): not matched by orb1\n",
                printable(&few.path.path),
                few.keypoints,
                verify::MIN_GOOD
            ));
        }
        for suspicious in &self.suspicious {
            out.push_str(&format!(
                "WARNING: {} {} matched {} files: likely a bad list entry (its matches are marked suspicious)\n",
                suspicious.algorithm, suspicious.hash, suspicious.files
            ));
        }
        let s = &files.summary;
        out.push_str("----------- SCAN SUMMARY -----------\n");
        out.push_str(&format!("Files: {}\n", s.files));
        out.push_str(&format!("Flagged: {}\n", s.flagged));
        out.push_str(&format!("Clean: {}\n", s.clean));
        out.push_str(&format!("Errors: {}\n", s.errors));
        out.push_str(&format!("Skipped: {}\n", s.skipped));
        if s.over_budget > 0 {
            out.push_str(&format!("Left out by a budget (not screened): {}\n", s.over_budget));
        }
        if !self.complete {
            out.push_str(&format!("Not scanned (interrupted): {}\n", s.not_scanned));
        }
        out.push_str(&format!("Data read: {:.1} MB\n", s.bytes as f64 / 1e6));
        out
    }

    /// What this scan leaves a person to do, a step each (`2 flagged: review the FLAGGED lines
    /// above`), or `nothing matched`: for the last line of `--format text`, which the binary
    /// ends with how to get a JSON report. The settings behind a budget are named by what
    /// `name` calls them (as [`Reason::name_setting`](crate::error::Reason::name_setting)
    /// names them), else said plainly.
    pub fn next_steps(&self, name: impl Fn(Setting) -> Option<String>) -> Vec<String> {
        let s = &self.files.summary;
        let mut steps = Vec::new();
        if s.flagged > 0 {
            steps.push(format!("{} flagged: review the FLAGGED lines above", s.flagged));
        }
        if s.errors > 0 {
            steps.push(format!("{} not screened: see the ERROR lines above", s.errors));
        }
        if s.over_budget > 0 {
            let limit = |setting, plain: &str| name(setting).unwrap_or_else(|| plain.to_string());
            steps.push(format!(
                "{} left out by {} or {}: not screened, raise the limit",
                s.over_budget,
                limit(Setting::MaxFiles, "the file limit"),
                limit(Setting::MaxScanSize, "the size limit")
            ));
        }
        if !self.complete {
            steps.push(format!("{} not scanned (interrupted): run the scan again", s.not_scanned));
        }
        if steps.is_empty() {
            steps.push("nothing matched".to_string());
        }
        steps
    }
}

/// Strongest evidence first: an exact digest (the longer first), then a perceptual hash by
/// how far inside its threshold it lies (the longer hash first on a tie), then orb1 and orb2
/// keypoint matches (more inliers first), which find crops, a part of the listed picture.
/// Ties keep the report's order, so the text is as deterministic as the report.
fn by_strength(a: &MatchEntry, b: &MatchEntry) -> Ordering {
    let kind = |m: &MatchEntry| match m.algorithm {
        algorithm if algorithm.is_digest() => 0,
        algorithm if algorithm.keypoint_format().is_some() => 2,
        _ => 1,
    };
    // distance / threshold, as a fraction; a threshold of 0 admits only distance 0.
    let share = |m: &MatchEntry| (u64::from(m.distance), u64::from(m.threshold.max(1)));
    let ((da, ta), (db, tb)) = (share(a), share(b));
    let inliers = |m: &MatchEntry| m.keypoints.as_ref().map_or(0, |k| k.inliers);
    kind(a)
        .cmp(&kind(b))
        .then((da * tb).cmp(&(db * ta)))
        .then(b.algorithm.byte_len().cmp(&a.algorithm.byte_len()))
        .then(inliers(b).cmp(&inliers(a)))
}

/// One match, as the text says it: what matched, by how much against what it needed, and
/// which list entry.
fn describe(m: &MatchEntry, options: &MatchOptions) -> String {
    let mut out = match (&m.keypoints, m.algorithm) {
        (Some(k), algorithm) => format!(
            "{algorithm} inliers {} (needs {}), scale {}",
            k.inliers,
            verify::MIN_INLIERS,
            k.scale
        ),
        (None, algorithm) if algorithm.keypoint_format().is_some() => algorithm.to_string(),
        (None, algorithm) if algorithm.is_digest() => format!("{algorithm} exact"),
        (None, algorithm) => format!("{algorithm} d={}/{}", m.distance, m.threshold),
    };
    if let Some(orientation) = m.orientation.filter(|o| *o != "orig") {
        out.push_str(&format!(" ({orientation})"));
    }
    if let Some(video) = &m.video {
        out.push_str(&format!(" at {}", ranges(&video.time_ranges)));
        if let (Some(query), Some(listed)) = (video.query_pct, video.listed_pct) {
            let needs = &options.video;
            let share = if needs.query_pct == needs.listed_pct {
                format!("{}% of either", needs.query_pct)
            } else {
                format!(
                    "{}% of the video or {}% of the listed one",
                    needs.query_pct, needs.listed_pct
                )
            };
            out.push_str(&format!(
                " ({query}% of the video, {listed}% of the listed one; needs {share} and {} frames)",
                needs.min_frames
            ));
        }
    }
    out.push_str(&format!(" list={}", printable(&m.list)));
    if let Some(id) = &m.id {
        out.push_str(&format!(" id={}", printable(id)));
    }
    if let Some(label) = &m.label {
        out.push_str(&format!(" label={}", printable(label)));
    }
    if m.suspicious {
        out.push_str(" SUSPICIOUS");
    }
    out
}

/// A message (a decoder's above all) as one printable line: a Rust debug dump of a value
/// (`ChunkType { type: …, critical: true }`) left out, every run of white space, line breaks
/// included, made one space, and what [`printable`] escapes escaped. The one place a text
/// report makes a message safe to print on a terminal.
pub fn one_line(message: &str) -> String {
    let mut kept = String::with_capacity(message.len());
    let mut rest = message;
    while let Some((at, end)) = debug_dump(rest) {
        kept.push_str(&rest[..at]);
        rest = &rest[end..];
    }
    kept.push_str(rest);
    let words: Vec<String> =
        kept.split_whitespace().map(|word| printable(word).into_owned()).collect();
    let line = words.join(" ").replace(" :", ":").replace(" ,", ",");
    line.trim_end_matches([':', ',', ';', ' ']).to_string()
}

/// Where the first debug dump of a struct in `text` starts and ends: a capitalised name, ` {
/// `, a field name and `:`, up to the brace that closes it.
fn debug_dump(text: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(found) = text[from..].find(" { ") {
        let open = from + found;
        let name_start =
            text[..open].rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
        let name = &text[name_start..open];
        let body = &text[open + 3..];
        let field = body.split_once(':').map(|(field, _)| field);
        let is_dump = name.starts_with(|c: char| c.is_ascii_uppercase())
            && field.is_some_and(|f| {
                !f.is_empty() && f.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            });
        if is_dump {
            let mut depth = 0;
            for (i, c) in text[open + 1..].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 1 => return Some((name_start, open + 1 + i + 1)),
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            // Unclosed: the rest of the message is the dump.
            return Some((name_start, text.len()));
        }
        from = open + 3;
    }
    None
}

/// Time ranges as `4.0-7.0s;12.0-15.0s`.
fn ranges(ranges: &[[f64; 2]]) -> String {
    ranges.iter().map(|[a, b]| format!("{a:.1}-{b:.1}s")).collect::<Vec<_>>().join(";")
}

/// " sent by SENDER at TIME in CHAT", as much of it as the chat index says.
fn sent_by(context: &crate::context::Context) -> String {
    let mut text = String::new();
    if let Some(sender) = context.sender.as_deref().or(context.sender_id.as_deref()) {
        text.push_str(&format!(" sent by {}", printable(sender)));
    }
    if let Some(at) = &context.sent_at {
        text.push_str(&format!(" at {at}"));
    }
    if let Some(chat) = &context.chat {
        text.push_str(&format!(" in {}", printable(chat)));
    }
    if text.is_empty() {
        text = format!(" in a {} export", context.app);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::Algorithm;
    use crate::report::KeypointMatch;

    #[test]
    fn a_message_becomes_one_printable_line() {
        let png = "Format error decoding Png: Unrecognized critical chunk: ChunkType { type: \
                   \\u{9b}\\u{17}, critical: true, private: false }";
        assert_eq!(one_line(png), "Format error decoding Png: Unrecognized critical chunk");
        assert_eq!(
            one_line("I/O errors Not enough bytes,\n expected 3971\r\n\tbut found 1960\n"),
            "I/O errors Not enough bytes, expected 3971 but found 1960"
        );
        assert_eq!(one_line("a Dims { w: 1, h: { n: 2 } } b"), "a b");
        assert_eq!(one_line("bad\u{1b}[2Jframe\u{9b}"), "bad\\u001b[2Jframe\\u009b");
        // Braces that are not a dump stay.
        assert_eq!(one_line("expected { or [ at 3"), "expected { or [ at 3");
        assert_eq!(one_line("Frame { 3 of 4 }"), "Frame { 3 of 4 }");
    }

    fn entry(algorithm: Algorithm, distance: u32, threshold: u32, inliers: usize) -> MatchEntry {
        MatchEntry {
            algorithm,
            list: "l.csv".to_string(),
            line: 2,
            id: None,
            label: None,
            hash: String::new(),
            distance,
            threshold,
            quality: None,
            orientation: None,
            suspicious: false,
            keypoints: algorithm.keypoint_format().map(|_| KeypointMatch {
                good_matches: inliers,
                inliers,
                scale: 1.0,
                rotation: 0.0,
                offset: [0.0; 2],
            }),
            video: None,
            sources: Vec::new(),
        }
    }

    #[test]
    fn the_strongest_evidence_comes_first() {
        let matches = [
            entry(Algorithm::Orb1, 0, 0, 40),
            entry(Algorithm::Orb2, 0, 0, 100),
            entry(Algorithm::Phash, 4, 8, 0),
            entry(Algorithm::Orb1, 0, 0, 300),
            entry(Algorithm::Pdq, 4, 8, 0),
            entry(Algorithm::Pdq, 0, 0, 0),
            entry(Algorithm::Md5, 0, 0, 0),
            entry(Algorithm::Pdq, 10, 31, 0),
            entry(Algorithm::Sha256, 0, 0, 0),
        ];
        let mut sorted: Vec<&MatchEntry> = matches.iter().collect();
        sorted.sort_by(|a, b| by_strength(a, b));
        let shown: Vec<String> = sorted
            .iter()
            .map(|m| match &m.keypoints {
                Some(k) => format!("{} {}", m.algorithm, k.inliers),
                None => format!("{} {}/{}", m.algorithm, m.distance, m.threshold),
            })
            .collect();
        assert_eq!(
            shown,
            [
                "sha256 0/0",
                "md5 0/0",
                "pdq 0/0",
                "pdq 10/31",
                "pdq 4/8",
                "phash 4/8",
                "orb1 300",
                "orb2 100",
                "orb1 40"
            ]
        );
    }
}
