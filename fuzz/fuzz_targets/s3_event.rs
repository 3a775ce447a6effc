//! The S3 event notification reader behind `scan --s3-event`, through [`parse_events`].
#![no_main]

use libfuzzer_sys::fuzz_target;
use mediascreen::bucket::event::parse_events;

fuzz_target!(|data: &[u8]| {
    // Ok or an error are both fine; a panic, hang or runaway allocation is not.
    let _ = parse_events(data);
});
