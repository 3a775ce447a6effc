//! Running the built binary as the end-to-end tests do: from the project root, with its
//! output captured, and reading the outcome and the JSON report back. Each test file uses a
//! part of this, hence the `allow`: a helper one file leaves unused is not dead.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The built binary, for a test that hands it to another program (`script`, `setpriv`).
pub const BINARY: &str = env!("CARGO_BIN_EXE_mediascreen");

/// The hash list most tests scan against, relative to [`root`].
pub const DEMO: &str = "hashlists/demo.csv";

/// The project root, where the fixtures and lists are.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The binary, to be run in `dir`: for a run that needs more than its output (another working
/// folder, standard input, a terminal, watching it while it runs).
pub fn command_in(dir: &Path) -> Command {
    let mut command = Command::new(BINARY);
    command.current_dir(dir);
    command
}

/// Runs `mediascreen ARGS` from the project root, with `env` set.
pub fn mediascreen_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    command_in(root()).args(args).envs(env.iter().copied()).output().expect("the binary runs")
}

/// Runs `mediascreen ARGS` from the project root.
pub fn mediascreen(args: &[&str]) -> Output {
    mediascreen_with(args, &[])
}

/// Runs `mediascreen ARGS` from the project root with `input` on its standard input.
pub fn mediascreen_fed(args: &[&str], input: &[u8]) -> Output {
    let mut child = command_in(root())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Writes `bytes` to `dir/name`, for a run to read; returns the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The exit status of a run that was not killed.
pub fn code(output: &Output) -> i32 {
    output.status.code().expect("exited normally")
}

/// What a run printed on standard output, which must be UTF-8.
pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("the output is UTF-8")
}

/// What a run printed on standard error.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The JSON report a run printed on standard output; fails with its standard error if there
/// is none.
pub fn report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("report is JSON ({e}); stderr: {}", stderr(output)))
}

/// Runs `mediascreen scan ARGS` from the project root with the report on standard output:
/// (exit code, report, the run's output).
pub fn scan(args: &[&str]) -> (i32, Value, Output) {
    scan_with(args, &[])
}

/// [`scan`] with `env` set.
pub fn scan_with(args: &[&str], env: &[(&str, &str)]) -> (i32, Value, Output) {
    let output = mediascreen_with(&[&["scan"], args].concat(), env);
    (code(&output), report(&output), output)
}

/// The report's entry for the flagged file `path`, if it is flagged.
pub fn flagged<'a>(report: &'a Value, path: &str) -> Option<&'a Value> {
    report["flagged"].as_array().unwrap().iter().find(|f| f["path"] == path)
}

/// The algorithms of a flagged file's matches, in report order.
pub fn algorithms(flagged: &Value) -> Vec<&str> {
    flagged["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["algorithm"].as_str().unwrap())
        .collect()
}

/// Checks that a report's summary counts every file once and agrees with its lists.
pub fn assert_counts_add_up(report: &Value) {
    let s = &report["summary"];
    let n = |k: &str| s[k].as_u64().unwrap();
    assert_eq!(n("files"), n("clean") + n("flagged") + n("errors") + n("skipped"), "{s}");
    assert_eq!(n("flagged"), report["flagged"].as_array().unwrap().len() as u64);
    assert_eq!(n("errors"), report["errors"].as_array().unwrap().len() as u64);
    assert_eq!(n("skipped"), report["skipped"].as_array().unwrap().len() as u64);
}

/// Waits for `child` at most `limit`, polling its peak resident memory (Linux's `VmHWM`, in
/// KiB); kills it and fails past the limit.
pub fn wait_measuring(mut child: Child, limit: Duration) -> (Output, u64) {
    let started = Instant::now();
    let mut peak_kib = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{}/status", child.id())) {
            let hwm = status.lines().find_map(|l| l.strip_prefix("VmHWM:"));
            if let Some(kib) = hwm.and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            {
                peak_kib = peak_kib.max(kib);
            }
        }
        if child.try_wait().unwrap().is_some() {
            return (child.wait_with_output().unwrap(), peak_kib);
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("the run went on past {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
