//! The Python package (`bindings/python`): its wheel, installed in a fresh venv, under its tests.
//!
//! The tests run from a folder outside the source tree against the installed copy, so a file
//! missing from the wheel fails them instead of being picked up from `bindings/python`.

use std::path::{Path, PathBuf};

use crate::process::{cmd, run, target_dir, Result};
use crate::setup::pip_install;

/// Builds the wheel (its setup runs the release cargo build, reusing the workspace's), installs it
/// with Pillow and pytest in a new venv and runs `tests/package/test_package.py` there.
pub fn test(repo: &Path) -> Result {
    let work = target_dir(repo).join("python-package");
    let wheels = work.join("wheels");
    if wheels.exists() {
        std::fs::remove_dir_all(&wheels)?;
    }
    // The project's venv builds it: a system Python may have no pip.
    run(cmd(
        repo.join(".venv/bin/python"),
        [
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--disable-pip-version-check",
            "--wheel-dir",
        ],
    )
    .arg(&wheels)
    .arg(repo.join("bindings/python")))?;
    let wheel = single_wheel(&wheels)?;

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
