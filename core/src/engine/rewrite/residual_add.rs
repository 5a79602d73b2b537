//! Residual additions after a matrix product, kept out of the product.
//!
//! tract fuses `product + residual` into the matrix product's epilogue. Where the product's
//! output is laid out with its rows (the image tokens) along the contiguous axis, as the decoder's
//! image-to-token attention output `[1, 256, 4096]`, tract's AVX2 kernel reads the residual tile by
//! tile with gather instructions: measured 15 ms for an out-projection whose product alone takes
//! 5. This op adds the two tensors itself, in place, on the model's threads, and tract cannot fuse
//! it. Only the decoder uses it: the encoder's 27 convolution residuals measured no clear gain.

use tract_linalg::multithread::par_chunks_mut;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::einsum::EinSum;
use tract_onnx::tract_core::ops::math::Add;

use super::is_bin;

/// `a + b`, both f32 of one shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ResidualAdd;

impl Op for ResidualAdd {
    fn name(&self) -> StaticName {
        "EdgeSamResidualAdd".into()
    }

    op_as_typed_op!();
}

impl EvalOp for ResidualAdd {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let (a, b) = args_2!(inputs);
        let mut sum = a.into_tensor();
        let addend = b.try_as_plain_ram()?;
        let addend = addend.as_slice::<f32>()?;
        let mut sum_values = sum.try_as_plain_ram_mut()?;
        add_in_place(sum_values.as_slice_mut::<f32>()?, addend)?;
        Ok(tvec![sum.into_tvalue()])
    }
}

/// `sum += addend`, value by value, spread over tract's current executor.
pub fn add_in_place(sum: &mut [f32], addend: &[f32]) -> TractResult<()> {
    ensure!(sum.len() == addend.len(), "residual add of two sizes");
    let total = sum.len();
    par_chunks_mut(sum, 1, total, |first, chunk| {
        chunk
            .iter_mut()
            .zip(&addend[first..])
            .for_each(|(s, x)| *s += x);
        Ok(())
    })
}

impl TypedOp for ResidualAdd {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(inputs.iter().all(|f| f.datum_type == f32::datum_type()));
        ensure!(inputs[0].shape == inputs[1].shape);
        Ok(tvec!(f32::fact(inputs[0].shape.clone())))
    }

    fn axes_mapping(
        &self,
        inputs: &[&TypedFact],
        outputs: &[&TypedFact],
    ) -> TractResult<AxesMapping> {
        AxesMapping::natural(inputs, outputs)
    }

    fn change_axes(
        &self,
        model: &TypedModel,
        node: &TypedNode,
        _io: InOut,
        change: &AxisOp,
    ) -> TractResult<Option<AxisChangeConsequence>> {
        Ok(Some(AxisChangeConsequence::new(
            model,
            node,
            Some(Box::new(self.clone())),
            change,
        )))
    }

    as_op!();
}

/// Registers the op's NNEF dumper and loader with the library's registry (`engine::cache`):
/// `edgesam_residual_add(a, b)`.
pub(crate) fn register_nnef(registry: &mut tract_nnef::internal::Registry) {
    use tract_nnef::internal::TypeName;
    registry.register_dumper(dump_nnef);
    registry.register_primitive(
        NNEF_NAME,
        &[
            TypeName::Scalar.tensor().named("a"),
            TypeName::Scalar.tensor().named("b"),
        ],
        &[("output", TypeName::Scalar.tensor())],
        load_nnef,
    );
}

const NNEF_NAME: &str = "edgesam_residual_add";

fn dump_nnef(
    ast: &mut tract_nnef::internal::IntoAst,
    node: &TypedNode,
    _op: &ResidualAdd,
) -> TractResult<Option<Arc<tract_nnef::internal::RValue>>> {
    use tract_nnef::internal::invocation;
    let a = ast.mapping[&node.inputs[0]].clone();
    let b = ast.mapping[&node.inputs[1]].clone();
    Ok(Some(invocation(NNEF_NAME, &[a, b], &[])))
}

fn load_nnef(
    builder: &mut tract_nnef::internal::ModelBuilder,
    invocation: &tract_nnef::internal::ResolvedInvocation,
) -> TractResult<tract_nnef::internal::Value> {
    let a = invocation.named_arg_as(builder, "a")?;
    let b = invocation.named_arg_as(builder, "b")?;
    builder.wire(ResidualAdd, &[a, b])
}

/// Whether `outlet` is a matrix product's output, its bias added or not, whose last axis is one
/// of its first operand's free axes: the layout whose fused residual tract reads by gathers.
fn is_product_with_rows_last(model: &TypedModel, outlet: OutletId) -> bool {
    let mut node = model.node(outlet.node);
    if is_bin::<Add>(model, node.id) {
        let constant = |i: usize| {
            model
                .outlet_fact(node.inputs[i])
                .is_ok_and(|f| f.konst.is_some())
        };
        match (constant(0), constant(1)) {
            (false, true) => node = model.node(node.inputs[0].node),
            (true, false) => node = model.node(node.inputs[1].node),
            _ => return false,
        }
    }
    let Some(einsum) = node.op_as::<EinSum>() else {
        return false;
    };
    let axes = &einsum.axes;
    let Some(last) = axes.iter_all_axes().find(|axis| {
        axis.outputs[0]
            .first()
            .is_some_and(|&position| position + 1 == axes.rank(InOut::Out(0)))
    }) else {
        return false;
    };
    !last.inputs[0].is_empty() && last.inputs[1].is_empty()
}

/// Replaces every f32 addition of a matrix product laid out rows-last (see the module) and a
/// tensor of the same shape by [`ResidualAdd`]; returns how many.
pub fn keep_residuals_apart(model: &mut TypedModel) -> TractResult<usize> {
    let mut replaced = 0;
    for node in model.eval_order()? {
        if !is_bin::<Add>(model, node) {
            continue;
        }
        let node = model.node(node);
        let (a, b) = (
            model.outlet_fact(node.inputs[0])?,
            model.outlet_fact(node.inputs[1])?,
        );
        if a.datum_type != f32::datum_type()
            || b.datum_type != f32::datum_type()
            || a.shape != b.shape
            || a.konst.is_some()
            || b.konst.is_some()
            || !node
                .inputs
                .iter()
                .any(|&input| is_product_with_rows_last(model, input))
        {
            continue;
        }
        let patch = TypedModelPatch::replace_single_op(model, node, &node.inputs, ResidualAdd)?;
        patch.apply(model)?;
        replaced += 1;
    }
    Ok(replaced)
}

#[cfg(test)]
mod tests {
    use super::super::test_graphs::{
        assert_computes_the_same, count, decluttered_standin, on_one_and_two_threads, pseudo_random,
    };
    use super::*;

    #[test]
    fn adds_every_value_on_one_and_two_threads() {
        let len = 256 * 4096 + 3;
        let (a, b) = (
            pseudo_random(len, 1, -4.0, 4.0),
            pseudo_random(len, 2, -4.0, 4.0),
        );
        let expected: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
        assert_eq!(
            on_one_and_two_threads(&a, |sum| add_in_place(sum, &b)),
            expected
        );
    }

    #[test]
    fn the_decoder_standin_keeps_its_two_image_side_residuals_apart_and_computes_the_same() {
        let original = decluttered_standin("edge_sam_decoder.onnx");
        let mut ours = original.clone();
        assert_eq!(
            keep_residuals_apart(&mut ours).unwrap(),
            2,
            "the image-to-token attention's output, once per transformer layer"
        );
        assert_eq!(count::<ResidualAdd>(&ours), 2);
        let mut again = ours.clone();
        assert_eq!(keep_residuals_apart(&mut again).unwrap(), 0);
        assert_computes_the_same(original, ours, 1e-5);
    }
}
