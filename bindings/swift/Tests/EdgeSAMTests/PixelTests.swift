// Stored pixels with an orientation (what a CGImage and its UIImage.Orientation hand over), turned
// upright by the library, and the EXIF numbering of EdgeSAM+Pixels.swift behind the CGImage/UIImage
// conveniences.

import EdgeSAM
import Foundation
import XCTest

final class PixelTests: FixtureTestCase {
    func testOrientationsCarryTheirEXIFNumbers() {
        XCTAssertEqual(Orientation.exifOrder.map(\.exif), Array(1...8))
        XCTAssertEqual(Set(Orientation.exifOrder).count, 8)
        for exif in UInt32(1)...8 {
            XCTAssertEqual(Orientation(exif: exif)?.exif, exif)
        }
        XCTAssertEqual(Orientation(exif: 6), .right, "EXIF 6 needs a quarter turn clockwise")
        XCTAssertNil(Orientation(exif: 0))
        XCTAssertNil(Orientation(exif: 9))
    }

    func testEncodingStoredPixelsWithAnOrientationEqualsTheUprightPixelsAndThePNGCarryingIt() async throws {
        let model = try SegmentAnything.fromFiles(encoderPath: f.encoderPath, decoderPath: f.decoderPath)
        let o = f.manifest.orientation
        let stored = try Data(contentsOf: f.file(o.stored))
        for c in o.cases {
            let orientation = try XCTUnwrap(Orientation(exif: UInt32(c.exif)))
            let fromStored = try await model.encode(pixels: stored, width: o.width, height: o.height,
                                                    rowStride: o.row_stride, orientation: orientation)
            let fromUpright = try model.encodePixels(pixels: try Data(contentsOf: f.file(c.upright)),
                                                     width: Int32(c.width), height: Int32(c.height),
                                                     rowStride: Int32(c.width * 4), format: .rgba8)
            let fromPNG = try model.encodeImage(data: try Data(contentsOf: f.file(c.png)))
            XCTAssertEqual([fromStored.size.width, fromStored.size.height], [c.width, c.height], "EXIF \(c.exif)")
            XCTAssertEqual(fromStored.toBytes(), fromUpright.toBytes(), "EXIF \(c.exif): differs from the upright pixels'")
            XCTAssertEqual(fromStored.toBytes(), fromPNG.toBytes(), "EXIF \(c.exif): differs from the PNG's")
        }
        // No orientation is upright.
        let up = try model.encodePixels(pixels: stored, width: Int32(o.width), height: Int32(o.height),
                                        rowStride: Int32(o.row_stride), format: .rgba8)
        let explicit = try model.encodePixels(pixels: stored, width: Int32(o.width), height: Int32(o.height),
                                              rowStride: Int32(o.row_stride), format: .rgba8, orientation: .up)
        XCTAssertEqual(up.toBytes(), explicit.toBytes())
    }

    func testTooFewBytesOrAShortRowStrideAreBadImage() async throws {
        let model = f.model
        await assertThrowsEdgeSamError("BadImage", "3 bytes for 2x1 RGBA") {
            try await model.encode(pixels: Data(count: 3), width: 2, height: 1, rowStride: 8, orientation: .right)
        }
        await assertThrowsEdgeSamError("BadImage", "row stride below width * 4") {
            try await model.encode(pixels: Data(count: 64), width: 4, height: 2, rowStride: 12)
        }
        await assertThrowsEdgeSamError("BadImage", "zero width") {
            try await model.encode(pixels: Data(), width: 0, height: 2, rowStride: 0)
        }
        // The last row needs no padding after it (CGImage buffers often end there).
        let o = f.manifest.orientation
        let stored = try Data(contentsOf: f.file(o.stored))
        let unpadded = stored.prefix(o.row_stride * (o.height - 1) + o.width * 4)
        let e = try await model.encode(pixels: unpadded, width: o.width, height: o.height, rowStride: o.row_stride,
                                       orientation: .left)
        XCTAssertEqual([e.size.width, e.size.height], [o.height, o.width])
    }
}
