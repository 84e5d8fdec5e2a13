import Foundation
import XCTest
import LSRecFormat
@testable import LSRecCore
import LSRecKernels

/// The optimised request paths (issue 6) on shapes the default fixtures do not reach: a
/// dimension that is not a multiple of 8 (kernel tails), catalogues spanning several scoring
/// blocks, more users than one sgemm group, both attention paths, the exclusion hash set and
/// the vectorised exp / tanh / sigmoid against Double.
final class FastPathTests: XCTestCase {
    func state(_ model: Model, events n: Int, seed: UInt64) throws -> UserState {
        var s = model.newState()
        for e in TestModel.events(count: n, nItems: model.nItems, seed: seed) {
            try model.update(&s, itemID: e.id, timestamp: e.time)
        }
        return s
    }

    /// d = 13, t = 3: every eight-lane kernel runs its scalar tail; L = 37 wraps the ring.
    func testOddDimensionMatchesFloat64Reference() throws {
        var shape = TestModel.Shape()
        shape.dim = 13
        shape.timeDim = 3
        shape.history = 37
        let bytes = try TestModel.bytes(shape)
        let model = try Model(bytes: bytes)
        let ref = try Reference(bytes: bytes)
        let events = TestModel.events(count: 60)
        var s = model.newState()
        for e in events { try model.update(&s, itemID: e.id, timestamp: e.time) }
        let r = ref.run(events)
        func close(_ a: [Float], _ b: [Double], _ what: String) {
            XCTAssertEqual(a.count, b.count, what)
            let scale = max(1, b.map(abs).max() ?? 1)
            let worst = zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0
            XCTAssertLessThan(worst / scale, 1e-4, "\(what): max abs diff \(worst)")
        }
        close(s.h, r.h, "h")
        close(s.c, r.c, "c")
        let last = events.last(where: { $0.time >= 0 })!.time
        close(try model.userVector(s, now: .at(last + 7200)), ref.fuse(r, now: last + 7200).u, "u")
        close(try model.scores(s, now: .at(last + 7200)), ref.scores(r, now: last + 7200), "scores")
    }

    /// 1,500 items at d = 16 are three scoring blocks of 512: the ranking and its scores equal
    /// sorting `scores` exactly (same arithmetic), with and without exclusions.
    func testBlockedTopKEqualsSortingAcrossBlocks() throws {
        var shape = TestModel.Shape()
        shape.nItems = 1500
        let model = try Model(bytes: TestModel.bytes(shape))
        XCTAssertLessThan(model.scoreBlockRows, model.nItems, "the test must span several blocks")
        let s = try state(model, events: 45, seed: 3)
        let scores = try model.scores(s, now: .lastEvent)
        for k in [1, 10, 700, 1500, 1503] {
            XCTAssertEqual(try model.topK(s, now: .lastEvent, k: k), Array(sortedRanking(scores).prefix(k)), "k=\(k)")
        }
        let seen = Set(s.history.map(\.item))
        // Duplicates and indices naming no item are ignored.
        let extra = [0, 511, 512, 513, 1499, 513, -5, 1500, 99_999]
        let want = sortedRanking(scores, excluded: seen.union(extra.filter { $0 >= 0 && $0 < 1500 }))
        XCTAssertEqual(try model.topK(s, now: .lastEvent, k: 25, excludeSeen: true, exclude: extra), Array(want.prefix(25)))
        // Excluding most of the catalogue: what is left, in order.
        let many = Array(stride(from: 0, to: 1500, by: 1).filter { $0 % 50 != 7 })
        let left = sortedRanking(scores, excluded: Set(many))
        XCTAssertEqual(left.count, 30)
        XCTAssertEqual(try model.topK(s, now: .lastEvent, k: 40, exclude: many), left)
        XCTAssertEqual(try model.topK(s, now: .lastEvent, k: 0), [])
    }

    /// An item matrix of 8 MiB (16,384 items × 128) is scored in address order
    /// (`lsk_score_rows_stream`): the scores are the bits the in-cache kernel gives for the same
    /// matrix and user vector, within float32 rounding of a float64 reference, and the top-K is
    /// the sorted scores.
    func testLargeCatalogueScoredInAddressOrder() throws {
        var shape = TestModel.Shape()
        shape.nItems = 16_384
        shape.dim = 128
        shape.textDim = 0
        var rng = TestModel.Rng(state: 99)
        let e = (0..<shape.nItems * shape.dim).map { _ in rng.uniform(0.5) }
        let b = (0..<shape.nItems).map { _ in rng.uniform(0.3) }
        let model = try Model(bytes: TestModel.bytes(shape, embedding: e, bias: b))
        XCTAssertTrue(model.streamsScoring)
        var small = TestModel.Shape()
        small.dim = 128
        XCTAssertFalse(try Model(bytes: TestModel.bytes(small)).streamsScoring)

        let s = try state(model, events: 30, seed: 11)
        let u = try model.userVector(s, now: .lastEvent)
        var scores: [Float] = []
        model.scores(userVector: u, into: &scores)
        var inCache = [Float](repeating: 0, count: shape.nItems)
        lsk_score_rows(e, shape.nItems, shape.dim, u, b, &inCache)
        XCTAssertEqual(scores.map(\.bitPattern), inCache.map(\.bitPattern))
        for i in stride(from: 0, to: shape.nItems, by: 97) {
            assertNearFloat64Sum(scores[i], start: b[i], count: shape.dim, slack: 1,
                                 { (Double(e[i * shape.dim + $0]), Double(u[$0])) }, "item \(i)")
        }
        for k in [1, 10, 100] {
            XCTAssertEqual(model.topK(userVector: u, k: k, excluded: nil), Array(sortedRanking(scores).prefix(k)), "k=\(k)")
        }
    }

    /// 300 users (two sgemm groups) over 5,000 items (two item blocks for the first group):
    /// each list equals the single-user one.
    func testBatchAcrossUserGroupsAndItemBlocks() throws {
        var shape = TestModel.Shape()
        shape.nItems = 5000
        shape.textDim = 0
        let model = try Model(bytes: TestModel.bytes(shape))
        var states: [UserState] = []
        for u in 0..<300 { states.append(try state(model, events: u % 13, seed: UInt64(u + 1))) }
        XCTAssertGreaterThan(states.count, Model.batchUsers)
        XCTAssertLessThan(Model.batchBlockScores / Model.batchUsers, model.nItems, "the first group must span item blocks")
        for excludeSeen in [false, true] {
            let batch = try model.topKBatch(states, now: .at(2_000_000_000), k: 7, excludeSeen: excludeSeen)
            XCTAssertEqual(batch.count, states.count)
            for (b, s) in states.enumerated() {
                let single = try model.topK(s, now: .at(2_000_000_000), k: 7, excludeSeen: excludeSeen)
                XCTAssertEqual(batch[b].map(\.index), single.map(\.index), "user \(b), excludeSeen \(excludeSeen)")
                for (x, y) in zip(batch[b], single) { XCTAssertEqual(x.score, y.score, accuracy: 1e-5) }
            }
        }
        XCTAssertEqual(try model.topKBatch(states, now: .lastEvent, k: 0).count, 300)
        XCTAssertEqual(try model.topKBatch([], now: .lastEvent, k: 5).count, 0)
    }

    /// The gathered-rows attention (the row-pointer kernels) and the row-at-a-time loop agree.
    func testGatheredAttentionEqualsRowLoop() throws {
        let model = try Model(bytes: TestModel.bytes())
        let s = try state(model, events: 33, seed: 9)
        let d = model.dim, m = s.historyCount
        let q = (0..<d).map { Float($0 % 5) * 0.3 - 0.6 }
        var a1 = [Float](repeating: 0, count: m), a2 = a1
        var m1 = [Float](repeating: 0, count: d), m2 = m1
        model.items.withUnsafeBufferPointer { x in
            q.withUnsafeBufferPointer { q in
                model.attend(s, x: x.baseAddress!, query: q.baseAddress!, alpha: &a1, mean: &m1, gather: true)
                model.attend(s, x: x.baseAddress!, query: q.baseAddress!, alpha: &a2, mean: &m2, gather: false)
            }
        }
        for (x, y) in zip(a1, a2) { XCTAssertEqual(x, y, accuracy: 1e-6) }
        for (x, y) in zip(m1, m2) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        XCTAssertEqual(Double(a1.reduce(0, +)), 1, accuracy: 1e-5)
    }

    func testExclusionSetMatchesSet() {
        var rng = TestModel.Rng(state: 5)
        for count in [0, 1, 7, 200, 5000] {
            var set = ExclusionSet(capacity: count)
            var reference = Set<Int>()
            for _ in 0..<count {
                let i = Int(rng.next() % 20_000)
                set.insert(i)
                reference.insert(i)
            }
            set.insert(-3)
            set.insert(Int(Int32.max) + 10)
            XCTAssertEqual(set.isEmpty, reference.isEmpty)
            for i in 0..<20_000 where set.contains(i) != reference.contains(i) {
                XCTFail("index \(i), \(count) inserted")
                break
            }
        }
    }

    func testVectorisedExpTanhSigmoidAgainstDouble() {
        var x: [Float] = stride(from: -95, through: 95, by: 0.37).map { Float($0) }
        x += [0, -0.0, 1e-8, -1e-8, 0.6249, 0.625, 0.6251, 39.9, 40.1, -40.1]
        for i in stride(from: 0, to: x.count, by: 8) {
            var v = SIMD8<Float>(repeating: 0)
            for j in 0..<8 where i + j < x.count { v[j] = x[i + j] }
            let e = vexp8(v), t = vtanh8(v), s = vsigmoid8(v)
            for j in 0..<8 where i + j < x.count {
                let a = Double(v[j])
                let clamped = min(max(a, Double(Float(-87.3))), Double(Float(88.3)))  // the kernel clamps in Float
                XCTAssertEqual(Double(e[j]), Foundation.exp(clamped), accuracy: 1e-6 * Foundation.exp(clamped), "exp(\(a))")
                XCTAssertEqual(Double(t[j]), Foundation.tanh(a), accuracy: 1e-6, "tanh(\(a))")
                XCTAssertEqual(Double(s[j]), 1 / (1 + Foundation.exp(-a)), accuracy: 1e-6, "sigmoid(\(a))")
            }
        }
    }
}
