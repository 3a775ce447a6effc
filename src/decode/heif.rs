//! HEIC, HEIF and AVIF stills decoded with the system's libheif, found at run time.
//!
//! Owns loading libheif (`dlopen`, as [`super::system`] loads libjpeg-turbo and libwebp:
//! nothing is linked, so building needs only the Rust toolchain), decoding the primary
//! picture of a HEIF file from memory to RGB8 under the decoding limits, the time limit and
//! the scan's memory budget, and the error a HEIF picture is when libheif is not there. There
//! is no built-in decoder to fall back on: without libheif (not installed, or
//! [`Decoders::BuiltinOnly`]) a HEIF picture is an error naming `apt-get install libheif1`,
//! never clean.
//!
//! Orientation: libheif applies the container's transformations (`clap` crop, `irot`
//! rotation, `imir` mirror), as it does by default and as pillow-heif and every viewer do, so
//! the pixels are the picture as shown. An Exif orientation tag inside a HEIF file is not
//! applied on top: the HEIF specification makes the container's transformations the only
//! ones, and pillow-heif ignores that tag too.
//!
//! Must not: decide what a file is ([`crate::sniff`] does), or hash.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use image::RgbImage;

use super::system::{function, open, SystemDecoders};
use super::{
    room_for_decoder, timed_out, within, DecodeLimits, Decoders, Picture, ROOM_BYTES_PER_PIXEL,
};
use crate::error::{FileError, FileErrorKind, Setting};

/// Whether `media_type` (as [`crate::sniff`] types it) is a picture that libheif decodes.
pub fn decodes(media_type: &str) -> bool {
    matches!(media_type, "image/heif" | "image/avif")
}

/// The primary picture of the HEIF or AVIF file in `bytes` (of `media_type`), decoded by
/// libheif if `decoders` have it, within `timeout` and `limits`. A picture libheif decoded
/// past damage is `Ok`, [`Picture::damage`] saying what it reported.
pub fn decode_heif(
    bytes: &Arc<Vec<u8>>,
    media_type: &'static str,
    limits: DecodeLimits,
    timeout: Duration,
    decoders: Decoders,
) -> Result<Picture, FileError> {
    let Some(libheif) = decoders.system().and_then(SystemDecoders::libheif) else {
        return Err(missing(media_type, decoders));
    };
    let bytes = Arc::clone(bytes);
    within(timeout, move || libheif.decode(&bytes, media_type, &limits))
        .unwrap_or_else(|| Err(timed_out(timeout)))
        .and_then(|decoded| decoded)
}

/// Why a HEIF picture was not decoded, `decoders` having no libheif.
fn missing(media_type: &str, decoders: Decoders) -> FileError {
    let (kind, why) = match decoders {
        Decoders::BuiltinOnly => (
            FileErrorKind::Unsupported { media_type: media_type.to_string() },
            "the built-in decoders alone were asked for, and only libheif decodes it",
        ),
        Decoders::System(_) => (
            FileErrorKind::NeedsTool { tool: "libheif" },
            "libheif is not installed (apt-get install libheif1)",
        ),
    };
    FileError::new(
        kind,
        format!(
            "{media_type} cannot be decoded here: {why}, so only exact digests were matched \
             (libheif decodes HEIC, HEIF and AVIF: apt-get install libheif1)"
        ),
    )
}

// Opaque types of heif.h.
#[repr(C)]
struct Context([u8; 0]);
#[repr(C)]
struct Handle([u8; 0]);
#[repr(C)]
struct Image([u8; 0]);

/// heif.h's `struct heif_error`, returned by value.
#[repr(C)]
#[derive(Clone, Copy)]
struct HeifError {
    code: c_int,
    subcode: c_int,
    /// Never null, by heif.h's word; static or the context's, so read before it is freed.
    message: *const c_char,
}

// `enum heif_error_code`, `heif_suberror_code`, `heif_colorspace`, `heif_chroma` and
// `heif_channel` values of heif.h.
const HEIF_ERROR_OK: c_int = 0;
const HEIF_ERROR_UNSUPPORTED_FILETYPE: c_int = 3;
const HEIF_ERROR_UNSUPPORTED_FEATURE: c_int = 4;
const HEIF_SUBERROR_SECURITY_LIMIT_EXCEEDED: c_int = 1000;
const HEIF_COLORSPACE_RGB: c_int = 1;
const HEIF_CHROMA_INTERLEAVED_RGB: c_int = 10;
const HEIF_CHANNEL_INTERLEAVED: c_int = 10;

/// libheif's decoding API, as heif.h declares it since libheif 1.3 (`heif_init` since 1.13,
/// `heif_image_get_decoding_warnings` since 1.13 too).
pub(super) struct Libheif {
    name: String,
    context_alloc: unsafe extern "C" fn() -> *mut Context,
    context_free: unsafe extern "C" fn(*mut Context),
    read_from_memory_without_copy:
        unsafe extern "C" fn(*mut Context, *const c_void, usize, *const c_void) -> HeifError,
    set_maximum_image_size_limit: unsafe extern "C" fn(*mut Context, c_int),
    set_max_decoding_threads: unsafe extern "C" fn(*mut Context, c_int),
    primary_image_handle: unsafe extern "C" fn(*mut Context, *mut *mut Handle) -> HeifError,
    handle_width: unsafe extern "C" fn(*const Handle) -> c_int,
    handle_height: unsafe extern "C" fn(*const Handle) -> c_int,
    handle_release: unsafe extern "C" fn(*const Handle),
    decode_image: unsafe extern "C" fn(
        *const Handle,
        *mut *mut Image,
        c_int,
        c_int,
        *const c_void,
    ) -> HeifError,
    image_width: unsafe extern "C" fn(*const Image, c_int) -> c_int,
    image_height: unsafe extern "C" fn(*const Image, c_int) -> c_int,
    bits_per_pixel: unsafe extern "C" fn(*const Image, c_int) -> c_int,
    plane_readonly: unsafe extern "C" fn(*const Image, c_int, *mut c_int) -> *const u8,
    decoding_warnings:
        Option<unsafe extern "C" fn(*mut Image, c_int, *mut HeifError, c_int) -> c_int>,
    image_release: unsafe extern "C" fn(*const Image),
}

/// Runs its function when dropped: frees what libheif allocated on every way out.
struct Release<F: FnMut()>(F);

impl<F: FnMut()> Drop for Release<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

impl Libheif {
    /// libheif where the system's loader finds it, looked for once: it stays loaded, and
    /// initialised, for the rest of the process.
    pub(super) fn detect() -> Option<&'static Libheif> {
        static DETECTED: OnceLock<Option<Libheif>> = OnceLock::new();
        DETECTED.get_or_init(Libheif::load).as_ref()
    }

    fn load() -> Option<Libheif> {
        let (library, name) = open("heif", 1, "libheif.dll")?;
        // SAFETY: the signatures are heif.h's (libheif 1.15, unchanged since they appeared).
        unsafe {
            let version: unsafe extern "C" fn() -> *const c_char =
                function(library, "heif_get_version")?;
            let version = version();
            if version.is_null() {
                return None;
            }
            let version = CStr::from_ptr(version).to_string_lossy();
            // Registers the codecs that newer libheifs ship as plugins (Debian 13's
            // libheif-plugin-libde265…); 1.15 registers its built-in ones at load and counts
            // the call. Made once, here, before any decoding thread uses the library.
            let init: Option<unsafe extern "C" fn(*const c_void) -> HeifError> =
                function(library, "heif_init");
            if let Some(init) = init {
                if init(std::ptr::null()).code != HEIF_ERROR_OK {
                    return None;
                }
            }
            Some(Libheif {
                name: format!("libheif {version} ({name})"),
                context_alloc: function(library, "heif_context_alloc")?,
                context_free: function(library, "heif_context_free")?,
                read_from_memory_without_copy: function(
                    library,
                    "heif_context_read_from_memory_without_copy",
                )?,
                set_maximum_image_size_limit: function(
                    library,
                    "heif_context_set_maximum_image_size_limit",
                )?,
                set_max_decoding_threads: function(
                    library,
                    "heif_context_set_max_decoding_threads",
                )?,
                primary_image_handle: function(library, "heif_context_get_primary_image_handle")?,
                handle_width: function(library, "heif_image_handle_get_width")?,
                handle_height: function(library, "heif_image_handle_get_height")?,
                handle_release: function(library, "heif_image_handle_release")?,
                decode_image: function(library, "heif_decode_image")?,
                image_width: function(library, "heif_image_get_width")?,
                image_height: function(library, "heif_image_get_height")?,
                bits_per_pixel: function(library, "heif_image_get_bits_per_pixel")?,
                plane_readonly: function(library, "heif_image_get_plane_readonly")?,
                decoding_warnings: function(library, "heif_image_get_decoding_warnings"),
                image_release: function(library, "heif_image_release")?,
            })
        }
    }

    /// The library and its version, for reports: `libheif 1.15.1 (libheif.so.1)`.
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// The primary picture of `bytes`, transformations applied, as RGB8 (alpha dropped, a
    /// deeper picture narrowed to 8 bits by libheif), and what libheif warned of if it went
    /// on past damage.
    fn decode(
        &self,
        bytes: &[u8],
        media_type: &str,
        limits: &DecodeLimits,
    ) -> Result<Picture, FileError> {
        let checked = |error| checked(error, media_type);
        // SAFETY: no arguments; a null context is a failure, checked.
        let context = unsafe { (self.context_alloc)() };
        if context.is_null() {
            return Err(FileError::io("libheif could not allocate a decoding context"));
        }
        // SAFETY: allocated above, freed once, after everything taken from it.
        let _context = Release(|| unsafe { (self.context_free)(context) });
        // SAFETY: a valid context. libheif refuses an `ispe` of a side over this (its
        // "security limit") while reading, before anything of that size is allocated. The
        // scan decodes one file per worker: libheif's own tile threads would only
        // oversubscribe the cores.
        unsafe {
            (self.set_maximum_image_size_limit)(
                context,
                c_int::try_from(limits.max_dimension).unwrap_or(c_int::MAX),
            );
            (self.set_max_decoding_threads)(context, 0);
        }
        // SAFETY: `bytes` outlives the context, which is freed at the end of this function.
        let read = unsafe {
            (self.read_from_memory_without_copy)(
                context,
                bytes.as_ptr().cast(),
                bytes.len(),
                std::ptr::null(),
            )
        };
        checked(read)?;
        let mut handle = std::ptr::null_mut();
        // SAFETY: a valid context, and a valid place for the handle.
        checked(unsafe { (self.primary_image_handle)(context, &mut handle) })?;
        // SAFETY: a handle libheif gave, released once.
        let _handle = Release(|| unsafe { (self.handle_release)(handle) });
        // SAFETY: a valid handle. Its size is the picture's as shown, transformations
        // applied; nothing is decoded yet.
        let (width, height) =
            unsafe { ((self.handle_width)(handle), (self.handle_height)(handle)) };
        let (width, height) = within_limits(width, height, limits)?;
        let pixels = u64::from(width) * u64::from(height);
        let _room = room_for_decoder(pixels * ROOM_BYTES_PER_PIXEL, limits, || {
            format!("a {width}x{height} HEIF picture")
        })?;
        let mut image = std::ptr::null_mut();
        // SAFETY: a valid handle and place for the image; null options are libheif's
        // defaults (transformations applied, lenient decoding).
        let decoded = unsafe {
            (self.decode_image)(
                handle,
                &mut image,
                HEIF_COLORSPACE_RGB,
                HEIF_CHROMA_INTERLEAVED_RGB,
                std::ptr::null(),
            )
        };
        checked(decoded)?;
        // SAFETY: an image libheif gave, released once.
        let _image = Release(|| unsafe { (self.image_release)(image) });
        let rgb = self.rgb(image, limits)?;
        Ok(Picture { rgb, damage: self.warning(image) })
    }

    /// The pixels of a decoded interleaved RGB `image`, copied out of libheif's rows.
    fn rgb(&self, image: *mut Image, limits: &DecodeLimits) -> Result<RgbImage, FileError> {
        let channel = HEIF_CHANNEL_INTERLEAVED;
        // SAFETY: a valid image; a channel it lacks is -1, checked.
        let (width, height, bits) = unsafe {
            (
                (self.image_width)(image, channel),
                (self.image_height)(image, channel),
                (self.bits_per_pixel)(image, channel),
            )
        };
        // The coded picture may differ from the size the file declared: checked again.
        let (width, height) = within_limits(width, height, limits)?;
        if bits != 24 {
            return Err(FileError::corrupt(format!(
                "libheif gave {bits} bits a pixel where 24 were asked for"
            )));
        }
        let mut stride = 0;
        // SAFETY: a valid image and place for the stride; null if it has no such channel.
        let plane = unsafe { (self.plane_readonly)(image, channel, &mut stride) };
        let row = width as usize * 3;
        let stride = usize::try_from(stride).unwrap_or(0);
        if plane.is_null() || stride < row {
            return Err(FileError::corrupt("libheif gave no RGB pixels"));
        }
        let mut rgb = Vec::with_capacity(row * height as usize);
        for y in 0..height as usize {
            // SAFETY: the plane holds `height` rows of `stride` bytes, the first `row` of
            // each being pixels, valid while the image is.
            rgb.extend_from_slice(unsafe {
                std::slice::from_raw_parts(plane.add(y * stride), row)
            });
        }
        Ok(RgbImage::from_raw(width, height, rgb).expect("one RGB pixel per pixel"))
    }

    /// The first warning libheif gave while decoding `image` (it goes on past some damage,
    /// filling in), as the damage that keeps the file from being clean.
    fn warning(&self, image: *mut Image) -> Option<FileError> {
        let warnings = self.decoding_warnings?;
        let mut warning = HeifError { code: 0, subcode: 0, message: std::ptr::null() };
        // SAFETY: a valid image, and room for one warning.
        if unsafe { warnings(image, 0, &mut warning, 1) } < 1 {
            return None;
        }
        Some(FileError::corrupt(format!(
            "damaged HEIF data (libheif: {}): hashed what decoded",
            message(&warning)
        )))
    }
}

/// `width` and `height` as a picture's size, if the limits allow it.
fn within_limits(
    width: c_int,
    height: c_int,
    limits: &DecodeLimits,
) -> Result<(u32, u32), FileError> {
    let (Ok(width @ 1..), Ok(height @ 1..)) = (u32::try_from(width), u32::try_from(height)) else {
        return Err(FileError::corrupt("the HEIF picture has no pixels"));
    };
    if width.max(height) > limits.max_dimension {
        return Err(FileError::limit(
            Setting::DecodeBounds,
            format!("{width}x{height} is over the {} px limit on a side", limits.max_dimension),
            ": not decoded",
        ));
    }
    limits.check_pixels(width, height)?;
    if u64::from(width) * u64::from(height) * 3 > limits.max_alloc {
        return Err(FileError::limit(
            Setting::DecodeBounds,
            format!("{width}x{height} is over the {}-byte allocation limit", limits.max_alloc),
            ": not decoded",
        ));
    }
    Ok((width, height))
}

/// `Ok` for libheif's success, else the file's error, by what libheif said.
fn checked(error: HeifError, media_type: &str) -> Result<(), FileError> {
    if error.code == HEIF_ERROR_OK {
        return Ok(());
    }
    let text = format!("libheif: {}", message(&error));
    Err(match (error.code, error.subcode) {
        (_, HEIF_SUBERROR_SECURITY_LIMIT_EXCEEDED) => {
            FileError::limit(Setting::DecodeBounds, text, ": not decoded")
        }
        (HEIF_ERROR_UNSUPPORTED_FILETYPE | HEIF_ERROR_UNSUPPORTED_FEATURE, _) => {
            FileError::new(FileErrorKind::Unsupported { media_type: media_type.into() }, text)
        }
        _ => FileError::corrupt(text),
    })
}

/// The text of a libheif error or warning.
fn message(error: &HeifError) -> String {
    if error.message.is_null() {
        return format!("error {}.{}", error.code, error.subcode);
    }
    // SAFETY: not null, NUL-terminated, and alive while the context is.
    unsafe { CStr::from_ptr(error.message) }.to_string_lossy().trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Arc<Vec<u8>> {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/heif").join(name);
        Arc::new(std::fs::read(path).unwrap())
    }

    fn decode(bytes: &Arc<Vec<u8>>, limits: DecodeLimits) -> Result<Picture, FileError> {
        let decoders = Decoders::detect();
        assert!(decoders.heif().is_some(), "libheif is not installed");
        decode_heif(bytes, "image/heif", limits, Duration::from_secs(30), decoders)
    }

    #[test]
    fn without_libheif_the_reason_says_how_to_install_it() {
        let absent = missing("image/avif", Decoders::System(SystemDecoders::detect()));
        assert_eq!(absent.kind, FileErrorKind::NeedsTool { tool: "libheif" });
        assert_eq!(
            absent.to_string(),
            "image/avif cannot be decoded here: libheif is not installed (apt-get install \
             libheif1), so only exact digests were matched (libheif decodes HEIC, HEIF and \
             AVIF: apt-get install libheif1)"
        );
        let builtin = missing("image/heif", Decoders::BuiltinOnly);
        assert_eq!(builtin.kind, FileErrorKind::Unsupported { media_type: "image/heif".into() });
        assert!(builtin.to_string().contains("apt-get install libheif1"), "{builtin}");
    }

    #[test]
    #[ignore = "needs libheif"]
    fn pictures_over_the_limits_are_refused_before_decoding() {
        let heic = fixture("bridge.heic");
        assert_eq!(decode(&heic, DecodeLimits::default()).unwrap().rgb.dimensions(), (800, 502));
        let few = DecodeLimits { max_pixels: 800 * 502 - 1, ..DecodeLimits::default() };
        let error = decode(&heic, few).unwrap_err();
        assert_eq!(error.kind, FileErrorKind::Limit { which: Setting::MaxPixels });
        assert_eq!(
            error.to_string(),
            "800x502 is 401600 pixels, over the 401599 limit: not decoded"
        );
        // A side over the limit is refused by libheif itself, from the `ispe` box.
        let narrow = DecodeLimits { max_dimension: 640, ..DecodeLimits::default() };
        let error = decode(&heic, narrow).unwrap_err();
        assert_eq!(error.kind, FileErrorKind::Limit { which: Setting::DecodeBounds }, "{error}");
    }

    #[test]
    #[ignore = "needs libheif"]
    fn damaged_files_are_errors_not_crashes() {
        let heic = fixture("bridge.heic");
        for cut in [16, 200, heic.len() / 2, heic.len() - 1] {
            let cut = Arc::new(heic[..cut].to_vec());
            match decode(&cut, DecodeLimits::default()) {
                Err(error) => assert!(error.to_string().starts_with("libheif: "), "{error}"),
                Ok(picture) => assert!(picture.damage.is_some(), "{} bytes: clean", cut.len()),
            }
        }
        let garbage = Arc::new(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic garbage".to_vec());
        let error = decode(&garbage, DecodeLimits::default()).unwrap_err();
        assert_eq!(error.kind, FileErrorKind::Corrupt, "{error}");
    }
}
