//! STUB: parser for the `ncmec` list format (being written).

use crate::error::Result;

use super::{Item, ParseContext};

/// Parses a whole list in this format.
pub(super) fn parse(
    cx: &ParseContext<'_>,
    _bytes: &[u8],
    _out: &mut dyn FnMut(Item),
) -> Result<()> {
    Err(cx.error(0, "this list format is not supported yet"))
}
