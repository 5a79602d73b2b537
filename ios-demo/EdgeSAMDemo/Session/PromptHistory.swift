// The demo's prompt editing, free of UI code: the Linux Swift suite compiles and tests this file
// against the real bindings (`cargo xtask swift-tests`), so the demo's calls into EdgeSAM are
// checked by a compiler even where UIKit is absent.

import Foundation
import EdgeSAM

/// What a finger did on the photo, in the photo's pixels.
enum PhotoGesture: Equatable {
    case tap(x: Float, y: Float)
    case longPress(x: Float, y: Float)
    case drag(PromptBox)

    /// Below this many view points of travel a touch is a tap or a long press, not a drag.
    static let dragThreshold: Double = 10
    /// A touch held at least this long (seconds) without moving is a long press.
    static let longPressSeconds: Double = 0.5

    /// Classifies one touch from where it went down and up (view points), how long it lasted,
    /// and `toPhoto`, which maps a view point to photo pixels.
    static func classify(start: (x: Double, y: Double), end: (x: Double, y: Double), seconds: Double,
                         toPhoto: ((x: Double, y: Double)) -> (x: Float, y: Float)) -> PhotoGesture {
        let travel = ((end.x - start.x) * (end.x - start.x) + (end.y - start.y) * (end.y - start.y)).squareRoot()
        let a = toPhoto(start)
        if travel >= dragThreshold {
            let b = toPhoto(end)
            return .drag(PromptBox(x0: a.x, y0: a.y, x1: b.x, y1: b.y))
        }
        return seconds >= longPressSeconds ? .longPress(x: a.x, y: a.y) : .tap(x: a.x, y: a.y)
    }
}

/// The prompt built gesture by gesture (taps add points, a drag sets the box: SAM takes them
/// together), with every earlier prompt kept for undo.
struct PromptHistory {
    private(set) var prompts: [SegmentPrompt] = []

    /// The prompt to segment with; nil before the first gesture (nothing to show).
    var current: SegmentPrompt? { prompts.last }
    var canUndo: Bool { !prompts.isEmpty }

    mutating func apply(_ gesture: PhotoGesture) {
        var next = current ?? SegmentPrompt(points: [], box: nil, maskIndex: nil)
        switch gesture {
        case let .tap(x, y): next.points.append(PromptPoint(x: x, y: y, positive: true))
        case let .longPress(x, y): next.points.append(PromptPoint(x: x, y: y, positive: false))
        case let .drag(box): next.box = box
        }
        prompts.append(next)
    }

    mutating func undo() {
        _ = prompts.popLast()
    }

    mutating func clear() {
        prompts.removeAll()
    }
}

/// How a photo of `photoWidth` x `photoHeight` pixels sits aspect-fit and centred in a view of
/// `viewWidth` x `viewHeight` points, and the mappings between the two.
struct AspectFit {
    let scale: Double   // view points per photo pixel
    let originX: Double
    let originY: Double

    init(photoWidth: Int, photoHeight: Int, viewWidth: Double, viewHeight: Double) {
        let s = min(viewWidth / Double(max(photoWidth, 1)), viewHeight / Double(max(photoHeight, 1)))
        scale = s
        originX = (viewWidth - Double(photoWidth) * s) / 2
        originY = (viewHeight - Double(photoHeight) * s) / 2
    }

    /// A view point in photo pixels (outside the photo when the point is on the margins).
    func toPhoto(_ p: (x: Double, y: Double)) -> (x: Float, y: Float) {
        (Float((p.x - originX) / scale), Float((p.y - originY) / scale))
    }

    /// A photo pixel position in view points.
    func toView(x: Float, y: Float) -> (x: Double, y: Double) {
        (originX + Double(x) * scale, originY + Double(y) * scale)
    }
}

/// Runs the benchmark harness (seconds of work) on a thread of its own and pretty-prints its JSON.
/// `progress` is told of each step from that thread; cancelling the calling Task stops the harness
/// at its next step (it then throws CancellationError).
func runHarness(encoderPath: String, decoderPath: String, runs: Int32, threads: Int32,
                progress: ProgressListener? = nil) async throws -> String {
    prettyJSON(try await runBenchmarkAsync(encoderPath: encoderPath, decoderPath: decoderPath, imageData: nil,
                                           runs: runs, points: 2, threads: threads, progress: progress))
}

/// Whole percent of a long call done, for a label: 0 before the first step, 100 once done.
func percentDone(_ reported: StepProgress) -> Int {
    guard reported.total > 0 else { return 0 }
    return Int(Int64(min(max(reported.done, 0), reported.total)) * 100 / Int64(reported.total))
}

/// The JSON indented with sorted keys, for reading on a phone; unchanged when it does not parse.
func prettyJSON(_ json: String) -> String {
    guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)),
          let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]),
          let text = String(data: data, encoding: .utf8) else { return json }
    return text
}
