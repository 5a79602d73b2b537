//! Pictures across the FFI: what an app hands in (an encoded file, or raw pixels with their
//! layout and orientation) and the R, G, B, A pixels it gets back to show.

use edgesam::outputs;

use crate::error::{guarded, EdgeSamError};

/// Byte order of one pixel in a raw buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PixelFormat {
    /// R, G, B, A: Android `Bitmap.Config.ARGB_8888` (`copyPixelsToBuffer`), `CGImage` alpha-last.
    Rgba8,
    /// B, G, R, A: `CGImage` with `byteOrder32Little` + alpha first, `CVPixelBuffer` 32BGRA.
    Bgra8,
    /// R, G, B.
    Rgb8,
}

impl From<PixelFormat> for edgesam::PixelFormat {
    fn from(f: PixelFormat) -> Self {
        match f {
            PixelFormat::Rgba8 => edgesam::PixelFormat::Rgba8,
            PixelFormat::Bgra8 => edgesam::PixelFormat::Bgra8,
            PixelFormat::Rgb8 => edgesam::PixelFormat::Rgb8,
        }
    }
}

/// How stored pixels must be turned to stand upright: the eight EXIF orientations, named as
/// `UIImage.Orientation` names them (`CGImagePropertyOrientation` and EXIF number them 1...8 in
/// this order). Masks and taps are always in upright pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Orientation {
    /// 1: stored upright.
    Up,
    /// 2: mirrored left to right.
    UpMirrored,
    /// 3: upside down.
    Down,
    /// 4: mirrored top to bottom.
    DownMirrored,
    /// 5: mirrored along the top-left to bottom-right diagonal.
    LeftMirrored,
    /// 6: upright after a quarter turn clockwise (a portrait photo from a landscape sensor).
    Right,
    /// 7: mirrored along the other diagonal.
    RightMirrored,
    /// 8: upright after a quarter turn anticlockwise.
    Left,
}

impl From<Orientation> for edgesam::Orientation {
    fn from(o: Orientation) -> Self {
        match o {
            Orientation::Up => edgesam::Orientation::Up,
            Orientation::UpMirrored => edgesam::Orientation::UpMirrored,
            Orientation::Down => edgesam::Orientation::Down,
            Orientation::DownMirrored => edgesam::Orientation::DownMirrored,
            Orientation::LeftMirrored => edgesam::Orientation::LeftMirrored,
            Orientation::Right => edgesam::Orientation::Right,
            Orientation::RightMirrored => edgesam::Orientation::RightMirrored,
            Orientation::Left => edgesam::Orientation::Left,
        }
    }
}

/// An 8-bit picture to show: `width * height * 4` bytes, R, G, B, A with straight alpha, row
/// after row (the layout of `Bitmap.Config.ARGB_8888` and of a `CGImage` with alpha last). Equal
/// when their sizes and pixels are (in Kotlin too, where a `ByteArray` field alone would compare
/// by reference).
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Record)]
#[uniffi::export(Eq, Hash)]
pub struct RgbaImage {
    pub width: i32,
    pub height: i32,
    pub rgba: Vec<u8>,
}

impl From<outputs::RgbaImage> for RgbaImage {
    fn from(image: outputs::RgbaImage) -> Self {
        // Photo sides are far below i32::MAX (edgesam::MAX_IMAGE_PIXELS), so these fit.
        RgbaImage {
            width: image.width as i32,
            height: image.height as i32,
            rgba: image.data,
        }
    }
}

impl From<edgesam::RgbImage> for RgbaImage {
    /// Opaque: alpha 255 everywhere.
    fn from(image: edgesam::RgbImage) -> Self {
        RgbaImage {
            width: image.width() as i32,
            height: image.height() as i32,
            rgba: image
                .pixels()
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect(),
        }
    }
}

/// A JPEG, PNG or WebP file's bytes as upright pixels (EXIF orientation applied, alpha 255): the
/// picture exactly as `encodeImage` sees it, so a mask lies over it pixel for pixel.
#[uniffi::export]
pub fn decode_image(image_data: Vec<u8>) -> Result<RgbaImage, EdgeSamError> {
    guarded(|| Ok(edgesam::decode_image(&image_data)?.into()))
}

/// A picture as an app hands it in, captured for a worker thread.
pub(crate) enum ImageSource {
    Encoded(Vec<u8>),
    Pixels {
        pixels: Vec<u8>,
        width: i32,
        height: i32,
        row_stride: i32,
        format: PixelFormat,
        /// `None` is upright.
        orientation: Option<Orientation>,
    },
}

impl ImageSource {
    /// Raw pixels as the FFI's `...Pixels` calls take them.
    pub(crate) fn pixels(
        pixels: Vec<u8>,
        (width, height, row_stride): (i32, i32, i32),
        format: PixelFormat,
        orientation: Option<Orientation>,
    ) -> Self {
        ImageSource::Pixels {
            pixels,
            width,
            height,
            row_stride,
            format,
            orientation,
        }
    }

    /// The upright RGB picture.
    pub(crate) fn decode(&self) -> Result<edgesam::RgbImage, EdgeSamError> {
        Ok(match self {
            ImageSource::Encoded(bytes) => edgesam::decode_image(bytes)?,
            ImageSource::Pixels {
                pixels,
                width,
                height,
                row_stride,
                format,
                orientation,
            } => {
                let non_negative = |v: i32, what: &str| {
                    u32::try_from(v).map_err(|_| EdgeSamError::BadImage {
                        reason: format!("bad image: {what} {v} is negative"),
                    })
                };
                let stored = edgesam::from_raw_pixels(
                    pixels,
                    non_negative(*width, "width")?,
                    non_negative(*height, "height")?,
                    non_negative(*row_stride, "row stride")? as usize,
                    (*format).into(),
                )?;
                stored.oriented(orientation.unwrap_or(Orientation::Up).into())
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixels(orientation: Option<Orientation>, width: i32, row_stride: i32) -> ImageSource {
        // 3x2 R, G, B, A pixels whose red is their index; row padding of 0xEE.
        let mut bytes = Vec::new();
        for y in 0..2u8 {
            for x in 0..3u8 {
                bytes.extend_from_slice(&[y * 3 + x, 0, 0, 255]);
            }
            bytes.resize(bytes.len() + (row_stride as usize - 12), 0xEE);
        }
        ImageSource::Pixels {
            pixels: bytes,
            width,
            height: 2,
            row_stride,
            format: PixelFormat::Rgba8,
            orientation,
        }
    }

    #[test]
    fn raw_pixels_are_turned_upright_as_their_orientation_says() {
        let reds = |source: ImageSource| {
            let image = source.decode().unwrap();
            let reds: Vec<u8> = image.pixels().chunks_exact(3).map(|p| p[0]).collect();
            (image.width(), image.height(), reds)
        };
        assert_eq!(reds(pixels(None, 3, 16)), (3, 2, vec![0, 1, 2, 3, 4, 5]));
        // Stored row 0 (0 1 2) becomes the right-hand column, read top to bottom.
        assert_eq!(
            reds(pixels(Some(Orientation::Right), 3, 16)),
            (2, 3, vec![3, 0, 4, 1, 5, 2])
        );
        assert_eq!(
            reds(pixels(Some(Orientation::Left), 3, 12)),
            (2, 3, vec![2, 5, 1, 4, 0, 3])
        );
    }

    #[test]
    fn orientations_keep_their_exif_numbers() {
        use Orientation::*;
        let in_exif_order = [
            Up,
            UpMirrored,
            Down,
            DownMirrored,
            LeftMirrored,
            Right,
            RightMirrored,
            Left,
        ];
        for (exif, orientation) in (1..).zip(in_exif_order) {
            assert_eq!(
                Some(edgesam::Orientation::from(orientation)),
                edgesam::Orientation::from_exif(exif)
            );
        }
    }

    #[test]
    fn negative_sides_are_bad_images() {
        assert!(matches!(
            pixels(None, -3, 12).decode(),
            Err(EdgeSamError::BadImage { reason }) if reason.contains("width -3")
        ));
    }

    #[test]
    fn decoded_pixels_are_opaque_rgba() {
        let rgb = edgesam::RgbImage::new(2, 2, (1..=12).collect()).unwrap();
        assert_eq!(
            RgbaImage::from(rgb),
            RgbaImage {
                width: 2,
                height: 2,
                rgba: vec![1, 2, 3, 255, 4, 5, 6, 255, 7, 8, 9, 255, 10, 11, 12, 255],
            }
        );
    }
}
