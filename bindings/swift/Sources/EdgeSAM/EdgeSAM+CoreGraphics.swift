// CoreGraphics and UIKit conveniences: encode a CGImage or UIImage, get masks and cut-outs back as
// CGImages. Apple platforms only; the pixel work they share with other platforms is in
// EdgeSAM+Pixels.swift, which the Linux suite tests.

#if canImport(CoreGraphics)
import CoreGraphics
import Foundation
import ImageIO  // CGImagePropertyOrientation
#if canImport(UIKit)
import UIKit
#endif

extension UprightPixels {
    /// `image` drawn as 8-bit sRGB R, G, B, A (whatever its own format: 16-bit, Display P3,
    /// greyscale, indexed), then turned upright by `orientation`.
    public init(cgImage image: CGImage, orientation: PixelOrientation = .up) throws {
        let width = image.width, height = image.height
        let rowStride = width * 4
        var stored = Data(count: rowStride * height)
        let drawn = stored.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) -> Bool in
            guard let context = CGContext(
                data: buffer.baseAddress, width: width, height: height, bitsPerComponent: 8,
                bytesPerRow: rowStride, space: CGColorSpace(name: CGColorSpace.sRGB)!,
                bitmapInfo: CGImageAlphaInfo.noneSkipLast.rawValue) else { return false }
            context.interpolationQuality = .none
            context.draw(image, in: CGRect(x: 0, y: 0, width: width, height: height))
            return true
        }
        guard drawn else {
            throw EdgeSamError.BadImage(reason: "bad image: cannot draw a \(width)x\(height) CGImage as RGBA")
        }
        try self.init(stored: stored, width: width, height: height, rowStride: rowStride,
                      bytesPerPixel: 4, orientation: orientation)
    }

    /// These pixels as a CGImage (4 bytes per pixel, read as R, G, B, A with alpha ignored), to
    /// show exactly what was encoded.
    public func cgImage() -> CGImage? {
        makeCGImage(bytes, width: width, height: height, bytesPerRow: rowStride, bitsPerPixel: 32,
                    space: CGColorSpace(name: CGColorSpace.sRGB)!,
                    info: CGImageAlphaInfo.noneSkipLast.rawValue)
    }
}

extension SegmentAnything {
    /// Encodes a CGImage whose stored pixels need `orientation` to stand upright (e.g. from
    /// `CGImageSourceCopyPropertiesAtIndex`'s orientation). Masks come back at the upright size.
    public func encode(cgImage: CGImage, orientation: PixelOrientation = .up) async throws -> ImageEmbedding {
        try await encode(upright: UprightPixels(cgImage: cgImage, orientation: orientation))
    }
}

extension PixelOrientation {
    /// The transform an EXIF / ImageIO orientation names.
    public init(_ orientation: CGImagePropertyOrientation) {
        self = PixelOrientation(rawValue: Int(orientation.rawValue)) ?? .up
    }
}

#if canImport(UIKit)
extension PixelOrientation {
    /// The transform a UIImage applies when it draws its CGImage.
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

extension UprightPixels {
    /// The image as it appears on screen: its CGImage turned by its `imageOrientation`.
    /// A UIImage backed by a CIImage has no CGImage: render it first.
    public init(uiImage image: UIImage) throws {
        guard let cgImage = image.cgImage else {
            throw EdgeSamError.BadImage(reason: "bad image: this UIImage has no CGImage (a CIImage-backed one?)")
        }
        try self.init(cgImage: cgImage, orientation: PixelOrientation(image.imageOrientation))
    }
}

extension SegmentAnything {
    /// Encodes a UIImage as it appears (orientation applied), cancelled with the calling `Task`.
    /// Mask pixel (x, y) is the pixel at (x, y) of `UprightPixels(uiImage:)`, i.e. of the image
    /// as shown, in pixels (points times `image.scale`).
    public func encode(uiImage: UIImage) async throws -> ImageEmbedding {
        try await encode(upright: UprightPixels(uiImage: uiImage))
    }
}
#endif

extension Segmentation {
    /// The mask as an 8-bit greyscale CGImage: white inside, black outside. It also works as a
    /// clipping mask (`CGContext.clip(to:mask:)`).
    public func maskImage() -> CGImage? {
        makeCGImage(mask, width: Int(width), height: Int(height), bytesPerRow: Int(width),
                    bitsPerPixel: 8, space: CGColorSpaceCreateDeviceGray(),
                    info: CGImageAlphaInfo.none.rawValue)
    }

    /// The mask in `color` (at its alpha) on transparency, to lay over the photo.
    public func tintedImage(color: MaskColor) -> CGImage? {
        makeCGImage(tintedMaskRGBA(mask: mask, color: color), width: Int(width), height: Int(height),
                    bytesPerRow: Int(width) * 4, bitsPerPixel: 32,
                    space: CGColorSpace(name: CGColorSpace.sRGB)!,
                    info: CGImageAlphaInfo.premultipliedLast.rawValue)
    }
}

extension SegmentMask {
    /// The mask as an 8-bit greyscale CGImage, as `Segmentation.maskImage()`.
    public func maskImage() -> CGImage? {
        makeCGImage(bytes(), width: Int(width()), height: Int(height()), bytesPerRow: Int(width()),
                    bitsPerPixel: 8, space: CGColorSpaceCreateDeviceGray(),
                    info: CGImageAlphaInfo.none.rawValue)
    }

    /// The object cut out of `photo` (the upright picture that was encoded, e.g.
    /// `UprightPixels.cgImage()`) on transparency, cropped to the mask's box grown by
    /// `cropPadding` pixels (the whole photo when nil). For photos the library cannot decode
    /// itself (HEIC); with JPEG/PNG/WebP bytes, `cutout(imageData:cropPadding:)` does the same.
    public func cutout(photo: CGImage, cropPadding: Int? = 0) -> CGImage? {
        let width = Int(width()), height = Int(height())
        guard photo.width == width, photo.height == height, let mask = maskImage(),
              let context = CGContext(data: nil, width: width, height: height, bitsPerComponent: 8,
                                      bytesPerRow: 0, space: CGColorSpace(name: CGColorSpace.sRGB)!,
                                      bitmapInfo: CGImageAlphaInfo.premultipliedLast.rawValue)
        else { return nil }
        let whole = CGRect(x: 0, y: 0, width: width, height: height)
        context.interpolationQuality = .none
        context.clip(to: whole, mask: mask)
        context.draw(photo, in: whole)
        guard let cut = context.makeImage() else { return nil }
        guard let padding = cropPadding else { return cut }
        guard let box = boundingBox() else { return nil }
        let crop = CGRect(x: Int(box.x), y: Int(box.y), width: Int(box.width), height: Int(box.height))
            .insetBy(dx: -CGFloat(max(padding, 0)), dy: -CGFloat(max(padding, 0)))
            .intersection(whole)
        return cut.cropping(to: crop)
    }
}

extension Cutout {
    /// The cut-out as a CGImage (straight alpha, transparent outside the mask).
    public func cgImage() -> CGImage? {
        makeCGImage(rgba, width: Int(region.width), height: Int(region.height),
                    bytesPerRow: Int(region.width) * 4, bitsPerPixel: 32,
                    space: CGColorSpace(name: CGColorSpace.sRGB)!, info: CGImageAlphaInfo.last.rawValue)
    }
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
