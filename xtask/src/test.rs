//! `cargo xtask test`: every test of the project, on a fresh machine.
//!
//! A failed suite does not stop the others; the command fails at the end, naming them. The Python
//! suite runs last so that pytest's summary closes the output.

use std::path::Path;

use crate::process::{cargo, no_arguments, repo_root, run, step, Failure, Result};
use crate::{generate, kotlin, phones, python_package, setup, swift};

/// One test suite: its heading and how to run it.
struct Suite {
    name: &'static str,
    run: fn(&Path) -> Result,
}

/// Before the build: cheap, and says at once when a file is not formatted.
const FORMAT: Suite = Suite {
    name: "Formatting (cargo fmt --check)",
    run: |repo| run(&mut cargo(repo, ["fmt", "--all", "--check"])),
};

/// After the build, in order.
const SUITES: [Suite; 8] = [
    Suite {
        name: "Generated bindings are current",
        run: |repo| generate::generate(repo, true),
    },
    Suite {
        name: "Lints (cargo clippy -D warnings)",
        run: |repo| {
            run(&mut cargo(
                repo,
                [
                    "clippy",
                    "--release",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ],
            ))
        },
    },
    Suite {
        name: "cargo test",
        run: |repo| run(&mut cargo(repo, ["test", "--release", "--workspace"])),
    },
    Suite {
        name: "Kotlin bindings (JVM, Maven)",
        run: kotlin::test,
    },
    Suite {
        name: "Swift bindings (swift test in a trixie chroot)",
        run: |_| swift::test(&[]),
    },
    Suite {
        name: "Phone packaging and demos (shellcheck, demo API, layout)",
        run: |_| phones::check_phones(&[]),
    },
    Suite {
        name: "Python package (the wheel in a fresh venv)",
        run: python_package::test,
    },
    Suite {
        name: "Python tests (pytest, against the installed wheel)",
        run: python_package::suite,
    },
];

pub fn main(args: &[String]) -> Result {
    no_arguments("test", args)?;
    let repo = repo_root();
    let skip_swift = std::env::var_os("EDGESAM_SKIP_SWIFT").is_some();
    let mut failed = Vec::new();
    let mut attempt = |suite: &Suite| {
        step(suite.name);
        if let Err(failure) = (suite.run)(&repo) {
            eprintln!("xtask: {failure}");
            failed.push(suite.name);
        }
    };
    attempt(&FORMAT);
    prepare(&repo)?;
    for suite in SUITES
        .iter()
        .filter(|s| !(skip_swift && s.name.starts_with("Swift")))
    {
        attempt(suite);
    }
    if !failed.is_empty() {
        return Err(Failure(format!("FAILED suites: {}", failed.join(", "))));
    }
    Ok(())
}

/// The venv, the stand-in models and the release build every suite uses.
fn prepare(repo: &Path) -> Result {
    step("Python venv (.venv) with tests/requirements.txt");
    let python = setup::venv(repo)?;
    // The core's tests find the venv's interpreter through this variable.
    std::env::set_var("EDGESAM_PYTHON", &python);

    step("Stand-in models (models/generated)");
    setup::standin_models(repo, &python)?;

    // Every target of the workspace in one build: the same crates and features as the steps
    // after it (cargo test, clippy, the bindings generator), so nothing is compiled twice.
    step("Build (release)");
    run(&mut cargo(
        repo,
        ["build", "--release", "--workspace", "--all-targets"],
    ))
}
