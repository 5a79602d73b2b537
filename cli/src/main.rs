//! `edgesam`: segment a photo from taps or a box, inspect model files, benchmark the pipeline.

mod bench;
mod everything;
mod info;
mod npy;
mod outputs;
mod segment;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use edgesam::{DecoderPlanning, PromptPoint};

/// Where `models/fetch_official.py` puts the better (3x) official checkpoint.
const DEFAULT_ENCODER: &str = "models/edge_sam_3x_encoder.onnx";
const DEFAULT_DECODER: &str = "models/edge_sam_3x_decoder.onnx";

#[derive(Parser)]
#[command(
    name = "edgesam",
    version,
    about = "EdgeSAM (on-device Segment Anything) on tract"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Segment the object under the given points and/or box; write the mask as PNG, RLE, polygons,
    /// cut-out or overlay.
    Segment(Box<segment::SegmentArgs>),
    /// Find every object in the photo (SAM's automatic mask generator): masks as JSON with COCO
    /// RLE, PNGs or an overlay.
    Everything(Box<everything::EverythingArgs>),
    /// Print a model file's inputs and outputs and whether it meets the encoder or decoder contract.
    Info {
        /// ONNX files to inspect.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Time model loading, encoding and taps; print the figures (JSON with --json).
    Bench(bench::BenchArgs),
}

/// The model pair and how to run it, shared by `segment` and `bench`.
#[derive(Args)]
struct ModelArgs {
    /// Encoder ONNX file.
    #[arg(long, default_value = DEFAULT_ENCODER)]
    encoder: PathBuf,
    /// Decoder ONNX file.
    #[arg(long, default_value = DEFAULT_DECODER)]
    decoder: PathBuf,
    /// Threads to run on: 0 = one per available core, 1 = the calling thread only.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// How the decoder handles changing point counts.
    #[arg(long, value_enum, default_value_t = Planning::Symbolic)]
    planning: Planning,
    /// Folder where the analysed graphs are kept, so that the next load of the same files skips
    /// the ONNX work (created when missing; a damaged entry is rebuilt).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Planning {
    /// One plan with a symbolic point count.
    Symbolic,
    /// One plan per point count, cached.
    PerPointCount,
}

impl ModelArgs {
    fn options(&self) -> edgesam::Options {
        edgesam::Options {
            threads: self.threads,
            decoder_planning: match self.planning {
                Planning::Symbolic => DecoderPlanning::Symbolic,
                Planning::PerPointCount => DecoderPlanning::PerPointCount,
            },
            cache_dir: self.cache_dir.clone(),
        }
    }

    /// Explains what to do when the default (official) files are not there.
    fn check_present(&self) -> anyhow::Result<()> {
        for path in [&self.encoder, &self.decoder] {
            if !path.exists() {
                let official =
                    path.as_os_str() == DEFAULT_ENCODER || path.as_os_str() == DEFAULT_DECODER;
                anyhow::bail!(if official {
                    format!(
                        "the official model file {} is not here. Fetch the official files with \
                         `python3 models/fetch_official.py` (needs access to huggingface.co), or run \
                         on the generated stand-ins: `python3 models/standins.py` then \
                         --encoder models/generated/full/edge_sam_encoder.onnx \
                         --decoder models/generated/full/edge_sam_decoder.onnx",
                        path.display()
                    )
                } else {
                    format!("model file {} not found", path.display())
                });
            }
        }
        Ok(())
    }
}

/// `x,y` or `x,y,label` (label 1 positive, the default; 0 negative).
fn parse_point(text: &str) -> Result<PromptPoint, String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let coord = |s: &str| {
        s.parse::<f32>()
            .map_err(|_| format!("`{s}` is not a number"))
    };
    match parts.as_slice() {
        [x, y] | [x, y, "1"] => Ok(PromptPoint::positive(coord(x)?, coord(y)?)),
        [x, y, "0"] => Ok(PromptPoint::negative(coord(x)?, coord(y)?)),
        [_, _, label] => Err(format!(
            "label `{label}` must be 1 (positive) or 0 (negative)"
        )),
        _ => Err(format!("`{text}` is not x,y or x,y,label")),
    }
}

/// `x0,y0,x1,y1`.
fn parse_box(text: &str) -> Result<edgesam::PromptBox, String> {
    let values: Vec<f32> = text
        .split(',')
        .map(|s| {
            s.trim()
                .parse::<f32>()
                .map_err(|_| format!("`{s}` is not a number"))
        })
        .collect::<Result<_, _>>()?;
    match values.as_slice() {
        [x0, y0, x1, y1] => Ok(edgesam::PromptBox {
            x0: *x0,
            y0: *y0,
            x1: *x1,
            y1: *y1,
        }),
        _ => Err(format!("`{text}` is not x0,y0,x1,y1")),
    }
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Segment(args) => segment::run(&args),
        Command::Everything(args) => everything::run(&args),
        Command::Info { files } => info::run(&files),
        Command::Bench(args) => bench::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("edgesam: {error:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_parse_with_optional_label() {
        assert_eq!(
            parse_point("10,20").unwrap(),
            PromptPoint::positive(10.0, 20.0)
        );
        assert_eq!(
            parse_point(" 1.5, 2 ,0").unwrap(),
            PromptPoint::negative(1.5, 2.0)
        );
        assert!(parse_point("1,2,3").is_err());
        assert!(parse_point("1").is_err());
        assert!(parse_point("a,b").is_err());
    }

    #[test]
    fn boxes_parse_four_numbers() {
        let b = parse_box("1,2,3,4").unwrap();
        assert_eq!((b.x0, b.y0, b.x1, b.y1), (1.0, 2.0, 3.0, 4.0));
        assert!(parse_box("1,2,3").is_err());
    }
}
