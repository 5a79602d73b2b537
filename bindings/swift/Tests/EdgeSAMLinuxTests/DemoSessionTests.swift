// Tests of the iOS demo's UI-free code (ios-demo/EdgeSAMDemo/Session/*.swift, compiled into this
// program by run-tests.sh), run by main.swift with the model and photo it loaded.

import Foundation
import EdgeSAM

@MainActor
func demoSessionTests(model: SegmentAnything, photo: Data) async {
    await test("iOS demo: a touch is a tap, a long press or a drag by travel and time") { t in
        let fit = AspectFit(photoWidth: 400, photoHeight: 200, viewWidth: 200, viewHeight: 200)
        t.check(fit.scale == 0.5 && fit.originX == 0 && fit.originY == 50, "fit \(fit)")
        t.check(fit.toPhoto((x: 100, y: 100)) == (200, 100), "centre \(fit.toPhoto((x: 100, y: 100)))")
        t.check(fit.toView(x: 200, y: 100) == (100, 100), "back \(fit.toView(x: 200, y: 100))")
        let classify = { (end: (x: Double, y: Double), seconds: Double) in
            PhotoGesture.classify(start: (x: 10, y: 60), end: end, seconds: seconds, toPhoto: fit.toPhoto)
        }
        t.check(classify((x: 12, y: 61), 0.1) == .tap(x: 20, y: 20), "\(classify((x: 12, y: 61), 0.1))")
        t.check(classify((x: 10, y: 60), 0.8) == .longPress(x: 20, y: 20), "\(classify((x: 10, y: 60), 0.8))")
        t.check(classify((x: 60, y: 110), 0.8) == .drag(PromptRect(x0: 20, y0: 20, x1: 120, y1: 120)),
                "\(classify((x: 60, y: 110), 0.8))")
    }

    await test("iOS demo: gestures build one prompt, undo steps back, segments like the CLI's prompt") { t in
        var history = PromptHistory()
        t.check(history.current == nil && !history.canUndo, "a fresh history has a prompt")
        history.apply(.tap(x: 200, y: 80))
        history.apply(.longPress(x: 160, y: 40))
        history.apply(.drag(PromptRect(x0: 150, y0: 30, x1: 260, y1: 130)))
        let want = SegmentPrompt(points: [PromptPoint(x: 200, y: 80, positive: true),
                                          PromptPoint(x: 160, y: 40, positive: false)],
                                 rect: PromptRect(x0: 150, y0: 30, x1: 260, y1: 130), maskIndex: nil)
        t.check(history.current == want, "\(String(describing: history.current))")
        let embedding = try model.encodeImage(data: photo)
        let prompt = try require(t, history.current, "no prompt")
        let s = try await model.segmentAsync(embedding: embedding, prompt: prompt)
        let reference = try model.segment(embedding: embedding, prompt: want)
        t.check(same(s, reference), "\(summary(s)) vs \(summary(reference))")
        history.undo()
        t.check(history.current?.rect == nil && history.current?.points.count == 2, "undo of the box")
        history.clear()
        t.check(history.current == nil, "clear")
    }

    await test("iOS demo: the Benchmark screen's harness call returns indented JSON") { t in
        let json = try await runHarness(encoderPath: encoderPath, decoderPath: decoderPath, runs: 1, threads: 1)
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        t.check(object != nil && json.contains("\n  "), "not indented JSON: \(json.prefix(200))")
        t.check(prettyJSON("not json") == "not json", "unparsable JSON is not passed through")
    }
}
