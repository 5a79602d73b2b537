//! The compiled-model cache: each graph as tract holds it after parsing, analysis, declutter and
//! the library's rewrites, saved as NNEF in a folder the app names, so that a later launch skips
//! the ONNX work and only optimises.
//!
//! A cache file is a short text header followed by an NNEF tar:
//!
//! ```text
//! edgesam compiled model\n
//! format 1\n
//! key <role> <SHA-256 of the ONNX file> edgesam <version> tract <version>\n
//! payload <byte count> <SHA-256 of the payload>\n
//! \n
//! <NNEF tar>
//! ```
//!
//! The file is named after the role and the ONNX file's hash, so another library or tract version
//! finds the same file, sees a stale key and replaces it. The header's key and the payload's
//! length and hash are checked before tract reads a byte of it: a stale, truncated, damaged or
//! foreign file is rebuilt from the ONNX file with a logged warning instead of being trusted.
//! Files are written under a name of their own and renamed into place, so two processes warming
//! the same cache never leave a half-written file.

use std::io::Write;
use std::path::PathBuf;

use sha2::{Digest, Sha256};
use tract_nnef::internal::Registry;
use tract_onnx::tract_core::ops::nn::GeluExact;
use tract_onnx::tract_core::prelude::{Framework, TractResult, TypedModel};
use tract_onnx::WithOnnx;

use super::contract::to_hex;
use super::rewrite;
use crate::error::ModelRole;

const MAGIC: &str = "edgesam compiled model";
/// Raised when the graphs a cache holds change meaning or ops (2: the library's softmax and
/// residual addition), so that older files are rebuilt rather than read.
const FORMAT: u32 = 2;
/// The tract release the graphs are saved with (the workspace pins it; a test checks this
/// against the version tract writes into its NNEF files).
const TRACT_VERSION: &str = "0.23.9";

/// The NNEF framework that reads and writes the library's cached graphs: tract's own operators,
/// the ONNX ones tract-onnx keeps after declutter, and the library's registry.
fn nnef() -> tract_nnef::framework::Nnef {
    tract_nnef::nnef().with_onnx().with_registry(registry())
}

/// The operators tract's stock registries cannot save: the exact GELU that tract fuses from the
/// exported Erf chain, and the library's own ops (each registers its dumper and loader).
fn registry() -> Registry {
    let mut registry = Registry::new("edgesam");
    registry.register_unit_element_wise("edgesam_gelu_exact", &GeluExact {});
    rewrite::layer_norm::register_nnef(&mut registry);
    rewrite::softmax::register_nnef(&mut registry);
    rewrite::residual_add::register_nnef(&mut registry);
    registry
}

/// What a cached graph was compiled from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CacheKey {
    pub role: ModelRole,
    pub onnx_sha256: [u8; 32],
}

impl CacheKey {
    fn text(&self) -> String {
        format!(
            "{} {} edgesam {} tract {TRACT_VERSION}",
            self.role,
            to_hex(&self.onnx_sha256),
            env!("CARGO_PKG_VERSION")
        )
    }

    fn file_name(&self) -> String {
        format!("{}-{}.nnef", self.role, to_hex(&self.onnx_sha256))
    }
}

/// The graph `build` makes, through `cache` when the app named one.
pub(crate) fn graph_or_build<E>(
    cache: Option<&ModelCache>,
    key: &CacheKey,
    build: impl FnOnce() -> Result<TypedModel, E>,
) -> Result<TypedModel, E> {
    match cache {
        Some(cache) => cache.graph_or_build(key, build),
        None => build(),
    }
}

/// A folder of compiled graphs.
#[derive(Debug, Clone)]
pub(crate) struct ModelCache {
    dir: PathBuf,
}

impl ModelCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ModelCache { dir: dir.into() }
    }

    fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(key.file_name())
    }

    /// The graph compiled under `key`, read from the cache when a sound copy is there; otherwise
    /// `build` makes it and the cache keeps it for next time. A cache that cannot be read or
    /// written costs a warning, never an error: the app gets the graph either way.
    pub fn graph_or_build<E>(
        &self,
        key: &CacheKey,
        build: impl FnOnce() -> Result<TypedModel, E>,
    ) -> Result<TypedModel, E> {
        let path = self.path(key);
        let started = std::time::Instant::now();
        match std::fs::read(&path) {
            Ok(bytes) => match read_entry(&bytes, key) {
                Ok(model) => {
                    log::debug!(
                        "{}: compiled graph read from {} in {:?}",
                        key.role,
                        path.display(),
                        started.elapsed()
                    );
                    return Ok(model);
                }
                Err(e) => log::warn!(
                    "{}: ignoring the cached graph {} and compiling the ONNX file again: {e:#}",
                    key.role,
                    path.display()
                ),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => log::warn!(
                "{}: no compiled graph cached yet in {}, compiling the ONNX file",
                key.role,
                self.dir.display()
            ),
            Err(e) => log::warn!(
                "{}: cannot read the cached graph {}, compiling the ONNX file: {e}",
                key.role,
                path.display()
            ),
        }
        let model = build()?;
        if let Err(e) = self.store(key, &model) {
            log::warn!(
                "{}: the compiled graph could not be cached in {}: {e:#}",
                key.role,
                self.dir.display()
            );
        }
        Ok(model)
    }

    /// Writes the entry under a name of its own, then renames it into place: a reader sees the
    /// old file or the whole new one, whoever else is writing.
    fn store(&self, key: &CacheKey, model: &TypedModel) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let entry = entry_bytes(key, model)?;
        let unique = format!(
            ".{}.{}-{:?}.partial",
            key.file_name(),
            std::process::id(),
            std::thread::current().id()
        )
        .replace(
            |c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)),
            "",
        );
        let partial = self.dir.join(unique);
        let written = (|| -> std::io::Result<()> {
            let mut file = std::fs::File::create(&partial)?;
            file.write_all(&entry)?;
            file.sync_all()?;
            std::fs::rename(&partial, self.path(key))
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        written?;
        log::debug!(
            "{}: compiled graph cached in {}",
            key.role,
            self.dir.display()
        );
        Ok(())
    }
}

/// Header and NNEF tar of `model`.
fn entry_bytes(key: &CacheKey, model: &TypedModel) -> TractResult<Vec<u8>> {
    let payload = nnef().write_to_tar(model, Vec::new())?;
    let mut entry = format!(
        "{MAGIC}\nformat {FORMAT}\nkey {}\n{}\n\n",
        key.text(),
        payload_line(&payload)
    )
    .into_bytes();
    entry.extend_from_slice(&payload);
    Ok(entry)
}

fn payload_line(payload: &[u8]) -> String {
    format!(
        "payload {} {}",
        payload.len(),
        to_hex(&Sha256::digest(payload))
    )
}

/// The graph in a cache entry, once its header proves it is whole and compiled under `key`.
fn read_entry(bytes: &[u8], key: &CacheKey) -> anyhow::Result<TypedModel> {
    let payload = verified_payload(bytes, key)?;
    nnef()
        .model_for_read(&mut &*payload)
        .map_err(|e| anyhow::anyhow!("tract cannot read it: {e:#}"))
}

/// The payload of an entry whose header names `key` and whose payload has the recorded length
/// and hash.
fn verified_payload<'a>(bytes: &'a [u8], key: &CacheKey) -> anyhow::Result<&'a [u8]> {
    let end = bytes
        .windows(2)
        .take(1024)
        .position(|w| w == b"\n\n")
        .ok_or_else(|| anyhow::anyhow!("it has no edgesam cache header"))?;
    let (text, payload) = (std::str::from_utf8(&bytes[..end])?, &bytes[end + 2..]);
    let mut lines = text.lines();
    anyhow::ensure!(
        lines.next() == Some(MAGIC),
        "it is not an edgesam cache file"
    );
    let format = format!("format {FORMAT}");
    anyhow::ensure!(
        lines.next() == Some(format.as_str()),
        "it is in another cache format"
    );
    let want_key = format!("key {}", key.text());
    let found_key = lines.next().unwrap_or_default();
    anyhow::ensure!(
        found_key == want_key,
        "it is stale: compiled under `{found_key}`, not `{want_key}`"
    );
    let found = lines.next().unwrap_or_default();
    let expected = payload_line(payload);
    anyhow::ensure!(
        found == expected,
        "it is truncated or damaged (header `{found}`, the file holds `{expected}`)"
    );
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use tract_onnx::tract_core::prelude::*;

    /// A small graph with the operators the cache must carry: a matrix product with constant
    /// weights, the library's LayerNorm, tract's GeluExact, the library's softmax and residual
    /// addition.
    fn small_graph() -> TypedModel {
        let mut model = TypedModel::default();
        let input = model.add_source("input", f32::fact([2, 3])).unwrap();
        let weights = model
            .add_const(
                "weights",
                tensor2(&[[1.0f32, -2.0, 0.5], [0.5, 0.25, 2.0], [3.0, -1.0, 1.0]]),
            )
            .unwrap();
        let product = model
            .wire_node(
                "product",
                tract_onnx::tract_core::ops::einsum::EinSum::new(
                    "ik,kj->ij".parse().unwrap(),
                    f32::datum_type(),
                ),
                &[input, weights],
            )
            .unwrap();
        let normalised = rewrite::layer_norm::wire_for_tests(&mut model, product[0]);
        let gelu = model
            .wire_node(
                "gelu",
                tract_onnx::tract_core::ops::element_wise::ElementWiseOp(
                    Box::new(GeluExact {}),
                    None,
                ),
                &[normalised],
            )
            .unwrap();
        let softmax = rewrite::softmax::wire_for_tests(&mut model, gelu[0], 0);
        let residual = model
            .wire_node(
                "residual",
                rewrite::residual_add::ResidualAdd,
                &[softmax, normalised],
            )
            .unwrap();
        model.select_output_outlets(&residual).unwrap();
        model
    }

    fn run(model: TypedModel) -> Vec<f32> {
        let input = tensor2(&[[0.5f32, -1.0, 2.0], [1.5, 0.0, -0.5]]);
        let out = model
            .into_runnable()
            .unwrap()
            .run(tvec![input.into_tvalue()])
            .unwrap();
        let plain = out[0].try_as_plain_ram().unwrap();
        plain.as_slice::<f32>().unwrap().to_vec()
    }

    fn key(byte: u8) -> CacheKey {
        CacheKey {
            role: ModelRole::Encoder,
            onnx_sha256: [byte; 32],
        }
    }

    fn scratch_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("edgesam-cache-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn entry_path(dir: &Path, key: &CacheKey) -> PathBuf {
        ModelCache::new(dir).path(key)
    }

    /// Builds through the cache, counting how often the graph had to be compiled.
    fn through_cache(cache: &ModelCache, key: &CacheKey, builds: &mut usize) -> TypedModel {
        cache
            .graph_or_build(key, || {
                *builds += 1;
                Ok::<_, std::convert::Infallible>(small_graph())
            })
            .unwrap()
    }

    #[test]
    fn the_tract_version_in_the_key_is_the_one_that_writes_the_graphs() {
        let payload = nnef().write_to_tar(&small_graph(), Vec::new()).unwrap();
        let model = nnef().model_for_read(&mut &*payload).unwrap();
        let property = model.properties["tract_nnef_ser_version"].clone();
        let written = property
            .try_as_plain_ram()
            .unwrap()
            .as_slice::<String>()
            .unwrap()[0]
            .clone();
        assert_eq!(written, TRACT_VERSION);
    }

    #[test]
    fn a_cached_graph_is_read_back_and_computes_the_same() {
        let dir = scratch_dir("round-trip");
        let cache = ModelCache::new(&dir);
        let mut builds = 0;
        let first = through_cache(&cache, &key(1), &mut builds);
        let second = through_cache(&cache, &key(1), &mut builds);
        assert_eq!(builds, 1, "the second load must come from the cache");
        assert!(entry_path(&dir, &key(1)).exists());
        let op_names = |m: &TypedModel| m.nodes.iter().map(|n| n.op.name()).collect::<Vec<_>>();
        for op in ["EdgeSamLayerNorm", "EdgeSamSoftmax", "EdgeSamResidualAdd"] {
            assert!(op_names(&second).contains(&op.into()), "{op}");
        }
        assert_eq!(run(first), run(second));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn another_model_is_compiled_again() {
        let dir = scratch_dir("other-key");
        let cache = ModelCache::new(&dir);
        let mut builds = 0;
        through_cache(&cache, &key(1), &mut builds);
        through_cache(&cache, &key(2), &mut builds);
        assert_eq!(builds, 2);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn stale_truncated_damaged_foreign_and_empty_files_are_rebuilt() {
        let dir = scratch_dir("bad-files");
        let cache = ModelCache::new(&dir);
        let mut builds = 0;
        let expected = run(through_cache(&cache, &key(1), &mut builds));
        let path = entry_path(&dir, &key(1));
        let good = std::fs::read(&path).unwrap();
        let mut damaged = good.clone();
        let last = damaged.len() - 100;
        damaged[last] ^= 0x40;
        // A plain NNEF archive of the same graph, as tract itself writes it: no header.
        let foreign = nnef().write_to_tar(&small_graph(), Vec::new()).unwrap();
        // The same model's entry from another library version.
        let good_text = String::from_utf8_lossy(&good[..200]).into_owned();
        let stale_header = good_text.replace(
            &format!("edgesam {}", env!("CARGO_PKG_VERSION")),
            "edgesam 0.0.0",
        );
        assert_ne!(stale_header, good_text);
        let stale = [stale_header.as_bytes(), &good[200..]].concat();
        // The entry of another model, renamed to this one's name.
        let other = entry_bytes(&key(3), &small_graph()).unwrap();
        let bad_files: [(&str, Vec<u8>); 6] = [
            ("stale", stale),
            ("truncated", good[..good.len() / 2].to_vec()),
            ("damaged", damaged),
            ("foreign", foreign),
            ("another model's", other),
            ("empty", Vec::new()),
        ];
        for (what, bytes) in bad_files {
            std::fs::write(&path, bytes).unwrap();
            let before = builds;
            let model = through_cache(&cache, &key(1), &mut builds);
            assert_eq!(builds, before + 1, "a {what} file must be rebuilt");
            assert_eq!(run(model), expected, "{what}");
            // Replaced by a sound entry (not compared byte for byte: the archive records the
            // second it was written), which the next load keeps.
            let rewritten = std::fs::read(&path).unwrap();
            let kept = read_entry(&rewritten, &key(1));
            assert!(kept.is_ok(), "the {what} file was replaced by {kept:?}");
            through_cache(&cache, &key(1), &mut builds);
            assert_eq!(
                builds,
                before + 1,
                "the entry replacing a {what} file was rebuilt"
            );
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn an_unwritable_folder_still_gives_the_graph() {
        let dir = scratch_dir("unwritable");
        // A file where the folder should be: nothing can be created below it.
        std::fs::write(&dir, b"not a folder").unwrap();
        let cache = ModelCache::new(dir.join("cache"));
        let mut builds = 0;
        let model = through_cache(&cache, &key(1), &mut builds);
        assert_eq!(run(model), run(small_graph()));
        let _ = std::fs::remove_file(dir);
    }

    #[test]
    fn concurrent_warming_leaves_one_sound_entry() {
        let dir = scratch_dir("concurrent");
        let outputs: Vec<Vec<f32>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        let cache = ModelCache::new(&dir);
                        let mut builds = 0;
                        run(through_cache(&cache, &key(1), &mut builds))
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        assert!(outputs.windows(2).all(|w| w[0] == w[1]));
        let entry = std::fs::read(entry_path(&dir, &key(1))).unwrap();
        assert!(read_entry(&entry, &key(1)).is_ok());
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|name| name.to_string_lossy().ends_with(".partial"))
            .collect();
        assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
