"""Fixtures for the Swift binding tests (the EdgeSAMTests target), made on the host before `swift test`.

Foundation on Linux has no image encoder, so the photos are made here with Pillow, and the expected
masks come from the core CLI (`edgesam segment`) run on the same photo and prompts. Everything goes
into OUT_DIR with a `manifest.json` that the Swift tests read (from the folder named by
EDGESAM_SWIFT_FIXTURES), together with copies of the two models, so that the folder is all the
tests need; the prompts are defined only here, so the Swift side and the CLI always see the same ones.

Usage: make_fixtures.py OUT_DIR CLI ENCODER DECODER
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

WIDTH, HEIGHT = 320, 200

# name -> prompt. Points are (x, y, label), label 1 positive / 0 negative; box is x0, y0, x1, y1.
CASES = {
    "point": dict(points=[(200, 80, 1)]),
    "box": dict(box=(150, 30, 260, 130)),
    "points_and_box": dict(points=[(200, 80, 1), (160, 40, 0)], box=(150, 30, 260, 130)),
    "negative_point_and_box": dict(points=[(60, 170, 0)], box=(10, 120, 170, 199)),
    "two_points_mask_index_2": dict(points=[(40, 40, 1), (290, 180, 1)], mask_index=2),
}


def photo() -> np.ndarray:
    """uint8 HxWx3: gradients, a disc and a bar (objects with edges), mild deterministic noise."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    rgb = np.stack([x * 200 // WIDTH + 20, y * 150 // HEIGHT + 40, np.full_like(x, 120)], -1)
    disc = (x - WIDTH * 0.6) ** 2 + (y - HEIGHT * 0.4) ** 2 < (min(WIDTH, HEIGHT) * 0.25) ** 2
    rgb[disc] = (240, 220, 40)
    rgb[(y > HEIGHT * 0.75) & (x < WIDTH * 0.5)] = (20, 30, 90)
    noise = np.random.Generator(np.random.PCG64(7)).integers(-6, 7, rgb.shape)
    return np.clip(rgb + noise, 0, 255).astype(np.uint8)


def orientation_fixtures(out: Path) -> dict:
    """A small stored picture with padded rows, and for each EXIF orientation a PNG of it carrying
    that orientation and the upright pixels Pillow's exif_transpose makes of it: the stored pixels
    encoded (or cut out) with that orientation must give what the PNG and the upright pixels give."""
    width, height, padding = 7, 5, 4
    rgb = np.random.Generator(np.random.PCG64(3)).integers(0, 256, (height, width, 3), dtype=np.uint8)
    rgba = np.concatenate([rgb, np.full((height, width, 1), 255, np.uint8)], -1)
    stored = np.zeros((height, width * 4 + padding), np.uint8)
    stored[:, : width * 4] = rgba.reshape(height, -1)
    (out / "orient_stored.rgba").write_bytes(stored.tobytes())
    cases = []
    for exif in range(1, 9):
        tags = Image.Exif()
        tags[0x0112] = exif
        png = f"orient_{exif}.png"
        Image.fromarray(rgb).save(out / png, exif=tags.tobytes())
        upright = np.array(ImageOps.exif_transpose(Image.open(out / png)).convert("RGBA"))
        (out / f"orient_{exif}.rgba").write_bytes(upright.tobytes())
        cases.append({"exif": exif, "png": png, "upright": f"orient_{exif}.rgba",
                      "width": upright.shape[1], "height": upright.shape[0]})
    return {"stored": "orient_stored.rgba", "width": width, "height": height,
            "row_stride": width * 4 + padding, "cases": cases}


def run_cli(cli: str, encoder: str, decoder: str, image: Path, spec: dict, mask_png: Path) -> dict:
    args = [cli, "segment", "--encoder", encoder, "--decoder", decoder,
            "--image", str(image), "--mask-out", str(mask_png), "--json"]
    for px, py, label in spec.get("points", []):
        args += ["--point", f"{px},{py},{label}"]
    if "box" in spec:
        args += ["--box", ",".join(str(v) for v in spec["box"])]
    if "mask_index" in spec:
        args += ["--mask-index", str(spec["mask_index"])]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> None:
    out, cli, encoder, decoder = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    out.mkdir(parents=True, exist_ok=True)

    shutil.copyfile(encoder, out / "encoder.onnx")
    shutil.copyfile(decoder, out / "decoder.onnx")
    rgb = photo()
    Image.fromarray(rgb).save(out / "photo.png")
    rgba = np.concatenate([rgb, np.full((HEIGHT, WIDTH, 1), 255, np.uint8)], -1)
    (out / "photo.rgba").write_bytes(rgba.tobytes())

    cases = []
    for name, spec in CASES.items():
        mask_png = out / f"{name}.cli.png"
        cli_json = run_cli(cli, encoder, decoder, out / "photo.png", spec, mask_png)
        mask = np.array(Image.open(mask_png))
        assert mask.shape == (HEIGHT, WIDTH) and mask.dtype == np.uint8, mask.shape
        (out / f"{name}.mask").write_bytes(mask.tobytes())
        cases.append({
            "name": name,
            "points": [list(p) for p in spec.get("points", [])],
            "box": list(spec["box"]) if "box" in spec else None,
            "mask_index": spec.get("mask_index"),
            "mask": f"{name}.mask",
            "cli": cli_json,
        })

    manifest = {
        "photo": {"png": "photo.png", "rgba": "photo.rgba", "width": WIDTH, "height": HEIGHT},
        "models": {"encoder": "encoder.onnx", "decoder": "decoder.onnx"},
        "cases": cases,
        "orientation": orientation_fixtures(out),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main()
