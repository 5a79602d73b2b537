//! Where a graph's time goes: the wall time of each node, summed by op (tract's name for it after
//! optimisation: `OptMatMul`, `DepthWise`, `LayerNorm`, ...), for `edgesam bench --profile`.
//!
//! Nodes run one after the other (an op uses the model's threads inside), so the families' times
//! add up to the run's.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tract_onnx::tract_core::prelude::{
    TValue, TVec, TractResult, TypedSimplePlan, TypedSimpleState,
};

/// One op family's share of a graph's run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OpTime {
    /// tract's name of the op.
    pub op: String,
    /// Nodes of this op in the graph.
    pub nodes: usize,
    /// Milliseconds per run, all its nodes together.
    pub ms: f64,
}

/// Sums node times by op over several runs of one graph.
#[derive(Debug, Default)]
pub(crate) struct OpClock {
    /// Op name -> (evaluations, time).
    times: Mutex<BTreeMap<String, (usize, Duration)>>,
}

impl OpClock {
    /// Times `eval`, a node of op `op`, and adds it to the op's sum.
    pub(crate) fn time<R>(&self, op: &str, eval: impl FnOnce() -> R) -> R {
        let started = Instant::now();
        let result = eval();
        self.add(op, started.elapsed());
        result
    }

    fn add(&self, op: &str, elapsed: Duration) {
        let mut times = self.times.lock().unwrap_or_else(|p| p.into_inner());
        let entry = times.entry(op.to_owned()).or_default();
        entry.0 += 1;
        entry.1 += elapsed;
    }

    /// Per run of `runs`: the op families, slowest first.
    pub(crate) fn per_run(&self, runs: usize) -> Vec<OpTime> {
        let runs = runs.max(1);
        let times = self.times.lock().unwrap_or_else(|p| p.into_inner());
        let mut families: Vec<OpTime> = times
            .iter()
            .map(|(op, &(evaluations, time))| OpTime {
                op: op.clone(),
                nodes: evaluations / runs,
                ms: time.as_secs_f64() * 1e3 / runs as f64,
            })
            .collect();
        families.sort_by(|a, b| b.ms.total_cmp(&a.ms).then_with(|| a.op.cmp(&b.op)));
        families
    }
}

/// Runs `plan`, timing each node on `clock` when there is one.
pub(crate) fn run_plan(
    plan: &Arc<TypedSimplePlan>,
    inputs: TVec<TValue>,
    clock: Option<&OpClock>,
) -> TractResult<TVec<TValue>> {
    let Some(clock) = clock else {
        return plan.run(inputs);
    };
    let mut state = TypedSimpleState::new(plan)?;
    state.run_plan_with_eval(inputs, |ctx, op_state, node, inputs| {
        clock.time(&node.op.name(), || {
            tract_onnx::tract_core::plan::eval(ctx, op_state, node, inputs)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_summed_by_op_and_given_per_run_slowest_first() {
        let clock = OpClock::default();
        for _ in 0..2 {
            clock.add("Fast", Duration::from_millis(1));
            clock.add("Slow", Duration::from_millis(3));
            clock.add("Slow", Duration::from_millis(5));
        }
        assert_eq!(
            clock.per_run(2),
            [
                OpTime {
                    op: "Slow".into(),
                    nodes: 2,
                    ms: 8.0
                },
                OpTime {
                    op: "Fast".into(),
                    nodes: 1,
                    ms: 1.0
                }
            ]
        );
        assert_eq!(clock.time("Fast", || 7), 7);
        assert_eq!(clock.per_run(1)[1].nodes, 3);
    }
}
