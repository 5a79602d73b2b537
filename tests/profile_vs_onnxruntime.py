#!/usr/bin/env python3
"""Where each graph's time goes, op by op: the Rust library (tract, `edgesam bench --profile`) beside
onnxruntime's own profiler, on the same model files, photo and cores.

    .venv/bin/python tests/profile_vs_onnxruntime.py --size full --runs 5 --threads 1,2

Models, photo and 2-point prompt as in tests/latency_vs_onnxruntime.py. For each thread count T, two
fresh processes:
  - onnxruntime (CPU provider, intra_op_num_threads=T, inter_op 1, sequential) with profiling on, a
    child process of this script: the encoder on the pre-processed photo, then the decoder with 2
    points, one warm-up and `runs` runs each. From the trace it writes: each node's kernel time,
    summed by op type (onnxruntime's names after its own fusions: Conv, FusedConv, MatMul, ...), and
    each run's whole time (`model_run`), which also counts what it spends between kernels;
  - `edgesam bench --image PHOTO --points 2 --runs R --threads T --profile --json`: tract's ops
    (OptMatMul, DepthWiseConv, ...) for the encoder, the decoder's once-per-photo part and its
    per-tap part, timed node by node.
Prints, per thread count and graph, the two engines' ops side by side (nodes, ms per run, share),
slowest first; the decoder is onnxruntime's whole graph against the library's per-photo and per-tap
parts together. Op names do not map one to one, so each op also falls in a coarse group (GROUPS)
and a third table compares the groups. Then one JSON line with every figure. Figures are means
per run, so the ops add up to the totals. Profiling costs both engines a little (onnxruntime
records memory figures per node, the library times each node apart). A benchmark, not a test:
nothing is asserted.
"""
from __future__ import annotations

import argparse
import bisect
import json
import re
import tempfile
from collections import defaultdict
from pathlib import Path

import latency_vs_onnxruntime as latency
from latency_vs_onnxruntime import ref

# Coarse groups: short name (the per-op tables' column), label, op names of both engines (tract's
# without their parameters: `Reduce<Sum>` is `Reduce`). tract runs packing, im2col and col2im as
# nodes of their own; onnxruntime does them inside its Conv/MatMul kernels, so the first two
# groups are best read together. An op in neither engine's list lands in "other".
GROUPS = [
    ("matmul/conv", "matrix products & convs", {
        "Conv", "FusedConv", "ConvTranspose", "MatMul", "FusedMatMul", "Gemm", "FusedGemm",
        "OptMatMul", "DepthWiseConv", "DirectSpatialConv"}),
    ("data move", "data movement (pack, pad, reshape, transpose, concat, resize)", {
        "OptMatMulPack", "LazyIm2col", "Im2col", "DeconvSum", "ReorderInput", "ReorderOutput", "Pad", "EdgeSamZeroPad",
        "IntoShape", "Reshape", "AddAxis", "RmAxis", "Unsqueeze", "Squeeze", "Flatten", "Transpose",
        "MoveAxis", "Concat", "TypedConcat", "Slice", "Gather", "Expand", "MultiBroadcastTo", "Tile",
        "Resize", "Identity"}),
    ("norm", "normalisation", {
        "LayerNormalization", "SimplifiedLayerNormalization", "SkipLayerNormalization", "EdgeSamLayerNorm",
        "RmsNorm", "BatchNormalization"}),
    ("softmax", "attention softmax", {"Softmax", "EdgeSamSoftmax"}),
    ("reduce", "reductions (means, sums)", {"ReduceMean", "ReduceSum", "Reduce", "GlobalAveragePool"}),
    ("elementwise", "element-wise/activation", {
        "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Recip", "Max", "Min", "Neg", "Abs", "Exp", "Erf",
        "Sin", "Cos", "Tanh", "Sigmoid", "Relu", "Gelu", "GeluExact", "HardSigmoid", "HardSwish", "Clip",
        "Not", "Equal", "Eq", "Greater", "GT", "Less", "Where", "Cast", "OptAddUnicast", "EdgeSamResidualAdd",
        "OptAddByScalar", "OptSubUnicast", "OptSubByScalar", "OptMulUnicast", "OptMulByScalar",
        "OptBinChain"}),
    ("other", "other (shapes, one-hot, inputs)", set()),
]
GROUP_OF = {op: short for short, _, ops in GROUPS for op in ops}
GRAPHS = ("encoder", "decoder")


def group(op: str) -> str:
    return GROUP_OF.get(re.split(r"[(<]", op, maxsplit=1)[0], "other")


def trace_profile(trace: Path) -> dict:
    """One session's onnxruntime trace -> its ops per run (the first run, the warm-up, left out)."""
    events = json.loads(trace.read_text())
    # Nodes run inside their `model_run` in order, so a node belongs to the last run started before it.
    model_runs = sorted((e for e in events if e.get("name") == "model_run"), key=lambda e: e["ts"])
    starts = [r["ts"] for r in model_runs]
    timed = model_runs[1:]
    per_op = defaultdict(lambda: [0, [0.0] * len(timed)])  # op type -> [node evaluations, ms per run]
    for e in events:
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time"):
            continue
        run = bisect.bisect_right(starts, e["ts"]) - 1
        if run < 1:
            continue
        family = per_op[e["args"]["op_name"]]
        family[0] += 1
        family[1][run - 1] += e["dur"] / 1e3
    ops = [{"op": op, "nodes": n // max(len(timed), 1), "ms": sum(ms) / max(len(ms), 1), "ms_per_run": ms}
           for op, (n, ms) in per_op.items()]
    run_ms = [r["dur"] / 1e3 for r in timed]
    return {"trace": str(trace), "ops": sorted(ops, key=lambda o: -o["ms"]), "model_run_ms_per_run": run_ms,
            "model_run_ms": sum(run_ms) / max(len(run_ms), 1)}


def onnxruntime_profile(enc: Path, dec: Path, photo: Path, threads: int, runs: int) -> dict:
    """Runs in a child process of its own, like the latency script's onnxruntime half."""
    import onnxruntime as ort

    session = ref.ReferenceSession(enc, dec, threads=threads,
                                   profile_dir=tempfile.mkdtemp(prefix="edgesam-ort-profile-"))
    rgb, coords, labels = latency.photo_and_prompt(photo)
    x = ref.preprocess(rgb)
    embedding = session.encode(x)  # the encoder's warm-up, whose embedding the decoder's runs use
    for _ in range(runs):
        session.encode(x)
    for _ in range(runs + 1):
        session.decode(embedding, coords, labels)
    return {"version": ort.__version__,
            "encoder": trace_profile(Path(session.encoder.end_profiling())),
            "decoder": trace_profile(Path(session.decoder.end_profiling()))}


def merged(*parts):
    """The library's decoder parts as one graph: ops of the same name summed."""
    by_op = {}
    for part in parts:
        for o in part:
            m = by_op.setdefault(o["op"], {"op": o["op"], "nodes": 0, "ms": 0.0})
            m["nodes"] += o["nodes"]
            m["ms"] += o["ms"]
    return sorted(by_op.values(), key=lambda o: -o["ms"])


def engine_ops(tract_fig, ort_fig):
    """graph -> (tract's ops, onnxruntime's ops, onnxruntime's mean `model_run` ms or None)."""
    profile = (tract_fig or {}).get("profile", {})
    tract = {"encoder": profile.get("encoder", []),
             "decoder": merged(profile.get("decoder_per_photo", []), profile.get("decoder_per_tap", []))}
    return {g: (tract[g], (ort_fig or {}).get(g, {}).get("ops", []), (ort_fig or {}).get(g, {}).get("model_run_ms"))
            for g in GRAPHS}


def total(ops):
    return sum(o["ms"] for o in ops)


OP_COLUMNS = f"{'op':<22}{'group':<12}{'nodes':>6}{'ms':>9}{'share':>7}"
BLANK = " " * len(OP_COLUMNS)


def op_row(o, whole):
    share = f"{100 * o['ms'] / whole:.1f}%" if whole else "-"
    return f"{o['op'][:21]:<22}{group(o['op']):<12}{o['nodes']:>6}{o['ms']:>9.1f}{share:>7}"


def sum_row(label, nodes, ms, whole):
    share = f"{100 * ms / whole:.1f}%" if whole else "-"
    return f"{label:<34}{'' if nodes is None else nodes:>6}{ms:>9.1f}{share:>7}"


def print_ops(graph, tract_ops, ort_ops, model_run_ms, tract_fig):
    """The two engines' ops side by side, slowest first, then their totals."""
    print(f"\n  {graph + ', tract':<{len(OP_COLUMNS)}} | onnxruntime (shares of the kernels' time, then of the run's)")
    print(f"  {OP_COLUMNS} | {OP_COLUMNS}")
    t_ms, o_ms = total(tract_ops), total(ort_ops)
    for i in range(max(len(tract_ops), len(ort_ops))):
        left = op_row(tract_ops[i], t_ms) if i < len(tract_ops) else BLANK
        right = op_row(ort_ops[i], o_ms) if i < len(ort_ops) else ""
        print(f"  {left} | {right}")
    tract_total = sum_row("all nodes", sum(o["nodes"] for o in tract_ops), t_ms, t_ms)
    print(f"  {tract_total} | {sum_row('kernels', sum(o['nodes'] for o in ort_ops), o_ms, model_run_ms)}")
    if model_run_ms:
        print(f"  {BLANK} | {sum_row('whole run (model_run)', None, model_run_ms, model_run_ms)}")
        print(f"  {BLANK} | {sum_row('outside kernels', None, model_run_ms - o_ms, model_run_ms)}")
    if graph == "decoder" and tract_fig:
        p = tract_fig["profile"]
        print(f"  tract's decoder: per photo {total(p['decoder_per_photo']):.1f} ms "
              f"+ per tap {total(p['decoder_per_tap']):.1f} ms")


def grouped(graph, tract_ops, ort_ops, model_run_ms):
    """Both engines' time per coarse group, printed; -> {group: {tract_ms, onnxruntime_ms, ratio}}."""
    t_ms, o_ms = total(tract_ops), total(ort_ops)
    print(f"\n  {graph}, grouped{'':<48}{'tract':>9}{'share':>7}{'ort':>9}{'share':>7}{'tract/ort':>11}")
    figures = {}
    for short, label, _ in GROUPS:
        t = sum(o["ms"] for o in tract_ops if group(o["op"]) == short)
        o = sum(o["ms"] for o in ort_ops if group(o["op"]) == short)
        ratio = t / o if o else None
        figures[short] = {"tract_ms": t, "onnxruntime_ms": o, "ratio_tract_over_ort": ratio}
        print(f"  {label:<65}{t:>9.1f}{f'{100 * t / t_ms:.1f}%' if t_ms else '-':>7}"
              f"{o:>9.1f}{f'{100 * o / o_ms:.1f}%' if o_ms else '-':>7}{f'{ratio:.2f}' if ratio else '-':>11}")
    ratio = t_ms / o_ms if o_ms else None
    print(f"  {'total (tract: all nodes; onnxruntime: kernels)':<65}{t_ms:>9.1f}{'':>7}{o_ms:>9.1f}{'':>7}"
          f"{f'{ratio:.2f}' if ratio else '-':>11}")
    if model_run_ms:
        ratio = t_ms / model_run_ms
        print(f"  {'onnxruntime whole run (model_run)':<65}{'':>16}{model_run_ms:>9.1f}{'':>7}{ratio:>11.2f}")
    return figures


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    latency.add_arguments(ap, runs=5)
    a = ap.parse_args()

    if a.onnxruntime_child:
        enc, dec, photo, threads = a.onnxruntime_child
        print(json.dumps(onnxruntime_profile(Path(enc), Path(dec), Path(photo), int(threads), a.runs)))
        return

    enc, dec, photo = latency.models_and_photo(a, "ms per run are means")
    results = []
    for threads in (int(t) for t in a.threads.split(",")):
        ort_fig, ort_err = latency.onnxruntime_child(__file__, a, enc, dec, photo, threads)
        tract_fig, tract_err = latency.edgesam_bench(a, enc, dec, photo, threads, "--profile")
        errors = [e for e in (ort_err, tract_err) if e]
        print(f"\nthreads {threads}" + (f" (onnxruntime {ort_fig['version']})" if ort_fig else ""))
        for err in errors:
            print(err)
        groups = {}
        for graph, (tract_ops, ort_ops, model_run_ms) in engine_ops(tract_fig, ort_fig).items():
            print_ops(graph, tract_ops, ort_ops, model_run_ms, tract_fig)
            groups[graph] = grouped(graph, tract_ops, ort_ops, model_run_ms)
        results.append({"threads": threads, "onnxruntime": ort_fig, "tract": tract_fig, "groups": groups,
                        "errors": errors})
    print(json.dumps({"size": a.size, "scores": a.scores, "runs": a.runs, "photo": a.photo, "results": results}))


if __name__ == "__main__":
    main()
