// The platform-free pixel work of EdgeSAM+Pixels.swift, behind the CGImage/UIImage encode.

import EdgeSAM
import Foundation
import XCTest

final class PixelTests: FixtureTestCase {
    private func upright(_ c: Manifest.Orientation.Case) throws -> UprightPixels {
        let o = f.manifest.orientation
        let orientation = try XCTUnwrap(PixelOrientation(rawValue: c.exif), "no orientation \(c.exif)")
        return try UprightPixels(stored: try Data(contentsOf: f.file(o.stored)), width: o.width, height: o.height,
                                 rowStride: o.row_stride, bytesPerPixel: 4, orientation: orientation)
    }

    func testAllEightOrientationsGivePillowsUprightPixelsWithRowsPacked() throws {
        let o = f.manifest.orientation
        XCTAssertEqual(PixelOrientation.allCases.map(\.rawValue), Array(1...8))
        for c in o.cases {
            let pixels = try upright(c)
            XCTAssertEqual([pixels.width, pixels.height], [c.width, c.height], "EXIF \(c.exif)")
            XCTAssertEqual(pixels.rowStride, c.width * 4, "EXIF \(c.exif)")
            XCTAssertEqual(pixels.bytes, try Data(contentsOf: f.file(c.upright)), "EXIF \(c.exif): pixels differ from Pillow's")
            let size = try XCTUnwrap(PixelOrientation(rawValue: c.exif)).uprightSize(width: o.width, height: o.height)
            XCTAssertEqual([size.width, size.height], [c.width, c.height], "EXIF \(c.exif): uprightSize")
        }
    }

    func testEncodingUprightPixelsEqualsEncodingThePNGWithThatOrientation() async throws {
        let model = try SegmentAnything.fromFiles(encoderPath: f.encoderPath, decoderPath: f.decoderPath)
        for c in f.manifest.orientation.cases {
            let fromPixels = try await model.encode(upright: try upright(c))
            let fromPNG = try model.encodeImage(data: try Data(contentsOf: f.file(c.png)))
            XCTAssertEqual([fromPixels.size.width, fromPixels.size.height], [c.width, c.height], "EXIF \(c.exif)")
            XCTAssertEqual([fromPNG.size.width, fromPNG.size.height], [c.width, c.height], "EXIF \(c.exif)")
            XCTAssertEqual(fromPixels.toBytes(), fromPNG.toBytes(), "EXIF \(c.exif): embeddings differ")
        }
    }

    func testTooFewBytesOrAShortRowStrideAreBadImage() throws {
        assertThrowsEdgeSamError("BadImage", "3 bytes for 2x1 RGBA") {
            try UprightPixels(stored: Data(count: 3), width: 2, height: 1, rowStride: 8, bytesPerPixel: 4, orientation: .right)
        }
        assertThrowsEdgeSamError("BadImage", "row stride below width * 4") {
            try UprightPixels(stored: Data(count: 64), width: 4, height: 2, rowStride: 12, bytesPerPixel: 4, orientation: .up)
        }
        assertThrowsEdgeSamError("BadImage", "zero width") {
            try UprightPixels(stored: Data(), width: 0, height: 2, rowStride: 0, bytesPerPixel: 4, orientation: .up)
        }
        // The last row needs no padding after it (CGImage buffers often end there).
        let last = try UprightPixels(stored: Data([1, 2, 3, 4, 0, 0, 5, 6, 7, 8]), width: 1, height: 2, rowStride: 6,
                                     bytesPerPixel: 4, orientation: .up)
        XCTAssertEqual(last.bytes, Data([1, 2, 3, 4, 5, 6, 7, 8]))
    }

    func testTintedMaskIsPremultipliedColourInsideAndTransparentOutside() {
        let tinted = tintedMaskRGBA(mask: Data([0, 255, 1]), color: MaskColor(red: 255, green: 100, blue: 0, alpha: 128))
        XCTAssertEqual([UInt8](tinted), [0, 0, 0, 0, 128, 50, 0, 128, 128, 50, 0, 128])
        XCTAssertTrue(tintedMaskRGBA(mask: Data(), color: MaskColor(red: 1, green: 2, blue: 3, alpha: 4)).isEmpty)
    }
}
