//! The library's graph rewrites, plain functions applied by the loaders of `encoder` and
//! `decoder`: each leaves the numbers as they were and the work smaller or faster.

use tract_onnx::tract_core::ops::binary::{BinMiniOp, TypedBinOp};
use tract_onnx::tract_core::prelude::{TractResult, TypedModel};

pub(crate) mod decoder_split;
pub(crate) mod layer_norm;
pub(crate) mod pad;
pub(crate) mod repvit_fold;
pub(crate) mod residual_add;
pub(crate) mod softmax;
#[cfg(test)]
pub(crate) mod test_graphs;

/// `model` after `rewrite`, which says how many places it changed; when the rewrite fails, the
/// graph as it was (tract runs it unchanged). `what` names the change in the log.
pub(crate) fn applied(
    model: TypedModel,
    what: &str,
    rewrite: impl FnOnce(&mut TypedModel) -> TractResult<usize>,
) -> TypedModel {
    let mut rewritten = model.clone();
    match rewrite(&mut rewritten) {
        Ok(count) => {
            log::debug!("{what}: {count}");
            rewritten
        }
        Err(e) => {
            log::info!("{what}: none, left to tract ({e:#})");
            model
        }
    }
}

/// Whether `node` of `model` is the binary op `Mini` (`Add`, `Sub`, ...).
fn is_bin<Mini: BinMiniOp>(model: &TypedModel, node: usize) -> bool {
    model
        .node(node)
        .op_as::<TypedBinOp>()
        .is_some_and(|op| op.0.is::<Mini>())
}
