//! The text report as a person meets it: on a terminal, where the progress bar shares the
//! screen with the result lines, and in a pipe or a log.

mod run;
use run::{command_in, mediascreen, root, stderr, stdout, BINARY, DEMO};

/// A scan whose text report has flagged files, an error and many files, so that the bar is
/// drawn between result lines. WebM needs ffmpeg, which a fresh machine may not have: left
/// out, the output is the same everywhere.
const SCAN: [&str; 7] =
    ["scan", "fixtures/screening", "fixtures/video", "--exclude", "*.webm", "--list", DEMO];

#[cfg(unix)]
mod pty {
    use std::io::Read;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::process::Stdio;

    use super::{command_in, root};

    /// Runs the binary with standard output and standard error on one pseudo-terminal, as
    /// from a shell, and returns its exit status and every byte it wrote there. openpty, not
    /// `script`, so that the terminal's size is known and nothing outside the test changes
    /// what the program sees.
    pub fn on_terminal(args: &[&str], dir: &std::path::Path) -> (i32, Vec<u8>) {
        let (mut master, mut slave) = (-1, -1);
        let mut size = libc::winsize { ws_row: 40, ws_col: 200, ws_xpixel: 0, ws_ypixel: 0 };
        let null = std::ptr::null_mut();
        // SAFETY: openpty writes two descriptors into the integers given; the name and
        // termios pointers may be null.
        let opened =
            unsafe { libc::openpty(&mut master, &mut slave, null, null.cast(), &raw mut size) };
        assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors were just opened and are owned by nothing else.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        // Another test's child must not hold the terminal open after this one ends.
        for fd in [&master, &slave] {
            // SAFETY: setting a flag on a descriptor this function owns.
            unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        let mut command = command_in(dir);
        command
            .args(args)
            .env("TERM", "xterm")
            .stdin(Stdio::null())
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        let mut child = command.spawn().expect("the binary runs");
        // The parent's copies of the terminal's far end go, so that reading ends with the child.
        drop(command);
        let (mut master, mut bytes, mut buffer) = (std::fs::File::from(master), vec![], [0; 4096]);
        loop {
            match master.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => bytes.extend_from_slice(&buffer[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // Linux reports a terminal whose far end is closed by EIO.
                Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
                Err(e) => panic!("reading the terminal: {e}"),
            }
        }
        let status = child.wait().unwrap();
        (status.code().expect("exited normally"), bytes)
    }

    /// Runs the binary on a terminal in the crate's folder.
    pub fn run(args: &[&str]) -> (i32, Vec<u8>) {
        on_terminal(args, root())
    }

    /// What a terminal shows after `bytes`, line by line: a small emulation of the controls a
    /// progress bar uses (carriage return, line feed, erasing in the line or below, moving
    /// the cursor), enough to see whatever a bar left on the screen. Lines are not wrapped.
    pub fn screen(bytes: &[u8]) -> Vec<String> {
        let text = String::from_utf8_lossy(bytes);
        let mut lines: Vec<Vec<char>> = vec![vec![]];
        let (mut row, mut col) = (0usize, 0usize);
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\r' => col = 0,
                '\n' => {
                    row += 1;
                    if row == lines.len() {
                        lines.push(vec![]);
                    }
                }
                '\x1b' if chars.peek() == Some(&'[') => {
                    chars.next();
                    let mut parameters = String::new();
                    let command = loop {
                        match chars.next() {
                            Some(c @ '\x40'..='\x7e') => break c,
                            Some(c) => parameters.push(c),
                            None => break '\0',
                        }
                    };
                    let n = parameters.trim_start_matches('?').parse::<usize>().ok();
                    let line = &mut lines[row];
                    match (command, n.unwrap_or(0)) {
                        ('K', 0) => line.truncate(col),
                        ('K', 1) => line.iter_mut().take(col + 1).for_each(|c| *c = ' '),
                        ('K', _) => line.clear(),
                        ('J', 0) => {
                            line.truncate(col);
                            lines.truncate(row + 1);
                        }
                        ('A', _) => row = row.saturating_sub(n.unwrap_or(1).max(1)),
                        ('G', _) => col = n.unwrap_or(1).max(1) - 1,
                        // Colours, showing and hiding the cursor.
                        _ => {}
                    }
                }
                c => {
                    let line = &mut lines[row];
                    if line.len() <= col {
                        line.resize(col + 1, ' ');
                    }
                    line[col] = c;
                    col += 1;
                }
            }
        }
        lines.iter().map(|l| l.iter().collect::<String>().trim_end().to_string()).collect()
    }

    /// The progress bar's own characters (indicatif's default bar).
    pub fn is_bar(c: char) -> bool {
        c == '█' || c == '░'
    }
}

#[cfg(unix)]
#[test]
fn a_terminal_shows_the_text_report_with_no_bar_left_between_its_lines() {
    // No --format and no --report: on a terminal, the text report.
    let (code, bytes) = pty::run(&SCAN);
    assert_eq!(code, 1);
    let raw = String::from_utf8_lossy(&bytes);
    assert!(raw.contains(pty::is_bar), "the bar was never drawn: {raw:?}");
    let shown = pty::screen(&bytes);
    // The same report in a pipe, where no bar is drawn.
    let text = stdout(&mediascreen(&[&SCAN[..], &["--format", "text", "-q"]].concat()));
    let expected: Vec<&str> = text.lines().collect();
    assert!(expected.iter().any(|l| l.contains(": FLAGGED ")), "{text}");
    // The screen holds exactly the report, then the summary on standard error: no bar, and
    // nothing of one on any line.
    let (report, rest) = shown.split_at(expected.len().min(shown.len()));
    assert_eq!(report, expected, "on the terminal:\n{}", shown.join("\n"));
    assert!(rest[0].starts_with("mediascreen: "), "{rest:?}");
    assert!(rest[1..].iter().all(|l| l.is_empty()), "{rest:?}");
    // And in the bytes themselves, each result line starts on a fresh line or right after
    // the bar was erased, and holds no control characters.
    let mut found = 0;
    for line in raw.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let Some(at) = line.find("fixtures/") else { continue };
        let (before, result) = line.split_at(at);
        assert!(before.is_empty() || before.ends_with("\x1b[2K"), "{line:?}");
        assert!(!result.contains(|c: char| c.is_control() || pty::is_bar(c)), "{line:?}");
        found += 1;
    }
    assert!(found >= expected.iter().filter(|l| l.contains(": FLAGGED ")).count(), "{raw:?}");
}

#[cfg(unix)]
#[test]
fn a_terminal_gets_json_when_a_report_or_a_format_is_asked_for() {
    let file = "fixtures/screening/exact/q0291.jpg";
    for asked in [["--format", "json"], ["--report", "-"]] {
        let (code, bytes) = pty::run(&[&["scan", file, "--list", DEMO, "-q"], &asked[..]].concat());
        assert_eq!(code, 1);
        let shown = pty::screen(&bytes).join("\n");
        let report: serde_json::Value =
            serde_json::from_str(&shown).unwrap_or_else(|e| panic!("{asked:?}: {e}: {shown}"));
        assert_eq!(report["summary"]["flagged"], 1);
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    let path = path.to_str().unwrap();
    let (code, bytes) = pty::run(&["scan", file, "--list", DEMO, "--report", path]);
    assert_eq!(code, 1);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).unwrap()).expect("a JSON report");
    assert_eq!(report["summary"]["flagged"], 1);
    // The person at the terminal is told where the flagged files are.
    let shown = pty::screen(&bytes);
    let step = format!(
        "mediascreen: 1 flagged: see {path}, or list them with `jq -r '.flagged[].path' {path}`"
    );
    assert!(shown.contains(&step), "{shown:?}");
}

#[test]
fn a_pipe_gets_json_by_default() {
    let output = mediascreen(&["scan", "fixtures/screening/exact/q0291.jpg", "--list", DEMO]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["summary"]["flagged"], 1);
}

#[test]
fn the_text_report_shows_every_match_with_its_threshold_strongest_first() {
    let dir = tempfile::tempdir().unwrap();
    // A list of one photograph by every kind of hash: its exact copy matches them all, a crop
    // of it some.
    let half = "fixtures/screening/edited/bridge-half-size.jpg";
    let made = mediascreen(&["hash", half, "--algorithms", "pdq,phash,md5,sha256,orb1"]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let list = dir.path().join("bridge.csv");
    std::fs::write(&list, &made.stdout).unwrap();
    let output = mediascreen(&[
        "scan",
        half,
        "fixtures/screening/edited/bridge-cropped.jpg",
        "fixtures/screening/distinct/q0003-low-quality.jpg",
        // A decoder's message with a debug dump, and one with a line break.
        "fixtures/bad/corrupt.png",
        "fixtures/bad/truncated.jpg",
        "--list",
        list.to_str().unwrap(),
        "--list",
        DEMO,
        "--format",
        "text",
        "-q",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.iter().all(|l| !l.is_empty() && !l.contains(char::is_control)), "{text}");

    // Every match of the exact copy, each with its threshold, the digests first and orb1's
    // keypoints last.
    let at = lines.iter().position(|l| l.starts_with(&format!("{half}: FLAGGED "))).unwrap();
    let matches: Vec<&str> = lines[at..at + 6]
        .iter()
        .map(|l| l.split_once(": FLAGGED ").map_or(*l, |(_, m)| m).trim_start_matches("  also "))
        .map(|m| m.split(" list=").next().unwrap())
        .collect();
    // (The JPEG decoder may move the demo list's PDQ distance and orb1's inliers a little.)
    assert_eq!(matches[..4], ["sha256 exact", "md5 exact", "pdq d=0/31", "phash d=0/8"], "{text}");
    assert!(matches[4].starts_with("pdq d=") && matches[4].ends_with("/31"), "{text}");
    assert!(lines[at + 4].contains(" list=hashlists/demo.csv id=demo-bridge label=demo: "));
    assert!(matches[5].starts_with("orb1 inliers ") && matches[5].contains(" (needs 12), scale "));
    assert!(!text.contains("more)"), "{text}");
    let cropped: Vec<&str> =
        lines.iter().copied().skip_while(|l| !l.contains("bridge-cropped.jpg: FLAGGED")).collect();
    assert!(cropped[1..].iter().any(|l| l.starts_with("  also orb1 inliers ")), "{text}");

    // The file PDQ could not judge, and each error, on one line with its reason.
    assert!(
        text.contains(
            "fixtures/screening/distinct/q0003-low-quality.jpg: LOW QUALITY pdq quality 3 \
             (needs 50): not matched by pdq\n"
        ),
        "{text}"
    );
    let errors: Vec<&str> = lines.iter().copied().filter(|l| l.contains(": ERROR (")).collect();
    assert_eq!(errors.len(), 2, "{text}");
    assert!(errors[0].starts_with("fixtures/bad/corrupt.png: ERROR (decode) "), "{text}");
    assert!(!errors[0].contains(" { ") && !errors[0].contains('\\'), "{text}");
    assert!(errors[1].starts_with("fixtures/bad/truncated.jpg: ERROR (decode) "), "{text}");

    // Last, what to do next, true to this scan: no JSON report was written.
    assert_eq!(
        *lines.last().unwrap(),
        "Next: 2 flagged: review the FLAGGED lines above; 2 not screened: see the ERROR lines \
         above; for a JSON report, scan with --format json --report report.json, then \
         `jq -r '.flagged[].path' report.json` lists the flagged files.",
        "{text}"
    );
}

#[test]
fn the_progress_bar_shows_on_a_terminal_only() {
    // util-linux's `script` runs the scan on a pseudo-terminal.
    let command = format!(
        // WebM needs ffmpeg, which a fresh machine may not have: left out, the counts are fixed.
        "{} scan fixtures/video --exclude '*.webm' --list {DEMO} --report /dev/null",
        BINARY
    );
    let on_tty = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(root())
        .output()
        .expect("util-linux script runs");
    let shown = String::from_utf8_lossy(&on_tty.stdout);
    assert!(shown.contains("6/6 files") && shown.contains("4 flagged"), "{shown}");
    // Not a terminal, or --quiet: no bar, and only the summary line.
    let piped = mediascreen(&["scan", "fixtures/video", "--list", DEMO, "--report", "/dev/null"]);
    let text = stderr(&piped);
    assert!(!text.contains("8/8") && !text.contains('\r'), "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");
    let quiet = std::process::Command::new("script")
        .args(["-qec", &format!("{command} --quiet"), "/dev/null"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&quiet.stdout).trim().is_empty());
}
