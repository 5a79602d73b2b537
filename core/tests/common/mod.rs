//! Shared by the integration tests: the generated stand-in models, made on first use.
// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use edgesam::{Options, PromptPoint, SegmentAnything, SegmentPrompt};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The Python that has `onnx` and `numpy`: $EDGESAM_PYTHON, the repository's venv, or python3.
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("EDGESAM_PYTHON") {
        return p.into();
    }
    let venv = repo_root().join(".venv/bin/python");
    if venv.exists() {
        venv
    } else {
        "python3".into()
    }
}

/// (encoder, decoder) of a stand-in pair under models/generated/<folder>, generating all
/// pairs once per test binary (the generator keeps files that are current).
pub fn standins(folder: &str) -> (PathBuf, PathBuf) {
    static GENERATED: OnceLock<()> = OnceLock::new();
    GENERATED.get_or_init(|| {
        let status = Command::new(python())
            .arg(repo_root().join("models/standins.py"))
            .status()
            .expect(
                "run models/standins.py (Python with numpy and onnx, see tests/requirements.txt)",
            );
        assert!(status.success(), "models/standins.py failed");
    });
    let dir = repo_root().join("models/generated").join(folder);
    (
        dir.join("edge_sam_encoder.onnx"),
        dir.join("edge_sam_decoder.onnx"),
    )
}

/// A deterministic 'photo': gradients, a bright disc and a dark bar, so objects exist.
pub fn synthetic_rgb(width: u32, height: u32) -> Vec<u8> {
    let mut rgb = Vec::with_capacity((width * height * 3) as usize);
    let (cx, cy, r) = (
        width as f32 * 0.6,
        height as f32 * 0.4,
        width.min(height) as f32 * 0.25,
    );
    for y in 0..height {
        for x in 0..width {
            let (fx, fy) = (x as f32, y as f32);
            let in_disc = (fx - cx).powi(2) + (fy - cy).powi(2) < r * r;
            let in_bar = fy > height as f32 * 0.75 && fx < width as f32 * 0.5;
            let px = if in_disc {
                [240, 220, 40]
            } else if in_bar {
                [20, 30, 90]
            } else {
                [
                    (x * 200 / width) as u8 + 20,
                    (y * 150 / height) as u8 + 40,
                    120,
                ]
            };
            rgb.extend(px);
        }
    }
    rgb
}

/// The tiny stand-ins, loaded once per test binary with the default options.
#[allow(dead_code)] // not every test binary loads them this way
pub fn tiny() -> &'static SegmentAnything {
    static MODEL: OnceLock<SegmentAnything> = OnceLock::new();
    MODEL.get_or_init(|| {
        let (e, d) = standins("tiny");
        SegmentAnything::from_files(e, d, Options::default()).expect("tiny stand-ins load")
    })
}

/// `n` points down a diagonal of the tiny photos, alternately positive and negative.
pub fn diagonal_points(n: usize) -> SegmentPrompt {
    let points = (0..n)
        .map(|i| PromptPoint {
            x: 30.0 + 50.0 * i as f32,
            y: 20.0 + 30.0 * i as f32,
            positive: i % 2 == 0,
        })
        .collect();
    SegmentPrompt {
        points,
        r#box: None,
    }
}
