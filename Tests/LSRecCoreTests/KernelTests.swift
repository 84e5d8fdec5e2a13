import XCTest
import LSRecFormat
import LSRecKernels
@testable import LSRecCore

/// The C scoring kernel (LSRecKernels) against a float64 loop, on both paths (AVX2 and portable),
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

    /// |computed − exact| must stay within a float32 summation bound: (d + 2) · 2⁻²³ · Σ|x||u| (plus
    /// a tiny absolute floor for rows whose terms cancel; assertNearFloat64Sum).
    func checkAgainstFloat64(_ out: [Float], _ x: [Float], _ u: [Float], rows: Int, d: Int, _ what: String) {
        for i in 0..<rows {
            assertNearFloat64Sum(out[i], count: d, { (Double(x[i * d + $0]), Double(u[$0])) },
                                 "\(what) row \(i) of \(rows), d \(d)")
        }
    }

    func runBothPaths(_ body: (String) throws -> Void) rethrows {
        for portable in [false, true] {
            lsk_force_portable(portable ? 1 : 0)
            try body(portable ? "portable" : (lsk_vector_path() == 1 ? "avx2" : "portable (no AVX2 here)"))
        }
        lsk_force_portable(0)
    }

    /// lsk_lstm_cell (AVX2) gives the bits of the Swift cell it replaces, for every tail of d and
    /// for pre-activations across the exp's range, past its clamps (±87.3, ±88.3; tanh's 40) and at
    /// ±0; NaN stays NaN. Forced portable, the kernel declines and writes nothing.
    func testLSTMCellKernelEqualsTheSwiftCell() {
        var rng = TestModel.Rng(state: 77)
        let scales: [Float] = [0.001, 0.5, 3, 12, 45, 95, 300]
        let specials: [Float] = [0, -0.0, 87.3, -87.3, 88.3, -88.4, 40, -40.5, 0.625, -0.625, 1e-30, .nan]
        func sample() -> Float {
            let r = rng.next() % 16
            if r == 0 { return specials[Int(rng.next() % UInt64(specials.count))] }
            return rng.uniform(1) * scales[Int(rng.next() % UInt64(scales.count))]
        }
        func same(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }
        guard lsk_vector_path() == 1 else { return XCTAssertEqual(lsk_lstm_cell(nil, nil, nil, 0), 0) }
        var checked = 0
        for d in dims + [2, 5, 128, 256] {
            for round in 0..<20 {
                let z = (0..<(4 * d)).map { _ in sample() }, c0 = (0..<d).map { _ in sample() }
                var c1 = c0, h1 = [Float](repeating: 7, count: d), c2 = c0, h2 = h1
                z.withUnsafeBufferPointer { z in
                    XCTAssertEqual(lsk_lstm_cell(z.baseAddress, &c1, &h1, d), 1)
                    lstmCellSwift(z.baseAddress!, &c2, &h2, d)
                }
                for j in 0..<d {
                    XCTAssertTrue(same(c1[j], c2[j]), "d \(d) round \(round) c[\(j)]: \(c1[j]) vs \(c2[j])")
                    XCTAssertTrue(same(h1[j], h2[j]), "d \(d) round \(round) h[\(j)]: \(h1[j]) vs \(h2[j])")
                    if !c2[j].isNaN { checked += 1 }
                }
            }
        }
        XCTAssertGreaterThan(checked, 10_000)
        lsk_force_portable(1)
        var c = [Float](repeating: 1, count: 8), h = c
        let z = [Float](repeating: 0.5, count: 32)
        XCTAssertEqual(lsk_lstm_cell(z, &c, &h, 8), 0)
        XCTAssertEqual(c + h, [Float](repeating: 1, count: 16), "nothing written when declining")
    }

    /// lsk_exp_shift_sum and lsk_sigmoid give the bits of the Swift loops they replace (the
    /// attention's softmax, the gate), for every tail of n and inputs past the exp's clamps.
    func testExpSumAndSigmoidKernelsEqualTheSwiftLoops() {
        guard lsk_vector_path() == 1 else { return XCTAssertEqual(lsk_sigmoid(nil, 0), 0) }
        var rng = TestModel.Rng(state: 5)
        func same(_ a: [Float], _ b: [Float]) -> Bool { zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern } }
        for n in [0, 1, 7, 8, 9, 15, 16, 17, 64, 200, 203] {
            for scale: Float in [0.01, 2, 20, 120] {
                let x = (0..<n).map { _ in rng.uniform(1) * scale }
                let shift = x.max() ?? 0
                var a = x, b = x, total: Float = -1
                XCTAssertEqual(lsk_exp_shift_sum(&a, n, shift, &total), 1)
                let reference = expShiftSumSwift(&b, n, shift: shift)
                XCTAssertTrue(same(a, b), "exp n \(n) scale \(scale)")
                XCTAssertEqual(total.bitPattern, reference.bitPattern, "sum n \(n) scale \(scale): \(total) vs \(reference)")
                var c = x, d = x
                XCTAssertEqual(lsk_sigmoid(&c, n), 1)
                sigmoidInPlaceSwift(&d, n)
                XCTAssertTrue(same(c, d), "sigmoid n \(n) scale \(scale)")
            }
        }
    }

    /// lsk_quantize_int8 gives quantizeSwift's bits: levels, scale and error, for every tail of d,
    /// padding columns, exact halves (rounded away from zero), a zero vector and tiny values.
    func testQuantizeKernelEqualsTheSwiftQuantisation() {
        guard lsk_vector_path() == 1 else { return XCTAssertEqual(lsk_quantize_int8(nil, 0, 0, nil, nil, nil), 0) }
        var rng = TestModel.Rng(state: 91)
        var cases: [[Float]] = []
        for d in dims + [2, 5, 128, 256] {
            for scale: Float in [1e-30, 0.01, 1, 300] { cases.append((0..<d).map { _ in rng.uniform(1) * scale }) }
            // max |u| = 127: the scale is 1, so halves are exact ties (±2.5 → ±3, ±0.5 → ±1).
            cases.append((0..<d).map { j in j == 0 ? 127 : Float(Int(rng.next() % 255) - 127) + (j % 2 == 0 ? 0.5 : -0.5) })
            cases.append([Float](repeating: 0, count: d))
        }
        for u in cases {
            let d = u.count
            for columns in [d, (d + 3) / 4 * 4 + 4] {
                var p1 = [Int8](repeating: 99, count: columns), p2 = p1
                var scale1: Float = -1, err1 = -1.0
                let (scale2, error2) = u.withUnsafeBufferPointer { u -> (Float, Double) in
                    XCTAssertEqual(lsk_quantize_int8(u.baseAddress, d, columns, &p1, &scale1, &err1), 1)
                    return p2.withUnsafeMutableBufferPointer { Model.quantizeSwift(u.baseAddress!, dim: d, into: $0.baseAddress!, columns: columns) }
                }
                XCTAssertEqual(p1, p2, "d \(d) columns \(columns)")
                XCTAssertEqual(scale1.bitPattern, scale2.bitPattern, "d \(d)")
                XCTAssertEqual(err1.squareRoot().bitPattern, error2.bitPattern, "d \(d)")
            }
        }
        // Independently of the Swift code: scale 1, halves away from zero, 8 lanes + a tail of 2.
        let u: [Float] = [127, 2.5, -2.5, 0.5, -0.5, 1.4999999, -126.5, 0.2, -3.5, 3.49]
        var p = [Int8](repeating: 0, count: 12), scale: Float = 0, err2 = 0.0
        XCTAssertEqual(lsk_quantize_int8(u, u.count, 12, &p, &scale, &err2), 1)
        XCTAssertEqual(scale, 1)
        XCTAssertEqual(p, [127, 3, -3, 1, -1, 1, -127, 0, -4, 3, 0, 0])
        XCTAssertEqual(err2, zip(u, p).reduce(0.0) { $0 + pow(Double($1.0) - Double($1.1), 2) }, accuracy: 1e-12)
    }

    func testRowsMatchFloat64AndTheMaximumIsReturned() {
        runBothPaths { path in
            for d in dims {
                for rows in rowCounts {
                    let x = randomFloats(rows * d, seed: UInt64(d * 1000 + rows))
                    let u = randomFloats(d, seed: UInt64(d))
                    // One spare slot past the end: the kernel must not write beyond `rows`.
                    var out = [Float](repeating: .nan, count: rows + 1)
                    out[rows] = 12345
                    let best = lsk_score_rows(x, rows, d, u, nil, &out)
                    XCTAssertEqual(out[rows], 12345, "\(path): wrote past the end (rows \(rows), d \(d))")
                    checkAgainstFloat64(out, x, u, rows: rows, d: d, "\(path)")
                    XCTAssertEqual(best, out.prefix(rows).max() ?? -.infinity, "\(path) max, rows \(rows), d \(d)")
                }
            }
        }
    }

    /// With a bias the result is the unbiased score plus the bias in one rounding (so `scores`,
    /// which once added the bias afterwards, keeps its bits), and the maximum includes it.
    func testBiasIsAddedLast() {
        runBothPaths { path in
            for d in [3, 8, 64, 65] {
                let rows = 19
                let x = randomFloats(rows * d, seed: UInt64(d * 3)), u = randomFloats(d, seed: 17)
                let bias = randomFloats(rows, seed: 23).map { $0 * 10 }
                var plain = [Float](repeating: 0, count: rows), biased = plain
                lsk_score_rows(x, rows, d, u, nil, &plain)
                let best = lsk_score_rows(x, rows, d, u, bias, &biased)
                for i in 0..<rows {
                    XCTAssertEqual(biased[i].bitPattern, (plain[i] + bias[i]).bitPattern, "\(path) d \(d) row \(i)")
                }
                XCTAssertEqual(best, biased.max())
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
                lsk_score_rows(x, rows, d, u, nil, &whole)
                for start in 0..<rows {
                    for count in [1, 3, 8, 9, rows - start] where start + count <= rows {
                        var part = [Float](repeating: 0, count: count)
                        x.withUnsafeBufferPointer { xp in _ = lsk_score_rows(xp.baseAddress! + start * d, count, d, u, nil, &part) }
                        for i in 0..<count {
                            XCTAssertEqual(part[i].bitPattern, whole[start + i].bitPattern,
                                           "\(path) d \(d): row \(start + i) scored from \(start) x \(count)")
                        }
                    }
                }
            }
        }
    }

    /// lsk_score_rows_stream (the rows read one after another) gives lsk_score_rows's bits and
    /// maximum for every width — 64, whose u stays in registers, and the rest — and row count,
    /// with and without a bias, with NaN and infinite rows, and writes nothing past `rows`.
    func testStreamOrderGivesTheSameBits() {
        runBothPaths { path in
            for d in dims + [128, 200] {
                for rows in rowCounts {
                    var x = randomFloats(rows * d, seed: UInt64(d * 7919 + rows))
                    if rows > 9 {
                        x[2 * d + 1] = .nan
                        x[9 * d] = .infinity
                    }
                    let u = randomFloats(d, seed: UInt64(d + 3)), bias = randomFloats(rows, seed: UInt64(rows + 5))
                    for withBias in [false, true] {
                        var want = [Float](repeating: .nan, count: rows + 1), got = want
                        want[rows] = 12345
                        got[rows] = 12345
                        let wantBest = withBias ? lsk_score_rows(x, rows, d, u, bias, &want)
                                                : lsk_score_rows(x, rows, d, u, nil, &want)
                        let gotBest = withBias ? lsk_score_rows_stream(x, rows, d, u, bias, &got)
                                               : lsk_score_rows_stream(x, rows, d, u, nil, &got)
                        let what = "\(path) d \(d) rows \(rows) bias \(withBias)"
                        XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern), what)
                        XCTAssertEqual(gotBest.bitPattern, wantBest.bitPattern, what)
                    }
                }
            }
        }
    }

    func testZeroDimensionGivesTheBiasAndNoRowsGiveMinusInfinity() {
        var out: [Float] = [7, 7, 7]
        XCTAssertEqual(lsk_score_rows([], 3, 0, [], nil, &out), 0)
        XCTAssertEqual(out, [0, 0, 0])
        XCTAssertEqual(lsk_score_rows([], 3, 0, [], [1, -2, 0.5], &out), 1)
        XCTAssertEqual(out, [1, -2, 0.5])
        XCTAssertEqual(lsk_score_rows([], 0, 4, [1, 2, 3, 4], nil, &out), -.infinity)
    }

    /// Infinities and NaN propagate as IEEE arithmetic says (the model never holds them, but a
    /// kernel must not hide them); a NaN score never becomes the block's maximum.
    func testNonFiniteInputsPropagateAndNaNIsNotTheMaximum() {
        runBothPaths { path in
            for rows in [2, 9, 16] {  // the tail loop and the eight-row groups
                var x = [Float](repeating: 1, count: rows * 8)
                x[3] = .nan
                var out = [Float](repeating: 0, count: rows)
                let best = lsk_score_rows(x, rows, 8, [Float](repeating: 1, count: 8), nil, &out)
                XCTAssertTrue(out[0].isNaN, path)
                XCTAssertEqual(best, 8, "\(path) rows \(rows)")
                x[8 + 2] = .infinity
                XCTAssertEqual(lsk_score_rows(x, rows, 8, [Float](repeating: 1, count: 8), nil, &out), .infinity, path)
                XCTAssertEqual(out[1], .infinity, path)
            }
        }
    }

    /// lsk_above against a plain loop: every length around the 32-score steps and a long one, with
    /// and without a bias, thresholds at ±∞, at a present value (ties are not above) and NaN, and
    /// scores holding NaN and infinities. The buffer past the count must not matter, and nothing is
    /// written beyond n.
    func testAboveListsExactlyTheScoresOverTheThreshold() {
        var rng = TestModel.Rng(state: 41)
        runBothPaths { path in
            for n in Array(0...70) + [1023, 2500] {
                var s = (0..<n).map { _ in Float(rng.next() % 9) - 4 }  // ties are common
                let b = (0..<n).map { _ in Float(rng.next() % 3) * 0.5 }
                if n > 5 { s[5] = .nan; s[n - 1] = .infinity; s[n / 2] = -.infinity }
                for bias in [nil, b] as [[Float]?] {
                    let v = (0..<n).map { i in bias.map { s[i] + $0[i] } ?? s[i] }
                    for t in [-Float.infinity, -1, 0, 2.5, .infinity, .nan] {
                        let want = (0..<n).filter { v[$0] > t }.map(UInt32.init)
                        var idx = [UInt32](repeating: 99_999, count: n + 1)
                        let m = s.withUnsafeBufferPointer { sp in
                            idx.withUnsafeMutableBufferPointer { ip in
                                bias.map { bp in lsk_above(sp.baseAddress, bp, n, t, ip.baseAddress) }
                                    ?? lsk_above(sp.baseAddress, nil, n, t, ip.baseAddress)
                            }
                        }
                        XCTAssertEqual(Array(idx.prefix(m)), want, "\(path) n \(n) t \(t) bias \(bias != nil)")
                        XCTAssertEqual(idx[n], 99_999, "\(path): wrote past n = \(n)")
                    }
                }
            }
        }
    }
}
