//! The report's other forms, one file at a time: clamscan-style text for a person at a
//! terminal, and CSV for spreadsheets.
//!
//! Owns only the layout of those lines; what they say comes from the same per-file entries
//! the JSON report files ([`Files::add`]), so every form agrees. Must not print: the binary
//! writes the lines where they go.

use crate::matcher::Matcher;
use crate::scan::FileReport;

use super::{Files, MatchEntry, Report};

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
    /// `--format text`: one line for a flagged file, clamscan-style
    /// (`PATH: FLAGGED pdq d=4 (rot90) list=LIST id=ID label=LABEL`); nothing for other
    /// files, which the closing summary lists.
    pub fn text_line(matcher: &Matcher, file: &FileReport) -> Option<String> {
        let mut one = Files::of(matcher, file);
        let flagged = one.flagged.pop()?;
        let best = &flagged.matches[0];
        let mut line = format!("{}: FLAGGED {}", flagged.path.path, describe(best));
        if flagged.matches.len() > 1 {
            line.push_str(&format!(" (+{} more)", flagged.matches.len() - 1));
        }
        if let Some(reason) = &flagged.perceptual_error {
            line.push_str(&format!(" [incomplete: {reason}]"));
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
    /// The end of `--format text`: the errors with their reasons, then the counts.
    pub fn text_summary(&self) -> String {
        let mut out = String::new();
        let files = &self.files;
        for error in &files.errors {
            out.push_str(&format!(
                "{}: ERROR ({}) {}\n",
                error.path.path, error.stage, error.reason
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
        if !self.complete {
            out.push_str(&format!("Not scanned (interrupted): {}\n", s.not_scanned));
        }
        out.push_str(&format!("Data read: {:.1} MB\n", s.bytes as f64 / 1e6));
        out
    }
}

/// One match, as the text line says it.
fn describe(m: &MatchEntry) -> String {
    let mut out = match &m.keypoints {
        Some(k) => {
            format!("{} inliers={}/{} scale={}", m.algorithm, k.inliers, k.good_matches, k.scale)
        }
        None => format!("{} d={}", m.algorithm, m.distance),
    };
    if let Some(orientation) = m.orientation.filter(|o| *o != "orig") {
        out.push_str(&format!(" ({orientation})"));
    }
    if let Some(video) = &m.video {
        out.push_str(&format!(" at {}", ranges(&video.time_ranges)));
        if let (Some(query), Some(listed)) = (video.query_pct, video.listed_pct) {
            out.push_str(&format!(" ({query}% of the video, {listed}% of the listed one)"));
        }
    }
    out.push_str(&format!(" list={}", m.list));
    if let Some(id) = &m.id {
        out.push_str(&format!(" id={id}"));
    }
    if let Some(label) = &m.label {
        out.push_str(&format!(" label={label}"));
    }
    if m.suspicious {
        out.push_str(" SUSPICIOUS");
    }
    out
}

/// Time ranges as `4.0-7.0s;12.0-15.0s`.
fn ranges(ranges: &[[f64; 2]]) -> String {
    ranges.iter().map(|[a, b]| format!("{a:.1}-{b:.1}s")).collect::<Vec<_>>().join(";")
}
