//! `mediascreen report html`: a report made into one static page for a person to review, and
//! the rules that keep that page from making the content easier to stumble on.
//!
//! Owns the page's safety. The report goes in whole, as JSON in an inert
//! `<script type="application/json">` block, with every `<`, `>` and `&` (and the two line
//! separators JavaScript once choked on) written as `\u` escapes, so that no label or file
//! name can end the block or start markup; the page's own script (`html/page.js`) shows every
//! value as text, never as markup. The script and style are inline, and a
//! Content-Security-Policy names each by its SHA-256 and allows nothing else: no other script,
//! no network, no form, no base URL, no markup assigned as a string (Trusted Types), and images
//! only from `file:` and only when previews were asked for.
//!
//! Owns too which flagged files get a preview: a still picture in a format browsers show,
//! at its own path on this machine, still a regular file of the size the report gives. Not a
//! video (its matched time ranges say where to look), an archive member or a bucket object (no
//! file of its own to point to), nor anything of a report whose paths are redacted. A preview
//! is a reference to the file where it lies, relative to the page's folder (or a `file://`
//! URL): the page never holds the pixels.
//!
//! Must not read any scanned file's content (only its metadata, to check that the path still
//! holds it), must not write anything (the binary writes the page), and must not change the
//! report it is given.

use std::path::{Component, Path, PathBuf};
use std::sync::LazyLock;

use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::schema::SCHEMA_VERSION;
use crate::error::Reason;
use crate::Error;

const TEMPLATE: &str = include_str!("html/page.html");
const STYLE: &str = include_str!("html/page.css");
const SCRIPT: &str = include_str!("html/page.js");

/// The picture formats a browser shows by itself, by the media type a report gives them.
const SHOWN_BY_BROWSERS: [&str; 8] = [
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/bmp",
    "image/avif",
    "image/vnd.microsoft.icon",
    "image/x-icon",
];

/// Where previews point from, when a page is to show them.
#[derive(Clone, Debug)]
pub struct Previews {
    /// The folder the report's relative paths start from: the one the scan ran in.
    pub scanned_from: PathBuf,
    /// The folder the page is saved in, which references are made relative to (the page and
    /// the files then move together); `None` for absolute `file://` URLs (a page written to
    /// standard output, whose folder is not known).
    pub page_folder: Option<PathBuf>,
}

/// The review page of `report` (a JSON report of schema version [`SCHEMA_VERSION`] or
/// earlier), with a preview reference for each flagged still picture when `previews` is given.
/// [`Error::ReviewPage`] when `report` is no report, or previews are asked of one whose paths
/// are redacted.
pub fn review_page(report: &Value, previews: Option<&Previews>) -> Result<String, Error> {
    check(report, previews.is_some()).map_err(Error::ReviewPage)?;
    let previews = match previews {
        Some(previews) => {
            let flagged = report["flagged"].as_array().map(Vec::as_slice).unwrap_or_default();
            let page_folder = match &previews.page_folder {
                Some(folder) => Some(std::fs::canonicalize(folder).map_err(|e| {
                    Error::ReviewPage(format!("the page's folder {}: {e}", folder.display()).into())
                })?),
                None => None,
            };
            let refs = flagged.iter().map(|file| preview(file, previews, page_folder.as_deref()));
            Value::Array(refs.collect())
        }
        None => Value::Null,
    };
    let report_json = serde_json::to_string(report).expect("a JSON value serialises");
    let id = hex::encode(&Sha256::digest(report_json.as_bytes())[..8]);
    let data = format!(r#"{{"id":"{id}","previews":{previews},"report":{report_json}}}"#);
    Ok(fill(
        TEMPLATE,
        &[
            ("csp", &policy(!previews.is_null())),
            ("style", STYLE),
            ("data", &inert(&data)),
            ("script", SCRIPT),
        ],
    ))
}

/// Refuses what is not a report this page can show, and previews of a redacted one.
fn check(report: &Value, previews: bool) -> Result<(), Reason> {
    let version = report.get("schema_version").and_then(Value::as_u64);
    if version.is_none_or(|v| v > u64::from(SCHEMA_VERSION)) || !report["summary"].is_object() {
        return Err(format!(
            "not a JSON scan report of schema version {SCHEMA_VERSION} or earlier (written by \
             a later mediascreen, or not a report)"
        )
        .into());
    }
    if previews && !report["settings"]["path_redaction"].is_null() {
        return Err(Reason::new(
            "the report's paths are redacted (settings.path_redaction), so there is no file to \
             show a preview of: previews are never made of a redacted report",
        ));
    }
    Ok(())
}

/// The Content-Security-Policy of the page: its own script and style, named by their hashes,
/// and nothing else; with previews, pictures from `file:` too.
fn policy(previews: bool) -> String {
    static HASHES: LazyLock<(String, String)> =
        LazyLock::new(|| (source_hash(SCRIPT), source_hash(STYLE)));
    let (script, style) = &*HASHES;
    let images = if previews { "file:" } else { "'none'" };
    format!(
        "default-src 'none'; script-src '{script}'; style-src '{style}'; img-src {images}; \
         connect-src 'none'; form-action 'none'; base-uri 'none'; \
         require-trusted-types-for 'script'; trusted-types 'none'"
    )
}

/// How a Content-Security-Policy names an inline script or style: `sha256-` and the base64 of
/// the SHA-256 of its text, exactly as it stands between its tags.
pub fn source_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(digest))
}

/// `json` safe to stand between `<script type="application/json">` and `</script>`: `<`, `>`
/// and `&` can only occur inside its strings, where `\u003c` means the same to a JSON parser
/// but nothing to an HTML one. U+2028 and U+2029 are escaped too, as older JavaScript took
/// them for line ends.
fn inert(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 64);
    for c in json.chars() {
        match c {
            '<' => out.push_str(r"\u003c"),
            '>' => out.push_str(r"\u003e"),
            '&' => out.push_str(r"\u0026"),
            '\u{2028}' => out.push_str(r"\u2028"),
            '\u{2029}' => out.push_str(r"\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// `template` with each `{{name}}` replaced by its value, in one pass: a value is never
/// searched for names itself (a label reading `{{script}}` stays text).
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let size = template.len() + values.iter().map(|(_, v)| v.len()).sum::<usize>();
    let mut out = String::with_capacity(size);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..].find("}}").expect("the template closes every {{") + start;
        let name = &rest[start + 2..end];
        let (_, value) = values.iter().find(|(n, _)| *n == name).expect("a known placeholder");
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The preview of one flagged file: `{"src": REFERENCE}`, or `{"none": WHY}`.
fn preview(file: &Value, previews: &Previews, page_folder: Option<&Path>) -> Value {
    match reference(file, previews, page_folder) {
        Ok(src) => json!({ "src": src }),
        Err(why) => json!({ "none": why }),
    }
}

fn reference(
    file: &Value,
    previews: &Previews,
    page_folder: Option<&Path>,
) -> Result<String, String> {
    let text = file["path"].as_str().unwrap_or_default();
    let media_type = file["media_type"].as_str().unwrap_or_default();
    if file.get("chain").is_some() {
        return Err("an archive member: there is no file of its own to show".into());
    }
    if is_url(text) {
        return Err("a bucket object: there is no local file to show".into());
    }
    if media_type.starts_with("video/") {
        return Err("a video: its matched time ranges say where to look".into());
    }
    if !SHOWN_BY_BROWSERS.contains(&media_type) {
        return Err(format!("browsers do not show {media_type}"));
    }
    let path = exact_path(file);
    let path = previews.scanned_from.join(path);
    let gone = || format!("no longer at {}", path.display());
    let metadata = std::fs::metadata(&path).map_err(|_| gone())?;
    if !metadata.is_file() {
        return Err(gone());
    }
    if file["size"].as_u64() != Some(metadata.len()) {
        return Err("changed since the scan (its size differs)".into());
    }
    let path = std::fs::canonicalize(&path).map_err(|_| gone())?;
    Ok(match page_folder {
        Some(folder) => relative_url(folder, &path),
        None => format!("file://{}", url_path(path.components())),
    })
}

/// Whether a report path is a bucket object's URL (`s3://…`, `https://…`).
fn is_url(path: &str) -> bool {
    path.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || c == '+')
    })
}

/// A flagged file's exact path: its `path_bytes` when its name is not UTF-8.
fn exact_path(file: &Value) -> PathBuf {
    let bytes = file["path_bytes"].as_str().and_then(|h| hex::decode(h).ok());
    match bytes {
        #[cfg(unix)]
        Some(bytes) => {
            use std::os::unix::ffi::OsStringExt;
            PathBuf::from(std::ffi::OsString::from_vec(bytes))
        }
        _ => PathBuf::from(file["path"].as_str().unwrap_or_default()),
    }
}

/// A relative URL from `folder` to `file`, both canonical.
fn relative_url(folder: &Path, file: &Path) -> String {
    let (mut from, mut to) = (folder.components().peekable(), file.components().peekable());
    while from.peek().is_some() && from.peek() == to.peek() {
        from.next();
        to.next();
    }
    let up = from.map(|_| "..".to_string());
    let down = url_path(to);
    // `./` keeps a first name holding a colon from reading as a scheme, even once decoded.
    let mut parts: Vec<String> = up.collect();
    if parts.is_empty() {
        parts.push(".".to_string());
    }
    parts.push(down.trim_start_matches('/').to_string());
    parts.join("/")
}

/// Path components as a URL path: each name percent-encoded but for the characters that
/// never need it, joined by `/`.
fn url_path<'a>(components: impl Iterator<Item = Component<'a>>) -> String {
    let mut out = String::new();
    for component in components {
        match component {
            Component::Prefix(prefix) => {
                out.push('/');
                out.push_str(&prefix.as_os_str().to_string_lossy());
            }
            Component::RootDir => {}
            Component::CurDir => out.push_str("/."),
            Component::ParentDir => out.push_str("/.."),
            Component::Normal(name) => {
                out.push('/');
                for &byte in name.as_encoded_bytes() {
                    if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                        out.push(char::from(byte));
                    } else {
                        out.push_str(&format!("%{byte:02X}"));
                    }
                }
            }
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_block_can_hold_no_markup_and_still_reads_the_same() {
        let label = "</script><script>alert(1)</script> & \u{2028}";
        let json = serde_json::to_string(&json!({ "label": label })).unwrap();
        let inert = inert(&json);
        assert!(!inert.contains(['<', '>', '&', '\u{2028}']), "{inert}");
        let back: Value = serde_json::from_str(&inert).unwrap();
        assert_eq!(back["label"], label);
    }

    #[test]
    fn placeholders_are_filled_once_and_values_are_not_searched() {
        let filled = fill("a{{x}}b{{y}}c", &[("x", "{{y}}"), ("y", "Y")]);
        assert_eq!(filled, "a{{y}}bYc");
    }

    #[test]
    fn the_page_template_and_assets_fit_together() {
        // The script and style must not end their own element, and the page must name each
        // placeholder the module fills.
        assert!(!SCRIPT.to_ascii_lowercase().contains("</script"));
        assert!(!STYLE.to_ascii_lowercase().contains("</style"));
        for name in ["csp", "style", "data", "script"] {
            assert_eq!(TEMPLATE.matches(&format!("{{{{{name}}}}}")).count(), 1, "{name}");
        }
    }

    #[test]
    fn references_are_relative_to_the_page_and_encoded() {
        let url = relative_url(Path::new("/data/review"), Path::new("/data/photos/a b#1.jpg"));
        assert_eq!(url, "../photos/a%20b%231.jpg");
        let url = relative_url(Path::new("/data"), Path::new("/data/http:x.jpg"));
        assert_eq!(url, "./http%3Ax.jpg");
        assert_eq!(url_path(Path::new("/a/é.jpg").components()), "/a/%C3%A9.jpg");
    }

    #[test]
    fn bucket_urls_are_told_from_paths() {
        assert!(is_url("s3://uploads/a.jpg"));
        assert!(is_url("https://example.com/a.jpg"));
        assert!(!is_url("fixtures/a.jpg"));
        assert!(!is_url("weird name://x.jpg"));
    }
}
