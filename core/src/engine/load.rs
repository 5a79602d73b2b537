//! The one loader: ONNX bytes read by tract-onnx, checked against a [`GraphContract`], typed and
//! decluttered by tract-core, ready for the library's rewrites and tract's optimiser.

use tract_onnx::prelude::{Framework, InferenceFact, InferenceModel, InferenceModelExt};
use tract_onnx::tract_core::prelude::{DatumType, TypedFact, TypedModel};

use super::contract::{Dim, GraphContract, TensorContract};
use crate::error::{Error, ModelRole, Result};

/// Inputs and outputs of a parsed model, as the file declares them. Outputs are listed by the
/// node that produces them.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInterface {
    /// Each input's name and declared shape and type, such as `1,N,2,f32`.
    pub inputs: Vec<(String, String)>,
    /// Each output's producing node and declared shape and type.
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

/// A model checked against its contract: the typed, decluttered (not yet optimised) graph and
/// where each contract tensor sits among its inputs and outputs.
pub(crate) struct CheckedModel {
    pub model: TypedModel,
    pub input_positions: Vec<usize>,
    pub output_positions: Vec<usize>,
}

/// Parses ONNX bytes; anything tract cannot read as ONNX is `NotAModel`.
pub(crate) fn parse_onnx(bytes: &[u8], role: ModelRole) -> Result<InferenceModel> {
    if bytes.is_empty() {
        return Err(Error::NotAModel {
            role,
            detail: "the file is empty".into(),
        });
    }
    tract_onnx::onnx()
        .model_for_read(&mut &*bytes)
        .map_err(|e| Error::NotAModel {
            role,
            detail: format!("{e:#}"),
        })
}

/// A declared fact as `dims,type`, e.g. `1,N,2,f32` (`..` where nothing is declared).
fn inference_fact_text(fact: &InferenceFact) -> String {
    let text = fact.format_dt_shape();
    match text.rfind(',') {
        Some(pos) => format!("{}{}", &text[..=pos], text[pos + 1..].to_lowercase()),
        None => text.to_lowercase(),
    }
}

/// An analysed fact as `dims,type`, e.g. `1,256,64,64,f32`.
pub(crate) fn typed_fact_text(fact: &TypedFact) -> String {
    let mut parts: Vec<String> = fact.shape.iter().map(|d| d.to_string()).collect();
    parts.push(format!("{:?}", fact.datum_type).to_lowercase());
    parts.join(",")
}

pub(crate) fn declared_interface(model: &InferenceModel) -> anyhow::Result<ModelInterface> {
    let describe = |outlets: &[tract_onnx::tract_core::prelude::OutletId]| {
        outlets
            .iter()
            .map(|o| {
                let fact = model.outlet_fact(*o)?;
                Ok((model.node(o.node).name.clone(), inference_fact_text(fact)))
            })
            .collect::<anyhow::Result<Vec<_>>>()
    };
    Ok(ModelInterface {
        inputs: describe(&model.inputs)?,
        outputs: describe(&model.outputs)?,
    })
}

fn fact_matches(fact: &TypedFact, contract: &TensorContract) -> bool {
    fact.datum_type == DatumType::F32
        && fact.rank() == contract.shape.len()
        && fact
            .shape
            .iter()
            .zip(contract.shape)
            .all(|(got, want)| match want {
                Dim::Fixed(n) => got.to_i64().ok() == Some(*n),
                Dim::Dynamic => got.to_i64().is_err(),
            })
}

/// The model's input names are exactly the contract's, in any order.
fn has_contract_inputs(names: &[String], contract: &[TensorContract]) -> bool {
    names.len() == contract.len() && contract.iter().all(|c| names.iter().any(|n| n == c.name))
}

/// For each contract tensor, the position of the one fact that meets it; `None` unless the
/// counts agree and every contract tensor is met by a distinct fact.
fn match_positions(
    facts: &[TypedFact],
    names: Option<&[String]>,
    contract: &[TensorContract],
) -> Option<Vec<usize>> {
    if facts.len() != contract.len() {
        return None;
    }
    let mut positions = Vec::with_capacity(contract.len());
    for c in contract {
        let found = facts.iter().enumerate().position(|(i, fact)| {
            names.is_none_or(|n| n[i] == c.name) && !positions.contains(&i) && fact_matches(fact, c)
        })?;
        positions.push(found);
    }
    Some(positions)
}

/// Parses, analyses and checks a model against `contract`.
pub(crate) fn load_checked(bytes: &[u8], contract: &GraphContract) -> Result<CheckedModel> {
    checked(load_typed(bytes, contract)?, contract)
}

/// Parses a model whose inputs are named as `contract`'s, then types and declutters it.
pub(crate) fn load_typed(bytes: &[u8], contract: &GraphContract) -> Result<TypedModel> {
    let role = contract.role;
    let started = std::time::Instant::now();
    let mut model = parse_onnx(bytes, role)?;
    let parsed = started.elapsed();
    let wrong = |found: String| Error::WrongModel {
        role,
        expected: contract.to_string(),
        found,
    };
    let declared = declared_interface(&model).map_err(|e| wrong(format!("{e:#}")))?;
    let input_names: Vec<String> = declared.inputs.iter().map(|(n, _)| n.clone()).collect();
    if !has_contract_inputs(&input_names, contract.inputs)
        || declared.outputs.len() != contract.outputs.len()
    {
        return Err(wrong(declared.to_string()));
    }
    // PyTorch's exporter declares the decoder's outputs with made-up symbolic dimensions that
    // contradict the real shapes; tract must infer them rather than trust the file.
    for i in 0..declared.outputs.len() {
        model
            .set_output_fact(i, InferenceFact::default())
            .map_err(|e| wrong(format!("{e:#}")))?;
    }
    let model = model
        .into_typed()
        .and_then(|typed| typed.into_decluttered())
        .map_err(|e| wrong(format!("{declared}, which tract cannot analyse: {e:#}")))?;
    log::debug!(
        "{role}: parsed in {parsed:?}, analysed and decluttered in {:?}",
        started.elapsed() - parsed
    );
    Ok(model)
}

/// Where each of `contract`'s tensors sits among a typed graph's inputs (found by name and
/// fact) and outputs (by fact); a graph that does not meet the contract is `WrongModel`.
pub(crate) fn checked(model: TypedModel, contract: &GraphContract) -> Result<CheckedModel> {
    let wrong = |found: String| Error::WrongModel {
        role: contract.role,
        expected: contract.to_string(),
        found,
    };
    let names = |outlets: &[tract_onnx::tract_core::prelude::OutletId]| {
        outlets
            .iter()
            .map(|o| model.node(o.node).name.clone())
            .collect::<Vec<_>>()
    };
    let (input_names, output_names) = (names(&model.inputs), names(&model.outputs));
    let facts = |outlets: &[tract_onnx::tract_core::prelude::OutletId]| {
        outlets
            .iter()
            .map(|o| model.outlet_fact(*o).cloned())
            .collect::<anyhow::Result<Vec<TypedFact>>>()
            .map_err(|e| wrong(format!("{e:#}")))
    };
    let (input_facts, output_facts) = (facts(&model.inputs)?, facts(&model.outputs)?);
    let input_positions = match_positions(&input_facts, Some(&input_names), contract.inputs);
    let output_positions = match_positions(&output_facts, None, contract.outputs);
    let (Some(input_positions), Some(output_positions)) = (input_positions, output_positions)
    else {
        let describe = |facts: &[TypedFact]| facts.iter().map(typed_fact_text).collect::<Vec<_>>();
        let found = ModelInterface {
            inputs: input_names
                .into_iter()
                .zip(describe(&input_facts))
                .collect(),
            outputs: output_names
                .into_iter()
                .zip(describe(&output_facts))
                .collect(),
        };
        return Err(wrong(found.to_string()));
    };
    Ok(CheckedModel {
        model,
        input_positions,
        output_positions,
    })
}
