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
            let mask = try SegmentMask.fromSegmentation(segmentation: s)
            XCTAssertEqual(try SegmentMask.fromCocoRle(rle: try mask.toCocoRle()).bytes(), s.mask, c.name)
            XCTAssertEqual(mask.area(), s.area, c.name)
            XCTAssertEqual(mask.boundingBox(), s.boundingBox, c.name)
        }
    }

    func testUnionSubtractAndIntersectEqualPixelLogic() throws {
        let (a, b) = try referenceMasks()
        let (ma, mb) = (try SegmentMask.fromSegmentation(segmentation: a), try SegmentMask.fromSegmentation(segmentation: b))
        func expected(_ keep: (Bool, Bool) -> Bool) -> Data {
            Data(zip(a.mask, b.mask).map { keep($0 != 0, $1 != 0) ? 255 : 0 })
        }
        XCTAssertNotEqual(a.mask, b.mask, "the two reference masks are the same")
        XCTAssertEqual(try ma.union(other: mb).bytes(), expected { $0 || $1 })
        XCTAssertEqual(try ma.subtract(other: mb).bytes(), expected { $0 && !$1 })
        XCTAssertEqual(try ma.intersect(other: mb).bytes(), expected { $0 && $1 })
    }

    func testACutOutsAlphaIsTheMaskAndOverlayAndOutlinesStayOnIt() throws {
        let (s, _) = try referenceMasks()
        let mask = try SegmentMask.fromSegmentation(segmentation: s)
        let whole = try mask.cutout(imageData: f.photoPNG)
        XCTAssertEqual(whole.region, BoundingBox(x: 0, y: 0, width: f.photoWidth, height: f.photoHeight))
        let rgba = [UInt8](whole.rgba), photo = [UInt8](f.photoRGBA), bytes = [UInt8](s.mask)
        let wrong = (0..<bytes.count).filter { i in
            let expected: [UInt8] = bytes[i] != 0 ? [photo[i * 4], photo[i * 4 + 1], photo[i * 4 + 2], 255] : [0, 0, 0, 0]
            return Array(rgba[i * 4..<i * 4 + 4]) != expected
        }.count
        XCTAssertEqual(wrong, 0, "cut-out pixels that are not the photo inside / transparent outside")
        let box = try XCTUnwrap(s.boundingBox, "empty reference mask")
        let tight = try mask.cutout(imageData: f.photoPNG, cropPadding: 0)
        XCTAssertEqual(tight.region, box)
        XCTAssertEqual(tight.rgba.count, Int(box.width * box.height) * 4)
        let tinted = [UInt8](try mask.overlay(imageData: f.photoPNG, color: MaskColor(red: 255, green: 0, blue: 0, alpha: 255),
                                              outlineWidth: 0))
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
            XCTAssertEqual(try SegmentMask.fromCocoRle(rle: m.rle).bytes(), tap.mask, "mask of \(m.pointX),\(m.pointY)")
            XCTAssertEqual(m.area, tap.area)
            XCTAssertEqual(m.boundingBox, tap.boundingBox)
        }
        XCTAssertEqual(masks.map(\.area), masks.map(\.area).sorted(by: >), "not largest first")
    }
}
