//! SAM's prompt encoder and mask decoder: LayerNorm chains fused, the image-only part split off
//! and run once per photo, the prompt part planned for any point count.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tract_linalg::multithread::Executor;
use tract_onnx::tract_core::prelude::{
    tvec, IntoTValue, TDim, TValue, TractResult, TypedModel, TypedSimplePlan,
};

use super::cache::{self, CacheKey, ModelCache};
use super::contract::{CANDIDATES, DECODER, LOW_RES_SIDE};
use super::profile::{run_plan, OpClock};
use super::{f32_tensor, load, on_executor, rewrite, sha256};
use crate::error::{Error, ModelRole, Result};

/// How the decoder copes with a point count that changes from tap to tap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecoderPlanning {
    /// One plan optimised with the point count left symbolic: no re-planning ever.
    #[default]
    Symbolic,
    /// One plan per point count, optimised for that count on first use and cached.
    PerPointCount,
}

type Plan = Arc<TypedSimplePlan>;

enum DecoderPlans {
    Symbolic(Plan),
    PerPointCount {
        /// The decluttered graph each concrete plan is derived from.
        template: Box<TypedModel>,
        symbol: String,
        plans: Mutex<HashMap<usize, Plan>>,
    },
}

/// The decoder's prompt inputs: `point_coords` `[1, N, 2]` in the encoder's frame and
/// `point_labels` `[1, N]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DecoderPrompt {
    pub coords: Vec<f32>,
    pub labels: Vec<f32>,
}

impl DecoderPrompt {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
}

/// Raw decoder outputs: four scores and four 256x256 logit masks.
#[derive(Debug, Clone)]
pub(crate) struct DecoderOutput {
    pub scores: [f32; CANDIDATES],
    pub masks: Vec<f32>,
}

/// What the decoder computes once per photo: the outputs of its image-only part, fed to every
/// prompt's run. Empty when the decoder graph runs whole.
#[derive(Clone)]
pub(crate) struct ImageContext {
    split: [u8; 32],
    values: Vec<TValue>,
}

impl ImageContext {
    /// [`Decoder::split`] of the decoder that computed it.
    pub fn split(&self) -> &[u8; 32] {
        &self.split
    }
}

/// The prompt encoder and mask decoder.
pub(crate) struct Decoder {
    plans: DecoderPlans,
    /// The image-only part split off the graph (`decoder_split`), or `None` to run it whole.
    image_part: Option<Plan>,
    input_positions: Vec<usize>,
    output_positions: Vec<usize>,
    sha256: [u8; 32],
    /// Identifies the per-photo part's outputs: the decoder file's SHA-256 with the names and
    /// facts of the tensors the split keeps. The same file split from a graph read back from the
    /// cache can keep other tensors, so a context is reused only by a decoder of the same split.
    split: [u8; 32],
}

/// A rewrite of the decoder graph followed by tract's declutter, which tidies what it left.
fn rewritten(
    model: &mut TypedModel,
    rewrite: impl FnOnce(&mut TypedModel) -> TractResult<()>,
) -> TractResult<()> {
    rewrite(model)?;
    model.declutter()
}

/// Optimises a graph and plans its run.
fn planned(model: TypedModel) -> TractResult<Plan> {
    model.into_optimized().and_then(TypedSimplePlan::new)
}

/// The decoder graph on the library's ops: LayerNorm chains fused, the image-side residual
/// additions kept apart from their products, softmaxes replaced. A graph a rewrite fails on is
/// used as that rewrite found it.
fn with_library_ops(mut model: TypedModel) -> TypedModel {
    let fused = rewritten(&mut model, |m| {
        let fused = rewrite::layer_norm::fuse_layer_norms(m)?;
        log::debug!("decoder: fused {fused} LayerNorm chains");
        Ok(())
    });
    if let Err(e) = fused {
        log::info!("decoder: LayerNorm chains left unfused ({e:#})");
    }
    let model = rewrite::applied(
        model,
        "decoder: residual additions kept apart from their products",
        rewrite::residual_add::keep_residuals_apart,
    );
    rewrite::applied(
        model,
        "decoder: softmaxes on the library's op",
        rewrite::softmax::use_library_softmax,
    )
}

/// Splits the decoder into its image-only part, optimised, and the prompt part still to plan;
/// a graph that cannot be split stays whole. The text names the kept tensors and their facts.
fn split_image_part(model: TypedModel) -> (Option<Plan>, TypedModel, String) {
    let mut image_part = model.clone();
    let mut prompt_part = model.clone();
    let split = rewritten(&mut image_part, rewrite::decoder_split::keep_image_part)
        .and_then(|_| rewritten(&mut prompt_part, rewrite::decoder_split::keep_prompt_part))
        .and_then(|_| planned(image_part));
    match split {
        Ok(image_part) => {
            let outputs = &image_part.model().outputs;
            let kept = outputs
                .iter()
                .filter_map(|o| {
                    let fact = image_part.model().outlet_fact(*o).ok()?;
                    let name = &image_part.model().node(o.node).name;
                    Some(format!("{name} {}", load::typed_fact_text(fact)))
                })
                .collect::<Vec<_>>()
                .join(", ");
            log::debug!("decoder: per-photo part keeps {kept}");
            (Some(image_part), prompt_part, kept)
        }
        Err(e) => {
            log::info!("decoder: runs whole per prompt ({e:#})");
            (None, model, String::new())
        }
    }
}

impl Decoder {
    /// Loads the decoder; with a `cache`, its graph on the library's ops (what the split and
    /// every plan start from) comes from there when a sound copy is kept, else is
    /// compiled from `bytes` and kept.
    pub fn from_bytes(
        bytes: &[u8],
        planning: DecoderPlanning,
        cache: Option<&ModelCache>,
    ) -> Result<Self> {
        let role = ModelRole::Decoder;
        let key = CacheKey {
            role,
            onnx_sha256: sha256(bytes),
        };
        let graph = cache::graph_or_build(cache, &key, || {
            load::load_typed(bytes, &DECODER).map(with_library_ops)
        })?;
        let checked = load::checked(graph, &DECODER)?;
        let started = std::time::Instant::now();
        let (image_part, prompt_part, kept) = split_image_part(checked.model);
        let split = sha256(&[&key.onnx_sha256[..], kept.as_bytes()].concat());
        log::debug!(
            "decoder: image-only part split off in {:?}",
            started.elapsed()
        );
        let not_a_model = |e: anyhow::Error| Error::NotAModel {
            role,
            detail: format!("tract cannot optimise this graph: {e:#}"),
        };
        let plans = match planning {
            DecoderPlanning::Symbolic => {
                DecoderPlans::Symbolic(planned(prompt_part).map_err(not_a_model)?)
            }
            DecoderPlanning::PerPointCount => {
                let coords = prompt_part.inputs[checked.input_positions[1]];
                let symbol = prompt_part
                    .outlet_fact(coords)
                    .map(|f| f.shape[1].to_string())
                    .map_err(|e| Error::NotAModel {
                        role,
                        detail: format!("{e:#}"),
                    })?;
                DecoderPlans::PerPointCount {
                    template: Box::new(prompt_part),
                    symbol,
                    plans: Mutex::new(HashMap::new()),
                }
            }
        };
        Ok(Decoder {
            plans,
            image_part,
            input_positions: checked.input_positions,
            output_positions: checked.output_positions,
            sha256: key.onnx_sha256,
            split,
        })
    }

    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    pub fn split(&self) -> &[u8; 32] {
        &self.split
    }

    fn plan_for(&self, points: usize) -> Result<Plan> {
        match &self.plans {
            DecoderPlans::Symbolic(plan) => Ok(plan.clone()),
            DecoderPlans::PerPointCount {
                template,
                symbol,
                plans,
            } => {
                // A poisoned lock only means another thread panicked mid-insert; the map is intact.
                if let Some(plan) = plans.lock().unwrap_or_else(|p| p.into_inner()).get(&points) {
                    return Ok(plan.clone());
                }
                let started = std::time::Instant::now();
                let mut model = TypedModel::clone(template);
                let plan = rewritten(&mut model, |m| {
                    let value = HashMap::from([(m.symbols.sym(symbol), TDim::Val(points as i64))]);
                    *m = m.set_symbols(&value)?;
                    Ok(())
                })
                .and_then(|_| planned(model))
                .map_err(|e| Error::Inference {
                    role: ModelRole::Decoder,
                    detail: format!("planning for {points} points failed: {e:#}"),
                })?;
                log::debug!(
                    "decoder planned for {points} points in {:?}",
                    started.elapsed()
                );
                plans
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(points, plan.clone());
                Ok(plan)
            }
        }
    }

    /// Runs the image-only part on an embedding: once per photo, before its first prompt.
    /// `clock` times its nodes.
    pub fn image_context(
        &self,
        embedding: &TValue,
        executor: &Executor,
        clock: Option<&OpClock>,
    ) -> Result<ImageContext> {
        let values = match &self.image_part {
            Some(image_part) => on_executor(executor, || {
                run_plan(image_part, tvec![embedding.clone()], clock)
            })
            .map_err(|e| Error::Inference {
                role: ModelRole::Decoder,
                detail: format!("{e:#}"),
            })?
            .into_vec(),
            None => Vec::new(),
        };
        Ok(ImageContext {
            split: self.split,
            values,
        })
    }

    /// Runs the prompt part; `context` is this decoder's [`Decoder::image_context`] of `embedding`.
    /// `clock` times its nodes.
    pub fn run(
        &self,
        embedding: &TValue,
        context: &ImageContext,
        prompt: &DecoderPrompt,
        executor: &Executor,
        clock: Option<&OpClock>,
    ) -> Result<DecoderOutput> {
        let role = ModelRole::Decoder;
        let inference = |e: anyhow::Error| Error::Inference {
            role,
            detail: format!("{e:#}"),
        };
        if context.split != self.split {
            return Err(Error::bad_embedding(
                "its decoder context was computed by another decoder",
            ));
        }
        let n = prompt.len();
        let by_contract = [
            embedding.clone(),
            f32_tensor(&[1, n, 2], &prompt.coords, role)?.into_tvalue(),
            f32_tensor(&[1, n], &prompt.labels, role)?.into_tvalue(),
        ];
        // Feed the inputs in the file's order.
        let mut inputs: Vec<Option<TValue>> = vec![None; by_contract.len()];
        for (value, &pos) in by_contract.into_iter().zip(&self.input_positions) {
            inputs[pos] = Some(value);
        }
        let inputs = inputs
            .into_iter()
            .flatten()
            .chain(context.values.iter().cloned())
            .collect();
        let plan = self.plan_for(n)?;
        let outputs =
            on_executor(executor, || run_plan(&plan, inputs, clock)).map_err(inference)?;
        let f32_output = |position: usize| -> Result<Vec<f32>> {
            let view = outputs[self.output_positions[position]]
                .try_as_plain_ram()
                .map_err(inference)?;
            Ok(view.as_slice::<f32>().map_err(inference)?.to_vec())
        };
        let (scores, masks) = (f32_output(0)?, f32_output(1)?);
        let scores: [f32; CANDIDATES] =
            scores.try_into().map_err(|s: Vec<f32>| Error::Inference {
                role,
                detail: format!("`scores` has {} values, 4 expected", s.len()),
            })?;
        // The official graph's stability score of a candidate with no logit above -1 is 0/0.
        // NaN would win numpy's argmax and breaks equality and JSON: an empty mask scores 0.
        let scores = scores.map(|s| if s.is_nan() { 0.0 } else { s });
        if masks.len() != CANDIDATES * LOW_RES_SIDE * LOW_RES_SIDE {
            return Err(Error::Inference {
                role,
                detail: format!("`masks` has {} values, 4x256x256 expected", masks.len()),
            });
        }
        Ok(DecoderOutput { scores, masks })
    }
}
