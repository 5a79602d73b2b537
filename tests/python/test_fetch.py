"""models/fetch_official.py: hashes checked, nothing half-written, nothing overwritten silently.

Runs on local files only (file:// base URLs and injected openers), so it needs no network.
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
import urllib.error
from pathlib import Path

import pytest

import fetch_official as fo

SCRIPT = Path(fo.__file__).resolve()
NAME = "edge_sam_3x_encoder.onnx"
CONTENT = bytes(range(256)) * 1000 + b"stand-in for the official file"


def table_for(content: bytes, name: str = NAME):
    """An expected-files table whose entry describes `content` (the real table is never matched
    by test data)."""
    return {name: (len(content), hashlib.sha256(content).hexdigest())}


@pytest.fixture
def source(tmp_path):
    """A folder served through file:// holding a good copy of the file."""
    folder = tmp_path / "source"
    folder.mkdir()
    (folder / NAME).write_bytes(CONTENT)
    return folder


def listing(folder: Path):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def never_called(*args, **kwargs):
    raise AssertionError("the file should not have been downloaded")


# ------------------------------------------------------------------------------------ verify
def test_verify_accepts_the_right_file(tmp_path):
    path = tmp_path / NAME
    path.write_bytes(CONTENT)
    fo.verify(path, *table_for(CONTENT)[NAME])


@pytest.mark.parametrize("corrupt", [lambda b: b[:-1], lambda b: b[:100] + b"x" + b[101:], lambda b: b + b"\0"],
                         ids=["truncated", "one-byte-changed", "appended"])
def test_verify_refuses_a_wrong_file(tmp_path, corrupt):
    path = tmp_path / NAME
    bad = corrupt(CONTENT)
    path.write_bytes(bad)
    size, sha = table_for(CONTENT)[NAME]
    with pytest.raises(fo.VerificationError) as err:
        fo.verify(path, size, sha)
    message = str(err.value)
    assert sha in message and hashlib.sha256(bad).hexdigest() in message  # expected and actual


def test_real_table_matches_the_facts():
    assert fo.TABLE["edge_sam_3x_encoder.onnx"] == (
        22_098_300, "719a498cf5b3fe9be9f01ee513e13d3915f9028aa4f23dfd30eaaa0a17143159")
    assert fo.TABLE["edge_sam_3x_decoder.onnx"] == (
        15_937_006, "83a2174d54571596913dcb7455d021e713623c3dca30a31c8c41ab98c9fb0863")
    assert fo.TABLE["edge_sam_encoder.onnx"][0] == 22_098_300
    assert fo.TABLE["edge_sam_decoder.onnx"][0] == 15_937_006
    assert fo.VARIANTS["3x"] == ("edge_sam_3x_encoder.onnx", "edge_sam_3x_decoder.onnx")
    assert fo.VARIANTS["base"] == ("edge_sam_encoder.onnx", "edge_sam_decoder.onnx")


# ------------------------------------------------------------------------------------ fetch
def test_fetch_good_file(tmp_path, source):
    dest = tmp_path / "dest"
    path = fo.fetch(NAME, source.as_uri() + "/", dest, expected=table_for(CONTENT))
    assert path == dest / NAME and path.read_bytes() == CONTENT
    assert listing(dest) == [NAME]  # no temporary file left behind


@pytest.mark.parametrize("served", [CONTENT[:-10], CONTENT[:5000] + b"?" + CONTENT[5001:], CONTENT + b"extra"],
                         ids=["truncated", "corrupted", "too-long"])
def test_fetch_refuses_a_bad_download(tmp_path, source, served):
    (source / NAME).write_bytes(served)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(fo.VerificationError) as err:
        fo.fetch(NAME, source.as_uri(), dest, expected=table_for(CONTENT))
    assert table_for(CONTENT)[NAME][1] in str(err.value)
    assert listing(dest) == []  # nothing kept, not even the temporary file


def test_existing_good_file_is_not_downloaded_again(tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / NAME).write_bytes(CONTENT)
    before = (dest / NAME).stat().st_mtime_ns
    messages = []
    path = fo.fetch(NAME, "https://unreachable.invalid/", dest, expected=table_for(CONTENT),
                    opener=never_called, log=messages.append)
    assert path.read_bytes() == CONTENT and path.stat().st_mtime_ns == before
    assert "not downloaded" in messages[0]


def test_existing_wrong_file_is_reported_not_overwritten(tmp_path, source):
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / NAME).write_bytes(b"something else")
    with pytest.raises(fo.ExistingFileMismatch) as err:
        fo.fetch(NAME, source.as_uri(), dest, expected=table_for(CONTENT), opener=never_called)
    assert (dest / NAME).read_bytes() == b"something else"
    assert listing(dest) == [NAME]
    message = str(err.value)
    assert "not overwritten" in message and "delete or move it away" in message
    assert hashlib.sha256(b"something else").hexdigest() in message


def test_unreachable_host_is_explained(tmp_path):
    def offline(url, timeout):
        raise urllib.error.URLError(OSError(101, "Network is unreachable"))

    dest = tmp_path / "dest"
    with pytest.raises(fo.NetworkError) as err:
        fo.fetch(NAME, fo.DEFAULT_BASE_URL, dest, opener=offline)
    message = str(err.value)
    assert "huggingface.co" in message and "expected" in message and "--base-url" in message
    assert listing(dest) == []


def test_missing_local_copy_is_explained(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(fo.NetworkError) as err:
        fo.fetch(NAME, empty.as_uri(), tmp_path / "dest", expected=table_for(CONTENT))
    assert "cannot read" in str(err.value) and NAME in str(err.value)
    assert listing(tmp_path / "dest") == []


def test_unknown_name_is_refused(tmp_path):
    with pytest.raises(fo.FetchError):
        fo.fetch("model.onnx", dest=tmp_path, opener=never_called)


# ------------------------------------------------------------------------------------ command line
def run_cli(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("variant", ["3x", "base"])
def test_cli_refuses_files_that_are_not_the_official_ones(tmp_path, variant):
    """End to end with the real table: local look-alikes are refused, with both hashes named."""
    served = tmp_path / "served"
    served.mkdir()
    for name in fo.VARIANTS[variant]:
        (served / name).write_bytes(b"not the official " + name.encode())
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "unrelated.txt").write_text("keep me")
    result = run_cli("--variant", variant, "--dest", str(dest), "--base-url", served.as_uri() + "/")
    assert result.returncode != 0
    for name in fo.VARIANTS[variant]:
        expected_sha = fo.TABLE[name][1]
        actual_sha = hashlib.sha256(b"not the official " + name.encode()).hexdigest()
        assert expected_sha in result.stderr and actual_sha in result.stderr
    assert listing(dest) == ["unrelated.txt"]  # dest unchanged


def test_cli_default_variant_and_missing_source(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    dest = tmp_path / "dest"
    result = run_cli("--dest", str(dest), "--base-url", empty.as_uri())
    assert result.returncode != 0
    assert "edge_sam_3x_encoder.onnx" in result.stderr and "edge_sam_3x_decoder.onnx" in result.stderr
    assert listing(dest) == []
