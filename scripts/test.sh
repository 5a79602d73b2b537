#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: Python venv, stand-in models, the Rust
# workspace tests (with the replay of the fuzz corpus in fuzz/corpus), the Python tests
# (reference, parity, generator, bindings), the Kotlin suite on the JVM, the Swift suite in a
# Debian trixie chroot and the checks of the phone packaging and demo apps that need no Xcode or
# Android SDK. Installs what it needs by itself.
#
#   scripts/test.sh            everything
#   EDGESAM_SKIP_SWIFT=1 ...   everything but the Swift suite (it needs root and ~2.6 GB once)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

step() { printf '\n==== %s\n' "$*"; }
failures=()
run() {  # run NAME CMD...: keep going after a failed suite, report at the end
    local name=$1
    shift
    step "$name"
    if ! "$@"; then
        failures+=("$name")
    fi
}

step "Python venv (.venv) with tests/requirements.txt"
if [[ ! -x .venv/bin/python ]]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
export EDGESAM_PYTHON="$repo/.venv/bin/python"

step "Stand-in models (models/generated)"
.venv/bin/python models/standins.py

step "Build (release)"
cargo build --release --workspace --all-targets
cargo build --release -p edgesam-ffi --features cli

run "Generated bindings are current" bindings/generate.sh --check
run "cargo test" cargo test --release --workspace
run "Kotlin bindings (JVM, Maven)" bindings/kotlin/run-tests.sh
if [[ -z "${EDGESAM_SKIP_SWIFT:-}" ]]; then
    run "Swift bindings (swiftc in a trixie chroot)" bindings/swift/run-tests.sh
fi
run "Phone packaging and demos (shellcheck, demo API, layout)" scripts/check-phones.sh
# Last, so that its summary closes the output.
run "Python tests (pytest)" .venv/bin/python -m pytest tests/python -q -rfEx

if ((${#failures[@]})); then
    printf '\nFAILED suites: %s\n' "${failures[*]}"
    exit 1
fi

