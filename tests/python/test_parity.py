"""Parity: the Rust CLI (`edgesam segment`) against the Python reference of the official pipeline.

Same stand-in models, same photos, same prompts. The CLI dumps its intermediates (--dump-dir) and a
JSON summary (--json) and writes the mask PNG; the reference (tests/reference/edgesam_reference.py,
onnxruntime) computes the same steps. Acceptance, asserted exactly (never loosen these):

- encoder input: max |rust - ref| * std_c <= 1.0 per channel (1 grey level on the 0..255 scale);
- point coords within 1e-3 px of the reference (1024 frame), labels identical, N identical (no
  padding point);
- image embedding and low-res logits: max |diff| <= 1e-3 * (max(ref) - min(ref));
- scores: a stability score (#(l>1)/#(l>-1)) must lie in the interval the reference logits allow
  when each logit may move by the logit tolerance above; IoU-head scores (plain export) within
  1e-3 * max(1, range of the 4 reference scores) (scores live on a 0..1 scale);
- mask index: the requested one; 0 for a box alone; otherwise argmax, any index whose reference
  score is tied with the best within the score tolerance accepted;
- final mask: identical on every pixel whose reference final logit is farther than
  1e-3 * (range of the reference final logits) from 0, and >= 99.9 % identical overall;
- JSON: image size (after EXIF orientation), resized size, scores and score consistent with the
  dumps, bbox and area consistent with the mask PNG; mask PNG 8-bit grey, only 0 and 255.

JPEG: the Rust side decodes with libjpeg-turbo's code, as PIL does, so its pixels must be PIL's. The
JPEG photos have their longest side at 1024, so the resize is the identity and the Rust encoder
input shows its decoded pixels directly. When a JPEG case fails the encoder-input check, the failure
also says how the decoded pixels differ from PIL's and whether the rest of the pipeline still agrees
given the Rust-decoded pixels (a diagnostic: the case fails all the same).

When a numeric check fails, the message also gives, for scale, how far onnxruntime moves from
itself on the same case with its graph optimisations switched off (a float32 noise floor of the
model; it is reported, never used to relax a check).

Per-case figures go to <pytest basetemp>/parity_metrics.json (or $EDGESAM_PARITY_METRICS).
Threads: $EDGESAM_TEST_THREADS (default 1) for both the CLI and onnxruntime.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import edgesam_reference as ref
import images
from conftest import CLI

THREADS = int(os.environ.get("EDGESAM_TEST_THREADS", "1"))
REL_TOL = 1e-3          # embeddings, low-res logits, final-logit margin
GREY_TOL = 1.0          # encoder input, in grey levels
COORD_TOL = 1e-3        # point coordinates, pixels of the 1024 frame
MASK_AGREEMENT = 0.999  # final masks, fraction of identical pixels

MODELS = {
    "tiny": ("tiny", "stability"),
    "full": ("full", "stability"),
    "tiny-iou": ("tiny", "iou"),   # the plain export (IoU head): same interface, other scores
}

# (id, photo, points [(x, y, label)], box (x0, y0, x1, y1) or None, requested mask index or None)
# Coordinates are pixels of the photo as shown (after EXIF orientation).
CASES = [
    ("portrait_point", "portrait", [(300, 450, 1)], None, None),
    ("landscape_multi", "landscape", [(320, 200, 1), (900, 500, 1), (640, 360, 0), (100, 650, 0)], None, None),
    ("square_box", "square", [], (100, 120, 400, 380), None),
    ("square_box_points", "square", [(250, 250, 1), (130, 140, 0)], (100, 120, 400, 380), None),
    ("landscape_border_point", "landscape", [(1279, 0, 1)], None, None),
    ("portrait_index2", "portrait", [(200, 700, 1)], None, 2),
    ("tiny_wide_point", "tiny_wide", [(8, 4, 1)], None, None),
    ("tiny_tall_box", "tiny_tall", [], (1, 2, 7, 15), None),
    ("big_point", "big", [(2500, 1200, 1)], None, None),
    ("big_box_points", "big", [(1000, 2000, 1), (3000, 500, 0)], (500, 1500, 2000, 2900), None),
    ("odd1023_multi", "odd_1023x767", [(10, 10, 1), (1022, 766, 1), (511, 383, 0)], None, None),
    ("odd1025_border_point", "odd_1025x577", [(0, 576, 1)], None, None),
    ("thin_wide_point", "thin_wide", [(700, 2, 1)], None, None),
    ("thin_tall_box", "thin_tall", [], (0, 100, 3, 900), None),
    ("thin_tall_point", "thin_tall", [(2, 515, 1)], None, None),
    ("jpeg_exif6_point", "jpeg_exif6", [(384, 800, 1)], None, None),
    ("jpeg_exif8_box", "jpeg_exif8", [], (50, 600, 500, 1000), None),
    ("jpeg_plain_points", "jpeg_plain", [(512, 340, 1), (900, 600, 0)], None, None),
    ("square_index0_points", "square", [(256, 256, 1), (400, 100, 1)], None, 0),
    ("landscape_box_index3", "landscape", [], (200, 100, 1100, 650), 3),
    ("portrait_box_points", "portrait", [(300, 300, 1), (310, 600, 1), (100, 850, 0)], (50, 100, 550, 880), None),
    ("odd1023_full_box", "odd_1023x767", [], (0, 0, 1022, 766), None),
    ("square_negative_only", "square", [(256, 256, 0)], None, None),
]
IOU_CASES = {"portrait_point", "landscape_multi", "square_box", "square_box_points", "portrait_index2"}

PARAMS = [pytest.param(m, c, id=f"{m}-{c[0]}") for m in ("tiny", "full") for c in CASES]
PARAMS += [pytest.param("tiny-iou", c, id=f"tiny-iou-{c[0]}") for c in CASES if c[0] in IOU_CASES]


# ------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def cli():
    if not Path(CLI).is_file():
        pytest.fail(f"Rust CLI not found at {CLI}: build it (cargo build --release -p edgesam-cli) "
                    f"or point $EDGESAM_CLI at it")
    return Path(CLI)


@pytest.fixture(scope="session")
def photo_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("photos")


@pytest.fixture(scope="session")
def model_files():
    import standins  # models/standins.py, on sys.path through conftest
    cache = {}

    def get(key):
        if key not in cache:
            size, scores = MODELS[key]
            enc, dec = standins.ensure_standins(size=size, scores=scores)
            cache[key] = (Path(enc), Path(dec))
        return cache[key]
    return get


@pytest.fixture(scope="session")
def reference(model_files, photo_dir):
    """Cached reference pieces: decoded photo + encoder input per photo, embedding per (photo, model)."""
    sessions, inputs, embeddings = {}, {}, {}

    class Ref:
        def session(self, key, optimize=True):
            if (key, optimize) not in sessions:
                sessions[(key, optimize)] = ref.ReferenceSession(*model_files(key), threads=THREADS, optimize=optimize)
            return sessions[(key, optimize)]

        def photo(self, name):
            if name not in inputs:
                path = images.photo_path(name, photo_dir)
                rgb = ref.load_rgb(path)
                inputs[name] = (path, rgb, ref.preprocess(rgb))
            return inputs[name]

        def embedding(self, name, key, optimize=True):
            # The tiny and tiny-iou stand-ins may share an encoder file: key the cache on the file.
            enc_file = model_files(key)[0]
            if (name, enc_file, optimize) not in embeddings:
                embeddings[(name, enc_file, optimize)] = self.session(key, optimize).encode(self.photo(name)[2])
            return embeddings[(name, enc_file, optimize)]
    return Ref()


@pytest.fixture(scope="session")
def metrics(tmp_path_factory):
    rows = []
    yield rows
    out = Path(os.environ.get("EDGESAM_PARITY_METRICS", tmp_path_factory.getbasetemp() / "parity_metrics.json"))
    summary, not_metrics = {}, {"w", "h", "mask_index", "ref_mask_index", "final_area_ref"}
    for r in rows:
        s = summary.setdefault(r["model"], {})
        for k, v in r.items():
            if k in not_metrics:
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v):
                s[k] = max(s.get(k, v), v)
    out.write_text(json.dumps({"max_per_model": summary, "cases": rows}, indent=1))
    print(f"\nparity metrics written to {out}")


# ------------------------------------------------------------------------------------ helpers
def run_cli(cli, args, timeout=600):
    t0 = time.perf_counter()
    p = subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        pytest.fail(f"edgesam exited {p.returncode}\nargs: {args}\nstderr:\n{p.stderr[-4000:]}")
    return p.stdout, p.stderr, wall


def segment_args(enc, dec, photo_path, case, mask_png, dump):
    """`edgesam segment` arguments for a case of CASES: mask PNG, --json on stdout, intermediates in dump."""
    _, _, points, box, requested = case
    args = ["segment", "--encoder", enc, "--decoder", dec, "--image", photo_path, "--threads", THREADS,
            "--mask-out", mask_png, "--json", "--dump-dir", dump]
    for x, y, lab in points:
        args += ["--point", f"{x},{y},{lab}"]
    if box is not None:
        args += ["--box", ",".join(str(v) for v in box)]
    if requested is not None:
        args += ["--mask-index", requested]
    return args


def rel_diff(a, b):
    """max|a - b| / (max(b) - min(b)), b the reference; inf when b is constant and a differs."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = float(np.max(np.abs(a - b)))
    rng = float(np.ptp(b))
    return d / rng if rng > 0 else (0.0 if d == 0 else float("inf")), d, rng


def stability_interval(ref_logits, tol):
    """Range of #(l>1)/#(l>-1) when every logit may move by up to tol."""
    l = np.asarray(ref_logits, np.float64)
    i_lo, i_hi = int((l > 1 + tol).sum()), int((l > 1 - tol).sum())
    u_lo, u_hi = int((l > -1 + tol).sum()), int((l > -1 - tol).sum())
    # A candidate with no logit above -1 is 0/0 in the graph; edgesam reports it as 0 (documented
    # in Prediction::scores), so an empty union counts as score 0 here.
    lo = i_lo / u_hi if u_hi else 0.0
    hi = i_hi / u_lo if u_lo else (float("inf") if i_hi else 0.0)
    return lo, hi


# ------------------------------------------------------------------------------------ the test
@pytest.mark.parametrize("model,case", PARAMS)
def test_parity(model, case, cli, model_files, reference, metrics, tmp_path):
    cid, photo, points, box, requested = case
    enc, dec = model_files(model)
    path, rgb, ref_input = reference.photo(photo)
    h, w = rgb.shape[:2]
    new_h, new_w = ref.resized_size(h, w)
    assert (w, h) == images.oriented_size(photo), "reference decode disagrees with the photo's spec"

    # ---- Rust
    dump = tmp_path / "dump"
    mask_png = tmp_path / "mask.png"
    stdout, stderr, wall = run_cli(cli, segment_args(enc, dec, path, case, mask_png, dump))
    try:
        js = json.loads(stdout)
    except json.JSONDecodeError as e:
        pytest.fail(f"--json stdout is not one JSON object ({e}):\n{stdout[:2000]}")

    def load(name, shape):
        f = dump / f"{name}.npy"
        assert f.is_file(), f"--dump-dir did not write {name}.npy (has: {sorted(p.name for p in dump.glob('*'))})"
        a = np.load(f)
        assert a.dtype == np.float32, f"{name}.npy dtype {a.dtype}, want float32"
        assert tuple(a.shape) == tuple(shape), f"{name}.npy shape {a.shape}, want {shape}"
        return a

    n_pts = len(points) + (2 if box is not None else 0)
    r_input = load("input", (1, 3, 1024, 1024))
    r_emb = load("image_embeddings", (1, 256, 64, 64))
    r_coords = load("point_coords", (1, n_pts, 2))
    r_labels = load("point_labels", (1, n_pts))
    r_scores = load("scores", (1, 4))
    r_masks = load("masks", (1, 4, 256, 256))
    with Image.open(mask_png) as im:
        mask_mode, mask_size = im.mode, im.size
        r_mask_px = np.asarray(im)

    # ---- Reference
    sess = reference.session(model)
    ref_emb = reference.embedding(photo, model)
    ref_coords, ref_labels = ref.prompt_arrays(points, box, h, w)
    ref_scores, ref_masks = sess.decode(ref_emb, ref_coords, ref_labels)
    dec_only_masks = sess.decode(r_emb, r_coords, r_labels)[1]  # diagnostic: decoder alone on Rust's embedding

    failures, m = [], {"model": model, "case": cid, "photo": photo, "w": w, "h": h, "cli_wall_s": round(wall, 3)}

    def check(ok, msg):
        if not ok:
            failures.append(msg)

    # ---- sizes, orientation, PNG format (hard checks, also for JPEGs)
    check(js.get("image") == {"width": w, "height": h}, f"json image {js.get('image')} != {{'width': {w}, 'height': {h}}}")
    check(js.get("resized") == {"width": new_w, "height": new_h},
          f"json resized {js.get('resized')} != {{'width': {new_w}, 'height': {new_h}}}")
    check(mask_mode == "L", f"mask PNG mode {mask_mode}, want 8-bit grey 'L'")
    check(mask_size == (w, h), f"mask PNG size {mask_size}, want the oriented photo size {(w, h)}")
    hard_shape_ok = not failures
    vals = set(np.unique(r_mask_px).tolist())
    check(vals <= {0, 255}, f"mask PNG values {sorted(vals)[:10]}, want only 0 and 255")

    # ---- encoder input, per channel in grey levels
    grey = (np.abs(r_input.astype(np.float64) - ref_input) * ref.PIXEL_STD.astype(np.float64)[None, :, None, None])
    grey_c = grey.reshape(3, -1).max(axis=1)
    m["input_grey_max"] = float(grey_c.max())
    m["input_grey_mean"] = float(grey[0, :, :new_h, :new_w].mean())
    m["input_pixels_over_1"] = int((grey[0, :, :new_h, :new_w] > GREY_TOL).sum())
    m["input_pad_max_abs"] = float(max(np.abs(r_input[0, :, new_h:, :]).max(initial=0), np.abs(r_input[0, :, :, new_w:]).max(initial=0)))
    input_ok = bool((grey_c <= GREY_TOL).all())
    check(input_ok, f"encoder input differs by {grey_c.round(3).tolist()} grey levels per channel (tolerance {GREY_TOL}); "
                    f"mean {m['input_grey_mean']:.4f}, {m['input_pixels_over_1']} values > 1")

    # ---- prompts
    cdiff = float(np.abs(r_coords.astype(np.float64) - ref_coords).max())
    m["coords_max_abs"] = cdiff
    check(cdiff <= COORD_TOL, f"point_coords differ by {cdiff} px (1024 frame): rust {r_coords.tolist()} ref {ref_coords.tolist()}")
    check(np.array_equal(r_labels, ref_labels), f"point_labels rust {r_labels.tolist()} ref {ref_labels.tolist()}")

    # ---- embedding and low-res logits
    m["embedding_rel"], m["embedding_abs"], _ = rel_diff(r_emb, ref_emb)
    check(m["embedding_rel"] <= REL_TOL, f"embedding max|diff| {m['embedding_abs']:.3g} = {m['embedding_rel']:.3g} x range (tol {REL_TOL})")
    m["lowres_rel"], m["lowres_abs"], lowres_range = rel_diff(r_masks, ref_masks)
    check(m["lowres_rel"] <= REL_TOL, f"low-res logits max|diff| {m['lowres_abs']:.3g} = {m['lowres_rel']:.3g} x range (tol {REL_TOL})")
    m["decoder_only_rel"] = rel_diff(r_masks, dec_only_masks)[0]

    # ---- scores
    logit_tol = REL_TOL * lowres_range
    rs, fs = r_scores[0].astype(np.float64), ref_scores[0].astype(np.float64)
    if MODELS[model][1] == "stability":
        iv = [stability_interval(ref_masks[0, i], logit_tol) for i in range(4)]
        lo = np.array([a for a, _ in iv])
        hi = np.array([b for _, b in iv])
        in_iv = [lo[i] - 1e-6 <= rs[i] <= hi[i] + 1e-6 for i in range(4)]
        check(all(in_iv), f"stability scores rust {rs.tolist()} outside the intervals the reference logits allow "
                          f"{[(round(a, 6), round(b, 6)) for a, b in iv]} (ref {fs.tolist()})")
    else:
        stol = REL_TOL * max(1.0, float(np.ptp(fs)))
        lo, hi = fs - stol, fs + stol
        check(bool((np.abs(rs - fs) <= stol).all()), f"scores rust {rs.tolist()} ref {fs.tolist()} (tol {stol:.3g})")
    sd = np.abs(rs - fs)
    m["scores_max_abs"] = float(np.nanmax(sd)) if np.isfinite(sd).any() else 0.0

    # ---- mask index
    k = js.get("mask_index")
    if requested is not None:
        accepted = {requested}
    elif box is not None and not points:
        accepted = {0}
    else:
        best_lo = np.nanmax(lo)
        accepted = {i for i in range(4) if hi[i] >= best_lo}
        rust_best = np.nanmax(rs)
        check(k in {i for i in range(4) if rs[i] == rust_best},
              f"json mask_index {k} is not the argmax of the CLI's own scores {rs.tolist()}")
    m["mask_index"], m["ref_mask_index"] = k, ref.choose_mask_index(ref_scores, bool(points), box is not None, requested)
    check(k in accepted, f"mask_index {k} not in the accepted set {sorted(accepted)} (ref scores {fs.tolist()})")
    if not isinstance(k, int) or not 0 <= k < 4:
        pytest.fail(f"json mask_index {k!r} unusable; failures so far: {failures}")
    js_scores = np.asarray(js.get("scores", []), np.float64)
    check(js_scores.shape == (4,) and np.allclose(js_scores, rs, rtol=1e-6, atol=1e-7, equal_nan=True),
          f"json scores {js.get('scores')} != scores.npy {rs.tolist()}")
    check(js.get("score") is not None and np.isclose(js["score"], rs[k], rtol=1e-6, atol=1e-7, equal_nan=True),
          f"json score {js.get('score')} != scores.npy[{k}] {rs[k]}")

    # ---- final mask (reference post-processing of the same index)
    if hard_shape_ok:
        ref_logits = ref.postprocess_logits(ref_masks[0, k], h, w)
        ref_mask = ref.threshold(ref_logits)
        r_mask = r_mask_px == 255
        margin = REL_TOL * float(np.ptp(ref_logits))
        mism = r_mask != ref_mask
        confident = np.abs(ref_logits) > margin
        m["final_mismatch_px"] = int(mism.sum())
        m["final_mismatch_frac"] = float(mism.mean())
        m["final_confident_mismatch_px"] = int((mism & confident).sum())
        m["final_area_ref"] = int(ref_mask.sum())
        check(m["final_confident_mismatch_px"] == 0,
              f"{m['final_confident_mismatch_px']} mask pixels differ where |ref logit| > {margin:.3g}")
        check(m["final_mismatch_frac"] <= 1 - MASK_AGREEMENT,
              f"final masks differ on {m['final_mismatch_px']} px = {100 * m['final_mismatch_frac']:.4f} % (max 0.1 %)")
        # ---- JSON bbox and area against the PNG the CLI wrote
        bbox, area = ref.mask_bbox_area(r_mask)
        check(js.get("area") == area, f"json area {js.get('area')} != {area} pixels inside the mask PNG")
        check(js.get("bbox") == bbox, f"json bbox {js.get('bbox')} != {bbox} enclosing the mask PNG's pixels")

    # ---- JPEG: if the encoder input differs, is it the decoder or the rest of the pipeline?
    if images.PHOTOS[photo].fmt == "jpeg" and not input_ok and hard_shape_ok and (new_h, new_w) == (h, w):
        r_px = ref.denormalize(r_input, h, w)
        d = np.abs(r_px - rgb.astype(np.float32))
        m["jpeg_decode_max"] = float(d.max())
        m["jpeg_decode_mean"] = float(d.mean())
        m["jpeg_decode_frac_over_1"] = float((d > GREY_TOL + 1e-3).mean())
        m["jpeg_decode_p999"] = float(np.quantile(d, 0.999))
        # Run the reference on the Rust-decoded pixels: does the rest of the pipeline still agree?
        s_emb = sess.encode(r_input)
        s_masks = sess.decode(s_emb, ref_coords, ref_labels)[1]
        m["jpeg_same_pixels_embedding_rel"] = rel_diff(r_emb, s_emb)[0]
        m["jpeg_same_pixels_lowres_rel"] = rel_diff(r_masks, s_masks)[0]
        failures.append(f"(JPEG decoded pixels differ from PIL/libjpeg-turbo: max {d.max():.2f} grey levels, "
                        f"mean {d.mean():.4f}, 99.9th pct {m['jpeg_decode_p999']:.2f}, "
                        f"{100 * m['jpeg_decode_frac_over_1']:.3f} % of values > 1 "
                        f"(subsampling {'4:2:0' if images.PHOTOS[photo].subsampling == 2 else '4:4:4'}). Given the "
                        f"Rust-decoded pixels the reference matches: embedding rel "
                        f"{m['jpeg_same_pixels_embedding_rel']:.3g}, low-res rel "
                        f"{m['jpeg_same_pixels_lowres_rel']:.3g})")
    # ---- for scale, when a numeric check failed: how far does onnxruntime move from itself when
    # only its graph optimisations are switched off (same model, same input, same prompt)?
    if failures:
        f_emb = reference.embedding(photo, model, optimize=False)
        f_scores, f_masks = reference.session(model, optimize=False).decode(f_emb, ref_coords, ref_labels)
        m["ort_self_embedding_rel"] = rel_diff(f_emb, ref_emb)[0]
        m["ort_self_lowres_rel"] = rel_diff(f_masks, ref_masks)[0]
        m["ort_self_scores_max_abs"] = float(np.nanmax(np.abs(f_scores - ref_scores)))
        if hard_shape_ok:
            f_mask = ref.threshold(ref.postprocess_logits(f_masks[0, k], h, w))
            m["ort_self_final_confident_mismatch_px"] = int(((f_mask != ref_mask) & confident).sum())
        failures.append(
            f"(for scale: onnxruntime with graph optimisations off vs on, same case: embedding rel "
            f"{m['ort_self_embedding_rel']:.3g}, low-res rel {m['ort_self_lowres_rel']:.3g}, scores "
            f"{m['ort_self_scores_max_abs']:.3g}, confident final-mask mismatches "
            f"{m.get('ort_self_final_confident_mismatch_px')})")
    m["failures"] = failures
    metrics.append(m)
    assert not failures, f"{model}/{cid}: " + "\n".join(failures)
