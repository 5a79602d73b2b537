// What the tests share: the fixtures folder made by Tests/make_fixtures.py (photos, the stand-in
// models, and the core CLI's answers for the same prompts), one loaded model pair, the photo's
// embedding and the segmentation of every fixture prompt.
//
// The folder is named by EDGESAM_SWIFT_FIXTURES; see Tests/README.md for how the suite is run.

import EdgeSAM
import Foundation
import XCTest

struct Manifest: Decodable {
    struct Photo: Decodable {
        let png: String
        let rgba: String
        let width: Int32
        let height: Int32
    }
    struct Models: Decodable {
        let encoder: String
        let decoder: String
    }
    struct CLIOutput: Decodable {
        let area: Int64
        let bbox: [Int32]?
        let mask_index: Int32
        /// serde_json writes a NaN as null.
        let scores: [Double?]
    }
    struct Case: Decodable {
        let name: String
        let points: [[Double]]
        let box: [Double]?
        let mask_index: Int32?
        let mask: String
        let cli: CLIOutput

        var prompt: SegmentPrompt {
            SegmentPrompt(
                points: points.map { PromptPoint(x: Float($0[0]), y: Float($0[1]), positive: $0[2] != 0) },
                box: box.map { PromptBox(x0: Float($0[0]), y0: Float($0[1]), x1: Float($0[2]), y1: Float($0[3])) },
                maskIndex: mask_index)
        }
    }
    struct Orientation: Decodable {
        struct Case: Decodable {
            let exif: Int
            let png: String
            let upright: String
            let width: Int
            let height: Int
        }
        let stored: String
        let width: Int
        let height: Int
        let row_stride: Int
        let cases: [Case]
    }
    let photo: Photo
    let models: Models
    let orientation: Orientation
    let cases: [Case]
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
}

/// The fixtures, loaded once for the whole run.
final class Fixture: @unchecked Sendable {
    let folder: URL
    let manifest: Manifest
    let photoPNG: Data
    let photoRGBA: Data
    let photoWidth: Int32
    let photoHeight: Int32
    let encoderPath: String
    let decoderPath: String
    let encoderBytes: Data
    let decoderBytes: Data
    /// Loaded from the files on one thread.
    let model: SegmentAnything
    let embedding: ImageEmbedding
    /// `model.segment(embedding:prompt:)` of every fixture prompt, by case name.
    let reference: [String: Segmentation]

    private static let loaded = Result { try Fixture() }

    /// The shared fixture; throws (failing the calling test) when the folder is missing or broken.
    static func shared() throws -> Fixture {
        try loaded.get()
    }

    private init() throws {
        guard let path = ProcessInfo.processInfo.environment["EDGESAM_SWIFT_FIXTURES"] else {
            throw FixtureError(description: "EDGESAM_SWIFT_FIXTURES is not set: run the suite as Tests/README.md says")
        }
        folder = URL(fileURLWithPath: path, isDirectory: true)
        manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: folder.appendingPathComponent("manifest.json")))
        photoPNG = try Data(contentsOf: folder.appendingPathComponent(manifest.photo.png))
        photoRGBA = try Data(contentsOf: folder.appendingPathComponent(manifest.photo.rgba))
        photoWidth = manifest.photo.width
        photoHeight = manifest.photo.height
        encoderPath = folder.appendingPathComponent(manifest.models.encoder).path
        decoderPath = folder.appendingPathComponent(manifest.models.decoder).path
        encoderBytes = try Data(contentsOf: URL(fileURLWithPath: encoderPath))
        decoderBytes = try Data(contentsOf: URL(fileURLWithPath: decoderPath))
        model = try SegmentAnything.fromFiles(encoderPath: encoderPath, decoderPath: decoderPath, threads: 1)
        embedding = try model.encodeImage(data: photoPNG)
        var reference: [String: Segmentation] = [:]
        for c in manifest.cases {
            reference[c.name] = try model.segment(embedding: embedding, prompt: c.prompt)
        }
        self.reference = reference
    }

    func file(_ name: String) -> URL {
        folder.appendingPathComponent(name)
    }

    /// Every fixture prompt with its case name.
    var prompts: [(name: String, prompt: SegmentPrompt)] {
        manifest.cases.map { ($0.name, $0.prompt) }
    }

    /// The first fixture prompt and its reference segmentation.
    var firstCase: (prompt: SegmentPrompt, segmentation: Segmentation) {
        let c = manifest.cases[0]
        return (c.prompt, reference[c.name]!)
    }
}

/// Gives each test `f`, the shared fixture.
class FixtureTestCase: XCTestCase {
    var f: Fixture!

    override func setUpWithError() throws {
        try super.setUpWithError()
        f = try Fixture.shared()
    }
}

/// Float equality that also holds for two NaNs (`Segmentation ==` does not: NaN != NaN).
func same(_ a: Float, _ b: Float) -> Bool {
    a == b || (a.isNaN && b.isNaN)
}

func same(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { same($0, $1) }
}

func same(_ a: Segmentation, _ b: Segmentation) -> Bool {
    a.mask == b.mask && same(a.score, b.score) && same(a.scores, b.scores) && a.maskIndex == b.maskIndex
}

func summary(_ s: Segmentation) -> String {
    "index \(s.maskIndex) area \(s.mask.area()) box \(String(describing: s.mask.boundingBox())) scores \(s.scores)"
}

/// The case name of an `EdgeSamError`, e.g. "BadImage".
func caseName(_ error: EdgeSamError) -> String {
    switch error {
    case .FileNotFound: return "FileNotFound"
    case .NotAModel: return "NotAModel"
    case .WrongModel: return "WrongModel"
    case .BadImage: return "BadImage"
    case .BadPrompt: return "BadPrompt"
    case .BadEmbedding: return "BadEmbedding"
    case .BadMask: return "BadMask"
    case .BadOptions: return "BadOptions"
    case .Cancelled: return "Cancelled"
    case .Internal: return "Internal"
    }
}

/// Fails unless `body` throws the `EdgeSamError` case named `expected`; returns the error.
@discardableResult
func assertThrowsEdgeSamError<T>(_ expected: String, _ what: String, file: StaticString = #filePath,
                                 line: UInt = #line, _ body: () throws -> T) -> EdgeSamError? {
    checkThrown(Result { try body() }, expected, what, file: file, line: line)
}

/// The async form of `assertThrowsEdgeSamError`.
@discardableResult
func assertThrowsEdgeSamError<T>(_ expected: String, _ what: String, file: StaticString = #filePath,
                                 line: UInt = #line, _ body: () async throws -> T) async -> EdgeSamError? {
    let outcome: Result<T, Error>
    do {
        outcome = .success(try await body())
    } catch {
        outcome = .failure(error)
    }
    return checkThrown(outcome, expected, what, file: file, line: line)
}

private func checkThrown<T>(_ outcome: Result<T, Error>, _ expected: String, _ what: String,
                            file: StaticString, line: UInt) -> EdgeSamError? {
    switch outcome {
    case .success:
        XCTFail("\(what): no error, expected .\(expected)", file: file, line: line)
    case .failure(let error as EdgeSamError):
        XCTAssertEqual(caseName(error), expected, "\(what): \(error)", file: file, line: line)
        return error
    case .failure(let error):
        XCTFail("\(what): threw \(type(of: error)) \(error), expected EdgeSamError.\(expected)", file: file, line: line)
    }
    return nil
}

/// Holds the library's worker threads at their first progress report (of everything mode, an
/// encode or a benchmark) until `open()`: a test can then act (cancel) while the work is certainly
/// still running, and see that the call returned before its worker went on. A watchdog opens the
/// gate after a minute so that a call that waits for its worker fails the test instead of hanging it.
final class Gate: EverythingListener, ProgressListener, @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = false
    private var arrivals = 0
    private var firstArrival: CheckedContinuation<Void, Never>?
    private var arrived = false

    init() {
        DispatchQueue.global().asyncAfter(deadline: .now() + 60) { [weak self] in
            self?.open()
        }
    }

    func onProgress(progress: EverythingProgress) {
        hold()
    }

    func onProgress(progress: StepProgress) {
        hold()
    }

    /// Called on a worker thread: blocks until the gate opens.
    private func hold() {
        condition.lock()
        arrivals += 1
        let waiting = arrived ? nil : firstArrival
        arrived = true
        firstArrival = nil
        condition.unlock()
        waiting?.resume()
        condition.lock()
        while !isOpen { condition.wait() }
        condition.unlock()
    }

    /// Returns once a worker has reached the gate.
    func reached() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            if arrived {
                condition.unlock()
                continuation.resume()
            } else {
                firstArrival = continuation
                condition.unlock()
            }
        }
    }

    /// Lets the workers go on. Returns whether the gate was still closed, i.e. the watchdog had not
    /// had to open it.
    @discardableResult
    func open() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let wasClosed = !isOpen
        if wasClosed {
            isOpen = true
            condition.broadcast()
        }
        return wasClosed
    }

    var arrivalCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return arrivals
    }
}

/// A value shared with worker threads, behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func mutate(_ body: (inout Value) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        body(&value)
    }

    var current: Value {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
