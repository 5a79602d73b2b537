// Platform-free pixel work behind the CoreGraphics/UIKit conveniences: turning stored pixels
// upright and packing their rows, and tinting a mask. Plain Foundation, so the Linux test suite
// compiles and checks exactly the code the iOS conveniences run.
//
// Why in Swift: the library's raw-pixel encode (`encodePixels`) takes pixels as they should be
// seen, with no orientation; only encoded files get their EXIF orientation applied in Rust. A
// UIImage's CGImage holds the sensor's pixels plus an `imageOrientation`, so the rotation happens
// here, before the pixels cross the FFI, and masks then line up with the upright photo.

import Foundation

/// How stored pixels must be transformed to stand upright: the eight EXIF orientations, with
/// their EXIF numbers as raw values (the same numbers as `CGImagePropertyOrientation`). The names
/// follow `UIImage.Orientation`, whose cases mean the same transforms.
public enum PixelOrientation: Int, Sendable, CaseIterable {
    case up = 1, upMirrored = 2, down = 3, downMirrored = 4
    case leftMirrored = 5, right = 6, rightMirrored = 7, left = 8

    /// Whether the upright picture is the stored one's height wide (a quarter turn).
    public var swapsSides: Bool { rawValue >= 5 }

    /// The upright size of a picture stored `width` x `height`.
    public func uprightSize(width: Int, height: Int) -> (width: Int, height: Int) {
        swapsSides ? (height, width) : (width, height)
    }

    /// Where stored pixel (`x`, `y`) of a `width` x `height` picture lands upright.
    func uprightPosition(x: Int, y: Int, width: Int, height: Int) -> (x: Int, y: Int) {
        switch self {
        case .up: return (x, y)
        case .upMirrored: return (width - 1 - x, y)
        case .down: return (width - 1 - x, height - 1 - y)
        case .downMirrored: return (x, height - 1 - y)
        case .leftMirrored: return (y, x)                        // transpose
        case .right: return (height - 1 - y, x)                  // a quarter turn clockwise
        case .rightMirrored: return (height - 1 - y, width - 1 - x)  // transverse
        case .left: return (y, width - 1 - x)                    // a quarter turn anticlockwise
        }
    }
}

/// Pixels with rows packed back to back (`width * bytesPerPixel` bytes each), upright.
public struct UprightPixels: Sendable, Equatable {
    public let bytes: Data
    public let width: Int
    public let height: Int
    public let bytesPerPixel: Int

    public var rowStride: Int { width * bytesPerPixel }

    /// Stored pixels (`rowStride` bytes per row, any padding at row ends ignored) transformed
    /// by `orientation` and packed. The byte order within a pixel is kept.
    public init(stored: Data, width: Int, height: Int, rowStride: Int, bytesPerPixel: Int,
                orientation: PixelOrientation) throws {
        guard width > 0, height > 0, bytesPerPixel > 0 else {
            throw EdgeSamError.BadImage(reason: "bad image: \(width)x\(height) pixels of \(bytesPerPixel) bytes")
        }
        guard rowStride >= width * bytesPerPixel,
              stored.count >= rowStride * (height - 1) + width * bytesPerPixel else {
            throw EdgeSamError.BadImage(reason: "bad image: \(stored.count) bytes are too few for "
                + "\(width)x\(height) pixels of \(bytesPerPixel) bytes with \(rowStride) bytes per row")
        }
        let size = orientation.uprightSize(width: width, height: height)
        let outStride = size.width * bytesPerPixel
        var out = Data(count: outStride * size.height)
        out.withUnsafeMutableBytes { (dst: UnsafeMutableRawBufferPointer) in
            stored.withUnsafeBytes { (src: UnsafeRawBufferPointer) in
                for y in 0..<height {
                    let row = y * rowStride
                    if orientation == .up {
                        // The common case (and the row packing) in one copy per row.
                        dst.baseAddress!.advanced(by: y * outStride)
                            .copyMemory(from: src.baseAddress!.advanced(by: row), byteCount: outStride)
                        continue
                    }
                    for x in 0..<width {
                        let to = orientation.uprightPosition(x: x, y: y, width: width, height: height)
                        let from = row + x * bytesPerPixel
                        let at = to.y * outStride + to.x * bytesPerPixel
                        for b in 0..<bytesPerPixel {
                            dst[at + b] = src[from + b]
                        }
                    }
                }
            }
        }
        self.bytes = out
        self.width = size.width
        self.height = size.height
        self.bytesPerPixel = bytesPerPixel
    }
}

extension SegmentAnything {
    /// Encodes upright 4-byte pixels (R, G, B, A unless `format` says otherwise) on a worker
    /// thread, cancelled with the calling `Task`.
    public func encode(upright pixels: UprightPixels, format: PixelFormat = .rgba8) async throws -> ImageEmbedding {
        try await encode(pixels: pixels.bytes, width: pixels.width, height: pixels.height,
                         rowStride: pixels.rowStride, format: format)
    }
}

/// A mask (one byte per pixel, non-zero inside) as premultiplied R, G, B, A pixels: `color` at
/// its alpha inside, transparent outside. The layout of a `CGImage` with
/// `premultipliedLast` alpha, to lay over the photo.
public func tintedMaskRGBA(mask: Data, color: MaskColor) -> Data {
    let a = UInt16(color.alpha)
    let inside: [UInt8] = [color.red, color.green, color.blue].map { UInt8((UInt16($0) * a + 127) / 255) }
        + [color.alpha]
    var out = Data(count: mask.count * 4)
    out.withUnsafeMutableBytes { (dst: UnsafeMutableRawBufferPointer) in
        for (i, value) in mask.enumerated() where value != 0 {
            for c in 0..<4 {
                dst[i * 4 + c] = inside[c]
            }
        }
    }
    return out
}
