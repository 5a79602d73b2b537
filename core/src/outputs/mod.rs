//! What an app does with a mask besides showing it: COCO RLE ([`CocoRle`]), outline polygons
//! ([`outline_polygons`]), a cut-out of the object ([`cutout`]), the photo with the selection
//! tinted ([`overlay`]) or the selection alone as a layer ([`tinted`]), and selection editing ([`Mask::union`], [`Mask::subtract`],
//! [`Mask::intersect`]).

mod combine;
mod polygons;
mod render;
mod rle;

pub use polygons::{outline_polygons, Polygon, DEFAULT_TOLERANCE};
pub use render::{cutout, overlay, tinted, Cutout, OverlayStyle, Rgba, RgbaImage, DEFAULT_TINT};
pub use rle::CocoRle;

use crate::error::{Error, Result};
use crate::Mask;

/// Refuses a mask whose bytes do not cover its size (its fields are public, so anything goes).
fn check_mask(mask: &Mask) -> Result<()> {
    // In u64: on 32-bit phones width times height can wrap in usize and match a short buffer.
    let expected = u64::from(mask.width) * u64::from(mask.height);
    if mask.data.len() as u64 != expected {
        return Err(Error::bad_mask(format!(
            "a {}x{} mask needs {expected} bytes, it has {}",
            mask.width,
            mask.height,
            mask.data.len()
        )));
    }
    Ok(())
}

/// Refuses a mask that is not `width` x `height`, the size of the `other` picture it goes with.
fn check_same_size(mask: &Mask, (width, height): (u32, u32), other: &str) -> Result<()> {
    check_mask(mask)?;
    if (mask.width, mask.height) != (width, height) {
        return Err(Error::bad_mask(format!(
            "the mask is {}x{} pixels, the {other} {width}x{height}",
            mask.width, mask.height
        )));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod test_masks {
    use crate::Mask;

    /// A mask from rows of '#' (inside) and '.' (outside), to draw test masks in the source.
    pub fn mask_from_art(rows: &[&str]) -> Mask {
        let data: Vec<u8> = rows
            .iter()
            .flat_map(|row| row.bytes().map(|b| if b == b'#' { 255 } else { 0 }))
            .collect();
        Mask {
            width: rows[0].len() as u32,
            height: rows.len() as u32,
            data,
        }
    }
}
