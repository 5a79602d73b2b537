"""The one place that names the generated UniFFI API (`_uniffi.py`, regenerated, never edited).

A rename in the FFI (a record, a field) is an edit here only: the rest of the package uses
these functions and aliases.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

from ._uniffi import (  # noqa: F401  (the names the layer uses)
    AutoMask,
    BoundingBox,
    EdgeSamError,
    ImageEmbedding,
    Orientation,
    PixelFormat,
    PromptBox,
    PromptPoint,
    RgbaImage,
    SegmentAnything as Model,
    SegmentMask,
    SegmentPrompt,
    Segmentation,
)

Box = Tuple[float, float, float, float]


def make_prompt(points: Sequence[PromptPoint], box: Optional[Box],
                mask_index: Optional[int]) -> SegmentPrompt:
    """The generated prompt record from points and a box given as (x0, y0, x1, y1)."""
    corners = None if box is None else PromptBox(x0=box[0], y0=box[1], x1=box[2], y1=box[3])
    return SegmentPrompt(points=list(points), box=corners, mask_index=mask_index)


def bad_image(reason: str) -> EdgeSamError:
    return EdgeSamError.BadImage(f"bad image: {reason}")


def bad_prompt(reason: str) -> EdgeSamError:
    return EdgeSamError.BadPrompt(f"bad prompt: {reason}")
