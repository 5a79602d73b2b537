//! Pictures made from a mask and its photo: the object cut out on a transparent background, and
//! the photo with the selection tinted (and outlined) as a UI shows it.

use imageproc::distance_transform::Norm;
use imageproc::morphology::erode;

use super::check_same_size;
use crate::error::Result;
use crate::image::RgbImage;
use crate::postprocess::BoundingBox;
use crate::Mask;

/// A colour with straight (not premultiplied) alpha: `[r, g, b, a]`, where `a` is how strongly
/// it covers the photo (0 not at all, 255 entirely).
pub type Rgba = [u8; 4];

/// The selection's colour unless an app picks its own: half-transparent blue.
pub const DEFAULT_TINT: Rgba = [30, 144, 255, 128];

/// An 8-bit RGBA image, rows packed without padding, straight alpha.
#[derive(Clone, PartialEq, Eq)]
pub struct RgbaImage {
    pub width: u32,
    pub height: u32,
    /// `width * height * 4` bytes, row after row.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for RgbaImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RgbaImage({}x{})", self.width, self.height)
    }
}

/// The object cut out of the photo, and where it sits in the photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cutout {
    /// The photo's pixels with alpha 255 inside the mask and 0 (and black) outside.
    pub image: RgbaImage,
    /// The part of the photo `image` covers.
    pub region: BoundingBox,
}

/// Cuts the object out of `photo`. `crop_padding: None` keeps the photo's size; `Some(p)` crops to
/// the mask's bounding box grown by `p` pixels on each side (within the photo), the sticker an app
/// saves. An empty mask has nothing to crop to and keeps the photo's size.
pub fn cutout(photo: &RgbImage, mask: &Mask, crop_padding: Option<u32>) -> Result<Cutout> {
    check_same_size(mask, (photo.width(), photo.height()), "photo")?;
    let whole = BoundingBox {
        x: 0,
        y: 0,
        width: photo.width(),
        height: photo.height(),
    };
    let region = crop_padding
        .and_then(|padding| Some(padded(mask.bounding_box()?, padding, &whole)))
        .unwrap_or(whole);
    let (photo_width, x0, y0) = (photo.width() as usize, region.x as usize, region.y as usize);
    let mut data = Vec::with_capacity(region.width as usize * region.height as usize * 4);
    for y in y0..y0 + region.height as usize {
        for x in x0..x0 + region.width as usize {
            let i = y * photo_width + x;
            data.extend_from_slice(&if mask.data[i] != 0 {
                let rgb = &photo.pixels()[i * 3..i * 3 + 3];
                [rgb[0], rgb[1], rgb[2], 255]
            } else {
                [0; 4]
            });
        }
    }
    Ok(Cutout {
        image: RgbaImage {
            width: region.width,
            height: region.height,
            data,
        },
        region,
    })
}

/// `inner` grown by `padding` on each side, clipped to `outer`.
fn padded(inner: BoundingBox, padding: u32, outer: &BoundingBox) -> BoundingBox {
    let x0 = inner.x.saturating_sub(padding).max(outer.x);
    let y0 = inner.y.saturating_sub(padding).max(outer.y);
    let x1 = (inner.x + inner.width)
        .saturating_add(padding)
        .min(outer.x + outer.width);
    let y1 = (inner.y + inner.height)
        .saturating_add(padding)
        .min(outer.y + outer.height);
    BoundingBox {
        x: x0,
        y: y0,
        width: x1 - x0,
        height: y1 - y0,
    }
}

/// How [`overlay`] draws a selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverlayStyle {
    /// Blended over the pixels inside the mask.
    pub inside: Rgba,
    /// Blended over the pixels outside (alpha 0 leaves them as they are; black dims them).
    pub outside: Rgba,
    /// Blended over the outline instead of `inside`.
    pub outline: Rgba,
    /// Outline thickness in pixels, drawn inside the mask along its border with the outside
    /// (not along the photo's edges); 0 draws none.
    pub outline_width: u32,
}

impl Default for OverlayStyle {
    /// Half-transparent blue inside, a 2-pixel white outline, the rest untouched.
    fn default() -> Self {
        OverlayStyle {
            inside: DEFAULT_TINT,
            outside: [0, 0, 0, 0],
            outline: [255, 255, 255, 255],
            outline_width: 2,
        }
    }
}

/// The photo with `style`'s colours alpha-blended inside, outside and along the outline:
/// `(photo * (255 - a) + colour * a) / 255` per channel, rounded.
pub fn overlay(photo: &RgbImage, mask: &Mask, style: &OverlayStyle) -> Result<RgbImage> {
    check_same_size(mask, (photo.width(), photo.height()), "photo")?;
    let outline = outline_pixels(mask, style.outline_width);
    let pixels = photo
        .pixels()
        .chunks_exact(3)
        .zip(&mask.data)
        .zip(&outline)
        .flat_map(|((rgb, &inside), &on_outline)| {
            let colour = match (on_outline, inside != 0) {
                (true, _) => style.outline,
                (false, true) => style.inside,
                (false, false) => style.outside,
            };
            blend([rgb[0], rgb[1], rgb[2]], colour)
        })
        .collect();
    Ok(RgbImage::from_packed(photo.width(), photo.height(), pixels))
}

/// The mask alone as a layer to draw over the photo: `colour` inside (straight alpha, so its
/// alpha says how strongly it covers), transparent outside.
pub fn tinted(mask: &Mask, colour: Rgba) -> Result<RgbaImage> {
    super::check_mask(mask)?;
    let data = mask
        .data
        .iter()
        .flat_map(|&inside| if inside != 0 { colour } else { [0; 4] })
        .collect();
    Ok(RgbaImage {
        width: mask.width,
        height: mask.height,
        data,
    })
}

/// `colour` over `rgb` with the colour's alpha.
fn blend(rgb: [u8; 3], colour: Rgba) -> [u8; 3] {
    let alpha = u32::from(colour[3]);
    std::array::from_fn(|c| {
        ((u32::from(rgb[c]) * (255 - alpha) + u32::from(colour[c]) * alpha + 127) / 255) as u8
    })
}

/// Inside pixels within `width` pixels (chessboard distance, so diagonal neighbours count) of an
/// outside pixel: what eroding the mask by `width` removes.
fn outline_pixels(mask: &Mask, width: u32) -> Vec<bool> {
    if width == 0 {
        return vec![false; mask.data.len()];
    }
    // imageproc's distances saturate at 255 and a mask with no outside pixel gets at least
    // max(w, h); no pixel is farther than that from an outside one, so the clamp changes nothing.
    let reach = width.min(254).min(mask.width.max(mask.height)) as u8;
    let image = image::GrayImage::from_raw(mask.width, mask.height, mask.data.clone())
        .expect("check_same_size checked the length");
    let kept = erode(&image, Norm::LInf, reach);
    mask.data
        .iter()
        .zip(kept.as_raw())
        .map(|(&inside, &kept)| inside != 0 && kept == 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_masks::mask_from_art;
    use super::*;
    use crate::Error;

    /// A `width` x `height` photo whose pixel (x, y) is (x, y, 7).
    fn coordinate_photo(width: u32, height: u32) -> RgbImage {
        let pixels = (0..height)
            .flat_map(|y| (0..width).flat_map(move |x| [x as u8, y as u8, 7]))
            .collect();
        RgbImage::new(width, height, pixels).unwrap()
    }

    #[test]
    fn cutout_keeps_the_photo_inside_and_is_transparent_outside() {
        let photo = coordinate_photo(3, 2);
        let mask = mask_from_art(&["#..", ".#."]);
        let cut = cutout(&photo, &mask, None).unwrap();
        assert_eq!((cut.image.width, cut.image.height), (3, 2));
        #[rustfmt::skip]
        assert_eq!(cut.image.data, [
            0, 0, 7, 255,  0, 0, 0, 0,    0, 0, 0, 0,
            0, 0, 0, 0,    1, 1, 7, 255,  0, 0, 0, 0,
        ]);
    }

    #[test]
    fn tinted_is_the_colour_inside_and_transparent_outside() {
        let mask = mask_from_art(&["#.", ".#"]);
        let layer = tinted(&mask, [1, 2, 3, 4]).unwrap();
        assert_eq!((layer.width, layer.height), (2, 2));
        #[rustfmt::skip]
        assert_eq!(layer.data, [
            1, 2, 3, 4,  0, 0, 0, 0,
            0, 0, 0, 0,  1, 2, 3, 4,
        ]);
        let short = Mask {
            width: 2,
            height: 2,
            data: vec![255; 3],
        };
        assert!(matches!(
            tinted(&short, DEFAULT_TINT),
            Err(Error::BadMask { .. })
        ));
    }

    #[test]
    fn cropped_cutout_covers_the_padded_box_within_the_photo() {
        let photo = coordinate_photo(6, 5);
        let mask = mask_from_art(&[
            "......", //
            "......", //
            "...##.", //
            "......", //
            "......",
        ]);
        let tight = cutout(&photo, &mask, Some(0)).unwrap();
        let expected_tight = BoundingBox {
            x: 3,
            y: 2,
            width: 2,
            height: 1,
        };
        assert_eq!(tight.region, expected_tight);
        assert_eq!(tight.image.data, [3, 2, 7, 255, 4, 2, 7, 255]);
        // Two pixels of padding reach the photo's right edge: x 1..6, y 0..5.
        let padded = cutout(&photo, &mask, Some(2)).unwrap();
        assert_eq!(
            padded.region,
            BoundingBox {
                x: 1,
                y: 0,
                width: 5,
                height: 5
            }
        );
        assert_eq!(padded.image.data.len(), 5 * 5 * 4);
        let empty = mask_from_art(&["......"; 5]);
        assert_eq!(cutout(&photo, &empty, Some(2)).unwrap().image.width, 6);
    }

    #[test]
    fn blend_rounds_the_weighted_mean() {
        assert_eq!(blend([100, 0, 255], [0, 0, 0, 0]), [100, 0, 255]);
        assert_eq!(blend([100, 0, 255], [10, 20, 30, 255]), [10, 20, 30]);
        // (100 * 127 + 200 * 128) / 255 = 150.2 -> 150; (0 * 127 + 255 * 128) / 255 = 128.
        assert_eq!(blend([100, 0, 255], [200, 255, 255, 128]), [150, 128, 255]);
    }

    #[test]
    fn overlay_tints_inside_outside_and_outline() {
        let photo = RgbImage::new(5, 5, vec![100; 75]).unwrap();
        let mask = mask_from_art(&[
            "#####", //
            "#####", //
            "#####", //
            "#####", //
            ".....",
        ]);
        let style = OverlayStyle {
            inside: [200, 200, 200, 255],
            outside: [0, 0, 0, 255],
            outline: [50, 50, 50, 255],
            outline_width: 1,
        };
        let out = overlay(&photo, &mask, &style).unwrap();
        let grey: Vec<u8> = out.pixels().iter().step_by(3).copied().collect();
        // Only row 3 borders the outside; the photo's edges are no border.
        #[rustfmt::skip]
        assert_eq!(grey, [
            200, 200, 200, 200, 200,
            200, 200, 200, 200, 200,
            200, 200, 200, 200, 200,
             50,  50,  50,  50,  50,
              0,   0,   0,   0,   0,
        ]);
    }

    #[test]
    fn outline_width_counts_diagonal_neighbours() {
        let mask = mask_from_art(&[
            "#####", //
            "#####", //
            "##.##", //
            "#####", //
            "#####",
        ]);
        let ring: Vec<bool> = mask_from_art(&[
            ".....", //
            ".###.", //
            ".#.#.", //
            ".###.", //
            ".....",
        ])
        .data
        .iter()
        .map(|&v| v != 0)
        .collect();
        assert_eq!(outline_pixels(&mask, 1), ring);
        assert_eq!(outline_pixels(&mask, 0), vec![false; 25]);
        let full = mask_from_art(&["###", "###"]);
        assert_eq!(outline_pixels(&full, 300), vec![false; 6]);
    }

    #[test]
    fn a_mask_of_another_size_than_the_photo_is_refused() {
        let photo = coordinate_photo(3, 2);
        let mask = mask_from_art(&["##", "##"]);
        assert!(matches!(
            cutout(&photo, &mask, None),
            Err(Error::BadMask { .. })
        ));
        assert!(matches!(
            overlay(&photo, &mask, &OverlayStyle::default()),
            Err(Error::BadMask { .. })
        ));
    }
}
