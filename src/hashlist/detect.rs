//! STUB: list format detection (being written). Only the native format is recognised.

use std::path::Path;

use super::ListFormat;

/// The format of a list, judged from its name and content; `None` when it cannot be told.
pub(super) fn detect(_path: &Path, bytes: &[u8]) -> Option<ListFormat> {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let header = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?
        .trim_start_matches('\u{feff}')
        .to_ascii_lowercase();
    let columns: Vec<&str> = header.split(',').map(str::trim).collect();
    (columns.contains(&"algorithm") && columns.contains(&"hash")).then_some(ListFormat::Native)
}
