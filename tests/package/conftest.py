"""Paths for the installed package's tests: they run outside the source tree, in a fresh venv."""
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The Rust CLI the package's masks are compared with; the test command builds it first.
CLI = Path(os.environ.get("EDGESAM_CLI", REPO / "target" / "release" / "edgesam"))
