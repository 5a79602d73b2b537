//! Running the tools a step needs, with the failure saying which command failed and why.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What went wrong in a step: said once, at the top, by `main`.
#[derive(Debug)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure(error.to_string())
    }
}

pub type Result<T = ()> = std::result::Result<T, Failure>;

/// Fails with `message` (formatted like `format!`).
#[macro_export]
macro_rules! fail {
    ($($arg:tt)*) => { return Err($crate::process::Failure(format!($($arg)*))) };
}

/// The repository's root (the parent of this crate's folder).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one folder below the repository root")
        .to_path_buf()
}

/// Prints a step's heading, so that a long log shows where it is.
pub fn step(title: &str) {
    println!("\n==== {title}");
}

/// Builds a command from a program and its arguments.
pub fn cmd<I, S>(program: impl AsRef<std::ffi::OsStr>, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut command = Command::new(program);
    command.args(args);
    command
}

/// Runs a command with inherited output; a non-zero exit is a failure naming the command.
pub fn run(command: &mut Command) -> Result {
    let status = command
        .status()
        .map_err(|e| Failure(format!("could not start {}: {e}", describe(command))))?;
    if !status.success() {
        fail!("{} failed ({status})", describe(command));
    }
    Ok(())
}

fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}
