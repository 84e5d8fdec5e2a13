import XCTest
import LSRecFormat
@testable import LSRecCore

final class TopKTests: XCTestCase {
    /// The reference ranking: sort everything by (score desc, index asc).
    func sortedRanking(_ scores: [Float], excluded: Set<Int> = []) -> [ScoredItem] {
        scores.enumerated().filter { !excluded.contains($0.offset) }
            .map { ScoredItem(index: $0.offset, score: $0.element) }
            .sorted { $0.score > $1.score || ($0.score == $1.score && $0.index < $1.index) }
    }

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
}
