"""Independent Python reference of the official EdgeSAM ONNX pipeline.

Written from the official EdgeSAM pipeline's specification (its ONNX graphs' interfaces, pre- and
post-processing), not from the Rust code, so that the parity tests compare two implementations of
the same specification. Every step is a plain function so tests can compare the pipeline step by
step:

    load_rgb -> resized_size -> resize_rgb -> normalize_pad  (= preprocess)
    transform_coords -> prompt_arrays
    ReferenceSession.encode / .decode                   (onnxruntime, CPU)
    choose_mask_index -> postprocess_logits -> threshold
    stability_score                                     (re-scoring / plain exports)
    segment                                             (all of it, every intermediate returned)

Conventions: images are uint8 HxWx3 RGB numpy arrays; sizes are (h, w); points are (x, y) in the
original photo's pixel coordinates (after EXIF orientation).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image, ImageOps

TARGET = 1024  # the encoder's square input side
LOW_RES = 256  # the decoder's mask side
EMBED_SHAPE = (1, 256, 64, 64)

# Per-channel normalisation on the 0..255 scale (RGB order).
PIXEL_MEAN = np.array([123.675, 116.28, 103.53], dtype=np.float32)
PIXEL_STD = np.array([58.395, 57.12, 57.375], dtype=np.float32)

# Point labels understood by the decoder.
LABEL_NEGATIVE = 0.0
LABEL_POSITIVE = 1.0
LABEL_BOX_TOP_LEFT = 2.0
LABEL_BOX_BOTTOM_RIGHT = 3.0

MASK_THRESHOLD = 0.0


# --------------------------------------------------------------------------------------------
# Pre-processing
# --------------------------------------------------------------------------------------------
def load_rgb(path) -> np.ndarray:
    """Decode a photo to uint8 HxWx3 RGB with its EXIF orientation applied."""
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im)
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def resized_size(h: int, w: int) -> Tuple[int, int]:
    """(new_h, new_w): longest side 1024, scale = 1024/max(h, w), new = int(side*scale + 0.5)."""
    scale = TARGET * 1.0 / max(h, w)
    new_h = int(h * scale + 0.5)
    new_w = int(w * scale + 0.5)
    return new_h, new_w


def resize_rgb(rgb: np.ndarray, new_h: int, new_w: int) -> np.ndarray:
    """PIL bilinear resize (a convolution whose support grows when downscaling), uint8 out."""
    im = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8))
    return np.asarray(im.resize((new_w, new_h), Image.BILINEAR), dtype=np.uint8)


def normalize_pad(resized: np.ndarray) -> np.ndarray:
    """Normalise per channel on the 0..255 scale, then zero-pad right/bottom -> [1,3,1024,1024]."""
    h, w = resized.shape[:2]
    if h > TARGET or w > TARGET:
        raise ValueError(f"resized image {w}x{h} larger than {TARGET}")
    x = (resized.astype(np.float32) - PIXEL_MEAN) / PIXEL_STD  # HxWx3 float32
    out = np.zeros((1, 3, TARGET, TARGET), dtype=np.float32)
    out[0, :, :h, :w] = x.transpose(2, 0, 1)
    return out


def preprocess(rgb: np.ndarray) -> np.ndarray:
    """uint8 HxWx3 RGB -> float32 [1,3,1024,1024] encoder input."""
    h, w = rgb.shape[:2]
    new_h, new_w = resized_size(h, w)
    return normalize_pad(resize_rgb(rgb, new_h, new_w))


def denormalize(tensor: np.ndarray, h: int, w: int) -> np.ndarray:
    """Inverse of normalize_pad on the [:h,:w] region: float32 HxWx3 on the 0..255 scale."""
    t = np.asarray(tensor, dtype=np.float32).reshape(3, TARGET, TARGET)[:, :h, :w]
    return t.transpose(1, 2, 0) * PIXEL_STD + PIXEL_MEAN


# --------------------------------------------------------------------------------------------
# Prompts
# --------------------------------------------------------------------------------------------
def transform_coords(points_xy, h: int, w: int) -> np.ndarray:
    """Original pixel (x, y) -> resized 1024 frame: x*new_w/w, y*new_h/h. No offset."""
    new_h, new_w = resized_size(h, w)
    c = np.array(points_xy, dtype=np.float64).reshape(-1, 2).copy()
    c[:, 0] = c[:, 0] * (new_w / w)
    c[:, 1] = c[:, 1] * (new_h / h)
    return c


def prompt_arrays(points: Sequence[Tuple[float, float, float]],
                  box: Optional[Tuple[float, float, float, float]], h: int, w: int):
    """-> (point_coords [1,N,2], point_labels [1,N]) float32.

    The user's points first (label 1 positive, 0 negative), then the box as two points labelled
    2 (top-left) and 3 (bottom-right). No padding point is appended (official ONNX path).
    """
    xy, labels = [], []
    for p in points or ():
        x, y = p[0], p[1]
        lab = p[2] if len(p) > 2 else LABEL_POSITIVE
        xy.append((x, y))
        labels.append(float(lab))
    if box is not None:
        x0, y0, x1, y1 = box
        xy += [(x0, y0), (x1, y1)]
        labels += [LABEL_BOX_TOP_LEFT, LABEL_BOX_BOTTOM_RIGHT]
    if not xy:
        raise ValueError("need at least one point or a box")
    coords = transform_coords(xy, h, w).astype(np.float32)[None]
    return coords, np.array(labels, dtype=np.float32)[None]


# --------------------------------------------------------------------------------------------
# Models (onnxruntime, CPU)
# --------------------------------------------------------------------------------------------
class ReferenceSession:
    """The encoder and decoder InferenceSessions, CPU, `threads` intra-op threads, sequential.

    With `profile_dir`, onnxruntime records every run node by node; each session's
    `end_profiling()` writes its JSON trace there (named after the model file) and returns the path.
    """

    def __init__(self, encoder_path, decoder_path, threads: int = 1, optimize: bool = True, profile_dir=None):
        import onnxruntime as ort

        def make(path):
            so = ort.SessionOptions()
            so.intra_op_num_threads = int(threads)
            so.inter_op_num_threads = 1
            so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            so.log_severity_level = 3  # the decoder declares bogus output dims: hush the warnings
            if not optimize:
                so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            if profile_dir is not None:
                so.enable_profiling = True
                so.profile_file_prefix = str(Path(profile_dir) / Path(path).stem)
            return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])

        self.encoder_path, self.decoder_path, self.threads = str(encoder_path), str(decoder_path), threads
        self.encoder = make(encoder_path)
        self.decoder = make(decoder_path)

    def encode(self, input_tensor: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(input_tensor, dtype=np.float32)
        if x.shape != (1, 3, TARGET, TARGET):
            raise ValueError(f"encoder input must be [1,3,1024,1024], got {x.shape}")
        (emb,) = self.encoder.run(["image_embeddings"], {"image": x})
        return emb

    def decode(self, embedding: np.ndarray, point_coords: np.ndarray, point_labels: np.ndarray):
        """-> (scores [1,4], masks [1,4,256,256]) float32."""
        scores, masks = self.decoder.run(
            ["scores", "masks"],
            {
                "image_embeddings": np.ascontiguousarray(embedding, dtype=np.float32),
                "point_coords": np.ascontiguousarray(point_coords, dtype=np.float32),
                "point_labels": np.ascontiguousarray(point_labels, dtype=np.float32),
            },
        )
        return np.asarray(scores, np.float32), np.asarray(masks, np.float32)


# --------------------------------------------------------------------------------------------
# Post-processing
# --------------------------------------------------------------------------------------------
def choose_mask_index(scores, has_points: bool, has_box: bool, requested: Optional[int] = None) -> int:
    """requested if given; a box alone -> 0 (single-mask token); otherwise argmax of the 4 scores."""
    if requested is not None:
        requested = int(requested)
        if not 0 <= requested < 4:
            raise ValueError(f"mask index {requested} out of 0..3")
        return requested
    if has_box and not has_points:
        return 0
    # The graph scores a candidate with no logit above -1 as 0/0 = NaN, which np.argmax would pick:
    # the official demo then shows an empty mask. edgesam (and so this reference) scores it 0.
    scores = np.nan_to_num(np.asarray(scores, dtype=np.float32).reshape(-1)[:4], nan=0.0)
    return int(np.argmax(scores))


def postprocess_logits(low_res: np.ndarray, h: int, w: int) -> np.ndarray:
    """[256,256] low-res logits -> float32 HxW logits at the original size.

    cv2 INTER_LINEAR (half-pixel centres) up to 1024x1024, crop [:new_h,:new_w] (drop the padding),
    cv2 INTER_LINEAR to (w, h).
    """
    lr = np.ascontiguousarray(np.asarray(low_res, dtype=np.float32).reshape(LOW_RES, LOW_RES))
    new_h, new_w = resized_size(h, w)
    up = cv2.resize(lr, (TARGET, TARGET), interpolation=cv2.INTER_LINEAR)
    crop = np.ascontiguousarray(up[:new_h, :new_w])
    return cv2.resize(crop, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32).reshape(h, w)


def threshold(logits: np.ndarray) -> np.ndarray:
    """mask = logit > 0.0 (logits, not probabilities: never 0.5)."""
    return np.asarray(logits) > MASK_THRESHOLD


def stability_score(logits: np.ndarray, offset: float = 1.0):
    """#(l > +offset) / #(l > -offset) over the last two axes (float32, like the export)."""
    l = np.asarray(logits, dtype=np.float32)
    inter = (l > MASK_THRESHOLD + offset).sum(axis=(-2, -1)).astype(np.float32)
    union = (l > MASK_THRESHOLD - offset).sum(axis=(-2, -1)).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        return inter / union


def mask_bbox_area(mask: np.ndarray):
    """COCO-style [x, y, w, h] enclosing the mask's pixels (None if empty) and the pixel count."""
    m = np.asarray(mask, dtype=bool)
    area = int(m.sum())
    if area == 0:
        return None, 0
    ys = np.flatnonzero(m.any(axis=1))
    xs = np.flatnonzero(m.any(axis=0))
    return [int(xs[0]), int(ys[0]), int(xs[-1] - xs[0] + 1), int(ys[-1] - ys[0] + 1)], area


# --------------------------------------------------------------------------------------------
# The whole pipeline
# --------------------------------------------------------------------------------------------
@dataclass
class SegmentResult:
    rgb: np.ndarray            # uint8 HxWx3, EXIF-oriented
    size: Tuple[int, int]      # (h, w)
    resized: Tuple[int, int]   # (new_h, new_w)
    input: np.ndarray          # [1,3,1024,1024]
    embedding: np.ndarray      # [1,256,64,64]
    point_coords: np.ndarray   # [1,N,2]
    point_labels: np.ndarray   # [1,N]
    scores: np.ndarray         # [1,4]
    masks: np.ndarray          # [1,4,256,256] low-res logits
    mask_index: int
    logits: np.ndarray         # HxW float32 final logits of the chosen mask
    mask: np.ndarray           # HxW bool


def segment(session: ReferenceSession, image, points=(), box=None, mask_index: Optional[int] = None,
            embedding: Optional[np.ndarray] = None, input_tensor: Optional[np.ndarray] = None) -> SegmentResult:
    """Run the whole official pipeline. `image` is a path or a uint8 HxWx3 RGB array.

    `embedding` / `input_tensor` may be passed to reuse an earlier encode of the same image.
    """
    rgb = load_rgb(image) if not isinstance(image, np.ndarray) else np.asarray(image, dtype=np.uint8)
    h, w = rgb.shape[:2]
    new_h, new_w = resized_size(h, w)
    if embedding is None:
        if input_tensor is None:
            input_tensor = preprocess(rgb)
        embedding = session.encode(input_tensor)
    coords, labels = prompt_arrays(points, box, h, w)
    scores, masks = session.decode(embedding, coords, labels)
    k = choose_mask_index(scores, has_points=bool(points), has_box=box is not None, requested=mask_index)
    logits = postprocess_logits(masks[0, k], h, w)
    return SegmentResult(rgb=rgb, size=(h, w), resized=(new_h, new_w), input=input_tensor, embedding=embedding,
                         point_coords=coords, point_labels=labels, scores=scores, masks=masks,
                         mask_index=k, logits=logits, mask=threshold(logits))
