//! Format detection, then whichever parser it picks, as for a list given without
//! `--list-format`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mediascreen::hashlist::{HashList, LoadOptions};

fuzz_target!(|data: &[u8]| {
    // No extension, so the content alone decides (`.hdb`/`.hsb` would short-cut detection).
    let _ = HashList::from_bytes("list".as_ref(), data, &LoadOptions::default());
});
