// initLogging may be called again: later calls change the level. On Linux the records go to
// standard error, which the test reads back.

import EdgeSAM
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class LoggingTests: FixtureTestCase {
    /// What the process writes to file descriptor 2 (where the library logs) while `body` runs.
    private func standardError(during body: () throws -> Void) throws -> String {
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("edgesam-stderr-\(UUID().uuidString)")
        XCTAssertTrue(FileManager.default.createFile(atPath: capture.path, contents: nil))
        defer { try? FileManager.default.removeItem(at: capture) }
        let handle = try FileHandle(forWritingTo: capture)
        let saved = dup(2)
        dup2(handle.fileDescriptor, 2)
        defer {
            dup2(saved, 2)
            close(saved)
            try? handle.close()
        }
        try body()
        return try String(contentsOf: capture, encoding: .utf8)
    }

    func testASecondInitLoggingChangesTheLevel() throws {
        let (prompt, _) = f.firstCase
        defer { initLogging(level: .warn) }  // the rest of the run stays quiet
        let debug = try standardError {
            initLogging(level: .info)
            initLogging(level: .debug)
            _ = try f.model.segment(embedding: f.embedding, prompt: prompt)
        }
        XCTAssertTrue(debug.contains("[edgesam DEBUG]"), "no debug record after initLogging(.debug) twice: '\(debug)'")
        let off = try standardError {
            initLogging(level: .off)
            _ = try f.model.segment(embedding: f.embedding, prompt: prompt)
        }
        XCTAssertFalse(off.contains("[edgesam"), "records after initLogging(.off): '\(off)'")
    }
}
