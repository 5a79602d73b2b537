//! The benchmark harness: cold start, pre-processing, encode and tap timings of the whole
//! pipeline with the thread count, peak memory and the model files' hashes. `edgesam bench`
//! and the bindings' `runBenchmark` (the demo apps' Benchmark screen) both run this, so a phone
//! reports the same figures as this machine.

use std::path::Path;
use std::time::Instant;

use crate::engine::contract::to_hex;
use crate::{EdgeSam, Options, Point, Prompt, Result, RgbImage};

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchmarkOptions {
    pub model: Options,
    /// Timed runs of each step, after one warm-up run.
    pub runs: usize,
    /// Points per tap: the first positive, then alternately negative and positive.
    pub points: usize,
}

/// Min, median and 90th percentile of a step's timed runs, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
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

    fn json(&self) -> String {
        format!(
            r#"{{"min":{},"median":{},"p90":{},"runs":{}}}"#,
            self.min, self.median, self.p90, self.runs
        )
    }
}

/// Every figure of one benchmark run.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchmarkReport {
    pub threads: usize,
    pub decoder_planning: String,
    pub image_width: u32,
    pub image_height: u32,
    pub points: usize,
    /// Both files read, checked and optimised: `EdgeSam::from_files`.
    pub cold_start_ms: f64,
    /// The first encode and the first tap after loading (tract plans lazily).
    pub first_encode_ms: f64,
    pub first_predict_ms: f64,
    pub preprocess: Timings,
    /// Pre-processing + encoder.
    pub encode: Timings,
    /// The decoder alone.
    pub decode: Timings,
    /// A tap: decoder + the chosen mask at the photo's size.
    pub predict: Timings,
    /// Peak resident memory of the process where the platform tells it (Linux, Android).
    pub peak_rss_bytes: Option<u64>,
    pub encoder_sha256: String,
    pub decoder_sha256: String,
}

impl BenchmarkReport {
    /// One JSON object, the format `tests/latency_vs_onnxruntime.py` reads.
    pub fn to_json(&self) -> String {
        let rss = self
            .peak_rss_bytes
            .map_or_else(|| "null".to_string(), |b| b.to_string());
        format!(
            concat!(
                r#"{{"engine":"tract","threads":{},"decoder_planning":"{}","#,
                r#""image":{{"width":{},"height":{}}},"points":{},"cold_start_ms":{},"#,
                r#""first_encode_ms":{},"first_predict_ms":{},"preprocess_ms":{},"#,
                r#""encode_ms":{},"decode_ms":{},"predict_ms":{},"peak_rss_bytes":{},"#,
                r#""encoder_sha256":"{}","decoder_sha256":"{}"}}"#
            ),
            self.threads,
            self.decoder_planning,
            self.image_width,
            self.image_height,
            self.points,
            self.cold_start_ms,
            self.first_encode_ms,
            self.first_predict_ms,
            self.preprocess.json(),
            self.encode.json(),
            self.decode.json(),
            self.predict.json(),
            rss,
            self.encoder_sha256,
            self.decoder_sha256,
        )
    }
}

fn elapsed_ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// One warm-up run, then `runs` timed ones.
fn time_runs<T>(runs: usize, mut f: impl FnMut() -> Result<T>) -> Result<Timings> {
    f()?;
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        ms.push(elapsed_ms(t));
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
fn diagonal_prompt(photo: &RgbImage, count: usize) -> Prompt {
    let (w, h) = (photo.width() as f32, photo.height() as f32);
    let points = (0..count)
        .map(|i| {
            let f = (i as f32 + 1.0) / (count as f32 + 1.0);
            let (x, y) = (w * f, h * (1.0 - f));
            if i % 2 == 0 {
                Point::positive(x, y)
            } else {
                Point::negative(x, y)
            }
        })
        .collect();
    Prompt { points, bbox: None }
}

/// Loads the pair from its files (timed as the cold start), then times every step on `photo`.
pub fn run_benchmark(
    encoder: &Path,
    decoder: &Path,
    photo: &RgbImage,
    options: BenchmarkOptions,
) -> Result<BenchmarkReport> {
    if options.runs == 0 || options.points == 0 {
        return Err(crate::Error::bad_prompt(
            "a benchmark needs at least 1 run and 1 point per tap",
        ));
    }
    let t = Instant::now();
    let model = EdgeSam::from_files(encoder, decoder, options.model)?;
    let cold_start_ms = elapsed_ms(t);

    let t = Instant::now();
    let embedding = model.encode(photo)?;
    let first_encode_ms = elapsed_ms(t);
    let threads = options.model.threads.max(1);
    let preprocess = time_runs(options.runs, || {
        Ok(crate::preprocess::preprocess_with_threads(photo, threads))
    })?;
    let encode = time_runs(options.runs, || model.encode(photo))?;

    let prompt = diagonal_prompt(photo, options.points);
    let t = Instant::now();
    model.predict(&embedding, &prompt, None)?;
    let first_predict_ms = elapsed_ms(t);
    let decode = time_runs(options.runs, || model.decode(&embedding, &prompt))?;
    let predict = time_runs(options.runs, || model.predict(&embedding, &prompt, None))?;

    Ok(BenchmarkReport {
        threads,
        decoder_planning: format!("{:?}", options.model.decoder_planning),
        image_width: photo.width(),
        image_height: photo.height(),
        points: options.points,
        cold_start_ms,
        first_encode_ms,
        first_predict_ms,
        preprocess,
        encode,
        decode,
        predict,
        peak_rss_bytes: peak_rss_bytes(),
        encoder_sha256: to_hex(model.encoder_sha256()),
        decoder_sha256: to_hex(model.decoder_sha256()),
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
        assert_eq!(first.label, crate::PointLabel::Positive);
        assert!((first.x - 10.0).abs() < 1e-4 && (first.y - 40.0 / 3.0).abs() < 1e-4);
        assert_eq!(second.label, crate::PointLabel::Negative);
        assert!((second.x - 20.0).abs() < 1e-4 && (second.y - 20.0 / 3.0).abs() < 1e-4);
    }
}
