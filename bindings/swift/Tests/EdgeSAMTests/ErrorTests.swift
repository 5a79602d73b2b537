// Errors arrive in Swift typed and readable. The bad-input matrix itself is the Rust suite's
// (core/tests); here one input per error case proves that each kind reaches Swift as its own
// `EdgeSamError` case with a readable reason, and that the objects stay usable afterwards.

import EdgeSAM
import Foundation
import XCTest

final class ErrorTests: FixtureTestCase {
    /// One call per error case that can reach Swift, with the start of its reason. (`Internal` is
    /// a panic caught in Rust; no Swift input can cause one.)
    private func oneOfEachKind() async -> [(name: String, start: String, error: EdgeSamError?)] {
        func caught(_ body: () throws -> Void) -> EdgeSamError? {
            do { try body() } catch let error as EdgeSamError { return error } catch {}
            return nil
        }
        let f = f!
        let cancelled = CancellationToken()
        cancelled.cancel()
        var cancelledError: EdgeSamError?
        do {
            _ = try await f.model.encodeImageAsync(data: f.photoPNG, cancellation: cancelled)
        } catch let error as EdgeSamError {
            cancelledError = error
        } catch {}
        return [
            ("FileNotFound", "cannot read the model file", caught {
                _ = try SegmentAnything.fromFiles(encoderPath: f.file("no-such-encoder.onnx").path, decoderPath: f.decoderPath)
            }),
            ("NotAModel", "the encoder model is not a readable ONNX file", caught {
                _ = try SegmentAnything.fromBytes(encoder: Data(), decoder: f.decoderBytes)
            }),
            ("WrongModel", "the encoder model does not match", caught {
                _ = try SegmentAnything.fromBytes(encoder: f.decoderBytes, decoder: f.encoderBytes)
            }),
            ("BadImage", "bad image: ", caught { _ = try f.model.encodeImage(data: Data("nope".utf8)) }),
            ("BadImage", "bad image: width -1 is negative", caught {
                _ = try f.model.encodePixels(pixels: f.photoRGBA, width: -1, height: f.photoHeight,
                                             rowStride: f.photoWidth * 4, format: .rgba8)
            }),
            ("BadImage", "image of 1x1 pixels is not supported", caught {
                _ = try f.model.encodePixels(pixels: Data([1, 2, 3, 255]), width: 1, height: 1, rowStride: 4, format: .rgba8)
            }),
            ("BadPrompt", "bad prompt: ", caught { _ = try f.model.segment(embedding: f.embedding, prompt: SegmentPrompt()) }),
            ("BadPrompt", "mask index 4 is out of range", caught {
                _ = try f.model.segment(embedding: f.embedding, prompt: SegmentPrompt(points: [PromptPoint(x: 9, y: 3)], maskIndex: 4))
            }),
            ("BadEmbedding", "bad embedding: ", caught { _ = try ImageEmbedding.fromBytes(bytes: Data()) }),
            ("BadMask", "bad mask: a 2x2 mask needs 4 bytes", caught { _ = try SegmentMask(width: 2, height: 2, bytes: Data([255])) }),
            ("BadOptions", "", caught {
                _ = try f.model.everything(embedding: f.embedding, options: EverythingOptions(pointsPerSide: 0), listener: nil)
            }),
            ("Cancelled", "the call was cancelled", cancelledError),
        ]
    }

    func testEachErrorKindArrivesAsItsOwnCaseWithAReadableReason() async throws {
        for (name, start, error) in await oneOfEachKind() {
            guard let error else {
                XCTFail("\(name) '\(start)': no EdgeSamError thrown")
                continue
            }
            XCTAssertEqual(caseName(error), name, "\(error)")
            XCTAssertFalse(error.reason.isEmpty, "\(name) has an empty reason")
            XCTAssertTrue(error.reason.hasPrefix(start), "reason '\(error.reason)' does not start with '\(start)'")
            for prefix in ["bad image: ", "bad prompt: ", "bad embedding: ", "bad mask: "] {
                XCTAssertFalse(error.reason.contains(prefix + prefix), "reason '\(error.reason)' repeats '\(prefix)'")
            }
            XCTAssertEqual(error.failureReason, error.reason)
            let description = try XCTUnwrap(error.errorDescription, name)
            XCTAssertEqual(error.localizedDescription, description)
            // The generated errorDescription quotes the reason once (`.Cancelled` carries none).
            if name != "Cancelled" {
                XCTAssertEqual(description.components(separatedBy: error.reason).count, 2,
                               "errorDescription '\(description)' does not quote '\(error.reason)' once")
            }
        }
    }

    func testAsyncCallsThrowTheSameCases() async {
        let f = f!
        await assertThrowsEdgeSamError("BadImage", "encodeImageAsync of a non-image") {
            try await f.model.encodeImageAsync(data: Data("nope".utf8))
        }
        await assertThrowsEdgeSamError("BadPrompt", "segmentAsync with mask index -1") {
            try await f.model.segmentAsync(embedding: f.embedding, prompt: SegmentPrompt(points: [PromptPoint(x: 9, y: 3)], maskIndex: -1))
        }
        await assertThrowsEdgeSamError("BadOptions", "everything (the convenience) with a grid of 0 points") {
            try await f.model.everything(embedding: f.embedding, options: EverythingOptions(pointsPerSide: 0))
        }
    }

    func testTheObjectsStayUsableAfterErrors() async throws {
        _ = await oneOfEachKind()
        let (prompt, want) = f.firstCase
        XCTAssertTrue(same(try f.model.segment(embedding: f.embedding, prompt: prompt), want))
        XCTAssertEqual(try f.model.encodeImage(data: f.photoPNG).toBytes(), f.embedding.toBytes())
        let mask = want.mask
        assertThrowsEdgeSamError("BadMask", "union with a mask of another size") {
            try mask.union(other: try SegmentMask(width: 2, height: 1, bytes: Data([255, 0])))
        }
        XCTAssertEqual(try mask.union(other: mask), mask)
    }

    /// The Int-taking convenience: negative values reach the library, values beyond Int32 stop in
    /// Swift; both are BadImage naming the value.
    func testTheIntConvenienceRefusesSizesBeyondInt32AsBadImage() async {
        let f = f!
        let negative = await assertThrowsEdgeSamError("BadImage", "encode(pixels:) with a negative stride") {
            try await f.model.encode(pixels: f.photoRGBA, width: Int(f.photoWidth), height: Int(f.photoHeight), rowStride: -1)
        }
        XCTAssertTrue(negative?.reason.contains("-1") ?? false, "\(String(describing: negative))")
        let beyond = Int(Int32.max) + 1
        let tooWide = await assertThrowsEdgeSamError("BadImage", "encode(pixels:) with a width beyond Int32") {
            try await f.model.encode(pixels: f.photoRGBA, width: beyond, height: Int(f.photoHeight), rowStride: Int(f.photoWidth) * 4)
        }
        XCTAssertTrue(tooWide?.reason.contains("\(beyond)") ?? false, "\(String(describing: tooWide))")
    }
}
