//! The image encoder: RepViT token mixers folded and LayerNorm chains fused before tract optimises
//! it, run node by node so that a caller can cancel an encode.

use std::sync::Arc;

use tract_linalg::multithread::Executor;
use tract_onnx::tract_core::knobs::KnobScope;
use tract_onnx::tract_core::ops::cnn::Conv;
use tract_onnx::tract_core::prelude::{
    tvec, IntoTValue, Tensor, TractResult, TypedModel, TypedOp, TypedSimplePlan, TypedSimpleState,
};

use super::cache::{self, CacheKey, ModelCache};
use super::contract::{EMBEDDING_SHAPE, ENCODER, ENCODER_SIDE};
use super::profile::OpClock;
use super::{load, on_executor, rewrite, sha256};
use crate::error::{Error, ModelRole, Result};
use crate::StepProgress;

/// The error an encoder run stops with when its caller cancels it.
#[derive(Debug)]
struct CancelledRun;

impl std::fmt::Display for CancelledRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled")
    }
}

impl std::error::Error for CancelledRun {}

/// tract settings for the encoder's optimisation. Direct spatial convolution is off: tract picks
/// it for the stem's second 3x3 stride-2 convolution (24->48 channels at 512x512), where it ran at
/// a third of the speed of im2col + matrix product. The first one, over the photo's 3 channels,
/// is the other way round and is compiled before, with tract's defaults ([`compile_photo_convs`]).
fn encoder_knobs() -> KnobScope {
    KnobScope::new([("TRACT_DISABLE_DIRECT_SPATIAL", "true")]).unwrap_or_else(|e| {
        log::warn!("tract refused the encoder's settings, running with its defaults: {e:#}");
        KnobScope::default()
    })
}

/// The encoder's graph checked, decluttered and rewritten (RepViT token mixers folded, LayerNorm
/// chains fused), ready for tract's optimiser.
fn rewritten_graph(bytes: &[u8]) -> Result<TypedModel> {
    let started = std::time::Instant::now();
    // Only a readable file is rewritten; anything else fails below with the usual errors.
    let folded = match rewrite::repvit_fold::fold_token_mixers(bytes) {
        Ok(Some((folded, count))) => {
            log::debug!("folded {count} RepViT token mixers into single depthwise convolutions");
            Some(folded)
        }
        Ok(None) => None,
        Err(e) => {
            log::debug!("encoder left unfolded: {e:#}");
            None
        }
    };
    log::debug!("encoder: graph rewrite in {:?}", started.elapsed());
    let mut model = load::load_checked(folded.as_deref().unwrap_or(bytes), &ENCODER)?.model;
    match rewrite::layer_norm::fuse_layer_norms(&mut model) {
        Ok(fused) => log::debug!("encoder: fused {fused} LayerNorm chains"),
        Err(e) => log::info!("encoder: LayerNorm chains left unfused ({e:#})"),
    }
    Ok(model)
}

/// Compiles the convolutions that read the photo itself (the graph's input) with tract's default
/// choices, before the rest of the graph is optimised under [`encoder_knobs`]: tract's direct
/// spatial convolution runs the stem's first 3x3 stride-2 convolution (3->24 channels at
/// 1024x1024) several times faster than im2col + matrix product (edgesam bench --profile, full
/// stand-ins, 1 thread: about 28 ms against 150). Returns how many it compiled.
fn compile_photo_convs(model: &mut TypedModel) -> TractResult<usize> {
    let mut compiled = 0;
    let photo = model.input_outlets()?.to_vec();
    for node in model.eval_order()? {
        let node = model.node(node);
        let Some(conv) = node.op_as::<Conv>() else {
            continue;
        };
        if !photo.contains(&node.inputs[0]) {
            continue;
        }
        if let Some(patch) = conv.codegen(model, node)? {
            patch.apply(model)?;
            compiled += 1;
        }
    }
    Ok(compiled)
}

/// The optimised graph with the padding tract added for its convolutions on the library's op.
fn with_library_pads(model: TypedModel) -> TypedModel {
    rewrite::applied(
        model,
        "encoder: paddings on the library's op",
        rewrite::pad::use_library_pad,
    )
}

/// The image encoder, optimised and ready to run.
pub(crate) struct Encoder {
    plan: Arc<TypedSimplePlan>,
    sha256: [u8; 32],
}

impl Encoder {
    /// Loads the encoder; with a `cache`, its rewritten graph comes from there when a sound copy
    /// is kept, else is compiled from `bytes` and kept.
    pub fn from_bytes(bytes: &[u8], cache: Option<&ModelCache>) -> Result<Self> {
        let key = CacheKey {
            role: ModelRole::Encoder,
            onnx_sha256: sha256(bytes),
        };
        let graph = cache::graph_or_build(cache, &key, || rewritten_graph(bytes))?;
        // A cached graph meets the contract as the ONNX file did; checking it costs nothing.
        let model = load::checked(graph, &ENCODER)?.model;
        let optimising = std::time::Instant::now();
        let model = rewrite::applied(
            model,
            "encoder: convolutions over the photo compiled with tract's defaults",
            compile_photo_convs,
        );
        let plan = encoder_knobs()
            .enter(|| model.into_optimized())
            .map(with_library_pads)
            .and_then(TypedSimplePlan::new)
            .map_err(|e| Error::NotAModel {
                role: ModelRole::Encoder,
                detail: format!("tract cannot optimise this graph: {e:#}"),
            })?;
        log::debug!("encoder: optimised in {:?}", optimising.elapsed());
        Ok(Encoder {
            plan,
            // Embeddings and logs name the file the caller gave, not the rewritten graph.
            sha256: key.onnx_sha256,
        })
    }

    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    /// The `[1, 256, 64, 64]` image embedding of one pre-processed image (`[1, 3, 1024, 1024]`
    /// values, channel-major). `progress` is told 0 of N first (N the graph's node count), then
    /// each node before it runs, then N of N; once it answers false the run stops with
    /// [`Error::Cancelled`]. `clock` times the nodes.
    pub fn run(
        &self,
        input: &[f32],
        executor: &Executor,
        progress: &dyn Fn(StepProgress) -> bool,
        clock: Option<&OpClock>,
    ) -> Result<Tensor> {
        let failed = |e: anyhow::Error| {
            if e.is::<CancelledRun>() {
                Error::Cancelled
            } else {
                Error::Inference {
                    role: ModelRole::Encoder,
                    detail: format!("{e:#}"),
                }
            }
        };
        let side = ENCODER_SIDE;
        let image = Tensor::from_shape(&[1, 3, side, side], input).map_err(failed)?;
        let mut state = TypedSimpleState::new(&self.plan).map_err(failed)?;
        // Every node of the plan is evaluated once, in order.
        let total = self.plan.order_without_consts().len() as u32;
        let done = std::cell::Cell::new(0);
        let outputs = on_executor(executor, || {
            state.run_plan_with_eval(tvec![image.into_tvalue()], |ctx, op_state, node, inputs| {
                if !progress(StepProgress {
                    done: done.get(),
                    total,
                }) {
                    return Err(anyhow::Error::new(CancelledRun));
                }
                done.set(done.get() + 1);
                let eval = || tract_onnx::tract_core::plan::eval(ctx, op_state, node, inputs);
                match clock {
                    Some(clock) => clock.time(&node.op.name(), eval),
                    None => eval(),
                }
            })
        })
        .map_err(failed)?;
        if !progress(StepProgress { done: total, total }) {
            return Err(Error::Cancelled);
        }
        let embedding = outputs[0].try_as_plain_ram().map_err(failed)?;
        Tensor::from_shape(
            &EMBEDDING_SHAPE,
            embedding.as_slice::<f32>().map_err(failed)?,
        )
        .map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rewrite::pad::ZeroPad;
    use crate::engine::rewrite::test_graphs::{
        assert_computes_the_same, count, decluttered_standin,
    };
    use tract_onnx::tract_core::ops::array::Pad;

    #[test]
    fn the_photo_convolution_is_compiled_apart_and_computes_the_same() {
        let original = decluttered_standin("edge_sam_encoder.onnx");
        let mut ours = original.clone();
        assert_eq!(
            compile_photo_convs(&mut ours).unwrap(),
            1,
            "the stem's first"
        );
        let direct_spatial = |model: &TypedModel| {
            encoder_knobs()
                .enter(|| model.clone().into_optimized())
                .unwrap()
                .nodes()
                .iter()
                .filter(|n| n.op.name() == "DirectSpatialConv")
                .count()
        };
        assert_eq!(direct_spatial(&original), 0);
        assert_eq!(direct_spatial(&ours), 1);
        encoder_knobs().enter(|| assert_computes_the_same(original, ours, 1e-4));
    }

    #[test]
    fn every_padding_of_the_optimised_encoder_is_the_librarys_and_changes_no_bit() {
        let optimised = encoder_knobs()
            .enter(|| decluttered_standin("edge_sam_encoder.onnx").into_optimized())
            .unwrap();
        let pads = count::<Pad>(&optimised);
        assert!(pads >= 2, "the stem's and the neck's");
        let ours = with_library_pads(optimised.clone());
        assert_eq!(count::<Pad>(&ours), 0);
        assert_eq!(count::<ZeroPad>(&ours), pads);
        assert_computes_the_same(optimised, ours, 0.0);
    }
}
