"""Deterministic synthetic test "photos" for the parity tests.

A photo is smooth colour gradients (so the resize filter matters), a few filled shapes (so the
model has objects with edges to segment) and mild Gaussian noise (so neighbouring pixels differ and
a wrong filter or an off-by-one shows). Everything is derived from a seed with numpy's PCG64, and
drawn with PIL, so the same name always gives the same pixels.

`PHOTOS` names every photo the tests use; `photo_path(name, directory)` writes it once (PNG, or
JPEG with an optional EXIF orientation tag) and returns the path. `oriented_size(name)` is the
(width, height) a viewer shows, i.e. after the EXIF orientation is applied.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image, ImageDraw

EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class PhotoSpec:
    width: int                  # stored pixel width (before EXIF orientation)
    height: int                 # stored pixel height
    seed: int
    fmt: str = "png"            # "png" or "jpeg"
    orientation: Optional[int] = None   # EXIF orientation tag for JPEGs (1..8)
    subsampling: int = 2        # JPEG chroma subsampling: 0 = 4:4:4, 2 = 4:2:0 (phones)
    quality: int = 92
    notes: str = field(default="", compare=False)


PHOTOS = {
    "portrait": PhotoSpec(600, 900, 1, notes="upscaled x1.14"),
    "landscape": PhotoSpec(1280, 720, 2, notes="downscaled x0.8: antialiased PIL filter"),
    "square": PhotoSpec(512, 512, 3, notes="upscaled x2 exactly"),
    "tiny_wide": PhotoSpec(17, 9, 4, notes="17x9"),
    "tiny_tall": PhotoSpec(9, 17, 5, notes="9x17"),
    "big": PhotoSpec(4000, 3000, 6, notes="4000x3000, downscaled x0.256"),
    "odd_1023x767": PhotoSpec(1023, 767, 7),
    "odd_1025x577": PhotoSpec(1025, 577, 8, notes="just over 1024, new_h rounds 576.44 -> 576"),
    "thin_wide": PhotoSpec(1030, 5, 9, notes="extreme aspect, 5 rows"),
    "thin_tall": PhotoSpec(4, 1030, 10, notes="extreme aspect, 4 columns"),
    # JPEGs: longest side exactly 1024 so the resize is the identity and the encoder input shows the
    # decoded pixels directly.
    "jpeg_exif6": PhotoSpec(1024, 768, 11, fmt="jpeg", orientation=6, subsampling=2,
                            notes="stored 1024x768, shown 768x1024 (rotate 90 CW), 4:2:0"),
    "jpeg_exif8": PhotoSpec(1024, 576, 12, fmt="jpeg", orientation=8, subsampling=0,
                            notes="stored 1024x576, shown 576x1024 (rotate 90 CCW), 4:4:4"),
    "jpeg_plain": PhotoSpec(1024, 680, 13, fmt="jpeg", orientation=None, subsampling=2,
                            notes="no EXIF, 4:2:0"),
}


def oriented_size(name: str):
    """(width, height) after EXIF orientation."""
    s = PHOTOS[name]
    if s.orientation in (5, 6, 7, 8):
        return s.height, s.width
    return s.width, s.height


def synth_photo(width: int, height: int, seed: int) -> np.ndarray:
    """uint8 HxWx3: gradients + shapes + mild noise, deterministic in (width, height, seed)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    # Smooth background: per channel a linear ramp plus one low-frequency wave, in float32.
    yy = (np.arange(height, dtype=np.float32)[:, None] + 0.5) / height
    xx = (np.arange(width, dtype=np.float32)[None, :] + 0.5) / width
    img = np.empty((height, width, 3), dtype=np.float32)
    for c in range(3):
        a, b, base = rng.uniform(-90, 90), rng.uniform(-90, 90), rng.uniform(70, 185)
        fx, fy, ph, amp = rng.uniform(0.5, 2.5), rng.uniform(0.5, 2.5), rng.uniform(0, 6.28), rng.uniform(10, 30)
        img[..., c] = base + a * (xx - 0.5) + b * (yy - 0.5) + amp * np.sin(6.2832 * (fx * xx + fy * yy) + ph)
    base_img = Image.fromarray(np.clip(img + 0.5, 0, 255).astype(np.uint8))
    del img

    # A few filled shapes with sizes relative to the photo.
    draw = ImageDraw.Draw(base_img)
    for _ in range(int(rng.integers(3, 6))):
        kind = int(rng.integers(0, 3))
        cx, cy = rng.uniform(0.1, 0.9) * width, rng.uniform(0.1, 0.9) * height
        rx, ry = rng.uniform(0.06, 0.25) * width, rng.uniform(0.06, 0.25) * height
        colour = tuple(int(v) for v in rng.integers(0, 256, size=3))
        if kind == 0:
            draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=colour)
        elif kind == 1:
            draw.rectangle([cx - rx, cy - ry, cx + rx, cy + ry], fill=colour)
        else:
            angles = np.sort(rng.uniform(0, 6.2832, size=int(rng.integers(3, 7))))
            pts = [(float(cx + rx * np.cos(t)), float(cy + ry * np.sin(t))) for t in angles]
            draw.polygon(pts, fill=colour)

    # Mild sensor-like noise (sigma 3 grey levels), added in int16 to keep memory low for 4000x3000.
    out = np.asarray(base_img, dtype=np.int16)
    noise = rng.normal(0.0, 3.0, size=out.shape).astype(np.float32)
    out = out + np.rint(noise).astype(np.int16)
    return np.clip(out, 0, 255).astype(np.uint8)


def write_photo(spec: PhotoSpec, path: Path) -> Path:
    """Write the photo described by `spec` (stored pixels) to `path`."""
    rgb = synth_photo(spec.width, spec.height, spec.seed)
    im = Image.fromarray(rgb)
    if spec.fmt == "png":
        im.save(path, "PNG", compress_level=1)
    elif spec.fmt == "jpeg":
        kwargs = dict(quality=spec.quality, subsampling=spec.subsampling)
        if spec.orientation is not None:
            exif = Image.Exif()
            exif[EXIF_ORIENTATION] = spec.orientation
            kwargs["exif"] = exif.tobytes()
        im.save(path, "JPEG", **kwargs)
    else:
        raise ValueError(spec.fmt)
    return path


def photo_path(name: str, directory) -> Path:
    """Path of the named photo inside `directory`, written on first use."""
    spec = PHOTOS[name]
    path = Path(directory) / f"{name}.{'jpg' if spec.fmt == 'jpeg' else 'png'}"
    if not path.exists():
        tmp = path.with_name(path.name + ".partial" + path.suffix)
        write_photo(spec, tmp)
        tmp.replace(path)
    return path
