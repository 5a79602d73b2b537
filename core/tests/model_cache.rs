//! The compiled-model cache on the `tiny` stand-ins: a pair loaded from the cache answers byte for
//! byte as the one compiled from ONNX, whatever the decoder planning, and a damaged entry is
//! rebuilt without failing the load.
// A rebuilt entry is told from a kept one by its inode.
#![cfg(unix)]

mod common;

use std::path::{Path, PathBuf};

use edgesam::{DecoderPlanning, Options, RgbImage, SegmentAnything};

fn scratch_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("edgesam-model-cache-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn load(decoder_planning: DecoderPlanning, cache_dir: Option<&Path>) -> SegmentAnything {
    let (e, d) = common::standins("tiny");
    let options = Options {
        decoder_planning,
        cache_dir: cache_dir.map(Path::to_path_buf),
        ..Options::default()
    };
    SegmentAnything::from_files(e, d, options).expect("tiny stand-ins load")
}

/// The entries in the cache folder, by name, with their inode (a rebuilt entry is a new file).
fn entries(dir: &Path) -> Vec<(String, u64)> {
    use std::os::unix::fs::MetadataExt;
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, e.metadata().unwrap().ino())
        })
        .collect();
    entries.sort();
    entries
}

/// Everything the pair computes for a photo and prompts of 1, 3 and 2 points, as bytes: the
/// embedding, then each tap's scores, logits, choice and mask.
fn answers(model: &SegmentAnything) -> Vec<u8> {
    let (w, h) = (320, 200);
    let photo = RgbImage::new(w, h, common::synthetic_rgb(w, h)).unwrap();
    let embedding = model.encode(&photo).unwrap();
    let mut bytes = embedding.to_bytes();
    for n in [1usize, 3, 2] {
        let prompt = common::diagonal_points(n);
        let tap = model.segment(&embedding, &prompt, None).unwrap();
        bytes.extend(tap.scores.iter().flat_map(|s| s.to_le_bytes()));
        bytes.extend(tap.low_res_logits.iter().flat_map(|v| v.to_le_bytes()));
        bytes.extend((tap.mask_index as u32).to_le_bytes());
        bytes.extend(&tap.mask.data);
    }
    bytes
}

#[test]
fn a_cached_load_answers_byte_for_byte_as_an_uncached_one() {
    for planning in [DecoderPlanning::Symbolic, DecoderPlanning::PerPointCount] {
        let dir = scratch_dir(&format!("{planning:?}"));
        let uncached = answers(&load(planning, None));
        let warming = answers(&load(planning, Some(&dir)));
        let written = entries(&dir);
        let names: Vec<&str> = written.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.len(), 2, "{planning:?}: {names:?}");
        assert!(names[0].starts_with("decoder-") && names[1].starts_with("encoder-"));
        let cached = answers(&load(planning, Some(&dir)));
        assert_eq!(
            entries(&dir),
            written,
            "{planning:?}: the cached load rewrote the cache"
        );
        assert!(
            warming == uncached,
            "{planning:?}: warming the cache changed the answers"
        );
        assert!(
            cached == uncached,
            "{planning:?}: the cached graphs answer differently"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn a_damaged_cache_entry_is_rebuilt_and_the_load_succeeds() {
    let dir = scratch_dir("damaged");
    let planning = DecoderPlanning::default();
    let expected = answers(&load(planning, Some(&dir)));
    let good = entries(&dir);
    for (name, _) in &good {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    }
    assert_eq!(answers(&load(planning, Some(&dir))), expected);
    let rebuilt = entries(&dir);
    assert_eq!(rebuilt.len(), good.len());
    for ((name, old), (new_name, new)) in good.iter().zip(&rebuilt) {
        assert_eq!(name, new_name);
        assert_ne!(old, new, "{name} was not replaced");
    }
    // The rebuilt entries are sound: the next load reads them instead of replacing them.
    assert_eq!(answers(&load(planning, Some(&dir))), expected);
    assert_eq!(entries(&dir), rebuilt);
    let _ = std::fs::remove_dir_all(dir);
}

/// An embedding keeps the decoder's per-photo work of the first model that segments with it. A
/// model loaded from the cache may split its decoder differently, so each side must compute its
/// own rather than run on the other's (found through the Python binding: a shape clash).
#[test]
fn an_embedding_is_shared_between_cached_and_uncached_models() {
    let dir = scratch_dir("shared-embedding");
    let planning = DecoderPlanning::default();
    load(planning, Some(&dir)); // fills the cache
    let (warm, plain) = (load(planning, Some(&dir)), load(planning, None));
    let (w, h) = (320, 200);
    let photo = RgbImage::new(w, h, common::synthetic_rgb(w, h)).unwrap();
    let prompt = common::diagonal_points(1);
    for (first, second) in [(&warm, &plain), (&plain, &warm)] {
        let embedding = first.encode(&photo).unwrap();
        let a = first.segment(&embedding, &prompt, None).unwrap();
        let b = second.segment(&embedding, &prompt, None).unwrap();
        assert_eq!(a.low_res_logits, b.low_res_logits);
        assert_eq!(a.mask.data, b.mask.data);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
