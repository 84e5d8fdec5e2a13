import XCTest
import LSRecFormat
import LSRecKernels
@testable import LSRecCore

/// The C row-dot kernels (LSRecKernels) against a float64 loop, on both paths (AVX2 and portable),
/// for every combination of row and column tails, and the property top-K relies on: a row's
/// score has the same bits wherever the row sits in a call.
final class KernelTests: XCTestCase {
    let dims = [1, 3, 7, 8, 9, 16, 31, 63, 64, 65, 130]
    let rowCounts = [0, 1, 7, 8, 9, 17, 64, 131]

    override func tearDown() { lsk_force_portable(0) }

    func randomFloats(_ n: Int, seed: UInt64) -> [Float] {
        var rng = TestModel.Rng(state: seed)
        return (0..<n).map { _ in rng.uniform(2) }
    }

    /// |computed − exact| must stay within a float32 summation bound: d · 2⁻²³ · Σ|x||u| (plus a
    /// tiny absolute floor for rows whose terms cancel).
    func checkAgainstFloat64(_ out: [Float], _ x: [Float], _ u: [Float], rows: Int, d: Int, _ what: String) {
        for i in 0..<rows {
            var exact = 0.0, magnitude = 0.0
            for j in 0..<d {
                exact += Double(x[i * d + j]) * Double(u[j])
                magnitude += abs(Double(x[i * d + j]) * Double(u[j]))
            }
            let bound = Double(d + 2) * 0x1p-23 * magnitude + 1e-30
            XCTAssertLessThanOrEqual(abs(Double(out[i]) - exact), bound, "\(what) row \(i) of \(rows), d \(d)")
        }
    }

    func runBothPaths(_ body: (String) throws -> Void) rethrows {
        for portable in [false, true] {
            lsk_force_portable(portable ? 1 : 0)
            try body(portable ? "portable" : (lsk_vector_path() == 1 ? "avx2" : "portable (no AVX2 here)"))
        }
        lsk_force_portable(0)
    }

    func testFloat32RowsMatchFloat64() {
        runBothPaths { path in
            for d in dims {
                for rows in rowCounts {
                    let x = randomFloats(rows * d, seed: UInt64(d * 1000 + rows))
                    let u = randomFloats(d, seed: UInt64(d))
                    // One spare slot past the end: the kernel must not write beyond `rows`.
                    var out = [Float](repeating: .nan, count: rows + 1)
                    out[rows] = 12345
                    lsk_dot_rows(x, rows, d, u, &out)
                    XCTAssertEqual(out[rows], 12345, "\(path): wrote past the end (rows \(rows), d \(d))")
                    checkAgainstFloat64(out, x, u, rows: rows, d: d, "\(path) f32")
                }
            }
        }
    }

    /// A row scored alone, at the start of an 8-row group, in a group's middle or in the tail
    /// loop gives the same bits: `scores` (whole matrix) and `topK` (blocks) must agree exactly.
    func testRowScoreDoesNotDependOnItsPosition() {
        runBothPaths { path in
            for d in [5, 8, 64, 67] {
                let rows = 27
                let x = randomFloats(rows * d, seed: UInt64(d * 31))
                let u = randomFloats(d, seed: 5)
                var whole = [Float](repeating: 0, count: rows)
                lsk_dot_rows(x, rows, d, u, &whole)
                for start in 0..<rows {
                    for count in [1, 3, 8, 9, rows - start] where start + count <= rows {
                        var part = [Float](repeating: 0, count: count)
                        x.withUnsafeBufferPointer { xp in lsk_dot_rows(xp.baseAddress! + start * d, count, d, u, &part) }
                        for i in 0..<count {
                            XCTAssertEqual(part[i].bitPattern, whole[start + i].bitPattern,
                                           "\(path) d \(d): row \(start + i) scored from \(start) x \(count)")
                        }
                    }
                }
            }
        }
    }

    func testZeroDimensionGivesZeroScores() {
        var out: [Float] = [7, 7, 7]
        lsk_dot_rows([], 3, 0, [], &out)
        XCTAssertEqual(out, [0, 0, 0])
    }

    /// Infinities and NaN propagate as IEEE arithmetic says (the model never holds them, but a
    /// kernel must not hide them).
    func testNonFiniteInputsPropagate() {
        runBothPaths { path in
            var x = [Float](repeating: 1, count: 2 * 8)
            x[3] = .nan
            x[8 + 2] = .infinity
            var out = [Float](repeating: 0, count: 2)
            lsk_dot_rows(x, 2, 8, [Float](repeating: 1, count: 8), &out)
            XCTAssertTrue(out[0].isNaN, path)
            XCTAssertEqual(out[1], .infinity, path)
        }
    }
}
