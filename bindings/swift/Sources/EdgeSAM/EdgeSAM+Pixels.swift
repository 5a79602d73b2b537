// Platform-free glue behind the CoreGraphics/UIKit conveniences: the EXIF numbers of the
// library's `Orientation`. Plain Foundation, so the Linux suite checks exactly the mapping the
// iOS conveniences use. The turning itself happens in Rust (`encodePixels(..., orientation:)`).

import Foundation

extension Orientation {
    /// The eight orientations in EXIF order: EXIF number n (and `CGImagePropertyOrientation`'s
    /// raw value n) is `exifOrder[n - 1]`.
    public static let exifOrder: [Orientation] = [
        .up, .upMirrored, .down, .downMirrored, .leftMirrored, .right, .rightMirrored, .left,
    ]

    /// The orientation EXIF (and ImageIO) numbers `exif`, 1...8; nil for any other number.
    public init?(exif: UInt32) {
        guard (1...8).contains(exif) else { return nil }
        self = Orientation.exifOrder[Int(exif) - 1]
    }

    /// Its EXIF number, 1...8.
    public var exif: UInt32 {
        UInt32(Orientation.exifOrder.firstIndex(of: self)! + 1)
    }
}
