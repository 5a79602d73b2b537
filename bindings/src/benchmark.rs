//! The benchmark harness for the demo apps' Benchmark screen and `adb shell` runs: the same
//! figures as `edgesam bench` on this machine, as one JSON object.

use std::sync::Arc;

use crate::background::CancellationToken;
use crate::error::{guarded, EdgeSamError};
use crate::model::options;
use crate::progress::{reporter, ProgressListener};
use crate::types::option_count;

/// Loads the model files (timed as the cold start), then times pre-processing, encoding and taps
/// of 2..N points on `image_data` (a JPEG/PNG/WebP; a synthetic 4000x3000 photo when absent),
/// `runs` times each after a warm-up. Returns the report as JSON: thread count, cold start,
/// min/median/p90 of each step in milliseconds, peak memory where the OS reports it, and the
/// SHA-256 of both files. With `cache_dir` (as in `SegmentAnything.from_files`), a second run
/// times a load from the cache; `profile` adds the time of each graph's op families ("profile").
/// It takes seconds to minutes and blocks: call it off the main thread. `progress` is told after
/// each load and run; cancelling `cancellation` (from any thread) stops it with `Cancelled` after
/// the step under way.
#[uniffi::export(default(
    image_data = None,
    runs = 5,
    points = 2,
    threads = 0,
    cache_dir = None,
    profile = false,
    progress = None,
    cancellation = None
))]
#[allow(clippy::too_many_arguments)] // the files, then options that all have defaults
pub fn run_benchmark(
    encoder_path: String,
    decoder_path: String,
    image_data: Option<Vec<u8>>,
    runs: i32,
    points: i32,
    threads: i32,
    cache_dir: Option<String>,
    profile: bool,
    progress: Option<Arc<dyn ProgressListener>>,
    cancellation: Option<Arc<CancellationToken>>,
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
            profile,
        };
        let report = edgesam::benchmark::run_benchmark(
            encoder_path.as_ref(),
            decoder_path.as_ref(),
            &photo,
            options,
            &reporter(progress.as_ref(), || {
                cancellation
                    .as_ref()
                    .is_some_and(|token| token.is_cancelled())
            }),
        )?;
        serde_json::to_string(&report).map_err(|e| EdgeSamError::Internal {
            reason: format!("the benchmark report does not serialise: {e}"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_photo_that_is_no_image_is_refused_before_loading() {
        let refused = run_benchmark(
            "missing-encoder.onnx".into(),
            "missing-decoder.onnx".into(),
            Some(b"not an image".to_vec()),
            1,
            1,
            1,
            None,
            false,
            None,
            None,
        )
        .err();
        assert!(
            matches!(refused, Some(EdgeSamError::BadImage { .. })),
            "{refused:?}"
        );
    }
}
