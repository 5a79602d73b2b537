#!/usr/bin/env bash
# Builds the Android native code with cargo-ndk for arm64-v8a, armeabi-v7a and x86_64:
#   - libedgesam_ffi.so into android/edgesam/build/rustJniLibs/<abi>/, which the edgesam AAR
#     module packs (then: cd android && gradle :edgesam:assembleRelease);
#   - the `edgesam` command (the CLI, for `edgesam bench` over adb shell) into
#     android/build/bench/<abi>/edgesam.
# Needs rustup, an Android NDK (ANDROID_NDK_HOME, r28 or later for 16 KB pages by default) and
# cargo-ndk (installed from crates.io when missing).
#
# Environment: ANDROID_PLATFORM (minimum API level, default 24, as the AAR's minSdk).
set -euo pipefail
cd "$(dirname "$0")/.."

abis=(arm64-v8a armeabi-v7a x86_64)
targets=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android)

if [[ -z ${ANDROID_NDK_HOME:-} || ! -d $ANDROID_NDK_HOME ]]; then
    echo "build-android.sh: set ANDROID_NDK_HOME to an Android NDK (Android Studio: SDK Manager > NDK)" >&2
    exit 1
fi
command -v cargo-ndk >/dev/null || cargo install --locked cargo-ndk
rustup target add "${targets[@]}"

platform=${ANDROID_PLATFORM:-24}
# Android 15+ devices may use 16 KB memory pages; apps targeting them must align their libraries
# so (older NDKs default to 4 KB). Smaller, faster code: fat LTO, one codegen unit.
export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-z,max-page-size=16384"
export CARGO_PROFILE_RELEASE_LTO=fat
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1

ndk_targets=()
for abi in "${abis[@]}"; do
    ndk_targets+=(-t "$abi")
done

echo "build-android.sh: libedgesam_ffi.so for ${abis[*]}" >&2
cargo ndk "${ndk_targets[@]}" --platform "$platform" -o android/edgesam/build/rustJniLibs \
    build --release --locked -p edgesam-ffi

echo "build-android.sh: the edgesam command for ${abis[*]}" >&2
cargo ndk "${ndk_targets[@]}" --platform "$platform" build --release --locked -p edgesam-cli
for i in "${!abis[@]}"; do
    mkdir -p "android/build/bench/${abis[i]}"
    cp "target/${targets[i]}/release/edgesam" "android/build/bench/${abis[i]}/edgesam"
done

echo "build-android.sh: done. The AAR: (cd android && gradle :edgesam:assembleRelease);" \
    "the benchmark binary: android/build/bench/<abi>/edgesam (README: Run the on-device benchmark)" >&2
