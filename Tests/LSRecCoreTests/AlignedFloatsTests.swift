import XCTest
import LSRecFormat
@testable import LSRecCore

/// The cache-line aligned matrices (AlignedFloats.swift): aligned, and holding exactly the
/// weights the file has.
final class AlignedFloatsTests: XCTestCase {
    private func address(_ a: AlignedFloats) -> UInt {
        a.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
    }

    func testCopiesValuesToALineBoundary() {
        var rng = TestModel.Rng(state: 3)
        for count in [0, 1, 7, 64, 1000, 40_000] {
            let values = (0..<count).map { _ in rng.uniform(2) }
            // Several at once: malloc would hand out differently aligned blocks among them.
            let copies = (0..<8).map { _ in AlignedFloats(values) }
            for a in copies {
                XCTAssertEqual(address(a) % 64, 0, "count \(count)")
                XCTAssertEqual(a.count, count)
                XCTAssertEqual(Array(a), values)
                a.withUnsafeBufferPointer { XCTAssertEqual(Array($0), values) }
            }
        }
    }

    func testModelMatricesAreAlignedAndEqualTheFile() throws {
        let bytes = try TestModel.bytes(TestModel.Shape(nItems: 37, dim: 24, textDim: 0))
        let file = try WeightFile(bytes: bytes)
        let model = try Model(file: file)
        let matrices: [(String, AlignedFloats)] = [
            ("item.embedding", model.items), ("lstm.w_x", model.lstmWx), ("lstm.w_h", model.lstmWh),
            ("attn.w_v", model.attnWv), ("gate.w", model.gateW), ("out.w_h", model.outW),
        ]
        for (name, a) in matrices {
            XCTAssertEqual(address(a) % 64, 0, name)
            // Without text, the item matrix is the embedding itself.
            XCTAssertEqual(Array(a), try file.floats(name), name)
        }
        XCTAssertEqual(address(model.prepared.attnQK) % 64, 0)
        XCTAssertEqual(model.prepared.attnQK.count, model.dim * model.dim)
    }
}
