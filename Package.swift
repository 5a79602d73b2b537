// swift-tools-version:5.9
// EdgeSAM for iOS apps: add this repository by URL or local path in Xcode (File > Add Package
// Dependencies) and `import EdgeSAM`.
//
// The Swift sources are the ones in bindings/swift/Sources/EdgeSAM (the UniFFI-generated
// EdgeSAM.swift and the hand-written conveniences), used in place: the Linux suite compiles and
// tests the same files. The native library is the XCFramework made by `cargo xtask build-ios`, which
// is a build product, not committed: run it once after cloning (see the README).
import PackageDescription

#if os(Linux)
// Linux, for the test suite only (`swift test`, see bindings/swift/Tests/README.md): the FFI
// module is the generated header and modulemap, linked against the host-built
// libedgesam_ffi.so, whose folder the caller passes with `-Xlinker -L<folder>` (and puts on
// LD_LIBRARY_PATH to run the tests).
let package = Package(
    name: "EdgeSAM",
    products: [
        .library(name: "EdgeSAM", targets: ["EdgeSAM"]),
    ],
    targets: [
        .systemLibrary(name: "EdgeSAMFFI", path: "bindings/swift/Sources/EdgeSAMFFI/include"),
        .target(
            name: "EdgeSAM",
            dependencies: ["EdgeSAMFFI"],
            path: "bindings/swift/Sources/EdgeSAM",
            // Swift 6 checking of the shipped sources (this branch is never a dependency, so
            // unsafe flags are allowed here).
            swiftSettings: [.unsafeFlags(["-swift-version", "6"])],
            linkerSettings: [.linkedLibrary("edgesam_ffi")]
        ),
        // The iOS demo's UI-free code, so that its calls into EdgeSAM meet a compiler here too.
        .target(
            name: "EdgeSAMDemoSession",
            dependencies: ["EdgeSAM"],
            path: "ios-demo/EdgeSAMDemo/Session"
        ),
        .testTarget(
            name: "EdgeSAMTests",
            dependencies: ["EdgeSAM", "EdgeSAMDemoSession"],
            path: "bindings/swift/Tests/EdgeSAMTests"
        ),
    ]
)
#else
let package = Package(
    name: "EdgeSAM",
    platforms: [.iOS(.v15)],
    products: [
        .library(name: "EdgeSAM", targets: ["EdgeSAM"]),
    ],
    targets: [
        // Static libraries for devices and simulators, with the EdgeSAMFFI header and modulemap.
        .binaryTarget(name: "EdgeSAMFFI", path: "bindings/swift/EdgeSAMFFI.xcframework"),
        .target(
            name: "EdgeSAM",
            dependencies: ["EdgeSAMFFI"],
            path: "bindings/swift/Sources/EdgeSAM"
        ),
    ]
)
#endif
