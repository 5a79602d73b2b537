#!/usr/bin/env bash
# Builds the EdgeSAM XCFramework that the root Package.swift uses: the Rust library as static
# libraries for iPhones (aarch64-apple-ios) and the simulator (aarch64-apple-ios-sim and
# x86_64-apple-ios, joined into one fat library with lipo), each with the EdgeSAMFFI header and
# modulemap. Needs macOS with Xcode (xcodebuild, lipo) and rustup. Run from anywhere:
#
#   scripts/build-ios.sh            -> bindings/swift/EdgeSAMFFI.xcframework
#   scripts/build-ios.sh --zip      ... and EdgeSAMFFI.xcframework.zip with its SwiftPM checksum,
#                                   for a release whose Package.swift uses .binaryTarget(url:checksum:)
#
# Environment: IPHONEOS_DEPLOYMENT_TARGET (default 15.0, as Package.swift).
set -euo pipefail
cd "$(dirname "$0")/.."

zip=false
case "${1:-}" in
    "") ;;
    --zip) zip=true ;;
    *) echo "usage: $0 [--zip]" >&2; exit 2 ;;
esac

for tool in cargo rustup xcodebuild lipo; do
    command -v "$tool" >/dev/null || { echo "build-ios.sh: '$tool' not found (needs Xcode and rustup on macOS)" >&2; exit 1; }
done

export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-15.0}"
# tract registers its kernels from static constructors, which are reported not to run from an
# Apple static library unless the whole crate graph is one object: fat LTO and one codegen unit.
# It also makes the library smaller.
export CARGO_PROFILE_RELEASE_LTO=fat
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1

device=aarch64-apple-ios
simulators=(aarch64-apple-ios-sim x86_64-apple-ios)
rustup target add "$device" "${simulators[@]}"

for target in "$device" "${simulators[@]}"; do
    echo "build-ios.sh: building libedgesam_ffi.a for $target" >&2
    # The crate's own crate types are lib + cdylib (for JNA and Python); an app links a staticlib.
    cargo rustc --release --locked -p edgesam-ffi --lib --target "$target" --crate-type staticlib
done

out=bindings/swift/EdgeSAMFFI.xcframework
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One headers folder for both slices: the generated header and its modulemap (module EdgeSAMFFI,
# which the generated EdgeSAM.swift imports).
mkdir -p "$work/headers" "$work/simulator"
cp bindings/swift/Sources/EdgeSAMFFI/include/EdgeSAMFFI.h bindings/swift/Sources/EdgeSAMFFI/include/module.modulemap \
    "$work/headers/"

simulator_libs=()
for target in "${simulators[@]}"; do
    simulator_libs+=("target/$target/release/libedgesam_ffi.a")
done
lipo -create "${simulator_libs[@]}" -output "$work/simulator/libedgesam_ffi.a"

rm -rf "$out"
xcodebuild -create-xcframework \
    -library "target/$device/release/libedgesam_ffi.a" -headers "$work/headers" \
    -library "$work/simulator/libedgesam_ffi.a" -headers "$work/headers" \
    -output "$out"
echo "build-ios.sh: wrote $out" >&2

if $zip; then
    rm -f "$out.zip"
    (cd "$(dirname "$out")" && ditto -c -k --keepParent "$(basename "$out")" "$(basename "$out").zip")
    echo "build-ios.sh: wrote $out.zip, SwiftPM checksum $(swift package compute-checksum "$out.zip")" >&2
fi
