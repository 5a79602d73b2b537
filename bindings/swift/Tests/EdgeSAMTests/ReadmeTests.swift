// The README's Swift example, word for word between the markers: core/tests/readme.rs checks that
// the README shows this text, and this test runs it on the stand-in models.

import EdgeSAM
import Foundation
import XCTest

final class ReadmeTests: FixtureTestCase {
    func testTheReadmeExampleRuns() async throws {
        let (encoderPath, decoderPath, photoData) = (f.encoderPath, f.decoderPath, f.photoPNG)
        // README example start
        let model = try SegmentAnything.fromFiles(encoderPath: encoderPath, decoderPath: decoderPath)
        let embedding = try await model.encode(imageData: photoData)    // cancelled with its Task
        let tap = try model.segment(embedding: embedding,
                                    prompt: SegmentPrompt(points: [PromptPoint(x: 200, y: 80)]))
        let background = try model.segment(embedding: embedding,
                                           prompt: SegmentPrompt(points: [PromptPoint(x: 60, y: 170)]))
        let selection = try tap.mask.subtract(other: background.mask)   // masks stay in the library
        let layer = try selection.tinted()                // RGBA: the default tint inside, clear outside
        let sticker = try selection.cutout(imageData: photoData, cropPadding: 8)  // .image, .region
        print(tap.score, selection.area(), layer.width, sticker.region)
        // README example end
        XCTAssertEqual(tap.mask.width(), f.photoWidth)
        let overlap = try tap.mask.intersect(other: background.mask)
        XCTAssertEqual(selection.area(), tap.mask.area() - overlap.area())
        XCTAssertEqual(layer.rgba.count, Int(f.photoWidth) * Int(f.photoHeight) * 4)
        XCTAssertEqual([sticker.image.width, sticker.image.height], [sticker.region.width, sticker.region.height])
    }
}
