//! Images in: encoded files (JPEG, PNG, WebP) with their EXIF orientation applied, or raw pixel
//! buffers as phones hand them over (RGBA from an Android `Bitmap`, BGRA or RGBA from a `CGImage`).

use std::any::Any;
use std::io::Cursor;
use std::panic;

use image::metadata::Orientation as ExifTransform;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
use mozjpeg::decompress::DecompressStarted;
use mozjpeg::{ColorSpace, Decompress, Marker};

use crate::engine::contract::resized_size;
use crate::error::{Error, Result};

/// Smallest accepted side: a 1-pixel-wide picture holds no object to segment.
pub const MIN_IMAGE_SIDE: u32 = 2;
/// Largest accepted picture, checked from the header before any pixel is decoded. 120 megapixels
/// covers today's 108 MP phone sensors; the decoded RGB copy is then at most 360 MB.
pub const MAX_IMAGE_PIXELS: u64 = 120_000_000;
/// Memory a decoder may allocate for one image (decoded buffer included).
const MAX_DECODER_ALLOC: u64 = 1 << 30;

/// An 8-bit RGB image, rows packed without padding, upright (orientation already applied).
#[derive(Clone, PartialEq, Eq)]
pub struct RgbImage {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl std::fmt::Debug for RgbImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RgbImage({}x{})", self.width, self.height)
    }
}

impl RgbImage {
    /// Wraps packed RGB bytes; the caller guarantees `pixels.len() == width * height * 3`.
    pub(crate) fn from_packed(width: u32, height: u32, pixels: Vec<u8>) -> Self {
        debug_assert_eq!(pixels.len(), width as usize * height as usize * 3);
        RgbImage {
            width,
            height,
            pixels,
        }
    }

    /// Checks the size and wraps packed RGB bytes.
    pub fn new(width: u32, height: u32, pixels: Vec<u8>) -> Result<Self> {
        check_size(width, height)?;
        let expected = width as usize * height as usize * 3;
        if pixels.len() != expected {
            return Err(Error::bad_image(format!(
                "{width}x{height} RGB needs {expected} bytes, got {}",
                pixels.len()
            )));
        }
        Ok(Self::from_packed(width, height, pixels))
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// Packed RGB bytes, row after row.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The picture turned upright, when its pixels are stored in `orientation` (a phone camera's
    /// buffer held sideways, a `UIImage`'s `CGImage`).
    pub fn oriented(self, orientation: Orientation) -> RgbImage {
        self.transformed(orientation.transform())
    }

    fn transformed(self, transform: ExifTransform) -> RgbImage {
        if transform == ExifTransform::NoTransforms {
            return self;
        }
        let (width, height) = (self.width, self.height);
        let stored = image::RgbImage::from_raw(width, height, self.pixels)
            .expect("an RgbImage holds width * height * 3 bytes");
        let mut image = DynamicImage::ImageRgb8(stored);
        image.apply_orientation(transform);
        let rgb = image.into_rgb8();
        let (width, height) = rgb.dimensions();
        RgbImage::from_packed(width, height, rgb.into_raw())
    }
}

/// How a picture's stored pixels must be turned to stand upright: the eight EXIF orientations,
/// named (as `UIImage.Orientation` names them) after the transform that makes them upright.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Orientation {
    /// EXIF 1: stored upright.
    #[default]
    Up,
    /// EXIF 2: mirrored left to right.
    UpMirrored,
    /// EXIF 3: upside down.
    Down,
    /// EXIF 4: mirrored top to bottom.
    DownMirrored,
    /// EXIF 5: mirrored along the top-left to bottom-right diagonal.
    LeftMirrored,
    /// EXIF 6: upright after a quarter turn clockwise (a phone held in portrait, sensor landscape).
    Right,
    /// EXIF 7: mirrored along the other diagonal.
    RightMirrored,
    /// EXIF 8: upright after a quarter turn anticlockwise.
    Left,
}

impl Orientation {
    /// The orientation an EXIF `Orientation` tag (1...8) names.
    pub fn from_exif(value: u8) -> Option<Self> {
        use Orientation::*;
        [
            Up,
            UpMirrored,
            Down,
            DownMirrored,
            LeftMirrored,
            Right,
            RightMirrored,
            Left,
        ]
        .get(usize::from(value).checked_sub(1)?)
        .copied()
    }

    fn transform(self) -> ExifTransform {
        match self {
            Orientation::Up => ExifTransform::NoTransforms,
            Orientation::UpMirrored => ExifTransform::FlipHorizontal,
            Orientation::Down => ExifTransform::Rotate180,
            Orientation::DownMirrored => ExifTransform::FlipVertical,
            Orientation::LeftMirrored => ExifTransform::Rotate90FlipH,
            Orientation::Right => ExifTransform::Rotate90,
            Orientation::RightMirrored => ExifTransform::Rotate270FlipH,
            Orientation::Left => ExifTransform::Rotate270,
        }
    }
}

/// Byte order of one pixel in a raw buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// R, G, B, A: Android `Bitmap.Config.ARGB_8888` in memory, `CGImage` with alpha last.
    Rgba8,
    /// B, G, R, A: the usual iOS `CGImage`/`CVPixelBuffer` layout (32-bit little-endian, alpha first).
    Bgra8,
    /// R, G, B without alpha.
    Rgb8,
}

impl PixelFormat {
    fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Rgba8 | PixelFormat::Bgra8 => 4,
            PixelFormat::Rgb8 => 3,
        }
    }
}

/// Rejects pictures the pipeline cannot handle, before anything is allocated for them.
pub(crate) fn check_size(width: u32, height: u32) -> Result<()> {
    let unsupported = |detail: String| Error::UnsupportedImageSize {
        width,
        height,
        detail,
    };
    if width < MIN_IMAGE_SIDE || height < MIN_IMAGE_SIDE {
        return Err(unsupported(format!(
            "each side must be at least {MIN_IMAGE_SIDE} pixels"
        )));
    }
    if width as u64 * height as u64 > MAX_IMAGE_PIXELS {
        return Err(unsupported(format!(
            "more than the {MAX_IMAGE_PIXELS} pixels this library decodes"
        )));
    }
    let (new_w, new_h) = resized_size(width, height);
    if new_w == 0 || new_h == 0 {
        return Err(unsupported(
            "too thin: its short side vanishes when the long side is scaled to 1024".into(),
        ));
    }
    Ok(())
}

/// Decodes a JPEG, PNG or WebP file to upright RGB, applying its EXIF orientation.
///
/// Alpha is dropped (not composited), grey is replicated, 16-bit samples are rounded to 8 bits.
/// JPEGs go through libjpeg-turbo's code (see [`decode_jpeg`]), the other formats through `image`.
///
/// Memory: the size is checked from the header first ([`check_size`]: nothing is decoded above
/// [`MAX_IMAGE_PIXELS`]); the decoder then allocates at most 1 GiB, and the upright RGB copy
/// takes 3 bytes a pixel on top (a 100-megapixel decompression-bomb PNG peaks at about 380 MiB).
pub fn decode_image(bytes: &[u8]) -> Result<RgbImage> {
    if bytes.is_empty() {
        return Err(Error::bad_image("the image data is empty"));
    }
    if is_jpeg(bytes) {
        return decode_jpeg(bytes);
    }
    decode_with_image_crate(bytes)
}

/// The JPEG signature (SOI and the start of the next marker), the test `image`'s format guess uses.
fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// Decodes PNG and WebP (and anything else `image` recognises) with `image`.
fn decode_with_image_crate(bytes: &[u8]) -> Result<RgbImage> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::bad_image(format!("cannot read the image data: {e}")))?;
    let Some(format) = reader.format() else {
        return Err(Error::bad_image(
            "not a recognised image format (JPEG, PNG or WebP expected)",
        ));
    };
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODER_ALLOC);
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| Error::bad_image(format!("cannot decode this {format:?} image: {e}")))?;
    let (stored_w, stored_h) = decoder.dimensions();
    check_size(stored_w, stored_h)?;
    // A damaged EXIF block should not cost the user the picture: fall back to upright.
    let orientation = decoder.orientation().unwrap_or(ExifTransform::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder)
        .map_err(|e| Error::bad_image(format!("cannot decode this {format:?} image: {e}")))?;
    image.apply_orientation(orientation);
    let rgb = image.into_rgb8();
    let (width, height) = rgb.dimensions();
    Ok(RgbImage::from_packed(width, height, rgb.into_raw()))
}

/// Decodes a JPEG with libjpeg-turbo's code (built from source by the `mozjpeg` crate): the
/// decoder Pillow uses, so the pixels match the official Python pipeline bit for bit. `image`'s
/// JPEG decoder (zune-jpeg) rounds its IDCT and chroma upsampling differently and is off by up to
/// 4 grey levels on about 1 % of the pixels.
fn decode_jpeg(bytes: &[u8]) -> Result<RgbImage> {
    let layout = read_jpeg_layout(bytes)?;
    // mozjpeg reports libjpeg's fatal errors by unwinding out of the C code: catch that here, so
    // that a broken file is a typed error and never a panic in the caller.
    let decoded = panic::catch_unwind(|| decode_jpeg_pixels(bytes, &layout))
        .unwrap_or_else(|payload| Err(libjpeg_error(payload)))?;
    upright(decoded)
}

/// Pixels as libjpeg delivers them, before the EXIF orientation is applied.
struct DecodedJpeg {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
    orientation: ExifTransform,
}

/// Reads the header, checks the size and memory, then decodes to RGB the way Pillow does:
/// libjpeg converts YCbCr, RGB and grey to RGB itself; CMYK and YCCK come out as CMYK and go
/// through Pillow's own CMYK -> RGB formula.
fn decode_jpeg_pixels(bytes: &[u8], layout: &JpegLayout) -> Result<DecodedJpeg> {
    let header = Decompress::with_markers(&[Marker::APP(1)])
        .from_mem(bytes)
        .map_err(jpeg_io_error)?;
    let width = u32::try_from(header.width()).unwrap_or(u32::MAX);
    let height = u32::try_from(header.height()).unwrap_or(u32::MAX);
    check_size(width, height)?;
    let cmyk = matches!(
        header.color_space(),
        ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK
    );
    check_jpeg_memory(&header, layout, cmyk)?;
    let orientation = jpeg_orientation(&header);
    let rgb = if cmyk {
        let started = header.to_colorspace(ColorSpace::JCS_CMYK);
        pillow_cmyk_to_rgb(&read_all_scanlines(started.map_err(jpeg_io_error)?)?)
    } else {
        read_all_scanlines(header.rgb().map_err(jpeg_io_error)?)?
    };
    if rgb.len() != width as usize * height as usize * 3 {
        return Err(Error::bad_image(format!(
            "libjpeg returned {} bytes for {width}x{height} RGB pixels",
            rgb.len()
        )));
    }
    Ok(DecodedJpeg {
        width,
        height,
        rgb,
        orientation,
    })
}

fn read_all_scanlines<R>(mut started: DecompressStarted<R>) -> Result<Vec<u8>> {
    let pixels = started.read_scanlines::<u8>().map_err(jpeg_io_error)?;
    started.finish().map_err(jpeg_io_error)?;
    Ok(pixels)
}

fn jpeg_io_error(e: std::io::Error) -> Error {
    Error::bad_image(format!("cannot decode this JPEG: {e}"))
}

/// Turns a libjpeg fatal error (a panic payload carrying its message) into a typed error.
fn libjpeg_error(payload: Box<dyn Any + Send>) -> Error {
    let message = match (
        payload.downcast_ref::<String>(),
        payload.downcast_ref::<&str>(),
    ) {
        (Some(s), _) => s.clone(),
        (None, Some(s)) => (*s).to_string(),
        (None, None) => "libjpeg fatal error".to_string(),
    };
    Error::bad_image(format!("cannot decode this JPEG: {message}"))
}

/// Refuses a JPEG whose decoding would take more than [`MAX_DECODER_ALLOC`], the bound `image`
/// enforces for the other formats. Besides the output, libjpeg keeps the whole picture's DCT
/// coefficients (64 `i16` per 8x8 block of each component, padded to whole MCUs) when the file
/// has several scans.
fn check_jpeg_memory<R>(header: &Decompress<R>, layout: &JpegLayout, cmyk: bool) -> Result<()> {
    let pixels = header.width() as u64 * header.height() as u64;
    let output = pixels * if cmyk { 4 + 3 } else { 3 };
    let coefficients: u64 = if layout.multi_scan {
        header
            .components()
            .iter()
            .map(|c| {
                let blocks_w = round_up(c.width_in_blocks as u64, c.h_samp_factor.max(1) as u64);
                let blocks_h = round_up(c.height_in_blocks as u64, c.v_samp_factor.max(1) as u64);
                blocks_w * blocks_h * 64 * 2
            })
            .sum()
    } else {
        0
    };
    let needed = output + coefficients;
    if needed > MAX_DECODER_ALLOC {
        return Err(Error::bad_image(format!(
            "decoding this JPEG needs about {} MiB of memory, more than the {} MiB allowed",
            needed >> 20,
            MAX_DECODER_ALLOC >> 20
        )));
    }
    Ok(())
}

fn round_up(value: u64, multiple: u64) -> u64 {
    value.div_ceil(multiple) * multiple
}

/// The orientation in the first APP1 "Exif" segment (the one Pillow reads). A damaged EXIF block
/// falls back to upright, as for the other formats.
fn jpeg_orientation<R>(header: &Decompress<R>) -> ExifTransform {
    header
        .markers()
        .find_map(|m| m.data.strip_prefix(b"Exif\0\0".as_slice()))
        .and_then(ExifTransform::from_exif_chunk)
        .unwrap_or(ExifTransform::NoTransforms)
}

/// Pillow's CMYK -> RGB (`Convert.c`, `cmyk2rgb`) for libjpeg's CMYK output. Pillow reads JPEG
/// CMYK as Adobe's inverted convention ("CMYK;I"), so its `255 - K` is libjpeg's K and its C is
/// `255 - C`; the product is divided by 255 with Pillow's rounding.
fn pillow_cmyk_to_rgb(cmyk: &[u8]) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(cmyk.len() / 4 * 3);
    for px in cmyk.chunks_exact(4) {
        let k = i32::from(px[3]);
        for &c in &px[..3] {
            let t = (255 - i32::from(c)) * k + 128;
            rgb.push((k - (((t >> 8) + t) >> 8)).clamp(0, 255) as u8);
        }
    }
    rgb
}

/// Applies the EXIF orientation with `image`'s transform, as for the other formats.
fn upright(decoded: DecodedJpeg) -> Result<RgbImage> {
    let DecodedJpeg {
        width,
        height,
        rgb,
        orientation,
    } = decoded;
    Ok(RgbImage::from_packed(width, height, rgb).transformed(orientation))
}

/// What the marker walk learns before libjpeg sees the file.
struct JpegLayout {
    /// libjpeg buffers the whole picture's coefficients: a progressive file, or a first scan that
    /// leaves out some components (libjpeg's `has_multiple_scans`).
    multi_scan: bool,
}

const SOS: u8 = 0xDA;
const EOI: u8 = 0xD9;

/// Walks the markers of a JPEG up to its end-of-image marker (EOI): SOI, then segments skipped by
/// their 2-byte lengths (so the markers of an EXIF thumbnail inside APP1 do not count), and
/// entropy-coded data, where a 0xFF byte is written FF 00 and RSTn markers (FF D0..D7) stand alone.
///
/// A file cut short is refused: libjpeg (through mozjpeg's reader) would make up an EOI and fill
/// in the missing part, while Pillow, and so the official pipeline, refuses it ("image file is
/// truncated"). Bytes after EOI are ignored, as by libjpeg and Pillow: some phones append data
/// there.
fn read_jpeg_layout(bytes: &[u8]) -> Result<JpegLayout> {
    let mut pos = 2; // after SOI
    let mut frame: Option<JpegFrame> = None;
    let mut multi_scan: Option<bool> = None; // known at the first SOS
    loop {
        let Some((marker, after)) = next_marker(bytes, pos) else {
            return Err(truncated_jpeg(if multi_scan.is_some() {
                "the image data ends without an end-of-image marker"
            } else {
                "the file ends inside its header"
            }));
        };
        pos = after;
        match marker {
            EOI => {
                return multi_scan
                    .map(|multi_scan| JpegLayout { multi_scan })
                    .ok_or_else(|| {
                        Error::bad_image(
                            "JPEG without image data: end-of-image marker before any scan",
                        )
                    })
            }
            // Standalone markers: TEM, RST0..RST7, SOI (libjpeg itself refuses a second SOI).
            0x01 | 0xD0..=0xD8 => {}
            _ => {
                let payload = segment_payload(bytes, after)?;
                pos = after + 2 + payload.len();
                if let Some(parsed) = JpegFrame::parse(marker, payload) {
                    frame = Some(parsed);
                }
                if marker == SOS && multi_scan.is_none() {
                    multi_scan = Some(needs_coefficient_buffer(frame.as_ref(), payload));
                }
            }
        }
    }
}

/// The next marker at or after `pos`, and the position just after its code. Like libjpeg, passes
/// over fill bytes (FF FF ..), stuffed zeros (FF 00) and every byte that is not part of a marker
/// (entropy-coded data, or garbage between segments, which libjpeg only warns about).
fn next_marker(bytes: &[u8], mut pos: usize) -> Option<(u8, usize)> {
    loop {
        pos += bytes.get(pos..)?.iter().position(|&b| b == 0xFF)?;
        while bytes.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        match *bytes.get(pos + 1)? {
            0x00 => pos += 2,
            code => return Some((code, pos + 2)),
        }
    }
}

/// The payload of the segment whose 2-byte length (counting itself) starts at `start`.
fn segment_payload(bytes: &[u8], start: usize) -> Result<&[u8]> {
    let Some(&[hi, lo]) = bytes.get(start..start + 2) else {
        return Err(truncated_jpeg("the file ends inside a segment header"));
    };
    let length = usize::from(u16::from_be_bytes([hi, lo]));
    if length < 2 {
        return Err(Error::bad_image(format!(
            "malformed JPEG: a segment length of {length} at byte {start}"
        )));
    }
    bytes
        .get(start + 2..start + length)
        .ok_or_else(|| truncated_jpeg("the file ends inside a segment"))
}

fn truncated_jpeg(detail: &str) -> Error {
    Error::bad_image(format!(
        "truncated JPEG ({detail}): refused like Pillow does rather than decoded with made-up pixels"
    ))
}

/// What a start-of-frame segment says that matters for libjpeg's memory.
struct JpegFrame {
    progressive: bool,
    components: u8,
}

impl JpegFrame {
    /// Parses a SOFn segment (C0..CF except DHT C4, JPG C8 and DAC CC); `None` for other segments
    /// or a frame header too short to hold its component count (libjpeg refuses that file).
    fn parse(marker: u8, payload: &[u8]) -> Option<Self> {
        if !matches!(marker, 0xC0..=0xCF) || matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            return None;
        }
        Some(JpegFrame {
            progressive: matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE),
            components: *payload.get(5)?,
        })
    }
}

/// libjpeg's rule for buffering the whole picture: progressive, or a first scan (whose SOS
/// payload starts with its component count) without all of the frame's components. Without a
/// frame libjpeg refuses the file; count the buffer to be safe.
fn needs_coefficient_buffer(frame: Option<&JpegFrame>, sos_payload: &[u8]) -> bool {
    match (frame, sos_payload.first()) {
        (Some(frame), Some(&in_scan)) => frame.progressive || in_scan < frame.components,
        _ => true,
    }
}

/// Copies a raw pixel buffer (rows `row_stride` bytes apart) into packed RGB.
pub fn from_raw_pixels(
    pixels: &[u8],
    width: u32,
    height: u32,
    row_stride: usize,
    format: PixelFormat,
) -> Result<RgbImage> {
    check_size(width, height)?;
    let bpp = format.bytes_per_pixel();
    let row_bytes = width as usize * bpp;
    if row_stride < row_bytes {
        return Err(Error::bad_image(format!(
            "row stride {row_stride} is shorter than a row of {width} {format:?} pixels ({row_bytes} bytes)"
        )));
    }
    // The last row needs only its pixels, not a full stride (Android bitmaps end that way).
    // In u64, checked: on 32-bit phones a large stride times the height overflows usize, and a
    // stride near usize::MAX overflows even u64 (wrapping could make the need look small).
    let needed = (row_stride as u64)
        .checked_mul(u64::from(height) - 1)
        .and_then(|rows| rows.checked_add(row_bytes as u64))
        .ok_or_else(|| {
            Error::bad_image(format!(
                "row stride {row_stride} times {height} rows is beyond any buffer"
            ))
        })?;
    if (pixels.len() as u64) < needed {
        return Err(Error::bad_image(format!(
            "the buffer holds {} bytes, {width}x{height} {format:?} pixels with stride {row_stride} need {needed}",
            pixels.len()
        )));
    }
    let mut rgb = Vec::with_capacity(width as usize * height as usize * 3);
    for row in pixels.chunks(row_stride).take(height as usize) {
        for px in row[..row_bytes].chunks_exact(bpp) {
            match format {
                PixelFormat::Rgba8 | PixelFormat::Rgb8 => rgb.extend_from_slice(&px[..3]),
                PixelFormat::Bgra8 => rgb.extend_from_slice(&[px[2], px[1], px[0]]),
            }
        }
    }
    Ok(RgbImage::from_packed(width, height, rgb))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where stored pixel (`x`, `y`) of a `w` x `h` picture lands upright, from the EXIF
    /// specification's description of each orientation (independent of `image`'s transforms).
    fn upright_position(exif: u8, x: u32, y: u32, w: u32, h: u32) -> (u32, u32) {
        match exif {
            1 => (x, y),
            2 => (w - 1 - x, y),
            3 => (w - 1 - x, h - 1 - y),
            4 => (x, h - 1 - y),
            5 => (y, x),
            6 => (h - 1 - y, x),
            7 => (h - 1 - y, w - 1 - x),
            8 => (y, w - 1 - x),
            _ => unreachable!(),
        }
    }

    #[test]
    fn every_orientation_moves_each_pixel_where_exif_says() {
        let (w, h) = (3, 2);
        let stored: Vec<u8> = (0..w * h).flat_map(|i| [i as u8, 7, 9]).collect();
        for exif in 1..=8 {
            let orientation = Orientation::from_exif(exif).unwrap();
            let upright = RgbImage::new(w, h, stored.clone())
                .unwrap()
                .oriented(orientation);
            let upright_width = if exif >= 5 { h } else { w };
            assert_eq!(
                (upright.width(), upright.height()),
                if exif >= 5 { (h, w) } else { (w, h) },
                "{orientation:?}"
            );
            for (y, x) in (0..h).flat_map(|y| (0..w).map(move |x| (y, x))) {
                let (ux, uy) = upright_position(exif, x, y, w, h);
                let at = ((uy * upright_width + ux) * 3) as usize;
                assert_eq!(
                    &upright.pixels()[at..at + 3],
                    &[(y * w + x) as u8, 7, 9],
                    "{orientation:?}: stored ({x}, {y})"
                );
            }
        }
        assert_eq!(Orientation::from_exif(0), None);
        assert_eq!(Orientation::from_exif(9), None);
        assert_eq!(Orientation::default(), Orientation::Up);
    }

    fn encode_png(width: u32, height: u32, rgb: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        image::RgbImage::from_raw(width, height, rgb.to_vec())
            .unwrap()
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    fn encode_jpeg(width: u32, height: u32, rgb: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95)
            .encode(rgb, width, height, image::ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    /// 32x16, black with a white 8x8 block (one whole JPEG block) in the top-left corner.
    fn corner_marked_jpeg() -> Vec<u8> {
        let (w, h) = (32usize, 16usize);
        let mut rgb = vec![0u8; w * h * 3];
        for y in 0..8 {
            rgb[y * w * 3..(y * w + 8) * 3].fill(255);
        }
        encode_jpeg(w as u32, h as u32, &rgb)
    }

    /// The JPEG with an APP1 Exif segment after SOI: a big-endian TIFF block whose one IFD entry
    /// is Orientation (0x0112, SHORT, 1 value) = `orientation`.
    fn with_exif_orientation(jpeg: &[u8], orientation: u8) -> Vec<u8> {
        let mut app1 = b"Exif\0\0MM\0\x2A\0\0\0\x08".to_vec();
        app1.extend_from_slice(&[0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0]);
        app1.extend_from_slice(&[0, 0, 0, 0]); // no next IFD
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&(app1.len() as u16 + 2).to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    fn pixel(img: &RgbImage, x: u32, y: u32) -> [u8; 3] {
        let i = (y * img.width() + x) as usize * 3;
        img.pixels()[i..i + 3].try_into().unwrap()
    }

    fn assert_bad_image_mentioning(result: Result<RgbImage>, word: &str) {
        match result {
            Err(Error::BadImage { detail }) => assert!(detail.contains(word), "{detail}"),
            other => panic!("expected BadImage about {word:?}, got {other:?}"),
        }
    }

    #[test]
    fn jpeg_decodes_close_to_its_source() {
        let (w, h) = (40u32, 24u32);
        let rgb: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let (x, y) = (i % w, i / w);
                [(x * 6) as u8, (y * 10) as u8, 128]
            })
            .collect();
        let img = decode_image(&encode_jpeg(w, h, &rgb)).unwrap();
        assert_eq!((img.width(), img.height()), (w, h));
        let max_diff = img
            .pixels()
            .iter()
            .zip(&rgb)
            .map(|(a, b)| a.abs_diff(*b))
            .max();
        assert!(max_diff.unwrap() <= 12, "max diff {max_diff:?}");
    }

    #[test]
    fn grey_jpeg_is_replicated_to_rgb() {
        let grey: Vec<u8> = (0..16 * 8).map(|v| (v * 2) as u8).collect();
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95)
            .encode(&grey, 16, 8, image::ExtendedColorType::L8)
            .unwrap();
        let img = decode_image(&jpeg).unwrap();
        assert_eq!((img.width(), img.height()), (16, 8));
        assert!(img
            .pixels()
            .chunks_exact(3)
            .all(|p| p[0] == p[1] && p[1] == p[2]));
    }

    #[test]
    fn truncated_jpeg_is_refused_even_if_only_eoi_is_missing() {
        let jpeg = corner_marked_jpeg();
        assert!(jpeg.ends_with(&[0xFF, 0xD9]));
        for len in [jpeg.len() - 2, jpeg.len() - 1, jpeg.len() * 2 / 3, 40, 3] {
            assert_bad_image_mentioning(decode_image(&jpeg[..len]), "truncated JPEG");
        }
    }

    #[test]
    fn data_after_eoi_is_ignored() {
        let jpeg = corner_marked_jpeg();
        let mut appended = jpeg.clone();
        // What phones leave there can look like another JPEG, or be anything.
        appended.extend_from_slice(b"\xFF\xD8\xFF\xE1\x00\x10trailing data \xFF\x00\xFF");
        assert_eq!(
            decode_image(&appended).unwrap(),
            decode_image(&jpeg).unwrap()
        );
    }

    #[test]
    fn exif_thumbnail_markers_inside_app1_do_not_end_the_walk() {
        // An APP1 whose payload holds a whole little JPEG (SOI .. EOI), as an EXIF thumbnail does.
        let jpeg = corner_marked_jpeg();
        let mut payload = b"Exif\0\0".to_vec();
        payload.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9]);
        let mut spliced = jpeg[..2].to_vec();
        spliced.extend_from_slice(&[0xFF, 0xE1, 0x00, payload.len() as u8 + 2]);
        spliced.extend_from_slice(&payload);
        spliced.extend_from_slice(&jpeg[2..]);
        assert_eq!(
            decode_image(&spliced).unwrap(),
            decode_image(&jpeg).unwrap()
        );
        assert_bad_image_mentioning(
            decode_image(&spliced[..spliced.len() - 2]),
            "truncated JPEG",
        );
    }

    #[test]
    fn jpeg_exif_orientation_6_rotates_clockwise() {
        let plain = decode_image(&corner_marked_jpeg()).unwrap();
        let img = decode_image(&with_exif_orientation(&corner_marked_jpeg(), 6)).unwrap();
        assert_eq!((plain.width(), plain.height()), (32, 16));
        assert_eq!((img.width(), img.height()), (16, 32));
        // The stored top-left corner is shown at the top right.
        assert!(
            pixel(&plain, 0, 0).iter().all(|&v| v > 200),
            "{:?}",
            pixel(&plain, 0, 0)
        );
        assert!(
            pixel(&img, 15, 0).iter().all(|&v| v > 200),
            "{:?}",
            pixel(&img, 15, 0)
        );
        assert!(
            pixel(&img, 0, 0).iter().all(|&v| v < 50),
            "{:?}",
            pixel(&img, 0, 0)
        );
        // And every pixel is the plain decode's, turned.
        let stored = image::RgbImage::from_raw(32, 16, plain.pixels().to_vec()).unwrap();
        let turned = image::imageops::rotate90(&stored);
        assert_eq!(img.pixels(), turned.as_raw().as_slice());
    }

    #[test]
    fn corrupt_jpeg_data_is_a_result_never_a_panic() {
        let jpeg = corner_marked_jpeg();
        let scan_start = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap() + 14;
        for pos in (scan_start..jpeg.len() - 2).step_by(3) {
            for value in [0x00, 0x5A, 0xFF] {
                let mut bad = jpeg.clone();
                bad[pos] = value;
                match decode_image(&bad) {
                    Ok(_) | Err(Error::BadImage { .. }) => {}
                    Err(e) => panic!("byte {pos} = {value:#x}: {e}"),
                }
            }
        }
        // Damaged headers make libjpeg give up (a fatal error, unwound and caught here).
        let mut no_frame = vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 0x3F, 0];
        no_frame.extend_from_slice(&[0xFF, 0xD9]);
        assert_bad_image_mentioning(decode_image(&no_frame), "libjpeg");
        let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        let mut bad_precision = jpeg.clone();
        bad_precision[sof + 4] = 12;
        assert_bad_image_mentioning(decode_image(&bad_precision), "libjpeg");
    }

    #[test]
    fn jpeg_size_and_memory_are_checked_from_the_header() {
        // Headers without pixel data: SOI, SOFn (8-bit, height, width, 3 components 1x1), SOS, EOI.
        let header = |sof: u8, width: u16, height: u16| {
            let mut b = vec![0xFF, 0xD8, 0xFF, sof, 0x00, 17, 8];
            b.extend_from_slice(&height.to_be_bytes());
            b.extend_from_slice(&width.to_be_bytes());
            b.extend_from_slice(&[3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]);
            b.extend_from_slice(&[0xFF, 0xDA, 0x00, 12, 3, 1, 0, 2, 0, 3, 0, 0, 0, 0]);
            b.extend_from_slice(&[0xFF, 0xD9]);
            b
        };
        assert!(matches!(
            decode_image(&header(0xC0, 1, 500)),
            Err(Error::UnsupportedImageSize {
                width: 1,
                height: 500,
                ..
            })
        ));
        assert!(matches!(
            decode_image(&header(0xC0, 12000, 12000)),
            Err(Error::UnsupportedImageSize { .. })
        ));
        // 119.9 MP progressive 4:4:4: the size is fine, but libjpeg would keep 719 MB of
        // coefficients besides the 360 MB of pixels.
        assert_bad_image_mentioning(decode_image(&header(0xC2, 10900, 11000)), "memory");
    }

    #[test]
    fn cmyk_is_converted_with_pillows_formula() {
        // libjpeg's CMYK (Adobe, inverted) -> RGB, values worked out by hand from Convert.c.
        let cmyk = [
            0, 0, 0, 255, 255, 255, 255, 255, 9, 9, 9, 0, 100, 200, 255, 128,
        ];
        assert_eq!(
            pillow_cmyk_to_rgb(&cmyk),
            [0, 0, 0, 255, 255, 255, 0, 0, 0, 50, 100, 128]
        );
        // A CMYK JPEG takes that path.
        let mut enc = mozjpeg::Compress::new(ColorSpace::JCS_CMYK);
        enc.set_size(16, 16);
        enc.set_quality(100.0);
        let mut started = enc.start_compress(Vec::new()).unwrap();
        started
            .write_scanlines(&[100, 200, 255, 128].repeat(16 * 16))
            .unwrap();
        let jpeg = started.finish().unwrap();
        let img = decode_image(&jpeg).unwrap();
        assert_eq!((img.width(), img.height()), (16, 16));
        for p in img.pixels().chunks_exact(3) {
            assert!(
                p[0].abs_diff(50) <= 2 && p[1].abs_diff(100) <= 2 && p[2].abs_diff(128) <= 2,
                "{p:?}"
            );
        }
    }

    #[test]
    fn raw_rgba_with_padded_stride_and_short_last_row() {
        // 2x2 RGBA, stride 12 (one pixel of padding), last row without its padding.
        let mut buf = vec![
            1, 2, 3, 255, 4, 5, 6, 255, 99, 99, 99, 99, //
            7, 8, 9, 255, 10, 11, 12, 255,
        ];
        let img = from_raw_pixels(&buf, 2, 2, 12, PixelFormat::Rgba8).unwrap();
        assert_eq!(img.pixels(), &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        buf.pop();
        assert!(matches!(
            from_raw_pixels(&buf, 2, 2, 12, PixelFormat::Rgba8),
            Err(Error::BadImage { .. })
        ));
    }

    #[test]
    fn raw_bgra_swaps_to_rgb() {
        let buf = [3, 2, 1, 255, 6, 5, 4, 0, 9, 8, 7, 0, 12, 11, 10, 0];
        let img = from_raw_pixels(&buf, 2, 2, 8, PixelFormat::Bgra8).unwrap();
        assert_eq!(img.pixels(), &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    }

    #[test]
    fn stride_shorter_than_a_row_is_refused() {
        let buf = vec![0u8; 64];
        let err = from_raw_pixels(&buf, 4, 2, 15, PixelFormat::Rgba8).unwrap_err();
        assert!(err.to_string().contains("stride"), "{err}");
    }

    #[test]
    fn sizes_outside_the_supported_range_are_refused() {
        for (w, h) in [
            (0, 0),
            (1, 1),
            (1, 500),
            (0, 10),
            (2, 20000),
            (20000, 20000),
        ] {
            assert!(
                matches!(check_size(w, h), Err(Error::UnsupportedImageSize { .. })),
                "{w}x{h}"
            );
        }
        assert!(check_size(17, 9).is_ok());
        assert!(check_size(2, 2).is_ok());
        assert!(check_size(4000, 3000).is_ok());
    }

    #[test]
    fn png_round_trip() {
        let rgb: Vec<u8> = (0..3 * 5 * 3).map(|v| v as u8).collect();
        let img = decode_image(&encode_png(5, 3, &rgb)).unwrap();
        assert_eq!((img.width(), img.height()), (5, 3));
        assert_eq!(img.pixels(), &rgb[..]);
    }

    #[test]
    fn garbage_empty_and_truncated_data_are_typed_errors() {
        assert!(matches!(decode_image(&[]), Err(Error::BadImage { .. })));
        assert!(matches!(
            decode_image(b"definitely not a picture"),
            Err(Error::BadImage { .. })
        ));
        let png = encode_png(8, 8, &[7u8; 8 * 8 * 3]);
        assert!(matches!(
            decode_image(&png[..png.len() / 2]),
            Err(Error::BadImage { .. })
        ));
        let tiny = encode_png(1, 1, &[1, 2, 3]);
        assert!(matches!(
            decode_image(&tiny),
            Err(Error::UnsupportedImageSize { .. })
        ));
    }
}
