//! `edgesam bench`: the library's benchmark harness ([`edgesam::benchmark`]) from the command
//! line, printing its JSON report.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use edgesam::benchmark::{run_benchmark, synthetic_photo, BenchmarkOptions};

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
    /// Print the JSON object on one line instead of indented.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &BenchArgs) -> Result<ExitCode, String> {
    args.model.check_present()?;
    let photo = match &args.image {
        Some(path) => {
            let bytes =
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            edgesam::decode_image(&bytes).map_err(|e| e.to_string())?
        }
        None => synthetic_photo(),
    };
    let options = BenchmarkOptions {
        model: args.model.options(),
        runs: args.runs,
        points: args.points,
    };
    let report = run_benchmark(&args.model.encoder, &args.model.decoder, &photo, options)
        .map_err(|e| e.to_string())?;
    let json = report.to_json();
    if args.json {
        println!("{json}");
    } else {
        let value: serde_json::Value = serde_json::from_str(&json).map_err(|e| e.to_string())?;
        println!(
            "{}",
            serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?
        );
    }
    Ok(ExitCode::SUCCESS)
}
