#!/usr/bin/env python3
"""The speed of the Rust library (tract) beside onnxruntime, on the same model files, photo and cores.

    .venv/bin/python tests/latency_vs_onnxruntime.py --size full --runs 7 --threads 1,2

Ensures the stand-in models (models/standins.py) and writes one synthetic photo (default: the
4000x3000 `big` one, a phone photo's size). Then, for each thread count T, two fresh processes:
  - onnxruntime (CPU provider, intra_op_num_threads=T, inter_op 1, sequential), a child process of
    this script: cold start (both sessions created), then one warm-up and `runs` timed runs of
    the reference pipeline's steps: pre-processing (Pillow), encoder, pre-processing + encoder,
    the decoder alone with 2 points, and a tap (decoder + post-processing of the chosen mask to
    the photo's size: cv2 upsample, crop, resize, threshold); its peak resident memory at the end;
  - `edgesam bench --image PHOTO --points 2 --runs R --threads T --json`: the same steps through
    the library, and its own peak resident memory.
Prints one table per thread count with medians and tract / onnxruntime ratios (below 1: tract
is faster), then one JSON line with every figure. A benchmark, not a test: nothing is asserted.

With --cache-dir DIR, `edgesam bench` loads through the compiled-model cache in DIR: the first run
on an empty folder measures the cold start that fills it, a second run the cold start it saves.
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


def peak_rss_bytes():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


def photo_and_prompt(photo: Path):
    """The photo as the reference pipeline reads it, and the 2-point prompt of every tap timed."""
    rgb = ref.load_rgb(photo)
    h, w = rgb.shape[:2]
    coords, labels = ref.prompt_arrays([(w * 0.4, h * 0.5, 1), (w * 0.7, h * 0.3, 0)], None, h, w)
    return rgb, coords, labels


def onnxruntime_figures(enc: Path, dec: Path, photo: Path, threads: int, runs: int) -> dict:
    """Runs in a child process of its own, so that its peak memory is onnxruntime's alone."""
    import onnxruntime as ort

    t0 = time.perf_counter()
    session = ref.ReferenceSession(enc, dec, threads=threads)
    cold_start = (time.perf_counter() - t0) * 1e3
    rgb, coords, labels = photo_and_prompt(photo)
    h, w = rgb.shape[:2]
    x = ref.preprocess(rgb)
    emb = session.encode(x)

    def tap():
        scores, masks = session.decode(emb, coords, labels)
        k = ref.choose_mask_index(scores, True, False)
        return ref.threshold(ref.postprocess_logits(masks[0, k], h, w))

    return {
        "version": ort.__version__,
        "cold_start_ms": cold_start,
        "preprocess_ms": stats(timed(lambda: ref.preprocess(rgb), runs)),
        "encode_run_ms": stats(timed(lambda: session.encode(x), runs)),
        "encode_ms": stats(timed(lambda: session.encode(ref.preprocess(rgb)), runs)),
        "decode_ms": stats(timed(lambda: session.decode(emb, coords, labels), runs)),
        "predict_ms": stats(timed(tap, runs)),
        "peak_rss_bytes": peak_rss_bytes(),
    }


def run_json(cmd, what):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return None, f"{what} exited {p.returncode}: {p.stderr.strip()[-2000:]}"
    try:
        return json.loads(p.stdout.strip().splitlines()[-1]), None
    except (json.JSONDecodeError, IndexError) as e:
        return None, f"{what} printed no JSON object ({e}): {p.stdout[:500]!r}"


def onnxruntime_child(script, a, enc, dec, photo, threads):
    """`script`'s onnxruntime half, in a fresh process: its figures (JSON) and an error or None."""
    return run_json([sys.executable, script, "--runs", str(a.runs), "--onnxruntime-child",
                     str(enc), str(dec), str(photo), str(threads)], "onnxruntime child")


def edgesam_bench(a, enc, dec, photo, threads, *options):
    """`edgesam bench` on the same files, photo, 2-point taps and threads: its report and an error or None."""
    if not Path(a.cli).is_file():
        return None, f"CLI not found at {a.cli}"
    return run_json([a.cli, "bench", "--encoder", str(enc), "--decoder", str(dec), "--image", str(photo),
                     "--points", "2", "--runs", str(a.runs), "--threads", str(threads), "--json", *options],
                    "edgesam bench")


def add_arguments(ap, runs):
    """The options of every onnxruntime comparison; `--onnxruntime-child` is how one calls itself."""
    ap.add_argument("--size", choices=["tiny", "full"], default="full")
    ap.add_argument("--scores", choices=["stability", "iou"], default="stability")
    ap.add_argument("--runs", type=int, default=runs)
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--photo", default="big", choices=sorted(images.PHOTOS), help="synthetic photo (tests/python/images.py)")
    ap.add_argument("--cli", default=os.environ.get("EDGESAM_CLI", str(REPO / "target" / "release" / "edgesam")))
    ap.add_argument("--onnxruntime-child", nargs=4, metavar=("ENC", "DEC", "PHOTO", "THREADS"), help=argparse.SUPPRESS)


def models_and_photo(a, how):
    """Ensures the stand-ins, writes the photo into a new temporary folder, prints the header (`how`: "medians")."""
    import standins

    enc, dec = (Path(p) for p in standins.ensure_standins(size=a.size, scores=a.scores))
    photo = images.photo_path(a.photo, Path(tempfile.mkdtemp(prefix="edgesam-bench-")))
    spec = images.PHOTOS[a.photo]
    print(f"model: {a.size} stand-in ({a.scores}), photo {a.photo} {spec.width}x{spec.height}, "
          f"runs {a.runs} (+1 warm-up), {how}")
    return enc, dec, photo


def median(fig, *keys):
    v = fig
    for k in keys:
        if not isinstance(v, dict) or k not in v:
            return None
        v = v[k]
    return float(v) if v is not None else None


ROWS = [  # label, keys in both reports
    ("encode (pre-processing + encoder)", ("encode_ms", "median")),
    ("pre-processing alone", ("preprocess_ms", "median")),
    ("decoder alone (2 points)", ("decode_ms", "median")),
    ("tap (decoder + mask at photo size)", ("predict_ms", "median")),
    ("tap, best run", ("predict_ms", "min")),
    ("cold start (both models ready)", ("cold_start_ms",)),
]


def report(threads, ort_fig, tract_fig):
    print(f"\nthreads {threads}")
    print(f"{'':<38}{'onnxruntime':>12}{'tract':>10}{'tract/ort':>11}")
    ratios = {}
    for label, keys in ROWS:
        o, t = median(ort_fig, *keys), median(tract_fig, *keys)
        ratio = t / o if (o and t is not None) else None
        ratios[keys[0]] = ratio
        fmt = lambda v: f"{v:.1f} ms" if v is not None else "-"  # noqa: E731
        print(f"{label:<38}{fmt(o):>12}{fmt(t):>10}{(f'{ratio:.2f}' if ratio else '-'):>11}")
    o, t = median(ort_fig, "peak_rss_bytes"), median(tract_fig, "peak_rss_bytes")
    if o and t:
        ratios["peak_rss_bytes"] = t / o
        print(f"{'peak resident memory':<38}{o / 2**20:>9.0f} MB{t / 2**20:>7.0f} MB{t / o:>11.2f}")
    return ratios


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(ap, runs=7)
    ap.add_argument("--cache-dir", help="compiled-model cache folder for `edgesam bench --cache-dir`")
    a = ap.parse_args()

    if a.onnxruntime_child:
        enc, dec, photo, threads = a.onnxruntime_child
        print(json.dumps(onnxruntime_figures(Path(enc), Path(dec), Path(photo), int(threads), a.runs)))
        return

    enc, dec, photo = models_and_photo(a, "medians")
    results = []
    for threads in (int(t) for t in a.threads.split(",")):
        ort_fig, ort_err = onnxruntime_child(__file__, a, enc, dec, photo, threads)
        tract_fig, tract_err = edgesam_bench(a, enc, dec, photo, threads,
                                             *(["--cache-dir", a.cache_dir] if a.cache_dir else []))
        for err in (ort_err, tract_err):
            if err:
                print(err)
        ratios = report(threads, ort_fig, tract_fig)
        results.append({"threads": threads, "onnxruntime": ort_fig, "tract": tract_fig, "ratio_tract_over_ort": ratios,
                        "errors": [e for e in (ort_err, tract_err) if e]})
    print(json.dumps({"size": a.size, "scores": a.scores, "runs": a.runs, "photo": a.photo, "results": results}))


if __name__ == "__main__":
    main()
