"""Everything mode: the CLI against the independent reference (tests/reference/everything_reference.py
on onnxruntime), the fixed NMS cases the Rust tests replay, and the Python binding's API.

Random stand-in weights give scores and overlaps anywhere, so the thresholds are not SAM's
defaults but picked inside wide gaps of the reference's own values: a tiny difference between
tract's and onnxruntime's logits cannot flip a decision, and a real disagreement still shows.
"""
from __future__ import annotations

import asyncio
import json
import subprocess

import numpy as np
import pytest
from pycocotools import mask as coco_mask

import edgesam_reference as ref
import everything_reference as amg
from conftest import CLI, REPO

# The Python binding's fixtures (native library, tiny stand-ins, photo, model, embedding).
from test_bindings_python import edgesam, embedding, model, pair, photo, prompt  # noqa: F401

GRID = 8
PHOTO = REPO / "tests" / "data" / "sample.jpg"


def gap_threshold(values, low, high, margin):
    """The middle of the widest gap between sorted `values` that lies in [low, high], so that no
    value is within `margin` of it; fails if no such gap exists."""
    v = np.unique(np.clip(np.asarray(values, dtype=np.float64), low, high))
    v = np.concatenate([[low], v, [high]])
    gaps = np.diff(v)
    i = int(np.argmax(gaps))
    assert gaps[i] > 2 * margin, f"no gap wider than {2 * margin} in {low}..{high}"
    return float((v[i] + v[i + 1]) / 2)


@pytest.fixture(scope="module")
def reference_run():
    import standins
    encoder, decoder = standins.ensure_standins("tiny")
    session = ref.ReferenceSession(encoder, decoder)
    rgb = ref.load_rgb(PHOTO)
    h, w = rgb.shape[:2]
    emb = session.encode(ref.preprocess(rgb))
    points = amg.point_grid(GRID, w, h)
    cands = amg.candidates(session, emb, (h, w), points)
    return (encoder, decoder), session, emb, (h, w), points, cands


def decode_rle(entry, size):
    rle = entry["segmentation"]
    return coco_mask.decode({"size": rle["size"], "counts": rle["counts"].encode()}).astype(bool)


@pytest.mark.parametrize("nms_t", [1.0, 0.7])
def test_cli_everything_matches_the_reference(reference_run, tmp_path, nms_t):
    # Random weights make every stand-in mask spread over the whole photo, so all boxes are the
    # photo: NMS at 1.0 keeps every filtered candidate (IoU 1 is not above 1), at 0.7 only the
    # best. The fixed NMS cases (test below, and the Rust unit test) cover overlaps in between.
    (encoder, decoder), session, emb, (h, w), points, cands = reference_run
    assert len(cands) > 20
    scores = [c.score for c in cands]
    stabilities = [c.stability for c in cands]
    score_t = gap_threshold(scores, *np.quantile(scores, [0.2, 0.6]), 1e-3)
    stab_t = gap_threshold(stabilities, *np.quantile(stabilities, [0.1, 0.5]), 5e-3)
    kept = [c for c in cands if c.score > score_t and c.stability >= stab_t]
    expected = amg.select(cands, score_t, stab_t, nms_t)
    assert 2 <= len(kept) < len(cands), "each filter must keep some and drop some"
    assert len(expected) == (len(kept) if nms_t == 1.0 else 1)

    out = tmp_path / "everything.json"
    subprocess.run([str(CLI), "everything", "--encoder", str(encoder), "--decoder", str(decoder),
                    "--image", str(PHOTO), "--points-per-side", str(GRID),
                    "--score-threshold", repr(score_t), "--stability-threshold", repr(stab_t),
                    "--box-nms-threshold", repr(nms_t), "--threads", "2", "--json-out", str(out)],
                   check=True, capture_output=True)
    got = json.loads(out.read_text())
    assert (got["width"], got["height"]) == (w, h)
    masks = got["masks"]

    def grid_index(point):
        return int(np.argmin(np.abs(points - np.asarray(point, dtype=np.float32)).sum(axis=1)))

    got_keys = [(grid_index(m["point"]), m["candidate"]) for m in masks]
    assert sorted(got_keys) == sorted((c.point, c.candidate) for c in expected)
    by_key = {(c.point, c.candidate): c for c in expected}
    areas = []
    for m, key in zip(masks, got_keys):
        assert np.allclose(m["point"], points[key[0]], atol=1e-3)
        c = by_key[key]
        assert m["score"] == pytest.approx(c.score, abs=1e-3)
        assert m["stability_score"] == pytest.approx(c.stability, abs=5e-3)
        mask = decode_rle(m, (h, w))
        coords, labels = ref.prompt_arrays([(*points[key[0]], 1.0)], None, h, w)
        _, low = session.decode(emb, coords, labels)
        want = ref.threshold(ref.postprocess_logits(low[0, key[1]], h, w))
        iou = (mask & want).sum() / max((mask | want).sum(), 1)
        assert iou > 0.99, f"mask {key}: IoU {iou:.4f} with the reference"
        bbox, area = ref.mask_bbox_area(mask)
        assert (m["area"], m["bbox"]) == (area, bbox)
        areas.append(area)
    assert areas == sorted(areas, reverse=True)


def test_the_committed_nms_cases_are_the_reference_answers():
    committed = json.loads((REPO / "tests" / "data" / "nms_cases.json").read_text())
    assert committed == json.loads(json.dumps(amg.nms_fixture()))


def test_nms_reference_follows_torchvision_rules():
    boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [50, 50, 60, 60]]
    assert amg.nms(boxes, [0.5, 0.9, 0.5, 0.1], 0.5) == [1, 3]
    assert amg.nms(boxes, [0.5, 0.4, 0.5, 0.1], 1.0) == [0, 2, 1, 3]  # IoU 1 is not above 1
    assert amg.nms(boxes, [0.5, 0.4, 0.5, 0.1], 0.0) == [0, 3]


class Recorder:
    def __init__(self, edgesam, cancel_after=None, token=None):
        self.seen, self.cancel_after, self.token = [], cancel_after, token
        base = edgesam.EverythingListener

        class Listener(base):
            def on_progress(inner, progress):
                self.seen.append(progress)
                if self.cancel_after is not None and len(self.seen) >= self.cancel_after:
                    self.token.cancel()

        self.listener = Listener()


def test_binding_everything_masks_are_taps_and_progress_is_reported(edgesam, model, embedding):
    options = edgesam.EverythingOptions(points_per_side=4, score_threshold=-1.0, stability_threshold=0.0)
    recorder = Recorder(edgesam)
    masks = model.everything(embedding, options, recorder.listener)
    assert masks, "permissive thresholds keep masks"
    assert max(p.points_done for p in recorder.seen) == 16
    assert all(p.points_total == 16 for p in recorder.seen)
    for m in masks:
        decoded = edgesam.SegmentMask.from_coco_rle(m.rle)
        tap = model.segment(embedding, edgesam.SegmentPrompt(
            points=[edgesam.PromptPoint(x=m.point_x, y=m.point_y, positive=True)], mask_index=m.candidate))
        assert decoded == tap.mask
        assert (m.area, m.bounding_box) == (tap.mask.area(), tap.mask.bounding_box())
        assert m.score == tap.scores[m.candidate]
    assert [m.area for m in masks] == sorted((m.area for m in masks), reverse=True)
    # Defaults are SAM's.
    d = edgesam.EverythingOptions()
    assert (d.points_per_side, d.box_nms_threshold, d.min_region_area) == (32, pytest.approx(0.7), 0)


def test_binding_everything_cancels_and_checks_options(edgesam, model, embedding):
    token = edgesam.CancellationToken()
    recorder = Recorder(edgesam, cancel_after=3, token=token)
    options = edgesam.EverythingOptions(points_per_side=8, score_threshold=-1.0, stability_threshold=0.0)

    async def cancelled():
        return await model.everything_async(embedding, options, recorder.listener, token)

    with pytest.raises(edgesam.EdgeSamError.Cancelled):
        asyncio.run(cancelled())
    assert len(recorder.seen) < 64
    with pytest.raises(edgesam.EdgeSamError.BadOptions) as caught:
        model.everything(embedding, edgesam.EverythingOptions(points_per_side=0))
    assert "points_per_side" in caught.value.reason
    # Still usable afterwards.
    assert model.everything(embedding, edgesam.EverythingOptions(points_per_side=2, score_threshold=-1.0,
                                                                 stability_threshold=0.0)) is not None
