//! A bucket whose server cuts an object's body short (issue 17): an error of kind `remote`,
//! never clean, and the exit status says so. The server is a few lines of HTTP here, not
//! moto: moto never misbehaves on purpose. It answers a listing of one object, then sends
//! half of the object's declared bytes and closes the connection, every time it is asked.

mod run;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use run::{command_in, root, DEMO};
use serde_json::Value;

const SIZE: usize = 1000;

#[test]
fn a_body_cut_short_is_a_remote_error_never_clean() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            while reader.read_line(&mut request).is_ok_and(|n| n > 2) {}
            let response = if request.contains("list-type=2") {
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>cut</Name>\
                     <KeyCount>1</KeyCount><IsTruncated>false</IsTruncated><Contents>\
                     <Key>cut.jpg</Key><LastModified>2026-12-01T10:00:00.000Z</LastModified>\
                     <ETag>\"abc\"</ETag><Size>{SIZE}</Size></Contents></ListBucketResult>"
                );
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len())
            } else {
                // A retry asks for the rest (`Range: bytes=N-`): it is cut short too.
                let from = request
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("range: bytes=")?
                            .split('-')
                            .next()?
                            .parse()
                            .ok()
                    })
                    .unwrap_or(0usize);
                let (status, range) = match from {
                    0 => ("200 OK", String::new()),
                    _ => (
                        "206 Partial Content",
                        format!("Content-Range: bytes {from}-{}/{SIZE}\r\n", SIZE - 1),
                    ),
                };
                format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\n{range}ETag: \"abc\"\r\n\
                     Last-Modified: Tue, 01 Dec 2026 10:00:00 GMT\r\n\r\n{}",
                    SIZE - from,
                    "x".repeat((SIZE - from) / 2)
                )
            };
            let _ = stream.write_all(response.as_bytes());
        }
    });
    let output = command_in(root())
        .args(["scan", "--list", DEMO, "--format", "jsonl", "s3://cut/"])
        .env_clear()
        .envs([
            ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}")),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
    let cut: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(cut["path"], "s3://cut/cut.jpg", "{stdout}");
    assert_eq!(cut["status"], "error", "{stdout}");
    assert_eq!(cut["kind"], "remote", "{stdout}");
    assert_eq!(cut["size"], SIZE, "{stdout}");
    assert!(cut["reason"].as_str().unwrap().contains("body"), "{stdout}");
}
