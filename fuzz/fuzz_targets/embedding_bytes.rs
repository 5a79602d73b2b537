#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(init: common::remember_panics(), |data: &[u8]| {
    common::run(|| edgesam::fuzzing::embedding_bytes(data))
});
