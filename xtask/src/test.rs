//! `cargo xtask test`: every test of the project, on a fresh machine.
//!
//! A failed suite does not stop the others; the command fails at the end, naming them. The Python
//! suite runs last so that pytest's summary closes the output.

use std::path::Path;
use std::process::Command;

use crate::process::{cmd, repo_root, run, step, Failure, Result};

/// The test suites that run after the build, in order.
struct Suite {
    name: &'static str,
    run: fn(&Path) -> Result,
}

pub fn main(args: &[String]) -> Result {
    if let Some(arg) = args.first() {
        crate::fail!("xtask test takes no arguments (got '{arg}')");
    }
    let repo = repo_root();
    prepare(&repo)?;
    let skip_swift = std::env::var_os("EDGESAM_SKIP_SWIFT").is_some();
    let suites = [
        Suite {
            name: "Generated bindings are current",
            run: |repo| run(&mut cmd(repo.join("bindings/generate.sh"), ["--check"])),
        },
        Suite {
            name: "cargo test",
            run: |repo| run(cmd("cargo", ["test", "--release", "--workspace"]).current_dir(repo)),
        },
        Suite {
            name: "Kotlin bindings (JVM, Maven)",
            run: |repo| run(&mut Command::new(repo.join("bindings/kotlin/run-tests.sh"))),
        },
        Suite {
            name: "Swift bindings (swiftc in a trixie chroot)",
            run: |repo| run(&mut Command::new(repo.join("bindings/swift/run-tests.sh"))),
        },
        Suite {
            name: "Phone packaging and demos (shellcheck, demo API, layout)",
            run: |repo| run(&mut Command::new(repo.join("scripts/check-phones.sh"))),
        },
        Suite {
            name: "ARM64 and ARMv7 under qemu (test-arm)",
            run: crate::arm::suite,
        },
        Suite {
            name: "Python tests (pytest)",
            run: |repo| {
                run(cmd(
                    repo.join(".venv/bin/python"),
                    ["-m", "pytest", "tests/python", "-q", "-rfEx"],
                )
                .current_dir(repo))
            },
        },
    ];
    let mut failed = Vec::new();
    for suite in suites
        .iter()
        .filter(|s| !(skip_swift && s.name.starts_with("Swift")))
    {
        step(suite.name);
        if let Err(failure) = (suite.run)(&repo) {
            eprintln!("xtask: {failure}");
            failed.push(suite.name);
        }
    }
    if !failed.is_empty() {
        return Err(Failure(format!("FAILED suites: {}", failed.join(", "))));
    }
    Ok(())
}

/// The venv, the stand-in models and the release build every suite uses.
fn prepare(repo: &Path) -> Result {
    prepare_python(repo)?;
    step("Build (release)");
    run(cmd(
        "cargo",
        ["build", "--release", "--workspace", "--all-targets"],
    )
    .current_dir(repo))?;
    run(cmd(
        "cargo",
        [
            "build",
            "--release",
            "-p",
            "edgesam-ffi",
            "--features",
            "cli",
        ],
    )
    .current_dir(repo))
}

/// The venv with the test requirements and the stand-in models.
pub fn prepare_python(repo: &Path) -> Result {
    step("Python venv (.venv) with tests/requirements.txt");
    let python = repo.join(".venv/bin/python");
    if !python.exists() {
        run(cmd("python3", ["-m", "venv", ".venv"]).current_dir(repo))?;
    }
    run(cmd(
        &python,
        [
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            "tests/requirements.txt",
        ],
    )
    .current_dir(repo))?;
    // The suites' scripts find the venv's interpreter through this variable.
    std::env::set_var("EDGESAM_PYTHON", &python);

    step("Stand-in models (models/generated)");
    run(cmd(&python, ["models/standins.py"]).current_dir(repo))
}
