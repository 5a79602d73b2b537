//! Splits the decoder graph in two: the part that depends on the image embedding alone, run once
//! per photo, and the rest, run per prompt.
//!
//! In SAM's mask decoder the first two-way attention layer projects the image tokens (keys, values
//! and the image-to-token queries) before any prompt reaches them: about a fifth of the decoder's
//! multiply-adds for one tap, the same for every tap on a photo. The exported graph hides this
//! behind `repeat_interleave(image, prompts.shape[0])`, but once tract has decluttered it with the
//! contract's batch of one, those nodes read the embedding and constants only. The split is made
//! on that decluttered graph, by two rewrites applied to clones of it: one keeps the image-only
//! part with its outputs at the boundary, the other turns the same boundary outlets into inputs of
//! the prompt part. Both compute the boundary the same way, so their order agrees.

use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::source::TypedSource;

use crate::engine::contract::DECODER_IMAGE_INPUT as IMAGE_INPUT;

/// What a node's value depends on, in increasing order of how often it must be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Dependence {
    Constant,
    Image,
    Prompt,
}

/// The image-only outlets that prompt-dependent nodes read, in node order. Empty when the graph
/// cannot be split this way (no image-only computation, or one the compaction cannot cut).
fn boundary(model: &TypedModel) -> TractResult<Vec<OutletId>> {
    let inputs = model.input_outlets()?;
    let image = image_input(model)?.node;
    let order = model.eval_order()?;
    let mut dependence = vec![Dependence::Constant; model.nodes().len()];
    for &id in &order {
        let node = model.node(id);
        dependence[id] = if id == image {
            Dependence::Image
        } else if inputs.iter().any(|o| o.node == id) {
            Dependence::Prompt
        } else {
            let from_inputs = node.inputs.iter().map(|i| dependence[i.node]).max();
            from_inputs.unwrap_or(Dependence::Constant)
        };
    }
    let mut cut = Vec::new();
    for &id in &order {
        if dependence[id] != Dependence::Prompt {
            continue;
        }
        for &input in &model.node(id).inputs {
            let producer = model.node(input.node);
            let worth_caching =
                dependence[input.node] == Dependence::Image && !producer.op_is::<TypedSource>();
            if worth_caching && !cut.contains(&input) {
                cut.push(input);
            }
        }
    }
    // A boundary node becomes a source of its one output; a cut at one output of several cannot
    // be made that way.
    let cuttable = cut
        .iter()
        .all(|o| o.slot == 0 && model.node(o.node).outputs.len() == 1);
    if !cuttable {
        return Ok(Vec::new());
    }
    cut.sort_by_key(|o| o.node);
    Ok(cut)
}

fn image_input(model: &TypedModel) -> TractResult<OutletId> {
    model
        .input_outlets()?
        .iter()
        .copied()
        .find(|o| model.node(o.node).name == IMAGE_INPUT)
        .with_context(|| format!("the decoder has no `{IMAGE_INPUT}` input"))
}

/// Keeps the image-only part of the decoder, its outputs the boundary outlets.
pub(crate) fn keep_image_part(model: &mut TypedModel) -> TractResult<()> {
    let cut = boundary(model)?;
    ensure!(
        !cut.is_empty(),
        "the decoder has no image-only part to split off"
    );
    let image = image_input(model)?;
    model.select_output_outlets(&cut)?;
    model.set_input_outlets(&[image])?;
    model.compact()
}

/// Keeps the prompt part of the decoder, the boundary outlets appended to its inputs.
pub(crate) fn keep_prompt_part(model: &mut TypedModel) -> TractResult<()> {
    let cut = boundary(model)?;
    ensure!(
        !cut.is_empty(),
        "the decoder has no image-only part to split off"
    );
    for outlet in &cut {
        let fact = model.outlet_fact(*outlet)?.without_value();
        let node = outlet.node;
        for (slot, input) in std::mem::take(&mut model.node_mut(node).inputs)
            .into_iter()
            .enumerate()
        {
            model.node_mut(input.node).outputs[input.slot]
                .successors
                .retain(|succ| *succ != InletId::new(node, slot));
        }
        model.node_mut(node).op = Box::new(TypedSource::new(fact));
    }
    let mut inputs = model.input_outlets()?.to_vec();
    inputs.extend(&cut);
    model.set_input_outlets(&inputs)?;
    // Drops the image-only nodes nothing reads any more.
    model.compact()
}
