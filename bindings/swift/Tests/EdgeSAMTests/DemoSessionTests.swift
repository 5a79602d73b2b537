// The iOS demo's UI-free code (ios-demo/EdgeSAMDemo/Session, the EdgeSAMDemoSession target of the
// Linux package), against the real bindings.

@testable import EdgeSAMDemoSession
import EdgeSAM
import Foundation
import XCTest

final class DemoSessionTests: FixtureTestCase {
    func testATouchIsATapALongPressOrADragByTravelAndTime() {
        let fit = AspectFit(photoWidth: 400, photoHeight: 200, viewWidth: 200, viewHeight: 200)
        XCTAssertEqual([fit.scale, fit.originX, fit.originY], [0.5, 0, 50])
        let centre = fit.toPhoto((x: 100, y: 100))
        XCTAssertEqual([centre.x, centre.y], [200, 100])
        let back = fit.toView(x: 200, y: 100)
        XCTAssertEqual([back.x, back.y], [100, 100])
        let classify = { (end: (x: Double, y: Double), seconds: Double) in
            PhotoGesture.classify(start: (x: 10, y: 60), end: end, seconds: seconds, toPhoto: fit.toPhoto)
        }
        XCTAssertEqual(classify((x: 12, y: 61), 0.1), .tap(x: 20, y: 20))
        XCTAssertEqual(classify((x: 10, y: 60), 0.8), .longPress(x: 20, y: 20))
        XCTAssertEqual(classify((x: 60, y: 110), 0.8), .drag(PromptBox(x0: 20, y0: 20, x1: 120, y1: 120)))
    }

    func testGesturesBuildOnePromptUndoStepsBackAndItSegmentsAsTheSamePrompt() async throws {
        var history = PromptHistory()
        XCTAssertNil(history.current)
        XCTAssertFalse(history.canUndo)
        history.apply(.tap(x: 200, y: 80))
        history.apply(.longPress(x: 160, y: 40))
        history.apply(.drag(PromptBox(x0: 150, y0: 30, x1: 260, y1: 130)))
        let want = SegmentPrompt(points: [PromptPoint(x: 200, y: 80, positive: true),
                                          PromptPoint(x: 160, y: 40, positive: false)],
                                 box: PromptBox(x0: 150, y0: 30, x1: 260, y1: 130), maskIndex: nil)
        XCTAssertEqual(history.current, want)
        let embedding = try f.model.encodeImage(data: f.photoPNG)
        let s = try await f.model.segmentAsync(embedding: embedding, prompt: try XCTUnwrap(history.current))
        let reference = try f.model.segment(embedding: embedding, prompt: want)
        XCTAssertTrue(same(s, reference), "\(summary(s)) vs \(summary(reference))")
        history.undo()
        XCTAssertNil(history.current?.box, "undo of the box")
        XCTAssertEqual(history.current?.points.count, 2)
        history.clear()
        XCTAssertNil(history.current)
    }

    func testTheBenchmarkScreensHarnessCallReturnsIndentedJSON() async throws {
        let json = try await runHarness(encoderPath: f.encoderPath, decoderPath: f.decoderPath, runs: 1, threads: 1)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], String(json.prefix(200)))
        XCTAssertTrue(json.contains("\n  "), "not indented: \(json.prefix(200))")
        XCTAssertEqual(prettyJSON("not json"), "not json", "unparsable JSON is not passed through")
    }

    func testTheBenchmarkScreensPercentGoesFromNoneToAllAndItsTaskCancels() async throws {
        let percents = Locked([Int]())
        _ = try await runHarness(encoderPath: f.encoderPath, decoderPath: f.decoderPath, runs: 1, threads: 1,
                                 progress: ProgressHandler { p in percents.mutate { $0.append(percentDone(p)) } })
        let seen = percents.current
        XCTAssertEqual(seen.first, 0)
        XCTAssertEqual(seen.last, 100)
        XCTAssertEqual(seen, seen.sorted(), "the percentage went back")
        XCTAssertEqual(percentDone(StepProgress(done: 1, total: 3)), 33)
        XCTAssertEqual(percentDone(StepProgress(done: 0, total: 0)), 0)
        let gate = Gate()
        let run = Task { try await runHarness(encoderPath: f.encoderPath, decoderPath: f.decoderPath, runs: 1, threads: 1,
                                              progress: gate) }
        await gate.reached()
        run.cancel()
        gate.open()
        if case .failure(is CancellationError) = await run.result {} else {
            XCTFail("a cancelled benchmark screen run did not throw CancellationError")
        }
    }
}
