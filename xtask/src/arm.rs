//! `cargo xtask test-arm`: the library on the phones' instruction sets (issue 14). The core, the
//! CLI and the FFI library are cross-built for aarch64 and armv7 with Debian's cross toolchains,
//! then the core's tests and a handful of parity cases run under qemu-user.
//!
//! The toolchains are configured through environment variables set here rather than in
//! `.cargo/config.toml`, so that machines without the cross packages build as before. The builds
//! use the `arm-test` profile (see the workspace's Cargo.toml): tract at opt-level 3, the
//! workspace's own crates at opt-level 1 with overflow checks. The targets are built and tested one
//! after the other, and each step's wall time is printed at the end.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::process::{cmd, repo_root, run, step, target_dir, Result};
use crate::{process, setup};

/// One ARM target: the Rust triple, the prefix of Debian's cross tools, its qemu-user program.
struct ArmTarget {
    /// What `cargo xtask test-arm <name>` and $EDGESAM_ARM_TARGETS call it.
    name: &'static str,
    triple: &'static str,
    /// Debian's GNU triple: `<gnu>-gcc`, `<gnu>-ar`, the libc under `/usr/<gnu>`, `gcc-<gnu>`.
    gnu: &'static str,
    qemu: &'static str,
    /// The CPU qemu emulates. aarch64: a Cortex-A76 has NEON and no SVE, like iPhones and most
    /// phones in use; qemu's default CPU has SVE2, on which tract picks its SVE kernels instead.
    /// armv7: the Cortex-A7 of cheap 32-bit phones.
    qemu_cpu: &'static str,
    /// Environment the emulated program gets on top of ours (qemu's `-E`). armv7: qemu-user 7
    /// shows the program the host's /proc/cpuinfo, where tract's armv7 build looks for NEON (its
    /// aarch64 build asks the kernel), so the Cortex-A7's NEON is announced through tract's knob.
    guest_env: &'static [&'static str],
}

const TARGETS: [ArmTarget; 2] = [
    ArmTarget {
        name: "aarch64",
        triple: "aarch64-unknown-linux-gnu",
        gnu: "aarch64-linux-gnu",
        qemu: "qemu-aarch64",
        qemu_cpu: "cortex-a76",
        guest_env: &[],
    },
    ArmTarget {
        name: "armv7",
        triple: "armv7-unknown-linux-gnueabihf",
        gnu: "arm-linux-gnueabihf",
        qemu: "qemu-arm",
        qemu_cpu: "cortex-a7",
        guest_env: &["TRACT_CPU_ARM32_NEON=true"],
    },
];

const PROFILE: &str = "arm-test";

/// Every ARM `cargo test` selects the core, the CLI and the FFI library, though it runs only the
/// core's test binaries and the other two crates' unit tests: Cargo then resolves the features the
/// CLI and FFI build uses (they turn on `log`'s `std`, and all of tract depends on `log`), so tract
/// is compiled once per target instead of once for the tests and again for the CLI. The CLI and
/// FFI build after the tests recompiles only `image` and the crates above it (the core's tests add
/// its JPEG decoder).
const PACKAGES: [&str; 6] = ["-p", "edgesam", "-p", "edgesam-cli", "-p", "edgesam-ffi"];

/// The robustness tests about size arithmetic, the ones a 32-bit `usize` could break.
const SIZE_TESTS: [&str; 4] = [
    "a_100_megapixel_decompression_bomb",
    "pictures_above_the_pixel_limit",
    "short_buffers_short_strides_and_overflowing_strides",
    "degenerate_sizes_are_unsupported",
];

pub fn main(args: &[String]) -> Result {
    let targets = select(args)?;
    let repo = repo_root();
    step("Python venv and stand-in models");
    let python = setup::venv(&repo)?;
    setup::standin_models(&repo, &python)?;
    step("x86-64 build, the parity cases' other side (release)");
    setup::build_release(&repo)?;
    test_targets(&repo, &targets)
}

/// The targets named in `args`, all of them when there is none.
fn select(args: &[String]) -> Result<Vec<&'static ArmTarget>> {
    if args.is_empty() {
        return Ok(TARGETS.iter().collect());
    }
    args.iter()
        .map(|arg| match TARGETS.iter().find(|t| t.name == arg) {
            Some(target) => Ok(target),
            None => crate::fail!("unknown ARM target '{arg}' (aarch64, armv7)"),
        })
        .collect()
}

/// Each step's name, wall time and outcome, printed together at the end, after a failure too.
#[derive(Default)]
struct Timings(Vec<(String, Duration, bool)>);

impl Timings {
    /// Runs `step`, noting its wall time under the name `what`.
    fn time(&mut self, what: String, step: impl FnOnce() -> Result) -> Result {
        let started = Instant::now();
        let outcome = step();
        self.0.push((what, started.elapsed(), outcome.is_ok()));
        outcome
    }

    fn print(&self) {
        step("ARM wall times");
        for (what, time, passed) in &self.0 {
            let failed = if *passed { "" } else { " (failed)" };
            println!("{what}: {:.0} s{failed}", time.as_secs_f64());
        }
    }
}

fn test_targets(repo: &Path, targets: &[&ArmTarget]) -> Result {
    install(targets)?;
    let mut timings = Timings::default();
    let outcome = build_and_test(repo, targets, &mut timings);
    timings.print();
    outcome
}

fn build_and_test(repo: &Path, targets: &[&ArmTarget], timings: &mut Timings) -> Result {
    for target in targets {
        configure(target);
        build(repo, target, timings)?;
        test_emulated(repo, target, timings)?;
    }
    step("ARM parity under qemu (tests/python/test_arm_parity.py)");
    let names = targets.iter().map(|t| t.name).collect::<Vec<_>>().join(",");
    timings.time(format!("parity under qemu ({names})"), || {
        run(cmd(
            repo.join(".venv/bin/python"),
            [
                "-m",
                "pytest",
                "tests/python/test_arm_parity.py",
                "-q",
                "-s",
                "-rfEs",
            ],
        )
        .env("EDGESAM_ARM_TARGETS", &names)
        .env("CARGO_TARGET_DIR", target_dir(repo))
        .current_dir(repo))
    })
}

/// The cross compilers, their libcs and qemu-user from Debian, the Rust targets from rustup; each
/// only when missing.
fn install(targets: &[&ArmTarget]) -> Result {
    step("ARM toolchains (Debian cross gcc, qemu-user, rustup targets)");
    let mut packages = vec!["qemu-user".to_string()];
    for target in targets {
        packages.push(format!("gcc-{}", target.gnu));
        packages.push(format!("libc6-dev-{}-cross", debian_arch(target)));
    }
    let missing: Vec<&String> = packages.iter().filter(|p| !installed(p)).collect();
    if !missing.is_empty() {
        run(&mut cmd("apt-get", ["update", "-q"]))?;
        run(cmd(
            "apt-get",
            ["install", "-y", "-q", "--no-install-recommends"],
        )
        .args(&missing))?;
    }
    let output = cmd("rustup", ["target", "list", "--installed"]).output()?;
    let have = String::from_utf8_lossy(&output.stdout).into_owned();
    for target in targets {
        if !have.lines().any(|line| line == target.triple) {
            run(&mut cmd("rustup", ["target", "add", target.triple]))?;
        }
    }
    Ok(())
}

/// Debian's name of the architecture, as in `libc6-dev-<arch>-cross`.
fn debian_arch(target: &ArmTarget) -> &'static str {
    match target.name {
        "aarch64" => "arm64",
        _ => "armhf",
    }
}

fn installed(package: &str) -> bool {
    cmd("dpkg-query", ["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("ok installed"))
}

/// Linker, test runner (read by the ARM parity module too) and the C compiler of `cc` (mozjpeg's C code, tract's assembly) for the
/// target, through the environment Cargo and `cc` read.
fn configure(target: &ArmTarget) {
    let upper = target.triple.to_uppercase().replace('-', "_");
    let lower = target.triple.replace('-', "_");
    std::env::set_var(
        format!("CARGO_TARGET_{upper}_LINKER"),
        format!("{}-gcc", target.gnu),
    );
    let mut runner = format!(
        "{} -cpu {} -L /usr/{}",
        target.qemu, target.qemu_cpu, target.gnu
    );
    for variable in target.guest_env {
        runner.push_str(&format!(" -E {variable}"));
    }
    std::env::set_var(format!("CARGO_TARGET_{upper}_RUNNER"), runner);
    std::env::set_var(format!("CC_{lower}"), format!("{}-gcc", target.gnu));
    std::env::set_var(format!("AR_{lower}"), format!("{}-ar", target.gnu));
}

/// `cargo <subcommand>` for `target` in the ARM test profile.
fn cargo(repo: &Path, subcommand: &str, target: &ArmTarget) -> Command {
    process::cargo(
        repo,
        [subcommand, "--profile", PROFILE, "--target", target.triple],
    )
}

/// `cargo test` for `target` over [`PACKAGES`].
fn cargo_test(repo: &Path, target: &ArmTarget) -> Command {
    let mut command = cargo(repo, "test", target);
    command.args(PACKAGES);
    command
}

/// The test binaries (one `cargo test --no-run`), then the CLI and the FFI library; fails when
/// one of them is missing afterwards.
fn build(repo: &Path, target: &ArmTarget, timings: &mut Timings) -> Result {
    step(&format!("{}: build the core's tests", target.name));
    timings.time(format!("{}: build core tests", target.name), || {
        run(cargo_test(repo, target).args(["--no-run", "--lib"]).args(
            ["pipeline", "robustness", "kernels"]
                .iter()
                .flat_map(|t| ["--test", t]),
        ))
    })?;
    step(&format!(
        "{}: build the CLI and the FFI library",
        target.name
    ));
    timings.time(format!("{}: build CLI and FFI", target.name), || {
        run(cargo(repo, "build", target).args(["-p", "edgesam-cli", "-p", "edgesam-ffi"]))
    })?;
    let out = target_dir(repo).join(target.triple).join(PROFILE);
    for built in ["edgesam", "libedgesam_ffi.so"] {
        if !out.join(built).is_file() {
            crate::fail!(
                "{}: {} was not built",
                target.name,
                out.join(built).display()
            );
        }
    }
    Ok(())
}

/// The kernel check (its output names tract's kernels), the unit tests of the core, the CLI and
/// the FFI library, the core's pipeline tests and the size tests, under qemu.
fn test_emulated(repo: &Path, target: &ArmTarget, timings: &mut Timings) -> Result {
    step(&format!(
        "{}: core tests under {}",
        target.name, target.qemu
    ));
    timings.time(format!("{}: core tests under qemu", target.name), || {
        run(cargo_test(repo, target).args(["--test", "kernels", "--", "--nocapture"]))?;
        run(cargo_test(repo, target).args(["--lib", "--test", "pipeline"]))?;
        run(cargo_test(repo, target)
            .args(["--test", "robustness", "--"])
            .args(SIZE_TESTS))
    })
}
