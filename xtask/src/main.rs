//! The project's build steps as one Rust program: `cargo xtask <command>`.
//!
//! Each command installs what it needs on a fresh Debian machine (a Python venv, the stand-in
//! models, Maven dependencies, the Swift toolchain) and says which step failed.

mod arm;
mod process;
mod test;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test    every test of the project (what CI runs)
  test-arm [aarch64|armv7]...
          the ARM cross-builds and their tests under qemu (part of test)
  help    this text";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test::main(&args[1..]),
        Some("test-arm") => arm::main(&args[1..]),
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
