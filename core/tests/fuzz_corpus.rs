//! Replays the fuzzers' kept corpus (`fuzz/corpus/<target>/`) through the same bodies the
//! `cargo fuzz` targets run (`edgesam::fuzzing`), on stable Rust and in seconds: every input
//! that once found new code, or a crash since fixed, stays a regression test.

mod common;

use std::path::PathBuf;

use edgesam::fuzzing::{self, PromptFixture};
use edgesam::{Options, SegmentAnything};

/// The files of one target's corpus; a missing or empty corpus fails rather than passes.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = common::repo_root().join("fuzz/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

/// Runs `body` on every file, naming the file that fails.
fn replay(target: &str, body: impl Fn(&[u8])) {
    for (path, bytes) in corpus(target) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&bytes)));
        assert!(outcome.is_ok(), "{} failed", path.display());
    }
}

#[test]
fn decode_image_corpus() {
    replay("decode_image", fuzzing::decode_image);
}

#[test]
fn raw_pixels_corpus() {
    replay("raw_pixels", fuzzing::raw_pixels);
}

#[test]
fn embedding_bytes_corpus() {
    replay("embedding_bytes", fuzzing::embedding_bytes);
}

#[test]
fn prompt_corpus() {
    let (e, d) = common::standins("tiny");
    let model = SegmentAnything::from_files(e, d, Options::default()).unwrap();
    let fixture = PromptFixture::new(model).unwrap();
    replay("prompt", |data| fuzzing::prompt(&fixture, data));
}
