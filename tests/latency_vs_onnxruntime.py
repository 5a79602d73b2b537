#!/usr/bin/env python3
"""Latency of the Rust CLI (tract) beside onnxruntime on the same model files and threads.

    python tests/latency_vs_onnxruntime.py --size full --runs 7 --threads 1

Ensures the stand-in models (models/standins.py), writes one synthetic photo, then
  - onnxruntime (CPU, intra_op_num_threads=T, inter_op 1, sequential): one warm-up, then `runs`
    timed encoder runs (with the reference's pre-processing, as the CLI's encode_ms includes it, and
    alone) and `runs` timed decoder runs with 2 points, alone and with the reference's
    post-processing of one mask (cv2 upsample, crop, resize, threshold), as the CLI's predict_ms;
  - `edgesam bench --encoder E --decoder D --image I --points 2 --runs R --threads T --json`;
and prints a table of medians with the ratio tract / onnxruntime, then one JSON line with all
figures. Not a test: nothing is asserted. Ratios > 1 mean tract is slower.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "models"))
sys.path.insert(0, str(REPO / "tests" / "reference"))
sys.path.insert(0, str(REPO / "tests" / "python"))

import edgesam_reference as ref  # noqa: E402
import images  # noqa: E402


def stats(ms):
    a = np.asarray(ms, np.float64)
    return {"min": float(a.min()), "median": float(np.median(a)), "p90": float(np.percentile(a, 90)), "runs": len(a)}


def timed(fn, runs):
    fn()  # warm-up
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=["tiny", "full"], default="full")
    ap.add_argument("--scores", choices=["stability", "iou"], default="stability")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--photo", default="landscape", choices=sorted(images.PHOTOS), help="synthetic photo (tests/python/images.py)")
    ap.add_argument("--cli", default=os.environ.get("EDGESAM_CLI", str(REPO / "target" / "release" / "edgesam")))
    a = ap.parse_args()

    import onnxruntime as ort
    import standins

    enc, dec = (Path(p) for p in standins.ensure_standins(size=a.size, scores=a.scores))
    tmp = Path(tempfile.mkdtemp(prefix="edgesam-latency-"))
    photo = images.photo_path(a.photo, tmp)
    rgb = ref.load_rgb(photo)
    h, w = rgb.shape[:2]

    # ---------------- onnxruntime
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = a.threads, 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    t0 = time.perf_counter()
    ort.InferenceSession(str(enc), so, providers=["CPUExecutionProvider"])
    load_enc = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    ort.InferenceSession(str(dec), so, providers=["CPUExecutionProvider"])
    load_dec = (time.perf_counter() - t0) * 1e3
    sess_enc = ref.ReferenceSession(enc, dec, threads=a.threads)  # same options as above

    pre_ms = timed(lambda: ref.preprocess(rgb), a.runs)
    x = ref.preprocess(rgb)
    enc_ms = timed(lambda: sess_enc.encode(x), a.runs)
    pre_enc_ms = timed(lambda: sess_enc.encode(ref.preprocess(rgb)), a.runs)
    emb = sess_enc.encode(x)
    coords, labels = ref.prompt_arrays([(w * 0.4, h * 0.5, 1), (w * 0.7, h * 0.3, 0)], None, h, w)
    dec_ms = timed(lambda: sess_enc.decode(emb, coords, labels), a.runs)

    def predict():
        scores, masks = sess_enc.decode(emb, coords, labels)
        k = ref.choose_mask_index(scores, True, False)
        return ref.threshold(ref.postprocess_logits(masks[0, k], h, w))
    pred_ms = timed(predict, a.runs)
    ort_fig = {"load_ms": {"encoder": load_enc, "decoder": load_dec},
               "preprocess_ms": stats(pre_ms), "encode_run_ms": stats(enc_ms), "encode_ms": stats(pre_enc_ms),
               "decode_ms": stats(dec_ms), "predict_ms": stats(pred_ms), "version": ort.__version__}

    # ---------------- tract (Rust CLI)
    cmd = [a.cli, "bench", "--encoder", str(enc), "--decoder", str(dec), "--image", str(photo),
           "--points", "2", "--runs", str(a.runs), "--threads", str(a.threads), "--json"]
    tract_fig, err = None, None
    if not Path(a.cli).is_file():
        err = f"CLI not found at {a.cli}"
    else:
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            err = f"edgesam bench exited {p.returncode}: {p.stderr.strip()[-2000:]}"
        else:
            try:
                tract_fig = json.loads(p.stdout)
            except json.JSONDecodeError as e:
                err = f"edgesam bench --json output is not one JSON object ({e}): {p.stdout[:500]!r}"

    # ---------------- report
    print(f"model: {a.size} stand-in ({a.scores}), photo {a.photo} {w}x{h}, threads {a.threads}, runs {a.runs} (+1 warm-up)")
    print(f"{'stage':<34}{'onnxruntime ms':>16}{'tract ms':>12}{'tract/ort':>11}")

    def row(label, o, t):
        ratio = f"{t / o:.2f}" if (o and t is not None) else "-"
        ts = f"{t:.1f}" if t is not None else "-"
        print(f"{label:<34}{o:>16.1f}{ts:>12}{ratio:>11}")

    def tget(*keys):
        v = tract_fig
        for k in keys:
            if not isinstance(v, dict) or k not in v:
                return None
            v = v[k]
        return float(v)

    row("encode median (pre-process + run)", ort_fig["encode_ms"]["median"], tget("encode_ms", "median"))
    row("encode min", ort_fig["encode_ms"]["min"], tget("encode_ms", "min"))
    row("decoder alone median", ort_fig["decode_ms"]["median"], tget("decode_ms", "median"))
    row("predict median (decoder + post)", ort_fig["predict_ms"]["median"], tget("predict_ms", "median"))
    row("predict min", ort_fig["predict_ms"]["min"], tget("predict_ms", "min"))
    row("load encoder", load_enc, tget("load_ms", "encoder"))
    row("load decoder", load_dec, tget("load_ms", "decoder"))
    print(f"(onnxruntime encoder run alone: median {ort_fig['encode_run_ms']['median']:.1f} ms; "
          f"pre-processing alone: median {ort_fig['preprocess_ms']['median']:.1f} ms)")
    if err:
        print(f"tract: {err}")
    ratios = {}
    if tract_fig is not None:
        for key, okey in (("encode_ms", "encode_ms"), ("decode_ms", "decode_ms"), ("predict_ms", "predict_ms")):
            t = tget(key, "median")
            if t is not None:
                ratios[key.replace("_ms", "")] = t / ort_fig[okey]["median"]
    print(json.dumps({"size": a.size, "scores": a.scores, "threads": a.threads, "runs": a.runs,
                      "photo": {"name": a.photo, "width": w, "height": h},
                      "onnxruntime": ort_fig, "tract": tract_fig, "tract_error": err,
                      "ratio_tract_over_ort_median": ratios}))


if __name__ == "__main__":
    main()
