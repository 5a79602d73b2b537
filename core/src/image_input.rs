//! Images in: encoded files (JPEG, PNG, WebP) with their EXIF orientation applied, or raw pixel
//! buffers as phones hand them over (RGBA from an Android `Bitmap`, BGRA or RGBA from a `CGImage`).

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

use crate::error::{Error, Result};
use crate::preprocess::resized_size;

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
pub fn check_size(width: u32, height: u32) -> Result<()> {
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
pub fn decode_image(bytes: &[u8]) -> Result<RgbImage> {
    if bytes.is_empty() {
        return Err(Error::bad_image("the image data is empty"));
    }
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
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder)
        .map_err(|e| Error::bad_image(format!("cannot decode this {format:?} image: {e}")))?;
    image.apply_orientation(orientation);
    let rgb = image.into_rgb8();
    let (width, height) = rgb.dimensions();
    Ok(RgbImage::from_packed(width, height, rgb.into_raw()))
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
    let needed = row_stride * (height as usize - 1) + row_bytes;
    if pixels.len() < needed {
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

    fn encode_png(width: u32, height: u32, rgb: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        image::RgbImage::from_raw(width, height, rgb.to_vec())
            .unwrap()
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
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
