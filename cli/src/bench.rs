//! `edgesam bench`: the library's benchmark harness ([`edgesam::benchmark`]) from the command
//! line, printing its JSON report.

use anyhow::Context;
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
    /// Also time each graph op family by op family ("profile" in the report), in runs of their
    /// own after the timed ones.
    #[arg(long)]
    profile: bool,
    /// Print the JSON object on one line instead of indented.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    args.model.check_present()?;
    let photo = match &args.image {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            edgesam::decode_image(&bytes)?
        }
        None => synthetic_photo(),
    };
    let options = BenchmarkOptions {
        model: args.model.options(),
        runs: args.runs,
        points: args.points,
        profile: args.profile,
    };
    let report = run_benchmark(
        &args.model.encoder,
        &args.model.decoder,
        &photo,
        options,
        &|_| true,
    )?;
    let json = if args.json {
        serde_json::to_string(&report)
    } else {
        serde_json::to_string_pretty(&report)
    };
    println!("{}", json?);
    Ok(ExitCode::SUCCESS)
}
