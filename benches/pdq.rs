//! PDQ on decoded pixels (`PdqFeatures::from_rgb`: luma, the two-pass blur, the DCT and the
//! median) on a 12-megapixel (4000x3000, a phone photo) and a 1-megapixel (1152x864) image,
//! single-threaded.
//!
//! Run with `cargo bench --bench pdq`; divan prints the fastest, median and mean time per
//! hash. Divide the megapixels by the median for megapixels per second.

use divan::Bencher;
use mediascreen::hash::pdq::PdqFeatures;

fn main() {
    divan::main();
}

/// (width, height): 12 MP and 1 MP.
const SIZES: [(usize, usize); 2] = [(4000, 3000), (1152, 864)];

/// A detailed, deterministic RGB test picture (gradients plus xorshift noise).
fn picture(width: usize, height: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut rgb = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let base = (x * 255 / width + y * 255 / height) / 2;
            for channel in 0..3 {
                let noise = (state >> (8 * channel)) as usize % 48;
                rgb.push(((base + noise + 40 * channel) % 256) as u8);
            }
        }
    }
    rgb
}

#[divan::bench(args = SIZES)]
fn from_rgb(bencher: Bencher, (width, height): (usize, usize)) {
    let rgb = picture(width, height);
    bencher.bench(|| PdqFeatures::from_rgb(width, height, divan::black_box(&rgb)).hash());
}
