//! The files `edgesam segment` writes from a mask: PNG, overlay, COCO RLE, polygons, cut-out.

use anyhow::Context;
use std::path::{Path, PathBuf};

use clap::Args;
use edgesam::outputs::{self, CocoRle, OverlayStyle, DEFAULT_TOLERANCE};
use edgesam::{Mask, RgbImage};
use serde_json::{json, Value};

/// Each output is written only when its path is given.
#[derive(Args)]
pub struct OutputArgs {
    /// The mask as an 8-bit grey PNG at the photo's size, 255 inside.
    #[arg(long)]
    mask_out: Option<PathBuf>,
    /// The photo with the mask tinted blue and the rest dimmed (PNG).
    #[arg(long)]
    overlay_out: Option<PathBuf>,
    /// Width in pixels of a white outline drawn inside the mask's border on the overlay.
    #[arg(long, default_value_t = 0)]
    overlay_outline: u32,
    /// The mask as COCO RLE JSON, {"size": [h, w], "counts": "..."} as pycocotools encodes it.
    #[arg(long)]
    rle_out: Option<PathBuf>,
    /// Write the RLE counts as the list of run lengths instead of the compressed string.
    #[arg(long)]
    rle_uncompressed: bool,
    /// The outlines of the mask's regions and holes as JSON polygons in photo pixels.
    #[arg(long)]
    polygons_out: Option<PathBuf>,
    /// Simplification tolerance of the polygons in pixels (0 keeps every border pixel).
    #[arg(long, default_value_t = DEFAULT_TOLERANCE)]
    polygon_tolerance: f64,
    /// The object on a transparent background (RGBA PNG), at the photo's size unless
    /// --cutout-padding crops it.
    #[arg(long)]
    cutout_out: Option<PathBuf>,
    /// Crop the cut-out to the mask's bounding box grown by this many pixels.
    #[arg(long)]
    cutout_padding: Option<u32>,
}

/// The CLI's overlay: the selection half blue, the rest dimmed to 60 %, an optional white outline.
fn overlay_style(outline_width: u32) -> OverlayStyle {
    OverlayStyle {
        inside: edgesam::outputs::DEFAULT_TINT,
        outside: [0, 0, 0, 102],
        outline: [255, 255, 255, 255],
        outline_width,
    }
}

impl OutputArgs {
    /// Writes every requested output of `mask`, cut from or drawn on `photo`.
    pub fn write(&self, photo: &RgbImage, mask: &Mask) -> anyhow::Result<()> {
        if let Some(path) = &self.mask_out {
            let png = image::GrayImage::from_raw(mask.width, mask.height, mask.data.clone())
                .context("mask buffer does not match its size")?;
            save_png(png, path)?;
        }
        if let Some(path) = &self.overlay_out {
            let tinted = outputs::overlay(photo, mask, &overlay_style(self.overlay_outline))?;
            let png = image::RgbImage::from_raw(
                tinted.width(),
                tinted.height(),
                tinted.pixels().to_vec(),
            )
            .context("overlay buffer does not match its size")?;
            save_png(png, path)?;
        }
        if let Some(path) = &self.rle_out {
            let rle = CocoRle::from_mask(mask)?;
            write_json(&rle_json(&rle, self.rle_uncompressed), path)?;
        }
        if let Some(path) = &self.polygons_out {
            write_json(&polygons_json(mask, self.polygon_tolerance)?, path)?;
        }
        if let Some(path) = &self.cutout_out {
            let cut = outputs::cutout(photo, mask, self.cutout_padding)?;
            let png = image::RgbaImage::from_raw(cut.image.width, cut.image.height, cut.image.data)
                .context("cut-out buffer does not match its size")?;
            save_png(png, path)?;
        }
        Ok(())
    }
}

/// COCO's RLE object; the compressed counts are the string pycocotools keeps as bytes.
pub(crate) fn rle_json(rle: &CocoRle, uncompressed: bool) -> Value {
    let counts = if uncompressed {
        json!(rle.counts)
    } else {
        json!(rle.compressed_counts())
    };
    json!({"size": rle.size, "counts": counts})
}

pub(crate) fn polygons_json(mask: &Mask, tolerance: f64) -> anyhow::Result<Value> {
    let polygons = outputs::outline_polygons(mask, tolerance)?;
    let list: Vec<Value> = polygons
        .iter()
        .map(|p| json!({"points": p.points, "hole": p.is_hole, "parent": p.parent}))
        .collect();
    Ok(json!({
        "width": mask.width,
        "height": mask.height,
        "tolerance": tolerance,
        "polygons": list,
    }))
}

pub(crate) fn save_png<P, C>(png: image::ImageBuffer<P, C>, path: &Path) -> anyhow::Result<()>
where
    P: image::PixelWithColorType,
    [P::Subpixel]: image::EncodableLayout,
    C: std::ops::Deref<Target = [P::Subpixel]>,
{
    png.save_with_format(path, image::ImageFormat::Png)
        .with_context(|| format!("cannot write {}", path.display()))
}

pub(crate) fn write_json(value: &Value, path: &Path) -> anyhow::Result<()> {
    std::fs::write(path, value.to_string())
        .with_context(|| format!("cannot write {}", path.display()))
}
