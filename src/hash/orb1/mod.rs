//! `orb1`: a keypoint signature that follows an image through crops, which no global hash
//! (PDQ, pHash) can, and `orb2`, the same with fewer keypoints for lists ([`Format`]).
//!
//! Owns turning decoded pixels into a [`Signature`] — up to 500 keypoints (384 for `orb2`),
//! each a position and a 256-bit BRIEF descriptor — its byte and text form ([`codec`]), and
//! comparing two signatures geometrically ([`verify`]). Every parameter below is pinned by the
//! version: a signature made with other values is a different algorithm and must get another
//! name.
//!
//! The recipe (ORB's, without its orientation steering; see [`Features`] for why):
//! 1. grey (BT.601), averaged over whole blocks of pixels down to under two frames, then
//!    scaled to [`FRAME`] pixels on the long side;
//! 2. a pyramid of [`LEVELS`] levels, each [`SCALE_STEP`] times smaller;
//! 3. FAST-9 corners (`fast`) at threshold 20, or 8, or 3 when a higher one finds fewer than
//!    the budget ([`Format::max_keypoints`]) in the whole pyramid (a motion-blurred photo has
//!    none at 20);
//! 4. each level's share of the budget (ORB's geometric split) spread over a
//!    [`GRID`]×[`GRID`] grid, strongest corners first, so that a crop keeps some;
//! 5. a 256-bit BRIEF descriptor per keypoint: the `pattern` pairs of points compared after
//!    5×5 box smoothing.
//!
//! Must not read files, decode images or know about lists: callers hand over RGB pixels, and
//! matching policy beyond one pair of signatures belongs to [`crate::matcher`].

pub mod codec;
mod fast;
mod pattern;
mod resample;
pub mod verify;

pub use codec::SignatureError;

use image::{GrayImage, RgbImage};

use self::fast::Corner;
use self::pattern::{PAIRS, REACH};

/// The two signatures this module makes: one recipe, two keypoint budgets.
///
/// A scanned picture is always described as `orb1` (its [`Features`]); `orb2` is for lists,
/// whose memory is mostly their signatures' descriptors. An `orb2` signature is the same
/// recipe with a budget of [`ORB2_KEYPOINTS`] (each level's share of it, spread over the grid
/// as `orb1` spreads its 500), and a listed one is compared with the scanned picture's `orb1`
/// signatures: the 500 keypoints of a crop find as many of the 384 listed ones as they can,
/// and on the benchmark corpus every crop that `orb1` finds is found (docs/crop-matching.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Up to [`MAX_KEYPOINTS`] keypoints, version 1.
    Orb1,
    /// Up to [`ORB2_KEYPOINTS`] keypoints, version 2.
    Orb2,
}

impl Format {
    /// The version byte its signatures start with.
    pub fn version(self) -> u8 {
        match self {
            Format::Orb1 => 1,
            Format::Orb2 => 2,
        }
    }

    /// The format whose version byte is `version`.
    pub fn from_version(version: u8) -> Option<Format> {
        [Format::Orb1, Format::Orb2].into_iter().find(|f| f.version() == version)
    }

    /// At most this many keypoints.
    pub fn max_keypoints(self) -> usize {
        match self {
            Format::Orb1 => MAX_KEYPOINTS,
            Format::Orb2 => ORB2_KEYPOINTS,
        }
    }

    /// Its name in lists and reports.
    pub fn name(self) -> &'static str {
        match self {
            Format::Orb1 => "orb1",
            Format::Orb2 => "orb2",
        }
    }
}

/// Long side, in pixels, of the frame every image is scaled to before anything else: keypoint
/// positions are in this frame's pixels.
pub const FRAME: u32 = 800;

/// Pyramid levels.
pub const LEVELS: usize = 8;

/// Each pyramid level is this many times smaller than the one before.
pub const SCALE_STEP: f64 = 1.2;

/// At most this many keypoints per image in an `orb1` signature.
pub const MAX_KEYPOINTS: usize = 500;

/// At most this many in an `orb2` signature: about two thirds of the memory a listed orb1
/// signature holds, with the corpus's crops all still found (see [`Format`]).
pub const ORB2_KEYPOINTS: usize = 384;

/// Keypoints are spread over this many columns and rows of each level.
pub const GRID: u32 = 4;

/// FAST thresholds, tried in turn until the pyramid has [`MAX_KEYPOINTS`] corners.
pub const FAST_THRESHOLDS: [u8; 3] = [20, 8, 3];

/// Keypoints closer than this to a level's edge are not used: the farthest sampled point
/// ([`REACH`]) plus its smoothing box (2) plus one.
const MARGIN: u32 = REACH as u32 + 3;

/// Side of the smoothing box around each sampled point, and its half.
const BOX_HALF: i32 = 2;

/// A 256-bit BRIEF descriptor, bit `i` in word `i / 64`.
pub type Descriptor = [u64; 4];

/// Where a keypoint is: quarter pixels of the [`FRAME`]-scaled image, and the pyramid level
/// it was found on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keypoint {
    /// Column, in quarter pixels.
    pub x: u16,
    /// Row, in quarter pixels.
    pub y: u16,
    /// Pyramid level (0 = the frame itself).
    pub level: u8,
}

impl Keypoint {
    /// The position in frame pixels.
    pub fn position(&self) -> [f64; 2] {
        [f64::from(self.x) / 4.0, f64::from(self.y) / 4.0]
    }
}

/// An image's keypoints and their descriptors, `descriptors[i]` describing `keypoints[i]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// Which signature it is: how many keypoints it may have, and its version byte.
    pub format: Format,
    /// Width of the frame the positions are in.
    pub width: u16,
    /// Height of that frame.
    pub height: u16,
    /// The keypoints.
    pub keypoints: Vec<Keypoint>,
    /// Their descriptors.
    pub descriptors: Vec<Descriptor>,
}

impl Signature {
    /// Number of keypoints: the `quality` that `mediascreen hash` writes.
    pub fn len(&self) -> usize {
        self.keypoints.len()
    }

    /// Returns true if and only if there are no keypoints.
    pub fn is_empty(&self) -> bool {
        self.keypoints.is_empty()
    }
}

/// What a scanned image is compared by: its signature, and the signature of its mirror image
/// (left-right), from the same keypoints described with the mirrored pattern.
///
/// Not steered by keypoint orientation, unlike ORB. Steering is for rotated copies, which the
/// match rule refuses beyond 20° anyway (quarter turns are PDQ's to catch, through its
/// dihedral variants), and it makes every descriptor depend on an angle estimated from a noisy
/// patch. Unsteered, the benchmark corpus's crops (upright, as re-shared crops are) already
/// match at 99.7 % with no false match (docs/crop-matching.md), so there was nothing for steering to win;
/// it was not built, and a copy rotated by more than a few degrees does not match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Features {
    /// The image as given.
    pub signature: Signature,
    /// Its mirror image.
    pub mirrored: Signature,
}

impl Features {
    /// Computes both `orb1` signatures of `rgb`.
    pub fn from_image(rgb: &RgbImage) -> Features {
        let (signature, mirrored) = signatures(rgb, Format::Orb1, true);
        Features { signature, mirrored: mirrored.expect("asked for") }
    }
}

impl Signature {
    /// The `orb2` signature of `rgb`, for a list (there is no mirrored one: the scanned
    /// picture's `orb1` [`Features`] carry both orientations).
    pub fn orb2(rgb: &RgbImage) -> Signature {
        signatures(rgb, Format::Orb2, false).0
    }
}

/// The signature of `rgb` in `format`, and its mirror image's if `mirror`.
fn signatures(rgb: &RgbImage, format: Format, mirror: bool) -> (Signature, Option<Signature>) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { signatures_avx2(rgb, format, mirror) };
    }
    signatures_inlined(rgb, format, mirror)
}

/// [`signatures`] compiled with AVX2, which the x86-64 baseline that release builds target
/// lacks: the grey reduction, the resizes and the FAST screen are loops over whole rows that
/// the compiler vectorises, twice as wide with it. Every step below is integer arithmetic or
/// the same `f32` operations in the same order (Rust never fuses a multiply and an add), so
/// both builds give the same signature, bit for bit.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn signatures_avx2(rgb: &RgbImage, format: Format, mirror: bool) -> (Signature, Option<Signature>) {
    signatures_inlined(rgb, format, mirror)
}

// Every step [`signatures`] runs over pixels is `#[inline(always)]`, so that each of its
// builds gets its own copy compiled for its instruction set: a function left out of line
// would be compiled once, for the baseline.

/// [`signatures`], inlined into each build of it.
#[inline(always)]
fn signatures_inlined(
    rgb: &RgbImage,
    format: Format,
    mirror: bool,
) -> (Signature, Option<Signature>) {
    let grey = grey(rgb);
    let frame = scale_to_frame(&grey);
    let levels = pyramid(frame);
    let corners = detect(&levels, format.max_keypoints());
    let (w0, h0) = levels[0].dimensions();
    let mut signature = Signature {
        format,
        width: w0 as u16,
        height: h0 as u16,
        keypoints: Vec::new(),
        descriptors: Vec::new(),
    };
    let mut mirrored = mirror.then(|| signature.clone());
    for (level, (image, corners)) in levels.iter().zip(corners).enumerate() {
        let integral = Integral::new(image);
        let (w, _) = image.dimensions();
        let ratio = [f64::from(w0) / f64::from(w), f64::from(h0) / f64::from(image.height())];
        for corner in corners {
            let (x, y) = (i32::from(corner.x), i32::from(corner.y));
            let mirror_x = w as i32 - 1 - x;
            let outputs = [(Some(&mut signature), x, 1), (mirrored.as_mut(), mirror_x, -1)];
            for (out, column, sign) in outputs {
                let Some(out) = out else { continue };
                out.keypoints.push(Keypoint {
                    x: to_frame(column, ratio[0], w0),
                    y: to_frame(y, ratio[1], h0),
                    level: level as u8,
                });
                out.descriptors.push(integral.describe(x, y, sign));
            }
        }
    }
    (signature, mirrored)
}

/// A level's pixel coordinate in quarter pixels of the frame (pixel centres map to centres).
fn to_frame(at: i32, ratio: f64, frame: u32) -> u16 {
    let centre = (f64::from(at) + 0.5) * ratio - 0.5;
    (centre * 4.0).round().clamp(0.0, f64::from(frame * 4 - 1)) as u16
}

/// BT.601 luma, in integers, averaged over blocks of `n`×`n` pixels, `n` the whole number of
/// times [`FRAME`] fits in the long side: a big photo is brought to between one and two frames
/// in one cheap pass (the last partial block of a row or column, under `n` pixels, is left
/// out), so that the filtered resize after it works on a few hundred thousand pixels, not
/// millions.
#[inline(always)]
fn grey(rgb: &RgbImage) -> GrayImage {
    let (w, h) = rgb.dimensions();
    // Never wider than the short side: a 10,000 × 2 strip keeps all its pixels.
    let n = (w.max(h) / FRAME).clamp(1, w.min(h).max(1));
    let (gw, gh) = (w / n, h / n);
    let (n, width) = (n as usize, w as usize);
    let area = (n * n) as u32 * 256;
    let divide = Divisor::new(area);
    let mut luma = Vec::with_capacity((gw * gh) as usize);
    // A row's weighted sums first (at most 256 × 255: they fit 16 bits), added into a band's
    // column sums, both loops the compiler vectorises; the blocks across are summed once a
    // band, not once a row.
    let mut row_luma = vec![0u16; width];
    let mut columns = vec![0u32; width];
    for band in rgb.as_raw().chunks_exact(3 * width * n).take(gh as usize) {
        columns.fill(0);
        for row in band.chunks_exact(3 * width) {
            for (l, [r, g, b]) in row_luma.iter_mut().zip(row.as_chunks::<3>().0) {
                *l = 77 * u16::from(*r) + 150 * u16::from(*g) + 29 * u16::from(*b);
            }
            for (c, &l) in columns.iter_mut().zip(&row_luma) {
                *c += u32::from(l);
            }
        }
        for block in columns.chunks_exact(n).take(gw as usize) {
            let sum = block.iter().sum::<u32>();
            luma.push(divide.of(sum + area / 2) as u8);
        }
    }
    GrayImage::from_raw(gw, gh, luma).expect("one byte per pixel")
}

/// Exact division of 32-bit numbers by one divisor through a multiplication (Lemire, Kaser
/// and Kurz, "Faster remainder by direct computation", 2019): a hardware division per grey
/// pixel took about a tenth of the signature's time.
struct Divisor(u64);

impl Divisor {
    fn new(d: u32) -> Divisor {
        Divisor(u64::MAX / u64::from(d) + 1)
    }

    #[inline(always)]
    fn of(&self, n: u32) -> u32 {
        ((u128::from(self.0) * u128::from(n)) >> 64) as u32
    }
}

/// `grey` scaled (down or up) so that its long side is [`FRAME`] pixels.
#[inline(always)]
fn scale_to_frame(grey: &GrayImage) -> GrayImage {
    let (w, h) = grey.dimensions();
    let long = w.max(h);
    let side = |s: u32| {
        ((u64::from(s) * u64::from(FRAME) + u64::from(long) / 2) / u64::from(long)).max(1) as u32
    };
    let (fw, fh) = (side(w), side(h));
    if (fw, fh) == (w, h) {
        return grey.clone();
    }
    resample::resize(grey, fw, fh)
}

/// The frame and its [`LEVELS`]` - 1` smaller copies.
#[inline(always)]
fn pyramid(frame: GrayImage) -> Vec<GrayImage> {
    let (w, h) = frame.dimensions();
    let mut levels = vec![frame];
    for level in 1..LEVELS {
        let scale = SCALE_STEP.powi(level as i32);
        let side = |s: u32| ((f64::from(s) / scale).round() as u32).max(1);
        levels.push(resample::resize(&levels[0], side(w), side(h)));
    }
    levels
}

/// Each level's share of `budget` keypoints, geometric as in ORB: level `i + 1` gets
/// 1/[`SCALE_STEP`] of level `i`'s.
fn quotas(budget: usize) -> [usize; LEVELS] {
    let factor = 1.0 / SCALE_STEP;
    let first = budget as f64 * (1.0 - factor) / (1.0 - factor.powi(LEVELS as i32));
    let mut quotas = [0; LEVELS];
    let mut left = budget;
    for (level, quota) in quotas.iter_mut().enumerate() {
        *quota = if level + 1 == LEVELS {
            left
        } else {
            ((first * factor.powi(level as i32)).round() as usize).min(left)
        };
        left -= *quota;
    }
    quotas
}

/// The keypoints of every level: FAST at the first threshold that finds `budget` corners, each
/// level's quota (plus what the levels before it left unused) spread over the grid.
#[inline(always)]
fn detect(levels: &[GrayImage], budget: usize) -> Vec<Vec<Corner>> {
    let mut found = Vec::new();
    for threshold in FAST_THRESHOLDS {
        // A loop, not `map` and `collect`: a closure is compiled inside the generic `collect`,
        // out of [`signatures_avx2`]'s reach, and FAST would lose AVX2.
        found.clear();
        for level in levels {
            found.push(fast::corners(level, threshold, MARGIN));
        }
        if found.iter().map(Vec::len).sum::<usize>() >= budget {
            break;
        }
    }
    let mut carried = 0;
    found
        .into_iter()
        .zip(levels)
        .zip(quotas(budget))
        .map(|((corners, level), quota)| {
            let kept = spread(corners, level.dimensions(), quota + carried);
            carried = quota + carried - kept.len();
            kept
        })
        .collect()
}

/// Up to `quota` of `corners`: first the strongest of each grid cell (an equal share each),
/// then the strongest of the rest; ordered strongest first.
fn spread(corners: Vec<Corner>, (w, h): (u32, u32), quota: usize) -> Vec<Corner> {
    let strongest_first =
        |a: &Corner, b: &Corner| b.score.cmp(&a.score).then(a.y.cmp(&b.y)).then(a.x.cmp(&b.x));
    let cells = (GRID * GRID) as usize;
    let mut by_cell = vec![Vec::new(); cells];
    for corner in corners {
        let column = u32::from(corner.x) * GRID / w;
        let row = u32::from(corner.y) * GRID / h;
        by_cell[(row * GRID + column) as usize].push(corner);
    }
    let share = quota.div_ceil(cells);
    let (mut kept, mut rest) = (Vec::new(), Vec::new());
    for mut cell in by_cell {
        cell.sort_by(strongest_first);
        let cut = share.min(cell.len());
        rest.extend(cell.drain(cut..));
        kept.extend(cell);
    }
    kept.sort_by(strongest_first);
    kept.truncate(quota);
    rest.sort_by(strongest_first);
    let missing = quota - kept.len();
    kept.extend(rest.into_iter().take(missing));
    kept.sort_by(strongest_first);
    kept
}

/// Summed-area table of one level, for the 5×5 box sums that BRIEF compares.
struct Integral {
    width: usize,
    sums: Vec<u32>,
}

impl Integral {
    #[inline(always)]
    fn new(image: &GrayImage) -> Integral {
        let (w, h) = (image.width() as usize, image.height() as usize);
        let width = w + 1;
        // Each row is the one above plus the running sum along it, appended: no zeroed table
        // to fill, and no indexing the compiler must check, in a loop over every pixel of
        // every level.
        let mut sums = Vec::with_capacity(width * (h + 1));
        sums.resize(width, 0u32);
        for pixels in image.as_raw().chunks_exact(w.max(1)).take(h) {
            let above = sums.len() - width;
            sums.extend_from_within(above..);
            let mut row = 0u32;
            for (sum, &p) in sums[above + width + 1..].iter_mut().zip(pixels) {
                row += u32::from(p);
                *sum += row;
            }
        }
        Integral { width, sums }
    }

    /// Sum of the 5×5 box centred on `(x, y)`, which must lie [`BOX_HALF`] inside the image.
    #[inline(always)]
    fn box_sum(&self, x: i32, y: i32) -> u32 {
        let (x0, y0) = ((x - BOX_HALF) as usize, (y - BOX_HALF) as usize);
        let (x1, y1) = ((x + BOX_HALF + 1) as usize, (y + BOX_HALF + 1) as usize);
        let at = |x: usize, y: usize| self.sums[y * self.width + x];
        at(x1, y1) + at(x0, y0) - at(x0, y1) - at(x1, y0)
    }

    /// The descriptor of the keypoint at `(x, y)`; `sign` -1 mirrors the pattern left-right,
    /// which describes the same point of the mirrored image.
    #[inline(always)]
    fn describe(&self, x: i32, y: i32, sign: i32) -> Descriptor {
        let mut descriptor = [0u64; 4];
        for (bit, &[ax, ay, bx, by]) in PAIRS.iter().enumerate() {
            let a = self.box_sum(x + sign * i32::from(ax), y + i32::from(ay));
            let b = self.box_sum(x + sign * i32::from(bx), y + i32::from(by));
            descriptor[bit / 64] |= u64::from(a < b) << (bit % 64);
        }
        descriptor
    }
}

#[cfg(test)]
mod tests;
