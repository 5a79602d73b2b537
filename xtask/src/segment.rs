//! `cargo xtask segment`: the main job, a photo segmented from a tap (or a box) by the edgesam CLI.
//!
//!   cargo xtask segment [IMAGE] [edgesam segment options...]
//!       with the official EdgeSAM files in models/ (fetched and SHA-256-verified when missing)
//!   cargo xtask segment --standins [IMAGE] [options...]
//!       offline, on generated stand-in models (random weights: the mask shows that the pipeline
//!       runs end to end, not a meaningful segmentation)
//!
//! Without options it taps the red ball of tests/data/sample.jpg. Writes out/mask.png and
//! out/overlay.png and prints the result as JSON.

use std::path::Path;

use crate::process::{cmd, repo_root, run, target_dir, Failure, Result};
use crate::setup;

/// The red ball of the sample photo.
const DEFAULT_IMAGE: &str = "tests/data/sample.jpg";
const DEFAULT_PROMPT: [&str; 2] = ["--point", "350,420"];

pub fn main(args: &[String]) -> Result {
    let (standins, args) = match args.split_first() {
        Some((flag, rest)) if flag == "--standins" => (true, rest),
        _ => (false, args),
    };
    let (image, prompt) = match args.split_first() {
        Some((image, rest)) if !image.starts_with("--") => (Some(image), rest),
        _ => (None, args),
    };
    let repo = repo_root();

    // The photo is named from where the command runs; the sample is in the repository.
    let image = match image {
        Some(image) => std::env::current_dir()?.join(image),
        None => repo.join(DEFAULT_IMAGE),
    };
    let (encoder, decoder) = if standins {
        let python = setup::venv(&repo)?;
        setup::standin_models(&repo, &python)?;
        eprintln!("running on the generated stand-ins (random weights)");
        let full = repo.join("models/generated/full");
        (
            full.join("edge_sam_encoder.onnx"),
            full.join("edge_sam_decoder.onnx"),
        )
    } else {
        fetch_official(&repo)?;
        let models = repo.join("models");
        (
            models.join("edge_sam_3x_encoder.onnx"),
            models.join("edge_sam_3x_decoder.onnx"),
        )
    };

    setup::build_release(&repo)?;
    std::fs::create_dir_all(repo.join("out"))?;
    let mut segment = cmd(target_dir(&repo).join("release/edgesam"), ["segment"]);
    segment
        .arg("--encoder")
        .arg(encoder)
        .arg("--decoder")
        .arg(decoder)
        .arg("--image")
        .arg(image)
        .args([
            "--mask-out",
            "out/mask.png",
            "--overlay-out",
            "out/overlay.png",
            "--json",
        ])
        .current_dir(&repo);
    if prompt.is_empty() {
        segment.args(DEFAULT_PROMPT);
    } else {
        segment.args(prompt);
    }
    run(&mut segment)?;
    eprintln!("wrote out/mask.png and out/overlay.png");
    Ok(())
}

/// The official 3x files in models/, fetched and verified by models/fetch_official.py when missing.
fn fetch_official(repo: &Path) -> Result {
    let fetched = cmd("python3", ["models/fetch_official.py", "--variant", "3x"])
        .args(["--dest", "models"])
        .current_dir(repo)
        .status();
    if fetched.is_ok_and(|s| s.success()) {
        return Ok(());
    }
    Err(Failure(
        "the official EdgeSAM files are not in models/ and could not be fetched from this \
         machine.\nCopy edge_sam_3x_encoder.onnx and edge_sam_3x_decoder.onnx into models/ (see \
         README), or run the same job offline on generated stand-in models:\n\n    \
         cargo xtask segment --standins"
            .into(),
    ))
}
