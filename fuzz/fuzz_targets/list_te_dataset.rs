//! The te-dataset list parser, through [`HashList::from_bytes`] as a loaded list goes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mediascreen::hashlist::{HashList, ListFormat, LoadOptions};

fuzz_target!(|data: &[u8]| {
    let options = LoadOptions { format: Some(ListFormat::TeDataset), ..LoadOptions::default() };
    // Ok or a located error are both fine; a panic, hang or runaway allocation is not.
    let _ = HashList::from_bytes("dataset.csv".as_ref(), data, &options);
});
