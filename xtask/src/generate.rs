//! `cargo xtask generate [--check]`: the Swift, Kotlin and Python bindings from the built library
//! (UniFFI library mode), put where each platform expects them. `--check` generates into a
//! scratch folder and fails if the committed copies differ (stale bindings).

use std::fs;
use std::path::Path;

use crate::process::{cmd, output, repo_root, target_dir, Failure, Result, TempDir};

/// Generated file (relative to the generator's output folder) -> committed location.
const PLACES: [(&str, &str); 5] = [
    (
        "EdgeSAM.swift",
        "bindings/swift/Sources/EdgeSAM/EdgeSAM.swift",
    ),
    (
        "EdgeSAMFFI.h",
        "bindings/swift/Sources/EdgeSAMFFI/include/EdgeSAMFFI.h",
    ),
    (
        "EdgeSAMFFI.modulemap",
        "bindings/swift/Sources/EdgeSAMFFI/include/module.modulemap",
    ),
    (
        KOTLIN_BINDINGS,
        "bindings/kotlin/src/main/kotlin/dev/edgesam/edgesam.kt",
    ),
    ("edgesam.py", "bindings/python/edgesam/_uniffi.py"),
];

const KOTLIN_BINDINGS: &str = "dev/edgesam/edgesam.kt";

pub fn main(args: &[String]) -> Result {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => crate::fail!("usage: cargo xtask generate [--check]"),
    };
    let repo = repo_root();
    crate::setup::build_release(&repo)?;
    generate(&repo, check)
}

/// Generates the bindings from the built library; with `check`, compares instead of writing.
pub fn generate(repo: &Path, check: bool) -> Result {
    let release = target_dir(repo).join("release");
    let library = ["libedgesam_ffi.so", "libedgesam_ffi.dylib"]
        .iter()
        .map(|name| release.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| Failure(format!("no libedgesam_ffi in {}", release.display())))?;

    let out = TempDir::new("bindings")?;
    // --no-format: the output must not depend on which formatters a machine happens to have.
    output(
        cmd(release.join("uniffi-bindgen"), ["generate", "--library"])
            .arg(library)
            .args(["--no-format", "--language", "swift", "--language", "kotlin"])
            .args(["--language", "python", "--out-dir"])
            .arg(out.path()),
    )?;
    let kotlin = out.path().join(KOTLIN_BINDINGS);
    fs::write(
        &kotlin,
        patch_closed_arguments(&fs::read_to_string(&kotlin)?)?,
    )?;

    if check {
        compare(repo, out.path())
    } else {
        for (generated, committed) in PLACES {
            let committed_path = repo.join(committed);
            if let Some(parent) = committed_path.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::copy(out.path().join(generated), &committed_path)?;
            println!("wrote {committed}");
        }
        Ok(())
    }
}

/// Fails naming every committed file that differs from the fresh ones.
fn compare(repo: &Path, fresh: &Path) -> Result {
    let mut stale = Vec::new();
    for (generated, committed) in PLACES {
        let same =
            fs::read(fresh.join(generated))? == fs::read(repo.join(committed)).unwrap_or_default();
        if !same {
            eprintln!("stale: {committed} differs from freshly generated bindings");
            stale.push(committed);
        }
    }
    if !stale.is_empty() {
        crate::fail!("stale bindings: run cargo xtask generate and commit the result");
    }
    println!("generated bindings are up to date");
    Ok(())
}

/// UniFFI 0.32's Kotlin lowers an object argument by cloning its handle without checking that the
/// object is still open: passing a closed embedding (`model.segment(embedding, ...)` after
/// `embedding.close()`) clones a freed handle and aborts the process. Lowering through the class's
/// own `callWithHandle` throws IllegalStateException instead, as a call on a closed receiver does,
/// and keeps the object alive while its handle is cloned. Every object's lower() is patched; the
/// count is checked so that a changed template fails here instead of silently going unpatched.
fn patch_closed_arguments(kotlin: &str) -> Result<String> {
    const LOWER: &str = "return value.uniffiCloneHandle()";
    const PATCHED: &str = "return value.callWithHandle { it }";
    const OBJECT: &str = "fun uniffiCloneHandle(): Long {";
    let lowers = kotlin.lines().filter(|l| l.ends_with(LOWER)).count();
    let objects = kotlin.lines().filter(|l| l.contains(OBJECT)).count();
    if lowers == 0 || lowers != objects {
        crate::fail!(
            "expected one lower() per object in the generated Kotlin ({lowers} lowers, \
             {objects} objects): update the closed-argument patch"
        );
    }
    let mut patched: String = kotlin
        .lines()
        .map(|line| match line.strip_suffix(LOWER) {
            Some(indent) => format!("{indent}{PATCHED}\n"),
            None => format!("{line}\n"),
        })
        .collect();
    if !kotlin.ends_with('\n') {
        patched.pop();
    }
    Ok(patched)
}

#[cfg(test)]
mod tests {
    use super::patch_closed_arguments;

    const OBJECT: &str = "    fun uniffiCloneHandle(): Long {\n        return 1\n    }\n";
    const LOWER: &str = "    override fun lower(value: A): Long {\n        return value.uniffiCloneHandle()\n    }\n";

    #[test]
    fn every_lower_goes_through_call_with_handle() {
        let source = format!("{OBJECT}{LOWER}{OBJECT}{LOWER}");
        let patched = patch_closed_arguments(&source).unwrap();
        assert_eq!(
            patched
                .matches("return value.callWithHandle { it }")
                .count(),
            2
        );
        assert!(!patched.contains("return value.uniffiCloneHandle()"));
        assert_eq!(
            patched.len(),
            source.len() + 2 * ("callWithHandle { it }".len() - "uniffiCloneHandle()".len())
        );
    }

    #[test]
    fn a_lower_count_that_differs_from_the_objects_fails() {
        assert!(patch_closed_arguments(&format!("{OBJECT}{OBJECT}{LOWER}")).is_err());
        assert!(patch_closed_arguments(OBJECT).is_err());
    }
}
