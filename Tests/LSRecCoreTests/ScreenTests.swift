import XCTest
import LSRecFormat
import LSRecKernels
@testable import LSRecCore

/// The screen (ItemScreen.swift, LSREC_MODEL_SCREEN_ITEMS), both formats: the binary16 kernel
/// against a float64 loop, the int8 kernel against its documented formula bit for bit, their
/// selection against a replay, and screened top-K against the exact path — same ids and same
/// score bits — on models built to make the screen's bound matter (near-duplicate rows below the
/// copy's resolution, exact ties, a dominant bias, large norms).
final class ScreenTests: XCTestCase {
    override func tearDown() {
        lsk_force_portable(0)
        lsk_force_int8_avx2(0)
    }

    /// The int8 kernels this CPU runs, each with what selects it: the portable loop always, the
    /// AVX2 path where AVX2 + FMA + F16C are (forced on a CPU with VNNI, which would take the
    /// AVX-512 path), and the AVX-512 VNNI path where present. `portable` is what splitPass needs.
    func int8Paths() -> [(name: String, portable: Bool, select: () -> Void)] {
        lsk_force_portable(0)
        lsk_force_int8_avx2(0)
        var paths: [(name: String, portable: Bool, select: () -> Void)] = [
            ("portable", true, { lsk_force_int8_avx2(0); lsk_force_portable(1) })
        ]
        if lsk_screen_int8_path() == 1 {
            paths.append(("avx2", false, { lsk_force_portable(0); lsk_force_int8_avx2(1) }))
        }
        if lsk_screen_int8_vnni() == 1 {
            paths.append(("avx512-vnni", false, { lsk_force_portable(0); lsk_force_int8_avx2(0) }))
        }
        return paths
    }

    /// The binary16 kernel's paths: the vector one (the portable loop where F16C is missing) and the
    /// portable one.
    func halfPaths() -> [(name: String, portable: Bool, select: () -> Void)] {
        [("vector", false, { lsk_force_portable(0) }), ("portable", true, { lsk_force_portable(1) })]
    }

    func randomFloats(_ n: Int, seed: UInt64, scale: Float = 2) -> [Float] {
        var rng = TestModel.Rng(state: seed)
        return (0..<n).map { _ in rng.uniform(scale) }
    }

    /// The screening layout of a row-major matrix, as ItemScreen lays it out.
    func interleave(_ x: [Float], rows: Int, d: Int) -> [UInt16] {
        var h = [UInt16](repeating: 0, count: (rows + 7) / 8 * 8 * d)
        for i in 0..<rows { for c in 0..<d { h[(i / 8) * 8 * d + c * 8 + i % 8] = halfBitsFromFloat(x[i * d + c]) } }
        return h
    }

    /// The int8 layout of lsrec_kernels.h, built independently of ItemScreen: bytes (q + 128) and
    /// row scales σ = max|x| / 127, q = round(x / σ).
    func quantizeRows(_ x: [Float], rows: Int, d: Int) -> (bytes: [UInt8], scales: [Float], q: [Int], d4: Int) {
        let d4 = (d + 3) / 4 * 4, blocks = (rows + 7) / 8
        var bytes = [UInt8](repeating: 128, count: max(blocks * 8 * d4, 1)), scales = [Float](repeating: 0, count: blocks * 8)
        var q = [Int](repeating: 0, count: rows * d4)
        for i in 0..<rows {
            let top = (0..<d).reduce(Float(0)) { max($0, abs(x[i * d + $1])) }
            scales[i] = top / 127
            for c in 0..<d {
                let level = scales[i] > 0 ? Int(max(-127, min(127, (x[i * d + c] / scales[i]).rounded()))) : 0
                q[i * d4 + c] = level
                bytes[(i / 8) * 8 * d4 + (c / 4) * 32 + (i % 8) * 4 + c % 4] = UInt8(level + 128)
            }
        }
        return (bytes, scales, q, d4)
    }

    /// u's int8 copy as Model.topKScreened makes it (zero-padded to d4).
    func quantizeUser(_ u: [Float], d4: Int) -> (p: [Int8], scale: Float) {
        let scale = u.reduce(Float(0)) { max($0, abs($1)) } / 127
        let p = (0..<d4).map { c in c < u.count && scale > 0 ? Int8(max(-127, min(127, (u[c] / scale).rounded()))) : 0 }
        return (p, scale)
    }

    /// Every row's approximate score from lsk_screen_select, in row order: k = rows and an
    /// infinite slack keep the cutoff at −∞. `spare` extra slots after `rows` must stay untouched.
    func allScreenScores(_ h: [UInt16], rows: Int, d: Int, u: [Float], bias: [Float]?,
                         spare: Int = 0) -> (idx: [UInt32], scores: [Float], listed: Int) {
        var heap = [Float](repeating: 0, count: max(rows, 1))
        var idx = [UInt32](repeating: 7, count: rows + spare), out = [Float](repeating: 4321, count: rows + spare)
        var cutoff: Float = 0
        let n = lsk_screen_select(h, rows, d, u, bias, rows, .infinity, nil, 0, &heap, &idx, &out, rows, &cutoff)
        return (idx, out, n)
    }

    func testScreenKernelMatchesFloat64OnTheHalfValues() {
        for portable in [false, true] {
            lsk_force_portable(portable ? 1 : 0)
            let path = portable ? "portable" : (lsk_screen_path() == 1 ? "avx2+f16c" : "portable (no F16C here)")
            for d in [1, 3, 8, 16, 17, 64, 65] {
                for rows in [0, 1, 7, 8, 9, 31, 32, 33, 64, 131] {
                    let x = randomFloats(rows * d, seed: UInt64(d * 977 + rows))
                    let u = randomFloats(d, seed: UInt64(d) + 3)
                    let bias = randomFloats(rows, seed: UInt64(rows) + 11)
                    let h = interleave(x, rows: rows, d: d)
                    // One spare slot: nothing is written past `rows`.
                    let (idx, out, n) = allScreenScores(h, rows: rows, d: d, u: u, bias: bias, spare: 1)
                    XCTAssertEqual(n, rows, "\(path) rows \(rows), d \(d)")
                    XCTAssertEqual(idx.prefix(n).map(Int.init), Array(0..<rows), "\(path) rows \(rows), d \(d)")
                    XCTAssertEqual(out[rows], 4321, "\(path): wrote past the end (rows \(rows), d \(d))")
                    XCTAssertEqual(idx[rows], 7, "\(path): wrote past the end (rows \(rows), d \(d))")
                    for i in 0..<rows {
                        assertNearFloat64Sum(out[i], start: bias[i], count: d,
                                             { (Double(floatFromHalfBits(halfBitsFromFloat(x[i * d + $0]))), Double(u[$0])) },
                                             "\(path) row \(i) of \(rows), d \(d)")
                    }
                }
            }
        }
    }

    /// The int8 kernel, on every path this CPU has, against the formula of lsrec_kernels.h bit for
    /// bit: the exact integer dot product, one multiply of the scales, one fused multiply-add of
    /// the bias.
    func testInt8ScreenKernelMatchesItsFormula() {
        for (path, _, select) in int8Paths() {
            select()
            // 8: one pair of column groups per 512-bit load; 17, 65: pairs and one group left;
            // 260: the most pairs held on the stack; 264: one pair more (the 256-bit loop).
            for d in [1, 3, 4, 8, 17, 64, 65, 260, 264] {
                for rows in [0, 1, 7, 8, 9, 31, 32, 33, 64, 131] {
                    let x = randomFloats(rows * d, seed: UInt64(d * 977 + rows), scale: 3)
                    var u = randomFloats(d, seed: UInt64(d) + 3)
                    if d == 3 { u = [0, 0, 0] }  // a zero user vector: scale 0, every dot product 0
                    let bias = randomFloats(rows, seed: UInt64(rows) + 11)
                    let (bytes, scales, q, d4) = quantizeRows(x, rows: rows, d: d)
                    let (p, us) = quantizeUser(u, d4: d4)
                    for withBias in [true, false] {
                        var heap = [Float](repeating: 0, count: max(rows, 1)), cutoff: Float = 0
                        var idx = [UInt32](repeating: 7, count: rows + 1), out = [Float](repeating: 4321, count: rows + 1)
                        let n = lsk_screen_select_int8(bytes, scales, rows, d4, p, us, withBias ? bias : nil, rows, .infinity,
                                                       nil, 0, &heap, &idx, &out, rows, &cutoff)
                        XCTAssertEqual(n, rows, "\(path) rows \(rows), d \(d)")
                        XCTAssertEqual(idx.prefix(n).map(Int.init), Array(0..<rows), "\(path) rows \(rows), d \(d)")
                        XCTAssertEqual(out[rows], 4321, "\(path): wrote past the end (rows \(rows), d \(d))")
                        for i in 0..<rows {
                            let dot = (0..<d4).reduce(0) { $0 + q[i * d4 + $1] * Int(p[$1]) }
                            let want = (withBias ? bias[i] : 0).addingProduct(Float(dot), us * scales[i])
                            XCTAssertEqual(out[i].bitPattern, want.bitPattern, "\(path) row \(i) of \(rows), d \(d), bias \(withBias)")
                        }
                    }
                }
            }
        }
    }

    /// The int8 kernels at the ends of their ranges: every stored value ±127 and user bytes of
    /// −128, −127 and 127 (the largest products the AVX2 path's 16-bit pair sums hold), against
    /// the formula bit for bit on every path.
    func testInt8ScreenKernelAtTheExtremes() {
        let rows = 41, d = 64
        let x = (0..<(rows * d)).map { i -> Float in (i / d + i % d) % 3 == 0 ? -1 : 1 }
        let (bytes, scales, q, d4) = quantizeRows(x, rows: rows, d: d)
        XCTAssertEqual(Set(q), [-127, 127])
        let p: [Int8] = (0..<d4).map { [-128, -127, 127, -128][$0 % 4] }
        let us: Float = 0.01
        for (path, _, select) in int8Paths() {
            select()
            var heap = [Float](repeating: 0, count: rows), cutoff: Float = 0
            var idx = [UInt32](repeating: 0, count: rows), out = [Float](repeating: 0, count: rows)
            XCTAssertEqual(lsk_screen_select_int8(bytes, scales, rows, d4, p, us, nil, rows, .infinity, nil, 0, &heap,
                                                  &idx, &out, rows, &cutoff), rows, path)
            for i in 0..<rows {
                let dot = (0..<d4).reduce(0) { $0 + q[i * d4 + $1] * Int(p[$1]) }
                XCTAssertEqual(out[i].bitPattern, Float(0).addingProduct(Float(dot), us * scales[i]).bitPattern,
                               "\(path) row \(i)")
            }
        }
    }

    /// ItemScreen's int8 copy is the documented layout (the test's own quantizer), and its bound
    /// holds: for random user vectors, |exact − approximate| ≤ the slack, which is not loose by
    /// orders of magnitude (the worst row comes within 20× of it).
    func testInt8ScreenLayoutAndBound() throws {
        guard lsk_screen_int8_path() == 1 else { throw XCTSkip("no int8 vector path (AVX2 + FMA + F16C) on this CPU") }
        for (rows, d) in [(9, 5), (131, 64), (40, 17)] {
            let x = randomFloats(rows * d, seed: UInt64(rows * d), scale: 2)
            let bias = randomFloats(rows, seed: 5)
            let screen = try XCTUnwrap(ItemScreen(items: x, bias: bias, rows: rows, dim: d, format: .int8))
            let (bytes, scales, q, d4) = quantizeRows(x, rows: rows, d: d)
            XCTAssertEqual(screen.columns, d4)
            XCTAssertEqual(Array(UnsafeBufferPointer(start: screen.quads, count: bytes.count)), bytes)
            XCTAssertEqual(Array(UnsafeBufferPointer(start: screen.rowScales, count: rows)), Array(scales.prefix(rows)))
            for seed in 0..<20 {
                let u = randomFloats(d, seed: UInt64(100 + seed), scale: Float(seed + 1))
                let (p, us) = quantizeUser(u, d4: d4)
                var un = 0.0, du = 0.0
                for c in 0..<d {
                    un += Double(u[c]) * Double(u[c])
                    du += pow(Double(u[c]) - Double(us) * Double(p[c]), 2)
                }
                let slack = screen.slack(userNorm: un.squareRoot(), quantError: du.squareRoot())
                var worst = 0.0
                for i in 0..<rows {
                    var exact = Double(bias[i])
                    for c in 0..<d { exact += Double(x[i * d + c]) * Double(u[c]) }
                    let dot = (0..<d4).reduce(0) { $0 + q[i * d4 + $1] * Int(p[$1]) }
                    let approx = Double(bias[i].addingProduct(Float(dot), us * scales[i]))
                    XCTAssertLessThanOrEqual(abs(exact - approx), slack, "rows \(rows) d \(d) row \(i) seed \(seed)")
                    worst = max(worst, abs(exact - approx))
                }
                XCTAssertGreaterThan(worst * 20, slack, "rows \(rows) d \(d) seed \(seed)")
            }
        }
    }

    /// The selection lsk_screen_select documents, replayed in Swift on the kernel's own per-row
    /// scores: the k best so far (ties count), the cutoff = largest float ≤ k-th best − slack
    /// (rounded in Double), rows listed when at or above the cutoff in force, excluded rows
    /// skipped, compaction when `cap` is full, nil when even that does not make room.
    func referenceSelect(_ all: [Float], k: Int, slack: Double, excluded: Set<Int>,
                         cap: Int) -> (listed: [Int], cutoff: Float)? {
        func below(_ t: Float) -> Float {
            let c = Double(t) - slack
            var f = Float(c)
            if Double(f) > c { f = f.nextDown }
            return f
        }
        if k == 0 { return ([], .infinity) }  // nothing can be selected
        var best: [Float] = [], cutoff = -Float.infinity, listed: [Int] = []
        for (i, a) in all.enumerated() where a >= cutoff && !excluded.contains(i) {
            if listed.count == cap {
                listed.removeAll { all[$0] < cutoff }
                if listed.count == cap { return nil }
            }
            listed.append(i)
            if best.count < k {
                best.append(a)
                if best.count == k { cutoff = below(best.min()!) }
            } else if a > best.min()! {
                best[best.firstIndex(of: best.min()!)!] = a
                cutoff = below(best.min()!)
            }
        }
        return (listed, cutoff)
    }

    /// True when the selection takes its scan-first path (k ≤ 16, a vector path here; the test
    /// copies all stay in cache).
    func splitPass(int8: Bool, portable: Bool, k: Int) -> Bool {
        !portable && (int8 ? lsk_screen_int8_path() : lsk_screen_path()) == 1 && k >= 1 && k <= 16
    }

    /// lsk_screen_select and lsk_screen_select_int8 against the reference, on both paths: the
    /// listed rows (those at or above the final cutoff), their score bits and the final cutoff
    /// agree exactly, over k, slack, exclusions and a `cap` small enough to make it compact and to
    /// overflow (SIZE_MAX only when the rows listed on the way did not fit); tied scores included.
    func testScreenSelectMatchesTheReferenceSelection() {
        typealias Select = (_ k: Int, _ slack: Double, _ slots: UnsafePointer<Int32>?, _ mask: Int,
                            _ heap: inout [Float], _ idx: inout [UInt32], _ sc: inout [Float], _ cap: Int,
                            _ cutoff: inout Float) -> Int
        for int8 in [false, true] {
            for (path, portable, select) in int8 ? int8Paths() : halfPaths() {
                select()
                for d in [1, 8, 17, 64] {
                    for rows in [0, 1, 7, 8, 31, 32, 33, 128, 131] {
                        var x = randomFloats(rows * d, seed: UInt64(d * 31 + rows))
                        if rows > 20 { for c in 0..<d { x[12 * d + c] = x[3 * d + c]; x[19 * d + c] = x[3 * d + c] } }
                        let u = randomFloats(d, seed: 4)
                        let bias = randomFloats(rows, seed: 8).map { rows > 20 ? $0 * 0.1 : $0 }
                        var b = bias
                        if rows > 20 { b[12] = b[3]; b[19] = b[3] }  // rows 3, 12, 19 tie exactly
                        let h = interleave(x, rows: rows, d: d)
                        let (q8, scales, _, d4) = quantizeRows(x, rows: rows, d: d)
                        let (p, us) = quantizeUser(u, d4: d4)
                        let select: Select = { k, slack, slots, mask, heap, idx, sc, cap, cutoff in
                            int8 ? lsk_screen_select_int8(q8, scales, rows, d4, p, us, b, k, slack, slots, mask, &heap, &idx, &sc,
                                                          cap, &cutoff)
                                 : lsk_screen_select(h, rows, d, u, b, k, slack, slots, mask, &heap, &idx, &sc, cap, &cutoff)
                        }
                        var heapAll = [Float](repeating: 0, count: max(rows, 1)), idxAll = [UInt32](repeating: 0, count: max(rows, 1))
                        var all = [Float](repeating: 0, count: max(rows, 1)), cutAll: Float = 0
                        XCTAssertEqual(select(rows, .infinity, nil, 0, &heapAll, &idxAll, &all, rows, &cutAll), rows)
                        let scores = Array(all.prefix(rows))
                        for k in [0, 1, 3, 10, rows] {
                            for slack in [0, 0.05, 1.0] {
                                for excludedRows in [Set<Int>(), Set((0..<rows).filter { $0 % 3 == 0 })] {
                                    var set = ExclusionSet(capacity: excludedRows.count)
                                    for r in excludedRows { set.insert(r) }
                                    for cap in [rows, k + 2, 1] {
                                        let what = "int8 \(int8) \(path) d \(d) rows \(rows) k \(k) slack \(slack) excl \(excludedRows.count) cap \(cap)"
                                        var heap = [Float](repeating: 0, count: max(k, 1))
                                        var idx = [UInt32](repeating: 0, count: max(cap, 1)), sc = [Float](repeating: 0, count: max(cap, 1))
                                        var cutoff: Float = 0
                                        let got = excludedRows.isEmpty
                                            ? select(k, slack, nil, 0, &heap, &idx, &sc, cap, &cutoff)
                                            : set.withSlots { select(k, slack, $0, $1, &heap, &idx, &sc, cap, &cutoff) }
                                        // What is returned: the rows at or above the final cutoff
                                        // (the reference run without a cap never overflows).
                                        let all = referenceSelect(scores, k: k, slack: slack, excluded: excludedRows, cap: rows)!
                                        let final = all.listed.filter { scores[$0] >= all.cutoff }
                                        let capped = referenceSelect(scores, k: k, slack: slack, excluded: excludedRows, cap: cap)
                                        if capped != nil && final.count <= cap {
                                            XCTAssertNotEqual(got, -1, "\(what): SIZE_MAX although the rows fit")
                                        }
                                        if splitPass(int8: int8, portable: portable, k: k) {
                                            // One chunk: SIZE_MAX exactly when the final rows do not fit.
                                            XCTAssertEqual(got == -1, final.count > cap, "\(what): SIZE_MAX iff the rows do not fit")
                                        }
                                        guard got != -1 else {
                                            XCTAssertTrue(capped == nil || final.count > cap, "\(what): SIZE_MAX")
                                            continue
                                        }
                                        XCTAssertEqual(got, final.count, what)
                                        guard got == final.count else { continue }
                                        XCTAssertEqual(idx.prefix(got).map(Int.init), final, what)
                                        XCTAssertEqual(sc.prefix(got).map(\.bitPattern), final.map { scores[$0].bitPattern }, what)
                                        XCTAssertEqual(cutoff.bitPattern, all.cutoff.bitPattern, what)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// lsk_screen_select_int8 and lsk_screen_select over more rows than one chunk of their
    /// scan-first path (4,096): the k best carried from chunk to chunk, rows listed under an
    /// earlier cutoff dropped, excluded rows in every chunk; against the reference on both paths.
    /// With the bias rising with the row the cutoff climbs in every chunk; with a random bias the
    /// best rows come early.
    func testScreenSelectAcrossChunks() {
        let rows = 2 * 4096 + 45, d = 24
        var x = randomFloats(rows * d, seed: 77)
        for c in 0..<d { x[5000 * d + c] = x[4100 * d + c]; x[8200 * d + c] = x[4100 * d + c] }
        let u = randomFloats(d, seed: 78)
        let (q8, scales, _, d4) = quantizeRows(x, rows: rows, d: d)
        let (p, us) = quantizeUser(u, d4: d4)
        let h = interleave(x, rows: rows, d: d)
        typealias Select = (_ k: Int, _ slack: Double, _ bias: [Float], _ slots: UnsafePointer<Int32>?, _ mask: Int,
                            _ heap: inout [Float], _ idx: inout [UInt32], _ sc: inout [Float], _ cap: Int,
                            _ cutoff: inout Float) -> Int
        let excludedRows = Set((0..<rows).filter { $0 % 7 == 0 || $0 < 100 || ($0 >= 4096 && $0 < 4200) })
        var set = ExclusionSet(capacity: excludedRows.count)
        for r in excludedRows { set.insert(r) }
        for int8 in [true, false] {
            for rising in [false, true] {
                var bias = randomFloats(rows, seed: 79)
                if rising { for i in 0..<rows { bias[i] = bias[i] * 0.2 + Float(i) * 0.0005 } }
                bias[5000] = bias[4100]; bias[8200] = bias[4100]
                let select: Select = { k, slack, b, slots, mask, heap, idx, sc, cap, cutoff in
                    int8 ? lsk_screen_select_int8(q8, scales, rows, d4, p, us, b, k, slack, slots, mask, &heap, &idx, &sc,
                                                  cap, &cutoff)
                         : lsk_screen_select(h, rows, d, u, b, k, slack, slots, mask, &heap, &idx, &sc, cap, &cutoff)
                }
                for (path, _, choose) in int8 ? int8Paths() : halfPaths() {
                    choose()
                    var heapAll = [Float](repeating: 0, count: rows), idxAll = [UInt32](repeating: 0, count: rows)
                    var scores = [Float](repeating: 0, count: rows), cutAll: Float = 0
                    XCTAssertEqual(select(rows, .infinity, bias, nil, 0, &heapAll, &idxAll, &scores, rows, &cutAll), rows)
                    for k in [1, 10, 16, 17] {
                        for slack in [0.0, 0.3] {
                            for excluded in [Set<Int>(), excludedRows] {
                                for cap in [rows, 64] {
                                    let what = "int8 \(int8) rising \(rising) \(path) k \(k) slack \(slack) "
                                        + "excl \(excluded.count) cap \(cap)"
                                    let all = referenceSelect(scores, k: k, slack: slack, excluded: excluded, cap: rows)!
                                    let final = all.listed.filter { scores[$0] >= all.cutoff }
                                    var heap = [Float](repeating: 0, count: k), idx = [UInt32](repeating: 0, count: cap)
                                    var sc = [Float](repeating: 0, count: cap), cutoff: Float = 0
                                    let got = excluded.isEmpty
                                        ? select(k, slack, bias, nil, 0, &heap, &idx, &sc, cap, &cutoff)
                                        : set.withSlots { select(k, slack, bias, $0, $1, &heap, &idx, &sc, cap, &cutoff) }
                                    if final.count <= cap && all.listed.count <= cap {
                                        XCTAssertNotEqual(got, -1, "\(what): SIZE_MAX although every listing fits")
                                    }
                                    guard got != -1 else {
                                        XCTAssertGreaterThan(all.listed.count, cap, "\(what): SIZE_MAX")
                                        continue
                                    }
                                    XCTAssertEqual(idx.prefix(got).map(Int.init), final, what)
                                    XCTAssertEqual(sc.prefix(got).map(\.bitPattern), final.map { scores[$0].bitPattern }, what)
                                    XCTAssertEqual(cutoff.bitPattern, all.cutoff.bitPattern, what)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// lsk_gemv on the left columns of a wider matrix, and accumulating in place (add == y).
    func testGemvWithLeadingDimensionAndInPlaceAdd() {
        for portable in [false, true] {
            lsk_force_portable(portable ? 1 : 0)
            for (rows, cols, lda) in [(5, 3, 7), (16, 16, 20), (64, 128, 144), (9, 17, 17)] {
                let a = randomFloats(rows * lda, seed: UInt64(rows * lda)), x = randomFloats(cols, seed: 9)
                let start = randomFloats(rows, seed: 13)
                var y = start
                lsk_gemv(a, lda, rows, cols, x, y, &y)
                for i in 0..<rows {
                    assertNearFloat64Sum(y[i], start: start[i], count: cols, { (Double(a[i * lda + $0]), Double(x[$0])) },
                                         "portable \(portable) \(rows)x\(cols) lda \(lda) row \(i)")
                }
            }
        }
    }

    /// The row-pointer kernels of the attention: scores bit-identical to lsk_score_rows on the
    /// same rows laid out contiguously, weighted sums within a float32 bound of float64 (and, on
    /// the vector path, bit-identical to fused multiply-adds in row order).
    func testGatheredRowKernels() {
        for portable in [false, true] {
            lsk_force_portable(portable ? 1 : 0)
            for d in [1, 7, 8, 16, 33, 64, 70, 100, 136] {
                for m in [1, 5, 8, 9, 23, 200] {
                    let pool = randomFloats(50 * d, seed: UInt64(d * 7 + m))
                    let picks = (0..<m).map { ($0 * 17 + 3) % 50 }
                    let contiguous = picks.flatMap { pool[$0 * d ..< ($0 + 1) * d] }
                    let u = randomFloats(d, seed: 99), w = randomFloats(m, seed: 5)
                    var want = [Float](repeating: 0, count: m), got = want, sum = [Float](repeating: 0, count: d)
                    let wantBest = lsk_score_rows(contiguous, m, d, u, nil, &want)
                    pool.withUnsafeBufferPointer { p in
                        let rows: [UnsafePointer<Float>?] = picks.map { p.baseAddress! + $0 * d }
                        XCTAssertEqual(lsk_score_gathered(rows, m, d, u, &got), wantBest)
                        lsk_sum_gathered(rows, m, d, w, &sum)
                    }
                    XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern), "portable \(portable) d \(d) m \(m)")
                    for c in 0..<d {
                        if !portable && lsk_vector_path() == 1 {
                            // The vector path: one fused multiply-add per row, rows in order, whatever
                            // the column blocking (64, 32, 8 or 1 columns at a time).
                            var fused: Float = 0
                            for r in 0..<m { fused = fused.addingProduct(w[r], pool[picks[r] * d + c]) }
                            XCTAssertEqual(sum[c].bitPattern, fused.bitPattern, "d \(d) m \(m) column \(c)")
                        }
                        assertNearFloat64Sum(sum[c], count: m, { (Double(w[$0]), Double(pool[picks[$0] * d + c])) },
                                             "portable \(portable) d \(d) m \(m) column \(c)")
                    }
                }
            }
        }
    }

    /// Screened and exact top-K of the same weights for many users, k and exclusions.
    func assertSameRankings(embedding: [Float]?, bias: [Float]? = nil, shape: TestModel.Shape,
                            users: Int = 12, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let bytes = try TestModel.bytes(shape, embedding: embedding, bias: bias)
        let exact = try Model(bytes: bytes)
        XCTAssertFalse(exact.screensItems)
        for format in [ItemScreen.Format.int8, .half] {
            let screened = try Model(bytes: bytes, options: Self.options(format))
            XCTAssertEqual(screened.screensItems, Self.available(format), "\(what) \(format)", file: file, line: line)
            try assertSameRankings(exact, screened, shape: shape, users: users, "\(what) \(format)", file: file, line: line)
        }
        // The default picks the fastest format this CPU has.
        XCTAssertEqual(try Model(bytes: bytes, options: ModelOptions(screenItems: true)).screen?.format,
                       ItemScreen.bestFormat(dim: shape.dim))
    }

    static func options(_ format: ItemScreen.Format) -> ModelOptions {
        var o = ModelOptions(screenItems: true)
        o.screenFormat = format
        return o
    }

    static func available(_ format: ItemScreen.Format) -> Bool {
        format == .int8 ? lsk_screen_int8_path() == 1 : lsk_screen_path() == 1
    }

    func assertSameRankings(_ exact: Model, _ screened: Model, shape: TestModel.Shape, users: Int, _ what: String,
                            file: StaticString, line: UInt) throws {
        for u in 0..<users {
            var s = exact.newState()
            let events = TestModel.events(count: 3 + 7 * u, nItems: shape.nItems, seed: UInt64(100 + u))
            for e in events { try exact.update(&s, itemID: e.id, timestamp: e.time) }
            for k in [1, 10, shape.nItems, shape.nItems + 5] {
                for excludeSeen in [false, true] {
                    let extra = u % 3 == 0 ? [0, 5, shape.nItems - 1] : []
                    let want = try exact.topK(s, now: .lastEvent, k: k, excludeSeen: excludeSeen, exclude: extra)
                    let got = try screened.topK(s, now: .lastEvent, k: k, excludeSeen: excludeSeen, exclude: extra)
                    XCTAssertEqual(got.map(\.index), want.map(\.index), "\(what) user \(u) k \(k)", file: file, line: line)
                    XCTAssertEqual(got.map(\.score.bitPattern), want.map(\.score.bitPattern), "\(what) user \(u) k \(k)",
                                   file: file, line: line)
                }
            }
        }
    }

    /// On every int8 vector path this CPU has (the AVX2 one forced where VNNI is present).
    func testScreenedTopKIsExactOnRandomModels() throws {
        let vector = int8Paths().filter { !$0.portable }
        for (path, _, select) in vector.isEmpty ? [("no int8 vector path", true, {})] : vector {
            select()
            for (n, d) in [(300, 16), (1000, 64), (77, 17), (9, 8)] {
                var shape = TestModel.Shape()
                shape.nItems = n
                shape.dim = d
                try assertSameRankings(embedding: nil, shape: shape, "random \(n)x\(d), int8 kernel \(path)")
            }
        }
    }

    /// Rows that differ by less than binary16 can tell apart, exact duplicates (ties broken by
    /// index), and items whose bias decides the ranking: the exact pass must sort them out.
    func testScreenedTopKIsExactOnAdversarialModels() throws {
        var shape = TestModel.Shape()
        shape.nItems = 400
        shape.dim = 16
        let d = shape.dim, n = shape.nItems
        let base = randomFloats(d, seed: 77, scale: 0.5)
        var rng = TestModel.Rng(state: 5)
        // Near-duplicates, no bias: the same row plus perturbations about binary16's step.
        let near = (0..<n).flatMap { _ in base.map { $0 + rng.uniform(2e-4) } }
        let zero = [Float](repeating: 0, count: n)
        try assertSameRankings(embedding: near, bias: zero, shape: shape, "near-duplicates")
        // Perturbations far below binary16's step: every approximate score ties.
        let tiny = (0..<n).flatMap { _ in base.map { $0 + rng.uniform(1e-6) } }
        try assertSameRankings(embedding: tiny, bias: zero, shape: shape, "sub-step duplicates")
        // Exact duplicates in groups of five, tiny bias differences between groups.
        let groups = (0..<n).flatMap { i in randomFloats(d, seed: UInt64(i / 5), scale: 0.5) }
        let groupBias = (0..<n).map { Float($0 / 5 % 3) * 1e-7 }
        try assertSameRankings(embedding: groups, bias: groupBias, shape: shape, "duplicates")
        // Large norms (a large slack) and a bias that spans a wide range.
        let large = randomFloats(n * d, seed: 91, scale: 300)
        let spread = (0..<n).map { Float($0 % 17) * 1000 }
        try assertSameRankings(embedding: large, bias: spread, shape: shape, "large norms")
    }

    /// Rounding to binary16 reorders two items: a = (1 + 0.49 s, 1 + 0.49 s) rounds to (1, 1),
    /// b = (1 + 0.51 s, 1 − 0.1 s) rounds to (1 + s, 1) (s = 2⁻¹⁰, binary16's step above 1), so
    /// for u = (1, 1, 0, …) b's approximate score is higher but a's exact score is. Only the
    /// slack makes the screen rescore a (with the slack set to 0 this test fails).
    func testTheSlackCatchesItemsThatRoundingReorders() throws {
        var shape = TestModel.Shape()
        shape.nItems = 24
        shape.dim = 8
        shape.textDim = 0
        let step: Float = 0x1p-10
        var e = [Float](repeating: 0, count: shape.nItems * shape.dim)
        for i in 0..<shape.nItems {
            let jitter = Float(i) * 0x1p-20  // distinct exact scores, same rounding
            if i % 2 == 0 {
                e[i * 8] = 1 + 0.49 * step + jitter
                e[i * 8 + 1] = 1 + 0.49 * step
            } else {
                e[i * 8] = 1 + 0.51 * step + jitter
                e[i * 8 + 1] = 1 - 0.1 * step
            }
        }
        let bytes = try TestModel.bytes(shape, embedding: e, bias: [Float](repeating: 0, count: shape.nItems))
        let exact = try Model(bytes: bytes)
        let screened = try Model(bytes: bytes, options: Self.options(.half))
        guard let screen = screened.screen else { throw XCTSkip("no F16C on this CPU") }
        var u = [Float](repeating: 0, count: 8)
        u[0] = 1
        u[1] = 1
        assertEvenItemWins(exact, screened, screen, u)
    }

    /// The screened ranking of the 24 items of the two rounding tests equals the exact one, whose
    /// best is the even item with the largest jitter (22), for k within and across the pairs.
    func assertEvenItemWins(_ exact: Model, _ screened: Model, _ screen: ItemScreen, _ u: [Float],
                            file: StaticString = #filePath, line: UInt = #line) {
        for k in [1, 3, 12, 13, 24] {
            let want = exact.topK(userVector: u, k: k, excluded: nil)
            XCTAssertEqual(want.first?.index, 22, "the even item with the largest jitter ranks first", file: file, line: line)
            let got = screened.topKScreened(screen, userVector: u, k: k, excluded: nil)
            XCTAssertEqual(got?.map(\.index), want.map(\.index), "k \(k)", file: file, line: line)
            XCTAssertEqual(got?.map(\.score.bitPattern), want.map(\.score.bitPattern), "k \(k)", file: file, line: line)
        }
    }

    /// The int8 analogue: with u = (1, 1, 1, 0, …) (stored exactly, τ = 1/127), a = (1, 63.49/127,
    /// 0) stores q = (127, 63, 0) and b = (1, 63.51/127, −0.1/127) stores (127, 64, 0), so b's
    /// approximate score is higher but a's exact score is (by 0.08/127). Only the bound makes the
    /// screen rescore a (with the slack set to 0 this test fails).
    func testTheInt8BoundCatchesItemsThatRoundingReorders() throws {
        guard lsk_screen_int8_path() == 1 else { throw XCTSkip("no int8 vector path (AVX2 + FMA + F16C) on this CPU") }
        var shape = TestModel.Shape()
        shape.nItems = 24
        shape.dim = 8
        shape.textDim = 0
        var e = [Float](repeating: 0, count: shape.nItems * shape.dim)
        for i in 0..<shape.nItems {
            let jitter = Float(i) * 0x1p-20  // distinct exact scores, same stored values
            e[i * 8] = 1 + jitter
            e[i * 8 + 1] = (i % 2 == 0 ? 63.49 : 63.51) / 127
            e[i * 8 + 2] = i % 2 == 0 ? 0 : -0.1 / 127
        }
        let bytes = try TestModel.bytes(shape, embedding: e, bias: [Float](repeating: 0, count: shape.nItems))
        let exact = try Model(bytes: bytes)
        let screened = try Model(bytes: bytes, options: Self.options(.int8))
        let screen = try XCTUnwrap(screened.screen)
        var u = [Float](repeating: 0, count: 8)
        u[0] = 1
        u[1] = 1
        u[2] = 1
        assertEvenItemWins(exact, screened, screen, u)
    }

    /// k far beyond the catalogue (a C caller's size_t): no arithmetic overflow, every item, exact.
    func testHugeKIsTheWholeRanking() throws {
        let bytes = try TestModel.bytes()
        let exact = try Model(bytes: bytes)
        var s = exact.newState()
        for e in TestModel.events(count: 25) { try exact.update(&s, itemID: e.id, timestamp: e.time) }
        for format in [ItemScreen.Format.int8, .half] {
            let screened = try Model(bytes: bytes, options: Self.options(format))
            for k in [Int.max, Int.max / 2, Int.max / 16] {
                let want = try exact.topK(s, now: .lastEvent, k: k)
                let got = try screened.topK(s, now: .lastEvent, k: k)
                XCTAssertEqual(got.count, exact.nItems)
                XCTAssertEqual(got, want, "\(format) k \(k)")
            }
        }
    }

    /// The default format: int8 wherever it has a vector path, binary16 past int8's d <= 1040
    /// (where the integer dot product stops being exact in float32), none without AVX2 + F16C.
    func testDefaultFormatByWidth() throws {
        let items = randomFloats(3 * 1041, seed: 6, scale: 0.1), bias: [Float] = [0, 1, 2]
        let int8 = lsk_screen_int8_path() == 1, half = lsk_screen_path() == 1
        XCTAssertEqual(ItemScreen.bestFormat(dim: 1040), int8 ? .int8 : (half ? .half : nil))
        XCTAssertEqual(ItemScreen.bestFormat(dim: 1041), half ? .half : nil)
        XCTAssertEqual(ItemScreen(items: Array(items.prefix(3 * 1040)), bias: bias, rows: 3, dim: 1040)?.format,
                       ItemScreen.bestFormat(dim: 1040))
        XCTAssertEqual(ItemScreen(items: items, bias: bias, rows: 3, dim: 1041)?.format, ItemScreen.bestFormat(dim: 1041))
        XCTAssertNil(ItemScreen(items: items, bias: bias, rows: 3, dim: 1041, format: .int8))
        lsk_force_portable(1)
        XCTAssertNil(ItemScreen.bestFormat(dim: 64))
        XCTAssertNil(ItemScreen(items: Array(items.prefix(3 * 64)), bias: bias, rows: 3, dim: 64))
    }

    /// A value beyond binary16's range: no binary16 screen (no bound); the int8 copy has no range
    /// limit and is built where the CPU has it. Top-K stays exact either way.
    func testNoBinary16ScreenWhenAValueDoesNotFitIt() throws {
        var shape = TestModel.Shape()
        shape.textDim = 0
        var e = randomFloats(shape.nItems * shape.dim, seed: 3, scale: 0.5)
        e[17] = 70000
        let bytes = try TestModel.bytes(shape, embedding: e)
        let half = try Model(bytes: bytes, options: Self.options(.half))
        XCTAssertFalse(half.screensItems)
        XCTAssertEqual(half.screenBytes, 0)
        let int8 = try Model(bytes: bytes, options: Self.options(.int8))
        XCTAssertEqual(int8.screensItems, Self.available(.int8))
        try assertSameRankings(try Model(bytes: bytes), int8, shape: shape, users: 4, "a value of 70000, int8",
                               file: #filePath, line: #line)
    }

    func testScreenSizeAndTheFlagOffByDefault() throws {
        let bytes = try TestModel.bytes()
        XCTAssertFalse(try Model(bytes: bytes).screensItems)
        let half = try Model(bytes: bytes, options: Self.options(.half))
        if half.screensItems {
            XCTAssertEqual(half.screenBytes, (300 + 7) / 8 * 8 * 16 * 2)
        }
        let int8 = try Model(bytes: bytes, options: Self.options(.int8))
        if int8.screensItems {  // values (a multiple of 64 bytes here), then a float scale per row
            XCTAssertEqual(int8.screenBytes, (300 + 7) / 8 * 8 * 16 + (300 + 7) / 8 * 8 * 4)
        }
    }
}
