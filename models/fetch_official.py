#!/usr/bin/env python3
"""Download the official EdgeSAM ONNX files and verify them (size and SHA-256) before keeping them.

    python models/fetch_official.py [--variant {3x,base}] [--dest models/] [--base-url URL]

The files are under the S-Lab License 1.0 (non-commercial), so the project fetches them instead of
shipping them. Each file is streamed into a temporary file in the destination folder, checked
against the table below, and renamed into place only when both size and hash match; a mismatch
deletes the temporary file and exits non-zero. A file already present with the right hash is kept
without downloading; one present with a wrong hash is reported and left alone.

--base-url may be a file:// URL (a folder holding copies of the files), for machines without
access to the Hugging Face host. Standard library only.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Tuple

DEFAULT_BASE_URL = "https://huggingface.co/spaces/chongzhou/EdgeSAM/resolve/main/weights/"

# name -> (bytes, sha256), from the official Space (facts section 1).
TABLE: Dict[str, Tuple[int, str]] = {
    "edge_sam_encoder.onnx": (22_098_300, "c051e69a2a16ca8f5e09583ca18420ef0e75a67387dd90228ac9438f7f01357a"),
    "edge_sam_decoder.onnx": (15_937_006, "e820af76837271db87478851603c6ce855906ca96baae2238217c2d5a38e0926"),
    "edge_sam_3x_encoder.onnx": (22_098_300, "719a498cf5b3fe9be9f01ee513e13d3915f9028aa4f23dfd30eaaa0a17143159"),
    "edge_sam_3x_decoder.onnx": (15_937_006, "83a2174d54571596913dcb7455d021e713623c3dca30a31c8c41ab98c9fb0863"),
}

VARIANTS: Dict[str, Tuple[str, str]] = {
    "3x": ("edge_sam_3x_encoder.onnx", "edge_sam_3x_decoder.onnx"),  # the better checkpoint
    "base": ("edge_sam_encoder.onnx", "edge_sam_decoder.onnx"),
}

CHUNK = 1 << 20
TIMEOUT_S = 60


class FetchError(Exception):
    """Base of everything fetch() refuses; the message says what to do."""


class VerificationError(FetchError):
    """A file's size or SHA-256 is not the expected one. `actual` is (size, sha256); the size is
    a lower bound and the hash None when a download was stopped for running past the size."""

    def __init__(self, path: Path, expected: Tuple[int, str], actual: Tuple[int, Optional[str]],
                 what: str):
        self.path, self.expected, self.actual = path, expected, actual
        size, sha = actual
        found = (f"size {size:,} bytes, sha256 {sha}" if sha is not None else
                 f"more than {size - 1:,} bytes (download stopped, not hashed)")
        super().__init__(f"{what} {path.name}: {found}; expected {expected[0]:,} bytes, "
                         f"sha256 {expected[1]}")


class ExistingFileMismatch(VerificationError):
    """A file already in the destination does not match: it is not overwritten."""


class NetworkError(FetchError):
    """The source could not be reached or read."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path, size: int, sha256: str) -> None:
    """Raise VerificationError unless the file at path has exactly this size and SHA-256."""
    path = Path(path)
    actual_size = path.stat().st_size
    # Hash even when the size is off: the message then names both actual values.
    actual_sha = sha256_of(path)
    if actual_size != size or actual_sha != sha256.lower():
        raise VerificationError(path, (size, sha256), (actual_size, actual_sha), "mismatch for")


def file_url(base_url: str, name: str) -> str:
    return base_url if base_url.endswith(name) else base_url.rstrip("/") + "/" + name


def _describe_unreachable(url: str, err: BaseException) -> str:
    scheme = urllib.parse.urlparse(url).scheme
    reason = getattr(err, "reason", err)
    if scheme == "file":
        return (f"cannot read {url}: {reason}. Put the official file in that folder, or point "
                f"--base-url at the folder that holds it.")
    if isinstance(err, urllib.error.HTTPError):
        return f"{url} answered HTTP {err.code} {err.reason}; the file may have moved."
    return (f"cannot reach {urllib.parse.urlparse(url).netloc or url} ({reason}). This is expected on "
            f"machines without internet access (the project's build and test machines reach only "
            f"package registries). Download {url} on a connected machine and copy it into the "
            f"destination folder (it is verified in place), or pass --base-url file:///folder/with/copies/.")


def fetch(name: str, base_url: str = DEFAULT_BASE_URL, dest=".",
          expected: Dict[str, Tuple[int, str]] = TABLE,
          opener: Callable = urllib.request.urlopen,
          log: Callable[[str], None] = lambda message: None) -> Path:
    """Make dest/name a verified copy of the official file; return its path.

    Kept as is when already present and correct; refused (ExistingFileMismatch) when present and
    wrong. Otherwise streamed from base_url into a temporary file in dest, verified, and renamed
    into place; on any failure the temporary file is removed and dest is left as it was."""
    if name not in expected:
        raise FetchError(f"unknown file {name!r}; known: {', '.join(sorted(expected))}")
    size, sha256 = expected[name]
    dest = Path(dest)
    target = dest / name
    if target.exists():
        try:
            verify(target, size, sha256)
        except VerificationError as e:
            raise ExistingFileMismatch(
                target, e.expected, e.actual,
                f"{target} already exists and does not match the official file (not overwritten; "
                f"delete or move it away, then run again) -") from None
        log(f"{target}: present, size and sha256 verified; not downloaded again")
        return target

    url = file_url(base_url, name)
    dest.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=dest)
    tmp = Path(tmp_name)
    try:
        digest, received = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            for chunk in _download(opener, url, log):
                received += len(chunk)
                if received > size:  # no need to stream the rest of a wrong file
                    raise VerificationError(target, (size, sha256), (received, None), "refused download of")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        actual = (received, digest.hexdigest())
        if actual != (size, sha256.lower()):
            raise VerificationError(target, (size, sha256), actual, "refused download of")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
        log(f"{target}: downloaded, size and sha256 verified")
        return target
    finally:
        if tmp.exists():
            tmp.unlink()


def _download(opener: Callable, url: str, log: Callable[[str], None]):
    """Yield the bytes at url chunk by chunk; network and file-access failures -> NetworkError."""
    try:
        with opener(url, timeout=TIMEOUT_S) as response:
            log(f"downloading {url}")
            while True:
                chunk = response.read(CHUNK)
                if not chunk:
                    return
                yield chunk
    except OSError as e:  # URLError, HTTPError, timeouts and resets are all OSErrors
        raise NetworkError(_describe_unreachable(url, e)) from e


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Download and verify the official EdgeSAM ONNX files.")
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="3x",
                        help="3x (default, the better checkpoint) or base")
    parser.add_argument("--dest", default=str(Path(__file__).resolve().parent),
                        help="destination folder (default: the models/ folder)")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL,
                        help="where the files are (http(s):// or file:// folder URL)")
    args = parser.parse_args(argv)

    failures = 0
    for name in VARIANTS[args.variant]:
        try:
            fetch(name, args.base_url, args.dest, log=print)
        except FetchError as e:
            print(f"error: {e}", file=sys.stderr)
            failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
