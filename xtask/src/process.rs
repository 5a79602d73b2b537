//! Running the tools a step needs, with the failure saying which command failed and why.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
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

/// Runs a command and returns its standard output; a non-zero exit is a failure naming the
/// command, with its standard error.
pub fn output(command: &mut Command) -> Result<String> {
    let out = command
        .output()
        .map_err(|e| Failure(format!("could not start {}: {e}", describe(command))))?;
    if !out.status.success() {
        fail!(
            "{} failed ({}): {}",
            describe(command),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether `tool` is an executable file in a folder of `PATH`.
pub fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            dir.join(tool)
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// Fails before any work when a tool is missing, naming every missing one and what provides them.
pub fn require_tools(tools: &[&str], provided_by: &str) -> Result {
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !on_path(t)).collect();
    if !missing.is_empty() {
        fail!("{} not found (needs {provided_by})", missing.join(", "));
    }
    Ok(())
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, or `target/` in the repository.
pub fn target_dir(repo: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => repo.join(dir),
        None => repo.join("target"),
    }
}

/// A `cargo` command run at the repository root (the cargo that runs this program).
pub fn cargo<I, S>(repo: &Path, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut command = cmd(std::env::var_os("CARGO").unwrap_or("cargo".into()), args);
    command.current_dir(repo);
    command
}

/// A fresh folder under the system's temporary folder, deleted with everything in it on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(purpose: &str) -> Result<TempDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("edgesam-{purpose}-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&path)
            .map_err(|e| Failure(format!("could not create {}: {e}", path.display())))?;
        Ok(TempDir(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Fails when a command that takes no arguments was given some.
pub fn no_arguments(command: &str, args: &[String]) -> Result {
    match args.first() {
        Some(arg) => fail!("cargo xtask {command} takes no arguments (got '{arg}')"),
        None => Ok(()),
    }
}
