//! What an app does with a mask: show it (tinted, or over the photo), cut the object out, save
//! it as COCO RLE or outline polygons, and add/subtract taps.
//!
//! A [`SegmentMask`] is an object: a tap's 12 MB mask stays in Rust, and only what the app asks
//! for (a tinted layer, a cut-out, the bytes) crosses the FFI.

use std::sync::Arc;

use edgesam::outputs::{self, OverlayStyle};
use edgesam::Mask;

use crate::error::{guarded, EdgeSamError};
use crate::images::{ImageSource, Orientation, PixelFormat, RgbaImage};
use crate::types::BoundingBox;

/// A mask at the photo's resolution (255 inside, 0 outside), to show, convert or combine. Two
/// masks are equal (and hash alike) when they have the same size and the same pixels inside.
#[derive(PartialEq, Eq, uniffi::Object)]
#[uniffi::export(Eq, Hash)]
pub struct SegmentMask {
    inner: Mask,
}

impl std::hash::Hash for SegmentMask {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.inner.width, self.inner.height, &self.inner.data).hash(state);
    }
}

impl std::fmt::Debug for SegmentMask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (width, height) = (self.inner.width, self.inner.height);
        write!(
            f,
            "SegmentMask({width}x{height}, {} inside)",
            self.inner.area()
        )
    }
}

/// A mask as COCO RLE: `counts` is the compressed string `pycocotools.mask.encode` returns.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CocoRle {
    pub width: i32,
    pub height: i32,
    pub counts: String,
}

/// A vertex in photo pixels: the centre of a border pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct MaskPoint {
    pub x: i32,
    pub y: i32,
}

/// One closed border of a region of the mask (or of a hole in one), first vertex not repeated.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MaskPolygon {
    pub points: Vec<MaskPoint>,
    pub is_hole: bool,
}

/// The object cut out on a transparent background, and the part of the photo it covers. Equal
/// when their pixels and regions are.
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Record)]
#[uniffi::export(Eq, Hash)]
pub struct Cutout {
    /// `region`'s size: alpha 255 inside the mask, 0 (and black) outside.
    pub image: RgbaImage,
    pub region: BoundingBox,
}

/// A colour; `alpha` is how strongly it covers the photo (0 not at all, 255 entirely). Where a
/// call takes an optional colour, none means the library's default tint, half-transparent blue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct MaskColor {
    pub red: u8,
    pub green: u8,
    pub blue: u8,
    pub alpha: u8,
}

impl MaskColor {
    fn rgba(color: Option<MaskColor>) -> outputs::Rgba {
        color.map_or(outputs::DEFAULT_TINT, |c| [c.red, c.green, c.blue, c.alpha])
    }
}

/// A padding or outline width the apps pass as `Int`; a negative one counts as 0.
fn non_negative(v: i32) -> u32 {
    v.max(0) as u32
}

/// A mask's side as the core takes it; a negative one is a bad mask, not an empty one.
fn mask_side(v: i32, what: &str) -> Result<u32, EdgeSamError> {
    u32::try_from(v).map_err(|_| {
        let detail = format!("the {what} {v} is negative");
        edgesam::Error::BadMask { detail }.into()
    })
}

impl SegmentMask {
    pub(crate) fn wrap(inner: Mask) -> Arc<SegmentMask> {
        Arc::new(SegmentMask { inner })
    }

    fn cut(&self, photo: ImageSource, crop_padding: Option<i32>) -> Result<Cutout, EdgeSamError> {
        let cut = outputs::cutout(
            &photo.decode()?,
            &self.inner,
            crop_padding.map(non_negative),
        )?;
        Ok(Cutout {
            image: cut.image.into(),
            region: cut.region.into(),
        })
    }

    fn draw_over(
        &self,
        photo: ImageSource,
        color: Option<MaskColor>,
        outline_width: i32,
    ) -> Result<RgbaImage, EdgeSamError> {
        let style = OverlayStyle {
            inside: MaskColor::rgba(color),
            outline_width: non_negative(outline_width),
            ..OverlayStyle::default()
        };
        Ok(outputs::overlay(&photo.decode()?, &self.inner, &style)?.into())
    }
}

#[uniffi::export]
impl SegmentMask {
    /// A mask from `width * height` bytes, row after row; any non-zero byte is inside.
    #[uniffi::constructor]
    pub fn new(width: i32, height: i32, bytes: Vec<u8>) -> Result<Arc<Self>, EdgeSamError> {
        guarded(|| {
            let (width, height) = (mask_side(width, "width")?, mask_side(height, "height")?);
            // In u64: on 32-bit phones width times height can wrap in usize.
            let expected = u64::from(width) * u64::from(height);
            if bytes.len() as u64 != expected {
                let detail = format!(
                    "a {width}x{height} mask needs {expected} bytes, it has {}",
                    bytes.len()
                );
                return Err(edgesam::Error::BadMask { detail }.into());
            }
            // 255 inside, whatever non-zero byte marked it: the bytes and equality go by pixels.
            let data = bytes
                .into_iter()
                .map(|b| if b != 0 { 255 } else { 0 })
                .collect();
            Ok(Self::wrap(Mask {
                width,
                height,
                data,
            }))
        })
    }

    /// Reads COCO RLE (`{"size": [h, w], "counts": "..."}` from pycocotools or `toCocoRle`).
    #[uniffi::constructor]
    pub fn from_coco_rle(rle: CocoRle) -> Result<Arc<Self>, EdgeSamError> {
        guarded(|| {
            let size = [
                mask_side(rle.height, "height")?,
                mask_side(rle.width, "width")?,
            ];
            let decoded = outputs::CocoRle::from_compressed(size, &rle.counts)?;
            Ok(Self::wrap(decoded.to_mask()?))
        })
    }

    pub fn width(&self) -> i32 {
        self.inner.width as i32
    }

    pub fn height(&self) -> i32 {
        self.inner.height as i32
    }

    /// One byte per pixel, row after row: 255 inside, 0 outside.
    pub fn bytes(&self) -> Vec<u8> {
        self.inner.data.clone()
    }

    /// Pixels inside the mask.
    pub fn area(&self) -> i64 {
        self.inner.area() as i64
    }

    /// Whether pixel (`x`, `y`) is inside: a hit test; false outside the photo.
    pub fn contains(&self, x: i32, y: i32) -> bool {
        let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y)) else {
            return false;
        };
        x < self.inner.width
            && y < self.inner.height
            && self.inner.data[y as usize * self.inner.width as usize + x as usize] != 0
    }

    /// The mask alone, to lay over the photo on screen: `color` (the default tint when absent)
    /// inside, transparent outside.
    #[uniffi::method(default(color = None))]
    pub fn tinted(&self, color: Option<MaskColor>) -> Result<RgbaImage, EdgeSamError> {
        guarded(|| Ok(outputs::tinted(&self.inner, MaskColor::rgba(color))?.into()))
    }

    /// The rectangle enclosing the mask; absent when it is empty.
    pub fn bounding_box(&self) -> Option<BoundingBox> {
        self.inner.bounding_box().map(BoundingBox::from)
    }

    /// Pixels inside either mask: adds a tap's mask to the selection.
    pub fn union(&self, other: Arc<SegmentMask>) -> Result<Arc<SegmentMask>, EdgeSamError> {
        guarded(|| Ok(Self::wrap(self.inner.union(&other.inner)?)))
    }

    /// Pixels inside this mask and outside `other`: takes a tap's mask away from the selection.
    pub fn subtract(&self, other: Arc<SegmentMask>) -> Result<Arc<SegmentMask>, EdgeSamError> {
        guarded(|| Ok(Self::wrap(self.inner.subtract(&other.inner)?)))
    }

    /// Pixels inside both masks.
    pub fn intersect(&self, other: Arc<SegmentMask>) -> Result<Arc<SegmentMask>, EdgeSamError> {
        guarded(|| Ok(Self::wrap(self.inner.intersect(&other.inner)?)))
    }

    /// The mask as COCO RLE, exactly as `pycocotools.mask.encode` gives it.
    pub fn to_coco_rle(&self) -> Result<CocoRle, EdgeSamError> {
        guarded(|| {
            let rle = outputs::CocoRle::from_mask(&self.inner)?;
            Ok(CocoRle {
                width: self.width(),
                height: self.height(),
                counts: rle.compressed_counts(),
            })
        })
    }

    /// The borders of the mask's regions and holes, simplified: every dropped border pixel lies
    /// within `tolerance` pixels of the edge replacing it (0 keeps them all).
    #[uniffi::method(default(tolerance = 1.0))]
    pub fn outline_polygons(&self, tolerance: f64) -> Result<Vec<MaskPolygon>, EdgeSamError> {
        guarded(|| {
            let polygons = outputs::outline_polygons(&self.inner, tolerance)?;
            Ok(polygons
                .into_iter()
                .map(|p| MaskPolygon {
                    points: p
                        .points
                        .iter()
                        .map(|&[x, y]| MaskPoint {
                            x: x as i32,
                            y: y as i32,
                        })
                        .collect(),
                    is_hole: p.is_hole,
                })
                .collect())
        })
    }

    /// Cuts the object out of the photo (a JPEG, PNG or WebP file's bytes, EXIF orientation
    /// applied, as given to `encodeImage`). Without `cropPadding` the cut-out is the photo's size;
    /// with it, the mask's box grown by that many pixels (within the photo).
    #[uniffi::method(default(crop_padding = None))]
    pub fn cutout(
        &self,
        image_data: Vec<u8>,
        crop_padding: Option<i32>,
    ) -> Result<Cutout, EdgeSamError> {
        guarded(|| self.cut(ImageSource::Encoded(image_data), crop_padding))
    }

    /// `cutout` of a photo given as raw pixels, exactly as to `encodePixels` (the same
    /// orientation turns them upright).
    #[uniffi::method(default(orientation = None, crop_padding = None))]
    #[allow(clippy::too_many_arguments)] // the pixel buffer's layout, then the cut's options
    pub fn cutout_pixels(
        &self,
        pixels: Vec<u8>,
        width: i32,
        height: i32,
        row_stride: i32,
        format: PixelFormat,
        orientation: Option<Orientation>,
        crop_padding: Option<i32>,
    ) -> Result<Cutout, EdgeSamError> {
        let photo = ImageSource::pixels(pixels, (width, height, row_stride), format, orientation);
        guarded(|| self.cut(photo, crop_padding))
    }

    /// The photo (bytes as for `cutout`) with `color` (the default tint when absent) blended
    /// over the selection and an outline `outlineWidth` pixels wide in white (0 draws none),
    /// opaque, at the mask's size.
    #[uniffi::method(default(color = None, outline_width = 2))]
    pub fn overlay(
        &self,
        image_data: Vec<u8>,
        color: Option<MaskColor>,
        outline_width: i32,
    ) -> Result<RgbaImage, EdgeSamError> {
        guarded(|| self.draw_over(ImageSource::Encoded(image_data), color, outline_width))
    }

    /// `overlay` on a photo given as raw pixels, exactly as to `encodePixels`.
    #[allow(clippy::too_many_arguments)] // the pixel buffer's layout, then the drawing's options
    #[uniffi::method(default(orientation = None, color = None, outline_width = 2))]
    pub fn overlay_pixels(
        &self,
        pixels: Vec<u8>,
        width: i32,
        height: i32,
        row_stride: i32,
        format: PixelFormat,
        orientation: Option<Orientation>,
        color: Option<MaskColor>,
        outline_width: i32,
    ) -> Result<RgbaImage, EdgeSamError> {
        let photo = ImageSource::pixels(pixels, (width, height, row_stride), format, orientation);
        guarded(|| self.draw_over(photo, color, outline_width))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(width: i32, height: i32, bytes: &[u8]) -> Arc<SegmentMask> {
        SegmentMask::new(width, height, bytes.to_vec()).unwrap()
    }

    #[test]
    fn rle_round_trips_through_the_compressed_string() {
        let m = mask(3, 2, &[0, 255, 255, 0, 0, 255]);
        let rle = m.to_coco_rle().unwrap();
        assert_eq!(rle.counts, "2111");
        assert_eq!(SegmentMask::from_coco_rle(rle).unwrap().bytes(), m.bytes());
    }

    #[test]
    fn masks_of_different_sizes_are_bad_masks() {
        let a = mask(2, 2, &[255; 4]);
        let b = mask(4, 1, &[255; 4]);
        assert!(matches!(a.union(b), Err(EdgeSamError::BadMask { .. })));
        // 65536 x 65537 wraps to 65536 in a 32-bit usize.
        for (width, height, bytes) in [(2, 2, 3), (-2, 2, 0), (65_536, 65_537, 65_536)] {
            assert!(matches!(
                SegmentMask::new(width, height, vec![0; bytes]),
                Err(EdgeSamError::BadMask { .. })
            ));
        }
    }

    #[test]
    fn equal_masks_have_the_same_pixels_inside_whatever_byte_marked_them() {
        assert_eq!(mask(2, 1, &[1, 0]), mask(2, 1, &[255, 0]));
        assert_eq!(mask(2, 1, &[7, 0]).bytes(), [255, 0]);
        assert_ne!(mask(2, 1, &[1, 0]), mask(2, 1, &[0, 1]));
        assert_ne!(mask(2, 1, &[0, 0]), mask(1, 2, &[0, 0]));
        let state = std::hash::RandomState::new();
        let hash_of = |m: &SegmentMask| std::hash::BuildHasher::hash_one(&state, m);
        assert_eq!(
            hash_of(&mask(2, 1, &[1, 0])),
            hash_of(&mask(2, 1, &[255, 0]))
        );
    }

    #[test]
    fn contains_is_false_outside_the_photo() {
        let m = mask(3, 2, &[0, 255, 0, 0, 0, 255]);
        let inside: Vec<(i32, i32)> = (-1..=3)
            .flat_map(|y| (-1..=4).map(move |x| (x, y)))
            .filter(|&(x, y)| m.contains(x, y))
            .collect();
        assert_eq!(inside, [(1, 0), (2, 1)]);
        assert!(!m.contains(i32::MIN, i32::MAX));
    }

    #[test]
    fn tinted_uses_the_default_tint_unless_given_a_colour() {
        let m = mask(2, 1, &[255, 0]);
        let layer = m.tinted(None).unwrap();
        assert_eq!((layer.width, layer.height), (2, 1));
        assert_eq!(layer.rgba[..4], outputs::DEFAULT_TINT);
        assert_eq!(layer.rgba[4..], [0; 4]);
        let red = MaskColor {
            red: 255,
            green: 0,
            blue: 0,
            alpha: 9,
        };
        assert_eq!(m.tinted(Some(red)).unwrap().rgba[..4], [255, 0, 0, 9]);
    }

    /// A 4x2 photo as B, G, R, A pixels stored a quarter turn off (upright it is 2x4), and the
    /// same photo upright as R, G, B.
    fn sideways_bgra_and_upright_rgb() -> (ImageSource, ImageSource) {
        let (w, h) = (4usize, 2usize);
        let colour = |x: usize, y: usize| [(x * 40) as u8, (y * 90) as u8, 7];
        let mut stored = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let [r, g, b] = colour(x, y);
                stored.extend_from_slice(&[b, g, r, 255]);
            }
        }
        // Right: stored (x, y) is upright (h - 1 - y, x); upright is h wide, w tall.
        let mut upright = vec![0; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let (ux, uy) = (h - 1 - y, x);
                upright[(uy * h + ux) * 3..][..3].copy_from_slice(&colour(x, y));
            }
        }
        let pixels = |pixels, width, height, format, orientation| ImageSource::Pixels {
            pixels,
            width,
            height,
            row_stride: width * if format == PixelFormat::Rgb8 { 3 } else { 4 },
            format,
            orientation,
        };
        (
            pixels(stored, 4, 2, PixelFormat::Bgra8, Some(Orientation::Right)),
            pixels(upright, 2, 4, PixelFormat::Rgb8, None),
        )
    }

    #[test]
    fn raw_pixels_cut_and_tint_like_the_upright_photo() {
        let m = mask(2, 4, &[0, 255, 255, 255, 0, 0, 0, 255]);
        let (sideways, upright) = sideways_bgra_and_upright_rgb();
        let cut = m.cut(sideways, Some(0)).unwrap();
        assert_eq!(cut, m.cut(upright, Some(0)).unwrap());
        assert_eq!(
            (cut.region.width, cut.region.height),
            (cut.image.width, cut.image.height)
        );
        let (sideways, upright) = sideways_bgra_and_upright_rgb();
        let over = m.draw_over(sideways, None, 1).unwrap();
        assert_eq!(over, m.draw_over(upright, None, 1).unwrap());
        assert_eq!((over.width, over.height), (2, 4));
    }

    #[test]
    fn a_photo_of_another_size_is_a_bad_mask() {
        let m = mask(3, 4, &[255; 12]);
        let (sideways, _) = sideways_bgra_and_upright_rgb();
        assert!(matches!(
            m.cut(sideways, None),
            Err(EdgeSamError::BadMask { .. })
        ));
    }
}
