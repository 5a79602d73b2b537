// SegmentMask (COCO RLE, set operations, cut-out, overlay, outlines) and everything mode.

import EdgeSAM
import Foundation
import XCTest

final class MaskTests: FixtureTestCase {
    private func referenceMasks() throws -> (Segmentation, Segmentation) {
        let cases = f.manifest.cases
        return (try XCTUnwrap(f.reference[cases[0].name]), try XCTUnwrap(f.reference[cases[1].name]))
    }

    func testCocoRLERoundTripsAndMatchesAHandEncodedString() throws {
        let tiny = try SegmentMask(width: 3, height: 2, bytes: Data([0, 255, 255, 0, 0, 255]))
        // Columns top to bottom: 0 0 | 1 0 | 1 1 -> runs 2, 1, 1, 2 (pycocotools' string "2111").
        XCTAssertEqual(try tiny.toCocoRle(), CocoRle(width: 3, height: 2, counts: "2111"))
        for c in f.manifest.cases.prefix(3) {
            let s = try XCTUnwrap(f.reference[c.name])
            let restored = try SegmentMask.fromCocoRle(rle: try s.mask.toCocoRle())
            XCTAssertEqual(restored.bytes(), s.mask.bytes(), c.name)
            XCTAssertEqual(restored, s.mask, c.name)
            XCTAssertEqual(restored.area(), s.mask.area(), c.name)
            XCTAssertEqual(restored.boundingBox(), s.mask.boundingBox(), c.name)
        }
    }

    func testUnionSubtractAndIntersectEqualPixelLogic() throws {
        let (a, b) = try referenceMasks()
        let (ma, mb) = (a.mask, b.mask)
        func expected(_ keep: (Bool, Bool) -> Bool) -> Data {
            Data(zip(ma.bytes(), mb.bytes()).map { keep($0 != 0, $1 != 0) ? 255 : 0 })
        }
        XCTAssertNotEqual(ma, mb, "the two reference masks are the same")
        XCTAssertEqual(try ma.union(other: mb).bytes(), expected { $0 || $1 })
        XCTAssertEqual(try ma.subtract(other: mb).bytes(), expected { $0 && !$1 })
        XCTAssertEqual(try ma.intersect(other: mb).bytes(), expected { $0 && $1 })
    }

    func testACutOutsAlphaIsTheMaskAndOverlayAndOutlinesStayOnIt() throws {
        let (s, _) = try referenceMasks()
        let mask = s.mask
        let whole = try mask.cutout(imageData: f.photoPNG)
        XCTAssertEqual(whole.region, BoundingBox(x: 0, y: 0, width: f.photoWidth, height: f.photoHeight))
        let rgba = [UInt8](whole.image.rgba), photo = [UInt8](f.photoRGBA), bytes = [UInt8](mask.bytes())
        let wrong = (0..<bytes.count).filter { i in
            let expected: [UInt8] = bytes[i] != 0 ? [photo[i * 4], photo[i * 4 + 1], photo[i * 4 + 2], 255] : [0, 0, 0, 0]
            return Array(rgba[i * 4..<i * 4 + 4]) != expected
        }.count
        XCTAssertEqual(wrong, 0, "cut-out pixels that are not the photo inside / transparent outside")
        let box = try XCTUnwrap(mask.boundingBox(), "empty reference mask")
        let tight = try mask.cutout(imageData: f.photoPNG, cropPadding: 0)
        XCTAssertEqual(tight.region, box)
        XCTAssertEqual([tight.image.width, tight.image.height], [box.width, box.height])
        XCTAssertEqual(tight.image.rgba.count, Int(box.width * box.height) * 4)
        let overlay = try mask.overlay(imageData: f.photoPNG, color: MaskColor(red: 255, green: 0, blue: 0, alpha: 255),
                                       outlineWidth: 0)
        XCTAssertEqual([overlay.width, overlay.height], [f.photoWidth, f.photoHeight])
        let tinted = [UInt8](overlay.rgba)
        let red: [UInt8] = [255, 0, 0, 255]
        let misplaced = (0..<bytes.count).filter { i -> Bool in
            let isRed = Array(tinted[i * 4..<i * 4 + 4]) == red
            let photoIsRed = Array(photo[i * 4..<i * 4 + 4]) == red
            return isRed != (bytes[i] != 0) && !photoIsRed
        }
        XCTAssertEqual(misplaced.count, 0, "pixels where an opaque red overlay is not red exactly inside the mask")
        let polygons = try mask.outlinePolygons()
        XCTAssertTrue(polygons.contains { !$0.isHole }, "no outer polygon")
        let offMask = polygons.flatMap(\.points).filter { bytes[Int($0.y * f.photoWidth + $0.x)] == 0 }
        XCTAssertTrue(offMask.isEmpty, "vertices off the mask: \(offMask.prefix(3))")
        XCTAssertGreaterThanOrEqual(try mask.outlinePolygons(tolerance: 0).map(\.points.count).reduce(0, +),
                                    polygons.map(\.points.count).reduce(0, +), "tolerance 0 has fewer vertices")
    }

    func testTintedIsTheColourInsideAndTransparentOutsideAndNilIsTheDefaultTint() throws {
        let mask = try SegmentMask(width: 3, height: 1, bytes: Data([0, 255, 7]))
        let tinted = try mask.tinted(color: MaskColor(red: 255, green: 100, blue: 0, alpha: 128))
        XCTAssertEqual([tinted.width, tinted.height], [3, 1])
        XCTAssertEqual([UInt8](tinted.rgba), [0, 0, 0, 0, 255, 100, 0, 128, 255, 100, 0, 128], "straight alpha")
        // The library's one default tint, half-transparent blue.
        let defaultTint = MaskColor(red: 30, green: 144, blue: 255, alpha: 128)
        XCTAssertEqual(try mask.tinted(), try mask.tinted(color: defaultTint))
        let s = f.firstCase.segmentation
        XCTAssertEqual(try s.mask.overlay(imageData: f.photoPNG),
                       try s.mask.overlay(imageData: f.photoPNG, color: defaultTint, outlineWidth: 2))
        XCTAssertNotEqual(try s.mask.overlay(imageData: f.photoPNG, outlineWidth: 0),
                          try s.mask.overlay(imageData: f.photoPNG, outlineWidth: 2), "the outline is drawn")
    }

    func testDecodeImageGivesThePNGsPixelsOpaque() throws {
        let decoded = try decodeImage(imageData: f.photoPNG)
        XCTAssertEqual([decoded.width, decoded.height], [f.photoWidth, f.photoHeight])
        XCTAssertEqual(decoded.rgba, f.photoRGBA)
        for c in f.manifest.orientation.cases {
            let upright = try decodeImage(imageData: try Data(contentsOf: f.file(c.png)))
            XCTAssertEqual([Int(upright.width), Int(upright.height)], [c.width, c.height], "EXIF \(c.exif)")
            XCTAssertEqual(upright.rgba, try Data(contentsOf: f.file(c.upright)), "EXIF \(c.exif): not Pillow's upright pixels")
        }
    }

    func testCutoutAndOverlayOfPixelsEqualThoseOfThePNG() throws {
        let mask = f.firstCase.segmentation.mask
        let (w, h) = (f.photoWidth, f.photoHeight)
        let photo = try decodeImage(imageData: f.photoPNG)
        for padding in [nil, 0, 8] as [Int32?] {
            XCTAssertEqual(try mask.cutoutPixels(pixels: photo.rgba, width: w, height: h, rowStride: w * 4, format: .rgba8,
                                                 cropPadding: padding),
                           try mask.cutout(imageData: f.photoPNG, cropPadding: padding), "crop padding \(String(describing: padding))")
        }
        let red = MaskColor(red: 255, green: 0, blue: 0, alpha: 200)
        XCTAssertEqual(try mask.overlayPixels(pixels: photo.rgba, width: w, height: h, rowStride: w * 4, format: .rgba8,
                                              color: red, outlineWidth: 3),
                       try mask.overlay(imageData: f.photoPNG, color: red, outlineWidth: 3))
        XCTAssertEqual(try mask.overlayPixels(pixels: photo.rgba, width: w, height: h, rowStride: w * 4, format: .rgba8),
                       try mask.overlay(imageData: f.photoPNG))
    }

    func testCutoutOfStoredPixelsWithAnOrientationEqualsThatOfThePNGCarryingIt() throws {
        let o = f.manifest.orientation
        let stored = try Data(contentsOf: f.file(o.stored))
        for c in o.cases {
            let orientation = try XCTUnwrap(Orientation(exif: UInt32(c.exif)))
            let png = try Data(contentsOf: f.file(c.png))
            // A mask of the upright picture: its left column.
            let mask = try SegmentMask(width: Int32(c.width), height: Int32(c.height),
                                       bytes: Data((0..<c.width * c.height).map { $0 % c.width == 0 ? 255 : 0 }))
            XCTAssertEqual(try mask.cutoutPixels(pixels: stored, width: Int32(o.width), height: Int32(o.height),
                                                 rowStride: Int32(o.row_stride), format: .rgba8, orientation: orientation,
                                                 cropPadding: 1),
                           try mask.cutout(imageData: png, cropPadding: 1), "EXIF \(c.exif)")
            XCTAssertEqual(try mask.overlayPixels(pixels: stored, width: Int32(o.width), height: Int32(o.height),
                                                  rowStride: Int32(o.row_stride), format: .rgba8, orientation: orientation),
                           try mask.overlay(imageData: png), "EXIF \(c.exif)")
        }
    }

    func testEachAutomaticMaskIsTheTapOfItsGridPointWithProgress() async throws {
        let options = EverythingOptions(pointsPerSide: 4, scoreThreshold: -1, stabilityThreshold: 0)
        let seen = Locked([EverythingProgress]())
        let masks = try await f.model.everything(embedding: f.embedding, options: options) { p in
            seen.mutate { $0.append(p) }
        }
        XCTAssertFalse(masks.isEmpty, "no masks with permissive thresholds")
        let progress = seen.current
        XCTAssertEqual(progress.map(\.pointsDone).max(), 16)
        XCTAssertTrue(progress.allSatisfy { $0.pointsTotal == 16 }, "\(progress.prefix(3))")
        for m in masks {
            let tap = try f.model.segment(embedding: f.embedding, prompt: SegmentPrompt(
                points: [PromptPoint(x: m.pointX, y: m.pointY)], maskIndex: m.candidate))
            XCTAssertEqual(try SegmentMask.fromCocoRle(rle: m.rle), tap.mask, "mask of \(m.pointX),\(m.pointY)")
            XCTAssertEqual(m.area, tap.mask.area())
            XCTAssertEqual(m.boundingBox, tap.mask.boundingBox())
        }
        XCTAssertEqual(masks.map(\.area), masks.map(\.area).sorted(by: >), "not largest first")
    }
}
