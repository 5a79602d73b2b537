//! `edgesam bench`: cold start, pre-processing, encode and tap timings of the whole pipeline,
//! with the thread count, peak memory and the model files' hashes, as JSON.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use edgesam::engine::{sha256, to_hex};
use edgesam::{EdgeSam, Point, Prompt, RgbImage};
use serde_json::json;

use crate::ModelArgs;

#[derive(Args)]
pub struct BenchArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Photo to encode; a synthetic 4000x3000 picture when absent.
    #[arg(long)]
    image: Option<PathBuf>,
    /// Points per tap (the first positive, then alternating negative and positive).
    #[arg(long, default_value_t = 2)]
    points: usize,
    /// Timed runs of each step, after one warm-up run.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// Min, median and 90th percentile of a set of timings in milliseconds.
fn summary(mut times: Vec<f64>) -> serde_json::Value {
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    json!({"min": times[0], "median": at(0.5), "p90": at(0.9), "runs": times.len()})
}

fn time_runs<T>(
    runs: usize,
    mut f: impl FnMut() -> edgesam::Result<T>,
) -> Result<Vec<f64>, String> {
    f().map_err(|e| e.to_string())?;
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f().map_err(|e| e.to_string())?;
            Ok(t.elapsed().as_secs_f64() * 1e3)
        })
        .collect()
}

/// A 4000x3000 picture with gradients and a few rectangles, so the resize has work to do.
fn synthetic_photo() -> RgbImage {
    let (w, h) = (4000u32, 3000u32);
    let mut pixels = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let inside = (x / 700 + y / 600) % 3 == 0;
            let r = (x * 255 / w) as u8;
            let g = (y * 255 / h) as u8;
            let b = if inside { 220 } else { ((x ^ y) & 0x3f) as u8 };
            pixels.extend([r, g, b]);
        }
    }
    RgbImage::new(w, h, pixels).expect("a valid synthetic picture")
}

/// Peak resident memory of this process in bytes, where the platform reports it.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

pub fn run(args: &BenchArgs) -> Result<ExitCode, String> {
    args.model.check_present()?;
    if args.runs == 0 || args.points == 0 {
        return Err("--runs and --points must be at least 1".into());
    }
    let read =
        |p: &PathBuf| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let options = args.model.options();

    // Cold start: both files read, checked and optimised (in parallel, as the library loads).
    let t = Instant::now();
    let model = EdgeSam::from_files(&args.model.encoder, &args.model.decoder, options)
        .map_err(|e| e.to_string())?;
    let cold_start_ms = t.elapsed().as_secs_f64() * 1e3;
    let encoder_sha = to_hex(model.encoder_sha256());
    let decoder_sha = to_hex(&sha256(&read(&args.model.decoder)?));

    let photo = match &args.image {
        Some(path) => edgesam::decode_image(&read(path)?).map_err(|e| e.to_string())?,
        None => synthetic_photo(),
    };
    let first_ms = |f: &mut dyn FnMut() -> edgesam::Result<()>| -> Result<f64, String> {
        let t = Instant::now();
        f().map_err(|e| e.to_string())?;
        Ok(t.elapsed().as_secs_f64() * 1e3)
    };
    let first_encode_ms = first_ms(&mut || model.encode(&photo).map(drop))?;
    let preprocess_ms = time_runs(args.runs, || {
        Ok(edgesam::preprocess::preprocess_with_threads(
            &photo,
            options.threads,
        ))
    })?;
    let encode_ms = time_runs(args.runs, || model.encode(&photo))?;
    let embedding = model.encode(&photo).map_err(|e| e.to_string())?;

    let (w, h) = (photo.width() as f32, photo.height() as f32);
    let points = (0..args.points)
        .map(|i| {
            let f = (i as f32 + 1.0) / (args.points as f32 + 1.0);
            let (x, y) = (w * f, h * (1.0 - f));
            if i % 2 == 0 {
                Point::positive(x, y)
            } else {
                Point::negative(x, y)
            }
        })
        .collect();
    let prompt = Prompt { points, bbox: None };
    let first_predict_ms = first_ms(&mut || model.predict(&embedding, &prompt, None).map(drop))?;
    let decode_ms = time_runs(args.runs, || model.decode(&embedding, &prompt))?;
    let predict_ms = time_runs(args.runs, || model.predict(&embedding, &prompt, None))?;

    let report = json!({
        "engine": "tract",
        "threads": options.threads.max(1),
        "decoder_planning": format!("{:?}", options.decoder_planning),
        "image": {"width": photo.width(), "height": photo.height()},
        "points": args.points,
        "cold_start_ms": cold_start_ms,
        "first_encode_ms": first_encode_ms,
        "first_predict_ms": first_predict_ms,
        "preprocess_ms": summary(preprocess_ms),
        "encode_ms": summary(encode_ms),
        "decode_ms": summary(decode_ms),
        "predict_ms": summary(predict_ms),
        "peak_rss_bytes": peak_rss_bytes(),
        "encoder_sha256": encoder_sha,
        "decoder_sha256": decoder_sha,
    });
    if args.json {
        println!("{report}");
    } else {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("JSON value")
        );
    }
    Ok(ExitCode::SUCCESS)
}
