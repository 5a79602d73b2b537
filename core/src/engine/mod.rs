//! The model graphs on tract: what they must look like (`contract`), one loader that reads and
//! checks ONNX files (`load`), the library's graph rewrites (`rewrite`), and one file per graph
//! (`encoder`, `decoder`). Nothing here knows the pipeline stages around it: they take their
//! shapes and constants from [`contract`].

pub(crate) mod cache;
pub mod contract;
pub(crate) mod decoder;
pub(crate) mod encoder;
mod load;
pub(crate) mod profile;
mod rewrite;

use sha2::{Digest, Sha256};
use tract_linalg::multithread::{multithread_tract_scope, Executor};
use tract_onnx::tract_core::prelude::Tensor;

use crate::error::{ModelRole, Result};
pub use decoder::DecoderPlanning;
pub use load::ModelInterface;

/// SHA-256 of a model file's bytes.
pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Runs `f` on `executor`'s threads (tract's matrix products and convolutions use them).
pub(crate) fn on_executor<R>(executor: &Executor, f: impl FnOnce() -> R) -> R {
    multithread_tract_scope(executor.clone(), f)
}

/// A single-thread executor for 1 thread, else a pool of `threads` workers.
pub(crate) fn executor_for(threads: usize) -> Executor {
    if threads <= 1 {
        Executor::SingleThread
    } else {
        Executor::multithread_with_name(threads, "edgesam")
    }
}

pub(crate) fn f32_tensor(shape: &[usize], data: &[f32], role: ModelRole) -> Result<Tensor> {
    Tensor::from_shape(shape, data).map_err(|e| crate::Error::Inference {
        role,
        detail: format!("{e:#}"),
    })
}

/// What a model file is: its declared interface and whether it meets either contract.
#[derive(Debug)]
pub struct ModelReport {
    pub sha256: [u8; 32],
    /// `None` when the bytes are not a readable ONNX model (both checks then say why).
    pub interface: Option<ModelInterface>,
    pub encoder_check: Result<()>,
    pub decoder_check: Result<()>,
}

/// Inspects model bytes for `edgesam info`: the same checks as loading makes, so `info` and a
/// load never disagree.
pub(crate) fn inspect(bytes: &[u8]) -> ModelReport {
    let interface = load::parse_onnx(bytes, ModelRole::Encoder)
        .ok()
        .and_then(|model| load::declared_interface(&model).ok());
    ModelReport {
        sha256: sha256(bytes),
        interface,
        encoder_check: load::load_checked(bytes, &contract::ENCODER).map(|_| ()),
        decoder_check: load::load_checked(bytes, &contract::DECODER).map(|_| ()),
    }
}
