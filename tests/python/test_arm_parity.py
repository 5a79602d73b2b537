"""Parity on the phones' instruction sets: the CLI cross-built for aarch64 and armv7, run under
qemu-user, against the x86-64 build and the Python reference (issue 14).

`cargo xtask test-arm` builds the ARM CLIs (profile `arm-test`) and runs this module with
$EDGESAM_ARM_TARGETS naming the architectures to check; a listed architecture whose CLI is missing
fails. Without the variable the module is skipped: the ARM CLIs are not part of the x86 build.

A handful of cases of the parity suite on the `full` stand-ins, with its tolerances (never loosen
them): image embedding and low-res logits within REL_TOL of the reference's range, against the
reference and against the x86 build; the final mask identical to the reference's and to the x86
build's on every pixel whose reference logit is farther than REL_TOL of the range from 0; the same
mask index as the x86 build. Per-case figures go to <pytest basetemp>/arm_parity_metrics.json.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import edgesam_reference as ref
from conftest import REPO
from test_parity import CASES, REL_TOL, cli, model_files, photo_dir, reference, rel_diff, run_cli, segment_args  # noqa: F401

ARCHES = {"aarch64": "aarch64-unknown-linux-gnu", "armv7": "armv7-unknown-linux-gnueabihf"}
PROFILE = "arm-test"  # the Cargo profile xtask's ARM builds use
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
REQUESTED = [a for a in os.environ.get("EDGESAM_ARM_TARGETS", "").split(",") if a]

# A handful of the parity suite's cases: points with negatives, a box with points, a JPEG (the
# cross-compiled libjpeg-turbo code) with EXIF orientation, an odd size. armv7 runs the first only:
# under qemu-arm one full-size segment took 9 minutes on a loaded 2-core machine (aarch64: ~2).
ARM_CASES = {
    "aarch64": {"landscape_multi", "square_box_points", "jpeg_exif6_point", "odd1023_multi"},
    "armv7": {"landscape_multi"},
}
MODEL = "full"
# Seconds one emulated CLI run may take (the parity suite's own limit is for native runs).
QEMU_TIMEOUT = 1800

pytestmark = pytest.mark.skipif(
    not REQUESTED,
    reason="ARM parity runs in `cargo xtask test-arm`, which cross-builds the CLI for aarch64 and "
           "armv7 and sets $EDGESAM_ARM_TARGETS",
)


def arm_command(arch):
    """(program, arguments) running the ARM CLI of `arch` under qemu-user, with the runner (qemu
    program, CPU, cross libc) xtask gives Cargo for the target's tests."""
    triple = ARCHES[arch]
    binary = TARGET_DIR / triple / PROFILE / "edgesam"
    if not binary.is_file():
        pytest.fail(f"{arch} CLI not found at {binary}: `cargo xtask test-arm` builds it")
    runner_var = f"CARGO_TARGET_{triple.upper().replace('-', '_')}_RUNNER"
    if runner_var not in os.environ:
        pytest.fail(f"${runner_var} is not set: `cargo xtask test-arm` sets it")
    qemu, *options = os.environ[runner_var].split()
    return qemu, [*options, str(binary)]


def segment(program, prefix, enc, dec, photo_path, case, out):
    """Runs one case; returns (json, dumped arrays, mask pixels)."""
    dump, mask_png = out / "dump", out / "mask.png"
    args = [*prefix, *segment_args(enc, dec, photo_path, case, mask_png, dump)]
    stdout, _, wall = run_cli(program, args, timeout=QEMU_TIMEOUT)
    arrays = {name: np.load(dump / f"{name}.npy") for name in ("image_embeddings", "masks")}
    with Image.open(mask_png) as im:
        mask = np.asarray(im) == 255
    return json.loads(stdout), arrays, mask, wall


@pytest.fixture(scope="session")
def x86_runs(cli, model_files, reference, tmp_path_factory):
    """The x86 build's answer per case, computed once for every architecture."""
    cache = {}

    def get(case):
        if case[0] not in cache:
            path = reference.photo(case[1])[0]
            cache[case[0]] = segment(cli, [], *model_files(MODEL), path, case, tmp_path_factory.mktemp("x86"))
        return cache[case[0]]
    return get


@pytest.fixture(scope="session")
def arm_metrics(tmp_path_factory):
    rows = []
    yield rows
    out = tmp_path_factory.getbasetemp() / "arm_parity_metrics.json"
    out.write_text(json.dumps(rows, indent=1))
    for r in rows:
        print(f"\nARM parity {r['arch']} {r['case']}: " + ", ".join(
            f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in r.items() if k not in ("arch", "case")))
    print(f"\nARM parity metrics written to {out}")


PARAMS = [pytest.param(arch, c, id=f"{arch}-{MODEL}-{c[0]}") for arch in ARCHES for c in CASES if c[0] in ARM_CASES[arch]]


@pytest.mark.parametrize("arch,case", PARAMS)
def test_arm_parity(arch, case, model_files, reference, x86_runs, arm_metrics, tmp_path):
    if arch not in REQUESTED:
        pytest.skip(f"{arch} not in $EDGESAM_ARM_TARGETS")
    cid, photo, points, box, _ = case
    path, rgb, _ = reference.photo(photo)
    h, w = rgb.shape[:2]
    enc, dec = model_files(MODEL)
    js, arm, arm_mask, wall = segment(*arm_command(arch), enc, dec, path, case, tmp_path)
    x86_js, x86, x86_mask, _ = x86_runs(case)

    ref_emb = reference.embedding(photo, MODEL)
    ref_scores, ref_masks = reference.session(MODEL).decode(ref_emb, *ref.prompt_arrays(points, box, h, w))
    k = js["mask_index"]
    ref_logits = ref.postprocess_logits(ref_masks[0, k], h, w)
    confident = np.abs(ref_logits) > REL_TOL * float(np.ptp(ref_logits))

    m = {"arch": arch, "case": cid, "qemu_wall_s": round(wall, 1)}
    m["embedding_rel_ref"] = rel_diff(arm["image_embeddings"], ref_emb)[0]
    m["lowres_rel_ref"] = rel_diff(arm["masks"], ref_masks)[0]
    m["embedding_rel_x86"] = rel_diff(arm["image_embeddings"], x86["image_embeddings"])[0]
    m["lowres_rel_x86"] = rel_diff(arm["masks"], x86["masks"])[0]
    m["embedding_max_abs_x86"] = float(np.abs(arm["image_embeddings"] - x86["image_embeddings"]).max())
    m["final_confident_mismatch_px_ref"] = int(((arm_mask != ref.threshold(ref_logits)) & confident).sum())
    m["final_confident_mismatch_px_x86"] = int(((arm_mask != x86_mask) & confident).sum())
    m["final_mismatch_px_x86"] = int((arm_mask != x86_mask).sum())
    arm_metrics.append(m)

    failures = [f"{key} {m[key]:.3g} > {REL_TOL}" for key in
                ("embedding_rel_ref", "lowres_rel_ref", "embedding_rel_x86", "lowres_rel_x86") if m[key] > REL_TOL]
    failures += [f"{key} {m[key]}" for key in
                 ("final_confident_mismatch_px_ref", "final_confident_mismatch_px_x86") if m[key]]
    if k != x86_js["mask_index"]:
        failures.append(f"mask index {k}, x86 {x86_js['mask_index']} (scores {js['scores']} vs {x86_js['scores']})")
    assert not failures, f"{arch}/{cid}: " + "; ".join(failures)
