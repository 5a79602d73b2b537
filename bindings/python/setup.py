"""Builds the native library with cargo and ships it beside the generated module.

The wheel holds `edgesam/_uniffi.py` (the committed UniFFI module, checked fresh by the test
command) and `libedgesam_ffi.so` next to it, where the generated module loads it from.
The version is the Cargo workspace's.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def cargo_version() -> str:
    text = (REPO / "Cargo.toml").read_text()
    if tomllib is not None:
        return tomllib.loads(text)["workspace"]["package"]["version"]
    section = text.split("[workspace.package]", 1)[1]
    line = next(l for l in section.splitlines() if l.startswith("version"))
    return line.split("=", 1)[1].strip().strip('"')


def native_library() -> Path:
    # The same command, profile and target directory as the project's test build
    # (`--workspace --all-targets` gives the same feature set), so an existing build is reused.
    subprocess.run(["cargo", "build", "--release", "--workspace", "--all-targets"], cwd=REPO, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    if not target.is_absolute():
        target = REPO / target
    for name in ("libedgesam_ffi.so", "libedgesam_ffi.dylib"):
        if (target / "release" / name).exists():
            return target / "release" / name
    sys.exit(f"no libedgesam_ffi in {target / 'release'}")


def strip_symbols(library: Path) -> None:
    """Drops the symbol table from the wheel's copy (a quarter of the file); the exported C
    functions the generated module calls stay in the dynamic symbol table."""
    strip = shutil.which("strip")
    if strip is None:
        print("warning: no `strip` on PATH, the wheel's library keeps its symbol table", file=sys.stderr)
        return
    flag = "-x" if library.suffix == ".dylib" else "--strip-unneeded"
    subprocess.run([strip, flag, str(library)], check=True)


class BuildWithNativeLibrary(build_py):
    def run(self):
        super().run()
        library = native_library()
        shipped = Path(self.build_lib) / "edgesam" / library.name
        shutil.copy2(library, shipped)
        strip_symbols(shipped)


try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel


class PlatformWheel(bdist_wheel):
    """The library is plain C ABI, not a CPython extension: any Python 3, this platform."""

    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


class NativeDistribution(Distribution):
    """Holds a native library: a platform wheel, its files in platlib."""

    def has_ext_modules(self):
        return True


setup(
    version=cargo_version(),
    long_description=(REPO / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    distclass=NativeDistribution,
    cmdclass={"build_py": BuildWithNativeLibrary, "bdist_wheel": PlatformWheel},
)
