//! JPEG and WebP decoding with the system's libjpeg-turbo and libwebp, found at run time.
//!
//! Owns: loading the two C libraries where they are installed (`dlopen`: nothing is linked at
//! build time, so a machine with only the Rust toolchain builds and runs without them), and
//! decoding a JPEG or a still WebP with them to RGB8, faster than the built-in Rust decoders
//! (README, "Performance"). libwebp gives the very pixels image-webp gives; libjpeg-turbo's
//! differ by rounding (a PDQ hash by a bit or two), and they are the pixels the reference PDQ
//! stack (Pillow, ImageMagick) hashes, as both decode with libjpeg-turbo.
//!
//! Must not: be needed, or decide what a file is. Every refusal (library absent, a CMYK JPEG,
//! an animated WebP, a fatal decoding error, a picture over the limits) is `None`, and the
//! caller decodes with the built-in decoder: a file the built-in decoders accept is never lost
//! to a C library's stricter reading, and errors read the same on every machine. A JPEG that
//! libjpeg-turbo decodes with a warning (corrupt or cut-off entropy-coded data, which it fills
//! in) is not refused: its pixels come back with the warning, which the scan reports.
//!
//! libheif is looked for here too, with the others, and decodes in [`super::heif`]: it
//! has no built-in fallback, so its refusals are errors rather than `None`.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_ulong, c_void, CStr};
use std::sync::OnceLock;

use image::{ImageFormat, RgbImage};
use libloading::Library;

use super::heif::Libheif;
use super::DecodeLimits;

/// The C libraries found on this machine.
pub struct SystemDecoders {
    jpeg: Option<TurboJpeg>,
    webp: Option<Webp>,
    heif: Option<&'static Libheif>,
}

impl SystemDecoders {
    /// Looks for the libraries where the system's loader finds them. A convenience for
    /// programs that want them: the library itself never calls it, it decodes with what it is
    /// given ([`super::Decoders`]). The libraries stay loaded for the rest of the process, so
    /// they are looked for once, on the first call.
    pub fn detect() -> &'static SystemDecoders {
        static DETECTED: OnceLock<SystemDecoders> = OnceLock::new();
        DETECTED.get_or_init(|| SystemDecoders {
            jpeg: TurboJpeg::load(),
            webp: Webp::load(),
            heif: Libheif::detect(),
        })
    }

    /// The system's libheif alone, where installed, JPEG and WebP left to the built-in
    /// decoders: what `--builtin-decoders` decodes with. HEIC, HEIF and AVIF have no built-in
    /// decoder, so leaving libheif out would leave them unscreened.
    pub fn libheif_only() -> &'static SystemDecoders {
        static DETECTED: OnceLock<SystemDecoders> = OnceLock::new();
        DETECTED.get_or_init(|| SystemDecoders { jpeg: None, webp: None, heif: Libheif::detect() })
    }

    /// What decodes JPEG files: the libjpeg-turbo library loaded, or `None` for the built-in
    /// decoder.
    pub fn jpeg(&self) -> Option<&str> {
        self.jpeg.as_ref().map(|jpeg| jpeg.name.as_str())
    }

    /// What decodes still WebP files: libwebp and its version, or `None` for the built-in
    /// decoder.
    pub fn webp(&self) -> Option<&str> {
        self.webp.as_ref().map(|webp| webp.name.as_str())
    }

    /// What decodes HEIC, HEIF and AVIF files: libheif and its version, or `None`, as
    /// nothing built in does.
    pub fn heif(&self) -> Option<&str> {
        self.heif.map(Libheif::name)
    }

    /// libheif, if it was found.
    pub(super) fn libheif(&self) -> Option<&'static Libheif> {
        self.heif
    }

    /// `bytes` decoded by a system library, with the warning it gave if it decoded past
    /// damage, or `None` for the built-in decoder to take over.
    pub(crate) fn decode(
        &self,
        bytes: &[u8],
        format: ImageFormat,
        limits: &DecodeLimits,
    ) -> Option<(RgbImage, Option<String>)> {
        match format {
            ImageFormat::Jpeg => self.jpeg.as_ref()?.decode(bytes, limits),
            ImageFormat::WebP => Some((self.webp.as_ref()?.decode(bytes, limits)?, None)),
            _ => None,
        }
    }
}

impl std::fmt::Debug for SystemDecoders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemDecoders")
            .field("jpeg", &self.jpeg())
            .field("webp", &self.webp())
            .field("heif", &self.heif())
            .finish()
    }
}

/// Two sets are equal when they loaded the same libraries.
impl PartialEq for SystemDecoders {
    fn eq(&self, other: &SystemDecoders) -> bool {
        (self.jpeg(), self.webp(), self.heif()) == (other.jpeg(), other.webp(), other.heif())
    }
}

impl Eq for SystemDecoders {}

/// The shared library `stem` (`turbojpeg` for libturbojpeg) of ABI version `major`, by the
/// first of its file names on this platform that loads (`windows` is the DLL's whole name, as
/// the two libraries are named differently there), with that name. It stays loaded for the
/// rest of the process, so that the function pointers taken from it stay valid.
pub(super) fn open(stem: &str, major: u32, windows: &str) -> Option<(&'static Library, String)> {
    let names = if cfg!(target_os = "macos") {
        vec![format!("lib{stem}.{major}.dylib"), format!("lib{stem}.dylib")]
    } else if cfg!(windows) {
        vec![windows.to_string()]
    } else {
        vec![format!("lib{stem}.so.{major}"), format!("lib{stem}.so")]
    };
    names.into_iter().find_map(|name| {
        let library = load(&name)?;
        Some((&*Box::leak(Box::new(library)), name))
    })
}

/// The shared library `name`, where the system's loader finds it.
#[cfg(not(windows))]
fn load(name: &str) -> Option<Library> {
    // SAFETY: loading runs the library's initialisers; libjpeg-turbo's and libwebp's only
    // set up their CPU feature detection, libheif's register its built-in codecs.
    unsafe { Library::new(name) }.ok()
}

/// The DLL `name`, from the application's folder, System32, the folders added with
/// `AddDllDirectory`, or an absolute folder on `PATH`, its own dependencies looked for
/// beside it: never from the current folder or a relative `PATH` entry, where Windows'
/// default search order would let a planted file of that name win.
#[cfg(windows)]
fn load(name: &str) -> Option<Library> {
    use libloading::os::windows::{
        Library as Dll, LOAD_LIBRARY_SEARCH_DEFAULT_DIRS, LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR,
    };
    use std::path::PathBuf;

    let path = std::env::var_os("PATH").unwrap_or_default();
    let on_path = std::env::split_paths(&path)
        .filter(|folder| folder.is_absolute())
        .map(|folder| folder.join(name))
        .filter(|candidate| candidate.is_file());
    std::iter::once(PathBuf::from(name)).chain(on_path).find_map(|candidate| {
        let flags = match candidate.is_absolute() {
            true => LOAD_LIBRARY_SEARCH_DEFAULT_DIRS | LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR,
            false => LOAD_LIBRARY_SEARCH_DEFAULT_DIRS,
        };
        // SAFETY: as for the loader's own search, loading runs the library's initialisers;
        // libjpeg-turbo's and libwebp's only set up their CPU feature detection, libheif's
        // register its built-in codecs.
        unsafe { Dll::load_with_flags(&candidate, flags) }.ok().map(Library::from)
    })
}

/// A function of `library` as a plain pointer, valid as long as the library stays loaded:
/// for ever, as [`open`] leaves it.
///
/// # Safety
/// `F` must be the function's true C signature.
pub(super) unsafe fn function<F: Copy>(library: &'static Library, name: &str) -> Option<F> {
    // SAFETY: the caller vouches for `F`; the symbol outlives the copy, the library never
    // being unloaded.
    unsafe { library.get::<F>(name.as_bytes()).ok().map(|symbol| *symbol) }
}

/// A `width` x `height` RGB8 buffer, if the limits allow the picture and its pixels.
fn rgb_buffer(width: c_int, height: c_int, limits: &DecodeLimits) -> Option<Vec<u8>> {
    let (width, height) = (u32::try_from(width).ok()?, u32::try_from(height).ok()?);
    let fits = (1..=limits.max_dimension).contains(&width)
        && (1..=limits.max_dimension).contains(&height)
        && limits.check_pixels(width, height).is_ok();
    let size = u64::from(width) * u64::from(height) * 3;
    (fits && size <= limits.max_alloc).then(|| vec![0; size as usize])
}

type Handle = *mut c_void;

/// libjpeg-turbo through its TurboJPEG API (the 2.x functions, which 3.x keeps).
struct TurboJpeg {
    name: String,
    init: unsafe extern "C" fn() -> Handle,
    header: unsafe extern "C" fn(
        Handle,
        *const u8,
        c_ulong,
        *mut c_int,
        *mut c_int,
        *mut c_int,
        *mut c_int,
    ) -> c_int,
    decompress: unsafe extern "C" fn(
        Handle,
        *const u8,
        c_ulong,
        *mut u8,
        c_int,
        c_int,
        c_int,
        c_int,
        c_int,
    ) -> c_int,
    error_code: unsafe extern "C" fn(Handle) -> c_int,
    /// `tjGetErrorStr2`, from libjpeg-turbo 2.0 on.
    error_text: Option<unsafe extern "C" fn(Handle) -> *const c_char>,
    destroy: unsafe extern "C" fn(Handle) -> c_int,
}

// `TJPF_RGB`, `TJCS_CMYK`, `TJCS_YCCK`, `TJERR_WARNING` and `TJFLAG_LIMITSCANS` of turbojpeg.h.
const TJPF_RGB: c_int = 0;
const TJCS_CMYK: c_int = 3;
const TJCS_YCCK: c_int = 4;
const TJERR_WARNING: c_int = 0;
/// Refuses a progressive JPEG of more than 500 scans: a hostile file's way to make decoding
/// take minutes. The built-in decoder then takes it, under the time limit.
const TJFLAG_LIMITSCANS: c_int = 32768;

/// A decompressor of one thread, destroyed with it.
struct Decompressor {
    handle: Handle,
    destroy: unsafe extern "C" fn(Handle) -> c_int,
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: the handle came from `tjInitDecompress` and is dropped once.
        unsafe { (self.destroy)(self.handle) };
    }
}

thread_local! {
    /// A TurboJPEG handle serves one thread at a time, and making one allocates its state:
    /// one per thread, reused file after file.
    static DECOMPRESSOR: RefCell<Option<Decompressor>> = const { RefCell::new(None) };
}

impl TurboJpeg {
    fn load() -> Option<TurboJpeg> {
        let (library, name) = open("turbojpeg", 0, "turbojpeg.dll")?;
        // SAFETY: the signatures are turbojpeg.h's, unchanged since libjpeg-turbo 2.0.
        unsafe {
            Some(TurboJpeg {
                name: format!("libjpeg-turbo ({name})"),
                init: function(library, "tjInitDecompress")?,
                header: function(library, "tjDecompressHeader3")?,
                decompress: function(library, "tjDecompress2")?,
                error_code: function(library, "tjGetErrorCode")?,
                error_text: function(library, "tjGetErrorStr2"),
                destroy: function(library, "tjDestroy")?,
            })
        }
    }

    fn decode(&self, bytes: &[u8], limits: &DecodeLimits) -> Option<(RgbImage, Option<String>)> {
        DECOMPRESSOR.with_borrow_mut(|decompressor| {
            let handle = match decompressor {
                Some(decompressor) => decompressor.handle,
                None => {
                    // SAFETY: no arguments; a null handle is a failure, checked.
                    let handle = unsafe { (self.init)() };
                    if handle.is_null() {
                        return None;
                    }
                    decompressor.insert(Decompressor { handle, destroy: self.destroy }).handle
                }
            };
            let decoded = self.decompress(handle, bytes, limits);
            if decoded.is_none() {
                // A failed call leaves the handle usable, by the API's word; a fresh one
                // for the next file costs little and takes no chance on it.
                *decompressor = None;
            }
            decoded
        })
    }

    fn decompress(
        &self,
        handle: Handle,
        bytes: &[u8],
        limits: &DecodeLimits,
    ) -> Option<(RgbImage, Option<String>)> {
        let length = c_ulong::try_from(bytes.len()).ok()?;
        let (mut width, mut height, mut subsampling, mut colorspace) = (0, 0, 0, 0);
        // SAFETY: `bytes` is valid for `length` bytes, and the four outputs are valid ints.
        let header = unsafe {
            (self.header)(
                handle,
                bytes.as_ptr(),
                length,
                &mut width,
                &mut height,
                &mut subsampling,
                &mut colorspace,
            )
        };
        // libjpeg-turbo has no CMYK to RGB conversion; the built-in decoder has one.
        if header != 0 || colorspace == TJCS_CMYK || colorspace == TJCS_YCCK {
            return None;
        }
        let mut rgb = rgb_buffer(width, height, limits)?;
        // SAFETY: `rgb` holds `width` x `height` RGB pixels, rows packed (pitch 0).
        let status = unsafe {
            (self.decompress)(
                handle,
                bytes.as_ptr(),
                length,
                rgb.as_mut_ptr(),
                width,
                0,
                height,
                TJPF_RGB,
                TJFLAG_LIMITSCANS,
            )
        };
        // A warning (corrupt data, a premature end) still delivers the picture, the damage
        // filled in: the pixels are hashed, and the warning is why the file is not clean.
        let warning = if status == 0 {
            None
        } else {
            // SAFETY: a valid handle.
            if unsafe { (self.error_code)(handle) } != TJERR_WARNING {
                return None;
            }
            Some(self.error_text(handle))
        };
        Some((RgbImage::from_raw(width as u32, height as u32, rgb)?, warning))
    }

    /// The message of the last error or warning on `handle`.
    fn error_text(&self, handle: Handle) -> String {
        // SAFETY: a valid handle; the text is the handle's (or, for a global error, the
        // library's) NUL-terminated buffer, copied before the handle is used again.
        let text = self.error_text.map(|text| unsafe { text(handle) }).filter(|t| !t.is_null());
        text.map_or_else(
            || "corrupt JPEG data".to_string(),
            // SAFETY: not null, and NUL-terminated as above.
            |text| unsafe { CStr::from_ptr(text) }.to_string_lossy().trim().to_string(),
        )
    }
}

/// libwebp's simple decoding API.
struct Webp {
    name: String,
    info: unsafe extern "C" fn(*const u8, usize, *mut c_int, *mut c_int) -> c_int,
    decode_into: unsafe extern "C" fn(*const u8, usize, *mut u8, usize, c_int) -> *mut u8,
}

impl Webp {
    fn load() -> Option<Webp> {
        let (library, name) = open("webp", 7, "libwebp.dll")?;
        // SAFETY: the signatures are webp/decode.h's, unchanged since libwebp 0.4.
        unsafe {
            let version: unsafe extern "C" fn() -> c_int =
                function(library, "WebPGetDecoderVersion")?;
            let version = version();
            Some(Webp {
                name: format!(
                    "libwebp {}.{}.{} ({name})",
                    version >> 16,
                    version >> 8 & 0xff,
                    version & 0xff
                ),
                info: function(library, "WebPGetInfo")?,
                decode_into: function(library, "WebPDecodeRGBInto")?,
            })
        }
    }

    fn decode(&self, bytes: &[u8], limits: &DecodeLimits) -> Option<RgbImage> {
        let (mut width, mut height) = (0, 0);
        // SAFETY: `bytes` is valid for its length, and the outputs are valid ints.
        if unsafe { (self.info)(bytes.as_ptr(), bytes.len(), &mut width, &mut height) } == 0 {
            return None;
        }
        let mut rgb = rgb_buffer(width, height, limits)?;
        let stride = width.checked_mul(3)?;
        // Alpha is dropped, not composited, as for the built-in decoder. An animation is
        // refused (null): the built-in decoder gives its first frame.
        // SAFETY: `rgb` is valid for its length, which holds `height` rows of `stride` bytes.
        let decoded = unsafe {
            (self.decode_into)(bytes.as_ptr(), bytes.len(), rgb.as_mut_ptr(), rgb.len(), stride)
        };
        if decoded.is_null() {
            return None;
        }
        RgbImage::from_raw(width as u32, height as u32, rgb)
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::decode::{decode_rgb, Decoders};
    use crate::hash::pdq::PdqFeatures;

    // The tests that need a library are `#[ignore = "needs …"]`, so that a plain `cargo test`
    // on a machine without it lists them as ignored; run anyway (`--include-ignored`, as
    // `.ci/run` does), they fail here when it is missing instead of passing unchecked.

    fn with_libjpeg_turbo() -> &'static SystemDecoders {
        let system = SystemDecoders::detect();
        assert!(system.jpeg().is_some(), "libjpeg-turbo (libturbojpeg) is not installed");
        system
    }

    fn with_libwebp() -> &'static SystemDecoders {
        let system = SystemDecoders::detect();
        assert!(system.webp().is_some(), "libwebp is not installed");
        system
    }

    /// Every fixture of `format`, by content.
    fn fixtures(format: ImageFormat) -> Vec<(PathBuf, Vec<u8>)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut found: Vec<_> = walkdir::WalkDir::new(root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|entry| entry.file_type().is_file())
            .map(|entry| (entry.path().to_path_buf(), std::fs::read(entry.path()).unwrap()))
            .filter(|(_, bytes)| image::guess_format(bytes).ok() == Some(format))
            .collect();
        found.sort();
        found
    }

    fn name(path: &Path) -> String {
        path.file_name().unwrap().to_string_lossy().into_owned()
    }

    #[test]
    #[ignore = "needs libwebp"]
    fn libwebp_gives_the_pixels_of_the_builtin_decoder() {
        let system = with_libwebp();
        let limits = DecodeLimits::default();
        let mut decoded = Vec::new();
        for (path, bytes) in fixtures(ImageFormat::WebP) {
            let builtin = decode_rgb(&bytes, ImageFormat::WebP, limits, Decoders::BuiltinOnly);
            match system.decode(&bytes, ImageFormat::WebP, &limits) {
                Some((rgb, warning)) => {
                    assert_eq!(warning, None, "{}", path.display());
                    assert_eq!(Ok(rgb), builtin, "{}", path.display());
                    decoded.push(name(&path));
                }
                None => println!("{}: left to the built-in decoder", path.display()),
            }
        }
        decoded.sort();
        // The still pictures, alpha and palettes among them; not the animation, nor the
        // truncated file.
        assert_eq!(
            decoded,
            ["F.webp", "HSV.webp", "I.webp", "LAB.webp", "PA.webp", "pen-small.webp"],
        );
    }

    #[test]
    #[ignore = "needs libjpeg-turbo"]
    fn libjpeg_turbo_hashes_within_two_bits_of_the_builtin_decoder() {
        let decoders = with_libjpeg_turbo();
        let limits = DecodeLimits::default();
        let (mut decoded, mut refused) = (0, Vec::new());
        for (path, bytes) in fixtures(ImageFormat::Jpeg) {
            let builtin = decode_rgb(&bytes, ImageFormat::Jpeg, limits, Decoders::BuiltinOnly);
            let Some((rgb, _warning)) = decoders.decode(&bytes, ImageFormat::Jpeg, &limits) else {
                refused.push(name(&path));
                continue;
            };
            let builtin = builtin.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(rgb.dimensions(), builtin.dimensions(), "{}", path.display());
            let (system, builtin) =
                (PdqFeatures::from_image(&rgb), PdqFeatures::from_image(&builtin));
            let distance = system.hash().distance(&builtin.hash());
            println!("{distance:>2} bits, quality {:>3}  {}", builtin.quality(), path.display());
            // Below quality 50 (which matching ignores by default) a flat picture's hash
            // turns on rounding: one fixture of quality 3 is 6 bits apart.
            if builtin.quality() >= 50 {
                assert!(distance <= 2, "{}: {distance} bits apart", path.display());
            }
            decoded += 1;
        }
        assert!(decoded >= 40, "only {decoded} fixture JPEGs decoded");
        refused.sort();
        // CMYK has no conversion in libjpeg-turbo; the rest are broken files.
        assert_eq!(refused, ["CMYK.jpg", "corrupt.jpg", "truncated.jpg"]);
    }

    #[test]
    #[ignore = "needs libjpeg-turbo and libwebp"]
    fn refusals_leave_the_file_and_its_errors_to_the_builtin_decoders() {
        with_libwebp();
        let system = with_libjpeg_turbo();
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/screening/distinct/coffee.jpg");
        let jpeg = std::fs::read(&path).unwrap();
        let (width, height) = image::load_from_memory(&jpeg).unwrap().to_rgb8().dimensions();
        let few = DecodeLimits {
            max_pixels: u64::from(width) * u64::from(height) - 1,
            ..DecodeLimits::default()
        };
        assert!(system.decode(&jpeg, ImageFormat::Jpeg, &few).is_none(), "{}", path.display());
        // Cut off inside its entropy-coded data, a JPEG still decodes, its missing rows flat
        // grey, with the warning that says so.
        let cut = system.decode(
            &jpeg[..jpeg.len() * 6 / 10],
            ImageFormat::Jpeg,
            &DecodeLimits::default(),
        );
        let (cut, warning) = cut.expect("a cut-off JPEG decodes");
        assert!(cut.rows().next_back().unwrap().all(|pixel| pixel.0 == [128; 3]));
        assert_eq!(warning.as_deref(), Some("Premature end of JPEG file"));
        let narrow = DecodeLimits { max_dimension: width.min(height) - 1, ..few };
        for (bytes, format, limits) in [
            (&jpeg[..], ImageFormat::Jpeg, few),
            (&jpeg[..], ImageFormat::Jpeg, narrow),
            (&b"\xff\xd8\xff\xe0garbage"[..], ImageFormat::Jpeg, DecodeLimits::default()),
            (&b"RIFF\x10\0\0\0WEBPVP8 garbage"[..], ImageFormat::WebP, DecodeLimits::default()),
        ] {
            let builtin = decode_rgb(bytes, format, limits, Decoders::BuiltinOnly);
            assert!(builtin.is_err());
            assert_eq!(
                decode_rgb(bytes, format, limits, Decoders::System(SystemDecoders::detect())),
                builtin
            );
        }
    }
}
