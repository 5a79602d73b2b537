"""The imaging world's idioms over the generated API: paths, bytes, PIL images and NumPy arrays in,
NumPy boolean masks out, prompts as plain tuples."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _ffi
from ._ffi import Box, ImageEmbedding, Orientation, PromptPoint, SegmentMask, Segmentation

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

ImageLike = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, np.ndarray, "PILImage"]

_CHANNELS = {3: _ffi.PixelFormat.RGB8, 4: _ffi.PixelFormat.RGBA8}


def _is_pil_image(image: Any) -> bool:
    # Pillow is optional: an object is a PIL image only if Pillow is loaded already.
    import sys
    pil = sys.modules.get("PIL.Image")
    return pil is not None and isinstance(image, pil.Image)


def _pixels(array: np.ndarray) -> Tuple[bytes, int, int, int, Any]:
    """Raw-pixel arguments for an HxWx3 (RGB) or HxWx4 (RGBA) uint8 array."""
    if array.dtype != np.uint8:
        raise _ffi.bad_image(f"pixel array of dtype {array.dtype}, expected uint8")
    if array.ndim != 3 or array.shape[2] not in _CHANNELS:
        raise _ffi.bad_image(f"pixel array of shape {array.shape}, expected (height, width, 3 or 4)")
    height, width, channels = array.shape
    rows = np.ascontiguousarray(array)  # a view when the array is already C-ordered
    return rows.tobytes(), width, height, width * channels, _CHANNELS[channels]


def _prompt_points(points: Optional[Iterable[Sequence[float]]],
                   labels: Optional[Iterable[int]]) -> List[PromptPoint]:
    coordinates = [] if points is None else [tuple(p) for p in points]
    flags = [1] * len(coordinates) if labels is None else [int(label) for label in labels]
    if len(flags) != len(coordinates):
        raise _ffi.bad_prompt(f"{len(coordinates)} points but {len(flags)} labels")
    result = []
    for xy, label in zip(coordinates, flags):
        if len(xy) != 2:
            raise _ffi.bad_prompt(f"point {xy} is not (x, y)")
        if label not in (0, 1):
            raise _ffi.bad_prompt(f"label {label} is neither 1 (positive) nor 0 (negative)")
        result.append(PromptPoint(x=float(xy[0]), y=float(xy[1]), positive=bool(label)))
    return result


def _box(box: Optional[Sequence[float]]) -> Optional[Box]:
    if box is None:
        return None
    values = tuple(float(v) for v in box)
    if len(values) != 4:
        raise _ffi.bad_prompt(f"box {tuple(box)} is not (x0, y0, x1, y1)")
    return values  # type: ignore[return-value]


class SegmentAnything(_ffi.Model):
    """An EdgeSAM encoder/decoder pair (`SegmentAnything.from_files(encoder, decoder)`), with
    `encode` taking any image and `segment` taking plain tuples."""

    def encode(self, image: ImageLike, orientation: Optional[Orientation] = None) -> ImageEmbedding:
        """Encodes a photo given as a file path, encoded bytes (JPEG/PNG/WebP, EXIF orientation
        applied), a `PIL.Image` (as displayed by Pillow, no EXIF turn) or an HxWx3/HxWx4 uint8
        array of RGB(A) pixels. `orientation` turns a `PIL.Image` or an array upright (e.g.
        `Orientation.RIGHT` for EXIF 6); files carry their own."""
        if isinstance(image, (str, os.PathLike)):
            try:
                with open(image, "rb") as file:
                    data = file.read()
            except OSError as error:
                raise _ffi.bad_image(f"cannot read {os.fspath(image)}: {error.strerror}") from error
            return self._encode_file(data, orientation)
        if isinstance(image, (bytes, bytearray, memoryview)):
            return self._encode_file(bytes(image), orientation)
        if _is_pil_image(image):
            image = np.asarray(image.convert("RGB") if image.mode not in ("RGB", "RGBA") else image)
        if isinstance(image, np.ndarray):
            return self.encode_pixels(*_pixels(image), orientation)
        raise _ffi.bad_image(f"cannot encode a {type(image).__name__}")

    def _encode_file(self, data: bytes, orientation: Optional[Orientation]) -> ImageEmbedding:
        if orientation is not None:
            raise _ffi.bad_image("an encoded file carries its own EXIF orientation; "
                                 "orientation is for PIL images and pixel arrays")
        return self.encode_image(data)

    def segment(self, embedding: ImageEmbedding, prompt: Optional[_ffi.SegmentPrompt] = None, *,
                points: Optional[Iterable[Sequence[float]]] = None,
                labels: Optional[Iterable[int]] = None,
                box: Optional[Sequence[float]] = None,
                mask_index: Optional[int] = None) -> Segmentation:
        """One tap's answer. Either the generated `SegmentPrompt`, or `points=[(x, y), ...]` with
        `labels=[1, 0, ...]` (1 positive, the default; 0 negative) and/or `box=(x0, y0, x1, y1)`."""
        if prompt is None:
            prompt = _ffi.make_prompt(_prompt_points(points, labels), _box(box), mask_index)
        elif points is not None or labels is not None or box is not None or mask_index is not None:
            raise _ffi.bad_prompt("give either a SegmentPrompt or points/labels/box, not both")
        return super().segment(embedding, prompt)


def mask_array(mask: Union[Segmentation, SegmentMask]) -> np.ndarray:
    """A mask (or a segmentation's) as an HxW NumPy boolean array (True inside): one pass over the
    library's bytes, read in place, no intermediate copy."""
    if isinstance(mask, Segmentation):
        mask = mask.mask
    data = mask.bytes()
    return np.frombuffer(data, dtype=np.uint8).reshape(mask.height(), mask.width()) != 0


def rgba_array(image: _ffi.RgbaImage) -> np.ndarray:
    """An `RgbaImage` (`decode_image`, `SegmentMask.overlay`, `tinted`, a cut-out's `image`) as an
    HxWx4 uint8 array, read in place."""
    return np.frombuffer(image.rgba, dtype=np.uint8).reshape(image.height, image.width, 4)


def everything_arrays(masks: Iterable[_ffi.AutoMask]) -> List[np.ndarray]:
    """Everything mode's masks (COCO RLE) decoded to HxW boolean arrays, in the same order."""
    return [mask_array(SegmentMask.from_coco_rle(m.rle)) for m in masks]
