//! What several commands prepare before they run: the Python venv and the stand-in models.

use std::path::{Path, PathBuf};

use crate::process::{cargo, cmd, run, Result};

/// The repository's venv (`.venv`) with `tests/requirements.txt`, made when missing; returns its
/// interpreter.
pub fn venv(repo: &Path) -> Result<PathBuf> {
    let python = repo.join(".venv/bin/python");
    if !python.exists() {
        run(cmd("python3", ["-m", "venv", ".venv"]).current_dir(repo))?;
    }
    run(pip_install(&python)
        .args(["-r", "tests/requirements.txt"])
        .current_dir(repo))?;
    Ok(python)
}

/// `pip install`, quietly, with `python`'s pip.
pub fn pip_install(python: &Path) -> std::process::Command {
    cmd(
        python,
        [
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ],
    )
}

/// Writes the stand-in models into `models/generated` (skips the ones already there).
pub fn standin_models(repo: &Path, python: &Path) -> Result {
    run(cmd(python, ["models/standins.py"]).current_dir(repo))
}

/// The release build of the workspace: the library, the CLI, the bindings generator. Always the
/// whole workspace, so that every command compiles the crates with one feature set and reuses
/// the test command's build.
pub fn build_release(repo: &Path) -> Result {
    run(&mut cargo(repo, ["build", "--release", "--workspace"]))
}

/// The tiny stand-in models that the bindings' suites load.
pub const TINY_MODELS: [&str; 2] = [
    "models/generated/tiny/edge_sam_encoder.onnx",
    "models/generated/tiny/edge_sam_decoder.onnx",
];

/// Fails naming every missing build product or tiny stand-in model, with how to make them.
pub fn require_built(repo: &Path, products: &[&Path]) -> Result {
    let models = TINY_MODELS.map(|model| repo.join(model));
    let missing: Vec<String> = products
        .iter()
        .copied()
        .chain(models.iter().map(PathBuf::as_path))
        .filter(|path| !path.exists())
        .map(|path| path.display().to_string())
        .collect();
    if !missing.is_empty() {
        crate::fail!(
            "missing {} (cargo build --release --workspace; .venv/bin/python models/standins.py)",
            missing.join(", ")
        );
    }
    Ok(())
}
