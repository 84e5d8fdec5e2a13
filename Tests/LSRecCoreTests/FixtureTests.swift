import XCTest
import LSRecFormat
@testable import LSRecCore

/// Tests/Fixtures/tiny-random.lsrec is the committed model the C example and host tests load.
/// It must stay exactly what the Swift writer produces from TestModel (deterministic writer).
/// Regenerate with `LSREC_WRITE_FIXTURES=1 swift test --filter FixtureTests`.
final class FixtureTests: XCTestCase {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/tiny-random.lsrec").path

    func testFixtureIsWhatTheWriterProduces() throws {
        let fresh = try TestModel.bytes()
        XCTAssertEqual(try TestModel.bytes(), fresh, "the writer is deterministic")
        if ProcessInfo.processInfo.environment["LSREC_WRITE_FIXTURES"] == "1" {
            try FileIO.writeAtomically(fresh, to: Self.path)
        }
        let committed = try FileIO.readAll(path: Self.path)
        XCTAssertEqual(committed, fresh, "Tests/Fixtures/tiny-random.lsrec is stale; regenerate it")
        let model = try Model(path: Self.path)
        XCTAssertEqual(model.nItems, 300)
        XCTAssertEqual(model.itemIDs.first, 1000)
        XCTAssertEqual(model.metadataText("general.architecture"), "lsrec-v1")
    }

    func testEveryFlippedBitInTheFixtureIsRefused() throws {
        let bytes = try FileIO.readAll(path: Self.path)
        XCTAssertGreaterThan(bytes.count, 1000, "fixture missing")
        guard bytes.count > 1000 else { return }
        // Every 11th byte, one bit each (rotating), plus every bit of the header: none may load.
        // (LSRecFormatTests flips every byte of a smaller file; this covers the real fixture.)
        for i in stride(from: 0, to: bytes.count, by: 11) {
            var b = bytes
            b[i] ^= UInt8(1 << (i % 8))
            XCTAssertThrowsError(try Model(bytes: b), "flip at byte \(i) accepted")
        }
        for i in 0..<64 * 8 {
            var b = bytes
            b[i / 8] ^= UInt8(1 << (i % 8))
            XCTAssertThrowsError(try Model(bytes: b), "flip of header bit \(i) accepted")
        }
    }
}
