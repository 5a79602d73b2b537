//! LayerNorm as one tract op.
//!
//! PyTorch exports LayerNorm (and SAM's LayerNorm2d) as ReduceMean, Sub, Pow, ReduceMean, Add,
//! Sqrt, Div, Mul, Add. tract's declutter turns that into `x - mean(x)`, its `RmsNorm` op, then
//! the affine Mul and Add, and lays the big ones out with the normalised axis first (the decoder's
//! image tokens as `[1, 256, 4096]`, its upscaled maps as `[1, 64, 128*128]`). Along a
//! non-contiguous axis tract's subtraction, `RmsNorm` and per-channel Mul + Add each take a slow
//! generic path: measured a sixth of a tap. This rewrite replaces each such chain, after declutter,
//! by one op that normalises in place in three passes over the data.

use tract_linalg::multithread::par_chunks_mut;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::binary::BinMiniOp;
use tract_onnx::tract_core::ops::math::{Add, Mul, Sub};
use tract_onnx::tract_core::ops::nn::{Reduce, Reducer, RmsNorm};

use super::is_bin;

/// `(x - mean) / sqrt(var + eps) * gamma + beta` along `axis`; gamma and beta hold one value per
/// position on that axis.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LayerNorm {
    axis: usize,
    eps: Arc<Tensor>,
    gamma: Arc<Tensor>,
    beta: Arc<Tensor>,
}

impl Op for LayerNorm {
    fn name(&self) -> StaticName {
        "EdgeSamLayerNorm".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!("axis: {}, eps: {:?}", self.axis, self.eps)])
    }

    op_as_typed_op!();
}

impl EvalOp for LayerNorm {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let shape = input.shape().to_vec();
        // Unshared inputs (the usual case: the chain's input has no other reader once it runs)
        // are normalised where they are, without a copy.
        let mut tensor = input.into_tensor();
        let naturally_laid_out = tensor.strides() == &*Tensor::natural_strides(&shape)
            && tensor.len() == shape.iter().product::<usize>();
        if !naturally_laid_out {
            // Copied in logical order: the kernel reads the buffer as row-major `shape`.
            let values: Vec<f32> = tensor
                .try_as_plain_ram()?
                .to_array_view::<f32>()?
                .iter()
                .copied()
                .collect();
            tensor = Tensor::from_shape(&shape, &values)?;
        }
        let channels = shape[self.axis];
        let inner = shape[self.axis + 1..].iter().product::<usize>();
        let eps = self.eps.cast_to_scalar::<f32>()?;
        let (gamma, beta) = (
            self.gamma.try_as_plain_ram()?,
            self.beta.try_as_plain_ram()?,
        );
        normalise_in_place(
            tensor.try_as_plain_ram_mut()?.as_slice_mut::<f32>()?,
            channels,
            inner,
            eps,
            gamma.as_slice::<f32>()?,
            beta.as_slice::<f32>()?,
        )?;
        Ok(tvec![tensor.into_tvalue()])
    }
}

impl TypedOp for LayerNorm {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(inputs[0].datum_type == f32::datum_type());
        ensure!(self.axis < inputs[0].rank());
        Ok(tvec!(f32::fact(inputs[0].shape.clone())))
    }

    as_op!();
}

/// Registers the op's NNEF dumper and loader with the library's registry (`engine::cache`):
/// `edgesam_layer_norm(input, gamma = ..., beta = ..., axis = ..., eps = ...)`.
pub(crate) fn register_nnef(registry: &mut tract_nnef::internal::Registry) {
    use tract_nnef::internal::TypeName;
    registry.register_dumper(dump_nnef);
    registry.register_primitive(
        NNEF_NAME,
        &[
            TypeName::Scalar.tensor().named("input"),
            TypeName::Scalar.tensor().named("gamma"),
            TypeName::Scalar.tensor().named("beta"),
            TypeName::Integer.named("axis"),
            TypeName::Scalar.named("eps"),
        ],
        &[("output", TypeName::Scalar.tensor())],
        load_nnef,
    );
}

/// Wires a LayerNorm over axis 1 of `input` (`[rows, channels]`) with fixed gamma and beta, for
/// tests of the code that saves and loads graphs.
#[cfg(test)]
pub(crate) fn wire_for_tests(model: &mut TypedModel, input: OutletId) -> OutletId {
    let channels = model.outlet_fact(input).unwrap().shape[1]
        .to_usize()
        .unwrap();
    let op = LayerNorm {
        axis: 1,
        eps: rctensor0(1e-5f32),
        gamma: tensor1(&(0..channels).map(|c| 0.5 + c as f32).collect::<Vec<_>>())
            .into_arc_tensor(),
        beta: tensor1(&(0..channels).map(|c| c as f32 - 1.0).collect::<Vec<_>>()).into_arc_tensor(),
    };
    model.wire_node("layer_norm", op, &[input]).unwrap()[0]
}

const NNEF_NAME: &str = "edgesam_layer_norm";

fn dump_nnef(
    ast: &mut tract_nnef::internal::IntoAst,
    node: &TypedNode,
    op: &LayerNorm,
) -> TractResult<Option<Arc<tract_nnef::internal::RValue>>> {
    use tract_nnef::internal::{invocation, numeric};
    let input = ast.mapping[&node.inputs[0]].clone();
    let gamma = ast.konst(format!("{}_gamma", node.name), &op.gamma)?;
    let beta = ast.konst(format!("{}_beta", node.name), &op.beta)?;
    Ok(Some(invocation(
        NNEF_NAME,
        &[input],
        &[
            ("gamma", (*gamma).clone()),
            ("beta", (*beta).clone()),
            ("axis", numeric(op.axis)),
            ("eps", numeric(op.eps.cast_to_scalar::<f32>()?)),
        ],
    )))
}

fn load_nnef(
    builder: &mut tract_nnef::internal::ModelBuilder,
    invocation: &tract_nnef::internal::ResolvedInvocation,
) -> TractResult<tract_nnef::internal::Value> {
    let input = invocation.named_arg_as(builder, "input")?;
    let eps: f32 = invocation.named_arg_as(builder, "eps")?;
    let op = LayerNorm {
        axis: invocation.named_arg_as(builder, "axis")?,
        eps: rctensor0(eps),
        gamma: invocation.named_arg_as(builder, "gamma")?,
        beta: invocation.named_arg_as(builder, "beta")?,
    };
    builder.wire(op, &[input])
}

/// LayerNorm of `data`, viewed as blocks of `[channels, inner]` normalised along `channels`,
/// in place: a mean pass, a variance pass over the centred values (as the exported graph
/// computes it, not from the sum of squares, which loses precision), then the affine write.
/// Spread over tract's current executor (the model's threads): the statistics by ranges of
/// positions, the write by ranges of channels; each value is summed in the same order whatever
/// the split, so the result does not depend on the thread count.
pub fn normalise_in_place(
    data: &mut [f32],
    channels: usize,
    inner: usize,
    eps: f32,
    gamma: &[f32],
    beta: &[f32],
) -> TractResult<()> {
    ensure!(gamma.len() == channels && beta.len() == channels);
    if channels == 0 || inner == 0 {
        return Ok(());
    }
    let inverse_count = 1.0 / channels as f32;
    let mut mean = vec![0f32; inner];
    let mut scale = vec![0f32; inner];
    for block in data.chunks_exact_mut(channels * inner) {
        let rows = |first: usize, len: usize| {
            let block: &[f32] = block;
            (0..channels).map(move |c| &block[c * inner + first..][..len])
        };
        par_chunks_mut(&mut mean, 1, block.len(), |first, mean| {
            mean.fill(0.0);
            for row in rows(first, mean.len()) {
                mean.iter_mut().zip(row).for_each(|(m, x)| *m += x);
            }
            mean.iter_mut().for_each(|m| *m *= inverse_count);
            Ok(())
        })?;
        par_chunks_mut(&mut scale, 1, block.len(), |first, scale| {
            let mean = &mean[first..][..scale.len()];
            scale.fill(0.0);
            for row in rows(first, scale.len()) {
                for ((s, x), m) in scale.iter_mut().zip(row).zip(mean) {
                    let centred = x - m;
                    *s += centred * centred;
                }
            }
            scale
                .iter_mut()
                .for_each(|s| *s = 1.0 / (*s * inverse_count + eps).sqrt());
            Ok(())
        })?;
        let total = block.len();
        par_chunks_mut(block, inner, total, |first_channel, chunk| {
            let affine = gamma[first_channel..].iter().zip(&beta[first_channel..]);
            for (row, (g, b)) in chunk.chunks_exact_mut(inner).zip(affine) {
                for ((x, m), s) in row.iter_mut().zip(&mean).zip(&scale) {
                    *x = (*x - m) * s * g + b;
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Replaces every decluttered LayerNorm chain of `model` by one [`LayerNorm`]; returns how many.
/// On an error `model` is left as it was.
pub fn fuse_layer_norms(model: &mut TypedModel) -> TractResult<usize> {
    let mut work = model.clone();
    let mut fused = 0;
    while let Some(chain) = find_chain(&work)? {
        let mut patch = TypedModelPatch::new("fuse LayerNorm");
        let input = patch.tap_model(&work, chain.input)?;
        let name = work.node(chain.output.node).name.clone();
        let output = patch.wire_node(format!("{name}.layer_norm"), chain.op, &[input])?;
        patch.shunt_outside(&work, chain.output, output[0])?;
        patch.apply(&mut work)?;
        work.compact()?;
        fused += 1;
    }
    *model = work;
    Ok(fused)
}

struct Chain {
    input: OutletId,
    output: OutletId,
    op: LayerNorm,
}

/// The first chain `Reduce<Sum> -> Mul(1/n) -> Sub -> RmsNorm [-> Mul(gamma)] [-> Add(beta)]`
/// whose intermediate values nothing else reads.
fn find_chain(model: &TypedModel) -> TractResult<Option<Chain>> {
    for node in model.eval_order()? {
        let Some(rms) = model.node(node).op_as::<RmsNorm>() else {
            continue;
        };
        if let Some(chain) = chain_at(model, node, rms)? {
            return Ok(Some(chain));
        }
    }
    Ok(None)
}

fn chain_at(model: &TypedModel, rms_node: usize, rms: &RmsNorm) -> TractResult<Option<Chain>> {
    let axis = rms.axis;
    let Some(sub) = single_use_producer(model, model.node(rms_node).inputs[0]) else {
        return Ok(None);
    };
    if !is_bin::<Sub>(model, sub) {
        return Ok(None);
    }
    let (input, mean) = (model.node(sub).inputs[0], model.node(sub).inputs[1]);
    let fact = model.outlet_fact(input)?;
    let Some(channels) = fact.shape.get(axis).and_then(|d| d.to_usize().ok()) else {
        return Ok(None);
    };
    if fact.datum_type != f32::datum_type() {
        return Ok(None);
    }
    // mean = Reduce<Sum>(input) * (1 / channels)
    let Some(scaled) = single_use_producer(model, mean) else {
        return Ok(None);
    };
    let Some((sum, factor)) = bin_with_constant::<Mul>(model, scaled)? else {
        return Ok(None);
    };
    let inverse_count = factor
        .cast_to_scalar::<f32>()
        .ok()
        .filter(|_| factor.len() == 1);
    if inverse_count.is_none_or(|f| (f * channels as f32 - 1.0).abs() > 1e-6) {
        return Ok(None);
    }
    let Some(reduce) = single_use_producer(model, sum) else {
        return Ok(None);
    };
    let sums_the_axis = model
        .node(reduce)
        .op_as::<Reduce>()
        .is_some_and(|r| r.reducer == Reducer::Sum && r.axes[..] == [axis]);
    if !sums_the_axis || model.node(reduce).inputs[0] != input {
        return Ok(None);
    }
    // Optional affine part, each step the single reader of the one before.
    let mut output = OutletId::new(rms_node, 0);
    let mut gamma = tensor1(&vec![1f32; channels]);
    let mut beta = tensor1(&vec![0f32; channels]);
    if let Some(mul) = single_reader(model, output) {
        if let Some(values) = affine_constant::<Mul>(model, mul, output, axis, channels)? {
            gamma = values;
            output = OutletId::new(mul, 0);
        }
    }
    if let Some(add) = single_reader(model, output) {
        if let Some(values) = affine_constant::<Add>(model, add, output, axis, channels)? {
            beta = values;
            output = OutletId::new(add, 0);
        }
    }
    Ok(Some(Chain {
        input,
        output,
        op: LayerNorm {
            axis,
            eps: rms.eps.clone(),
            gamma: gamma.into_arc_tensor(),
            beta: beta.into_arc_tensor(),
        },
    }))
}

/// The node computing `outlet` when `outlet` is its only output and has exactly one reader.
fn single_use_producer(model: &TypedModel, outlet: OutletId) -> Option<usize> {
    let one_output = model.node(outlet.node).outputs.len() == 1;
    (one_output && single_reader(model, outlet).is_some()).then_some(outlet.node)
}

/// The one node reading `outlet`, unless others read it or it is a model output.
fn single_reader(model: &TypedModel, outlet: OutletId) -> Option<usize> {
    let successors = &model.outlet_successors(outlet);
    let only_output_read = successors.len() == 1 && !model.output_outlets().ok()?.contains(&outlet);
    only_output_read.then(|| successors[0].node)
}

/// For a binary node with one constant operand: the other operand and the constant.
fn bin_with_constant<Mini: BinMiniOp>(
    model: &TypedModel,
    node: usize,
) -> TractResult<Option<(OutletId, Arc<Tensor>)>> {
    if !is_bin::<Mini>(model, node) {
        return Ok(None);
    }
    let inputs = &model.node(node).inputs;
    for (value, constant) in [(0, 1), (1, 0)] {
        if let Some(k) = model.outlet_fact(inputs[constant])?.konst.clone() {
            return Ok(Some((inputs[value], k)));
        }
    }
    Ok(None)
}

/// The per-channel constant of `node = from (Mini) constant`, when it only varies along `axis`
/// (or not at all), as `channels` f32 values.
fn affine_constant<Mini: BinMiniOp>(
    model: &TypedModel,
    node: usize,
    from: OutletId,
    axis: usize,
    channels: usize,
) -> TractResult<Option<Tensor>> {
    let Some((operand, constant)) = bin_with_constant::<Mini>(model, node)? else {
        return Ok(None);
    };
    let output_shape = &model.outlet_fact(OutletId::new(node, 0))?.shape;
    if operand != from || *output_shape != model.outlet_fact(from)?.shape {
        return Ok(None);
    }
    let Ok(values) = constant.cast_to::<f32>() else {
        return Ok(None);
    };
    let values = values.try_as_plain_ram()?.as_slice::<f32>()?.to_vec();
    let rank = output_shape.rank();
    // Right-aligned broadcasting: the constant's dimension for `axis`, all others 1.
    let shape = constant.shape();
    let varies_only_along_axis = shape.len() <= rank
        && shape.iter().enumerate().all(|(i, &d)| {
            let aligned = i + rank - shape.len();
            d == 1 || (aligned == axis && d == channels)
        });
    if !varies_only_along_axis {
        return Ok(None);
    }
    let per_channel = if values.len() == channels {
        values
    } else {
        vec![values[0]; channels]
    };
    Ok(Some(tensor1(&per_channel)))
}

#[cfg(test)]
mod tests {
    use super::super::test_graphs::{
        assert_computes_the_same, count, decluttered_standin, on_one_and_two_threads, pseudo_random,
    };
    use super::*;

    /// Straightforward LayerNorm in f64, one position at a time: the reference.
    fn reference(
        data: &[f32],
        channels: usize,
        inner: usize,
        eps: f64,
        g: &[f32],
        b: &[f32],
    ) -> Vec<f32> {
        let mut out = data.to_vec();
        for (block_index, block) in data.chunks(channels * inner).enumerate() {
            for i in 0..inner {
                let values: Vec<f64> = (0..channels).map(|c| block[c * inner + i] as f64).collect();
                let mean = values.iter().sum::<f64>() / channels as f64;
                let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / channels as f64;
                for c in 0..channels {
                    let y = (values[c] - mean) / (var + eps).sqrt() * g[c] as f64 + b[c] as f64;
                    out[block_index * channels * inner + c * inner + i] = y as f32;
                }
            }
        }
        out
    }

    #[test]
    fn normalises_like_the_reference_along_a_middle_and_a_last_axis() {
        for (outer, channels, inner) in [(2, 7, 13), (1, 256, 64), (3, 5, 1), (1, 1, 4)] {
            let data = pseudo_random(outer * channels * inner, 7, -3.0, 5.0);
            let gamma = pseudo_random(channels, 11, -3.0, 5.0);
            let beta = pseudo_random(channels, 13, -3.0, 5.0);
            let mut ours = data.clone();
            normalise_in_place(&mut ours, channels, inner, 1e-5, &gamma, &beta).unwrap();
            let expected = reference(&data, channels, inner, 1e-5, &gamma, &beta);
            for (a, e) in ours.iter().zip(&expected) {
                assert!((a - e).abs() <= 2e-5 * (1.0 + e.abs()), "{a} vs {e}");
            }
        }
    }

    #[test]
    fn two_threads_give_the_bits_of_one() {
        let (channels, inner) = (64, 128 * 128);
        let data = pseudo_random(channels * inner, 5, -3.0, 5.0);
        let (gamma, beta) = (
            pseudo_random(channels, 6, -3.0, 5.0),
            pseudo_random(channels, 8, -3.0, 5.0),
        );
        let one = on_one_and_two_threads(&data, |out| {
            normalise_in_place(out, channels, inner, 1e-6, &gamma, &beta)
        });
        assert_ne!(one, data, "it normalised");
    }

    #[test]
    fn every_layer_norm_of_the_standins_is_fused_and_computes_what_the_chain_did() {
        for (file, expected) in [("edge_sam_encoder.onnx", 2), ("edge_sam_decoder.onnx", 10)] {
            let unfused = decluttered_standin(file);
            let rms_norms = count::<RmsNorm>(&unfused);
            let mut fused = unfused.clone();
            assert_eq!(fuse_layer_norms(&mut fused).unwrap(), expected, "{file}");
            assert_eq!(
                rms_norms, expected,
                "{file}: every RmsNorm was part of a LayerNorm"
            );
            assert_eq!(count::<RmsNorm>(&fused), 0, "{file}");
            assert_eq!(count::<LayerNorm>(&fused), expected, "{file}");
            assert_computes_the_same(unfused, fused, 1e-4);
        }
    }
}
