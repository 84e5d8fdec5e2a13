import XCTest
import LSRecFormat
import LSRecKernels
@testable import LSRecCore

final class TopKTests: XCTestCase {
    func testTopKEqualsSortingWithTies() {
        var rng = TestModel.Rng(state: 1)
        for n in [1, 2, 10, 257] {
            // Few distinct values, so ties are common.
            let scores = (0..<n).map { _ in Float(rng.next() % 7) }
            for k in [1, 3, 10, n, n + 5] {
                XCTAssertEqual(topK(scores, k: k), Array(sortedRanking(scores).prefix(k)), "n=\(n) k=\(k)")
            }
            let excluded = Set((0..<n).filter { $0 % 3 == 0 })
            let mask = (0..<n).map { excluded.contains($0) }
            XCTAssertEqual(topK(scores, k: 5, excluded: mask), Array(sortedRanking(scores, excluded: excluded).prefix(5)))
        }
        XCTAssertEqual(topK([1, 2], k: 0), [])
        XCTAssertEqual(topK([.nan, 1, .nan, 3], k: 4).map(\.index), [3, 1], "NaN scores are never returned")
    }

    func testModelTopKEqualsSortedScores() throws {
        let model = try Model(bytes: TestModel.bytes())
        var s = model.newState()
        for e in TestModel.events(count: 30) { try model.update(&s, itemID: e.id, timestamp: e.time) }
        let scores = try model.scores(s, now: .lastEvent)
        XCTAssertEqual(try model.topK(s, now: .lastEvent, k: 10), Array(sortedRanking(scores).prefix(10)))
        let seen = Set(s.history.map(\.item))
        let extra = [5, 6, 7]
        XCTAssertEqual(try model.topK(s, now: .lastEvent, k: 10, excludeSeen: true, exclude: extra),
                       Array(sortedRanking(scores, excluded: seen.union(extra)).prefix(10)))
    }

    func testBatchEqualsSingleUser() throws {
        let model = try Model(bytes: TestModel.bytes())
        var states: [UserState] = []
        for seed in 1...6 as ClosedRange<UInt64> {
            var s = model.newState()
            for e in TestModel.events(count: Int(seed) * 7, seed: seed) { try model.update(&s, itemID: e.id, timestamp: e.time) }
            states.append(s)
        }
        states.append(model.newState())
        let batch = try model.topKBatch(states, now: .at(2_000_000_000), k: 10, excludeSeen: true)
        for (b, s) in states.enumerated() {
            let single = try model.topK(s, now: .at(2_000_000_000), k: 10, excludeSeen: true)
            XCTAssertEqual(batch[b].map(\.index), single.map(\.index), "user \(b)")
            for (x, y) in zip(batch[b], single) { XCTAssertEqual(x.score, y.score, accuracy: 1e-5) }
        }
    }

    /// Long score arrays go through offerBlock's vectorised filter in chunks, against a threshold
    /// that rises within a chunk: rising scores (every one enters), falling ones (none after the
    /// first k), ties, and NaN must all give the sorted ranking.
    func testLongArraysEqualSorting() {
        var rng = TestModel.Rng(state: 7)
        let n = 5000
        let orders: [(String, [Float])] = [
            ("rising", (0..<n).map { Float($0) }),
            ("falling", (0..<n).map { Float(n - $0) }),
            ("ties", (0..<n).map { _ in Float(rng.next() % 50) }),
            ("random with NaN", (0..<n).map { i in i % 97 == 0 ? .nan : rng.uniform(10) }),
        ]
        for (what, scores) in orders {
            for k in [1, 10, 100, 1500] {
                XCTAssertEqual(topK(scores, k: k), Array(sortedRanking(scores.map { $0.isNaN ? -.infinity : $0 })
                    .filter { !scores[$0.index].isNaN }.prefix(k)), "\(what) k=\(k)")
            }
        }
    }

    /// lsk_select_rows (the plain top-K's scan-first selection) lists exactly the rows a sort
    /// would: every non-excluded, non-NaN row scoring at least the k-th best, in row order, with
    /// lsk_score_rows's bits — across chunks of 4,096 rows, with ties, exclusions, NaN rows, a cap
    /// too small (SIZE_MAX), and the cases it declines (k = 0, k > 16, over 1 MB).
    func testSelectRowsListsEveryRowAtOrAboveTheKthBest() throws {
        guard lsk_screen_path() == 1 else { throw XCTSkip("no AVX2 + F16C: lsk_select_rows declines here") }
        var rng = TestModel.Rng(state: 12)
        for (rows, d, grid) in [(1, 16, true), (9, 3, true), (300, 16, true), (4_095, 16, true), (4_097, 13, true),
                                (9_000, 16, true), (14_000, 18, true), (3_000, 16, false), (9_000, 16, false)] {
            // Values on a coarse grid, so equal scores (ties across chunks) are common; or not, so
            // scores fall just below the k-th best too.
            var x = (0..<(rows * d)).map { _ in grid ? Float(Int(rng.next() % 9) - 4) * 0.25 : rng.uniform(1) }
            for r in stride(from: 5, to: rows, by: 97) { for c in 0..<d { x[r * d + c] = x[c] } }  // duplicate rows
            if rows > 50 { for c in 0..<d { x[40 * d + c] = .nan } }
            let u = (0..<d).map { _ in Float(Int(rng.next() % 5) - 2) * 0.5 }
            let bias = (0..<rows).map { _ in Float(Int(rng.next() % 3)) * 0.125 }
            var scores = [Float](repeating: 0, count: rows)
            _ = lsk_score_rows(x, rows, d, u, bias, &scores)
            for k in [1, 2, 10, 16] {
                for withExclusions in [false, true] {
                    let excludedRows = withExclusions ? Set((0..<rows).filter { $0 % 7 == 3 } + [0]) : []
                    var set = ExclusionSet(capacity: excludedRows.count)
                    for r in excludedRows { set.insert(r) }
                    let eligible = (0..<rows).filter { !excludedRows.contains($0) && !scores[$0].isNaN }
                    let sortedScores = eligible.map { scores[$0] }.sorted(by: >)
                    let kth = sortedScores.count >= k ? sortedScores[k - 1] : -Float.infinity
                    let expected = eligible.filter { scores[$0] >= kth }
                    for cap in [rows, expected.count, max(0, expected.count - 1)] {
                        var idx = [UInt32](repeating: 0, count: max(cap, 1)), got = [Float](repeating: 0, count: max(cap, 1))
                        var listed = 0
                        let taken = withExclusions && !set.isEmpty
                            ? set.withSlots { lsk_select_rows(x, rows, d, u, bias, k, $0, $1, &idx, &got, cap, &listed) }
                            : lsk_select_rows(x, rows, d, u, bias, k, nil, 0, &idx, &got, cap, &listed)
                        let what = "rows \(rows) d \(d) grid \(grid) k \(k) excl \(withExclusions) cap \(cap)"
                        XCTAssertEqual(taken, 1, what)
                        if cap < expected.count {
                            XCTAssertEqual(listed, -1, "SIZE_MAX when the rows do not fit: " + what)
                            continue
                        }
                        // Past one chunk, ties at an earlier chunk's lower cutoff may fill a tight
                        // cap on the way (the contract allows SIZE_MAX then); room for every row never.
                        if rows > 4_096 && cap < rows && listed == -1 { continue }
                        XCTAssertEqual(listed, expected.count, what)
                        guard listed == expected.count else { continue }
                        XCTAssertEqual(idx.prefix(listed).map(Int.init), expected, what)
                        XCTAssertEqual(got.prefix(listed).map(\.bitPattern), expected.map { scores[$0].bitPattern }, what)
                    }
                }
            }
        }
        var idx = [UInt32](repeating: 0, count: 8), got = [Float](repeating: 0, count: 8), listed = 7
        let x = [Float](repeating: 1, count: 64), u = [Float](repeating: 1, count: 8)
        XCTAssertEqual(lsk_select_rows(x, 8, 8, u, nil, 0, nil, 0, &idx, &got, 8, &listed), 0, "k = 0 declines")
        XCTAssertEqual(lsk_select_rows(x, 8, 8, u, nil, 17, nil, 0, &idx, &got, 8, &listed), 0, "k > 16 declines")
        XCTAssertEqual(lsk_select_rows(x, (1 << 20) / 32 + 1, 8, u, nil, 5, nil, 0, &idx, &got, 8, &listed), 0,
                       "over 1 MB declines (nothing is read)")
        XCTAssertEqual(listed, 7, "a declined call writes nothing")
    }

    /// The model's plain top-K through the scan-first selection equals the heap it replaces
    /// (the full score vector sorted), ids and score bits, for k on both sides of 16, with and
    /// without exclusions, and for a NaN user vector (nothing is returned either way).
    func testScanFirstTopKEqualsTheHeapPath() throws {
        let model = try Model(bytes: TestModel.bytes())
        var rng = TestModel.Rng(state: 8)
        for user in 0..<6 {
            var s = model.newState()
            for e in TestModel.events(count: 10 + 7 * user, seed: UInt64(user + 1)) { try model.update(&s, itemID: e.id, timestamp: e.time) }
            let scores = try model.scores(s, now: .lastEvent)
            for k in [1, 5, 16, 17, 40] {
                let extra = (0..<5).map { _ in Int(rng.next() % UInt64(model.nItems)) }
                let seen = Set(s.history.map(\.item))
                let mask = (0..<model.nItems).map { seen.contains($0) || extra.contains($0) }
                let want = topK(scores, k: k, excluded: mask)
                let got = try model.topK(s, now: .lastEvent, k: k, excludeSeen: true, exclude: extra)
                XCTAssertEqual(got.map(\.index), want.map(\.index), "user \(user) k \(k)")
                XCTAssertEqual(got.map(\.score.bitPattern), want.map(\.score.bitPattern), "user \(user) k \(k)")
                XCTAssertEqual(try model.topK(s, now: .lastEvent, k: k), topK(scores, k: k), "user \(user) k \(k)")
            }
        }
        let nanU = [Float](repeating: .nan, count: model.dim)
        XCTAssertEqual(nanU.withUnsafeBufferPointer { model.topK(userVector: $0.baseAddress!, k: 5, excluded: nil) }, [])
    }
}
