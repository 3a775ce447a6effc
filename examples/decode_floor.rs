//! The decoding floor of a corpus hash, for `scripts/bench.sh floor`: reads every file under a
//! folder and decodes every picture to RGB as `mediascreen hash` does (same `decode_rgb`, same
//! decoders, same malloc settings, one rayon thread per CPU), optionally with the three
//! digests, and nothing else.
//! Whatever `hash --algorithms pdq,md5,sha1,sha256` takes beyond this is PDQ and the pipeline.
//!
//! With `--pdq`, each decoded picture is also hashed with PDQ right after its decode, as a scan
//! hashes it, and the CPU time of the threads spent in PDQ alone is printed: PDQ's own cost on
//! a corpus, with far less noise than the difference of two whole runs.
//!
//! Usage: `decode_floor DIR [--digests] [--builtin-decoders] [--pdq]`; prints the pictures
//! decoded.

use mediascreen::decode::{decode_rgb, DecodeLimits, Decoders};
use mediascreen::hash::digest::Digester;
use mediascreen::hash::pdq::PdqFeatures;
use mediascreen::hash::Algorithm;
use rayon::prelude::*;

fn main() {
    // The binary's allocator settings, so that the floor decodes as `hash` does.
    mediascreen::allocator::tune_malloc();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(root) = args.first() else {
        eprintln!("usage: decode_floor DIR [--digests] [--builtin-decoders] [--pdq]");
        std::process::exit(2);
    };
    let digests = args.iter().any(|a| a == "--digests");
    let pdq = args.iter().any(|a| a == "--pdq");
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
    let (decoded, pdq_seconds) = files
        .par_iter()
        .map(|path| {
            let Ok(bytes) = std::fs::read(path) else { return (0, 0.0) };
            if digests {
                let mut digester =
                    Digester::new([Algorithm::Md5, Algorithm::Sha1, Algorithm::Sha256]);
                digester.update(&bytes);
                std::hint::black_box(digester.finish());
            }
            let Ok(format) = image::guess_format(&bytes) else { return (0, 0.0) };
            let Ok(picture) = decode_rgb(&bytes, format, DecodeLimits::default(), decoders) else {
                return (0, 0.0);
            };
            if !pdq {
                return (1, 0.0);
            }
            let started = thread_cpu_seconds();
            std::hint::black_box(PdqFeatures::from_image(&picture));
            (1, thread_cpu_seconds() - started)
        })
        .reduce(|| (0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    println!("{decoded} of {} files decoded", files.len());
    if pdq {
        println!("PDQ: {pdq_seconds:.3} CPU s");
    }
}

/// The CPU time of the calling thread, in seconds.
#[cfg(unix)]
fn thread_cpu_seconds() -> f64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a timespec the call may write.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    now.tv_sec as f64 + now.tv_nsec as f64 * 1e-9
}

#[cfg(not(unix))]
fn thread_cpu_seconds() -> f64 {
    eprintln!("decode_floor: --pdq needs a Unix thread clock");
    std::process::exit(2);
}
