// The async calls: the same answers as the blocking ones from Tasks and threads, and cancellation
// through the calling Task (the conveniences of EdgeSAM+Concurrency.swift) or a CancellationToken.
// Cancellation is checked by order of events, never by time: the library's worker is held at a
// Gate while the test cancels, so the call must return before its worker goes on.

import EdgeSAM
import Foundation
import XCTest

final class ConcurrencyTests: FixtureTestCase {
    /// Keeps every non-empty candidate of an 8 x 8 grid: far more work than one step.
    private let manyPoints = EverythingOptions(pointsPerSide: 8, scoreThreshold: -1, stabilityThreshold: 0)

    func testAsyncEncodesFromTasksEqualTheBlockingEncode() async throws {
        let model = f.model, png = f.photoPNG, want = f.embedding.toBytes()
        let fromTask = try await Task { try await model.encodeImageAsync(data: png) }.value
        XCTAssertEqual(fromTask.toBytes(), want)
        let detached = try await Task.detached { try await model.encodeImageAsync(data: png) }.value
        XCTAssertEqual(detached.toBytes(), want)
        let awaited = try await model.encodeImageAsync(data: png)
        XCTAssertEqual(awaited.toBytes(), want)
        let pixels = try await model.encodePixelsAsync(pixels: f.photoRGBA, width: f.photoWidth, height: f.photoHeight,
                                                       rowStride: f.photoWidth * 4, format: .rgba8)
        XCTAssertEqual(pixels.toBytes(), want)
        let many = try await withThrowingTaskGroup(of: Data.self) { group in
            for _ in 0..<4 {
                group.addTask { try await model.encodeImageAsync(data: png).toBytes() }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(many, [Data](repeating: want, count: 4))
        // The conveniences, uncancelled.
        let convenience = try await model.encode(imageData: png)
        XCTAssertEqual(convenience.toBytes(), want)
        let conveniencePixels = try await model.encode(pixels: f.photoRGBA, width: Int(f.photoWidth), height: Int(f.photoHeight),
                                                       rowStride: Int(f.photoWidth) * 4)
        XCTAssertEqual(conveniencePixels.toBytes(), want)
    }

    func testSegmentAsyncEqualsSegmentAlsoConcurrently() async throws {
        let model = f.model, embedding = f.embedding, prompts = f.prompts
        for (name, prompt) in prompts {
            let s = try await model.segmentAsync(embedding: embedding, prompt: prompt)
            XCTAssertTrue(same(s, f.reference[name]!), "\(name): \(summary(s))")
            XCTAssertEqual(s, f.reference[name]!, "\(name): Segmentation == (scores are never NaN)")
        }
        let concurrent = try await withThrowingTaskGroup(of: (Int, Segmentation).self) { group in
            for (i, (_, prompt)) in prompts.enumerated() {
                group.addTask { (i, try await model.segmentAsync(embedding: embedding, prompt: prompt)) }
            }
            return try await group.reduce(into: [Int: Segmentation]()) { $0[$1.0] = $1.1 }
        }
        for (i, (name, _)) in prompts.enumerated() {
            XCTAssertTrue(concurrent[i].map { same($0, f.reference[name]!) } ?? false, "\(name) concurrently")
        }
    }

    /// Eight prompts spread over the photo, some negative points, a box or two.
    private var spreadPrompts: [SegmentPrompt] {
        (0..<8).map { i in
            let x = Float(20 + (37 * i) % 280), y = Float(15 + (23 * i) % 170)
            var p = SegmentPrompt(points: [PromptPoint(x: x, y: y, positive: i % 3 != 2)])
            if i % 4 == 3 {
                p.box = PromptBox(x0: x - 10, y0: y - 10, x1: min(x + 60, 319), y1: min(y + 25, 199))
            }
            return p
        }
    }

    func testEightTasksSegmentingOnOneModelEqualTheSerialAnswers() async throws {
        let model = f.model, embedding = f.embedding, prompts = spreadPrompts
        let serial = try prompts.map { try model.segment(embedding: embedding, prompt: $0) }
        let results = try await withThrowingTaskGroup(of: (Int, [Segmentation]).self) { group in
            for worker in 0..<8 {
                group.addTask {
                    // Each worker walks the prompts from a different start.
                    var out = [Segmentation?](repeating: nil, count: prompts.count)
                    for k in 0..<prompts.count {
                        let i = (k + worker) % prompts.count
                        out[i] = try model.segment(embedding: embedding, prompt: prompts[i])
                    }
                    return (worker, out.map { $0! })
                }
            }
            return try await group.reduce(into: [Int: [Segmentation]]()) { $0[$1.0] = $1.1 }
        }
        XCTAssertEqual(results.count, 8)
        for (worker, list) in results {
            for (i, s) in list.enumerated() {
                XCTAssertTrue(same(s, serial[i]), "task \(worker), prompt \(i): \(summary(s)) vs \(summary(serial[i]))")
            }
        }
    }

    func testEightThreadsSegmentingOnOneModelEqualTheSerialAnswers() throws {
        let model = f.model, embedding = f.embedding, prompts = spreadPrompts
        let serial = try prompts.map { try model.segment(embedding: embedding, prompt: $0) }
        let outcomes = Locked([Int: Result<[Segmentation], Error>]())
        let done = DispatchGroup()
        for worker in 0..<8 {
            done.enter()
            Thread {
                defer { done.leave() }
                let outcome = Result { try prompts.map { try model.segment(embedding: embedding, prompt: $0) } }
                outcomes.mutate { $0[worker] = outcome }
            }.start()
        }
        done.wait()
        let results = try outcomes.current.mapValues { try $0.get() }
        XCTAssertEqual(results.count, 8)
        for (worker, list) in results {
            for (i, s) in list.enumerated() {
                XCTAssertTrue(same(s, serial[i]), "thread \(worker), prompt \(i): \(summary(s)) vs \(summary(serial[i]))")
            }
        }
    }

    func testCancellingTheTaskThrowsCancellationErrorWhileTheWorkerIsStillHeld() async throws {
        let model = f.model, embedding = f.embedding, options = manyPoints
        await assertCancellingTheTaskThrowsWhileHeld("everything") { gate in
            try await model.everything(embedding: embedding, options: options) { gate.onProgress(progress: $0) }
        }
        // The model is usable afterwards and gives the same answers.
        let again = try await model.encode(imageData: f.photoPNG)
        XCTAssertEqual(again.toBytes(), embedding.toBytes())
        XCTAssertTrue(same(try model.segment(embedding: again, prompt: f.firstCase.prompt), f.firstCase.segmentation))
    }

    func testATaskCancelledBeforeTheCallFailsWithoutStartingIt() async throws {
        let model = f.model, png = f.photoPNG, rgba = f.photoRGBA
        let width = Int(f.photoWidth), height = Int(f.photoHeight)
        let encodes: [@Sendable () async throws -> ImageEmbedding] = [
            { try await model.encode(imageData: png) },
            { try await model.encode(pixels: rgba, width: width, height: height, rowStride: width * 4) },
        ]
        for (i, encode) in encodes.enumerated() {
            let task = Task {
                while !Task.isCancelled { await Task.yield() }
                return try await encode()
            }
            task.cancel()
            switch await task.result {
            case .failure(is CancellationError): break
            case let other: XCTFail("encode \(i) in a cancelled Task gave \(other), expected CancellationError")
            }
        }
        let gate = Gate()
        let everything = Task {
            while !Task.isCancelled { await Task.yield() }
            return try await model.everything(embedding: self.f.embedding, options: self.manyPoints) { gate.onProgress(progress: $0) }
        }
        everything.cancel()
        if case .success = await everything.result { XCTFail("everything in a cancelled Task succeeded") }
        XCTAssertEqual(gate.arrivalCount, 0, "a call in a cancelled Task started its work")
        gate.open()
    }

    func testACancellationTokenCancelsTheGeneratedAsyncCallsWithCancelled() async throws {
        let model = f.model, embedding = f.embedding, options = manyPoints
        let token = CancellationToken()
        XCTAssertFalse(token.isCancelled())
        let gate = Gate()
        let call = Task { try await model.everythingAsync(embedding: embedding, options: options, listener: gate, cancellation: token) }
        await gate.reached()
        token.cancel()
        let outcome = await call.result
        XCTAssertTrue(gate.open(), "the cancelled call waited for its worker")
        if case .failure(EdgeSamError.Cancelled) = outcome {} else {
            XCTFail("token.cancel() gave \(outcome), expected EdgeSamError.Cancelled")
        }
        XCTAssertTrue(token.isCancelled())
        // A cancelled token starts nothing.
        let untouched = Gate()
        await assertThrowsEdgeSamError("Cancelled", "everythingAsync with a cancelled token") {
            try await model.everythingAsync(embedding: embedding, options: options, listener: untouched, cancellation: token)
        }
        XCTAssertEqual(untouched.arrivalCount, 0, "a call with a cancelled token started its work")
        untouched.open()
        await assertThrowsEdgeSamError("Cancelled", "encodePixelsAsync with a cancelled token") {
            try await model.encodePixelsAsync(pixels: self.f.photoRGBA, width: self.f.photoWidth, height: self.f.photoHeight,
                                              rowStride: self.f.photoWidth * 4, format: .rgba8, cancellation: token)
        }
    }

    func testAnEncodeReportsEveryStepFromNoneToAllDone() async throws {
        let seen = Locked([StepProgress]())
        let handler = ProgressHandler { p in seen.mutate { $0.append(p) } }
        let e = try await f.model.encode(imageData: f.photoPNG, progress: handler)
        XCTAssertEqual(e.toBytes(), f.embedding.toBytes())
        let progress = seen.current
        let total = try XCTUnwrap(progress.last?.total, "no progress reported")
        XCTAssertGreaterThan(total, 1)
        XCTAssertEqual(progress.map(\.done), Array(0...total), "one report per encoder step, then done == total")
        XCTAssertTrue(progress.allSatisfy { $0.total == total }, "\(progress.prefix(3))")
        // Raw pixels go through the same steps, through the convenience and the generated call.
        seen.mutate { $0.removeAll() }
        _ = try await f.model.encode(pixels: f.photoRGBA, width: Int(f.photoWidth), height: Int(f.photoHeight),
                                     rowStride: Int(f.photoWidth) * 4, progress: handler)
        XCTAssertEqual(seen.current.map(\.done), Array(0...total))
        seen.mutate { $0.removeAll() }
        _ = try await f.model.encodePixelsAsync(pixels: f.photoRGBA, width: f.photoWidth, height: f.photoHeight,
                                                rowStride: f.photoWidth * 4, format: .rgba8, progress: handler)
        XCTAssertEqual(seen.current.map(\.done), Array(0...total))
    }

    func testCancellingTheTokenFromTheListenerStopsTheEncodeWithCancelled() async throws {
        let token = CancellationToken()
        let seen = Locked([Int32]())
        let handler = ProgressHandler { p in
            seen.mutate { $0.append(p.done) }
            if p.done == 3 { token.cancel() }
        }
        await assertThrowsEdgeSamError("Cancelled", "encodeImageAsync cancelled from its listener") {
            try await self.f.model.encodeImageAsync(data: self.f.photoPNG, progress: handler, cancellation: token)
        }
        XCTAssertEqual(seen.current, [0, 1, 2, 3], "the encode went on after its token was cancelled")
        // The Task convenience returns as soon as its Task is cancelled, while the encoder is held.
        let model = f.model, png = f.photoPNG
        await assertCancellingTheTaskThrowsWhileHeld("encode") { gate in
            try await model.encode(imageData: png, progress: gate)
        }
    }

    /// Runs `call` in a Task with a gate holding its worker, cancels the Task once the worker is
    /// held, and checks that the call threw CancellationError before the worker went on.
    private func assertCancellingTheTaskThrowsWhileHeld<T: Sendable>(
        _ what: String, file: StaticString = #filePath, line: UInt = #line,
        _ call: @escaping @Sendable (Gate) async throws -> T
    ) async {
        let gate = Gate()
        let task = Task { try await call(gate) }
        await gate.reached()
        task.cancel()
        let outcome = await task.result
        XCTAssertTrue(gate.open(), "\(what): the cancelled call waited for its worker", file: file, line: line)
        switch outcome {
        case .failure(is CancellationError): break
        case let other: XCTFail("\(what) in a cancelled Task gave \(other), expected CancellationError", file: file, line: line)
        }
    }

    func testATokenOutlivesAFinishedCall() async throws {
        let token = CancellationToken()
        let first = try await f.model.encodeImageAsync(data: f.photoPNG, cancellation: token)
        XCTAssertFalse(token.isCancelled(), "a finished call cancelled its token")
        let second = try await f.model.encodeImageAsync(data: f.photoPNG, cancellation: token)
        XCTAssertEqual(first.toBytes(), second.toBytes())
    }
}
