#!/usr/bin/env bash
# Builds the Swift bindings (Sources/EdgeSAM: the generated EdgeSAM.swift and the hand-written
# EdgeSAM+Concurrency.swift, + the EdgeSAMFFI header and modulemap) with a real Swift 6 compiler and runs Tests/EdgeSAMLinuxTests against the host-built
# native library, on the tiny stand-in models.
#
# Linux has no Swift for Debian 12, so the compiler lives in a Debian trixie root made by
# provision-swift.sh and runs under chroot (see /work/shared/swift-on-linux.md). Run as root.
#
# Needs, built beforehand on the host (this script does not run cargo):
#   target/release/libedgesam_ffi.so   cargo build --release -p edgesam-ffi
#   target/release/edgesam             cargo build --release -p edgesam-cli (expected masks)
#   models/generated/tiny/*.onnx       .venv/bin/python models/standins.py
#   .venv/bin/python with numpy and Pillow (test photos; Foundation on Linux cannot write a PNG)
#
# Environment: EDGESAM_SWIFT_ROOT (the chroot, default /var/cache/edgesam-swift-root),
#   EDGESAM_PYTHON (default .venv/bin/python), EDGESAM_SWIFT_TIMEOUT (seconds, default 900).
# The last line of the output is always `N passed, M failed`; the exit status is 0 only when
# every test passed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export EDGESAM_SWIFT_ROOT="${EDGESAM_SWIFT_ROOT:-/var/cache/edgesam-swift-root}"
ROOT=$EDGESAM_SWIFT_ROOT
PYTHON=${EDGESAM_PYTHON:-$REPO/.venv/bin/python}
TIMEOUT=${EDGESAM_SWIFT_TIMEOUT:-900}
CLI=$REPO/target/release/edgesam
LIB=$REPO/target/release/libedgesam_ffi.so
ENCODER=models/generated/tiny/edge_sam_encoder.onnx
DECODER=models/generated/tiny/edge_sam_decoder.onnx
SWIFT_LIBS=/usr/libexec/swift/lib/swift/linux
REPO_IN_ROOT=/repo

log() { printf 'swift tests: %s\n' "$*" >&2; }

summary_printed=false
# Setup and build failures still end with a summary line, so CI never misreads a broken run.
fail_setup() {
    log "$*"
    echo "0 passed, 1 failed"
    summary_printed=true
    exit 1
}

if [[ $EUID -ne 0 ]]; then
    fail_setup "must run as root (debootstrap, mount and chroot need it)"
fi

# Mounts made by this run go into a private mount namespace when the kernel allows it, so that
# concurrent runs sharing the root never unmount each other's /proc, and nothing is left mounted
# even if the run is killed. The trap below unmounts them anyway.
if [[ -z ${EDGESAM_SWIFT_IN_NAMESPACE:-} ]] && unshare --mount --propagation private true 2>/dev/null; then
    export EDGESAM_SWIFT_IN_NAMESPACE=1
    exec unshare --mount --propagation private "$BASH" "$0" "$@"
fi

for needed in "$LIB" "$CLI" "$REPO/$ENCODER" "$REPO/$DECODER" "$PYTHON"; do
    [[ -e $needed ]] || fail_setup "missing $needed (see the header of $0 for how to make it)"
done

"$HERE/provision-swift.sh" || fail_setup "provisioning the Swift toolchain failed"

mounted=()
work=""
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    local status=$?
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null ||
            log "could not unmount ${mounted[i]}"
    done
    if [[ -n $work && -d $work ]]; then
        rm -rf --one-file-system "$work"
    fi
    if ! $summary_printed && [[ $status -ne 0 ]]; then
        echo "0 passed, 1 failed"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mount_once() {  # mount_once TARGET MOUNT-ARGS...
    local target=$1
    shift
    mkdir -p "$target"
    if ! mountpoint -q "$target"; then
        mount "$@" "$target"
        mounted+=("$target")
    fi
}
# Without /proc the Swift driver dies with "Illegal instruction".
mount_once "$ROOT/proc" -t proc proc
mount_once "$ROOT/dev" --bind /dev
mount_once "$ROOT/sys" --bind /sys
# The repository, read-only: the build and the fixtures go to a scratch folder in the root.
if mountpoint -q "$ROOT$REPO_IN_ROOT"; then
    fail_setup "$ROOT$REPO_IN_ROOT is already mounted (another run outside a private namespace?)"
fi
mount_once "$ROOT$REPO_IN_ROOT" --bind "$REPO"
mount -o remount,bind,ro "$ROOT$REPO_IN_ROOT"

mkdir -p "$ROOT/tmp"
work=$(mktemp -d "$ROOT/tmp/edgesam-swift-tests.XXXXXX")
inside=/tmp/$(basename "$work")   # the same folder, as seen inside the chroot

in_root() {  # run a command in the chroot with the Swift runtime on the library path
    chroot "$ROOT" env -i PATH=/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 LD_LIBRARY_PATH="$SWIFT_LIBS" "$@"
}

# The root Package.swift (what an iOS app adds) must evaluate, and its EdgeSAM target must be the
# folder compiled below, so the package ships exactly the sources tested here.
log "evaluating Package.swift (swift package dump-package)"
in_root swift package --package-path "$REPO_IN_ROOT" dump-package >"$work/package.json" 2>"$work/package.err" ||
    fail_setup "Package.swift does not evaluate: $(cat "$work/package.err")"
grep -q '"path" : "bindings/swift/Sources/EdgeSAM"' "$work/package.json" ||
    fail_setup "Package.swift's EdgeSAM target is not bindings/swift/Sources/EdgeSAM"

log "making fixtures (photos, and the core CLI's masks for the same prompts)"
"$PYTHON" "$HERE/Tests/make_fixtures.py" "$work/fixtures" "$CLI" "$REPO/$ENCODER" "$REPO/$DECODER" ||
    fail_setup "making the fixtures failed"

# The generated modulemap is used as it is: its Apple-only `use "Darwin"` lines are declarations
# that clang enforces only under -fmodules-decluse, so they are harmless on Linux (Swift 6.0.3).
include=$REPO_IN_ROOT/bindings/swift/Sources/EdgeSAMFFI/include
ffi_flags=(-I "$include" -Xcc "-fmodule-map-file=$include/module.modulemap"
    -module-cache-path "$inside/module-cache")

mkdir -p "$work/build"
# Every Swift file of Sources/EdgeSAM: the generated EdgeSAM.swift and the hand-written
# conveniences next to it (EdgeSAM+Concurrency.swift), as SwiftPM would build the target.
sources=()
for source in "$HERE"/Sources/EdgeSAM/*.swift; do
    sources+=("$REPO_IN_ROOT/bindings/swift/Sources/EdgeSAM/$(basename "$source")")
done
log "compiling module EdgeSAM from ${#sources[@]} files (Swift 6 language mode)"
in_root swiftc -swift-version 6 -module-name EdgeSAM -parse-as-library \
    -emit-library -emit-module -emit-module-path "$inside/build/EdgeSAM.swiftmodule" \
    -o "$inside/build/libEdgeSAM.so" "${ffi_flags[@]}" \
    "${sources[@]}" \
    -L "$REPO_IN_ROOT/target/release" -ledgesam_ffi ||
    fail_setup "the EdgeSAM module (Sources/EdgeSAM/*.swift) does not compile"

# The tests, and the iOS demo's UI-free code (ios-demo/EdgeSAMDemo/Session), which they exercise:
# that is how the demo's calls into EdgeSAM meet a compiler here.
test_sources=()
for source in "$HERE"/Tests/EdgeSAMLinuxTests/*.swift "$REPO"/ios-demo/EdgeSAMDemo/Session/*.swift; do
    test_sources+=("$REPO_IN_ROOT/${source#"$REPO"/}")
done
log "compiling the tests from ${#test_sources[@]} files (Swift 6 language mode)"
in_root swiftc -swift-version 6 -module-name EdgeSAMLinuxTests "${ffi_flags[@]}" \
    -I "$inside/build" -L "$inside/build" -lEdgeSAM \
    -L "$REPO_IN_ROOT/target/release" -ledgesam_ffi \
    -o "$inside/build/edgesam-swift-tests" \
    "${test_sources[@]}" ||
    fail_setup "the Swift tests do not compile"

log "running the tests"
set +e
timeout --kill-after=10 "$TIMEOUT" \
    chroot "$ROOT" env -i PATH=/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 \
    LD_LIBRARY_PATH="$SWIFT_LIBS:$inside/build:$REPO_IN_ROOT/target/release" \
    "$inside/build/edgesam-swift-tests" "$inside/fixtures" \
    "$REPO_IN_ROOT/$ENCODER" "$REPO_IN_ROOT/$DECODER" | tee "$work/output.txt"
status=${PIPESTATUS[0]}
set -e

last=$(tail -n 1 "$work/output.txt")
if [[ $last =~ ^[0-9]+\ passed,\ [0-9]+\ failed$ ]]; then
    summary_printed=true
    [[ $last == *" 0 failed" && $status -eq 0 ]] || status=1
else
    # The program died before its summary (a crash, a fatalError, the timeout): count what ran.
    passes=$(grep -c '^PASS ' "$work/output.txt" || true)
    failures=$(grep -c '^FAIL ' "$work/output.txt" || true)
    log "the test program stopped before its summary (exit status $status)"
    echo "$passes passed, $((failures + 1)) failed"
    summary_printed=true
    status=1
fi
exit "$status"
