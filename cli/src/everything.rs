//! `edgesam everything`: automatic masks for a whole photo, as JSON, PNGs and an overlay.

use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use edgesam::everything::{point_grid, EverythingOptions};
use edgesam::outputs::{self, OverlayStyle};
use edgesam::{AutoMask, RgbImage, SegmentAnything, SegmentPrompt};
use serde_json::{json, Value};

use crate::outputs::{polygons_json, rle_json, save_png, write_json};
use crate::ModelArgs;

#[derive(Args)]
pub struct EverythingArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// The photo (JPEG, PNG or WebP; EXIF orientation is applied).
    #[arg(long)]
    image: PathBuf,
    /// Points per side of the prompt grid.
    #[arg(long, default_value_t = EverythingOptions::default().points_per_side)]
    points_per_side: u32,
    /// Keep candidates whose decoder score is above this.
    #[arg(long, default_value_t = EverythingOptions::default().score_threshold)]
    score_threshold: f32,
    /// Keep candidates whose stability score is at least this.
    #[arg(long, default_value_t = EverythingOptions::default().stability_threshold)]
    stability_threshold: f32,
    /// Logit offset of the stability score.
    #[arg(long, default_value_t = EverythingOptions::default().stability_offset)]
    stability_offset: f32,
    /// Box IoU above which the lower-scoring of two masks is dropped.
    #[arg(long, default_value_t = EverythingOptions::default().box_nms_threshold)]
    box_nms_threshold: f32,
    /// Remove islands and holes smaller than this many pixels (0: off).
    #[arg(long, default_value_t = 0)]
    min_region_area: u32,
    /// Write the masks as JSON: area, box, scores, grid point, candidate and COCO RLE each.
    #[arg(long)]
    json_out: Option<PathBuf>,
    /// Write the RLE counts as run lengths instead of the compressed string.
    #[arg(long)]
    rle_uncompressed: bool,
    /// Add each mask's outline polygons to the JSON, simplified with this tolerance in pixels.
    #[arg(long)]
    polygon_tolerance: Option<f64>,
    /// Write every mask as an 8-bit PNG into this folder (mask-000.png is the largest).
    #[arg(long)]
    masks_dir: Option<PathBuf>,
    /// The photo with every mask tinted in its own colour (PNG).
    #[arg(long)]
    overlay_out: Option<PathBuf>,
    /// Also time one tap per grid point (decoder and photo-size mask each, as `segment` does)
    /// and print how the two compare.
    #[arg(long)]
    versus_taps: bool,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

impl EverythingArgs {
    fn options(&self) -> EverythingOptions {
        EverythingOptions {
            points_per_side: self.points_per_side,
            score_threshold: self.score_threshold,
            stability_threshold: self.stability_threshold,
            stability_offset: self.stability_offset,
            box_nms_threshold: self.box_nms_threshold,
            min_region_area: self.min_region_area,
        }
    }
}

fn mask_json(m: &AutoMask, args: &EverythingArgs) -> anyhow::Result<Value> {
    let b = m.bounding_box;
    let mut value = json!({
        "area": m.area,
        "bbox": [b.x, b.y, b.width, b.height],
        "score": m.score,
        "stability_score": m.stability_score,
        "point": [m.point.0, m.point.1],
        "candidate": m.candidate,
        "segmentation": rle_json(&m.rle, args.rle_uncompressed),
    });
    if let Some(tolerance) = args.polygon_tolerance {
        let mask = m.mask()?;
        value["outline"] = polygons_json(&mask, tolerance)?;
    }
    Ok(value)
}

/// Distinct colours for neighbouring masks (Tableau's 10), cycled.
const PALETTE: [[u8; 3]; 10] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
];

fn write_overlay(
    photo: &RgbImage,
    masks: &[AutoMask],
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let mut picture = photo.clone();
    // Largest first, so that small objects stay visible on top of the ones around them.
    for (i, m) in masks.iter().enumerate() {
        let [r, g, b] = PALETTE[i % PALETTE.len()];
        let style = OverlayStyle {
            inside: [r, g, b, 140],
            outside: [0, 0, 0, 0],
            outline: [255, 255, 255, 255],
            outline_width: 1,
        };
        let mask = m.mask()?;
        picture = outputs::overlay(&picture, &mask, &style)?;
    }
    let png =
        image::RgbImage::from_raw(picture.width(), picture.height(), picture.pixels().to_vec())
            .context("overlay buffer does not match its size")?;
    save_png(png, path)
}

/// One full tap per grid point, as an app without everything mode would have to do.
fn time_taps(
    model: &SegmentAnything,
    embedding: &edgesam::Embedding,
    n: u32,
) -> anyhow::Result<f64> {
    let (w, h) = embedding.image_size();
    let t = Instant::now();
    for (x, y) in point_grid(n, w, h) {
        model.segment(embedding, &SegmentPrompt::point(x, y), None)?;
    }
    Ok(ms(t))
}

pub fn run(args: &EverythingArgs) -> anyhow::Result<ExitCode> {
    args.model.check_present()?;
    let model = SegmentAnything::from_files(
        &args.model.encoder,
        &args.model.decoder,
        args.model.options(),
    )?;
    let bytes = std::fs::read(&args.image)
        .with_context(|| format!("cannot read {}", args.image.display()))?;
    let photo = edgesam::decode_image(&bytes).with_context(|| args.image.display().to_string())?;
    let t = Instant::now();
    let embedding = model.encode(&photo)?;
    let encode_ms = ms(t);

    let t = Instant::now();
    let masks = model.everything(&embedding, &args.options(), &|_| true)?;
    let everything_ms = ms(t);

    if let Some(path) = &args.json_out {
        let list = masks
            .iter()
            .map(|m| mask_json(m, args))
            .collect::<Result<Vec<_>, _>>()?;
        write_json(
            &json!({"width": photo.width(), "height": photo.height(), "masks": list}),
            path,
        )?;
    }
    if let Some(dir) = &args.masks_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (i, m) in masks.iter().enumerate() {
            let mask = m.mask()?;
            let png = image::GrayImage::from_raw(mask.width, mask.height, mask.data)
                .context("mask buffer does not match its size")?;
            save_png(png, &dir.join(format!("mask-{i:03}.png")))?;
        }
    }
    if let Some(path) = &args.overlay_out {
        write_overlay(&photo, &masks, path)?;
    }
    let grid = args.points_per_side * args.points_per_side;
    println!(
        "{} masks from a {}x{} grid on a {}x{} photo: encode {encode_ms:.0} ms, everything {everything_ms:.0} ms on {} thread(s)",
        masks.len(),
        args.points_per_side,
        args.points_per_side,
        photo.width(),
        photo.height(),
        model.threads(),
    );
    if args.versus_taps {
        let taps_ms = time_taps(&model, &embedding, args.points_per_side)?;
        println!(
            "{grid} single taps {taps_ms:.0} ms; everything takes {:.3}x their time",
            everything_ms / taps_ms
        );
    }
    Ok(ExitCode::SUCCESS)
}
