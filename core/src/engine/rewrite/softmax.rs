//! Softmax as the library's own tract op.
//!
//! The decoder's image-to-token attention takes a softmax over each image token's row of prompt
//! tokens: 8 heads x 4096 rows of `points + 5` values. tract's op runs its vector kernels once
//! per row and, when the row length is not a multiple of 4 (it is 7 for two points), falls back
//! to a per-row path with three kernel calls: measured a third of a tap for two such nodes. This
//! op does max, exponent and sum in one loop per row, with an exponent the compiler vectorises,
//! on the model's threads.

use tract_linalg::multithread::par_chunks_mut;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::nn::{Softmax as TractSoftmax, SoftmaxKind};

/// `exp(x - max) / sum(exp(x - max))` along `axis`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Softmax {
    axis: usize,
}

impl Op for Softmax {
    fn name(&self) -> StaticName {
        "EdgeSamSoftmax".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!("axis: {}", self.axis)])
    }

    op_as_typed_op!();
}

impl EvalOp for Softmax {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let shape = input.shape().to_vec();
        let mut tensor = input.into_tensor();
        ensure!(
            tensor.strides() == &*Tensor::natural_strides(&shape),
            "softmax input is not laid out row-major"
        );
        let len = shape[self.axis];
        let inner = shape[self.axis + 1..].iter().product::<usize>();
        softmax_in_place(
            tensor.try_as_plain_ram_mut()?.as_slice_mut::<f32>()?,
            len,
            inner,
        )?;
        Ok(tvec![tensor.into_tvalue()])
    }
}

impl TypedOp for Softmax {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(inputs[0].datum_type == f32::datum_type());
        ensure!(self.axis < inputs[0].rank());
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
        Ok(change.transform_axis(self.axis).map(|axis| {
            AxisChangeConsequence::new(model, node, Some(Box::new(Softmax { axis })), change)
        }))
    }

    as_op!();
}

/// Registers the op's NNEF dumper and loader with the library's registry (`engine::cache`):
/// `edgesam_softmax(input, axis = ...)`.
pub(crate) fn register_nnef(registry: &mut tract_nnef::internal::Registry) {
    use tract_nnef::internal::TypeName;
    registry.register_dumper(dump_nnef);
    registry.register_primitive(
        NNEF_NAME,
        &[
            TypeName::Scalar.tensor().named("input"),
            TypeName::Integer.named("axis"),
        ],
        &[("output", TypeName::Scalar.tensor())],
        load_nnef,
    );
}

/// Wires a softmax along `axis` of `input`, for tests of the code that saves and loads graphs.
#[cfg(test)]
pub(crate) fn wire_for_tests(model: &mut TypedModel, input: OutletId, axis: usize) -> OutletId {
    model
        .wire_node("softmax", Softmax { axis }, &[input])
        .unwrap()[0]
}

const NNEF_NAME: &str = "edgesam_softmax";

fn dump_nnef(
    ast: &mut tract_nnef::internal::IntoAst,
    node: &TypedNode,
    op: &Softmax,
) -> TractResult<Option<Arc<tract_nnef::internal::RValue>>> {
    use tract_nnef::internal::{invocation, numeric};
    let input = ast.mapping[&node.inputs[0]].clone();
    Ok(Some(invocation(
        NNEF_NAME,
        &[input],
        &[("axis", numeric(op.axis))],
    )))
}

fn load_nnef(
    builder: &mut tract_nnef::internal::ModelBuilder,
    invocation: &tract_nnef::internal::ResolvedInvocation,
) -> TractResult<tract_nnef::internal::Value> {
    let input = invocation.named_arg_as(builder, "input")?;
    let op = Softmax {
        axis: invocation.named_arg_as(builder, "axis")?,
    };
    builder.wire(op, &[input])
}

/// Softmax of `data`, viewed as blocks of `[len, inner]` taken along `len`, in place. Blocks (or
/// rows, when `inner` is 1) are spread over tract's current executor; each is computed whole by
/// one thread, so the result does not depend on the thread count.
pub fn softmax_in_place(data: &mut [f32], len: usize, inner: usize) -> TractResult<()> {
    let block = len * inner;
    if block == 0 {
        return Ok(());
    }
    ensure!(
        data.len().is_multiple_of(block),
        "softmax data is not whole blocks"
    );
    let total = data.len();
    par_chunks_mut(data, block, total, |_, chunk| {
        if inner > 1 {
            let mut columns = Columns::new(inner);
            chunk
                .chunks_exact_mut(block)
                .for_each(|block| columns.softmax(block));
        } else if len < SHORT_ROW {
            short_rows(chunk, len);
        } else {
            chunk.chunks_exact_mut(len).for_each(softmax_row);
        }
        Ok(())
    })
}

/// Rows shorter than this are turned into columns, a group at a time, so that the work runs
/// across rows in vector lanes instead of along a row too short to fill them.
const SHORT_ROW: usize = 32;
const GROUP: usize = 64;

/// Softmax of each contiguous `len`-value row of `rows`, `len` short: each group of [`GROUP`]
/// rows is transposed into a `[len, GROUP]` block, taken down its columns and transposed back.
fn short_rows(rows: &mut [f32], len: usize) {
    let mut columns = Columns::new(GROUP);
    let mut block = vec![0f32; len * GROUP];
    for group in rows.chunks_mut(len * GROUP) {
        let count = group.len() / len;
        let block = &mut block[..len * count];
        if count < GROUP {
            columns = Columns::new(count);
        }
        for (r, row) in group.chunks_exact(len).enumerate() {
            row.iter()
                .enumerate()
                .for_each(|(l, &x)| block[l * count + r] = x);
        }
        columns.softmax(block);
        for (r, row) in group.chunks_exact_mut(len).enumerate() {
            row.iter_mut()
                .enumerate()
                .for_each(|(l, x)| *x = block[l * count + r]);
        }
    }
}

/// Softmax of one contiguous row. Max and sum run in [`LANES`] partial results, so that they
/// vectorise (each row is still reduced in the same order whatever the thread count).
fn softmax_row(row: &mut [f32]) {
    let max = lane_reduce(row, f32::NEG_INFINITY, f32::max);
    row.iter_mut().for_each(|x| *x = exp_non_positive(*x - max));
    let scale = 1.0 / lane_reduce(row, 0.0, |a, b| a + b);
    row.iter_mut().for_each(|x| *x *= scale);
}

const LANES: usize = 8;

/// `values` folded with `op` into [`LANES`] partial results, then those together.
fn lane_reduce(values: &[f32], start: f32, op: impl Fn(f32, f32) -> f32) -> f32 {
    let mut lanes = [start; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder().iter().fold(start, |a, &b| op(a, b));
    for chunk in chunks {
        lanes
            .iter_mut()
            .zip(chunk)
            .for_each(|(l, &x)| *l = op(*l, x));
    }
    lanes.iter().fold(rest, |a, &b| op(a, b))
}

/// Softmax down the columns of row-major `[len, width]` blocks, a row of the block at a time
/// so that the loops run along contiguous memory; holds the per-column max and sum.
struct Columns {
    max: Vec<f32>,
    sum: Vec<f32>,
}

impl Columns {
    fn new(width: usize) -> Self {
        Columns {
            max: vec![0.0; width],
            sum: vec![0.0; width],
        }
    }

    fn softmax(&mut self, block: &mut [f32]) {
        let width = self.max.len();
        self.max.fill(f32::NEG_INFINITY);
        for row in block.chunks_exact(width) {
            self.max
                .iter_mut()
                .zip(row)
                .for_each(|(m, &x)| *m = m.max(x));
        }
        self.sum.fill(0.0);
        for row in block.chunks_exact_mut(width) {
            for ((x, m), s) in row.iter_mut().zip(&self.max).zip(&mut self.sum) {
                *x = exp_non_positive(*x - m);
                *s += *x;
            }
        }
        self.sum.iter_mut().for_each(|s| *s = 1.0 / *s);
        for row in block.chunks_exact_mut(width) {
            row.iter_mut().zip(&self.sum).for_each(|(x, s)| *x *= s);
        }
    }
}

/// `e^x` for `x <= 0` (a softmax's `x - max`), within 2 ulp of the exact value, written without
/// branches or calls so that loops over it vectorise: `x = n ln2 + r` with `|r| <= ln2 / 2`,
/// `e^r` by its degree-7 Taylor polynomial (the first term left out is below 1e-8), `2^n` put
/// straight into the exponent bits. Below -87 (where `e^x` leaves the normal floats) it gives
/// `e^-87`, which no softmax sum can notice.
#[inline(always)]
pub fn exp_non_positive(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in two so that `n * LN2_HI` is exact for the `n` that occur.
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let x = x.clamp(-87.0, 0.0);
    // Rounds to the nearest integer by adding and taking away 1.5 * 2^23 (`f32::round` is a
    // library call on baseline x86-64, which would stop the vectorising).
    // The sum's low mantissa bits then hold `n` offset by 2^22, taken as they are for `2^n`
    // below (a float-to-int conversion does not vectorise on baseline x86-64 either).
    const ROUNDER: f32 = 12_582_912.0;
    let shifted = x * LOG2_E + ROUNDER;
    let n = shifted - ROUNDER;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (1.0 / 2.0
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    // n is in [-126, 0]: 2^n is a normal float, its exponent field n + 127.
    let two_to_n = f32::from_bits(shifted.to_bits().wrapping_sub(0x40_0000 - 127) << 23);
    p * two_to_n
}

/// Replaces every f32 softmax of `model` by the library's [`Softmax`]; returns how many.
pub fn use_library_softmax(model: &mut TypedModel) -> TractResult<usize> {
    let mut replaced = 0;
    for node in model.eval_order()? {
        let node = model.node(node);
        let Some(op) = node.op_as::<TractSoftmax>() else {
            continue;
        };
        let input = model.outlet_fact(node.inputs[0])?;
        let axis = match op.axes.as_slice() {
            [axis] => *axis,
            _ => continue,
        };
        if op.kind != SoftmaxKind::Softmax
            || op.quant_output_dt.is_some()
            || input.datum_type != f32::datum_type()
        {
            continue;
        }
        let patch =
            TypedModelPatch::replace_single_op(model, node, &node.inputs, Softmax { axis })?;
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

    /// Softmax in f64 along `len` of `[outer, len, inner]`: the reference.
    fn reference(data: &[f32], len: usize, inner: usize) -> Vec<f32> {
        let mut out = vec![0f32; data.len()];
        for (b, block) in data.chunks(len * inner).enumerate() {
            for i in 0..inner {
                let column: Vec<f64> = (0..len).map(|l| block[l * inner + i] as f64).collect();
                let max = column.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = column.iter().map(|v| (v - max).exp()).sum();
                for (l, v) in column.iter().enumerate() {
                    out[b * len * inner + l * inner + i] = ((v - max).exp() / sum) as f32;
                }
            }
        }
        out
    }

    #[test]
    fn the_exponent_is_within_2_ulp_of_the_exact_one_down_to_minus_87() {
        let mut x = 0f32;
        while x >= -87.0 {
            let exact = (x as f64).exp();
            let ulp = (exact as f32)
                .to_bits()
                .abs_diff(exp_non_positive(x).to_bits());
            assert!(ulp <= 2, "e^{x}: {} vs {exact}", exp_non_positive(x));
            x -= 0.000_731;
        }
        assert_eq!(exp_non_positive(0.0), 1.0);
        assert!(exp_non_positive(-1000.0) > 0.0 && exp_non_positive(-1000.0) < 1e-37);
        assert_eq!(exp_non_positive(f32::NEG_INFINITY), exp_non_positive(-87.0));
    }

    #[test]
    fn rows_and_columns_match_the_reference() {
        for (outer, len, inner, spread) in [
            (3, 7, 1, 10.0),
            (2, 4096, 1, 40.0),
            (4, 1, 1, 1.0),
            (2, 9, 13, 60.0),
            (1, 5, 4096, 8.0),
            (8 * 64 + 3, 7, 1, 30.0),
            (130, 31, 1, 30.0),
            (3, 32, 1, 30.0),
        ] {
            let data = pseudo_random(outer * len * inner, 9, -spread / 2.0, spread / 2.0);
            let mut ours = data.clone();
            softmax_in_place(&mut ours, len, inner).unwrap();
            let expected = reference(&data, len, inner);
            for (a, e) in ours.iter().zip(&expected) {
                assert!((a - e).abs() <= 1e-6 + 4e-6 * e, "{a} vs {e}");
            }
        }
    }

    #[test]
    fn two_threads_give_the_bits_of_one() {
        let (rows, len) = (8 * 4096, 7);
        let data = pseudo_random(rows * len, 5, -15.0, 15.0);
        let one = on_one_and_two_threads(&data, |out| softmax_in_place(out, len, 1));
        assert_ne!(one, data, "it computed");
    }

    #[test]
    fn every_softmax_of_the_decoder_standin_is_replaced_and_computes_what_tract_did() {
        let original = decluttered_standin("edge_sam_decoder.onnx");
        let softmaxes = count::<TractSoftmax>(&original);
        assert_eq!(
            softmaxes, 7,
            "two-way transformer: 2 layers x 3 + the final attention"
        );
        let mut ours = original.clone();
        assert_eq!(use_library_softmax(&mut ours).unwrap(), softmaxes);
        assert_eq!(count::<TractSoftmax>(&ours), 0);
        assert_eq!(count::<Softmax>(&ours), softmaxes);
        assert_computes_the_same(original, ours, 1e-4);
    }
}
