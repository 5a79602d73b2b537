//! What the rewrites' tests share: seeded values, the tiny stand-in graphs as tract declutters
//! them, and a check that a rewritten graph computes what the original did.

use tract_onnx::prelude::{Framework, InferenceModelExt};
use tract_onnx::tract_core::internal::*;

/// `count` values spread evenly over `[low, high)` by a seeded linear congruential generator.
pub fn pseudo_random(count: usize, seed: u32, low: f32, high: f32) -> Vec<f32> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1u32 << 24) as f32 * (high - low) + low
        })
        .collect()
}

/// A tiny stand-in model file (`models/standins.py` makes them), parsed and decluttered.
pub fn decluttered_standin(file: &str) -> TypedModel {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models/generated/tiny")
        .join(file);
    assert!(
        path.exists(),
        "{path:?} missing: run models/standins.py first"
    );
    let mut model = tract_onnx::onnx().model_for_path(path).unwrap();
    for output in 0..model.outputs.len() {
        model.set_output_fact(output, Default::default()).unwrap();
    }
    model.into_typed().unwrap().into_decluttered().unwrap()
}

/// How many nodes of `model` run op `O`.
pub fn count<O: Op>(model: &TypedModel) -> usize {
    model.nodes().iter().filter(|n| n.op_is::<O>()).count()
}

/// Inputs for a stand-in: two points (a positive and a negative one), seeded values otherwise.
fn inputs(model: &TypedModel) -> TVec<TValue> {
    let mut inputs = tvec![];
    for (index, outlet) in model.input_outlets().unwrap().iter().enumerate() {
        let fact = model.outlet_fact(*outlet).unwrap();
        let shape: Vec<usize> = fact
            .shape
            .iter()
            .map(|d| d.to_usize().unwrap_or(2))
            .collect();
        let len = shape.iter().product();
        let values = match model.node(outlet.node).name.as_str() {
            "point_labels" => (0..len).map(|i| (i % 2) as f32).collect(),
            "point_coords" => pseudo_random(len, 3, 0.0, 800.0),
            _ => pseudo_random(len, 17 + index as u32, -3.0, 5.0),
        };
        inputs.push(Tensor::from_shape(&shape, &values).unwrap().into_tvalue());
    }
    inputs
}

/// Optimises both graphs, runs them on the same stand-in inputs and asserts that every output
/// of `rewritten` is within `tolerance` of the largest value of the `original`'s.
pub fn assert_computes_the_same(original: TypedModel, rewritten: TypedModel, tolerance: f32) {
    let run = |model: TypedModel| {
        let plan = model.into_optimized().unwrap().into_runnable().unwrap();
        plan.run(inputs(plan.model())).unwrap()
    };
    let (before, after) = (run(original), run(rewritten));
    assert_eq!(before.len(), after.len());
    for (index, (b, a)) in before.iter().zip(&after).enumerate() {
        let (b, a) = (b.try_as_plain_ram().unwrap(), a.try_as_plain_ram().unwrap());
        let (b, a) = (b.as_slice::<f32>().unwrap(), a.as_slice::<f32>().unwrap());
        assert_eq!(b.len(), a.len());
        let scale = b.iter().fold(1f32, |m, v| m.max(v.abs()));
        let worst = b
            .iter()
            .zip(a)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(
            worst <= tolerance * scale,
            "output {index} differs by {worst} (values up to {scale})"
        );
    }
}

/// `compute` run in place on a copy of `start`, on one thread and on two: asserts that both give
/// the same bits, and returns them.
pub fn on_one_and_two_threads(
    start: &[f32],
    compute: impl Fn(&mut [f32]) -> TractResult<()>,
) -> Vec<f32> {
    use tract_linalg::multithread::{multithread_tract_scope, Executor};
    let run = |executor: Executor| {
        let mut out = start.to_vec();
        multithread_tract_scope(executor, || compute(&mut out)).unwrap();
        out
    };
    let (one, two) = (run(Executor::SingleThread), run(Executor::multithread(2)));
    assert!(
        one.len() == two.len()
            && one
                .iter()
                .zip(&two)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
        "one and two threads disagree"
    );
    one
}
