//! Running the built binary as the end-to-end tests do: from the project root, with its
//! output captured, and reading the outcome back. Each test file uses a part of this, hence
//! the `allow`: a helper one file leaves unused is not dead.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

/// The project root, where the fixtures and lists are.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `mediascreen ARGS` from the project root, with `env` set.
pub fn mediascreen_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mediascreen"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root())
        .output()
        .expect("the binary runs")
}

/// Runs `mediascreen ARGS` from the project root.
pub fn mediascreen(args: &[&str]) -> Output {
    mediascreen_with(args, &[])
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
