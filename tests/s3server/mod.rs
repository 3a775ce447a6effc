//! A real S3-compatible server for the integration tests: moto's server mode (`moto_server`,
//! moto 5.2.5) on a free port of 127.0.0.1, started per test and killed when its [`Server`] is
//! dropped. The harness seeds and inspects buckets itself over plain HTTP/1.1 with std only,
//! so a test needs no AWS SDK; what the product under test sees of the server is [`Server::env`].
//! It does not sign its requests: moto checks no signature unless auth enforcement is on, and
//! under enforcement the harness lifts it around each of its own requests (see
//! [`Server::start_enforcing_auth`]). Each test file uses a part of this, hence the `allow`.
#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What a test is told when there is no moto to run.
const NEEDS_MOTO: &str = "needs moto_server: pip install 'moto[server]==5.2.5' (.ci/run installs \
                          it into .ci/venv), or set MOTO_SERVER to its path";

/// How long moto may take to answer its first request (it usually needs 0.4 s).
const READY_WITHIN: Duration = Duration::from_secs(15);

/// The region of the credential scope and of [`Server::env`]; moto accepts any.
const REGION: &str = "us-east-1";

/// A running moto server, killed and reaped on drop. Its log is deleted then too, unless the
/// test is panicking: then its path is printed, to read what the server saw.
pub struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
    /// The access key id and secret the product should use.
    credentials: (String, String),
    /// Whether moto checks signatures and IAM permissions (see [`Server::start_enforcing_auth`]).
    enforcing: bool,
}

/// One HTTP response, body de-chunked.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    /// The value of header `name`, matched case-insensitively.
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Server {
    /// Starts moto with its default of no request authentication: any credentials, signed or
    /// not, are accepted. Panics when moto_server cannot be found or does not come up.
    pub fn start() -> Server {
        let binary = moto_binary();
        // Another process may take the port between our probe and moto's bind: moto then
        // exits at once, and a second port is tried.
        let mut last_failure = String::new();
        for _ in 0..3 {
            match launch(&binary) {
                Ok(server) => return server,
                Err(failure) => last_failure = failure,
            }
        }
        panic!("moto_server ({}) did not start: {last_failure}\n{NEEDS_MOTO}", binary.display());
    }

    /// Starts moto with authentication enforced, as AWS does: each S3 request must be signed
    /// with the secret of an access key moto's IAM knows, and that key's user must be allowed
    /// the action. [`Server::env`] then names such a key, created here for an IAM user with
    /// an `s3:*` policy.
    ///
    /// What moto 5.2.5 answers otherwise (all `403 Forbidden`, S3 XML error bodies):
    /// an unknown access key id (`test`, say) gets `InvalidAccessKeyId`; a known id with a
    /// wrong secret gets `SignatureDoesNotMatch`; a known user without permission gets
    /// `AccessDenied`. A request with no `Authorization` header at all gets a bare 403 on an
    /// existing object and a 500 (moto's own KeyError) on a bucket listing.
    ///
    /// How: moto authenticates once it has served `INITIAL_NO_AUTH_ACTION_COUNT` requests
    /// (default infinity); `POST /moto-api/reset-auth` sets that count and restarts the tally.
    /// The harness sets it to 0 once the IAM user exists, and to infinity around each of its
    /// own requests, so seed or inspect the server only while no product process is talking
    /// to it.
    pub fn start_enforcing_auth() -> Server {
        let mut server = Server::start();
        server.iam("CreateUser&UserName=mediascreen-test");
        let key = server.iam("CreateAccessKey&UserName=mediascreen-test");
        let field = |tag: &str| {
            let value = elements(&key, tag).first().map(|v| unescape(v));
            value.unwrap_or_else(|| server.fail(&format!("no {tag} in CreateAccessKey: {key}")))
        };
        let credentials = (field("AccessKeyId"), field("SecretAccessKey"));
        let policy = concat!(
            r#"{"Version":"2012-10-17","#,
            r#""Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#
        );
        server.iam(&format!(
            "PutUserPolicy&UserName=mediascreen-test&PolicyName=s3&PolicyDocument={}",
            encode(policy, false)
        ));
        server.credentials = credentials;
        server.set_enforcement(true);
        server.enforcing = true;
        // Proof that it took: the harness's own unknown key is now refused.
        let unknown_key = [("Authorization", unchecked_authorization("s3"))];
        let refused = server.send("GET", "/", &unknown_key, &[]);
        if refused.status != 403 || !refused.text().contains("InvalidAccessKeyId") {
            server.fail(&format!(
                "auth enforcement is not on: an unknown key's ListBuckets got {} {}",
                refused.status,
                refused.text()
            ));
        }
        server
    }

    /// The endpoint URL, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment a mediascreen child process needs to reach this server: endpoint,
    /// credentials (`test`/`test`, or the IAM user's under enforcement), region, and plain
    /// HTTP allowed.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", self.credentials.0.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.credentials.1.clone()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_ALLOW_HTTP", "true".to_string()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect()
    }

    /// Creates `bucket` (path-style, in [`REGION`]).
    pub fn create_bucket(&self, bucket: &str) {
        self.s3("PUT", &format!("/{bucket}"), None, &[]);
    }

    /// Turns versioning on for `bucket`: each put then returns a version id.
    pub fn enable_versioning(&self, bucket: &str) {
        let config = "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                      <Status>Enabled</Status></VersioningConfiguration>";
        let target = format!("/{bucket}?versioning");
        self.s3("PUT", &target, Some("application/xml"), config.as_bytes());
    }

    /// Stores `body` at `key`; returns the `x-amz-version-id` when the bucket is versioned.
    pub fn put(&self, bucket: &str, key: &str, body: &[u8]) -> Option<String> {
        // Sent as octet-stream: moto's Flask parses a form-typed body away, storing 0 bytes.
        let response =
            self.s3("PUT", &object_path(bucket, key), Some("application/octet-stream"), body);
        response.header("x-amz-version-id").filter(|v| *v != "null").map(str::to_string)
    }

    /// Deletes `key` (in a versioned bucket: adds a delete marker).
    pub fn delete(&self, bucket: &str, key: &str) {
        self.s3("DELETE", &object_path(bucket, key), None, &[]);
    }

    /// The keys under `prefix`, in S3's (byte) order: ListObjectsV2, page after page.
    pub fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut target = format!("/{bucket}?list-type=2&prefix={}", encode(prefix, false));
            if let Some(token) = &token {
                target += &format!("&continuation-token={}", encode(token, false));
            }
            let page = self.s3("GET", &target, None, &[]).text();
            keys.extend(elements(&page, "Key").into_iter().map(unescape));
            if elements(&page, "IsTruncated").first() != Some(&"true") {
                return keys;
            }
            match elements(&page, "NextContinuationToken").first() {
                Some(next) => token = Some(unescape(next)),
                None => self.fail(&format!("a truncated listing without a token: {page}")),
            }
        }
    }

    /// An S3 request from the harness, lifting enforcement around it; panics unless 2xx.
    fn s3(&self, method: &str, target: &str, content_type: Option<&str>, body: &[u8]) -> Response {
        let mut headers = vec![("Authorization", unchecked_authorization("s3"))];
        if let Some(content_type) = content_type {
            headers.push(("Content-Type", content_type.to_string()));
        }
        if self.enforcing {
            self.set_enforcement(false);
        }
        let response = self.send(method, target, &headers, body);
        if self.enforcing {
            self.set_enforcement(true);
        }
        self.expect_success(&format!("{method} {target}"), response)
    }

    /// An IAM query-API call (`Action=` + `action`); returns the response's XML.
    fn iam(&self, action: &str) -> String {
        let headers = [
            // moto routes a request on a bare 127.0.0.1 to a service by the credential scope.
            ("Authorization", unchecked_authorization("iam")),
            ("Content-Type", "application/x-www-form-urlencoded".to_string()),
        ];
        let body = format!("Action={action}&Version=2010-05-08");
        let response = self.send("POST", "/", &headers, body.as_bytes());
        self.expect_success(&format!("IAM {action}"), response).text()
    }

    /// Turns moto's request authentication on or off.
    fn set_enforcement(&self, on: bool) {
        let count = if on { "0" } else { "inf" };
        // text/plain: a form-typed body would be parsed away before moto reads the count.
        let headers = [("Content-Type", "text/plain".to_string())];
        let response = self.send("POST", "/moto-api/reset-auth", &headers, count.as_bytes());
        self.expect_success("POST /moto-api/reset-auth", response);
    }

    /// Sends one request on its own connection (moto answers `Connection: close`).
    fn send(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Response {
        request(self.port, method, target, headers, body)
            .unwrap_or_else(|e| self.fail(&format!("{method} {target}: {e}")))
    }

    fn expect_success(&self, what: &str, response: Response) -> Response {
        if !(200..300).contains(&response.status) {
            self.fail(&format!("{what} answered {}: {}", response.status, response.text()));
        }
        response
    }

    /// Panics with `message` and the end of moto's log.
    fn fail(&self, message: &str) -> ! {
        panic!("{message}\n--- moto log ({}), last lines:\n{}", self.log.display(), tail(&self.log))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("moto's log is kept at {}", self.log.display());
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// moto_server: `$MOTO_SERVER`, else the CI venv's, else the first on `PATH`.
fn moto_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "MOTO_SERVER={} is not a file; {NEEDS_MOTO}", path.display());
        return path;
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/venv/bin/moto_server");
    if venv.is_file() {
        return venv;
    }
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path).map(|dir| dir.join("moto_server")).find(|p| p.is_file())
        })
        .unwrap_or_else(|| panic!("moto_server is not in .ci/venv/bin nor on PATH; {NEEDS_MOTO}"))
}

/// Starts `binary` on a free port and waits for it to answer; on failure, why, with its log.
fn launch(binary: &Path) -> Result<Server, String> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let log = std::env::temp_dir().join(format!("moto_server.{}.{port}.log", std::process::id()));
    let output = File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let errors = output.try_clone().map_err(|e| e.to_string())?;
    let child = Command::new(binary)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(output)
        .stderr(errors)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; {NEEDS_MOTO}", binary.display()));
    let mut server = Server {
        child,
        port,
        log,
        credentials: ("test".to_string(), "test".to_string()),
        enforcing: false,
    };
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(format!("it exited ({status}):\n{}", tail(&server.log)));
        }
        if request(port, "GET", "/moto-api/", &[], &[]).is_ok_and(|r| r.status == 200) {
            return Ok(server);
        }
        if started.elapsed() > READY_WITHIN {
            let _ = server.child.kill();
            return Err(format!("no answer within {READY_WITHIN:?}:\n{}", tail(&server.log)));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A SigV4-shaped `Authorization` for key `test`, which moto does not verify while auth is
/// off. It is needed even then: moto answers a GET or DELETE of an existing object that comes
/// without one with 403, as S3 does an anonymous request for a private object.
fn unchecked_authorization(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=test/20250101/{REGION}/{service}/aws4_request, \
         SignedHeaders=host, Signature=0"
    )
}

/// The request path of `key` in `bucket`.
fn object_path(bucket: &str, key: &str) -> String {
    format!("/{bucket}/{}", encode(key, true))
}

/// Percent-encodes `text` per RFC 3986: all but the unreserved characters, and '/' when
/// `keep_slash` (a key's slashes are path separators, a query value's are not).
fn encode(text: &str, keep_slash: bool) -> String {
    let mut encoded = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) || (keep_slash && byte == b'/') {
            encoded.push(byte as char);
        } else {
            encoded += &format!("%{byte:02X}");
        }
    }
    encoded
}

/// One HTTP/1.1 exchange with 127.0.0.1:`port`, read to the end of the response.
fn request(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\n\
         Connection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head += &format!("{name}: {value}\r\n");
    }
    head += "\r\n";
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw).ok_or_else(|| {
        let shown = String::from_utf8_lossy(&raw[..raw.len().min(500)]).into_owned();
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("bad response: {shown}"))
    })
}

/// Splits a whole response into status, headers and body, undoing chunked encoding.
fn parse_response(raw: &[u8]) -> Option<Response> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
        .collect();
    let mut response = Response { status, headers, body: raw[end + 4..].to_vec() };
    if response.header("Transfer-Encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        response.body = dechunk(&response.body)?;
    } else if let Some(length) = response.header("Content-Length") {
        response.body.truncate(length.parse().ok()?);
    }
    Some(response)
}

/// The payload of a chunked body (extensions and trailers ignored).
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut payload = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_field = std::str::from_utf8(&body[..line_end]).ok()?;
        let size = usize::from_str_radix(size_field.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(payload);
        }
        let chunk = body.get(line_end + 2..line_end + 2 + size)?;
        payload.extend_from_slice(chunk);
        body = body.get(line_end + 2 + size + 2..)?;
    }
}

/// The raw (still escaped) text of each `<tag>…</tag>` in `xml`, in order.
fn elements<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        rest = &rest[start + open.len()..];
        let Some(end) = rest.find(&close) else { break };
        found.push(&rest[..end]);
        rest = &rest[end + close.len()..];
    }
    found
}

/// XML character data decoded: the five named entities and numeric references.
fn unescape(text: &str) -> String {
    let mut decoded = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        decoded += &rest[..amp];
        let Some(semi) = rest[amp..].find(';') else { return decoded + &rest[amp..] };
        let entity = &rest[amp + 1..amp + semi];
        let named = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match named {
            Some(c) => decoded.push(c),
            None => decoded += &rest[amp..=amp + semi],
        }
        rest = &rest[amp + semi + 1..];
    }
    decoded + rest
}

/// The last 40 lines of the log at `path`.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| format!("(unreadable: {e})"));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
