//! Still-image decoding of untrusted bytes; video decoding lives in [`video`].
//!
//! Owns turning a sniffed image into RGB8 pixels under resource limits (with the system's
//! libjpeg-turbo and libwebp where installed, see [`system`]; HEIC, HEIF and AVIF only with
//! the system's libheif, see [`heif`]), how many pixels are in memory at once (`room_for`,
//! with the malloc settings that suit them in [`crate::allocator`]), and containing decoder
//! panics so that one hostile file becomes one error instead of a dead scan. Must not hash,
//! resize or reorient: PDQ is computed on the full-size pixels as stored (EXIF orientation
//! ignored, as the reference does), and lists are made the same way.

use std::io::{BufRead, Cursor, Seek};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use image::{ImageFormat, ImageReader, Limits, RgbImage};

use crate::error::{FileError, FileErrorKind, Setting};

mod ancillary;
mod entropy;
pub mod heif;
mod jpeg;
pub mod system;
pub mod video;

pub(crate) use ancillary::png_ancillary_bomb;
use ancillary::readable;
pub use heif::decode_heif;
use jpeg::jpeg_data_shortfall;
pub use jpeg::jpeg_truncation;
use jpeg::strict_jpeg;
use system::SystemDecoders;

/// Bounds on what one decode may allocate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest width or height accepted.
    pub max_dimension: u32,
    /// Largest allocation the decoder may make, in bytes.
    pub max_alloc: u64,
    /// Largest number of pixels (width × height) accepted.
    pub max_pixels: u64,
}

impl Default for DecodeLimits {
    /// 65,535 px a side, 200 megapixels and 1 GiB: enough for any real photograph, small
    /// enough that a decompression bomb (a small file declaring a huge picture) is refused
    /// from its header instead of exhausting memory.
    fn default() -> Self {
        DecodeLimits { max_dimension: 65_535, max_alloc: 1 << 30, max_pixels: 200_000_000 }
    }
}

impl DecodeLimits {
    /// The same bounds in the form the image decoders take.
    pub(crate) fn image_limits(&self) -> Limits {
        let mut limits = Limits::default();
        limits.max_image_width = Some(self.max_dimension);
        limits.max_image_height = Some(self.max_dimension);
        limits.max_alloc = Some(self.max_alloc);
        limits
    }

    /// `Err` with the reason if a `width` × `height` picture is over the pixel limit, before
    /// anything is allocated for it.
    pub(crate) fn check_pixels(&self, width: u32, height: u32) -> Result<(), FileError> {
        let pixels = u64::from(width) * u64::from(height);
        if pixels > self.max_pixels {
            return Err(FileError::limit(
                Setting::MaxPixels,
                format!("{width}x{height} is {pixels} pixels, over the {} limit", self.max_pixels),
                ": not decoded",
            ));
        }
        Ok(())
    }
}

/// Which decoders read JPEG and still WebP files, and whether libheif reads HEIC, HEIF and
/// AVIF files (nothing built in does).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Decoders {
    /// The built-in Rust decoders only (`--builtin-decoders`): memory-safe on hostile files,
    /// and the same pixels on every machine. HEIF and AVIF pictures are then errors.
    #[default]
    BuiltinOnly,
    /// These system libraries (libjpeg-turbo, libwebp and libheif, usually
    /// [`SystemDecoders::detect`]'s) where they are loaded and take the file, the built-in
    /// decoders for the rest.
    System(&'static SystemDecoders),
}

impl Decoders {
    /// The system's libraries where they are installed ([`SystemDecoders::detect`]), the
    /// built-in decoders for the rest.
    pub fn detect() -> Decoders {
        Decoders::System(SystemDecoders::detect())
    }

    /// The system libraries in use, if any.
    pub fn system(self) -> Option<&'static SystemDecoders> {
        match self {
            Decoders::BuiltinOnly => None,
            Decoders::System(system) => Some(system),
        }
    }

    /// What decodes JPEG files, for reports.
    pub fn jpeg(self) -> String {
        self.system().and_then(SystemDecoders::jpeg).unwrap_or("built-in (zune-jpeg)").to_string()
    }

    /// What decodes still WebP files, for reports.
    pub fn webp(self) -> String {
        self.system().and_then(SystemDecoders::webp).unwrap_or("built-in (image-webp)").to_string()
    }

    /// What decodes HEIC, HEIF and AVIF files, for reports: libheif and its version, or
    /// `None` when nothing does (those files are then errors).
    pub fn heif(self) -> Option<String> {
        self.system().and_then(SystemDecoders::heif).map(str::to_string)
    }
}

/// A decoded picture, and why its pixels are not all the file's, if they are not.
#[derive(Clone, Debug, PartialEq)]
pub struct Picture {
    /// The pixels, as RGB8.
    pub rgb: RgbImage,
    /// The damage the decoder went on past, if any: a JPEG whose entropy-coded data is
    /// corrupt or cut short decodes "successfully", the missing part filled in. The pixels
    /// are still worth matching; the file is not clean.
    pub damage: Option<FileError>,
}

/// Decodes `bytes`, already sniffed as `format`, to RGB8, with the system library `decoders`
/// allow for the format if it takes the file, else with the built-in decoder. Alpha is dropped
/// without compositing and wider samples are narrowed, as the reference tools' RGB conversion
/// does. Animated formats yield their first frame. A picture decoded past damage is `Ok`,
/// [`Picture::damage`] saying what the decoder reported.
pub fn decode_picture(
    bytes: &[u8],
    format: ImageFormat,
    limits: DecodeLimits,
    decoders: Decoders,
) -> Result<Picture, FileError> {
    let run = || -> Result<Picture, FileError> {
        if format == ImageFormat::Jpeg {
            if let Some(reason) = jpeg_data_shortfall(bytes) {
                return Err(FileError::corrupt(reason));
            }
        }
        if let Some((rgb, warning)) =
            decoders.system().and_then(|system| system.decode(bytes, format, &limits))
        {
            let damage = warning.map(|warning| {
                FileError::corrupt(format!(
                    "corrupt JPEG data (libjpeg-turbo: {warning}): hashed what decoded"
                ))
            });
            return Ok(Picture { rgb, damage });
        }
        // A PNG whose metadata would inflate past its cap is read without it
        // ([`ancillary`]); `hash_file` reports it.
        let source = readable(bytes, format);
        decode_builtin(|| source.clone(), bytes, format, limits)
    };
    // A panicking codec is a bug in a dependency, but a hostile file must not take the
    // whole scan down with it.
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|panic| Err(panic_reason(&*panic)))
}

/// The picture `source()` reads (`bytes`, as stored), decoded by the built-in decoder for
/// `format`.
fn decode_builtin<R: BufRead + Seek>(
    source: impl Fn() -> R,
    bytes: &[u8],
    format: ImageFormat,
    limits: DecodeLimits,
) -> Result<Picture, FileError> {
    let reader = || {
        let mut reader = ImageReader::with_format(source(), format);
        reader.limits(limits.image_limits());
        reader
    };
    // The header alone says how big the picture claims to be.
    let (width, height) = reader().into_dimensions().map_err(FileError::image)?;
    limits.check_pixels(width, height)?;
    if format == ImageFormat::Gif {
        // The screen's size is in the header, but a frame can be larger than the screen.
        video::animation::check_gif_frames(&mut source(), &limits, Some(1))?;
    }
    // zune-jpeg, under `image`, goes on past corrupt entropy-coded data and fills in the
    // rest; in strict mode it stops there instead, with the reason. Strict first, then
    // (only for a damaged file) the lenient decode for what can still be matched. Even
    // strict, it takes a marker inside the data for its end (a cut file with an
    // end-of-image marker appended): [`entropy`] counts the MCUs the data holds.
    let damage = match format {
        ImageFormat::Jpeg => match strict_jpeg(bytes, &limits) {
            Ok(rgb) => {
                let damage = entropy::entropy_damage(bytes)
                    .map(|damage| FileError::corrupt(format!("{damage}: hashed what decoded")));
                return Ok(Picture { rgb, damage });
            }
            Err(reason) => Some(FileError::corrupt(format!(
                "corrupt JPEG data ({reason}): hashed what decoded"
            ))),
        },
        _ => None,
    };
    let image = reader().decode().map_err(|e| {
        let FileError { kind, reason } = FileError::image(e);
        FileError::new(kind, reason.to_string().trim_end())
    })?;
    if image.width() == 0 || image.height() == 0 {
        return Err(FileError::corrupt("image has no pixels"));
    }
    Ok(Picture { rgb: into_rgb8(image), damage })
}

/// [`decode_picture`]'s pixels, damaged or not.
pub fn decode_rgb(
    bytes: &[u8],
    format: ImageFormat,
    limits: DecodeLimits,
    decoders: Decoders,
) -> Result<RgbImage, FileError> {
    decode_picture(bytes, format, limits, decoders).map(|picture| picture.rgb)
}

/// `image` as RGB8: grey replicated to the three channels, alpha dropped. The 8-bit layouts,
/// which are nearly every picture, are converted here because `image`'s own conversion goes
/// through f32 colour arithmetic pixel by pixel to the same bytes; wider samples are left to
/// it.
pub(crate) fn into_rgb8(image: image::DynamicImage) -> RgbImage {
    use image::DynamicImage::{ImageLuma8, ImageLumaA8, ImageRgb8, ImageRgba8};
    let (width, height) = (image.width(), image.height());
    let convert = |raw: &[u8], channels: usize, pixel: fn(&[u8]) -> [u8; 3]| {
        let mut rgb = Vec::with_capacity(raw.len() / channels * 3);
        raw.chunks_exact(channels).for_each(|p| rgb.extend_from_slice(&pixel(p)));
        RgbImage::from_raw(width, height, rgb).expect("one RGB pixel per input pixel")
    };
    match image {
        ImageRgb8(rgb) => rgb,
        ImageRgba8(rgba) => convert(&rgba, 4, |p| [p[0], p[1], p[2]]),
        ImageLuma8(grey) => convert(&grey, 1, |p| [p[0]; 3]),
        ImageLumaA8(grey) => convert(&grey, 2, |p| [p[0]; 3]),
        other => other.into_rgb8(),
    }
}

/// Pixels each worker thread may have decoded or decoding at once, on average. A picture in
/// memory costs 3 bytes a pixel as RGB and, while a progressive JPEG decodes, up to 6 more for
/// its coefficients, so two large photographs decoded side by side can double a scan's peak
/// (docs/memory.md, "Measured").
const PIXELS_PER_THREAD: u64 = 12_000_000;

/// The bytes a pixel of room stands for: what decoding and hashing a picture takes at most
/// per pixel of it (RGBA as decoded, RGB, grey for the classic hashes; see docs/memory.md).
/// Decoders that hold more than one picture (an animation's canvas and frames, a video
/// decoder's reference frames) reserve their bytes in these units.
pub const ROOM_BYTES_PER_PIXEL: u64 = 12;

/// Pixels held under [`PixelRoom`]s across the process, and the wait for room.
static PIXELS_HELD: (Mutex<u64>, Condvar) = (Mutex::new(0), Condvar::new());

thread_local! {
    /// The worker threads of the scan this thread decodes for, when it is a [`within`]
    /// helper rather than a worker of the scan's pool.
    static POOL_THREADS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The worker threads of the scan the current thread works for.
fn pool_threads() -> usize {
    match POOL_THREADS.get() {
        0 => rayon::current_num_threads(),
        threads => threads,
    }
}

/// Room reserved for one picture's pixels, given back when dropped.
#[must_use = "the room is given back when this is dropped"]
pub(crate) struct PixelRoom(u64);

/// Waits until the picture in `bytes` fits beside the others being decoded or hashed, at most
/// `PIXELS_PER_THREAD` times the threads of the current rayon pool in all, and reserves its
/// pixels until the returned room is dropped. A picture alone always fits, however large (the
/// decoding limits bound it); one whose header does not parse reserves nothing, as it will
/// not decode either. A GIF's first frame, which can be larger than its screen, counts too.
pub(crate) fn room_for(bytes: &[u8], format: ImageFormat) -> PixelRoom {
    let mut pixels = ImageReader::with_format(readable(bytes, format), format)
        .into_dimensions()
        .map_or(0, |(width, height)| u64::from(width) * u64::from(height));
    if format == ImageFormat::Gif && pixels > 0 {
        pixels +=
            video::animation::gif_frames(Cursor::new(bytes), Some(1)).map_or(0, |gif| gif.largest);
    }
    reserve(pixels, PIXELS_PER_THREAD * pool_threads() as u64)
}

/// Room for a decoder that holds about `bytes` at once (`what` names what it decodes, for the
/// error), waited for as [`room_for`] waits. `Err` when that is more than the largest picture
/// `limits` allow would take (or a thread's share, if more), which no wait makes fit: the
/// memory a scan takes stays within its budget (docs/memory.md) whatever the input.
pub(crate) fn room_for_decoder(
    bytes: u64,
    limits: &DecodeLimits,
    what: impl FnOnce() -> String,
) -> Result<PixelRoom, FileError> {
    let pixels = bytes.div_ceil(ROOM_BYTES_PER_PIXEL);
    let allowed = limits.max_pixels.max(PIXELS_PER_THREAD);
    if pixels > allowed {
        return Err(FileError::limit(
            Setting::MaxPixels,
            format!(
                "{} takes about {} MiB to decode, over the {} MiB that the largest picture \
                 the pixel limit",
                what(),
                bytes >> 20,
                (allowed * ROOM_BYTES_PER_PIXEL) >> 20
            ),
            " allows would take: not decoded",
        ));
    }
    Ok(reserve(pixels, PIXELS_PER_THREAD * pool_threads() as u64))
}

/// Waits until `pixels` more fit under `limit` (or nothing else is held), and holds them.
fn reserve(pixels: u64, limit: u64) -> PixelRoom {
    let (held, freed) = &PIXELS_HELD;
    let mut held = held.lock().unwrap_or_else(PoisonError::into_inner);
    while *held > 0 && *held + pixels > limit {
        held = freed.wait(held).unwrap_or_else(PoisonError::into_inner);
    }
    *held += pixels;
    PixelRoom(pixels)
}

impl Drop for PixelRoom {
    fn drop(&mut self) {
        let (held, freed) = &PIXELS_HELD;
        *held.lock().unwrap_or_else(PoisonError::into_inner) -= self.0;
        freed.notify_all();
    }
}

/// A job for a [`within`] helper thread.
type Job = Box<dyn FnOnce() + Send>;

thread_local! {
    /// The helper thread that runs this thread's [`within`] jobs. Reused from file to file:
    /// a thread per file would cost a spawn each time and, with glibc, a fresh malloc arena
    /// that keeps the freed buffers of the big pictures it once held (docs/memory.md).
    static HELPER: std::cell::RefCell<Option<mpsc::Sender<Job>>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `work` on a helper thread and waits at most `timeout` for it: a decoder caught in a
/// loop by a hostile file then costs that helper (left to finish or spin on its own, and
/// replaced by a new one for the next file) rather than the scan. `None` when the time ran
/// out; a panic in `work` is returned as its error. Public for the fuzz regression tests,
/// which hold every decoder to the scan's time limit.
#[doc(hidden)]
pub fn within<T: Send + 'static>(
    timeout: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<Result<T, FileError>> {
    let (sender, receiver) = mpsc::channel();
    let threads = pool_threads();
    let job: Job = Box::new(move || {
        POOL_THREADS.set(threads);
        let result = catch_unwind(AssertUnwindSafe(work)).map_err(|p| panic_reason(&*p));
        // The receiver is gone only if the time ran out: nobody wants the result then.
        let _ = sender.send(result);
    });
    let sent = HELPER.with_borrow_mut(|helper| {
        let jobs = match helper {
            Some(jobs) => jobs,
            None => helper.insert(spawn_helper()?),
        };
        jobs.send(job).map_err(|e| FileError::io(format!("the decoding thread is gone: {e}")))
    });
    if let Err(reason) = sent {
        HELPER.with_borrow_mut(Option::take);
        return Some(Err(reason));
    }
    let result = receiver.recv_timeout(timeout).ok();
    if result.is_none() {
        // The helper is stuck on this job: abandon it. It ends by itself once the job does,
        // finding its queue closed.
        HELPER.with_borrow_mut(Option::take);
    }
    result
}

/// The name of the threads [`within`] runs work on. Every panic there is caught and becomes
/// the file's error, so a program may keep its panic hook quiet for them.
pub const DECODE_THREAD: &str = "mediascreen-decode";

/// Starts a helper thread that runs jobs until its queue is closed.
fn spawn_helper() -> Result<mpsc::Sender<Job>, FileError> {
    let (jobs, queue) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name(DECODE_THREAD.to_string())
        .spawn(move || queue.into_iter().for_each(|job| job()))
        .map_err(|e| FileError::io(format!("cannot start a decoding thread: {e}")))?;
    Ok(jobs)
}

/// Why a file's decoding was abandoned at its time limit ([`video::VideoLimits::timeout`]).
pub fn timed_out(timeout: Duration) -> FileError {
    let head = format!("decoding took longer than the {} s time limit", timeout.as_secs());
    FileError {
        kind: FileErrorKind::Timeout,
        reason: crate::error::Reason::naming(Setting::FileTimeout, head, "; abandoned"),
    }
}

/// Turns a caught panic payload into an error message, so every decoder reports a panic the
/// same way.
pub(crate) fn panic_reason(panic: &(dyn std::any::Any + Send)) -> FileError {
    FileError::new(FileErrorKind::DecoderPanic, format!("decoder panicked: {}", panic_text(panic)))
}

/// The message a panic was raised with.
pub(crate) fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn corrupt_and_truncated_images_are_errors() {
        assert!(decode_rgb(
            b"\xff\xd8\xff\xe0garbage",
            ImageFormat::Jpeg,
            DecodeLimits::default(),
            Decoders::detect()
        )
        .is_err());
        let mut png = Vec::new();
        RgbImage::new(4, 4).write_to(&mut Cursor::new(&mut png), ImageFormat::Png).unwrap();
        assert_eq!(
            decode_rgb(&png, ImageFormat::Png, DecodeLimits::default(), Decoders::detect())
                .unwrap()
                .dimensions(),
            (4, 4)
        );
        assert!(decode_rgb(
            &png[..png.len() / 2],
            ImageFormat::Png,
            DecodeLimits::default(),
            Decoders::detect()
        )
        .is_err());
    }

    #[test]
    fn work_that_never_returns_is_abandoned_at_its_time_limit() {
        let started = std::time::Instant::now();
        let stuck = within(Duration::from_millis(50), || loop {
            std::thread::sleep(Duration::from_millis(10));
        });
        assert!(stuck.is_none());
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(within(Duration::from_secs(5), || 7), Some(Ok(7)));
        let panicked = within(Duration::from_secs(5), || -> u8 { panic!("hostile input") });
        let panicked = panicked.unwrap().unwrap_err();
        assert_eq!(panicked.kind, FileErrorKind::DecoderPanic);
        assert!(panicked.to_string().contains("hostile input"));
        let timeout = timed_out(Duration::from_secs(3));
        assert_eq!(timeout.reason.setting(), Some(Setting::FileTimeout));
        assert_eq!(timeout.to_string(), "decoding took longer than the 3 s time limit; abandoned");
    }

    #[test]
    fn one_helper_thread_serves_file_after_file_until_it_is_stuck() {
        let helper = || within(Duration::from_secs(5), || std::thread::current().id()).unwrap();
        let first = helper().unwrap();
        assert_ne!(first, std::thread::current().id());
        assert_eq!(helper().unwrap(), first, "reused, not one thread per file");
        assert!(within(Duration::from_millis(20), || std::thread::sleep(Duration::from_secs(1)))
            .is_none());
        assert_ne!(helper().unwrap(), first, "a stuck helper is replaced");
    }

    #[test]
    fn a_picture_waits_for_room_beside_the_others() {
        let released = std::sync::atomic::AtomicBool::new(false);
        let big = reserve(10_000_000, 12_000_000);
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                let _room = reserve(4_000_000, 12_000_000);
                released.load(std::sync::atomic::Ordering::SeqCst)
            });
            std::thread::sleep(Duration::from_millis(100));
            released.store(true, std::sync::atomic::Ordering::SeqCst);
            drop(big);
            assert!(waiter.join().unwrap(), "took its room before the big picture gave it back");
        });
        // A picture over the limit goes ahead once it is alone, rather than wait for ever.
        drop(reserve(50_000_000, 12_000_000));
        let jpeg = include_bytes!("../../fixtures/screening/distinct/coffee.jpg");
        assert_eq!(room_for(jpeg, ImageFormat::Jpeg).0, 512 * 341);
        assert_eq!(room_for(b"not a picture", ImageFormat::Png).0, 0);
    }

    #[test]
    fn decoders_reserve_their_bytes_and_no_more_than_the_largest_picture_takes() {
        let limits = DecodeLimits { max_pixels: 20_000_000, ..DecodeLimits::default() };
        let room = room_for_decoder(12 * 1_000_000 + 1, &limits, || "x".to_string()).unwrap();
        assert_eq!(room.0, 1_000_001);
        drop(room);
        let error = room_for_decoder(12 * 20_000_001, &limits, || "a video".to_string());
        let error = error.err().unwrap();
        assert_eq!(error.kind, FileErrorKind::Limit { which: Setting::MaxPixels });
        assert!(error.to_string().starts_with("a video takes about 228 MiB"), "{error}");
        // Under a small --max-pixels, a thread's share is still allowed.
        let small = DecodeLimits { max_pixels: 1000, ..DecodeLimits::default() };
        assert!(room_for_decoder(12 * PIXELS_PER_THREAD, &small, String::new).is_ok());
        assert!(room_for_decoder(12 * PIXELS_PER_THREAD + 12, &small, String::new).is_err());
    }

    #[test]
    fn helper_threads_count_the_threads_of_the_pool_they_work_for() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let seen = pool.install(|| within(Duration::from_secs(5), pool_threads));
        assert_eq!(seen, Some(Ok(3)));
    }

    #[test]
    fn eight_bit_layouts_convert_to_the_bytes_image_would_give() {
        let bytes: Vec<u8> = (0..=255u8).cycle().step_by(7).take(6 * 5 * 4).collect();
        let layouts = [
            image::DynamicImage::ImageLuma8(
                image::GrayImage::from_raw(6, 5, bytes[..30].to_vec()).unwrap(),
            ),
            image::DynamicImage::ImageLumaA8(
                image::GrayAlphaImage::from_raw(6, 5, bytes[..60].to_vec()).unwrap(),
            ),
            image::DynamicImage::ImageRgb8(RgbImage::from_raw(6, 5, bytes[..90].to_vec()).unwrap()),
            image::DynamicImage::ImageRgba8(
                image::RgbaImage::from_raw(6, 5, bytes.clone()).unwrap(),
            ),
            image::DynamicImage::ImageRgb16(
                image::DynamicImage::ImageRgb8(
                    RgbImage::from_raw(6, 5, bytes[..90].to_vec()).unwrap(),
                )
                .into_rgb16(),
            ),
        ];
        for layout in layouts {
            let color = layout.color();
            assert_eq!(into_rgb8(layout.clone()), layout.into_rgb8(), "{color:?}");
        }
    }

    #[test]
    fn limits_refuse_oversized_images() {
        let mut png = Vec::new();
        RgbImage::new(64, 8).write_to(&mut Cursor::new(&mut png), ImageFormat::Png).unwrap();
        let tight = DecodeLimits { max_dimension: 32, ..DecodeLimits::default() };
        assert!(decode_rgb(&png, ImageFormat::Png, tight, Decoders::detect()).is_err());
        let few = DecodeLimits { max_pixels: 511, ..DecodeLimits::default() };
        let error = decode_rgb(&png, ImageFormat::Png, few, Decoders::detect()).unwrap_err();
        assert_eq!(error.kind, FileErrorKind::Limit { which: Setting::MaxPixels });
        assert_eq!(error.to_string(), "64x8 is 512 pixels, over the 511 limit: not decoded");
        let enough = DecodeLimits { max_pixels: 512, ..DecodeLimits::default() };
        assert!(decode_rgb(&png, ImageFormat::Png, enough, Decoders::detect()).is_ok());
    }
}
