//! A headless Chromium driven over the W3C WebDriver protocol, for the tests that check what a
//! person's browser does with a page: Debian's `chromium` and `chromium-driver` (the
//! `chromedriver` command), started on a free local port with a profile of their own, spoken
//! to in JSON over plain HTTP on 127.0.0.1. Without them, [`Browser::start`] fails the test,
//! naming the packages: the tests that use it are `#[ignore = "needs chromium and
//! chromedriver"]`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const NEEDS: &str = "needs chromium and chromedriver (apt-get install chromium chromium-driver, \
                     as .ci/run does; or set CHROMIUM and CHROMEDRIVER to their paths)";

/// The W3C name of an element reference in JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A browser session; the browser and its driver end when it is dropped.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
}

/// An element of the page, as the driver refers to it.
pub struct Element(Value);

impl Browser {
    /// Starts chromedriver and a headless Chromium session with a fresh profile.
    pub fn start() -> Browser {
        let chromium = program("CHROMIUM", &["chromium", "chromium-browser"]);
        let chromedriver = program("CHROMEDRIVER", &["chromedriver"]);
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("chromedriver does not start ({e}); {NEEDS}"));
        let profile = tempfile::tempdir().unwrap();
        let mut browser = Browser { driver, port, session: String::new(), _profile: profile };
        let started = Instant::now();
        while !browser.request("GET", "/status", None).is_ok_and(|s| s["ready"] == true) {
            assert!(started.elapsed() < Duration::from_secs(30), "chromedriver is not ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        let options = json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900",
                     format!("--user-data-dir={}", browser._profile.path().display())],
        });
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let session = browser.call("POST", "/session", Some(capabilities));
        browser.session = session["sessionId"].as_str().expect("a session id").to_string();
        browser
    }

    /// Opens `url` and waits for its load to end.
    pub fn open(&self, url: &str) {
        self.session_call("POST", "/url", json!({ "url": url }));
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page and returns
    /// what it returns.
    pub fn run(&self, script: &str, args: Vec<Value>) -> Value {
        self.session_call("POST", "/execute/sync", json!({ "script": script, "args": args }))
    }

    /// Waits at most `limit` for `script` (given `args`) to return something truthy, and
    /// returns it.
    pub fn wait_for(&self, script: &str, args: Vec<Value>, limit: Duration) -> Value {
        let started = Instant::now();
        loop {
            let value = self.run(script, args.clone());
            if !matches!(value, Value::Null | Value::Bool(false)) {
                return value;
            }
            assert!(started.elapsed() < limit, "waited {limit:?} for: {script}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The first element `css` selects.
    pub fn find(&self, css: &str) -> Element {
        let body = json!({ "using": "css selector", "value": css });
        Element(self.session_call("POST", "/element", body))
    }

    /// The `n`th element (from 0) that `css` selects.
    pub fn find_nth(&self, css: &str, n: usize) -> Element {
        let body = json!({ "using": "css selector", "value": css });
        let found = self.session_call("POST", "/elements", body);
        Element(found.get(n).unwrap_or_else(|| panic!("no element {n} of {css}")).clone())
    }

    /// The element `script` returns.
    pub fn element(&self, script: &str) -> Element {
        Element(self.run(script, vec![]))
    }

    /// Clicks `element` as a person would (scrolled into view, at its centre).
    pub fn click(&self, element: &Element) {
        let id =
            element.0[ELEMENT].as_str().unwrap_or_else(|| panic!("not an element: {}", element.0));
        self.session_call("POST", &format!("/element/{id}/click"), json!({}));
    }

    /// Presses and releases each key of `keys` in turn, on whatever has the focus.
    pub fn press(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|key| {
                let key = key.to_string();
                [json!({"type": "keyDown", "value": key}), json!({"type": "keyUp", "value": key})]
            })
            .collect();
        let body = json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]});
        self.session_call("POST", "/actions", body);
    }

    /// `element` as a script argument.
    pub fn arg(element: &Element) -> Value {
        element.0.clone()
    }

    /// The browser's console messages since the last call: `{level, message, …}` each.
    pub fn console(&self) -> Vec<Value> {
        let log = self.session_call("POST", "/se/log", json!({ "type": "browser" }));
        log.as_array().cloned().unwrap_or_default()
    }

    fn session_call(&self, method: &str, path: &str, body: Value) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), Some(body))
    }

    /// A command's `value`; fails the test on an error answer.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        match self.request(method, path, body) {
            Ok(value) => value,
            Err(e) => panic!("WebDriver {method} {path}: {e}"),
        }
    }

    /// One HTTP request to the driver; the answer's `value`, or its error.
    fn request(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        );
        stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
        // chromedriver keeps the connection open whatever the request says: the answer ends
        // where its length says, not at the end of the stream.
        let mut answer = Vec::new();
        let mut buffer = [0; 65536];
        let (head, content) = loop {
            let read = stream.read(&mut buffer).map_err(|e| e.to_string())?;
            if read == 0 {
                return Err("the connection closed before the answer ended".into());
            }
            answer.extend_from_slice(&buffer[..read]);
            let Some(split) = answer.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
            let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
            let content = &answer[split + 4..];
            let length = head.lines().find_map(|l| l.strip_prefix("content-length:"));
            let done = match length.and_then(|n| n.trim().parse::<usize>().ok()) {
                Some(length) => content.len() >= length,
                None => content.ends_with(b"0\r\n\r\n"),
            };
            if done {
                let content = match length {
                    Some(_) => content.to_vec(),
                    None => unchunk(content),
                };
                break (head, content);
            }
        };
        let status = head.split(' ').nth(1).unwrap_or_default().to_string();
        let value: Value = serde_json::from_slice(&content).map_err(|e| format!("{e}"))?;
        match status.as_str() {
            "200" => Ok(value["value"].clone()),
            _ => Err(format!("HTTP {status}: {}", value["value"])),
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.request("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A chunked HTTP body put back together.
fn unchunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..end]).ok();
        let size = size.and_then(|s| usize::from_str_radix(s.trim(), 16).ok()).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&body[end + 2..end + 2 + size]);
        body = &body[end + 2 + size + 2..];
    }
    out
}

/// The program `variable` names, else the first of `names` on `PATH`.
fn program(variable: &str, names: &[&str]) -> PathBuf {
    if let Some(path) = std::env::var_os(variable) {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|folder| names.iter().map(move |name| folder.join(name)))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{} not found on PATH; {NEEDS}", names[0]))
}
