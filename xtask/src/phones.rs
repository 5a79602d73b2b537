//! The phone builds, and what can be checked of the phone packaging on Linux.
//!
//! `cargo xtask build-ios [--zip]` (macOS with Xcode and rustup) builds the XCFramework that the
//! root Package.swift uses: the Rust library as static libraries for iPhones and both simulator
//! architectures (joined into one fat library with lipo), each with the EdgeSAMFFI header and
//! modulemap. With `--zip`, also the zip and its SwiftPM checksum, for a release whose
//! Package.swift uses `.binaryTarget(url:checksum:)`. Environment: IPHONEOS_DEPLOYMENT_TARGET
//! (default 15.0, as Package.swift).
//!
//! `cargo xtask build-android` (rustup, an Android NDK r28+ in ANDROID_NDK_HOME; installs
//! cargo-ndk when missing) builds libedgesam_ffi.so for each ABI into the folder the AAR module
//! packs, and the `edgesam` command (for `edgesam bench` over adb shell) into
//! android/build/bench/<abi>/edgesam. Environment: ANDROID_PLATFORM (minimum API level, default
//! 24, as the AAR's minSdk).
//!
//! `cargo xtask check-phones` checks what Linux can: shellcheck on every shell script, the demos'
//! calls against the bindings (scripts/check_demo_api.py, with a control run that must fail), and
//! that Package.swift and the Gradle files use the folders these builds write.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::process::{
    cargo, cmd, no_arguments, on_path, output, repo_root, require_tools, run, target_dir, Failure,
    Result, TempDir,
};

/// Where build-ios writes the XCFramework, and where Package.swift's binary target looks for it.
pub const XCFRAMEWORK: &str = "bindings/swift/EdgeSAMFFI.xcframework";
/// The generated header and modulemap that every slice of the XCFramework carries.
const SWIFT_FFI_HEADERS: [&str; 2] = [
    "bindings/swift/Sources/EdgeSAMFFI/include/EdgeSAMFFI.h",
    "bindings/swift/Sources/EdgeSAMFFI/include/module.modulemap",
];
const IOS_DEVICE: &str = "aarch64-apple-ios";
const IOS_SIMULATORS: [&str; 2] = ["aarch64-apple-ios-sim", "x86_64-apple-ios"];

/// The Android library module, and the folder (in it) where build-android puts the .so files.
pub const ANDROID_LIBRARY_MODULE: &str = "android/edgesam";
const JNI_LIBS_IN_MODULE: &str = "build/rustJniLibs";
/// ABI -> Rust target, for every ABI the AAR ships.
const ANDROID_ABIS: [(&str, &str); 3] = [
    ("arm64-v8a", "aarch64-linux-android"),
    ("armeabi-v7a", "armv7-linux-androideabi"),
    ("x86_64", "x86_64-linux-android"),
];

/// Smaller, faster phone libraries: fat LTO and one codegen unit. On Apple platforms it is also
/// needed because tract registers its kernels from static constructors, which are reported not to
/// run from a static library unless the whole crate graph is one object.
fn phone_release(command: &mut Command) -> &mut Command {
    command
        .env("CARGO_PROFILE_RELEASE_LTO", "fat")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
}

pub fn build_ios(args: &[String]) -> Result {
    let zip = match args {
        [] => false,
        [flag] if flag == "--zip" => true,
        _ => crate::fail!("usage: cargo xtask build-ios [--zip]"),
    };
    require_tools(
        &["rustup", "xcodebuild", "lipo"],
        "macOS with Xcode, and rustup",
    )?;
    if zip {
        require_tools(&["ditto", "swift"], "macOS with Xcode")?;
    }
    let repo = repo_root();
    let target = target_dir(&repo);
    let deployment_target =
        std::env::var("IPHONEOS_DEPLOYMENT_TARGET").unwrap_or_else(|_| "15.0".into());

    run(cmd("rustup", ["target", "add", IOS_DEVICE]).args(IOS_SIMULATORS))?;
    for rust_target in [IOS_DEVICE].iter().chain(&IOS_SIMULATORS) {
        eprintln!("build-ios: libedgesam_ffi.a for {rust_target}");
        // The crate's own crate types are lib + cdylib (for JNA and Python); an app links a
        // static library.
        run(phone_release(&mut cargo(
            &repo,
            [
                "rustc",
                "--release",
                "--locked",
                "-p",
                "edgesam-ffi",
                "--lib",
            ],
        ))
        .args(["--target", rust_target, "--crate-type", "staticlib"])
        .env("IPHONEOS_DEPLOYMENT_TARGET", &deployment_target))?;
    }
    let static_library =
        |rust_target: &str| target.join(rust_target).join("release/libedgesam_ffi.a");

    let work = TempDir::new("xcframework")?;
    // One headers folder for both slices: the generated header and its modulemap (module
    // EdgeSAMFFI, which the generated EdgeSAM.swift imports).
    let headers = work.path().join("headers");
    fs::create_dir(&headers)?;
    for header in SWIFT_FFI_HEADERS {
        let name = Path::new(header).file_name().expect("a file name");
        fs::copy(repo.join(header), headers.join(name))?;
    }
    let simulator = work.path().join("libedgesam_ffi.a");
    run(cmd("lipo", ["-create"])
        .args(IOS_SIMULATORS.map(static_library))
        .arg("-output")
        .arg(&simulator))?;

    let xcframework = repo.join(XCFRAMEWORK);
    if xcframework.exists() {
        fs::remove_dir_all(&xcframework)?;
    }
    run(cmd("xcodebuild", ["-create-xcframework", "-library"])
        .arg(static_library(IOS_DEVICE))
        .arg("-headers")
        .arg(&headers)
        .arg("-library")
        .arg(&simulator)
        .arg("-headers")
        .arg(&headers)
        .arg("-output")
        .arg(&xcframework))?;
    eprintln!("build-ios: wrote {XCFRAMEWORK}");

    if zip {
        let archive = repo.join(format!("{XCFRAMEWORK}.zip"));
        let _ = fs::remove_file(&archive);
        let folder = xcframework.parent().expect("the XCFramework's folder");
        run(cmd("ditto", ["-c", "-k", "--keepParent"])
            .arg(xcframework.file_name().expect("a folder name"))
            .arg(archive.file_name().expect("a file name"))
            .current_dir(folder))?;
        let checksum = output(cmd("swift", ["package", "compute-checksum"]).arg(&archive))?;
        eprintln!(
            "build-ios: wrote {XCFRAMEWORK}.zip, SwiftPM checksum {}",
            checksum.trim()
        );
    }
    Ok(())
}

pub fn build_android(args: &[String]) -> Result {
    no_arguments("build-android", args)?;
    let ndk_is_set =
        std::env::var_os("ANDROID_NDK_HOME").is_some_and(|ndk| Path::new(&ndk).is_dir());
    if !ndk_is_set {
        crate::fail!(
            "set ANDROID_NDK_HOME to an Android NDK, r28 or later (Android Studio: SDK Manager > NDK)"
        );
    }
    require_tools(&["rustup"], "rustup, https://rustup.rs")?;
    let repo = repo_root();
    if !on_path("cargo-ndk") {
        run(&mut cargo(&repo, ["install", "--locked", "cargo-ndk"]))?;
    }
    run(cmd("rustup", ["target", "add"]).args(ANDROID_ABIS.map(|(_, rust_target)| rust_target)))?;

    let platform = std::env::var("ANDROID_PLATFORM").unwrap_or_else(|_| "24".into());
    // Android 15+ devices may use 16 KB memory pages; apps targeting them must align their
    // libraries so (older NDKs default to 4 KB).
    let rustflags = format!(
        "{} -C link-arg=-Wl,-z,max-page-size=16384",
        std::env::var("RUSTFLAGS").unwrap_or_default()
    );
    let cargo_ndk = |outputs: &[&str], package: &str| -> Result {
        let mut command = cargo(&repo, ["ndk"]);
        for (abi, _) in ANDROID_ABIS {
            command.args(["-t", abi]);
        }
        command
            .args(["--platform", &platform])
            .args(outputs)
            .args(["build", "--release", "--locked", "-p", package])
            .env("RUSTFLAGS", &rustflags);
        run(phone_release(&mut command))
    };

    let jni_libs = format!("{ANDROID_LIBRARY_MODULE}/{JNI_LIBS_IN_MODULE}");
    eprintln!("build-android: libedgesam_ffi.so into {jni_libs}");
    cargo_ndk(&["-o", &jni_libs], "edgesam-ffi")?;

    eprintln!("build-android: the edgesam command into android/build/bench/<abi>/edgesam");
    cargo_ndk(&[], "edgesam-cli")?;
    for (abi, rust_target) in ANDROID_ABIS {
        let bench = repo.join("android/build/bench").join(abi);
        fs::create_dir_all(&bench)?;
        fs::copy(
            target_dir(&repo).join(rust_target).join("release/edgesam"),
            bench.join("edgesam"),
        )?;
    }
    eprintln!(
        "build-android: done. The AAR: (cd android && gradle :edgesam:assembleRelease); the \
         benchmark binary: android/build/bench/<abi>/edgesam (README: Run the on-device benchmark)"
    );
    Ok(())
}

pub fn check_phones(args: &[String]) -> Result {
    no_arguments("check-phones", args)?;
    let repo = repo_root();
    let mut problems = Vec::new();
    for (what, check) in [
        ("shellcheck", shellcheck as fn(&Path) -> Result),
        ("demo API", demo_api),
        ("layout", layout),
    ] {
        if let Err(failure) = check(&repo) {
            eprintln!("check-phones: {what}: {failure}");
            problems.push(what);
        }
    }
    if !problems.is_empty() {
        crate::fail!("check-phones failed: {}", problems.join(", "));
    }
    println!("check-phones: all checks passed");
    Ok(())
}

/// Every tracked shell script (by extension or by its #! line) passes shellcheck, which is
/// installed with apt-get when absent.
fn shellcheck(repo: &Path) -> Result {
    if !on_path("shellcheck") {
        eprintln!("check-phones: installing shellcheck");
        let quiet_install = || output(&mut cmd("apt-get", ["install", "-y", "-qq", "shellcheck"]));
        if quiet_install().is_err() {
            output(&mut cmd("apt-get", ["update", "-qq"]))?;
            quiet_install()?;
        }
    }
    let tracked = output(cmd("git", ["ls-files", "-z"]).current_dir(repo))?;
    let scripts: Vec<&str> = tracked
        .split('\0')
        .filter(|file| !file.is_empty())
        .filter(|file| file.ends_with(".sh") || is_shell_script(&repo.join(file)))
        .collect();
    println!(
        "check-phones: shellcheck on {} scripts: {}",
        scripts.len(),
        scripts.join(" ")
    );
    if scripts.is_empty() {
        return Ok(());
    }
    run(cmd("shellcheck", ["-x"]).args(&scripts).current_dir(repo))
}

/// Whether a file's first line is a #! line naming sh, bash, dash or ksh.
fn is_shell_script(path: &Path) -> bool {
    let Ok(bytes) = fs::read(path) else {
        return false;
    };
    let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let Some(interpreter) = first_line.strip_prefix(b"#!") else {
        return false;
    };
    String::from_utf8_lossy(interpreter)
        .split(|c: char| c.is_whitespace() || c == '/')
        .any(|word| matches!(word, "sh" | "bash" | "dash" | "ksh"))
}

/// The demos call only members the bindings declare; and, as a control, copies of both demos
/// with one call each renamed are refused, each for exactly that call.
fn demo_api(repo: &Path) -> Result {
    let python = repo.join(".venv/bin/python");
    let python = if python.exists() {
        python
    } else {
        "python3".into()
    };
    let checker = repo.join("scripts/check_demo_api.py");
    run(&mut cmd(&python, [&checker]))?;

    let control = TempDir::new("demo-api-control")?;
    let renamed = [
        (
            KOTLIN_DEMO,
            "dev/edgesam/demo/DemoViewModel.kt",
            ".segmentAsync(",
            "segmentAsyncTypo",
        ),
        (
            SWIFT_DEMO,
            "DemoModel.swift",
            ".tintedImage(",
            "tintedImageTypo",
        ),
    ];
    let mut copies = Vec::new();
    for (demo, file, call, typo) in renamed {
        let copy = control.path().join(typo);
        copy_tree(&repo.join(demo), &copy)?;
        let source = copy.join(file);
        let text = fs::read_to_string(&source)?;
        if !text.contains(call) {
            crate::fail!("{demo}/{file} no longer calls {call}: update the control run");
        }
        fs::write(&source, text.replace(call, &format!(".{typo}(")))?;
        copies.push(copy);
    }
    let refused = cmd(&python, [&checker]).args(&copies).output()?;
    let report = String::from_utf8_lossy(&refused.stdout);
    if refused.status.success() {
        crate::fail!(
            "check_demo_api.py passed demos that call segmentAsyncTypo and tintedImageTypo"
        );
    }
    for (_, _, _, typo) in renamed {
        if !report.contains(&format!("no member '{typo}'")) {
            crate::fail!("check_demo_api.py missed the renamed call {typo}: {report}");
        }
    }
    println!("check-phones: check_demo_api.py refuses demos calling missing methods (control run)");
    Ok(())
}

/// The demos' UI code, read by scripts/check_demo_api.py.
const KOTLIN_DEMO: &str = "android/demo/src/main/kotlin";
const SWIFT_DEMO: &str = "ios-demo/EdgeSAMDemo";

/// Package.swift and the Gradle files use the folders the phone builds write and the shared
/// Kotlin sources.
fn layout(repo: &Path) -> Result {
    let read = |file: &str| {
        fs::read_to_string(repo.join(file)).map_err(|e| Failure(format!("{file}: {e}")))
    };
    let library_gradle = format!("{ANDROID_LIBRARY_MODULE}/build.gradle.kts");
    let expectations = [
        (
            "Package.swift",
            format!("path: \"{XCFRAMEWORK}\""),
            "the XCFramework build-ios writes",
        ),
        (
            library_gradle.as_str(),
            format!("rustJniLibs = file(\"{JNI_LIBS_IN_MODULE}\")"),
            "the jniLibs folder build-android writes",
        ),
        (
            library_gradle.as_str(),
            "\"../../bindings/kotlin/src/main/kotlin\"".into(),
            "the shared Kotlin sources in bindings/kotlin",
        ),
        (
            "android/settings.gradle.kts",
            "include(\":edgesam\", \":demo\")".into(),
            "one Gradle build of the library and the demo",
        ),
        (
            "android/demo/build.gradle.kts",
            "implementation(project(\":edgesam\"))".into(),
            "the demo built against the library module",
        ),
    ];
    let mut missing = Vec::new();
    for (file, expected, why) in expectations {
        if !read(file)?.contains(&expected) {
            missing.push(format!("{file} lacks {expected} ({why})"));
        }
    }
    if !missing.is_empty() {
        return Err(Failure(missing.join("; ")));
    }
    println!("check-phones: Package.swift and the Gradle files agree with the phone builds");
    Ok(())
}

/// Copies a folder with everything in it.
fn copy_tree(from: &Path, to: &Path) -> Result {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
