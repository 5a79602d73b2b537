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

# UniFFI 0.32's Kotlin lowers an object argument by cloning its handle without checking that the
# object is still open: passing a closed embedding (`model.segment(embedding, ...)` after
# `embedding.close()`) clones a freed handle and aborts the process. Lowering through the class's
# own `callWithHandle` throws IllegalStateException instead, as a call on a closed receiver does,
# and keeps the object alive while its handle is cloned. Every object's lower() is patched; the
# count is checked so that a changed template fails here instead of silently going unpatched.
kotlin="$out/dev/edgesam/edgesam.kt"
lowers=$(grep -c 'return value\.uniffiCloneHandle()$' "$kotlin" || true)
objects=$(grep -c 'fun uniffiCloneHandle(): Long {' "$kotlin" || true)
if [[ $lowers -eq 0 || $lowers -ne $objects ]]; then
    echo "generate.sh: expected one lower() per object in the generated Kotlin ($lowers lowers, $objects objects): update the closed-argument patch" >&2
    exit 1
fi
sed -i 's/return value\.uniffiCloneHandle()$/return value.callWithHandle { it }/' "$kotlin"

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
