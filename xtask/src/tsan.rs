//! `cargo xtask tsan`: the core's concurrency tests under ThreadSanitizer (nightly Rust, the
//! standard library rebuilt with TSan by -Zbuild-std, a target folder of its own). Too slow for
//! CI (tract's build alone takes about half an hour on two cores), so it is run by hand; JOBS
//! sets cargo's jobs (default 2). Fails if a test fails or TSan reports anything. The whole output
//! is kept in $CARGO_TARGET_DIR/tsan.log (default target-tsan/tsan.log).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::process::Command;
use std::time::Instant;

use crate::process::{cmd, no_arguments, output, repo_root, run, Failure, Result};

const TOOLCHAIN: &str = "+nightly";

/// Every test that runs threads: one model shared by many callers, tract's worker pool
/// (threads: 2), everything mode's workers and the row-parallel pre- and post-processing. Each is
/// (test binary, or None for the library's own tests; test name).
const TESTS: [(Option<&str>, &str); 8] = [
    (
        Some("robustness"),
        "eight_threads_of_200_taps_on_one_model_equal_the_serial_answers",
    ),
    (
        Some("robustness"),
        "two_encodes_racing_on_one_model_give_the_serial_embeddings",
    ),
    (Some("pipeline"), "two_threads_give_the_answers_of_one"),
    (Some("everything"), "one_thread_and_two_give_the_same_masks"),
    (
        Some("everything"),
        "progress_counts_up_and_cancelling_stops_early",
    ),
    (
        None,
        "parallel::tests::every_row_is_visited_once_with_its_index",
    ),
    (
        None,
        "preprocess::tests::threads_share_rows_without_changing_a_byte",
    ),
    (
        None,
        "postprocess::tests::mask_at_image_size_equals_threshold_of_the_float_logits",
    ),
];

pub fn main(args: &[String]) -> Result {
    no_arguments("tsan", args)?;
    let repo = repo_root();
    let host = output(&mut cmd("rustc", [TOOLCHAIN, "-vV"]))?;
    let target = host
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .ok_or_else(|| Failure("rustc -vV names no host".into()))?
        .to_string();
    let installed = output(&mut cmd(
        "rustup",
        ["component", "list", "--toolchain", "nightly", "--installed"],
    ))?;
    if !installed.lines().any(|line| line.starts_with("rust-src")) {
        run(&mut cmd(
            "rustup",
            ["component", "add", "rust-src", "--toolchain", "nightly"],
        ))?;
    }

    let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => repo.join(dir),
        None => repo.join("target-tsan"),
    };
    std::fs::create_dir_all(&target_dir)?;
    let log_path = target_dir.join("tsan.log");
    let mut log = File::create(&log_path)?;
    let jobs = std::env::var("JOBS").unwrap_or("2".into());
    let cargo_test = |args: &[&str]| {
        // `cargo +nightly` goes through rustup's proxy, not the cargo running this program.
        let mut command = cmd(
            "cargo",
            [TOOLCHAIN, "test", "-Zbuild-std", "--target", &target],
        );
        command
            .args(["--release", "-p", "edgesam", "-j", &jobs])
            .args(args)
            .current_dir(&repo)
            .env("RUSTFLAGS", "-Zsanitizer=thread")
            .env("RUSTDOCFLAGS", "-Zsanitizer=thread")
            .env("CARGO_TARGET_DIR", &target_dir);
        if std::env::var_os("TSAN_OPTIONS").is_none() {
            command.env(
                "TSAN_OPTIONS",
                "halt_on_error=0 second_deadlock_stack=1 report_signal_unsafe=0",
            );
        }
        // The stand-in models are generated on first use (see core/tests/common).
        let venv = repo.join(".venv/bin/python");
        if std::env::var_os("EDGESAM_PYTHON").is_none() && venv.exists() {
            command.env("EDGESAM_PYTHON", venv);
        }
        command
    };

    let started = Instant::now();
    let built = tee(cargo_test(&["--tests", "--no-run"]), &mut log)?;
    writeln!(log, "build: {} s", started.elapsed().as_secs())?;
    println!("build: {} s", started.elapsed().as_secs());
    if !built {
        crate::fail!("the TSan build failed (see {})", log_path.display());
    }

    let mut failed = Vec::new();
    for (binary, name) in TESTS {
        let heading = format!("\n==== {name}");
        println!("{heading}");
        writeln!(log, "{heading}")?;
        let kind: &[&str] = match binary {
            Some(binary) => &["--test", binary],
            None => &["--lib"],
        };
        let (started, cpu_before) = (Instant::now(), children_cpu_seconds()?);
        let mut args = kind.to_vec();
        args.extend(["--", name, "--exact", "--test-threads=1", "--nocapture"]);
        if !tee(cargo_test(&args), &mut log)? {
            failed.push(name);
        }
        let timing = format!(
            "{name}: {} s wall, {:.0} s CPU",
            started.elapsed().as_secs(),
            children_cpu_seconds()? - cpu_before
        );
        println!("{timing}");
        writeln!(log, "{timing}")?;
    }

    let text = std::fs::read_to_string(&log_path)?;
    let warnings = text
        .lines()
        .filter(|line| line.starts_with("WARNING: ThreadSanitizer"))
        .count();
    let mut summaries = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with("SUMMARY: ThreadSanitizer"))
    {
        *summaries.entry(line).or_insert(0) += 1;
    }
    println!("\n==== TSan summary ({})", log_path.display());
    for (summary, count) in summaries {
        println!("{count:7} {summary}");
    }
    println!(
        "{warnings} TSan warning(s); {} test run(s) failed{}",
        failed.len(),
        if failed.is_empty() {
            String::new()
        } else {
            format!(": {}", failed.join(" "))
        }
    );
    if warnings > 0 || !failed.is_empty() {
        crate::fail!("ThreadSanitizer run failed");
    }
    Ok(())
}

/// Runs a command with its standard output and error, interleaved, shown and appended to `log`;
/// returns whether it succeeded.
fn tee(mut command: Command, log: &mut File) -> Result<bool> {
    let (reader, writer) = std::io::pipe()?;
    let mut child = command.stdout(writer.try_clone()?).stderr(writer).spawn()?;
    // The command holds the pipe's writing ends: dropped, the reader sees the end of the output.
    drop(command);
    for line in BufReader::new(reader).lines() {
        let line = line?;
        println!("{line}");
        writeln!(log, "{line}")?;
    }
    Ok(child.wait()?.success())
}

/// CPU time (user + system) of the children this process has waited for, from /proc/self/stat.
fn children_cpu_seconds() -> Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the command name in parentheses; cutime and cstime are fields 16 and 17.
    let fields: Vec<&str> = stat[stat.rfind(')').map_or(0, |i| i + 2)..]
        .split(' ')
        .collect();
    let ticks: f64 =
        fields[13].parse::<f64>().unwrap_or(0.0) + fields[14].parse::<f64>().unwrap_or(0.0);
    // Linux reports these in USER_HZ, which is 100 on every architecture it runs on.
    Ok(ticks / 100.0)
}

#[cfg(test)]
mod tests {
    use super::{children_cpu_seconds, tee};
    use crate::process::{cmd, TempDir};

    #[test]
    fn tee_keeps_both_streams_and_the_exit_status() {
        let folder = TempDir::new("tee-test").unwrap();
        let path = folder.path().join("log");
        let mut log = std::fs::File::create(&path).unwrap();
        let script = "echo out; echo err >&2; exit 3";
        assert!(!tee(cmd("sh", ["-c", script]), &mut log).unwrap());
        assert!(tee(cmd("sh", ["-c", "echo fine"]), &mut log).unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "out\nerr\nfine\n");
    }

    #[test]
    fn children_cpu_time_counts_up_after_a_busy_child() {
        let before = children_cpu_seconds().unwrap();
        let busy = "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done";
        assert!(cmd("sh", ["-c", busy]).status().unwrap().success());
        assert!(children_cpu_seconds().unwrap() > before);
    }
}
