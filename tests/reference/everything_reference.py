#!/usr/bin/env python3
"""Reference of edgesam's automatic mask generation ("everything"), in numpy on onnxruntime.

SAM's automatic mask generator as edgesam specifies it for EdgeSAM's ONNX decoder: a grid of
single positive points (SAM's `build_point_grid`, scaled to the photo), the three multimask
candidates (1..3) of each, kept when the decoder's score is above `score_threshold` and the
stability score (on the 256x256 logits that cover the photo) at least `stability_threshold`, boxes
from those logits in photo pixels, torchvision-style NMS on the decoder scores, then the survivors
brought to the photo's size and sorted by area. Written from the algorithm, independently of the
Rust code, so the tests can hold one against the other.

    python tests/reference/everything_reference.py --write-nms-fixture tests/data/nms_cases.json
writes the fixed NMS cases the Rust unit tests replay.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

import numpy as np

import edgesam_reference as ref

CELL = ref.TARGET // ref.LOW_RES  # a low-res logit covers 4x4 pixels of the 1024 frame
MULTIMASK = (1, 2, 3)


def point_grid(n: int, w: int, h: int) -> np.ndarray:
    """SAM's build_point_grid(n) (cell centres of an n x n grid in [0,1]^2, y outer), scaled to
    (w, h) photo pixels; float32 like edgesam's grid."""
    offset = 1.0 / (2 * n)
    side = np.linspace(offset, 1 - offset, n)
    xs = np.tile(side[None, :], (n, 1))
    ys = np.tile(side[:, None], (1, n))
    unit = np.stack([xs, ys], axis=-1).reshape(-1, 2)
    return (unit * np.array([w, h], dtype=np.float64)).astype(np.float32)


def box_iou(a, b) -> float:
    """IoU of two [x0, y0, x1, y1] boxes (edges), as torchvision's box_iou; 0 for two empty boxes."""
    area = lambda r: max(r[2] - r[0], 0.0) * max(r[3] - r[1], 0.0)
    iw = max(min(a[2], b[2]) - max(a[0], b[0]), 0.0)
    ih = max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)
    inter = iw * ih
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def nms(boxes, scores, iou_threshold: float) -> List[int]:
    """torchvision.ops.nms semantics: by descending score (a stable sort), drop a box whose IoU
    with an already kept one is above the threshold. Returns kept indices, best first."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    kept: List[int] = []
    for i in order:
        if all(box_iou(boxes[k], boxes[i]) <= iou_threshold for k in kept):
            kept.append(int(i))
    return kept


def low_res_window(new_h: int, new_w: int) -> Tuple[int, int]:
    """(rows, cols) of the 256x256 logits that cover the photo; the rest maps onto padding."""
    return -(-new_h // CELL), -(-new_w // CELL)


def window_box(logits: np.ndarray, window, resized, size):
    """Box of the window's positive logits, edges at cell edges, in photo pixels; None if empty."""
    rows, cols = window
    (new_h, new_w), (h, w) = resized, size
    pos = logits[:rows, :cols] > 0
    if not pos.any():
        return None
    ys = np.flatnonzero(pos.any(axis=1))
    xs = np.flatnonzero(pos.any(axis=0))
    f32 = np.float32

    def to_photo(cells, resized_side, side):
        # ((cells * 4) * side) / resized_side in float32, the order edgesam computes it in.
        return float(min(f32(f32(f32(cells) * f32(CELL)) * f32(side)) / f32(resized_side), f32(side)))

    return [to_photo(xs[0], new_w, w), to_photo(ys[0], new_h, h),
            to_photo(xs[-1] + 1, new_w, w), to_photo(ys[-1] + 1, new_h, h)]


@dataclass
class Candidate:
    point: int
    candidate: int
    score: float
    stability: float
    box: list


def candidates(session: ref.ReferenceSession, embedding, size, points, stability_offset=1.0):
    """Every multimask candidate of every grid point that has a non-empty mask (no filtering)."""
    h, w = size
    resized = ref.resized_size(h, w)
    window = low_res_window(*resized)
    out = []
    for i, (x, y) in enumerate(points):
        coords, labels = ref.prompt_arrays([(float(x), float(y), 1.0)], None, h, w)
        scores, masks = session.decode(embedding, coords, labels)
        scores = np.nan_to_num(scores[0], nan=0.0)
        for k in MULTIMASK:
            logits = masks[0, k]
            stab = ref.stability_score(logits[:window[0], :window[1]], stability_offset)
            stab = float(np.nan_to_num(stab, nan=0.0))
            box = window_box(logits, window, resized, size)
            if box is not None:
                out.append(Candidate(i, k, float(scores[k]), stab, box))
    return out


def select(cands: List[Candidate], score_threshold, stability_threshold, nms_threshold):
    """The filters and NMS on the candidates; the survivors best first."""
    kept = [c for c in cands if c.score > score_threshold and c.stability >= stability_threshold]
    order = nms([c.box for c in kept], [c.score for c in kept], nms_threshold)
    return [kept[i] for i in order]


def nms_fixture(seed: int = 7) -> dict:
    """Fixed NMS cases: hand-made edge cases plus seeded random clusters, with the reference's
    answer at several thresholds."""
    rng = np.random.default_rng(seed)
    cases = [
        {"boxes": [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], "scores": [0.9, 0.8, 0.7]},
        {"boxes": [[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], "scores": [0.5, 0.5, 0.5]},
        {"boxes": [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 4, 4]], "scores": [0.9, 0.8, 0.1]},
        {"boxes": [[0, 0, 10, 10], [5, 0, 15, 10]], "scores": [0.1, 0.2]},
    ]
    for _ in range(6):
        n = int(rng.integers(5, 40))
        centres = rng.uniform(0, 200, size=(4, 2))
        pick = centres[rng.integers(0, 4, size=n)] + rng.normal(0, 6, size=(n, 2))
        half = rng.uniform(5, 40, size=(n, 2))
        boxes = np.concatenate([pick - half, pick + half], axis=1).astype(np.float32)
        scores = rng.uniform(0, 1, size=n).astype(np.float32)
        scores[rng.integers(0, n, size=2)] = scores[0]  # ties
        cases.append({"boxes": boxes.tolist(), "scores": scores.tolist()})
    for case in cases:
        b = np.asarray(case["boxes"], dtype=np.float32)
        s = np.asarray(case["scores"], dtype=np.float32)
        case["kept"] = {str(t): nms(b.tolist(), s, np.float32(t)) for t in (0.0, 0.3, 0.5, 0.7, 1.0)}
    return {"generator": "tests/reference/everything_reference.py --write-nms-fixture",
            "cases": cases}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-nms-fixture", type=Path, required=True)
    args = parser.parse_args()
    args.write_nms_fixture.write_text(json.dumps(nms_fixture()) + "\n")


if __name__ == "__main__":
    main()
