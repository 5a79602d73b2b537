#![no_main]

#[path = "common.rs"]
mod common;

use std::sync::OnceLock;

use edgesam::fuzzing::PromptFixture;
use edgesam::{SegmentAnything, Options};

/// The tiny stand-ins (`models/standins.py` makes them), or $EDGESAM_FUZZ_MODELS.
fn fixture() -> &'static PromptFixture {
    static FIXTURE: OnceLock<PromptFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = std::env::var("EDGESAM_FUZZ_MODELS").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../models/generated/tiny").into()
        });
        let model = SegmentAnything::from_files(
            format!("{dir}/edge_sam_encoder.onnx"),
            format!("{dir}/edge_sam_decoder.onnx"),
            Options::default(),
        )
        .expect("the tiny stand-ins load (run models/standins.py)");
        PromptFixture::new(model).expect("the fixture photo encodes")
    })
}

libfuzzer_sys::fuzz_target!(
    init: {
        common::remember_panics();
        fixture();
    },
    |data: &[u8]| common::run(|| edgesam::fuzzing::prompt(fixture(), data))
);
