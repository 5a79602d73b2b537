//! The phone builds cannot run without their platform's tools; they must say so before any work.

use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.args(args);
    command
}

fn failure_message(output: Output) -> String {
    assert!(
        !output.status.success(),
        "the command succeeded: {output:?}"
    );
    assert!(output.stdout.is_empty(), "it started work: {output:?}");
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn build_ios_without_xcode_names_the_missing_tools() {
    // An empty PATH: none of the tools can be found, whatever the machine has.
    let message = failure_message(xtask(&["build-ios"]).env("PATH", "").output().unwrap());
    assert!(
        message.contains("rustup, xcodebuild, lipo not found (needs macOS with Xcode, and rustup)"),
        "{message}"
    );
}

#[test]
fn build_android_without_an_ndk_says_how_to_get_one() {
    for ndk in [None, Some("/nonexistent/android-ndk")] {
        let mut command = xtask(&["build-android"]);
        match ndk {
            Some(folder) => command.env("ANDROID_NDK_HOME", folder),
            None => command.env_remove("ANDROID_NDK_HOME"),
        };
        let message = failure_message(command.output().unwrap());
        assert!(
            message.contains("set ANDROID_NDK_HOME to an Android NDK, r28 or later"),
            "{message}"
        );
    }
}

#[test]
fn build_ios_refuses_unknown_arguments() {
    let message = failure_message(xtask(&["build-ios", "--zap"]).output().unwrap());
    assert!(
        message.contains("usage: cargo xtask build-ios [--zip]"),
        "{message}"
    );
}
