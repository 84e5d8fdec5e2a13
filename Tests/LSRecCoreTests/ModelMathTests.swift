import XCTest
import LSRecFormat
@testable import LSRecCore

/// The runtime's float32 BLAS maths against the float64 plain-loop reference (Reference.swift).
final class ModelMathTests: XCTestCase {
    /// Float32 vs float64 on values of order 1–10: agreement to 1e-4 of the largest magnitude.
    let tolerance = 1e-4

    func assertClose(_ a: [Float], _ b: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        let scale = max(1, b.map(abs).max() ?? 1)
        let worst = zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0
        XCTAssertLessThan(worst / scale, tolerance, "\(what): max abs diff \(worst)", file: file, line: line)
    }

    /// Feeds `n` events to runtime and reference, then compares h, c, u, α-based contributions and scores.
    func check(fusion: String, textDim: Int, events n: Int) throws {
        var shape = TestModel.Shape()
        shape.fusion = fusion
        shape.textDim = textDim
        let bytes = try TestModel.bytes(shape)
        let model = try Model(bytes: bytes)
        let ref = try Reference(bytes: bytes)
        let events = TestModel.events(count: n)
        var state = model.newState()
        for e in events { try model.update(&state, itemID: e.id, timestamp: e.time) }
        let r = ref.run(events)
        let tag = "\(fusion), k=\(textDim), \(n) events"
        assertClose(state.h, r.h, "h (\(tag))")
        assertClose(state.c, r.c, "c (\(tag))")
        XCTAssertEqual(state.history.map(\.item), r.hist, "ring buffer (\(tag))")
        let last = events.last(where: { $0.time >= 0 })?.time ?? 0
        let times: [(RequestTime, Int64?)] = [(.lastEvent, nil), (.at(last + 3600), last + 3600),
                                              (.at(last + 86_400 * 90), last + 86_400 * 90), (.at(last - 50), last - 50)]
        for (now, refNow) in times {
            assertClose(try model.userVector(state, now: now), ref.fuse(r, now: refNow).u, "u at \(now) (\(tag))")
            assertClose(try model.scores(state, now: now), ref.scores(r, now: refNow), "scores at \(now) (\(tag))")
        }
        // Explanation of the best item: contributions equal the reference's, largest first.
        guard !r.hist.isEmpty else { return }
        let best = try model.topK(state, now: .lastEvent, k: 1)[0].index
        let parts = try model.explain(state, now: .lastEvent, itemIndex: best, k: 1000)
        let refParts = ref.contributions(r, item: best, now: nil)
        XCTAssertEqual(Set(parts.map(\.index)), fusion == "short" ? [] : Set(refParts.keys), "explained items (\(tag))")
        for p in parts { XCTAssertEqual(Double(p.weight), refParts[p.index]!, accuracy: 1e-4, "contribution (\(tag))") }
        XCTAssertEqual(parts.map(\.weight), parts.map(\.weight).sorted(by: >), "explanations sorted (\(tag))")
    }

    func testGateModelWithTextMatchesReference() throws {
        for n in [0, 1, 5, 20, 57] { try check(fusion: "gate", textDim: 8, events: n) }
    }

    func testGateModelWithoutTextMatchesReference() throws {
        try check(fusion: "gate", textDim: 0, events: 33)
    }

    func testAblationsMatchReference() throws {
        try check(fusion: "short", textDim: 8, events: 30)
        try check(fusion: "long", textDim: 8, events: 30)
    }

    func testEmptyStateScoresAreItemBiases() throws {
        let bytes = try TestModel.bytes()
        let model = try Model(bytes: bytes)
        let bias = try WeightFile(bytes: bytes).floats("item.bias")
        XCTAssertEqual(try model.scores(model.newState(), now: .unknown), bias)
    }

    func testTimeBucketMatchesDefinition() {
        XCTAssertEqual(timeBucket(nil, buckets: 32), 0)
        XCTAssertEqual(timeBucket(0, buckets: 32), 1)
        XCTAssertEqual(timeBucket(-5, buckets: 32), 1)
        XCTAssertEqual(timeBucket(1, buckets: 32), 2)
        XCTAssertEqual(timeBucket(3, buckets: 32), 3)
        XCTAssertEqual(timeBucket(4, buckets: 32), 4)
        XCTAssertEqual(timeBucket(1 << 29, buckets: 32), 31)
        XCTAssertEqual(timeBucket(Int64.max, buckets: 32), 31)
        for delta in [1, 2, 7, 8, 1000, 1 << 20, 123_456_789] as [Int64] {
            XCTAssertEqual(timeBucket(delta, buckets: 64), 2 + Int(log2(Double(delta)).rounded(.down)))
        }
    }
}
