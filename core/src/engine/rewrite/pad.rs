//! Zero padding of images as the library's own tract op.
//!
//! tract pads a convolution's input itself where its im2col path needs it: the encoder's stem
//! (24 channels at 512x512) and neck. Its Pad op fills a new array with zeros, then copies the
//! input into a strided view of it, element by element on one thread: measured 29 ms of an encode
//! on one thread and 39 on two. This op writes each output row once (zeros, the input row, zeros)
//! and spreads the rows over the model's threads.

use tract_linalg::multithread::par_chunks_mut;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::array::{Pad as TractPad, PadMode};

/// Zeros around the last two axes of an f32 tensor: `rows` before and after the second-last,
/// `columns` before and after the last.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ZeroPad {
    rows: (usize, usize),
    columns: (usize, usize),
}

impl ZeroPad {
    fn output_shape<D: DimLike>(&self, input: &[D]) -> TVec<D> {
        let mut shape: TVec<D> = input.into();
        let rank = shape.len();
        shape[rank - 2] = shape[rank - 2].clone() + self.rows.0 + self.rows.1;
        shape[rank - 1] = shape[rank - 1].clone() + self.columns.0 + self.columns.1;
        shape
    }
}

impl Op for ZeroPad {
    fn name(&self) -> StaticName {
        "EdgeSamZeroPad".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!(
            "rows: {:?}, columns: {:?}",
            self.rows, self.columns
        )])
    }

    op_as_typed_op!();
}

impl EvalOp for ZeroPad {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let shape = input.shape();
        let rank = shape.len();
        let (height, width) = (shape[rank - 2], shape[rank - 1]);
        let input = input.try_as_plain_ram()?;
        let input = input.as_slice::<f32>()?;
        // Every value is written below.
        let mut output = unsafe { Tensor::uninitialized::<f32>(&self.output_shape(shape))? };
        {
            let mut plain = output.try_as_plain_ram_mut()?;
            pad_planes(
                input,
                plain.as_slice_mut::<f32>()?,
                (height, width),
                self.rows,
                self.columns,
            )?;
        }
        Ok(tvec![output.into_tvalue()])
    }
}

impl TypedOp for ZeroPad {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(inputs[0].datum_type == f32::datum_type());
        ensure!(inputs[0].rank() >= 2);
        Ok(tvec!(f32::fact(self.output_shape(&inputs[0].shape))))
    }

    as_op!();
}

/// Writes into `output` the planes of `input` (`height x width` each) with `rows` and `columns`
/// of zeros around them. Spread over tract's current executor by output rows.
pub fn pad_planes(
    input: &[f32],
    output: &mut [f32],
    (height, width): (usize, usize),
    rows: (usize, usize),
    columns: (usize, usize),
) -> TractResult<()> {
    let (padded_height, padded_width) = (height + rows.0 + rows.1, width + columns.0 + columns.1);
    ensure!(height * width > 0 && input.len().is_multiple_of(height * width));
    ensure!(output.len() == input.len() / (height * width) * padded_height * padded_width);
    let total = output.len();
    par_chunks_mut(output, padded_width, total, |first_row, chunk| {
        for (index, row) in chunk.chunks_exact_mut(padded_width).enumerate() {
            let row_index = first_row + index;
            let (plane, y) = (row_index / padded_height, row_index % padded_height);
            if y < rows.0 || y >= rows.0 + height {
                row.fill(0.0);
                continue;
            }
            let source = (plane * height + y - rows.0) * width;
            let (left, rest) = row.split_at_mut(columns.0);
            let (middle, right) = rest.split_at_mut(width);
            left.fill(0.0);
            middle.copy_from_slice(&input[source..source + width]);
            right.fill(0.0);
        }
        Ok(())
    })
}

/// Replaces every f32 zero padding of the last two axes of `model`, an optimised graph, by the
/// library's [`ZeroPad`]; returns how many.
pub fn use_library_pad(model: &mut TypedModel) -> TractResult<usize> {
    let mut replaced = 0;
    for node in model.eval_order()? {
        let node = model.node(node);
        let Some(pad) = node.op_as::<TractPad>() else {
            continue;
        };
        let rank = pad.pads.len();
        let zero = match &pad.mode {
            PadMode::Constant(value) => value.cast_to_scalar::<f32>().is_ok_and(|v| v == 0.0),
            _ => false,
        };
        if !zero
            || rank < 2
            || model.outlet_fact(node.inputs[0])?.datum_type != f32::datum_type()
            || pad.pads[..rank - 2].iter().any(|&p| p != (0, 0))
        {
            continue;
        }
        let op = ZeroPad {
            rows: pad.pads[rank - 2],
            columns: pad.pads[rank - 1],
        };
        let patch = TypedModelPatch::replace_single_op(model, node, &node.inputs, op)?;
        patch.apply(model)?;
        replaced += 1;
    }
    Ok(replaced)
}

#[cfg(test)]
mod tests {
    use super::super::test_graphs::{on_one_and_two_threads, pseudo_random};
    use super::*;

    /// Padding written out index by index: the reference.
    fn reference(
        input: &[f32],
        (planes, height, width): (usize, usize, usize),
        rows: (usize, usize),
        columns: (usize, usize),
    ) -> Vec<f32> {
        let (h, w) = (height + rows.0 + rows.1, width + columns.0 + columns.1);
        let mut out = vec![0f32; planes * h * w];
        for p in 0..planes {
            for y in 0..height {
                for x in 0..width {
                    out[(p * h + y + rows.0) * w + x + columns.0] =
                        input[(p * height + y) * width + x];
                }
            }
        }
        out
    }

    #[test]
    fn pads_like_the_reference_on_one_and_two_threads() {
        for ((planes, height, width), rows, columns) in [
            ((24, 512, 512), (1, 1), (1, 1)),
            ((3, 5, 7), (2, 0), (0, 3)),
            ((1, 1, 1), (0, 0), (0, 0)),
        ] {
            let input = pseudo_random(planes * height * width, 4, -1.0, 1.0);
            let expected = reference(&input, (planes, height, width), rows, columns);
            let output = on_one_and_two_threads(&vec![f32::NAN; expected.len()], |output| {
                pad_planes(&input, output, (height, width), rows, columns)
            });
            assert!(
                output == expected,
                "{planes}x{height}x{width} {rows:?} {columns:?}"
            );
        }
    }
}
