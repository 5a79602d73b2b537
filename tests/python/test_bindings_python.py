"""The Python bindings, as installed from the package's wheel, against the core CLI, on the tiny
stand-ins. `cargo xtask test` builds the wheel and installs it in the venv before this suite.
"""
from __future__ import annotations

import asyncio
import io
import json
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import CLI


@pytest.fixture(scope="module")
def edgesam():
    import edgesam as module
    # The package as a user installs it (the test command installs the freshly built wheel in the
    # venv), never the generated module of the source tree.
    path = Path(module.__file__).resolve()
    print(f"edgesam imported from {path}")
    assert "site-packages" in path.parts, f"edgesam imported from {path}, not an installed package"
    return module


@pytest.fixture(scope="module")
def pair():
    import standins
    return standins.ensure_standins("tiny")


@pytest.fixture(scope="module")
def model(edgesam, pair):
    return edgesam.SegmentAnything.from_files(str(pair[0]), str(pair[1]), threads=1)


def synthetic_rgb(width=320, height=200) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 200 // width + 20, y * 150 // height + 40, np.full_like(x, 120)], -1)
    disc = (x - width * 0.6) ** 2 + (y - height * 0.4) ** 2 < (min(width, height) * 0.25) ** 2
    rgb[disc] = (240, 220, 40)
    rgb[(y > height * 0.75) & (x < width * 0.5)] = (20, 30, 90)
    return rgb.astype(np.uint8)


def png_bytes(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def photo():
    rgb = synthetic_rgb()
    return rgb, png_bytes(rgb)


@pytest.fixture(scope="module")
def embedding(model, photo):
    return model.encode_image(photo[1])


def prompt(edgesam, points=(), box=None, mask_index=None):
    return edgesam.SegmentPrompt(
        points=[edgesam.PromptPoint(x=x, y=y, positive=bool(label)) for x, y, label in points],
        box=None if box is None else edgesam.PromptBox(x0=box[0], y0=box[1], x1=box[2], y1=box[3]),
        mask_index=mask_index,
    )


PROMPTS = {
    "point": dict(points=[(200, 80, 1)]),
    "box": dict(box=(150, 30, 260, 130)),
    "points_and_box": dict(points=[(200, 80, 1), (160, 40, 0)], box=(150, 30, 260, 130)),
}


def check_segmentation(result, width, height):
    handle = result.mask
    assert (handle.width(), handle.height()) == (width, height)
    mask = np.frombuffer(handle.bytes(), dtype=np.uint8).reshape(height, width)
    assert set(np.unique(mask)) <= {0, 255}
    assert handle.area() == int((mask == 255).sum())
    if handle.area() == 0:
        assert handle.bounding_box() is None
    else:
        ys, xs = np.nonzero(mask)
        box = handle.bounding_box()
        assert (box.x, box.y, box.width, box.height) == (
            xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    assert len(result.scores) == 4 and result.score == result.scores[result.mask_index]
    return mask


def run_cli(pair, image_path, spec, tmp_path):
    mask_path = tmp_path / "cli_mask.png"
    args = [str(CLI), "segment", "--encoder", str(pair[0]), "--decoder", str(pair[1]),
            "--image", str(image_path), "--mask-out", str(mask_path), "--json"]
    for x, y, label in spec.get("points", []):
        args += ["--point", f"{x},{y},{label}"]
    if "box" in spec:
        args += ["--box", ",".join(str(v) for v in spec["box"])]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return np.array(Image.open(mask_path)), json.loads(out)


@pytest.mark.parametrize("name", sorted(PROMPTS))
def test_segment_matches_the_core_cli(edgesam, model, embedding, photo, pair, name, tmp_path):
    spec = PROMPTS[name]
    result = model.segment(embedding, prompt(edgesam, **spec))
    mask = check_segmentation(result, 320, 200)
    if "points" in spec:
        assert result.mask_index == int(np.argmax(result.scores))
    else:
        assert result.mask_index == 0
    image_path = tmp_path / "photo.png"
    image_path.write_bytes(photo[1])
    cli_mask, cli_json = run_cli(pair, image_path, spec, tmp_path)
    assert np.array_equal(mask, cli_mask)
    assert cli_json["mask_index"] == result.mask_index
    assert np.allclose(cli_json["scores"], result.scores, rtol=0, atol=1e-6)


def test_explicit_mask_index_is_honoured(edgesam, model, embedding):
    result = model.segment(embedding, prompt(edgesam, points=[(100, 100, 1)], mask_index=3))
    assert result.mask_index == 3


def test_raw_rgba_with_padded_stride_equals_the_png(edgesam, model, embedding, photo):
    rgb = photo[0]
    h, w, _ = rgb.shape
    stride = w * 4 + 12
    buffer = np.zeros((h, stride), dtype=np.uint8)
    rgba = np.concatenate([rgb, np.full((h, w, 1), 255, np.uint8)], -1)
    buffer[:, : w * 4] = rgba.reshape(h, w * 4)
    from_pixels = model.encode_pixels(buffer.tobytes(), w, h, stride, edgesam.PixelFormat.RGBA8)
    p = prompt(edgesam, **PROMPTS["point"])
    assert model.segment(from_pixels, p) == model.segment(embedding, p)


def test_loading_from_bytes_and_embedding_round_trip(edgesam, pair, embedding, model):
    from_bytes = edgesam.SegmentAnything.from_bytes(pair[0].read_bytes(), pair[1].read_bytes())
    restored = edgesam.ImageEmbedding.from_bytes(embedding.to_bytes())
    assert (restored.width(), restored.height()) == (320, 200)
    p = prompt(edgesam, **PROMPTS["points_and_box"])
    assert from_bytes.segment(restored, p) == model.segment(embedding, p)


def test_a_cache_folder_fills_once_and_answers_as_without_it(edgesam, pair, embedding, model, tmp_path):
    cache = tmp_path / "cache"
    p = prompt(edgesam, points=[(200, 80, 1)])
    expected = model.segment(embedding, p)
    for launch in range(2):
        cached = edgesam.SegmentAnything.from_files(str(pair[0]), str(pair[1]), threads=1, cache_dir=str(cache))
        entries = {f.name: f.stat().st_mtime_ns for f in cache.iterdir()}
        assert len(entries) == 2, entries  # one per graph
        if launch == 0:
            filled = entries
        assert entries == filled, "the second launch rewrote the cache"
        assert cached.segment(embedding, p) == expected


def test_async_encode_equals_sync_and_a_cancelled_task_leaves_the_model_usable(edgesam, model, embedding, photo):
    """How promptly a cancelled call returns is test_robustness's (by order of events)."""
    async def scenario():
        awaited = await model.encode_image_async(photo[1])
        task = asyncio.ensure_future(model.encode_image_async(photo[1]))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return awaited

    awaited = asyncio.run(scenario())
    p = prompt(edgesam, **PROMPTS["point"])
    assert model.segment(awaited, p) == model.segment(embedding, p)
    assert model.segment(model.encode_image(photo[1]), p) == model.segment(embedding, p)


def test_eight_threads_on_one_model_agree_with_serial(edgesam, model, embedding):
    prompts = [prompt(edgesam, points=[(20 + 37 * i % 300, 15 + 23 * i % 180, i % 2)]) for i in range(16)]
    serial = [model.segment(embedding, p) for p in prompts]
    results = {}

    def worker(index):
        results[index] = [model.segment(embedding, p) for p in prompts]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    for index in range(8):
        assert results[index] == serial


def test_a_second_init_logging_changes_the_level(edgesam, model, embedding, capfd):
    """On the desktop the library logs to standard error (file descriptor 2, which capfd reads)."""
    p = prompt(edgesam, **PROMPTS["point"])
    try:
        capfd.readouterr()
        edgesam.init_logging(edgesam.LogLevel.INFO)
        edgesam.init_logging(edgesam.LogLevel.DEBUG)
        model.segment(embedding, p)
        assert "[edgesam DEBUG]" in capfd.readouterr().err
        edgesam.init_logging(edgesam.LogLevel.OFF)
        model.segment(embedding, p)
        assert "[edgesam" not in capfd.readouterr().err
    finally:
        edgesam.init_logging(edgesam.LogLevel.WARN)


def test_run_benchmark_reports_every_step_and_the_files_hashes(edgesam, pair, photo):
    import hashlib
    report = json.loads(edgesam.run_benchmark(str(pair[0]), str(pair[1]), image_data=photo[1],
                                              runs=3, points=3, threads=1))
    assert report["engine"] == "tract"
    assert (report["threads"], report["points"]) == (1, 3)
    assert report["image"] == {"width": 320, "height": 200}
    for step in ("preprocess_ms", "encode_ms", "decode_ms", "predict_ms"):
        t = report[step]
        assert t["runs"] == 3 and 0 < t["min"] <= t["median"] <= t["p90"], (step, t)
    for once in ("cold_start_ms", "first_encode_ms", "first_predict_ms"):
        assert report[once] > 0, once
    assert report["peak_rss_bytes"] > 0
    assert report["encoder_sha256"] == hashlib.sha256(Path(pair[0]).read_bytes()).hexdigest()
    assert report["decoder_sha256"] == hashlib.sha256(Path(pair[1]).read_bytes()).hexdigest()


def test_run_benchmark_gives_typed_errors(edgesam, pair, photo, tmp_path):
    E = edgesam.EdgeSamError
    with pytest.raises(E.FileNotFound):
        edgesam.run_benchmark(str(tmp_path / "missing.onnx"), str(pair[1]), runs=1)
    with pytest.raises(E.BadImage):
        edgesam.run_benchmark(str(pair[0]), str(pair[1]), image_data=b"not an image", runs=1)
    with pytest.raises(E.BadPrompt):
        edgesam.run_benchmark(str(pair[0]), str(pair[1]), image_data=photo[1], runs=0)


@pytest.fixture(scope="module")
def two_masks(edgesam, model, embedding):
    """Two overlapping selections of the photo, as numpy booleans and as SegmentMasks."""
    results = [model.segment(embedding, prompt(edgesam, **PROMPTS[name])) for name in ("point", "box")]
    results.append(model.segment(embedding, prompt(edgesam, points=[(60, 170, 1)])))
    arrays = [np.frombuffer(r.mask.bytes(), np.uint8).reshape(200, 320) > 0 for r in results]
    return arrays, [r.mask for r in results]


def test_coco_rle_equals_pycocotools_both_ways(edgesam, two_masks):
    from pycocotools import mask as coco
    for array, mask in zip(*two_masks):
        rle = mask.to_coco_rle()
        reference = coco.encode(np.asfortranarray(array.astype(np.uint8)))
        assert (rle.height, rle.width) == tuple(reference["size"])
        assert rle.counts == reference["counts"].decode()
        back = edgesam.SegmentMask.from_coco_rle(rle)
        assert back.bytes() == mask.bytes()
        assert np.array_equal(coco.decode(reference) > 0, array)


def test_union_subtract_intersect_equal_numpy_logic(two_masks):
    (a, b, c), (ma, mb, mc) = two_masks
    assert a.any() and b.any() and (a != b).any(), "two different, non-empty selections"
    for got, expected in [(ma.union(mb), a | b), (ma.subtract(mb), a & ~b), (mb.subtract(ma), b & ~a),
                          (ma.intersect(mb), a & b), (ma.union(mb).subtract(mc), (a | b) & ~c)]:
        values = np.frombuffer(got.bytes(), np.uint8).reshape(200, 320)
        assert np.array_equal(values, np.where(expected, 255, 0))
        assert got.area() == int(expected.sum())


def test_cutout_alpha_is_the_mask_and_crops_like_the_cli(edgesam, two_masks, photo, pair, tmp_path):
    rgb, png = photo
    array, mask = two_masks[0][0], two_masks[1][0]
    whole = mask.cutout(png)
    assert (whole.region.x, whole.region.y, whole.region.width, whole.region.height) == (0, 0, 320, 200)
    rgba = edgesam.rgba_array(whole.image)
    assert np.array_equal(rgba[..., 3], np.where(array, 255, 0))
    assert np.array_equal(rgba[..., :3][array], rgb[array])
    assert not rgba[~array].any()
    cropped = mask.cutout(png, crop_padding=5)
    box = mask.bounding_box()
    r = cropped.region
    assert (r.x, r.y) == (max(box.x - 5, 0), max(box.y - 5, 0))
    assert (r.x + r.width, r.y + r.height) == (min(box.x + box.width + 5, 320), min(box.y + box.height + 5, 200))
    image_path, cutout_path = tmp_path / "photo.png", tmp_path / "cutout.png"
    image_path.write_bytes(png)
    subprocess.run([str(CLI), "segment", "--encoder", str(pair[0]), "--decoder", str(pair[1]),
                    "--image", str(image_path), "--point", "200,80,1", "--cutout-out", str(cutout_path),
                    "--cutout-padding", "5"], check=True, capture_output=True)
    cli = np.array(Image.open(cutout_path).convert("RGBA"))
    assert (cropped.image.width, cropped.image.height) == (r.width, r.height)
    assert np.array_equal(edgesam.rgba_array(cropped.image), cli)


def test_overlay_blends_the_colour_inside_as_computed_in_numpy(edgesam, two_masks, photo):
    rgb, png = photo
    array, mask = two_masks[0][0], two_masks[1][0]
    colour = edgesam.MaskColor(red=250, green=20, blue=90, alpha=100)
    out = edgesam.rgba_array(mask.overlay(png, colour, outline_width=0))
    blended = (rgb.astype(np.uint32) * 155 + np.array([250, 20, 90], np.uint32) * 100 + 127) // 255
    expected = np.where(array[..., None], blended, rgb)
    assert np.array_equal(out[..., :3], expected) and (out[..., 3] == 255).all()
    outlined = edgesam.rgba_array(mask.overlay(png, colour))
    white = (outlined[..., :3] == 255).all(-1)
    assert white.any() and not (white & ~array).any(), "the default outline is white, inside the mask"


def test_outline_polygons_equal_the_cli(edgesam, two_masks, photo, pair, tmp_path):
    image_path, polygons_path = tmp_path / "photo.png", tmp_path / "polygons.json"
    image_path.write_bytes(photo[1])
    mask = two_masks[1][0]
    for tolerance in (0.0, 1.0, 3.0):
        subprocess.run([str(CLI), "segment", "--encoder", str(pair[0]), "--decoder", str(pair[1]),
                        "--image", str(image_path), "--point", "200,80,1", "--polygons-out",
                        str(polygons_path), "--polygon-tolerance", str(tolerance)],
                       check=True, capture_output=True)
        cli = json.loads(polygons_path.read_text())["polygons"]
        ours = mask.outline_polygons(tolerance=tolerance)
        assert len(ours) == len(cli) > 0
        for polygon, expected in zip(ours, cli):
            assert [[p.x, p.y] for p in polygon.points] == expected["points"]
            assert polygon.is_hole == expected["hole"]
    assert [p.points for p in mask.outline_polygons()] == [p.points for p in mask.outline_polygons(1.0)]


def test_the_default_tint_is_what_an_absent_colour_means(edgesam, two_masks, photo):
    array, mask = two_masks[0][0], two_masks[1][0]
    layer = edgesam.rgba_array(mask.tinted())
    assert layer.shape == (200, 320, 4)
    assert (layer[array] == (30, 144, 255, 128)).all() and not layer[~array].any()
    red = edgesam.MaskColor(red=255, green=0, blue=0, alpha=60)
    assert (edgesam.rgba_array(mask.tinted(red))[array] == (255, 0, 0, 60)).all()
    default = edgesam.MaskColor(red=30, green=144, blue=255, alpha=128)
    assert mask.overlay(photo[1]) == mask.overlay(photo[1], default)


def test_decoded_pixels_cut_and_draw_like_the_file(edgesam, two_masks, photo):
    """decode_image gives the pixels encode_image sees; the raw-pixel variants of cutout and
    overlay on them (here as B, G, R, A) equal the file-based ones."""
    rgb, png = photo
    decoded = edgesam.decode_image(png)
    assert np.array_equal(edgesam.rgba_array(decoded)[..., :3], rgb)
    assert (edgesam.rgba_array(decoded)[..., 3] == 255).all()
    bgra = edgesam.rgba_array(decoded)[..., [2, 1, 0, 3]].tobytes()
    mask = two_masks[1][1]
    raw = (bgra, 320, 200, 320 * 4, edgesam.PixelFormat.BGRA8)
    assert mask.cutout_pixels(*raw, crop_padding=3) == mask.cutout(png, crop_padding=3)
    assert mask.overlay_pixels(*raw, outline_width=1) == mask.overlay(png, outline_width=1)


def test_pixels_stored_sideways_encode_like_the_upright_photo(edgesam, model, embedding, photo):
    """A 200x320 buffer that needs a quarter turn clockwise (EXIF 6, Orientation.RIGHT) to stand
    upright gives the upright photo's embedding and masks."""
    rgb = photo[0]
    stored = np.ascontiguousarray(np.rot90(rgb, k=1))  # upright = stored turned clockwise
    assert stored.shape == (320, 200, 3)
    sideways = model.encode(stored, orientation=edgesam.Orientation.RIGHT)
    assert (sideways.width(), sideways.height()) == (320, 200)
    assert sideways.to_bytes() == embedding.to_bytes()
    p = prompt(edgesam, **PROMPTS["point"])
    assert model.segment(sideways, p) == model.segment(embedding, p)
    with pytest.raises(edgesam.EdgeSamError.BadImage):
        model.encode(photo[1], orientation=edgesam.Orientation.RIGHT)


def test_equal_answers_compare_equal_and_masks_by_pixels(edgesam, model, embedding):
    p = prompt(edgesam, **PROMPTS["point"])
    first, again = model.segment(embedding, p), model.segment(embedding, p)
    assert first == again and first.mask == again.mask and first.mask is not again.mask
    other = model.segment(embedding, prompt(edgesam, points=[(60, 170, 1)]))
    assert first != other
    assert edgesam.SegmentMask(2, 1, b"\x01\x00") == edgesam.SegmentMask(2, 1, b"\xff\x00")



def progress_recorder(edgesam, cancel_at=None, token=None):
    """A ProgressListener keeping what it is told; it cancels `token` once `done` reaches
    `cancel_at`."""
    class Recorder(edgesam.ProgressListener):
        def __init__(self):
            self.seen = []

        def on_progress(self, progress):
            self.seen.append((progress.done, progress.total))
            if cancel_at is not None and progress.done >= cancel_at:
                token.cancel()
    return Recorder()


def test_an_encode_reports_each_node_and_a_cancel_from_the_listener_stops_it(edgesam, model, photo):
    recorder = progress_recorder(edgesam)
    asyncio.run(model.encode_image_async(photo[1], progress=recorder))
    total = recorder.seen[0][1]
    assert total > 10 and recorder.seen == [(done, total) for done in range(total + 1)]

    token = edgesam.CancellationToken()
    stopper = progress_recorder(edgesam, cancel_at=total // 2, token=token)
    with pytest.raises(edgesam.EdgeSamError.Cancelled):
        asyncio.run(model.encode_image_async(photo[1], progress=stopper, cancellation=token))
    assert stopper.seen[-1] == (total // 2, total), "told of nothing after the cancel"


def test_run_benchmark_reports_its_steps_and_can_be_cancelled(edgesam, pair, photo):
    recorder = progress_recorder(edgesam)
    edgesam.run_benchmark(str(pair[0]), str(pair[1]), image_data=photo[1], runs=1, points=2,
                          progress=recorder)
    total = 3 + 4 * 2  # load, first encode, first tap; four timed steps of a warm-up and 1 run
    assert recorder.seen == [(done, total) for done in range(total + 1)]

    token = edgesam.CancellationToken()
    stopper = progress_recorder(edgesam, cancel_at=1, token=token)
    with pytest.raises(edgesam.EdgeSamError.Cancelled):
        edgesam.run_benchmark(str(pair[0]), str(pair[1]), image_data=photo[1], runs=1,
                              progress=stopper, cancellation=token)
    assert stopper.seen == [(0, total), (1, total)]
