//! The benchmark harness: cold start, pre-processing, encode and tap timings of the whole
//! pipeline with the thread count, peak memory and the model files' hashes. `edgesam bench`
//! and the bindings' `runBenchmark` (the demo apps' Benchmark screen) both run this, so a phone
//! reports the same figures as a desktop run.

use std::path::Path;
use std::time::Instant;

use crate::engine::contract::to_hex;
use crate::engine::profile::OpClock;
pub use crate::engine::profile::OpTime;
use crate::{
    Embedding, Options, PromptPoint, Result, RgbImage, SegmentAnything, SegmentPrompt, StepProgress,
};

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchmarkOptions {
    pub model: Options,
    /// Timed runs of each step, after one warm-up run.
    pub runs: usize,
    /// Points per tap: the first positive, then alternately negative and positive.
    pub points: usize,
    /// Also time each graph op family by op family ([`BenchmarkReport::profile`]), in runs of
    /// their own after the timed ones.
    pub profile: bool,
}

/// Min, median and 90th percentile of a step's timed runs, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Timings {
    pub min: f64,
    pub median: f64,
    pub p90: f64,
    pub runs: usize,
}

impl Timings {
    /// Nearest-rank statistics; `None` for no runs.
    pub fn of(mut ms: Vec<f64>) -> Option<Self> {
        if ms.is_empty() {
            return None;
        }
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
        Some(Timings {
            min: ms[0],
            median: at(0.5),
            p90: at(0.9),
            runs: ms.len(),
        })
    }
}

/// A photo's size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ImageSize {
    pub width: u32,
    pub height: u32,
}

/// Every figure of one benchmark run. It serialises (serde) to the one JSON object that
/// `edgesam bench` prints, the bindings' `runBenchmark` returns and
/// `tests/latency_vs_onnxruntime.py` reads; the field names there are the `serde` names.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BenchmarkReport {
    /// The inference engine, `"tract"`.
    pub engine: &'static str,
    pub threads: usize,
    pub decoder_planning: String,
    pub image: ImageSize,
    pub points: usize,
    /// Both files read, checked and optimised: `SegmentAnything::from_files`.
    pub cold_start_ms: f64,
    /// The first encode and the first tap after loading (tract plans lazily).
    pub first_encode_ms: f64,
    #[serde(rename = "first_predict_ms")]
    pub first_segment_ms: f64,
    #[serde(rename = "preprocess_ms")]
    pub preprocess: Timings,
    /// Pre-processing + encoder.
    #[serde(rename = "encode_ms")]
    pub encode: Timings,
    /// The decoder alone.
    #[serde(rename = "decode_ms")]
    pub decode: Timings,
    /// A tap: decoder + the chosen mask at the photo's size.
    #[serde(rename = "predict_ms")]
    pub segment: Timings,
    /// Peak resident memory of the process where the platform tells it (Linux, Android).
    pub peak_rss_bytes: Option<u64>,
    pub encoder_sha256: String,
    pub decoder_sha256: String,
    /// Where each graph's time goes, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
}

/// Where each graph's time goes, op family by op family, per run (`runs` runs, nodes timed one
/// by one, so the families add up to the graph's time).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Profile {
    /// The encoder, once per photo.
    pub encoder: Vec<OpTime>,
    /// The decoder's image-only part, once per photo (empty when the decoder is not split).
    pub decoder_per_photo: Vec<OpTime>,
    /// The decoder's prompt part, once per tap.
    pub decoder_per_tap: Vec<OpTime>,
}

/// Times `runs` runs of each graph node by node; `embedding` is `photo`'s.
fn profile(
    model: &SegmentAnything,
    photo: &RgbImage,
    embedding: &Embedding,
    prompt: &SegmentPrompt,
    runs: usize,
    steps: &mut Steps,
) -> Result<Profile> {
    let input = crate::preprocess::preprocess_with_threads(photo, model.threads);
    let encoder = OpClock::default();
    for _ in 0..runs {
        model
            .encoder
            .run(&input.data, &model.executor, &|_| true, Some(&encoder))?;
    }
    steps.report()?;
    let per_photo = OpClock::default();
    for _ in 0..runs {
        model
            .decoder
            .image_context(embedding.tensor(), &model.executor, Some(&per_photo))?;
    }
    steps.report()?;
    let per_tap = OpClock::default();
    for _ in 0..runs {
        model.decode(embedding, prompt, Some(&per_tap))?;
    }
    steps.report()?;
    Ok(Profile {
        encoder: encoder.per_run(runs),
        decoder_per_photo: per_photo.per_run(runs),
        decoder_per_tap: per_tap.per_run(runs),
    })
}

fn elapsed_ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Counts a benchmark's steps for its `progress` callback; a false answer stops the benchmark
/// with [`crate::Error::Cancelled`] at the next step.
struct Steps<'a> {
    done: u32,
    total: u32,
    progress: &'a dyn Fn(StepProgress) -> bool,
}

impl Steps<'_> {
    /// Reports the progress so far, then counts one more step as done.
    fn report(&mut self) -> Result<()> {
        let go_on = (self.progress)(StepProgress {
            done: self.done,
            total: self.total,
        });
        self.done = self.done.saturating_add(1).min(self.total);
        if go_on {
            Ok(())
        } else {
            Err(crate::Error::Cancelled)
        }
    }
}

/// One warm-up run, then `runs` timed ones, each a step of `steps`.
fn time_runs<T>(
    runs: usize,
    steps: &mut Steps,
    mut f: impl FnMut() -> Result<T>,
) -> Result<Timings> {
    f()?;
    steps.report()?;
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        ms.push(elapsed_ms(t));
        steps.report()?;
    }
    Ok(Timings::of(ms).expect("runs >= 1 is checked by run_benchmark"))
}

/// A 4000x3000 picture (a phone photo's size) with gradients and blocks, so the resize has work.
pub fn synthetic_photo() -> RgbImage {
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
    RgbImage::from_packed(w, h, pixels)
}

/// Peak resident memory of this process in bytes, where the platform reports it.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Points spread along the photo's diagonal, alternately positive and negative.
fn diagonal_prompt(photo: &RgbImage, count: usize) -> SegmentPrompt {
    let (w, h) = (photo.width() as f32, photo.height() as f32);
    let points = (0..count)
        .map(|i| {
            let f = (i as f32 + 1.0) / (count as f32 + 1.0);
            let (x, y) = (w * f, h * (1.0 - f));
            if i % 2 == 0 {
                PromptPoint::positive(x, y)
            } else {
                PromptPoint::negative(x, y)
            }
        })
        .collect();
    SegmentPrompt {
        points,
        r#box: None,
    }
}

/// Loads the pair from its files (timed as the cold start), then times every step on `photo`.
/// `progress` is told how many of the benchmark's steps (the load, every warm-up and timed run)
/// are done, before the first and after each; answering false stops it with
/// [`crate::Error::Cancelled`].
pub fn run_benchmark(
    encoder: &Path,
    decoder: &Path,
    photo: &RgbImage,
    options: BenchmarkOptions,
    progress: &dyn Fn(StepProgress) -> bool,
) -> Result<BenchmarkReport> {
    if options.runs == 0 || options.points == 0 {
        return Err(crate::Error::bad_prompt(
            "a benchmark needs at least 1 run and 1 point per tap",
        ));
    }
    // The load, the first encode and the first tap, then four timed steps of 1 + runs each, and
    // the profile's three graphs (saturating: a count beyond u32 only makes the fraction coarse).
    let runs = u32::try_from(options.runs).unwrap_or(u32::MAX);
    let profiled = if options.profile { 3 } else { 0 };
    let mut steps = Steps {
        done: 0,
        total: runs
            .saturating_add(1)
            .saturating_mul(4)
            .saturating_add(3 + profiled),
        progress,
    };
    steps.report()?;
    let t = Instant::now();
    let model = SegmentAnything::from_files(encoder, decoder, options.model.clone())?;
    let cold_start_ms = elapsed_ms(t);
    steps.report()?;

    let t = Instant::now();
    let embedding = model.encode(photo)?;
    let first_encode_ms = elapsed_ms(t);
    steps.report()?;
    let threads = model.threads();
    let preprocess = time_runs(options.runs, &mut steps, || {
        Ok(crate::preprocess::preprocess_with_threads(photo, threads))
    })?;
    let encode = time_runs(options.runs, &mut steps, || model.encode(photo))?;

    let prompt = diagonal_prompt(photo, options.points);
    let t = Instant::now();
    model.segment(&embedding, &prompt, None)?;
    let first_segment_ms = elapsed_ms(t);
    steps.report()?;
    let decode = time_runs(options.runs, &mut steps, || {
        model.decode(&embedding, &prompt, None)
    })?;
    let segment = time_runs(options.runs, &mut steps, || {
        model.segment(&embedding, &prompt, None)
    })?;
    let profile = if options.profile {
        Some(profile(
            &model,
            photo,
            &embedding,
            &prompt,
            options.runs,
            &mut steps,
        )?)
    } else {
        None
    };

    Ok(BenchmarkReport {
        engine: "tract",
        threads,
        decoder_planning: format!("{:?}", options.model.decoder_planning),
        image: ImageSize {
            width: photo.width(),
            height: photo.height(),
        },
        points: options.points,
        cold_start_ms,
        first_encode_ms,
        first_segment_ms,
        preprocess,
        encode,
        decode,
        segment,
        peak_rss_bytes: peak_rss_bytes(),
        encoder_sha256: to_hex(model.encoder_sha256()),
        decoder_sha256: to_hex(model.decoder_sha256()),
        profile,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_are_nearest_rank_statistics() {
        let t = Timings::of(vec![5.0, 1.0, 4.0, 2.0, 3.0]).unwrap();
        assert_eq!((t.min, t.median, t.p90, t.runs), (1.0, 3.0, 5.0, 5));
        assert!(Timings::of(vec![]).is_none());
    }

    #[test]
    fn prompt_alternates_labels_along_the_diagonal() {
        let photo = RgbImage::from_packed(30, 20, vec![0; 30 * 20 * 3]);
        let p = diagonal_prompt(&photo, 2);
        let (first, second) = (p.points[0], p.points[1]);
        assert!(first.positive);
        assert!((first.x - 10.0).abs() < 1e-4 && (first.y - 40.0 / 3.0).abs() < 1e-4);
        assert!(!second.positive);
        assert!((second.x - 20.0).abs() < 1e-4 && (second.y - 20.0 / 3.0).abs() < 1e-4);
    }
}
