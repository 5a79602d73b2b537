"""Shared pytest set-up: repository paths and import paths for the generator and the reference."""
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "models"))
sys.path.insert(0, str(REPO / "tests" / "reference"))

# Where the Rust CLI is expected; the test command builds it before pytest runs.
CLI = Path(os.environ.get("EDGESAM_CLI", REPO / "target" / "release" / "edgesam"))
