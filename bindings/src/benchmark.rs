//! The benchmark harness for the demo apps' Benchmark screen and `adb shell` runs: the same
//! figures as `edgesam bench` on this machine, as one JSON object.

use crate::error::{guarded, EdgeSamError};
use crate::model::options;
use crate::types::option_count;

/// Loads the model files (timed as the cold start), then times pre-processing, encoding and taps
/// of 2..N points on `image_data` (a JPEG/PNG/WebP; a synthetic 4000x3000 photo when absent),
/// `runs` times each after a warm-up. Returns the report as JSON: thread count, cold start,
/// min/median/p90 of each step in milliseconds, peak memory where the OS reports it, and the
/// SHA-256 of both files. It takes seconds: call it off the main thread. With `cache_dir` (as in
/// `SegmentAnything.from_files`), a second run times a load from the cache.
#[uniffi::export(default(image_data = None, runs = 5, points = 2, threads = 0, cache_dir = None))]
pub fn run_benchmark(
    encoder_path: String,
    decoder_path: String,
    image_data: Option<Vec<u8>>,
    runs: i32,
    points: i32,
    threads: i32,
    cache_dir: Option<String>,
) -> Result<String, EdgeSamError> {
    guarded(|| {
        let photo = match image_data {
            Some(bytes) => edgesam::decode_image(&bytes)?,
            None => edgesam::benchmark::synthetic_photo(),
        };
        let options = edgesam::benchmark::BenchmarkOptions {
            model: options(threads, cache_dir)?,
            runs: option_count(runs, "runs")? as usize,
            points: option_count(points, "points")? as usize,
        };
        let report = edgesam::benchmark::run_benchmark(
            encoder_path.as_ref(),
            decoder_path.as_ref(),
            &photo,
            options,
        )?;
        serde_json::to_string(&report).map_err(|e| EdgeSamError::Internal {
            reason: format!("the benchmark report does not serialise: {e}"),
        })
    })
}
