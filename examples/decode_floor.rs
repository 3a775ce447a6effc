//! The decoding floor of a corpus hash, for `scripts/bench.sh floor`: reads every file under a
//! folder and decodes every picture to RGB as `mediascreen hash` does (same `decode_rgb`, same
//! decoders, same malloc settings, one rayon thread per CPU), optionally with the three
//! digests, and nothing else.
//! Whatever `hash --algorithms pdq,md5,sha1,sha256` takes beyond this is PDQ and the pipeline.
//!
//! Usage: `decode_floor DIR [--digests] [--builtin-decoders]`; prints the pictures decoded.

use mediascreen::decode::{decode_rgb, DecodeLimits, Decoders};
use mediascreen::hash::digest::Digester;
use mediascreen::hash::Algorithm;
use rayon::prelude::*;

fn main() {
    // The binary's allocator settings, so that the floor decodes as `hash` does.
    mediascreen::allocator::tune_malloc();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(root) = args.first() else {
        eprintln!("usage: decode_floor DIR [--digests] [--builtin-decoders]");
        std::process::exit(2);
    };
    let digests = args.iter().any(|a| a == "--digests");
    let decoders = if args.iter().any(|a| a == "--builtin-decoders") {
        Decoders::BuiltinOnly
    } else {
        Decoders::detect()
    };
    let files: Vec<_> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .collect();
    let decoded: usize = files
        .par_iter()
        .map(|path| {
            let Ok(bytes) = std::fs::read(path) else { return 0 };
            if digests {
                let mut digester =
                    Digester::new([Algorithm::Md5, Algorithm::Sha1, Algorithm::Sha256]);
                digester.update(&bytes);
                std::hint::black_box(digester.finish());
            }
            let Ok(format) = image::guess_format(&bytes) else { return 0 };
            usize::from(decode_rgb(&bytes, format, DecodeLimits::default(), decoders).is_ok())
        })
        .sum();
    println!("{decoded} of {} files decoded", files.len());
}
