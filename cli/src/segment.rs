//! `edgesam segment`: one photo, one prompt, one mask.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use edgesam::engine::contract::{CANDIDATES, EMBEDDING_SHAPE, ENCODER_SIDE, LOW_RES_SIDE};
use edgesam::{EdgeSam, Point, Prompt};
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
    points: Vec<Point>,
    /// A box as x0,y0,x1,y1 in photo pixels.
    #[arg(long = "box", value_parser = parse_box)]
    bbox: Option<edgesam::BoxPrompt>,
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

pub fn run(args: &SegmentArgs) -> Result<ExitCode, String> {
    args.model.check_present()?;
    let prompt = Prompt {
        points: args.points.clone(),
        bbox: args.bbox,
    };
    if prompt.token_count() == 0 {
        return Err("give at least one --point or a --box".into());
    }

    let t = Instant::now();
    let model = EdgeSam::from_files(
        &args.model.encoder,
        &args.model.decoder,
        args.model.options(),
    )
    .map_err(|e| e.to_string())?;
    let load_ms = ms(t);

    let t = Instant::now();
    let bytes = std::fs::read(&args.image)
        .map_err(|e| format!("cannot read {}: {e}", args.image.display()))?;
    let photo =
        edgesam::decode_image(&bytes).map_err(|e| format!("{}: {e}", args.image.display()))?;
    let decode_ms = ms(t);

    let t = Instant::now();
    let input = edgesam::preprocess::preprocess_with_threads(&photo, args.model.threads);
    let preprocess_ms = ms(t);
    let t = Instant::now();
    let embedding = model
        .encode_preprocessed(&input, photo.width(), photo.height())
        .map_err(|e| e.to_string())?;
    let encode_ms = ms(t);

    let t = Instant::now();
    let prediction = model
        .predict(&embedding, &prompt, args.mask_index)
        .map_err(|e| e.to_string())?;
    let predict_ms = ms(t);

    args.outputs.write(&photo, &prediction.mask)?;
    if let Some(dir) = &args.dump_dir {
        let decoder_prompt = edgesam::prompt::decoder_prompt(
            &prompt,
            embedding.image_size(),
            embedding.resized_size(),
        );
        let n = decoder_prompt.len();
        let side = ENCODER_SIDE;
        let low = LOW_RES_SIDE;
        let files: [(&str, Vec<usize>, &[f32]); 6] = [
            ("input.npy", vec![1, 3, side, side], &input.data),
            (
                "image_embeddings.npy",
                EMBEDDING_SHAPE.to_vec(),
                embedding.values(),
            ),
            ("point_coords.npy", vec![1, n, 2], &decoder_prompt.coords),
            ("point_labels.npy", vec![1, n], &decoder_prompt.labels),
            ("scores.npy", vec![1, CANDIDATES], &prediction.scores),
            (
                "masks.npy",
                vec![1, CANDIDATES, low, low],
                &prediction.low_res_logits,
            ),
        ];
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        for (name, shape, values) in files {
            let path = dir.join(name);
            npy::write_f32(&path, &shape, values)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
    }

    let bbox = prediction.mask.bounding_box();
    if args.json {
        let (rw, rh) = embedding.resized_size();
        let report = json!({
            "image": {"width": photo.width(), "height": photo.height()},
            "resized": {"width": rw, "height": rh},
            "scores": prediction.scores,
            "mask_index": prediction.mask_index,
            "score": prediction.score(),
            "bbox": bbox.map(|b| [b.x, b.y, b.width, b.height]),
            "area": prediction.mask.area(),
            "timings_ms": {
                "load": load_ms,
                "decode_image": decode_ms,
                "preprocess": preprocess_ms,
                "encode": encode_ms,
                "predict": predict_ms,
            },
        });
        println!("{report}");
    } else {
        println!(
            "mask {}x{}: candidate {} score {:.3}, area {} px, box {}",
            photo.width(),
            photo.height(),
            prediction.mask_index,
            prediction.score(),
            prediction.mask.area(),
            bbox.map_or("none".into(), |b| format!(
                "{},{} {}x{}",
                b.x, b.y, b.width, b.height
            )),
        );
    }
    Ok(ExitCode::SUCCESS)
}
