#!/usr/bin/env bash
# Regenerates the Swift, Kotlin and Python bindings from the built library (UniFFI library mode)
# and puts them where each platform expects them. `--check` regenerates into a scratch folder
# and fails if the committed copies differ (stale bindings).
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
[[ "${1:-}" == "--check" ]] && check=true

cargo build --release --quiet -p edgesam-ffi --features cli
lib=target/release/libedgesam_ffi.so
[[ -f "$lib" ]] || lib=target/release/libedgesam_ffi.dylib

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# --no-format: the output must not depend on which formatters a machine happens to have.
target/release/uniffi-bindgen generate --library "$lib" --no-format \
    --language swift --language kotlin --language python --out-dir "$out" >/dev/null

# Generated file -> committed location.
declare -A places=(
    ["EdgeSAM.swift"]="bindings/swift/Sources/EdgeSAM/EdgeSAM.swift"
    ["EdgeSAMFFI.h"]="bindings/swift/Sources/EdgeSAMFFI/include/EdgeSAMFFI.h"
    ["EdgeSAMFFI.modulemap"]="bindings/swift/Sources/EdgeSAMFFI/include/module.modulemap"
    ["dev/edgesam/edgesam.kt"]="bindings/kotlin/src/main/kotlin/dev/edgesam/edgesam.kt"
    ["edgesam.py"]="bindings/python/edgesam/_uniffi.py"
)

stale=0
for generated in "${!places[@]}"; do
    committed=${places[$generated]}
    if $check; then
        if ! cmp -s "$out/$generated" "$committed"; then
            echo "stale: $committed differs from freshly generated bindings" >&2
            stale=1
        fi
    else
        mkdir -p "$(dirname "$committed")"
        cp "$out/$generated" "$committed"
        echo "wrote $committed"
    fi
done
if $check; then
    if [[ $stale -ne 0 ]]; then
        echo "run bindings/generate.sh and commit the result" >&2
        exit 1
    fi
    echo "generated bindings are up to date"
fi
