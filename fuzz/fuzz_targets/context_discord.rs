//! The chat index parser of DiscordChatExporter's JSON, through [`context::parse`] as `Contexts::add` reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mediascreen::context::{self, IndexKind};

fuzz_target!(|data: &[u8]| {
    // Ok or a warning are both fine; a panic, hang or runaway allocation is not.
    let _ = context::parse(IndexKind::Discord, data);
});
