//! The Kotlin suite: the generated bindings, their conveniences and the Android demo's UI-free code
//! compiled with Maven and tested with JUnit on the JVM, against the host-built library.

use std::path::Path;

use crate::process::{cmd, require_tools, run, target_dir, Result};

/// Runs `mvn test` on bindings/kotlin/pom.xml. Needs the release build and the tiny stand-ins.
pub fn test(repo: &Path) -> Result {
    require_tools(&["mvn", "java"], "Maven 3.8+ and Java 17+")?;
    let release = target_dir(repo).join("release");
    crate::setup::require_built(
        repo,
        &[&release.join("libedgesam_ffi.so"), &release.join("edgesam")],
    )?;
    let property = |name: &str, path: &Path| format!("-Dedgesam.{name}={}", path.display());
    // -B: batch mode; --no-transfer-progress: no download progress lines. Not -q: it would hide
    // Surefire's "Tests run: N, Failures: N, ..." summary.
    run(cmd("mvn", ["-B", "--no-transfer-progress", "-f"])
        .arg(repo.join("bindings/kotlin/pom.xml"))
        .arg(property("libdir", &release))
        .arg(property("cli", &release.join("edgesam")))
        .arg("test"))
}
