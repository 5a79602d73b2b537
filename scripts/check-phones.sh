#!/usr/bin/env bash
# What can be checked of the phone packaging and demos on a Linux machine without Xcode or the
# Android SDK (cargo xtask test runs it):
#   1. every shell script in the repository passes shellcheck (installed with apt-get if absent);
#   2. the demo apps call only members that the bindings declare (scripts/check_demo_api.py);
#   3. the build scripts, Package.swift and the Gradle files agree on where things go.
# The demos' UI-free code is compiled and tested by the Swift and Kotlin suites, and Package.swift
# is evaluated by `swift package dump-package` in the Swift suite. The Gradle files are not
# evaluated: no registry these machines reach has Gradle 8 (Debian's is 4.4) or the Android SDK.
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0
fail() {
    echo "check-phones: $*" >&2
    failed=1
}

if ! command -v shellcheck >/dev/null; then
    echo "check-phones: installing shellcheck" >&2
    apt-get install -y -qq shellcheck >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq shellcheck >/dev/null; }
fi

# Every tracked file that is a shell script: by extension or by its #! line.
scripts=()
while IFS= read -r -d '' file; do
    if [[ $file == *.sh ]] || head -n 1 "$file" | grep -Eq '^#!.*\b(ba|da|k)?sh\b'; then
        scripts+=("$file")
    fi
done < <(git ls-files -z)
echo "check-phones: shellcheck on ${#scripts[@]} scripts: ${scripts[*]}"
shellcheck -x "${scripts[@]}" || fail "shellcheck found problems"

python=${EDGESAM_PYTHON:-python3}
"$python" scripts/check_demo_api.py || fail "a demo calls API the bindings do not have"

# The check must fail on a demo that calls a method the bindings lack: copies of both demos with
# one call each renamed must be refused, each for exactly that call.
control=$(mktemp -d)
trap 'rm -rf "$control"' EXIT
cp -r android-demo/app/src/main/kotlin "$control/kotlin"
cp -r ios-demo/EdgeSAMDemo "$control/swift"
sed -i 's/\.segmentAsync(/.segmentAsyncTypo(/' "$control/kotlin/dev/edgesam/demo/DemoViewModel.kt"
sed -i 's/\.tintedImage(/.tintedImageTypo(/' "$control/swift/DemoModel.swift"
if "$python" scripts/check_demo_api.py "$control/kotlin" "$control/swift" >"$control/out.txt"; then
    fail "check_demo_api.py passed demos that call segmentAsyncTypo and tintedImageTypo"
elif ! grep -q "no member 'segmentAsyncTypo'" "$control/out.txt" ||
    ! grep -q "no member 'tintedImageTypo'" "$control/out.txt"; then
    fail "check_demo_api.py missed a renamed call: $(cat "$control/out.txt")"
else
    echo "check-phones: check_demo_api.py refuses demos calling missing methods (control run)"
fi

# The XCFramework goes where Package.swift looks for it; the .so files where the AAR takes them.
xcframework=bindings/swift/EdgeSAMFFI.xcframework
grep -q "path: \"$xcframework\"" Package.swift || fail "Package.swift does not use $xcframework"
grep -q "^out=$xcframework\$" scripts/build-ios.sh || fail "build-ios.sh does not write $xcframework"
if ! grep -q -- "-o android/edgesam/build/rustJniLibs" scripts/build-android.sh ||
    ! grep -q 'rustJniLibs = file("build/rustJniLibs")' android/edgesam/build.gradle.kts; then
    fail "build-android.sh and android/edgesam/build.gradle.kts disagree on the jniLibs folder"
fi
grep -q '"../../bindings/kotlin/src/main/kotlin"' android/edgesam/build.gradle.kts ||
    fail "the AAR module does not compile the shared Kotlin sources in bindings/kotlin"
grep -q 'project(":edgesam").projectDir = file("../android/edgesam")' android-demo/settings.gradle.kts ||
    fail "the Android demo does not build against android/edgesam"

if ((failed)); then
    echo "check-phones: FAILED" >&2
    exit 1
fi
echo "check-phones: all checks passed"
