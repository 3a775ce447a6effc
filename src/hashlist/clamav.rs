//! STUB: ClamAV `.hdb` / `.hsb` parsers (being written).

use crate::error::Result;

use super::{Item, ParseContext};

/// Parses a `.hdb` list (`md5:size:name`).
pub(super) fn parse_hdb(
    cx: &ParseContext<'_>,
    _bytes: &[u8],
    _out: &mut dyn FnMut(Item),
) -> Result<()> {
    Err(cx.error(0, "this list format is not supported yet"))
}

/// Parses a `.hsb` list (`sha1|sha256:size:name`).
pub(super) fn parse_hsb(
    cx: &ParseContext<'_>,
    _bytes: &[u8],
    _out: &mut dyn FnMut(Item),
) -> Result<()> {
    Err(cx.error(0, "this list format is not supported yet"))
}
