//! `edgesam segment`: one photo, one prompt, one mask.

use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use edgesam::contract::{CANDIDATES, EMBEDDING_SHAPE, ENCODER_SIDE, LOW_RES_SIDE};
use edgesam::{PromptPoint, SegmentAnything, SegmentPrompt};
use serde_json::json;

use crate::outputs::OutputArgs;
use crate::{npy, parse_box, parse_point, ModelArgs};

#[derive(Args)]
pub struct SegmentArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// The photo (JPEG, PNG or WebP; EXIF orientation is applied).
    #[arg(long)]
    image: PathBuf,
    /// A tap as x,y[,label] in photo pixels; label 1 (default) positive, 0 negative. Repeatable.
    #[arg(long = "point", value_parser = parse_point)]
    points: Vec<PromptPoint>,
    /// A box as x0,y0,x1,y1 in photo pixels.
    #[arg(long = "box", value_parser = parse_box)]
    r#box: Option<edgesam::PromptBox>,
    /// Candidate to output (0..=3) instead of the default choice.
    #[arg(long)]
    mask_index: Option<usize>,
    #[command(flatten)]
    outputs: OutputArgs,
    /// Print one JSON object with scores, choice, box, area and timings.
    #[arg(long)]
    json: bool,
    /// Write every intermediate tensor as .npy files into this folder (for parity checks).
    #[arg(long)]
    dump_dir: Option<PathBuf>,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

pub fn run(args: &SegmentArgs) -> anyhow::Result<ExitCode> {
    args.model.check_present()?;
    let prompt = SegmentPrompt {
        points: args.points.clone(),
        r#box: args.r#box,
    };
    if prompt.token_count() == 0 {
        anyhow::bail!("give at least one --point or a --box");
    }

    let t = Instant::now();
    let model = SegmentAnything::from_files(
        &args.model.encoder,
        &args.model.decoder,
        args.model.options(),
    )?;
    let load_ms = ms(t);

    let t = Instant::now();
    let bytes = std::fs::read(&args.image)
        .with_context(|| format!("cannot read {}", args.image.display()))?;
    let photo = edgesam::decode_image(&bytes).with_context(|| args.image.display().to_string())?;
    let decode_ms = ms(t);

    let trace = model.segment_traced(&photo, &prompt, args.mask_index)?;
    let in_ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    let (preprocess_ms, encode_ms, segment_ms) = (
        in_ms(trace.preprocess_time),
        in_ms(trace.encode_time),
        in_ms(trace.segment_time),
    );
    let (embedding, segmentation) = (&trace.embedding, &trace.segmentation);

    args.outputs.write(&photo, &segmentation.mask)?;
    if let Some(dir) = &args.dump_dir {
        let n = trace.point_labels.len();
        let side = ENCODER_SIDE;
        let low = LOW_RES_SIDE;
        let files: [(&str, Vec<usize>, &[f32]); 6] = [
            ("input.npy", vec![1, 3, side, side], &trace.encoder_input),
            (
                "image_embeddings.npy",
                EMBEDDING_SHAPE.to_vec(),
                embedding.values(),
            ),
            ("point_coords.npy", vec![1, n, 2], &trace.point_coords),
            ("point_labels.npy", vec![1, n], &trace.point_labels),
            ("scores.npy", vec![1, CANDIDATES], &segmentation.scores),
            (
                "masks.npy",
                vec![1, CANDIDATES, low, low],
                &segmentation.low_res_logits,
            ),
        ];
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (name, shape, values) in files {
            let path = dir.join(name);
            npy::write_f32(&path, &shape, values)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }

    let bbox = segmentation.mask.bounding_box();
    if args.json {
        let (rw, rh) = embedding.resized_size();
        let report = json!({
            "image": {"width": photo.width(), "height": photo.height()},
            "resized": {"width": rw, "height": rh},
            "scores": segmentation.scores,
            "mask_index": segmentation.mask_index,
            "score": segmentation.score(),
            "bbox": bbox.map(|b| [b.x, b.y, b.width, b.height]),
            "area": segmentation.mask.area(),
            "timings_ms": {
                "load": load_ms,
                "decode_image": decode_ms,
                "preprocess": preprocess_ms,
                "encode": encode_ms,
                "predict": segment_ms,
            },
        });
        println!("{report}");
    } else {
        println!(
            "mask {}x{}: candidate {} score {:.3}, area {} px, box {}",
            photo.width(),
            photo.height(),
            segmentation.mask_index,
            segmentation.score(),
            segmentation.mask.area(),
            bbox.map_or("none".into(), |b| format!(
                "{},{} {}x{}",
                b.x, b.y, b.width, b.height
            )),
        );
    }
    Ok(ExitCode::SUCCESS)
}
