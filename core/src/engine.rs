//! The two EdgeSAM graphs on tract: loading the official ONNX files unmodified, checking them
//! against the encoder and decoder contracts, and running them.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use tract::prelude::*;
use tract::prelude::{SetSymbols, Tensor};
use tract_linalg::multithread::{multithread_tract_scope, Executor};
use tract_onnx::tract_core::knobs::KnobScope;
use tract_onnx::tract_core::prelude as tc;
use tract_onnx::tract_core::prelude::{tvec, Framework, IntoTValue};

use crate::decoder_split;
use crate::error::{Error, ModelRole, Result};
use crate::postprocess::{CANDIDATES, LOW_RES_SIDE};
use crate::preprocess::{EncoderInput, ENCODER_SIDE};
use crate::prompt::DecoderPrompt;

/// Shape of the image embedding that links the two graphs.
pub const EMBEDDING_SHAPE: [usize; 4] = [1, 256, 64, 64];

/// SHA-256 of the published files, so logs and `edgesam info` can say which one was loaded.
const OFFICIAL_FILES: [(&str, &str); 4] = [
    (
        "edge_sam_encoder.onnx",
        "c051e69a2a16ca8f5e09583ca18420ef0e75a67387dd90228ac9438f7f01357a",
    ),
    (
        "edge_sam_decoder.onnx",
        "e820af76837271db87478851603c6ce855906ca96baae2238217c2d5a38e0926",
    ),
    (
        "edge_sam_3x_encoder.onnx",
        "719a498cf5b3fe9be9f01ee513e13d3915f9028aa4f23dfd30eaaa0a17143159",
    ),
    (
        "edge_sam_3x_decoder.onnx",
        "83a2174d54571596913dcb7455d021e713623c3dca30a31c8c41ab98c9fb0863",
    ),
];

/// The name of the official file with this SHA-256, if it is one.
pub fn official_file_name(sha256: &[u8; 32]) -> Option<&'static str> {
    let hex = to_hex(sha256);
    OFFICIAL_FILES
        .iter()
        .find(|(_, hash)| *hash == hex)
        .map(|(name, _)| *name)
}

/// SHA-256 of a model file's bytes.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One dimension of a contract: a fixed size or the decoder's dynamic point count.
#[derive(Debug, Clone, Copy, PartialEq)]
enum DimContract {
    Fixed(i64),
    Dynamic,
}

/// An input or output a graph must have: its name and f32 shape.
struct TensorContract {
    name: &'static str,
    shape: &'static [DimContract],
}

impl std::fmt::Display for TensorContract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dims: Vec<String> = self
            .shape
            .iter()
            .map(|d| match d {
                DimContract::Fixed(n) => n.to_string(),
                DimContract::Dynamic => "N".into(),
            })
            .collect();
        write!(f, "`{}` f32 [{}]", self.name, dims.join(","))
    }
}

use DimContract::{Dynamic, Fixed};

const ENCODER_INPUTS: &[TensorContract] = &[TensorContract {
    name: "image",
    shape: &[
        Fixed(1),
        Fixed(3),
        Fixed(ENCODER_SIDE as i64),
        Fixed(ENCODER_SIDE as i64),
    ],
}];
const ENCODER_OUTPUTS: &[TensorContract] = &[TensorContract {
    name: "image_embeddings",
    shape: &[Fixed(1), Fixed(256), Fixed(64), Fixed(64)],
}];
const DECODER_INPUTS: &[TensorContract] = &[
    TensorContract {
        name: "image_embeddings",
        shape: &[Fixed(1), Fixed(256), Fixed(64), Fixed(64)],
    },
    TensorContract {
        name: "point_coords",
        shape: &[Fixed(1), Dynamic, Fixed(2)],
    },
    TensorContract {
        name: "point_labels",
        shape: &[Fixed(1), Dynamic],
    },
];
const DECODER_OUTPUTS: &[TensorContract] = &[
    TensorContract {
        name: "scores",
        shape: &[Fixed(1), Fixed(CANDIDATES as i64)],
    },
    TensorContract {
        name: "masks",
        shape: &[
            Fixed(1),
            Fixed(CANDIDATES as i64),
            Fixed(LOW_RES_SIDE as i64),
            Fixed(LOW_RES_SIDE as i64),
        ],
    },
];

fn contract_text(inputs: &[TensorContract], outputs: &[TensorContract]) -> String {
    let list = |c: &[TensorContract]| {
        c.iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("inputs {} and outputs {}", list(inputs), list(outputs))
}

/// Inputs and outputs of a parsed model, as the file declares them. Outputs are listed by the
/// node that produces them: tract's facade does not expose ONNX output names.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInterface {
    pub inputs: Vec<(String, String)>,
    pub outputs: Vec<(String, String)>,
}

impl std::fmt::Display for ModelInterface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |l: &[(String, String)]| {
            l.iter()
                .map(|(n, fact)| format!("`{n}` [{fact}]"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(
            f,
            "inputs {} and outputs {}",
            list(&self.inputs),
            list(&self.outputs)
        )
    }
}

/// Parses ONNX bytes; anything tract cannot read as ONNX is `NotAModel`.
fn parse_onnx(bytes: &[u8], role: ModelRole) -> Result<InferenceModel> {
    if bytes.is_empty() {
        return Err(Error::NotAModel {
            role,
            detail: "the file is empty".into(),
        });
    }
    let not_a_model = |e: anyhow::Error| Error::NotAModel {
        role,
        detail: format!("{e:#}"),
    };
    onnx()
        .map_err(not_a_model)?
        .load_buffer(bytes)
        .map_err(not_a_model)
}

fn declared_interface(model: &InferenceModel) -> anyhow::Result<ModelInterface> {
    let inputs = (0..model.input_count()?)
        .map(|i| Ok((model.input_name(i)?, model.input_fact(i)?.to_string())))
        .collect::<anyhow::Result<_>>()?;
    let outputs = (0..model.output_count()?)
        .map(|i| Ok((model.output_name(i)?, model.output_fact(i)?.to_string())))
        .collect::<anyhow::Result<_>>()?;
    Ok(ModelInterface { inputs, outputs })
}

/// What a contract check reads of a fact, from tract's facade (the decoder) or from
/// tract-core (the encoder): its dimensions, each when known, if it is f32; `None` otherwise.
trait ContractFact {
    fn f32_dims(&self) -> anyhow::Result<Option<Vec<Option<i64>>>>;
}

impl ContractFact for Fact {
    fn f32_dims(&self) -> anyhow::Result<Option<Vec<Option<i64>>>> {
        if self.datum_type()? != DatumType::F32 {
            return Ok(None);
        }
        let dims = (0..self.rank()?)
            .map(|axis| Ok(self.dim(axis)?.to_int64().ok()))
            .collect::<anyhow::Result<_>>()?;
        Ok(Some(dims))
    }
}

impl ContractFact for tc::TypedFact {
    fn f32_dims(&self) -> anyhow::Result<Option<Vec<Option<i64>>>> {
        Ok((self.datum_type == tc::DatumType::F32)
            .then(|| self.shape.iter().map(|d| d.to_i64().ok()).collect()))
    }
}

fn fact_matches(fact: &impl ContractFact, contract: &TensorContract) -> anyhow::Result<bool> {
    let Some(dims) = fact.f32_dims()? else {
        return Ok(false);
    };
    Ok(dims.len() == contract.shape.len()
        && dims
            .iter()
            .zip(contract.shape)
            .all(|(got, want)| match want {
                Fixed(n) => *got == Some(*n),
                Dynamic => got.is_none(),
            }))
}

/// The model's input names are exactly the contract's, in any order.
fn has_contract_inputs(names: &[String], contract: &[TensorContract]) -> bool {
    names.len() == contract.len() && contract.iter().all(|c| names.iter().any(|n| n == c.name))
}

/// For each contract tensor, the position of the one fact that meets it; `None` unless the
/// counts agree and every contract tensor is met by a distinct fact.
fn match_positions(
    facts: &[impl ContractFact],
    names: Option<&[String]>,
    contract: &[TensorContract],
) -> anyhow::Result<Option<Vec<usize>>> {
    if facts.len() != contract.len() {
        return Ok(None);
    }
    let mut positions = Vec::with_capacity(contract.len());
    for c in contract {
        let mut found = None;
        for (i, fact) in facts.iter().enumerate() {
            let name_ok = names.is_none_or(|n| n[i] == c.name);
            if name_ok && !positions.contains(&i) && fact_matches(fact, c)? {
                found = Some(i);
                break;
            }
        }
        match found {
            Some(i) => positions.push(i),
            None => return Ok(None),
        }
    }
    Ok(Some(positions))
}

/// A model checked against its contract: the typed (decluttered, not yet optimised) graph and
/// where each contract tensor sits among its inputs and outputs.
struct CheckedModel {
    model: Model,
    input_positions: Vec<usize>,
    output_positions: Vec<usize>,
}

/// Parses, analyses and checks a model. Inputs are matched by name and shape; outputs by shape
/// alone, since the facade only knows the names of the nodes that produce them.
fn load_checked(
    bytes: &[u8],
    role: ModelRole,
    inputs: &[TensorContract],
    outputs: &[TensorContract],
) -> Result<CheckedModel> {
    let started = std::time::Instant::now();
    let mut model = parse_onnx(bytes, role)?;
    let parsed = started.elapsed();
    let wrong = |found: String| Error::WrongModel {
        role,
        expected: contract_text(inputs, outputs),
        found,
    };
    let declared = declared_interface(&model).map_err(|e| wrong(format!("{e:#}")))?;
    let input_names: Vec<String> = declared.inputs.iter().map(|(n, _)| n.clone()).collect();
    if !has_contract_inputs(&input_names, inputs) || declared.outputs.len() != outputs.len() {
        return Err(wrong(declared.to_string()));
    }
    // PyTorch's exporter declares the decoder's outputs with made-up symbolic dimensions that
    // contradict the real shapes; tract must infer them rather than trust the file.
    for i in 0..declared.outputs.len() {
        model
            .set_output_fact(i, ())
            .map_err(|e| wrong(format!("{e:#}")))?;
    }
    let model = model
        .into_model()
        .map_err(|e| wrong(format!("{declared}, which tract cannot analyse: {e:#}")))?;
    log::debug!(
        "{role}: parsed in {parsed:?}, analysed and decluttered in {:?}",
        started.elapsed() - parsed
    );
    let typed = (|| -> anyhow::Result<_> {
        let input_facts: Vec<Fact> = model.input_facts()?.collect();
        let output_facts: Vec<Fact> = model.output_facts()?.collect();
        let input_positions = match_positions(&input_facts, Some(&input_names), inputs)?;
        let output_positions = match_positions(&output_facts, None, outputs)?;
        Ok((input_facts, output_facts, input_positions, output_positions))
    })()
    .map_err(|e| wrong(format!("{e:#}")))?;
    let (input_positions, output_positions) = match typed {
        (_, _, Some(inputs), Some(outputs)) => (inputs, outputs),
        (input_facts, output_facts, _, _) => {
            let describe = |facts: &[Fact]| facts.iter().map(|f| f.to_string()).collect::<Vec<_>>();
            let output_names = declared.outputs.into_iter().map(|(n, _)| n);
            let found = ModelInterface {
                inputs: input_names
                    .into_iter()
                    .zip(describe(&input_facts))
                    .collect(),
                outputs: output_names.zip(describe(&output_facts)).collect(),
            };
            return Err(wrong(found.to_string()));
        }
    };
    Ok(CheckedModel {
        model,
        input_positions,
        output_positions,
    })
}

/// Runs `f` on `executor`'s threads (tract's matrix products and convolutions use them).
fn on_executor<R>(executor: &Executor, f: impl FnOnce() -> R) -> R {
    multithread_tract_scope(executor.clone(), f)
}

/// A single-thread executor for 0 or 1 threads, else a pool of `threads` workers.
pub(crate) fn executor_for(threads: usize) -> Executor {
    if threads <= 1 {
        Executor::SingleThread
    } else {
        Executor::multithread_with_name(threads, "edgesam")
    }
}

fn f32_tensor(shape: &[usize], data: &[f32], role: ModelRole) -> Result<Tensor> {
    Tensor::from_slice(shape, data).map_err(|e| Error::Inference {
        role,
        detail: format!("{e:#}"),
    })
}

/// tract settings for the encoder's optimisation. Direct spatial convolution is off: tract picks
/// it for the stem's 3x3 stride-2 convolution (24->48 channels at 512x512), where it ran at a
/// third of the speed of im2col + matrix product.
fn encoder_knobs() -> KnobScope {
    KnobScope::new([("TRACT_DISABLE_DIRECT_SPATIAL", "true")]).unwrap_or_else(|e| {
        log::warn!("tract refused the encoder's settings, running with its defaults: {e:#}");
        KnobScope::default()
    })
}

/// The encoder graph read by tract-onnx itself, checked against the encoder contract, typed and
/// decluttered. Not through the facade, as the decoder is: a facade runnable runs a whole graph
/// in one call, and a cancellable encode needs tract-core's plan, run node by node.
fn load_checked_encoder(bytes: &[u8]) -> Result<tc::TypedModel> {
    let role = ModelRole::Encoder;
    if bytes.is_empty() {
        return Err(Error::NotAModel {
            role,
            detail: "the file is empty".into(),
        });
    }
    let mut model = tract_onnx::onnx()
        .model_for_read(&mut &*bytes)
        .map_err(|e| Error::NotAModel {
            role,
            detail: format!("{e:#}"),
        })?;
    let wrong = |found: String| Error::WrongModel {
        role,
        expected: contract_text(ENCODER_INPUTS, ENCODER_OUTPUTS),
        found,
    };
    let names = |outlets: &[tc::OutletId]| -> Vec<String> {
        outlets
            .iter()
            .map(|o| model.node(o.node).name.clone())
            .collect()
    };
    let declared = |inputs: &[tc::OutletId], outputs: &[tc::OutletId]| {
        let describe = |outlets: &[tc::OutletId]| -> Vec<(String, String)> {
            outlets
                .iter()
                .map(|o| {
                    let fact = model.outlet_fact(*o).map(|f| format!("{f:?}"));
                    (model.node(o.node).name.clone(), fact.unwrap_or_default())
                })
                .collect()
        };
        ModelInterface {
            inputs: describe(inputs),
            outputs: describe(outputs),
        }
    };
    let (inputs, outputs) = (model.inputs.clone(), model.outputs.clone());
    if !has_contract_inputs(&names(&inputs), ENCODER_INPUTS) || outputs.len() != 1 {
        return Err(wrong(declared(&inputs, &outputs).to_string()));
    }
    let declared = declared(&inputs, &outputs);
    // As for the decoder: tract infers the output shapes rather than trusting the file.
    model
        .set_output_fact(0, Default::default())
        .map_err(|e| wrong(format!("{e:#}")))?;
    let typed = tract_onnx::prelude::InferenceModelExt::into_typed(model)
        .and_then(|typed| typed.into_decluttered())
        .map_err(|e| wrong(format!("{declared}, which tract cannot analyse: {e:#}")))?;
    let fact = |f: tc::TractResult<&tc::TypedFact>| f.cloned().map_err(|e| wrong(format!("{e:#}")));
    let (input_fact, output_fact) = (fact(typed.input_fact(0))?, fact(typed.output_fact(0))?);
    let fits = |fact: &tc::TypedFact, contract| {
        matches!(
            match_positions(std::slice::from_ref(fact), None, contract),
            Ok(Some(_))
        )
    };
    if !fits(&input_fact, ENCODER_INPUTS) || !fits(&output_fact, ENCODER_OUTPUTS) {
        let found = ModelInterface {
            inputs: vec![(ENCODER_INPUTS[0].name.into(), format!("{input_fact:?}"))],
            outputs: vec![(declared.outputs[0].0.clone(), format!("{output_fact:?}"))],
        };
        return Err(wrong(found.to_string()));
    }
    Ok(typed)
}

/// The error an encoder run stops with when its caller cancels it.
#[derive(Debug)]
struct CancelledRun;

impl std::fmt::Display for CancelledRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled")
    }
}

impl std::error::Error for CancelledRun {}

/// The image encoder, optimised and ready to run.
pub struct Encoder {
    plan: std::sync::Arc<tc::TypedSimplePlan>,
    sha256: [u8; 32],
}

impl Encoder {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let role = ModelRole::Encoder;
        let started = std::time::Instant::now();
        // Only a readable file is rewritten; anything else fails below with the usual errors.
        let folded = match crate::repvit_fold::fold_token_mixers(bytes) {
            Ok(Some((folded, count))) => {
                log::debug!(
                    "folded {count} RepViT token mixers into single depthwise convolutions"
                );
                Some(folded)
            }
            Ok(None) => None,
            Err(e) => {
                log::debug!("encoder left unfolded: {e:#}");
                None
            }
        };
        log::debug!("encoder: graph rewrite in {:?}", started.elapsed());
        let mut model = load_checked_encoder(folded.as_deref().unwrap_or(bytes))?;
        match crate::layer_norm::fuse_layer_norms(&mut model) {
            Ok(fused) => log::debug!("encoder: fused {fused} LayerNorm chains"),
            Err(e) => log::info!("encoder: LayerNorm chains left unfused ({e:#})"),
        }
        let optimising = std::time::Instant::now();
        let plan = encoder_knobs()
            .enter(|| model.into_optimized().and_then(tc::TypedSimplePlan::new))
            .map_err(|e| Error::NotAModel {
                role,
                detail: format!("tract cannot optimise this graph: {e:#}"),
            })?;
        log::debug!("encoder: optimised in {:?}", optimising.elapsed());
        Ok(Encoder {
            plan,
            // Embeddings and logs name the file the caller gave, not the rewritten graph.
            sha256: sha256(bytes),
        })
    }

    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    /// The `[1, 256, 64, 64]` image embedding of one pre-processed image. `cancelled` is asked
    /// before each node of the graph (the slowest takes tens of milliseconds on a phone); once
    /// it answers true the run stops with [`Error::Cancelled`].
    pub fn run(
        &self,
        input: &EncoderInput,
        executor: &Executor,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Tensor> {
        let role = ModelRole::Encoder;
        let failed = |e: anyhow::Error| {
            if e.is::<CancelledRun>() {
                Error::Cancelled
            } else {
                Error::Inference {
                    role,
                    detail: format!("{e:#}"),
                }
            }
        };
        let side = ENCODER_SIDE;
        let image = tc::Tensor::from_shape(&[1, 3, side, side], &input.data).map_err(failed)?;
        let mut state = tc::TypedSimpleState::new(&self.plan).map_err(failed)?;
        let outputs = on_executor(executor, || {
            state.run_plan_with_eval(tvec![image.into_tvalue()], |ctx, op_state, node, inputs| {
                if cancelled() {
                    return Err(anyhow::Error::new(CancelledRun));
                }
                tract_onnx::tract_core::plan::eval(ctx, op_state, node, inputs)
            })
        })
        .map_err(failed)?;
        let embedding = outputs[0].try_as_plain_ram().map_err(failed)?;
        f32_tensor(
            &EMBEDDING_SHAPE,
            embedding.as_slice::<f32>().map_err(failed)?,
            role,
        )
    }
}

/// How the decoder copes with a point count that changes from tap to tap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecoderPlanning {
    /// One plan optimised with the point count left symbolic: no re-planning ever.
    #[default]
    Symbolic,
    /// One plan per point count, optimised for that count on first use and cached.
    PerPointCount,
}

enum DecoderPlans {
    Symbolic(Runnable),
    PerPointCount {
        /// The decluttered graph each concrete plan is derived from.
        template: Box<Model>,
        symbol: String,
        plans: Mutex<HashMap<usize, Runnable>>,
    },
}

/// Raw decoder outputs: four scores and four 256x256 logit masks.
#[derive(Debug, Clone)]
pub struct DecoderOutput {
    pub scores: [f32; CANDIDATES],
    pub masks: Vec<f32>,
}

/// What the decoder computes once per photo: the outputs of its image-only part, fed to every
/// prompt's run. Empty when the decoder graph runs whole.
#[derive(Clone)]
pub struct ImageContext {
    decoder_sha256: [u8; 32],
    tensors: Vec<Tensor>,
}

impl ImageContext {
    /// SHA-256 of the decoder file that computed it.
    pub fn decoder_sha256(&self) -> &[u8; 32] {
        &self.decoder_sha256
    }
}

/// The prompt encoder and mask decoder.
pub struct Decoder {
    plans: DecoderPlans,
    /// The image-only part split off the graph (`decoder_split`), or `None` to run it whole.
    image_part: Option<Runnable>,
    input_positions: Vec<usize>,
    output_positions: Vec<usize>,
    sha256: [u8; 32],
}

/// Fuses the decoder's LayerNorm chains (`layer_norm.rs`); a graph the rewrite fails on is used
/// as it was.
fn with_fused_layer_norms(mut model: Model) -> Model {
    if let Err(e) = model.transform(crate::layer_norm::FUSE_LAYER_NORMS) {
        log::info!("decoder: LayerNorm chains left unfused ({e:#})");
    }
    model
}

/// Splits the decoder into its image-only part, optimised, and the prompt part still to plan;
/// a graph that cannot be split stays whole.
fn split_image_part(model: Model) -> (Option<Runnable>, Model) {
    let mut image_part = model.clone();
    let mut prompt_part = model.clone();
    let split = image_part
        .transform(decoder_split::IMAGE_PART)
        .and_then(|_| prompt_part.transform(decoder_split::PROMPT_PART))
        .and_then(|_| image_part.into_runnable());
    match split {
        Ok(image_part) => {
            let kept = (0..image_part.output_count().unwrap_or(0))
                .filter_map(|i| image_part.output_fact(i).ok())
                .map(|f| f.to_string())
                .collect::<Vec<_>>();
            log::debug!("decoder: per-photo part keeps {}", kept.join(", "));
            (Some(image_part), prompt_part)
        }
        Err(e) => {
            log::info!("decoder: runs whole per prompt ({e:#})");
            (None, model)
        }
    }
}

impl Decoder {
    pub fn from_bytes(bytes: &[u8], planning: DecoderPlanning) -> Result<Self> {
        let role = ModelRole::Decoder;
        let checked = load_checked(bytes, role, DECODER_INPUTS, DECODER_OUTPUTS)?;
        let started = std::time::Instant::now();
        let (image_part, prompt_part) = split_image_part(with_fused_layer_norms(checked.model));
        log::debug!(
            "decoder: image-only part split off in {:?}",
            started.elapsed()
        );
        let plans = match planning {
            DecoderPlanning::Symbolic => {
                DecoderPlans::Symbolic(prompt_part.into_runnable().map_err(|e| {
                    Error::NotAModel {
                        role,
                        detail: format!("tract cannot optimise this graph: {e:#}"),
                    }
                })?)
            }
            DecoderPlanning::PerPointCount => {
                let coords = checked.input_positions[1];
                let symbol = prompt_part
                    .input_fact(coords)
                    .and_then(|f| f.dim(1))
                    .map(|d| d.to_string())
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
            sha256: sha256(bytes),
        })
    }

    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    fn plan_for(&self, points: usize) -> Result<Runnable> {
        match &self.plans {
            DecoderPlans::Symbolic(runnable) => Ok(runnable.clone()),
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
                let mut model = Model::clone(template);
                let plan = model
                    .transform(SetSymbols::new().value(symbol.as_str(), points as i64))
                    .and_then(|_| model.into_runnable())
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
    pub fn image_context(&self, embedding: &Tensor, executor: &Executor) -> Result<ImageContext> {
        let tensors = match &self.image_part {
            Some(image_part) => on_executor(executor, || image_part.run([embedding.clone()]))
                .map_err(|e| Error::Inference {
                    role: ModelRole::Decoder,
                    detail: format!("{e:#}"),
                })?,
            None => Vec::new(),
        };
        Ok(ImageContext {
            decoder_sha256: self.sha256,
            tensors,
        })
    }

    /// Runs the prompt part; `context` is this decoder's [`Decoder::image_context`] of `embedding`.
    pub fn run(
        &self,
        embedding: &Tensor,
        context: &ImageContext,
        prompt: &DecoderPrompt,
        executor: &Executor,
    ) -> Result<DecoderOutput> {
        let role = ModelRole::Decoder;
        let inference = |e: anyhow::Error| Error::Inference {
            role,
            detail: format!("{e:#}"),
        };
        if context.decoder_sha256 != self.sha256 {
            return Err(Error::bad_embedding(
                "its decoder context was computed by another decoder",
            ));
        }
        let n = prompt.len();
        let by_contract = [
            embedding.clone(),
            f32_tensor(&[1, n, 2], &prompt.coords, role)?,
            f32_tensor(&[1, n], &prompt.labels, role)?,
        ];
        // Feed the inputs in the file's order.
        let mut inputs: Vec<Option<Tensor>> = vec![None; by_contract.len()];
        for (tensor, &pos) in by_contract.into_iter().zip(&self.input_positions) {
            inputs[pos] = Some(tensor);
        }
        let inputs: Vec<Tensor> = inputs
            .into_iter()
            .flatten()
            .chain(context.tensors.iter().cloned())
            .collect();
        let plan = self.plan_for(n)?;
        let outputs = on_executor(executor, || plan.run(inputs)).map_err(inference)?;
        let scores = outputs[self.output_positions[0]]
            .as_slice::<f32>()
            .map_err(inference)?;
        let masks = outputs[self.output_positions[1]]
            .as_slice::<f32>()
            .map_err(inference)?;
        let scores: [f32; CANDIDATES] = scores.try_into().map_err(|_| Error::Inference {
            role,
            detail: format!("`scores` has {} values, 4 expected", scores.len()),
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
        Ok(DecoderOutput {
            scores,
            masks: masks.to_vec(),
        })
    }
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

/// Inspects model bytes for `edgesam info`.
pub fn inspect(bytes: &[u8]) -> ModelReport {
    let interface = parse_onnx(bytes, ModelRole::Encoder)
        .ok()
        .and_then(|model| declared_interface(&model).ok());
    ModelReport {
        sha256: sha256(bytes),
        interface,
        // The same check as loading the encoder makes, so `info` and a load never disagree.
        encoder_check: load_checked_encoder(bytes).map(|_| ()),
        decoder_check: load_checked(bytes, ModelRole::Decoder, DECODER_INPUTS, DECODER_OUTPUTS)
            .map(|_| ()),
    }
}
