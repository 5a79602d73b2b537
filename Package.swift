// swift-tools-version:5.9
// EdgeSAM for iOS apps: add this repository by URL or local path in Xcode (File > Add Package
// Dependencies) and `import EdgeSAM`.
//
// The Swift sources are the ones in bindings/swift/Sources/EdgeSAM (the UniFFI-generated
// EdgeSAM.swift and the hand-written conveniences), used in place: the Linux suite compiles and
// tests the same files. The native library is the XCFramework made by `cargo xtask build-ios`, which
// is a build product, not committed: run it once after cloning (see the README).
import PackageDescription

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
