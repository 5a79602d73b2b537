// CoreGraphics and UIKit conveniences: encode a CGImage or UIImage, get masks, tints and cut-outs
// back as CGImages. Apple platforms only. The library does the pixel work (turning stored pixels
// upright, tinting, cutting out); this file only moves pixels between CGImages and byte buffers.

#if canImport(CoreGraphics)
import CoreGraphics
import Foundation
import ImageIO  // CGImagePropertyOrientation
#if canImport(UIKit)
import UIKit
#endif

extension Orientation {
    /// The orientation an EXIF / ImageIO orientation names (e.g. from
    /// `CGImageSourceCopyPropertiesAtIndex`); both number them as EXIF does.
    public init(_ orientation: CGImagePropertyOrientation) {
        self = Orientation(exif: orientation.rawValue) ?? .up
    }
}

extension RgbaImage {
    /// These pixels as a CGImage (straight alpha), to show.
    public func cgImage() -> CGImage? {
        makeCGImage(rgba, width: Int(width), height: Int(height), bytesPerRow: Int(width) * 4,
                    bitsPerPixel: 32, space: CGColorSpace(name: CGColorSpace.sRGB)!,
                    info: CGImageAlphaInfo.last.rawValue)
    }
}

extension SegmentAnything {
    /// Encodes a CGImage whose stored pixels need `orientation` to stand upright (nil: they are
    /// upright), cancelled with the calling `Task` and telling `progress` of each step like
    /// `encode(imageData:progress:)`. Masks come back at the upright size.
    public func encode(cgImage: CGImage, orientation: Orientation? = nil,
                       progress: ProgressListener? = nil) async throws -> ImageEmbedding {
        let stored = try storedPixels(of: cgImage)
        return try await encode(pixels: stored.rgba, width: Int(stored.width), height: Int(stored.height),
                                rowStride: Int(stored.width) * 4, format: .rgba8,
                                orientation: orientation, progress: progress)
    }
}

#if canImport(UIKit)
extension Orientation {
    /// The orientation a UIImage applies when it draws its CGImage (the cases share names).
    public init(_ orientation: UIImage.Orientation) {
        switch orientation {
        case .up: self = .up
        case .upMirrored: self = .upMirrored
        case .down: self = .down
        case .downMirrored: self = .downMirrored
        case .left: self = .left
        case .leftMirrored: self = .leftMirrored
        case .right: self = .right
        case .rightMirrored: self = .rightMirrored
        @unknown default: self = .up
        }
    }
}

extension SegmentAnything {
    /// Encodes a UIImage as it appears (its `imageOrientation` applied), like
    /// `encode(cgImage:orientation:progress:)`. Mask pixel (x, y) is the pixel at (x, y) of the
    /// image as shown, in pixels (points times `image.scale`). A UIImage backed by a CIImage has
    /// no CGImage: render it first.
    public func encode(uiImage image: UIImage, progress: ProgressListener? = nil) async throws -> ImageEmbedding {
        guard let cgImage = image.cgImage else {
            throw EdgeSamError.BadImage(reason: "bad image: this UIImage has no CGImage (a CIImage-backed one?)")
        }
        return try await encode(cgImage: cgImage, orientation: Orientation(image.imageOrientation),
                                progress: progress)
    }
}
#endif

extension SegmentMask {
    /// The mask as an 8-bit greyscale CGImage: white inside, black outside. It also works as a
    /// clipping mask (`CGContext.clip(to:mask:)`).
    public func maskImage() -> CGImage? {
        makeCGImage(bytes(), width: Int(width()), height: Int(height()), bytesPerRow: Int(width()),
                    bitsPerPixel: 8, space: CGColorSpaceCreateDeviceGray(),
                    info: CGImageAlphaInfo.none.rawValue)
    }

    /// The mask alone in `color` (nil: the library's default tint) on transparency, to lay over
    /// the photo.
    public func tintedImage(color: MaskColor? = nil) throws -> CGImage? {
        try tinted(color: color).cgImage()
    }

    /// The object cut out of `photo` (the CGImage that was encoded, with the same `orientation`)
    /// on transparency: the whole upright photo's size when `cropPadding` is nil, else the mask's
    /// box grown by that many pixels. For photos the library cannot decode itself (HEIC); with
    /// JPEG/PNG/WebP bytes, `cutout(imageData:cropPadding:)` does the same.
    public func cutout(photo: CGImage, orientation: Orientation? = nil, cropPadding: Int? = nil) throws -> Cutout {
        let stored = try storedPixels(of: photo)
        return try cutoutPixels(pixels: stored.rgba, width: stored.width, height: stored.height,
                                rowStride: stored.width * 4, format: .rgba8, orientation: orientation,
                                cropPadding: cropPadding.map { Int32(clamping: $0) })
    }
}

extension Cutout {
    /// The cut-out as a CGImage (straight alpha, transparent outside the mask).
    public func cgImage() -> CGImage? {
        image.cgImage()
    }
}

/// `image`'s stored pixels (no orientation applied) drawn as 8-bit sRGB R, G, B, A, whatever its
/// own format (16-bit, Display P3, greyscale, indexed): the `.rgba8` layout, rows packed, that
/// `encodePixels` and `cutoutPixels` take (they ignore alpha; transparent pixels end up over
/// black).
private func storedPixels(of image: CGImage) throws -> RgbaImage {
    let width = image.width, height = image.height
    let rowStride = width * 4
    var rgba = Data(count: rowStride * height)
    let drawn = rgba.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) -> Bool in
        guard let context = CGContext(
            data: buffer.baseAddress, width: width, height: height, bitsPerComponent: 8,
            bytesPerRow: rowStride, space: CGColorSpace(name: CGColorSpace.sRGB)!,
            bitmapInfo: CGImageAlphaInfo.premultipliedLast.rawValue) else { return false }
        context.interpolationQuality = .none
        context.draw(image, in: CGRect(x: 0, y: 0, width: width, height: height))
        return true
    }
    guard drawn, let w = Int32(exactly: width), let h = Int32(exactly: height) else {
        throw EdgeSamError.BadImage(reason: "bad image: cannot draw a \(width)x\(height) CGImage as RGBA")
    }
    return RgbaImage(width: w, height: h, rgba: rgba)
}

/// A CGImage over a copy of `bytes` (8 bits per component).
private func makeCGImage(_ bytes: Data, width: Int, height: Int, bytesPerRow: Int, bitsPerPixel: Int,
                         space: CGColorSpace, info: UInt32) -> CGImage? {
    guard width > 0, height > 0, bytes.count >= bytesPerRow * height,
          let provider = CGDataProvider(data: bytes as CFData) else { return nil }
    return CGImage(width: width, height: height, bitsPerComponent: 8, bitsPerPixel: bitsPerPixel,
                   bytesPerRow: bytesPerRow, space: space, bitmapInfo: CGBitmapInfo(rawValue: info),
                   provider: provider, decode: nil, shouldInterpolate: false, intent: .defaultIntent)
}
#endif
