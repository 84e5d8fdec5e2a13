import Foundation
import XCTest
import LSRecFormat
@testable import LSRecCore

/// Catalog: model items ± removals + items added from text, against a float64 brute force.
final class CatalogTests: XCTestCase {
    /// The test model (TestModel: 300 items, d = 16, k = 8) with its float64 reference and P.
    struct Setup {
        let model: Model
        let ref: Reference
        let proj: [[Double]]   // P [d, k]
        let events: [(id: Int64, time: Int64)]

        init(fusion: String = "gate", events n: Int = 30) throws {
            var shape = TestModel.Shape()
            shape.fusion = fusion
            let bytes = try TestModel.bytes(shape)
            model = try Model(bytes: bytes)
            ref = try Reference(bytes: bytes)
            let p = try WeightFile(bytes: bytes).floats("item.text_proj").map(Double.init)
            let k = shape.textDim
            proj = stride(from: 0, to: p.count, by: k).map { Array(p[$0..<$0 + k]) }
            events = TestModel.events(count: n)
        }

        func state() throws -> UserState {
            var s = model.newState()
            for e in events { try model.update(&s, itemID: e.id, timestamp: e.time) }
            return s
        }

        /// e_new = P·t in float64 (MODEL.md, "Items added after training").
        func newVector(_ text: [Float]) -> [Double] {
            proj.map { row in zip(row, text).reduce(0) { $0 + $1.0 * Double($1.1) } }
        }
    }

    /// A deterministic text embedding per seed (values in [-1, 1]).
    func text(_ seed: Int, k: Int = 8) -> [Float] {
        (0..<k).map { Float(sin(Double(seed * 31 + $0) * 1.37 + 0.2)) }
    }

    /// Float64 brute force: every visible item's score, catalogue order.
    func referenceScores(_ s: Setup, _ r: Reference.State, now: Int64?, hidden: Set<Int64>,
                         added: [(id: Int64, text: [Float])]) -> [(id: Int64, score: Double)] {
        let u = s.ref.fuse(r, now: now).u
        let bias = Double(s.model.newItemBias)
        var out: [(Int64, Double)] = []
        for i in 0..<s.ref.n where !hidden.contains(s.ref.ids[i]) {
            out.append((s.ref.ids[i], zip(u, s.ref.X[i]).reduce(s.ref.bias[i]) { $0 + $1.0 * $1.1 }))
        }
        for a in added {
            out.append((a.id, zip(u, s.newVector(a.text)).reduce(bias) { $0 + $1.0 * $1.1 }))
        }
        return out
    }

    /// `got` is a correct top-k of `ref`: scores match, sorted, and nothing left out ranks higher
    /// (allowing float32-vs-float64 near-ties at the boundary).
    func assertTopK(_ got: [CatalogItem], _ ref: [(id: Int64, score: Double)], k: Int, _ what: String) {
        let byID = Dictionary(uniqueKeysWithValues: ref.map { ($0.id, $0.score) })
        XCTAssertEqual(got.count, min(k, ref.count), "\(what): length")
        XCTAssertEqual(Set(got.map(\.id)).count, got.count, "\(what): no duplicates")
        for g in got {
            guard let r = byID[g.id] else { XCTFail("\(what): \(g.id) is not a visible item"); continue }
            XCTAssertEqual(Double(g.score), r, accuracy: 1e-4 * max(1, abs(r)), "\(what): score of \(g.id)")
        }
        XCTAssertEqual(got.map(\.score), got.map(\.score).sorted(by: >), "\(what): sorted")
        let chosen = Set(got.map(\.id))
        let floor = got.map { byID[$0.id] ?? .infinity }.min() ?? .infinity
        for r in ref where !chosen.contains(r.id) {
            XCTAssertLessThanOrEqual(r.score, floor + 1e-4, "\(what): \(r.id) should have been ranked")
        }
    }

    func testTopKMatchesBruteForceOverModelAndAddedItems() throws {
        for fusion in ["gate", "long", "short"] {
            let s = try Setup(fusion: fusion)
            var cat = Catalog(model: s.model)
            var added: [(id: Int64, text: [Float])] = []
            for a in 0..<12 {
                let id = Int64(900_000 + a)
                try cat.add(id: id, text: text(a))
                added.append((id, text(a)))
            }
            let hiddenIDs: [Int64] = [TestModel.itemID(3), TestModel.itemID(150), TestModel.itemID(299)]
            for id in hiddenIDs { try cat.remove(id: id) }
            try cat.remove(id: 900_004)
            added.removeAll { $0.id == 900_004 }
            XCTAssertEqual(cat.count, 300 - 3 + 11)

            let state = try s.state(), r = s.ref.run(s.events)
            let last = s.events.last(where: { $0.time >= 0 })!.time
            for (now, refNow) in [(RequestTime.lastEvent, Int64?.none), (.at(last + 7200), last + 7200)] {
                let ref = referenceScores(s, r, now: refNow, hidden: Set(hiddenIDs), added: added)
                for k in [1, 10, 50, cat.count, cat.count + 5] {
                    assertTopK(try cat.topK(state, now: now, k: k), ref, k: k, "\(fusion) k=\(k) now=\(now)")
                }
            }
            // The brute force must actually reach added items: some must rank in the full list.
            let all = try cat.topK(state, now: .lastEvent, k: cat.count)
            XCTAssertEqual(Set(all.map(\.id)), Set(cat.itemIDs), fusion)
            XCTAssertTrue(Set(added.map(\.id)).isSubset(of: Set(all.map(\.id))))
            XCTAssertFalse(all.contains { hiddenIDs.contains($0.id) || $0.id == 900_004 })
        }
    }

    func testAddedItemScoreIsNewItemVectorDotUserVectorPlusBias() throws {
        let s = try Setup()
        var cat = Catalog(model: s.model)
        try cat.add(id: 5, text: text(1))
        let state = try s.state()
        let (v, b) = try s.model.newItemVector(text: text(1))
        let u = try s.model.userVector(state, now: .lastEvent)
        let expected = zip(u, v).reduce(Double(b)) { $0 + Double($1.0) * Double($1.1) }
        let got = try cat.scores(state, now: .lastEvent, itemIDs: [5, TestModel.itemID(7)])
        XCTAssertEqual(Double(got[0]), expected, accuracy: 1e-5 * max(1, abs(expected)))
        XCTAssertEqual(got[1], try s.model.scores(state, now: .lastEvent, itemIndices: [7])[0], accuracy: 1e-5)
        let stored = try cat.vector(ofItem: 5)
        XCTAssertEqual(stored.vector, v)
        XCTAssertEqual(stored.bias, s.model.newItemBias)
        // A new user (u = 0) ranks an added item at the median bias: the middle of the catalogue.
        let fresh = try cat.topK(s.model.newState(), now: .lastEvent, k: cat.count)
        let pos = fresh.firstIndex { $0.id == 5 }!
        XCTAssertEqual(Double(pos), Double(cat.count) / 2, accuracy: 2)
    }

    func testRemovedAndExcludedItemsNeverAppear() throws {
        let s = try Setup()
        var cat = Catalog(model: s.model)
        for a in 0..<5 { try cat.add(id: Int64(-10 - a), text: text(a)) }
        let state = try s.state()
        let full = try cat.topK(state, now: .lastEvent, k: 20)
        // Remove the current best five (model or added), exclude the next two.
        for item in full.prefix(5) { try cat.remove(id: item.id) }
        let excluded = full[5..<7].map(\.id)
        let next = try cat.topK(state, now: .lastEvent, k: cat.count, exclude: excluded + [123_456_789])
        XCTAssertEqual(next.count, cat.count - 2)
        XCTAssertTrue(Set(next.map(\.id)).isDisjoint(with: full.prefix(7).map(\.id)))
        XCTAssertEqual(next.first?.id, full[7].id)
        // excludeSeen drops the held model items, and nothing else.
        let seen = Set(state.history.map { s.model.itemIDs[$0.item] })
        let unseen = try cat.topK(state, now: .lastEvent, k: cat.count, excludeSeen: true)
        XCTAssertTrue(Set(unseen.map(\.id)).isDisjoint(with: seen))
        XCTAssertEqual(Set(unseen.map(\.id)), Set(cat.itemIDs).subtracting(seen))
        // Removed ids are unknown to scoring and explanation, and cannot be removed twice.
        for id in full.prefix(5).map(\.id) {
            XCTAssertFalse(cat.contains(id))
            XCTAssertThrowsError(try cat.scores(state, now: .lastEvent, itemIDs: [id])) { assertStatus($0, .unknownItem) }
            XCTAssertThrowsError(try cat.explain(state, now: .lastEvent, itemID: id, k: 3)) { assertStatus($0, .unknownItem) }
            XCTAssertThrowsError(try cat.remove(id: id)) { assertStatus($0, .unknownItem) }
        }
    }

    func testIDCollisionsRestoreAndOrder() throws {
        let s = try Setup()
        var cat = Catalog(model: s.model)
        let model1 = TestModel.itemID(1)
        XCTAssertThrowsError(try cat.add(id: model1, text: text(0))) { assertStatus($0, .invalidArgument) }
        try cat.add(id: 77, text: text(0))
        XCTAssertThrowsError(try cat.add(id: 77, text: text(1))) { assertStatus($0, .invalidArgument) }
        XCTAssertThrowsError(try cat.add(id: -1, text: text(1))) { assertStatus($0, .invalidArgument) }
        XCTAssertEqual(try cat.vector(ofItem: 77).vector, try s.model.newItemVector(text: text(0)).vector, "not replaced")
        // A removed model item: add refuses its id (restore it instead); restore brings it back.
        try cat.remove(id: model1)
        XCTAssertThrowsError(try cat.add(id: model1, text: text(0))) { e in
            assertStatus(e, .invalidArgument)
            XCTAssertTrue((e as! LSRecError).message.contains("restore"))
        }
        XCTAssertThrowsError(try cat.restore(id: TestModel.itemID(2))) { assertStatus($0, .invalidArgument) }
        XCTAssertThrowsError(try cat.restore(id: 77)) { assertStatus($0, .unknownItem) }
        XCTAssertThrowsError(try cat.restore(id: 31_337)) { assertStatus($0, .unknownItem) }
        try cat.restore(id: model1)
        XCTAssertEqual(cat.itemIDs, s.model.itemIDs + [77])
        // Removing an added item then adding it again is how to replace it.
        try cat.remove(id: 77)
        try cat.add(id: 77, text: text(3))
        XCTAssertEqual(try cat.vector(ofItem: 77).vector, try s.model.newItemVector(text: text(3)).vector)
        // Ties rank in catalogue order: equal texts give equal scores, first added first.
        for id: Int64 in [503, 501, 502] { try cat.add(id: id, text: text(9)) }
        try cat.remove(id: 501)
        try cat.add(id: 501, text: text(9))
        let ranked = try cat.topK(try s.state(), now: .lastEvent, k: cat.count).map(\.id).filter { $0 > 500 && $0 < 504 }
        XCTAssertEqual(ranked, [503, 502, 501])
        XCTAssertEqual(Array(cat.itemIDs.suffix(4)), [77, 503, 502, 501])
    }

    func testBadTextAndTextlessModelChangeNothing() throws {
        let s = try Setup()
        var cat = Catalog(model: s.model)
        for bad in [[Float](repeating: 0.1, count: 7), [Float](repeating: 0.1, count: 9), [],
                    [Float](repeating: .nan, count: 8), [Float](repeating: 1e38, count: 8)] {
            XCTAssertThrowsError(try cat.add(id: 1, text: bad))
        }
        XCTAssertThrowsError(try cat.add(id: 1, text: [Float](repeating: 1e37, count: 8))) { assertStatus($0, .nonFinite) }
        XCTAssertEqual(cat.count, 300)
        XCTAssertFalse(cat.contains(1))

        var shape = TestModel.Shape()
        shape.textDim = 0
        let plain = try Model(bytes: TestModel.bytes(shape))
        var textless = Catalog(model: plain)
        XCTAssertThrowsError(try textless.add(id: 1, text: [])) { e in
            assertStatus(e, .invalidArgument)
            XCTAssertTrue((e as! LSRecError).message.contains("text projection"))
        }
        XCTAssertThrowsError(try textless.add(id: 1, text: text(0))) { assertStatus($0, .invalidArgument) }
        // Removal still works on a model without text.
        try textless.remove(id: TestModel.itemID(0))
        XCTAssertEqual(textless.count, 299)
    }

    func testExplainAddedItemMatchesReference() throws {
        for fusion in ["gate", "long", "short"] {
            let s = try Setup(fusion: fusion)
            var cat = Catalog(model: s.model)
            try cat.add(id: 42, text: text(4))
            let state = try s.state(), r = s.ref.run(s.events)
            let parts = try cat.explain(state, now: .lastEvent, itemID: 42, k: 1000)
            // float64: contribution_r = α_r ((1 − g) ⊙ W_v e_r) · e_new, summed per history item.
            let f = s.ref.fuse(r, now: nil), e = s.newVector(text(4)), d = s.ref.d
            var ref: [Int64: Double] = [:]
            if fusion != "short" {
                for (k, j) in r.hist.enumerated() {
                    let v = s.ref.matvec(s.ref.Wv, s.ref.X[j])
                    ref[s.ref.ids[j], default: 0] += f.alpha[k] * (0..<d).reduce(0) { $0 + (1 - f.g[$1]) * v[$1] * e[$1] }
                }
            }
            XCTAssertEqual(Set(parts.map(\.id)), Set(ref.keys), fusion)
            for p in parts { XCTAssertEqual(Double(p.score), ref[p.id]!, accuracy: 1e-4, fusion) }
            XCTAssertEqual(parts.map(\.score), parts.map(\.score).sorted(by: >), fusion)
            // A model item is explained exactly as Model.explain does.
            let i = 17
            let own = try s.model.explain(state, now: .lastEvent, itemIndex: i, k: 5)
            let viaCat = try cat.explain(state, now: .lastEvent, itemID: TestModel.itemID(i), k: 5)
            XCTAssertEqual(viaCat, own.map { CatalogItem(id: s.model.itemIDs[$0.index], score: $0.weight) })
        }
    }

    func testStateUpdateThroughCatalogue() throws {
        let s = try Setup()
        var cat = Catalog(model: s.model)
        try cat.add(id: 8, text: text(8))
        try cat.remove(id: TestModel.itemID(2))
        var viaCat = s.model.newState(), direct = s.model.newState()
        try cat.update(&viaCat, itemID: TestModel.itemID(1), timestamp: 100)
        try cat.update(&viaCat, itemID: TestModel.itemID(2), timestamp: 200)  // removed, still an event
        try s.model.update(&direct, itemID: TestModel.itemID(1), timestamp: 100)
        try s.model.update(&direct, itemID: TestModel.itemID(2), timestamp: 200)
        XCTAssertEqual(viaCat, direct)
        // An added item goes in with its vector (AddedEventTests has the maths).
        try cat.update(&viaCat, itemID: 8, timestamp: 300)
        XCTAssertEqual(viaCat.events.map(\.item), [.model(1), .model(2), .added(id: 8)])
        XCTAssertNotEqual(viaCat.h, direct.h)
        // Unknown ids, and added items once removed, are refused.
        try cat.remove(id: 8)
        let before = viaCat
        XCTAssertThrowsError(try cat.update(&viaCat, itemID: 8, timestamp: 400)) { e in
            assertStatus(e, .unknownItem)
            XCTAssertTrue((e as! LSRecError).message.contains("removed"))
        }
        XCTAssertThrowsError(try cat.update(&viaCat, itemID: 9_999_999, timestamp: 300)) { assertStatus($0, .unknownItem) }
        XCTAssertThrowsError(try cat.update(&viaCat, itemID: TestModel.itemID(3), timestamp: 50)) { assertStatus($0, .outOfOrder) }
        XCTAssertEqual(viaCat, before)
        // A state of another model is refused everywhere.
        var shape = TestModel.Shape()
        shape.textDim = 0
        let other = try Model(bytes: TestModel.bytes(shape)).newState()
        var o = other
        XCTAssertThrowsError(try cat.update(&o, itemID: 8, timestamp: 1)) { assertStatus($0, .modelMismatch) }
        XCTAssertThrowsError(try cat.topK(other, now: .lastEvent, k: 3)) { assertStatus($0, .modelMismatch) }
        XCTAssertThrowsError(try cat.scores(other, now: .lastEvent, itemIDs: [8])) { assertStatus($0, .modelMismatch) }
        XCTAssertThrowsError(try cat.explain(other, now: .lastEvent, itemID: 8, k: 1)) { assertStatus($0, .modelMismatch) }
    }

    func testCopiesAreSnapshots() throws {
        let s = try Setup()
        var cat = Catalog(model: s.model)
        try cat.add(id: 1, text: text(1))
        let snapshot = cat
        try cat.add(id: 2, text: text(2))
        try cat.remove(id: 1)
        try cat.remove(id: TestModel.itemID(0))
        XCTAssertEqual(snapshot.itemIDs, s.model.itemIDs + [1])
        XCTAssertEqual(cat.itemIDs, Array(s.model.itemIDs.dropFirst()) + [2])
    }
}

func assertStatus(_ error: Error, _ status: LSRecStatus, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual((error as? LSRecError)?.status, status, "\(error)", file: file, line: line)
}
