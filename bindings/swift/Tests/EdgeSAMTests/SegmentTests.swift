// Loading, encoding and segmenting through the Swift bindings give the core CLI's answers.

import EdgeSAM
import Foundation
import XCTest

final class SegmentTests: FixtureTestCase {
    /// What must hold for any segmentation of the photo.
    private func checkSegmentation(_ s: Segmentation, _ prompt: SegmentPrompt, _ label: String,
                                   file: StaticString = #filePath, line: UInt = #line) {
        let mask = s.mask, bytes = mask.bytes()
        XCTAssertEqual([mask.width(), mask.height()], [f.photoWidth, f.photoHeight], "\(label): mask size", file: file, line: line)
        XCTAssertEqual(bytes.count, Int(mask.width()) * Int(mask.height()), "\(label): mask bytes", file: file, line: line)
        var area: Int64 = 0
        var other = 0
        var minX = Int.max, minY = Int.max, maxX = -1, maxY = -1
        let width = Int(mask.width())
        for (i, v) in bytes.enumerated() {
            if v == 255 {
                area += 1
                let x = i % width, y = i / width
                minX = min(minX, x); maxX = max(maxX, x)
                minY = min(minY, y); maxY = max(maxY, y)
            } else if v != 0 {
                other += 1
            }
        }
        XCTAssertEqual(other, 0, "\(label): mask bytes that are neither 0 nor 255", file: file, line: line)
        XCTAssertEqual(area, mask.area(), "\(label): area against the mask's pixels at 255", file: file, line: line)
        if area == 0 {
            XCTAssertNil(mask.boundingBox(), "\(label): empty mask with a bounding box", file: file, line: line)
        } else {
            let box = BoundingBox(x: Int32(minX), y: Int32(minY), width: Int32(maxX - minX + 1), height: Int32(maxY - minY + 1))
            XCTAssertEqual(mask.boundingBox(), box, "\(label): bounding box against the mask's", file: file, line: line)
        }
        XCTAssertEqual(s.scores.count, 4, "\(label): scores", file: file, line: line)
        XCTAssertTrue((0..<4).contains(s.maskIndex), "\(label): mask index \(s.maskIndex)", file: file, line: line)
        // An empty candidate's stability score (0/0 in the official graph) is reported as 0.
        XCTAssertTrue(s.scores.allSatisfy { $0.isFinite }, "\(label): scores \(s.scores)", file: file, line: line)
        guard s.scores.count == 4, (0..<4).contains(s.maskIndex) else { return }
        XCTAssertTrue(same(s.score, s.scores[Int(s.maskIndex)]), "\(label): score is not scores[maskIndex]", file: file, line: line)
        // The choice rule: an explicit index wins; a box alone gives 0; with points, the argmax
        // (first of equal scores).
        if let requested = prompt.maskIndex {
            XCTAssertEqual(s.maskIndex, requested, "\(label): requested candidate", file: file, line: line)
        } else if prompt.points.isEmpty {
            XCTAssertEqual(s.maskIndex, 0, "\(label): a box alone gives candidate 0", file: file, line: line)
        } else {
            var best = 0
            for i in 1..<4 where s.scores[i] > s.scores[best] { best = i }
            XCTAssertEqual(s.maskIndex, Int32(best), "\(label): with points the best score wins; \(s.scores)", file: file, line: line)
        }
    }

    func testTheEmbeddingHasThePhotosSize() {
        XCTAssertEqual([f.embedding.width(), f.embedding.height()], [f.photoWidth, f.photoHeight])
    }

    func testEveryFixturePromptSegmentsAsTheCoreCLI() throws {
        for c in f.manifest.cases {
            let s = try XCTUnwrap(f.reference[c.name])
            checkSegmentation(s, c.prompt, c.name)
            let expected = try Data(contentsOf: f.file(c.mask)), bytes = s.mask.bytes()
            let differing = zip(bytes, expected).filter { $0 != $1 }.count
            XCTAssertTrue(bytes == expected, "\(c.name): \(differing) of \(expected.count) mask bytes differ from the CLI's")
            let cliScores = c.cli.scores.map { $0.map(Float.init) ?? .nan }
            XCTAssertTrue(same(s.scores, cliScores), "\(c.name): scores \(s.scores), the CLI's \(cliScores)")
            XCTAssertEqual(s.maskIndex, c.cli.mask_index, c.name)
            XCTAssertEqual(s.mask.area(), c.cli.area, c.name)
            XCTAssertEqual(s.mask.boundingBox().map { [$0.x, $0.y, $0.width, $0.height] }, c.cli.bbox, c.name)
        }
    }

    func testAModelLoadedFromDataGivesTheSameAnswersAndTakesTheOthersEmbeddings() throws {
        let fromData = try SegmentAnything.fromBytes(encoder: f.encoderBytes, decoder: f.decoderBytes)
        let e = try fromData.encodeImage(data: f.photoPNG)
        XCTAssertEqual(e.toBytes(), f.embedding.toBytes())
        for (name, prompt) in f.prompts {
            let want = f.reference[name]!
            let s = try fromData.segment(embedding: e, prompt: prompt)
            XCTAssertTrue(same(s, want), "\(name): \(summary(s)) vs \(summary(want))")
            // Embeddings move between model instances loaded from the same files.
            XCTAssertTrue(same(try fromData.segment(embedding: f.embedding, prompt: prompt), want), name)
        }
    }

    func testRawRGBAPaddedBGRAAndRGBPixelsEncodeAsThePNG() throws {
        let w = Int(f.photoWidth), h = Int(f.photoHeight)
        XCTAssertEqual(f.photoRGBA.count, w * h * 4)
        let rgba = [UInt8](f.photoRGBA)
        let stride = w * 4 + 12
        var padded = [UInt8](repeating: 0x5A, count: stride * h)
        var bgra = [UInt8](repeating: 0, count: w * h * 4)
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let i = (y * w + x) * 4
                for k in 0..<4 { padded[y * stride + x * 4 + k] = rgba[i + k] }
                bgra[i] = rgba[i + 2]; bgra[i + 1] = rgba[i + 1]; bgra[i + 2] = rgba[i]; bgra[i + 3] = rgba[i + 3]
                let j = (y * w + x) * 3
                rgb[j] = rgba[i]; rgb[j + 1] = rgba[i + 1]; rgb[j + 2] = rgba[i + 2]
            }
        }
        let variants: [(String, Data, Int32, PixelFormat)] = [
            ("rgba8", f.photoRGBA, Int32(w * 4), .rgba8),
            ("rgba8 padded stride", Data(padded), Int32(stride), .rgba8),
            ("bgra8", Data(bgra), Int32(w * 4), .bgra8),
            ("rgb8", Data(rgb), Int32(w * 3), .rgb8),
        ]
        let (prompt, want) = f.firstCase
        for (label, pixels, rowStride, format) in variants {
            let e = try f.model.encodePixels(pixels: pixels, width: f.photoWidth, height: f.photoHeight,
                                             rowStride: rowStride, format: format)
            XCTAssertEqual([e.width(), e.height()], [f.photoWidth, f.photoHeight], label)
            XCTAssertEqual(e.toBytes(), f.embedding.toBytes(), label)
            XCTAssertTrue(same(try f.model.segment(embedding: e, prompt: prompt), want), label)
        }
    }

    func testIdenticalSegmentationsAreEqualAndDifferentOnesAreNot() throws {
        for (name, prompt) in f.prompts {
            let again = try f.model.segment(embedding: f.embedding, prompt: prompt)
            // Not the same handle: equality compares the mask's pixels in Rust.
            XCTAssertFalse(again.mask === f.reference[name]!.mask, name)
            XCTAssertEqual(again, f.reference[name]!, "\(name): Segmentation == (scores are never NaN)")
        }
        let (first, second) = (f.reference[f.manifest.cases[0].name]!, f.reference[f.manifest.cases[1].name]!)
        XCTAssertNotEqual(first.mask, second.mask)
        XCTAssertNotEqual(first, second)
        var rescored = first
        rescored.score += 1
        XCTAssertNotEqual(rescored, first, "a different score")
        // A mask rebuilt from its bytes, with any non-zero byte marking the inside, equals it.
        let mask = first.mask
        let ones = Data(mask.bytes().map { $0 == 0 ? 0 : 1 })
        XCTAssertEqual(try SegmentMask(width: mask.width(), height: mask.height(), bytes: ones), mask)
    }

    func testContainsIsTheMasksPixelAndFalseOutsideThePhoto() throws {
        let mask = f.firstCase.segmentation.mask, bytes = [UInt8](mask.bytes())
        let width = Int(mask.width())
        let wrong = bytes.indices.filter { i in
            mask.contains(x: Int32(i % width), y: Int32(i / width)) != (bytes[i] != 0)
        }.count
        XCTAssertEqual(wrong, 0, "pixels where contains(x:y:) is not the mask's byte")
        XCTAssertGreaterThan(mask.area(), 0, "empty reference mask")
        let outside: [(Int32, Int32)] = [(-1, 0), (0, -1), (mask.width(), 0), (0, mask.height())]
        for (x, y) in outside {
            XCTAssertFalse(mask.contains(x: x, y: y), "(\(x), \(y)) is outside the photo")
        }
    }

    func testAnEmbeddingRoundTripsThroughItsBytes() throws {
        let bytes = f.embedding.toBytes()
        XCTAssertGreaterThan(bytes.count, 4_000_000)
        let restored = try ImageEmbedding.fromBytes(bytes: bytes)
        XCTAssertEqual([restored.width(), restored.height()], [f.photoWidth, f.photoHeight])
        XCTAssertEqual(restored.toBytes(), bytes)
        for (name, prompt) in f.prompts {
            XCTAssertTrue(same(try f.model.segment(embedding: restored, prompt: prompt), f.reference[name]!), name)
        }
    }

    func testAnExplicitMaskIndexIsHonoured() throws {
        for index in Int32(0)...3 {
            let prompt = SegmentPrompt(points: [PromptPoint(x: 100, y: 100)], maskIndex: index)
            checkSegmentation(try f.model.segment(embedding: f.embedding, prompt: prompt), prompt, "maskIndex \(index)")
        }
    }

    func testZeroThreadsMeanOnePerCoreAndANegativeCountIsBadOptions() throws {
        let m = try SegmentAnything.fromBytes(encoder: f.encoderBytes, decoder: f.decoderBytes, threads: 0)
        XCTAssertEqual(try m.encodeImage(data: f.photoPNG).toBytes(), f.embedding.toBytes())
        XCTAssertThrowsError(try SegmentAnything.fromBytes(encoder: f.encoderBytes, decoder: f.decoderBytes, threads: -1)) {
            guard case EdgeSamError.BadOptions(let reason) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(reason, "threads must be 0 or more, not -1")
        }
    }

    func testRunBenchmarkReportsEveryStepInItsJSON() throws {
        let json = try runBenchmark(encoderPath: f.encoderPath, decoderPath: f.decoderPath,
                                    imageData: f.photoPNG, runs: 2, points: 2, threads: 1)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], json)
        for step in ["preprocess_ms", "encode_ms", "decode_ms", "predict_ms"] {
            let timing = report[step] as? [String: Any]
            XCTAssertEqual(timing?["runs"] as? Int, 2, "\(step) in \(json)")
        }
        XCTAssertGreaterThan(report["cold_start_ms"] as? Double ?? 0, 0, json)
        XCTAssertEqual(report["threads"] as? Int, 1, json)
        XCTAssertEqual((report["image"] as? [String: Any])?["width"] as? Int, Int(f.photoWidth), json)
    }

    func testRunBenchmarkCountsItsStepsUpToTheTotal() async throws {
        let seen = Locked([StepProgress]())
        _ = try await runBenchmarkAsync(encoderPath: f.encoderPath, decoderPath: f.decoderPath, imageData: f.photoPNG,
                                        runs: 2, points: 2, threads: 1,
                                        progress: ProgressHandler { p in seen.mutate { $0.append(p) } })
        let progress = seen.current
        // The load, the first encode and tap, then four timed steps of a warm-up and 2 runs each.
        let total: Int32 = 3 + 4 * 3
        XCTAssertEqual(progress.map(\.done), Array(0...total), "\(progress)")
        XCTAssertTrue(progress.allSatisfy { $0.total == total }, "\(progress)")
    }

    func testABenchmarkStopsWithCancelledWhenItsTokenIsCancelled() async throws {
        let token = CancellationToken()
        let gate = Gate()
        let (encoder, decoder, png) = (f.encoderPath, f.decoderPath, f.photoPNG)
        // runBenchmark blocks its thread: a thread of its own, held at its first step.
        let call = Task.detached {
            try runBenchmark(encoderPath: encoder, decoderPath: decoder, imageData: png, runs: 2, threads: 1,
                             progress: gate, cancellation: token)
        }
        await gate.reached()
        token.cancel()
        XCTAssertTrue(gate.open(), "the watchdog had to open the gate")
        if case .failure(EdgeSamError.Cancelled) = await call.result {} else {
            XCTFail("a cancelled benchmark did not throw EdgeSamError.Cancelled")
        }
        XCTAssertEqual(gate.arrivalCount, 1, "the benchmark went on after its token was cancelled")
        // The Task form throws CancellationError when its Task is cancelled.
        let held = Gate()
        let task = Task {
            try await runBenchmarkAsync(encoderPath: encoder, decoderPath: decoder, imageData: png, runs: 2,
                                        threads: 1, progress: held)
        }
        await held.reached()
        task.cancel()
        held.open()
        switch await task.result {
        case .failure(is CancellationError): break
        case let other: XCTFail("a cancelled benchmark Task gave \(other), expected CancellationError")
        }
        XCTAssertEqual(held.arrivalCount, 1, "the benchmark went on after its Task was cancelled")
    }
}
