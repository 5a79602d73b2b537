//! The Swift suite on Linux. No registry ships Swift for Debian 12, but Debian 13 (trixie)
//! packages it as `swiftlang`; installing it into the host would pull in a newer glibc, so it
//! lives in a trixie root of its own (debootstrap) used through `chroot`.
//!
//! `cargo xtask provision-swift` makes that root (as root; idempotent, serialised by a lock):
//!   EDGESAM_SWIFT_ROOT     where it lives (default /var/cache/edgesam-swift-root), outside the
//!                          repository: about 2.6 GB, reused between runs;
//!   EDGESAM_DEBIAN_MIRROR  the Debian mirror (default: the one the host's apt uses).
//! `cargo xtask swift-tests` runs `swift test` at the repository root inside it, against the
//! host-built library (EDGESAM_SWIFT_TIMEOUT: seconds, default 1800).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process::{cmd, no_arguments, on_path, output, repo_root, run, target_dir, Result};

const DEFAULT_ROOT: &str = "/var/cache/edgesam-swift-root";
const SUITE: &str = "trixie";
/// The Swift runtime's libraries inside the root (swiftc itself needs them on LD_LIBRARY_PATH).
const SWIFT_RUNTIME: &str = "/usr/libexec/swift/lib/swift/linux";
/// Where the repository (read-only) and cargo's target folder appear inside the root. The target
/// folder holds the host-built library, the fixtures, and SwiftPM's build folder (kept between
/// runs, so the next build is incremental; `cargo clean` removes it with the rest).
const REPO_IN_ROOT: &str = "/repo";
const TARGET_IN_ROOT: &str = "/edgesam-target";
const SWIFT_BUILD: &str = "swift-build";
const FIXTURES: &str = "swift-fixtures";
/// Set in the private mount namespace that `swift-tests` re-runs itself in.
const IN_NAMESPACE: &str = "EDGESAM_SWIFT_IN_NAMESPACE";

fn swift_root() -> Result<PathBuf> {
    let root = PathBuf::from(std::env::var("EDGESAM_SWIFT_ROOT").unwrap_or(DEFAULT_ROOT.into()));
    if !root.is_absolute() || root == Path::new("/") {
        crate::fail!(
            "EDGESAM_SWIFT_ROOT must be an absolute path other than / (got '{}')",
            root.display()
        );
    }
    Ok(root)
}

fn require_root_user(why: &str) -> Result {
    if output(&mut cmd("id", ["-u"]))?.trim() != "0" {
        crate::fail!("must run as root ({why})");
    }
    Ok(())
}

fn swiftc_in(root: &Path) -> PathBuf {
    root.join("usr/bin/swiftc")
}

/// Makes the trixie root with Swift unless it is there; returns its path.
pub fn provision(args: &[String]) -> Result<PathBuf> {
    no_arguments("provision-swift", args)?;
    let root = swift_root()?;
    if swiftc_in(&root).is_file() {
        println!(
            "provision-swift: Swift already provisioned in {}",
            root.display()
        );
        return Ok(root);
    }
    require_root_user("debootstrap and chroot need it")?;

    // Two runs started at once: the second waits, then finds the root made.
    fs::create_dir_all(
        root.parent()
            .expect("an absolute path other than / has a parent"),
    )?;
    let mut lock_path = root.clone().into_os_string();
    lock_path.push(".lock");
    let lock = fs::File::create(lock_path)?;
    lock.lock()?;
    if swiftc_in(&root).is_file() {
        println!(
            "provision-swift: Swift was provisioned in {} by a concurrent run",
            root.display()
        );
        return Ok(root);
    }

    let mirror = debian_mirror()?;
    println!("provision-swift: root {}, mirror {mirror}", root.display());
    if !on_path("debootstrap") {
        println!("provision-swift: installing debootstrap on the host");
        run(&mut cmd("apt-get", ["update"]))?;
        run(cmd("apt-get", ["install", "-y", "debootstrap"])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }

    // debootstrap leaves $ROOT/debootstrap behind until it finishes; the mark is written after.
    let done_mark = root.join(".edgesam-debootstrap-done");
    if !done_mark.is_file() || root.join("debootstrap").exists() {
        if root.exists() {
            // Never delete through a mount point (a test run may have mounted things inside).
            if !mounts_under(&root)?.is_empty() {
                crate::fail!(
                    "{} holds mounts (see /proc/mounts); unmount them before provisioning again",
                    root.display()
                );
            }
            println!(
                "provision-swift: removing the incomplete root {}",
                root.display()
            );
            run(cmd("rm", ["-rf", "--one-file-system"]).arg(&root))?;
        }
        println!(
            "provision-swift: debootstrap --variant=minbase {SUITE} (downloads the base system)"
        );
        run(cmd("debootstrap", ["--variant=minbase", SUITE])
            .arg(&root)
            .arg(&mirror))?;
        fs::write(&done_mark, "")?;
    }

    println!("provision-swift: installing swiftlang and libc6-dev in the root (about 2 GB)");
    fs::write(
        root.join("etc/apt/sources.list"),
        format!("deb {mirror} {SUITE} main\n"),
    )?;
    fs::copy("/etc/resolv.conf", root.join("etc/resolv.conf"))?;
    let apt_get = |args: &[&str]| {
        run(cmd("chroot", [&root])
            .args(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"])
            .args(args))
    };
    apt_get(&["update"])?;
    apt_get(&["install", "-y", "swiftlang", "libc6-dev"])?;
    apt_get(&["clean"])?;
    if !swiftc_in(&root).is_file() {
        crate::fail!(
            "swiftlang is installed but {} is missing",
            swiftc_in(&root).display()
        );
    }
    println!("provision-swift: done: {}", swiftc_in(&root).display());
    Ok(root)
}

/// EDGESAM_DEBIAN_MIRROR, else the main archive the host's apt uses, else deb.debian.org.
fn debian_mirror() -> Result<String> {
    if let Ok(mirror) = std::env::var("EDGESAM_DEBIAN_MIRROR") {
        return Ok(mirror.trim_end_matches('/').to_string());
    }
    let deb822 = fs::read_to_string("/etc/apt/sources.list.d/debian.sources").unwrap_or_default();
    let one_line = fs::read_to_string("/etc/apt/sources.list").unwrap_or_default();
    let mirror = first_main_archive(&deb822, &one_line).unwrap_or("http://deb.debian.org/debian");
    Ok(mirror.trim_end_matches('/').to_string())
}

/// The main archive in apt's sources: the first `URIs:` of the deb822 file (later ones are e.g.
/// debian-security), else the first plain `deb` line that is not a security archive.
fn first_main_archive<'a>(deb822: &'a str, one_line: &'a str) -> Option<&'a str> {
    let from_deb822 = deb822
        .lines()
        .find_map(|line| line.strip_prefix("URIs:"))
        .and_then(|uris| uris.split_whitespace().next());
    from_deb822.or_else(|| {
        one_line.lines().find_map(|line| {
            let mut words = line.split_whitespace();
            let uri = (words.next() == Some("deb"))
                .then(|| words.next())
                .flatten()?;
            (!uri.starts_with('[') && !uri.contains("security")).then_some(uri)
        })
    })
}

/// The mount points at or below `folder`, from /proc/mounts.
fn mounts_under(folder: &Path) -> Result<Vec<PathBuf>> {
    let mounts = fs::read_to_string("/proc/mounts")?;
    Ok(mounts
        .lines()
        .filter_map(|line| line.split_whitespace().nth(1))
        .map(PathBuf::from)
        .filter(|point| point.starts_with(folder))
        .collect())
}

/// Mounts made for one run, unmounted in reverse order when dropped: after the tests, after a
/// failure, after a panic.
struct Mounts(Vec<PathBuf>);

impl Mounts {
    fn mount(&mut self, point: &Path, args: &[&std::ffi::OsStr]) -> Result {
        fs::create_dir_all(point)?;
        if mounts_under(point)?.iter().any(|m| m == point) {
            return Ok(()); // made by another run sharing the root: left to it
        }
        run(cmd("mount", args).arg(point))?;
        self.0.push(point.to_path_buf());
        Ok(())
    }

    /// A bind mount of `source`, made fresh (so that nobody else's mount is remounted).
    fn bind(&mut self, source: &Path, point: &Path, read_only: ReadOnly) -> Result {
        if mounts_under(point)?.iter().any(|m| m == point) {
            crate::fail!(
                "{} is already mounted (another run outside a private namespace?)",
                point.display()
            );
        }
        self.mount(point, &["--bind".as_ref(), source.as_os_str()])?;
        if read_only.0 {
            run(cmd("mount", ["-o", "remount,bind,ro"]).arg(point))?;
        }
        Ok(())
    }
}

/// Whether a bind mount is read-only.
struct ReadOnly(bool);

impl Drop for Mounts {
    fn drop(&mut self) {
        for point in self.0.iter().rev() {
            let unmounted = cmd("umount", [point]).status().is_ok_and(|s| s.success())
                || cmd("umount", ["-l".as_ref(), point.as_os_str()])
                    .status()
                    .is_ok_and(|s| s.success());
            if !unmounted {
                eprintln!("swift-tests: could not unmount {}", point.display());
            }
        }
    }
}

/// Runs the Swift suite (`swift test` at the repository root) in the trixie root, provisioning it
/// first when needed. Needs the release build and the tiny stand-ins.
pub fn test(args: &[String]) -> Result {
    no_arguments("swift-tests", args)?;
    require_root_user("mount and chroot need it")?;
    // Mounts in a private mount namespace when the kernel allows it: concurrent runs sharing the
    // root never unmount each other's /proc, and nothing stays mounted even if the run is killed.
    if std::env::var_os(IN_NAMESPACE).is_none()
        && cmd("unshare", ["--mount", "--propagation", "private", "true"])
            .status()
            .is_ok_and(|s| s.success())
    {
        return run(cmd("unshare", ["--mount", "--propagation", "private"])
            .arg(std::env::current_exe()?)
            .arg("swift-tests")
            .env(IN_NAMESPACE, "1"));
    }

    let repo = repo_root();
    let target = target_dir(&repo);
    let release = target.join("release");
    let python = repo.join(".venv/bin/python");
    crate::setup::require_built(
        &repo,
        &[
            &release.join("libedgesam_ffi.so"),
            &release.join("edgesam"),
            &python,
        ],
    )?;
    let root = provision(&[])?;

    // Foundation on Linux has no image encoder: the photos, and the core CLI's masks for the
    // same prompts, are made on the host.
    let fixtures = target.join(FIXTURES);
    if fixtures.exists() {
        fs::remove_dir_all(&fixtures)?;
    }
    let [encoder, decoder] = crate::setup::TINY_MODELS.map(|model| repo.join(model));
    run(cmd(
        &python,
        [repo.join("bindings/swift/Tests/make_fixtures.py"), fixtures],
    )
    .arg(release.join("edgesam"))
    .arg(encoder)
    .arg(decoder))?;

    let mut mounts = Mounts(Vec::new());
    // Without /proc the Swift driver dies with "Illegal instruction".
    mounts.mount(
        &root.join("proc"),
        &["-t".as_ref(), "proc".as_ref(), "proc".as_ref()],
    )?;
    mounts.mount(&root.join("dev"), &["--bind".as_ref(), "/dev".as_ref()])?;
    mounts.mount(&root.join("sys"), &["--bind".as_ref(), "/sys".as_ref()])?;
    mounts.bind(&repo, &in_root(&root, REPO_IN_ROOT), ReadOnly(true))?;
    mounts.bind(&target, &in_root(&root, TARGET_IN_ROOT), ReadOnly(false))?;

    let timeout = std::env::var("EDGESAM_SWIFT_TIMEOUT").unwrap_or("1800".into());
    run(&mut swift_test(&root, &timeout))
}

fn in_root(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

/// `swift test` at the repository root inside the root: the Swift runtime and the host-built
/// library on the library path, the library's folder on the linker's, the fixtures' folder in
/// EDGESAM_SWIFT_FIXTURES.
fn swift_test(root: &Path, timeout_seconds: &str) -> Command {
    let release = format!("{TARGET_IN_ROOT}/release");
    let mut command = cmd("timeout", ["--kill-after=10", timeout_seconds, "chroot"]);
    command
        .arg(root)
        .args([
            "env",
            "-i",
            "PATH=/usr/bin:/bin",
            "HOME=/tmp",
            "LANG=C.UTF-8",
        ])
        .arg(format!("LD_LIBRARY_PATH={SWIFT_RUNTIME}:{release}"))
        .arg(format!(
            "EDGESAM_SWIFT_FIXTURES={TARGET_IN_ROOT}/{FIXTURES}"
        ))
        .args(["swift", "test", "--package-path", REPO_IN_ROOT])
        // The suite is XCTest: without Swift Testing's empty run, XCTest's summary ends the output.
        .arg("--disable-swift-testing")
        .arg("--scratch-path")
        .arg(format!("{TARGET_IN_ROOT}/{SWIFT_BUILD}"))
        .arg("-Xlinker")
        .arg(format!("-L{release}"));
    command
}

#[cfg(test)]
mod tests {
    use super::first_main_archive;

    #[test]
    fn the_main_archive_is_the_first_uris_line() {
        let deb822 = "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n\n\
                      Types: deb\nURIs: http://mirror.example/debian-security\n";
        assert_eq!(
            first_main_archive(deb822, ""),
            Some("http://mirror.example/debian")
        );
    }

    #[test]
    fn without_deb822_the_first_plain_deb_line_that_is_not_security() {
        let list =
            "# comment\ndeb http://security.example/debian-security bookworm-security main\n\
                    deb [arch=amd64] http://other.example/x bookworm main\n\
                    deb http://mirror.example/debian bookworm main\n";
        assert_eq!(
            first_main_archive("", list),
            Some("http://mirror.example/debian")
        );
    }
}
