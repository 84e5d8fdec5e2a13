import Foundation
import XCTest
import LSRecFormat
@testable import LSRecCore

/// Model.newItemVector: the one rule for scoring items the model was not trained on.
final class NewItemTests: XCTestCase {
    static let path = FixtureTests.path

    func testVectorIsProjectionOfTextAndBiasIsMedian() throws {
        let file = try WeightFile(bytes: FileIO.readAll(path: Self.path))
        let model = try Model(file: file)
        let d = model.dim, k = model.config.textDim
        XCTAssertGreaterThan(k, 0, "the fixture must have a text projection")
        let p = try file.floats("item.text_proj")          // [d, k]
        let text = (0..<k).map { Float(sin(Double($0) * 1.7 + 0.3)) }
        let (v, b) = try model.newItemVector(text: text)
        XCTAssertEqual(v.count, d)
        for r in 0..<d {                                    // float64 plain loop
            var s = 0.0
            for j in 0..<k { s += Double(p[r * k + j]) * Double(text[j]) }
            XCTAssertEqual(Double(v[r]), s, accuracy: 1e-5 * max(1, abs(s)))
        }
        let biases = try file.floats("item.bias").sorted()
        let n = biases.count
        let median = n % 2 == 1 ? biases[n / 2] : (biases[n / 2 - 1] + biases[n / 2]) / 2
        XCTAssertEqual(b, median)
        XCTAssertEqual(biases.filter { $0 < b }.count, biases.filter { $0 > b }.count, accuracy: 1)
    }

    func testRefusesWrongLengthAndNonFiniteText() throws {
        let model = try Model(path: Self.path)
        let k = model.config.textDim
        for bad in [[Float](repeating: 0, count: k + 1), [Float](repeating: 0, count: max(0, k - 1)),
                    [Float](repeating: .nan, count: k), [Float](repeating: .infinity, count: k)] {
            XCTAssertThrowsError(try model.newItemVector(text: bad))
        }
    }
}
