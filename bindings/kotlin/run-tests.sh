#!/usr/bin/env bash
# Compiles the generated Kotlin bindings and runs their JUnit tests on the JVM (Maven).
# Assumes the Rust library (target/release/libedgesam_ffi.so), the core CLI (target/release/edgesam)
# and the tiny stand-in models (models/generated/tiny) already exist: the repository's top-level
# test script builds them first. Exits non-zero when anything is missing or a test fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

missing=0
for tool in mvn java; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "run-tests.sh: '$tool' not found (needs Maven 3.8+ and Java 17+)" >&2
        missing=1
    fi
done
for file in target/release/libedgesam_ffi.so target/release/edgesam \
    models/generated/tiny/edge_sam_encoder.onnx models/generated/tiny/edge_sam_decoder.onnx; do
    if [[ ! -e "$repo/$file" ]]; then
        echo "run-tests.sh: $file is missing (cargo build --release; .venv/bin/python models/standins.py)" >&2
        missing=1
    fi
done
[[ $missing -eq 0 ]] || exit 1

# -B: batch mode; --no-transfer-progress: no download progress lines. Not -q: it would hide
# Surefire's "Tests run: N, Failures: N, ..." summary.
exec mvn -B --no-transfer-progress -f "$here/pom.xml" test "$@"
