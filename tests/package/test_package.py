"""The installed `edgesam` package (a wheel in a fresh venv, `cargo xtask test`), not the source tree.

Needs only the package, Pillow and pytest; the tiny stand-ins in models/generated and the CLI.
"""
from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import CLI, REPO

import edgesam

TINY = REPO / "models" / "generated" / "tiny"
PAIR = (TINY / "edge_sam_encoder.onnx", TINY / "edge_sam_decoder.onnx")


def test_the_installed_package_is_imported():
    print(f"edgesam imported from {edgesam.__file__}")
    path = Path(edgesam.__file__).resolve()
    assert "site-packages" in path.parts and REPO / "bindings" / "python" not in path.parents
    assert (path.parent / "py.typed").exists()


def test_the_wheel_is_tagged_manylinux():
    # pip records the installed wheel's tags; a plain linux_x86_64 wheel would say nothing of the
    # glibc the library needs.
    from importlib.metadata import distribution
    tags = [l.split(": ", 1)[1] for l in distribution("edgesam").read_text("WHEEL").splitlines() if l.startswith("Tag: ")]
    assert tags and all(re.fullmatch(r"py3-none-manylinux_2_\d+_x86_64", t) for t in tags), tags


def test_the_shipped_library_is_stripped():
    library = Path(edgesam.__file__).resolve().parent / "libedgesam_ffi.so"
    data = library.read_bytes()
    # ELF section names live in one string table: a stripped library has no ".symtab" among them.
    assert data[:4] == b"\x7fELF" and b".dynsym" in data, library
    assert b".symtab" not in data, f"{library} ({len(data) / 2**20:.1f} MiB) keeps its symbol table"


@pytest.fixture(scope="module")
def model():
    for file in PAIR:
        if not file.exists():
            pytest.fail(f"{file} is missing: run models/standins.py")
    return edgesam.SegmentAnything.from_files(str(PAIR[0]), str(PAIR[1]), threads=1)


def photo_rgb(width=320, height=200) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 200 // width + 20, y * 150 // height + 40, np.full_like(x, 120)], -1)
    rgb[(x - width * 0.6) ** 2 + (y - height * 0.4) ** 2 < (min(width, height) / 4) ** 2] = (240, 220, 40)
    return rgb.astype(np.uint8)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    rgb = photo_rgb()
    path = tmp_path_factory.mktemp("photo") / "photo.png"
    Image.fromarray(rgb).save(path)
    return rgb, path


@pytest.fixture(scope="module")
def embedding(model, photo):
    return model.encode(photo[0])


def cli_mask(photo_path, args, tmp_path):
    out = tmp_path / "cli.png"
    subprocess.run([str(CLI), "segment", "--encoder", str(PAIR[0]), "--decoder", str(PAIR[1]),
                    "--image", str(photo_path), "--mask-out", str(out), *args],
                   check=True, capture_output=True)
    return np.array(Image.open(out))


PROMPTS = {
    "point": (dict(points=[(200, 80)]), ["--point", "200,80"]),
    "points": (dict(points=[(200, 80), (160, 40)], labels=[1, 0]), ["--point", "200,80,1", "--point", "160,40,0"]),
    "box": (dict(box=(150, 30, 260, 130)), ["--box", "150,30,260,130"]),
    "box_and_point": (dict(points=[(200, 80)], box=(150, 30, 260, 130)), ["--point", "200,80", "--box", "150,30,260,130"]),
}


@pytest.mark.parametrize("name", sorted(PROMPTS))
def test_numpy_mask_equals_the_cli_byte_for_byte(model, embedding, photo, name, tmp_path):
    kwargs, args = PROMPTS[name]
    mask = edgesam.mask_array(model.segment(embedding, **kwargs))
    assert mask.dtype == np.bool_ and mask.shape == (200, 320) and mask.any()
    expected = cli_mask(photo[1], args, tmp_path)
    assert np.array_equal(np.where(mask, 255, 0).astype(np.uint8), expected)


def test_every_image_kind_gives_the_same_embedding(model, embedding, photo):
    rgb, path = photo
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], -1)
    prompt = dict(points=[(200, 80)])
    expected = model.segment(embedding, **prompt)
    padded_rows = np.pad(rgb, ((0, 0), (0, 7), (0, 0)))[:, :320]  # a strided view, not contiguous
    for image in (path, str(path), path.read_bytes(), Image.open(path), rgba, padded_rows,
                  np.asfortranarray(rgb)):
        assert model.segment(model.encode(image), **prompt) == expected, type(image)


def test_tuples_and_records_give_the_same_answer(model, embedding):
    record = edgesam.SegmentPrompt(points=[edgesam.PromptPoint(x=200, y=80, positive=True),
                                           edgesam.PromptPoint(x=160, y=40, positive=False)])
    assert model.segment(embedding, record) == model.segment(embedding, points=[(200, 80), (160, 40)], labels=[1, 0])


def test_segment_mask_and_everything_masks_decode_to_arrays(model, embedding):
    result = model.segment(embedding, points=[(200, 80)])
    handle = edgesam.SegmentMask(result.mask.width(), result.mask.height(), result.mask.bytes())
    assert handle == result.mask
    assert np.array_equal(edgesam.mask_array(handle), edgesam.mask_array(result))
    options = edgesam.EverythingOptions(points_per_side=4, score_threshold=0.0, stability_threshold=0.0)
    automatic = model.everything(embedding, options)
    arrays = edgesam.everything_arrays(automatic)
    assert len(arrays) == len(automatic) > 0
    for array, auto in zip(arrays, automatic):
        assert array.shape == (200, 320) and int(array.sum()) == auto.area


def test_bad_input_gives_typed_errors(model, embedding, tmp_path):
    E = edgesam.EdgeSamError
    not_an_image = tmp_path / "notes.txt"
    not_an_image.write_text("not an image")
    cases = [
        (E.BadImage, lambda: model.encode(np.zeros((20, 30), np.uint8))),
        (E.BadImage, lambda: model.encode(np.zeros((20, 30, 2), np.uint8))),
        (E.BadImage, lambda: model.encode(np.zeros((20, 30, 3), np.float32))),
        (E.BadImage, lambda: model.encode(np.zeros((20, 30, 3), np.uint16))),
        (E.BadImage, lambda: model.encode(np.zeros((1, 1, 3), np.uint8))),
        (E.BadImage, lambda: model.encode(not_an_image)),
        (E.BadImage, lambda: model.encode(tmp_path / "missing.png")),
        (E.BadImage, lambda: model.encode(b"")),
        (E.BadImage, lambda: model.encode(12)),
        (E.BadPrompt, lambda: model.segment(embedding, points=[(math.nan, 80)])),
        (E.BadPrompt, lambda: model.segment(embedding, points=[(200, math.inf)], labels=[0])),
        (E.BadPrompt, lambda: model.segment(embedding, box=(math.nan, 0, 10, 10))),
        (E.BadPrompt, lambda: model.segment(embedding, points=[(200, 80)], labels=[1, 0])),
        (E.BadPrompt, lambda: model.segment(embedding, points=[(200, 80)], labels=[2])),
        (E.BadPrompt, lambda: model.segment(embedding, points=[(200, 80, 1)])),
        (E.BadPrompt, lambda: model.segment(embedding, box=(1, 2, 3))),
        (E.BadPrompt, lambda: model.segment(embedding)),
        (E.BadPrompt, lambda: model.segment(embedding, points=[(200, 80)], mask_index=4)),
    ]
    for error, call in cases:
        with pytest.raises(error) as caught:
            call()
        assert caught.value.reason


def test_python_m_edgesam_segment_equals_the_cli(photo, tmp_path):
    ours = tmp_path / "ours.png"
    out = subprocess.run([sys.executable, "-m", "edgesam", "segment", "--encoder", str(PAIR[0]),
                          "--decoder", str(PAIR[1]), "--image", str(photo[1]), "--point", "200,80",
                          "--point", "160,40,0", "--box", "150,30,260,130", "--mask-out", str(ours), "--json"],
                         check=True, capture_output=True, text=True, cwd=tmp_path).stdout
    report = json.loads(out)
    expected = cli_mask(photo[1], ["--point", "200,80", "--point", "160,40,0", "--box", "150,30,260,130"], tmp_path)
    assert np.array_equal(np.array(Image.open(ours)), expected)
    assert report["area"] == int((expected == 255).sum()) and report["image"] == {"width": 320, "height": 200}
    failed = subprocess.run([sys.executable, "-m", "edgesam", "segment", "--encoder", str(PAIR[0]),
                             "--decoder", str(PAIR[1]), "--image", str(tmp_path / "none.png"), "--point", "1,1"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert failed.returncode == 1 and failed.stderr.startswith("edgesam: bad image")


def readme_python_example() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme.split("### Python", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_runs(tmp_path, monkeypatch):
    code = readme_python_example()
    assert len(code.strip().splitlines()) == 6
    # The example's file names, pointed at the stand-ins and a photo its taps fall inside.
    Image.fromarray(photo_rgb(1024, 768)).save(tmp_path / "photo.jpg", format="JPEG", quality=95)
    for name, file in zip(("edge_sam_3x_encoder.onnx", "edge_sam_3x_decoder.onnx"), PAIR):
        (tmp_path / name).symlink_to(file)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["mask"].dtype == np.bool_ and scope["mask"].shape == (768, 1024)
    assert scope["overlay"].dtype == np.uint8 and scope["overlay"].shape == (768, 1024, 4)
