//! The project's build steps as one Rust program: `cargo xtask <command>`.
//!
//! Each command installs what it needs on a fresh Debian machine (a Python venv, the stand-in
//! models, Maven dependencies, the Swift toolchain) and says which step failed.

mod arm;
mod generate;
mod kotlin;
mod phones;
mod process;
mod python_package;
mod segment;
mod setup;
mod swift;
mod test;
mod tsan;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  segment [--standins] [IMAGE] [OPTIONS]
                   segment a photo from a tap or a box (the main job; out/mask.png,
                   out/overlay.png); --standins: offline, on stand-in models
  test             every test of the project (what CI runs)
  generate [--check]
                   regenerate the Swift, Kotlin and Python bindings (--check: fail if stale)
  build-ios [--zip]
                   the XCFramework for Package.swift (macOS with Xcode)
  build-android    the Android libraries and the benchmark command (Android NDK)
  kotlin-tests     the Kotlin suite alone (after a release build)
  swift-tests      the Swift suite alone, in the trixie root (as root, after a release build)
  python-package   the Python wheel, installed in a fresh venv, under its tests
  test-arm [aarch64|armv7]...
                   the ARM cross-builds and their tests under qemu (as root; long)
  provision-swift  make the trixie root with the Swift toolchain (as root)
  check-phones     shellcheck, the demos' calls, the phone builds' folders
  tsan             the core's concurrency tests under ThreadSanitizer (nightly; slow)
  help             this text";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or_default();
    let result = match args.first().map(String::as_str) {
        Some("segment") => segment::main(rest),
        Some("test") => test::main(rest),
        Some("generate") => generate::main(rest),
        Some("build-ios") => phones::build_ios(rest),
        Some("build-android") => phones::build_android(rest),
        Some("kotlin-tests") => process::no_arguments("kotlin-tests", rest)
            .and_then(|()| kotlin::test(&process::repo_root())),
        Some("swift-tests") => swift::test(rest),
        Some("provision-swift") => swift::provision(rest).map(drop),
        Some("check-phones") => phones::check_phones(rest),
        Some("tsan") => tsan::main(rest),
        Some("test-arm") => arm::main(rest),
        Some("python-package") => process::no_arguments("python-package", rest)
            .and_then(|()| python_package::test(&process::repo_root())),
        Some("help") | Some("--help") | Some("-h") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(process::Failure(format!(
            "unknown command '{other}'\n{USAGE}"
        ))),
        None => Err(process::Failure(USAGE.to_string())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("xtask: {failure}");
            ExitCode::FAILURE
        }
    }
}
