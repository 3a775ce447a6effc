//! The review page (`report html`, `scan --html`): markup from file names and list labels
//! stays text, the page's script and style are the ones its Content-Security-Policy names,
//! previews are references to still pictures at their own path and nothing else, and a
//! 100,000-file report makes a page of its own size. The tests that load the page in headless
//! Chromium are `#[ignore = "needs chromium and chromedriver"]`: a plain `cargo test` lists
//! them as ignored, `cargo test -- --include-ignored` (as `.ci/run` runs) fails them without
//! it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

mod run;
mod webdriver;
use run::{code, mediascreen, mediascreen_with, root, stderr, DEMO};
use webdriver::Browser;

/// A list label that would run script, and fetch from `http://127.0.0.1:PORT`, were it ever
/// taken as markup.
fn hostile_label(port: u16) -> String {
    format!(
        r#"</script><script>window.pwned=1</script><img src=x onerror="window.pwned=2"><img src="http://127.0.0.1:{port}/label.png">"#
    )
}

/// A file name that would run script were it taken as markup.
const HOSTILE_NAME: &str = r#"<img src=x onerror="window.pwned=3">.jpg"#;

/// A folder holding `tree/`, a copy of a listed photograph under [`HOSTILE_NAME`], and
/// `markup.csv`, a list whose one entry (that copy's SHA-256) has [`hostile_label`] and a
/// markup id.
fn hostile_tree(port: u16) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    let photo =
        std::fs::read(root().join("fixtures/screening/edited/bridge-mirrored.jpg")).unwrap();
    std::fs::write(tree.join(HOSTILE_NAME), &photo).unwrap();
    let mut list = csv::Writer::from_writer(Vec::new());
    list.write_record(["algorithm", "hash", "id", "label"]).unwrap();
    let sha256 = hex::encode(Sha256::digest(&photo));
    list.write_record(["sha256", &sha256, "<b>markup-id</b>", &hostile_label(port)]).unwrap();
    std::fs::write(dir.path().join("markup.csv"), list.into_inner().unwrap()).unwrap();
    dir
}

/// Scans `folder` and the hostile tree in `dir` against the demo list and `markup.csv`, with
/// `extra` flags, into `dir/report.json`; returns the report.
fn scan_hostile(dir: &Path, folder: &str, extra: &[&str]) -> Value {
    let report = dir.join("report.json");
    let tree = dir.join("tree");
    let markup = dir.join("markup.csv");
    let args = ["scan", folder, path_arg(&tree), "--list", DEMO, "--list", path_arg(&markup)];
    let output = mediascreen(&[&args[..], &["--report", path_arg(&report), "-q"], extra].concat());
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap()
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

/// Runs `mediascreen report html REPORT ARGS` from the project root; fails on an error.
fn report_html(report: &Path, args: &[&str]) {
    let output = mediascreen(&[&["report", "html", path_arg(report)], args].concat());
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

/// The page's JSON block, parsed: `{id, previews, report}`.
fn page_data(html: &str) -> Value {
    let open = r#"<script type="application/json" id="report-data">"#;
    let start = html.find(open).expect("the page has its JSON block") + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).expect("the JSON block parses")
}

/// The text of the only element `tag` that carries no attributes (the page's own script and
/// style).
fn inline(html: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = html.find(&open).expect("the element") + open.len();
    let end = start + html[start..].find(&format!("</{tag}>")).unwrap();
    html[start..end].to_string()
}

/// The page's Content-Security-Policy.
fn policy(html: &str) -> String {
    let head = r#"<meta http-equiv="Content-Security-Policy" content=""#;
    let start = html.find(head).expect("a CSP meta tag") + head.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

/// `'sha256-…'` of `text`, as a CSP names an inline script or style.
fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
}

#[test]
fn markup_in_names_and_labels_stays_text_and_the_policy_names_the_page_s_own_code() {
    let dir = hostile_tree(9);
    let page = dir.path().join("review.html");
    let written =
        scan_hostile(dir.path(), "fixtures/screening/exact", &["--html", path_arg(&page)]);
    let html = std::fs::read_to_string(&page).unwrap();
    // The page's two scripts (its JSON block and its code) and nothing from the data.
    assert_eq!(html.matches("<script").count(), 2);
    assert_eq!(html.matches("</script").count(), 2);
    assert!(!html.contains("<img") && !html.contains("<b>"), "markup leaked into the page");
    assert!(html.contains(r"\u003cscript\u003ewindow.pwned=1\u003c/script\u003e"));
    // The JSON block is the report the scan wrote, exactly.
    let data = page_data(&html);
    assert_eq!(data["report"], written);
    assert_eq!(data["previews"], Value::Null);
    let hostile = run::flagged(&written, path_arg(&dir.path().join("tree").join(HOSTILE_NAME)));
    assert_eq!(hostile.expect("the copy is flagged")["matches"][0]["label"], hostile_label(9));

    let csp = policy(&html);
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    for directive in [
        "default-src 'none'".to_string(),
        format!("script-src {}", csp_hash(&inline(&html, "script"))),
        format!("style-src {}", csp_hash(&inline(&html, "style"))),
        "img-src 'none'".to_string(),
        "connect-src 'none'".to_string(),
        "form-action 'none'".to_string(),
        "base-uri 'none'".to_string(),
        "require-trusted-types-for 'script'".to_string(),
    ] {
        assert!(directives.contains(&directive.as_str()), "{directive} not in {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
}

#[test]
fn previews_point_only_to_still_pictures_at_their_own_path() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    let photo = root().join("fixtures/screening/edited/bridge-half-size.jpg");
    for name in ["kept #1.jpg", "moved.jpg", "grown.jpg"] {
        std::fs::copy(&photo, tree.join(name)).unwrap();
    }
    std::fs::copy(
        root().join("fixtures/screening/exact/q0291.jpg"),
        tree.join("q0291 as text.txt"),
    )
    .unwrap();
    let report = dir.path().join("report.json");
    let output = mediascreen(&[
        "scan",
        path_arg(&tree),
        "fixtures/video/chair-clip.mp4",
        "fixtures/exports/WhatsApp Chat - Demo.zip",
        "fixtures/screening/edited/q1050-resized.png",
        "--list",
        DEMO,
        "--report",
        path_arg(&report),
        "-q",
    ]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    std::fs::remove_file(tree.join("moved.jpg")).unwrap();
    std::fs::write(tree.join("grown.jpg"), b"another picture now").unwrap();
    // A bucket object, as a bucket scan reports one.
    let mut edited: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let mut object = edited["flagged"][0].clone();
    object["path"] = "s3://uploads/incoming/a.jpg".into();
    object["etag"] = "\"9b2cf535f27731c974343645a3985328\"".into();
    edited["flagged"].as_array_mut().unwrap().push(object);
    std::fs::write(&report, serde_json::to_vec(&edited).unwrap()).unwrap();

    let pages = dir.path().join("pages");
    std::fs::create_dir(&pages).unwrap();
    let page = pages.join("review.html");
    report_html(&report, &["--previews", "-o", path_arg(&page)]);
    let html = std::fs::read_to_string(&page).unwrap();
    let data = page_data(&html);
    let flagged = edited["flagged"].as_array().unwrap();
    let previews = data["previews"].as_array().unwrap();
    assert_eq!(previews.len(), flagged.len());
    let preview = |ending: &str| -> &Value {
        let at = flagged.iter().position(|f| f["path"].as_str().unwrap().ends_with(ending));
        &previews[at.unwrap_or_else(|| panic!("{ending} is flagged"))]
    };
    let why = |ending: &str| preview(ending)["none"].as_str().unwrap_or_default().to_string();
    // Relative to the page's folder, encoded, whatever the name says the file is.
    assert_eq!(preview("kept #1.jpg"), &json!({"src": "../tree/kept%20%231.jpg"}));
    assert_eq!(preview("q0291 as text.txt"), &json!({"src": "../tree/q0291%20as%20text.txt"}));
    let fixture = preview("q1050-resized.png")["src"].as_str().unwrap().to_string();
    assert!(fixture.ends_with("/fixtures/screening/edited/q1050-resized.png"), "{fixture}");
    assert!(why("moved.jpg").starts_with("no longer at "), "{}", why("moved.jpg"));
    assert!(why("grown.jpg").contains("changed since the scan"), "{}", why("grown.jpg"));
    assert!(why("chair-clip.mp4").contains("a video"), "{}", why("chair-clip.mp4"));
    assert!(why("PHOTO-2024-01-05-14-03-21.jpg").contains("archive member"));
    assert!(why("s3://uploads/incoming/a.jpg").contains("bucket object"));
    assert!(policy(&html).split(';').any(|d| d.trim() == "img-src file:"));
    // The page holds no picture: no data URL, only references.
    assert!(!html.contains("data:image"), "the page embeds a picture");

    // On standard output the page's folder is unknown: absolute file:// URLs.
    let output = mediascreen(&["report", "html", path_arg(&report), "--previews"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let data = page_data(&run::stdout(&output));
    let kept = data["previews"].as_array().unwrap().iter().find_map(|p| p["src"].as_str());
    assert!(kept.is_some_and(|src| src.starts_with("file:///")), "{kept:?}");
}

#[test]
fn a_redacted_report_gets_no_preview_and_names_no_path() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let key = [("MEDIASCREEN_REDACT_KEY", "k")];
    let scan = |extra: &[&str]| {
        let args = ["scan", "fixtures/screening/exact", "--list", DEMO, "-q", "--redact-paths"];
        mediascreen_with(&[&args[..], extra].concat(), &key)
    };
    let output = scan(&["--report", path_arg(&report)]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let page = dir.path().join("review.html");
    let output =
        mediascreen(&["report", "html", path_arg(&report), "--previews", "-o", path_arg(&page)]);
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("redacted"), "{}", stderr(&output));
    assert!(!page.exists());
    report_html(&report, &["-o", path_arg(&page)]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("fixtures/") && html.contains("hmac-sha256:"));
    // scan refuses the two together before it reads a file.
    let output = scan(&["--html", path_arg(&page), "--previews"]);
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("--previews"), "{}", stderr(&output));
}

#[test]
fn what_is_not_a_report_or_would_replace_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let not_report = run::write(dir.path(), "list.json", br#"{"hashes": []}"#);
    let output = mediascreen(&["report", "html", path_arg(&not_report)]);
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("not a JSON scan report"), "{}", stderr(&output));
    let later = run::write(dir.path(), "later.json", br#"{"schema_version": 999, "summary": {}}"#);
    assert_eq!(code(&mediascreen(&["report", "html", path_arg(&later)])), 2);
    let output =
        mediascreen(&["report", "html", path_arg(&not_report), "-o", path_arg(&not_report)]);
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("refusing to overwrite"), "{}", stderr(&output));
    let output = mediascreen(&[
        "scan",
        "fixtures/screening/exact",
        "--list",
        DEMO,
        "--report",
        path_arg(&dir.path().join("r.json")),
        "--html",
        path_arg(&dir.path().join("r.json")),
    ]);
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("is the --report"), "{}", stderr(&output));
}

/// A report of `files` flagged files, each matching one of 40 listed entries, as a scan of a
/// large export would write it.
fn synthetic_report(files: usize) -> Value {
    let flagged: Vec<Value> = (0..files)
        .map(|i| {
            let entry = i % 40;
            let source = json!({"list": "lists/known.csv", "line": entry + 2,
                                "id": format!("case-{entry}"), "label": format!("category {}", entry % 4)});
            json!({
                "path": format!("export/chat {}/IMG-{i:06}.jpg", i / 1000),
                "size": 100_000 + i, "media_type": "image/jpeg",
                "sha256": format!("{i:064x}"),
                "matches": [{"algorithm": "pdq", "list": "lists/known.csv", "line": entry + 2,
                             "id": format!("case-{entry}"), "label": format!("category {}", entry % 4),
                             "hash": format!("{entry:064x}"), "distance": i % 32, "threshold": 31,
                             "quality": 90, "orientation": "orig", "suspicious": false,
                             "sources": [source]}],
            })
        })
        .collect();
    json!({
        "schema_version": 11, "tool": {"name": "mediascreen", "version": "0.1.0"},
        "started_at": "2026-11-25T16:02:11.201Z", "finished_at": "2026-11-25T16:12:11.201Z",
        "elapsed_ms": 600_000,
        "settings": {"paths": ["export/"], "algorithms": ["pdq", "sha256"],
                     "thresholds": {"pdq": 31}, "rotations": true, "pdq_min_quality": 50,
                     "follow_symlinks": false,
                     "decoders": {"jpeg": "built-in (zune-jpeg)", "webp": "built-in (image-webp)", "heif": null},
                     "flood": {"min_files": 50, "share": 0.05}},
        "lists": [{"path": "lists/known.csv", "sha256": "00", "format": "native",
                   "entries": {"pdq": 40}, "refused": 0, "removed": {}}],
        "allowlists": [], "complete": true,
        "summary": {"files": files, "clean": 0, "flagged": files, "errors": 0, "skipped": 0,
                    "over_budget": 0, "bytes": 0, "allowlisted_matches": 0, "not_scanned": 0},
        "flagged": flagged, "errors": [], "skipped": [], "low_quality": [], "allowlisted": [],
        "suspicious": [],
    })
}

/// `synthetic_report(files)` written to `dir`, and its page: (page, the report's size).
fn large_page(dir: &Path, files: usize) -> (PathBuf, u64) {
    let json = serde_json::to_vec(&synthetic_report(files)).unwrap();
    let report = run::write(dir, "large.json", &json);
    let page = dir.join("large.html");
    report_html(&report, &["-o", path_arg(&page)]);
    (page, json.len() as u64)
}

#[test]
fn a_100000_file_report_makes_a_page_of_about_its_own_size() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (page, report_size) = large_page(dir.path(), 100_000);
    let took = started.elapsed();
    let page_size = std::fs::metadata(&page).unwrap().len();
    // The report compact, plus the page's own code: nothing a file.
    assert!(page_size < report_size + 200_000, "{page_size} bytes for a {report_size}-byte report");
    assert!(took < Duration::from_secs(60), "{took:?}");
}

/// Opens `page` and waits for its script to have drawn it.
fn load(browser: &Browser, page: &Path, limit: Duration) {
    browser.open(&format!("file://{}", page.display()));
    browser.wait_for("return document.body.dataset.ready === 'true';", vec![], limit);
}

/// The number the page shows in the element `css` selects (`1,234`), as its script wrote it.
fn shown_count(browser: &Browser, css: &str) -> u64 {
    let text = browser.run(&format!("return document.querySelector('{css}').textContent;"), vec![]);
    let digits: String =
        text.as_str().unwrap_or_default().chars().filter(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("{css} shows no number: {text}"))
}

/// The console's messages that are errors (a CSP refusal among them).
fn console_errors(browser: &Browser) -> Vec<Value> {
    browser.console().into_iter().filter(|m| m["level"] == "SEVERE").collect()
}

#[test]
#[ignore = "needs chromium and chromedriver"]
fn the_fixtures_page_counts_filters_reveals_one_picture_and_fetches_nothing() {
    // Anything the page fetched from the network would knock here.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let dir = hostile_tree(listener.local_addr().unwrap().port());
    let markup_list = dir.path().join("markup.csv");
    let report = dir.path().join("report.json");
    let written = scan_hostile(dir.path(), "fixtures/", &[]);
    let page = dir.path().join("review.html");
    report_html(&report, &["--previews", "-o", path_arg(&page)]);

    let browser = Browser::start();
    load(&browser, &page, Duration::from_secs(60));
    // The counts are the report's, as the page's script wrote them.
    let summary = &written["summary"];
    for key in ["files", "flagged", "clean", "errors", "skipped"] {
        assert_eq!(shown_count(&browser, &format!("#count-{key}")), summary[key], "{key}");
    }
    let entries = |key: &str| written[key].as_array().map_or(0, Vec::len) as u64;
    let everything: u64 = ["flagged", "errors", "skipped", "low_quality", "allowlisted"]
        .into_iter()
        .map(entries)
        .sum();
    assert_eq!(shown_count(&browser, "#shown"), everything);

    // Filtered to the markup list: the files it matched (the copy, and the photograph's own
    // copies in the fixtures), the copy's label and name shown as text.
    let lists_of = |f: &Value| -> Vec<String> {
        let sources =
            f["matches"].as_array().unwrap().iter().flat_map(|m| m["sources"].as_array().unwrap());
        sources.map(|s| s["list"].as_str().unwrap().to_string()).collect()
    };
    let flagged = written["flagged"].as_array().unwrap();
    let on_list = flagged
        .iter()
        .filter(|f| lists_of(f).contains(&path_arg(&markup_list).to_string()))
        .count();
    assert!(on_list >= 1);
    browser
        .click(&browser.find(&format!("#filter-list option[value='{}']", path_arg(&markup_list))));
    assert_eq!(shown_count(&browser, "#shown"), on_list as u64);
    let items = browser.run("return document.querySelectorAll('li.item').length;", vec![]);
    assert_eq!(items, on_list);
    let hostile = "Array.from(document.querySelectorAll('li.item')).find(li => li.textContent.includes('pwned=3'))";
    let text = browser.run(&format!("return {hostile}.textContent;"), vec![]);
    let text = text.as_str().unwrap();
    assert!(text.contains(&hostile_label(listener.local_addr().unwrap().port())), "{text}");
    assert!(text.contains(HOSTILE_NAME) && text.contains("<b>markup-id</b>"), "{text}");
    let planted = browser.run(
        "return [typeof window.pwned, document.querySelectorAll('img[src=\"x\"], b, script').length];",
        vec![],
    );
    assert_eq!(planted, json!(["undefined", 2]), "markup from the report became elements");

    // Its picture, blurred, then shown on a click, the others staying blurred; a second one
    // shown blurs the first.
    let blurred = "return Array.from(document.querySelectorAll('button.preview img'), \
                   i => getComputedStyle(i).filter.includes('blur'));";
    let preview = browser.element(&format!("return {hostile}.querySelector('button.preview');"));
    let loaded =
        "const i = arguments[0].querySelector('img'); return i.complete && i.naturalWidth > 0;";
    browser.run("arguments[0].scrollIntoView();", vec![Browser::arg(&preview)]);
    browser.wait_for(loaded, vec![Browser::arg(&preview)], Duration::from_secs(10));
    assert_eq!(browser.run(blurred, vec![]), Value::Array(vec![true.into(); on_list]));
    browser.click(&preview);
    let states = browser.run(blurred, vec![]);
    assert_eq!(states.as_array().unwrap().iter().filter(|&b| b == false).count(), 1, "{states}");
    let revealed = "return getComputedStyle(arguments[0].querySelector('img')).filter;";
    assert_eq!(browser.run(revealed, vec![Browser::arg(&preview)]), "none");
    browser.click(&browser.find("#filter-reset"));
    let all = format!("return document.querySelector('#shown').dataset.count == {everything};");
    browser.wait_for(&all, vec![], Duration::from_secs(10));
    let states = browser.run(blurred, vec![]);
    let states = states.as_array().unwrap();
    assert!(states.len() > 2 && states.iter().all(|b| b == true), "{states:?}");
    browser.click(&browser.find_nth("button.preview", 0));
    browser.click(&browser.find_nth("button.preview", 1));
    let mut expected = vec![Value::Bool(true); states.len()];
    expected[1] = false.into();
    assert_eq!(browser.run(blurred, vec![]), Value::Array(expected), "one picture shown");

    // Keys: the next file, marked reviewed, is remembered by this browser alone.
    browser.press("jx");
    let marked = browser.run(
        "const key = Object.keys(localStorage).find(k => k.startsWith('mediascreen-reviewed-')); \
         return [JSON.parse(localStorage.getItem(key)).length, \
                 document.querySelector('li.item.selected').classList.contains('reviewed')];",
        vec![],
    );
    assert_eq!(marked, json!([1, true]));

    // Nothing but the previewed pictures was loaded, all from file:, and no error was logged
    // (a script or style the policy refused would be one).
    let loaded =
        browser.run("return performance.getEntriesByType('resource').map(e => e.name);", vec![]);
    assert!(
        loaded.as_array().unwrap().iter().all(|u| u.as_str().unwrap().starts_with("file:")),
        "{loaded}"
    );
    assert!(listener.accept().is_err(), "the page connected to the network");
    assert_eq!(console_errors(&browser), Vec::<Value>::new());
}

#[test]
#[ignore = "needs chromium and chromedriver"]
fn a_100000_file_page_renders_and_filters_in_moments() {
    let dir = tempfile::tempdir().unwrap();
    let (page, _) = large_page(dir.path(), 100_000);
    let browser = Browser::start();
    let started = Instant::now();
    load(&browser, &page, Duration::from_secs(120));
    let loaded = started.elapsed();
    assert_eq!(shown_count(&browser, "#count-flagged"), 100_000);
    assert_eq!(shown_count(&browser, "#shown"), 100_000);
    // A page at a time: the document holds 100 files, not 100,000.
    assert_eq!(browser.run("return document.querySelectorAll('li.item').length;", vec![]), 100);
    let filter = browser.find("#filter-distance");
    let took = browser.run(
        "const input = arguments[0]; const t = performance.now(); input.value = '3'; \
         input.dispatchEvent(new Event('input', {bubbles: true})); return performance.now() - t;",
        vec![Browser::arg(&filter)],
    );
    // Distances cycle through 0..31: four in 32 files are at most 3.
    assert_eq!(shown_count(&browser, "#shown"), 12_500);
    let took = took.as_f64().unwrap();
    eprintln!("100,000 files: drawn in {loaded:?}, filtered in {took:.0} ms");
    assert!(loaded < Duration::from_secs(60), "{loaded:?}");
    assert!(took < 3000.0, "{took} ms");
    assert_eq!(console_errors(&browser), Vec::<Value>::new());
}
