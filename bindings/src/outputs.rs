//! What an app does with a mask besides showing it: COCO RLE, outline polygons, a cut-out, the
//! photo with the selection tinted, and add/subtract editing.
//!
//! A [`SegmentMask`] is an object, so a 12 MB mask crosses the FFI once (into it) and again only
//! when the app asks for its bytes: combining masks tap after tap stays inside Rust.

use std::sync::Arc;

use edgesam::outputs::{self, OverlayStyle};
use edgesam::Mask;

use crate::error::{guarded, EdgeSamError};
use crate::types::{BoundingBox, Segmentation};

/// A mask at the photo's resolution (255 inside, 0 outside), to convert or combine.
#[derive(uniffi::Object)]
pub struct SegmentMask {
    inner: Mask,
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

/// The object cut out on a transparent background, and the part of the photo it covers.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Cutout {
    /// `region.width * region.height * 4` bytes, R, G, B, A, straight alpha: 255 inside the
    /// mask, 0 (and black) outside.
    pub rgba: Vec<u8>,
    pub region: BoundingBox,
}

/// A colour; `alpha` is how strongly it covers the photo (0 not at all, 255 entirely).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct MaskColor {
    pub red: u8,
    pub green: u8,
    pub blue: u8,
    #[uniffi(default = 128)]
    pub alpha: u8,
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

fn wrap(inner: Mask) -> Arc<SegmentMask> {
    Arc::new(SegmentMask { inner })
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
            Ok(wrap(Mask {
                width,
                height,
                data: bytes,
            }))
        })
    }

    /// The mask of a `segment` result.
    #[uniffi::constructor]
    pub fn from_segmentation(segmentation: Segmentation) -> Result<Arc<Self>, EdgeSamError> {
        Self::new(segmentation.width, segmentation.height, segmentation.mask)
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
            Ok(wrap(decoded.to_mask()?))
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

    /// The rectangle enclosing the mask; absent when it is empty.
    pub fn bounding_box(&self) -> Option<BoundingBox> {
        self.inner.bounding_box().map(BoundingBox::from)
    }

    /// Pixels inside either mask: adds a tap's mask to the selection.
    pub fn union(&self, other: Arc<SegmentMask>) -> Result<Arc<SegmentMask>, EdgeSamError> {
        guarded(|| Ok(wrap(self.inner.union(&other.inner)?)))
    }

    /// Pixels inside this mask and outside `other`: takes a tap's mask away from the selection.
    pub fn subtract(&self, other: Arc<SegmentMask>) -> Result<Arc<SegmentMask>, EdgeSamError> {
        guarded(|| Ok(wrap(self.inner.subtract(&other.inner)?)))
    }

    /// Pixels inside both masks.
    pub fn intersect(&self, other: Arc<SegmentMask>) -> Result<Arc<SegmentMask>, EdgeSamError> {
        guarded(|| Ok(wrap(self.inner.intersect(&other.inner)?)))
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
        guarded(|| {
            let photo = edgesam::decode_image(&image_data)?;
            let cut = outputs::cutout(&photo, &self.inner, crop_padding.map(non_negative))?;
            Ok(Cutout {
                rgba: cut.image.data,
                region: cut.region.into(),
            })
        })
    }

    /// The photo (bytes as for `cutout`) with `color` blended over the selection and an outline
    /// `outlineWidth` pixels wide in white (0 draws none): R, G, B, A bytes at the mask's size,
    /// alpha 255.
    #[uniffi::method(default(outline_width = 2))]
    pub fn overlay(
        &self,
        image_data: Vec<u8>,
        color: MaskColor,
        outline_width: i32,
    ) -> Result<Vec<u8>, EdgeSamError> {
        guarded(|| {
            let photo = edgesam::decode_image(&image_data)?;
            let style = OverlayStyle {
                inside: [color.red, color.green, color.blue, color.alpha],
                outline_width: non_negative(outline_width),
                ..OverlayStyle::default()
            };
            let tinted = outputs::overlay(&photo, &self.inner, &style)?;
            Ok(opaque_rgba(tinted.pixels()))
        })
    }
}

/// RGB bytes as RGBA with alpha 255, the layout `CGImage` and `Bitmap` take.
fn opaque_rgba(rgb: &[u8]) -> Vec<u8> {
    rgb.chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect()
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
    fn opaque_rgba_appends_full_alpha() {
        assert_eq!(
            opaque_rgba(&[1, 2, 3, 4, 5, 6]),
            [1, 2, 3, 255, 4, 5, 6, 255]
        );
    }
}
