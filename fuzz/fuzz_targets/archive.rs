//! Archives as the scan opens them: typed by [`sniff`] and [`format`] (every format tried on
//! bytes that type as none), each member read to its end through a [`Meter`] of small limits.
//! Any panic is a finding: the readers must turn every damaged archive into an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mediascreen::archive::{format, open, ArchiveLimits, EntryKind, Flow, Format, Meter};
use mediascreen::sniff::sniff;

const FORMATS: [Format; 7] = [
    Format::Zip,
    Format::Tar,
    Format::SevenZ,
    Format::Gzip,
    Format::Bzip2,
    Format::Xz,
    Format::Zstd,
];

fuzz_target!(|data: &[u8]| {
    let limits = ArchiveLimits { max_expanded: 64 << 20, ..ArchiveLimits::default() };
    let formats = match format(sniff(data).media_type) {
        Some(format) => vec![format],
        None => FORMATS.to_vec(),
    };
    for format in formats {
        let meter = Meter::new(limits);
        let source = std::io::Cursor::new(data);
        let _ = open(format, source, "fuzz.bin", &meter, &mut |entry| match entry.kind {
            EntryKind::File { data } => match data.read_to_end(&mut Vec::new()) {
                Ok(_) => Flow::Next,
                Err(_) => match meter.take_tripped() {
                    Some(_) => Flow::Abandoned(mediascreen::error::Setting::ArchiveRatio),
                    None => Flow::Next,
                },
            },
            _ => Flow::Next,
        });
    }
});
