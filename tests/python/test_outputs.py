"""The CLI's mask outputs against independent references, on the tiny stand-in models.

`edgesam segment` writes the mask PNG and, from the same mask, COCO RLE (compressed and
uncompressed), outline polygons, a cut-out and an overlay. Each is checked against a reference
that does not share code with the Rust side: pycocotools for RLE, OpenCV's polygon filling for the
outlines, numpy for the cut-out and the alpha blend, OpenCV's erosion for the overlay outline.
The stand-ins' random weights give ragged masks with many regions and holes: a hard case for
the encoders and the contour code.
"""
import json
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps
from pycocotools import mask as coco_mask

import images
from conftest import CLI, REPO

# (id, photo, CLI prompt arguments). Photo names are images.PHOTOS keys or a path in the repo.
CASES = [
    ("sample_point", "tests/data/sample.jpg", ["--point", "350,420"]),
    ("square_box_index0", "square", ["--box", "100,120,400,380", "--mask-index", "0"]),
    ("landscape_points_index3", "landscape", ["--point", "320,200", "--point", "640,360,0",
                                              "--mask-index", "3"]),
    ("tiny_wide_point", "tiny_wide", ["--point", "8,4"]),
    ("thin_tall_box", "thin_tall", ["--box", "0,100,3,900"]),
]
OUTLINE_WIDTH = 2
CUTOUT_PADDING = 7
# The CLI's overlay colours (cli/src/outputs.rs): RGBA, alpha = blend weight out of 255.
INSIDE, OUTSIDE, OUTLINE = (30, 144, 255, 128), (0, 0, 0, 102), (255, 255, 255, 255)


@pytest.fixture(scope="module")
def models():
    import standins  # models/standins.py, on sys.path through conftest
    return standins.ensure_standins(size="tiny", scores="stability")


@pytest.fixture(scope="module")
def outputs(models, tmp_path_factory):
    """Runs the CLI once per case with every output requested; returns the files' contents."""
    if not Path(CLI).is_file():
        pytest.fail(f"Rust CLI not found at {CLI}: build it (cargo build --release -p edgesam-cli)")
    photo_dir = tmp_path_factory.mktemp("photos")
    cache = {}

    def get(case):
        cid, photo, prompt = case
        if cid in cache:
            return cache[cid]
        out = tmp_path_factory.mktemp(cid)
        path = REPO / photo if "/" in photo else images.photo_path(photo, photo_dir)
        files = {name: out / name for name in
                 ("mask.png", "rle.json", "counts.json", "polygons.json", "polygons0.json",
                  "cutout.png", "cropped.png", "overlay.png")}
        common = ["segment", "--encoder", models[0], "--decoder", models[1], "--image", path,
                  *prompt]
        run(common + ["--mask-out", files["mask.png"], "--rle-out", files["rle.json"],
                      "--polygons-out", files["polygons.json"], "--cutout-out", files["cutout.png"],
                      "--overlay-out", files["overlay.png"],
                      "--overlay-outline", OUTLINE_WIDTH])
        # Same prompt, same mask: the variants of the outputs.
        run(common + ["--rle-out", files["counts.json"], "--rle-uncompressed",
                      "--polygons-out", files["polygons0.json"], "--polygon-tolerance", 0,
                      "--cutout-out", files["cropped.png"], "--cutout-padding", CUTOUT_PADDING])
        photo_rgb = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
        cache[cid] = {
            "photo": photo_rgb,
            "mask": np.asarray(Image.open(files["mask.png"])) != 0,
            "rle": json.loads(files["rle.json"].read_text()),
            "counts": json.loads(files["counts.json"].read_text()),
            "polygons": json.loads(files["polygons.json"].read_text()),
            "polygons0": json.loads(files["polygons0.json"].read_text()),
            "cutout": np.asarray(Image.open(files["cutout.png"])),
            "cropped": np.asarray(Image.open(files["cropped.png"])),
            "overlay": np.asarray(Image.open(files["overlay.png"])),
        }
        return cache[cid]
    return get


def run(args):
    p = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        pytest.fail(f"edgesam exited {p.returncode}\nargs: {args}\nstderr:\n{p.stderr[-4000:]}")


def cases():
    return [pytest.param(c, id=c[0]) for c in CASES]


# --------------------------------------------------------------------------------- helpers
def edge_band(mask):
    """Pixels with a pixel of the other kind among their 8 neighbours: within 1 px of the edge.
    Beyond the photo counts as outside: a region's border runs along the photo's edge too."""
    m = mask.astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    eroded = cv2.erode(m, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return cv2.dilate(m, kernel) != eroded


def rasterise(polygons, shape):
    """Fills the polygons in their order (enclosing border first). Vertices are centres of mask
    pixels for regions and holes alike: a region is its polygon with the edges, a hole the
    polygon's interior without them."""
    canvas = np.zeros(shape, np.uint8)
    for p in polygons:
        points = np.asarray(p["points"], np.int32).reshape(-1, 1, 2)
        if p["hole"]:
            cv2.fillPoly(canvas, [points], 0)
            cv2.polylines(canvas, [points], isClosed=True, color=1, thickness=1, lineType=cv2.LINE_8)
        else:
            cv2.fillPoly(canvas, [points], 1)
    return canvas.astype(bool)


def blend(rgb, colour):
    """colour over rgb with the colour's alpha, rounded: the documented overlay formula."""
    a = colour[3]
    c = np.asarray(colour[:3], np.int64)
    return ((rgb.astype(np.int64) * (255 - a) + c * a + 127) // 255).astype(np.uint8)


# --------------------------------------------------------------------------------- the tests
def test_cases_cover_ragged_masks(outputs):
    """The checks below mean something only if the masks have regions, holes and both kinds of
    pixel; fail loudly if the stand-ins ever give trivial masks."""
    masks = [outputs(c)["mask"] for c in CASES]
    assert any(0 < m.mean() < 1 for m in masks)
    polygons = [p for c in CASES for p in outputs(c)["polygons"]["polygons"]]
    assert sum(p["hole"] for p in polygons) > 0 and len(polygons) > len(CASES)
    every_pixel = [p for c in CASES for p in outputs(c)["polygons0"]["polygons"]]
    assert sum(map(len, (p["points"] for p in polygons))) < 0.5 * sum(
        map(len, (p["points"] for p in every_pixel)))


@pytest.mark.parametrize("case", cases())
def test_rle_matches_pycocotools(case, outputs):
    o = outputs(case)
    mask = o["mask"]
    expected = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    assert o["rle"]["size"] == [mask.shape[0], mask.shape[1]] == list(expected["size"])
    assert o["rle"]["counts"] == expected["counts"].decode("ascii")
    decoded = coco_mask.decode({"size": o["rle"]["size"], "counts": o["rle"]["counts"].encode()})
    np.testing.assert_array_equal(decoded.astype(bool), mask)
    assert coco_mask.area(expected) == mask.sum()


@pytest.mark.parametrize("case", cases())
def test_uncompressed_rle_is_the_same_mask(case, outputs):
    o = outputs(case)
    counts = o["counts"]
    assert counts["size"] == o["rle"]["size"]
    assert sum(counts["counts"]) == o["mask"].size
    # pycocotools turns uncompressed counts into its compressed form: they must agree.
    from_counts = coco_mask.frPyObjects(counts, *counts["size"])
    assert from_counts["counts"].decode("ascii") == o["rle"]["counts"]
    np.testing.assert_array_equal(coco_mask.decode(from_counts).astype(bool), o["mask"])


@pytest.mark.parametrize("case", cases())
def test_polygons_rasterise_back_within_one_pixel(case, outputs):
    o = outputs(case)
    mask, found = o["mask"], o["polygons"]
    assert (found["width"], found["height"]) == (mask.shape[1], mask.shape[0])
    assert found["tolerance"] == 1.0
    differing = rasterise(found["polygons"], mask.shape) != mask
    outside_band = differing & ~edge_band(mask)
    assert not outside_band.any(), (
        f"{outside_band.sum()} pixels differ farther than 1 px from the mask's edge, "
        f"e.g. (y, x) {np.argwhere(outside_band)[:5].tolist()}")
    # And the polygons are not trivially loose: most edge pixels come back right.
    assert differing.sum() <= 0.5 * edge_band(mask).sum()


@pytest.mark.parametrize("case", cases())
def test_unsimplified_polygons_rasterise_back_exactly(case, outputs):
    o = outputs(case)
    filled = rasterise(o["polygons0"]["polygons"], o["mask"].shape)
    differing = np.argwhere(filled != o["mask"])
    assert len(differing) == 0, f"{len(differing)} pixels differ, e.g. (y, x) {differing[:5].tolist()}"


@pytest.mark.parametrize("case", cases())
def test_polygons_are_simplified_and_well_formed(case, outputs):
    o = outputs(case)
    polygons = o["polygons"]["polygons"]
    simplified = sum(len(p["points"]) for p in polygons)
    every_pixel = sum(len(p["points"]) for p in o["polygons0"]["polygons"])
    assert simplified <= every_pixel
    assert len(polygons) == len(o["polygons0"]["polygons"])
    for p in polygons:
        assert p["points"], "a border without vertices"
        assert p["parent"] is None or 0 <= p["parent"] < len(polygons)
        assert p["hole"] == (p["parent"] is not None and not polygons[p["parent"]]["hole"])


@pytest.mark.parametrize("case", cases())
def test_cutout_is_the_photo_inside_and_transparent_outside(case, outputs):
    o = outputs(case)
    photo, mask, cut = o["photo"], o["mask"], o["cutout"]
    assert cut.shape == (*mask.shape, 4)
    np.testing.assert_array_equal(cut[..., 3], np.where(mask, 255, 0))
    np.testing.assert_array_equal(cut[..., :3][mask], photo[mask])
    assert not cut[~mask].any()


@pytest.mark.parametrize("case", cases())
def test_cropped_cutout_is_the_padded_bounding_box(case, outputs):
    o = outputs(case)
    mask, full, cropped = o["mask"], o["cutout"], o["cropped"]
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    y0, y1 = max(ys.min() - CUTOUT_PADDING, 0), min(ys.max() + 1 + CUTOUT_PADDING, h)
    x0, x1 = max(xs.min() - CUTOUT_PADDING, 0), min(xs.max() + 1 + CUTOUT_PADDING, w)
    np.testing.assert_array_equal(cropped, full[y0:y1, x0:x1])


@pytest.mark.parametrize("case", cases())
def test_overlay_is_the_documented_blend(case, outputs):
    o = outputs(case)
    photo, mask = o["photo"], o["mask"]
    m = mask.astype(np.uint8)
    # Erosion by a 3x3 square, OUTLINE_WIDTH times; OpenCV's default border does not erode.
    eroded = cv2.erode(m, np.ones((3, 3), np.uint8), iterations=OUTLINE_WIDTH).astype(bool)
    outline = mask & ~eroded
    expected = np.where(mask[..., None], blend(photo, INSIDE), blend(photo, OUTSIDE))
    expected[outline] = blend(photo[outline], OUTLINE)
    overlay = o["overlay"]
    assert overlay.shape == photo.shape
    differing = np.argwhere((overlay != expected).any(axis=-1))
    assert len(differing) == 0, f"{len(differing)} pixels differ, e.g. (y, x) {differing[:5].tolist()}"
