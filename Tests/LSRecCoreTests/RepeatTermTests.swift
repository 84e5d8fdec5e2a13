import XCTest
import LSRecFormat
@testable import LSRecCore

/// The repeat term (MODEL.md "Scores", `score.repeat_bias`): β on the score of every distinct held
/// item, the same in every scoring path, against the float64 reference and a sort of the scores.
final class RepeatTermTests: XCTestCase {
    /// A state whose held window (L = 20) holds item 11 three times and item 40 twice.
    func stateWithRepeats(_ model: Model) throws -> UserState {
        var s = model.newState()
        var time: Int64 = 1_000_000_000
        let ids = TestModel.events(count: 25).map(\.id) + [11, 40, 11, 7, 40, 11].map(TestModel.itemID)
        for id in ids {
            time += 977
            try model.update(&s, itemID: id, timestamp: time)
        }
        return s
    }

    func testScoresAddBetaOncePerDistinctHeldItem() throws {
        let plain = try Model(bytes: TestModel.bytes())
        for beta: Float in [-2.5, 0.75] {
            let model = try Model(bytes: TestModel.bytes(repeatBias: beta))
            XCTAssertEqual(model.repeatBias, beta)
            XCTAssertNotEqual(model.fingerprint, plain.fingerprint, "β is part of the weights")
            let s = try stateWithRepeats(model)
            let sp = try stateWithRepeats(plain)
            let held = Set(s.history.map(\.item))
            XCTAssertTrue(held.contains(11) && held.contains(40))
            let with = try model.scores(s, now: .lastEvent), without = try plain.scores(sp, now: .lastEvent)
            for i in 0..<model.nItems {
                // Same float operations as the plain score, then one addition: bit-exact.
                XCTAssertEqual(with[i], held.contains(i) ? without[i] + beta : without[i], "item \(i), β \(beta)")
            }
            XCTAssertEqual(try model.scores(s, now: .lastEvent, itemIndices: [11, 40, 12]),
                           [with[11], with[40], with[12]], accuracy: 1e-5)
            let batch = try model.scoresBatch([s, model.newState(), s], now: .lastEvent)
            XCTAssertEqual(Array(batch[2 * model.nItems ..< 3 * model.nItems]), with, accuracy: 1e-4)
            XCTAssertEqual(Array(batch[model.nItems ..< 2 * model.nItems]), model.itemBias, "no history, no term")
        }
    }

    func testScoresMatchFloat64Reference() throws {
        for beta: Float in [-1.5, 2] {
            let bytes = try TestModel.bytes(repeatBias: beta)
            let model = try Model(bytes: bytes), ref = try Reference(bytes: bytes)
            let events = TestModel.events(count: 57)
            var s = model.newState()
            for e in events { try model.update(&s, itemID: e.id, timestamp: e.time) }
            let r = ref.run(events)
            XCTAssertEqual(s.history.map(\.item), r.hist)
            let got = try model.scores(s, now: .lastEvent), want = ref.scores(r, now: nil)
            let scale = max(1, want.map(abs).max()!)
            for i in 0..<model.nItems { XCTAssertEqual(Double(got[i]), want[i], accuracy: 1e-4 * scale, "item \(i)") }
        }
    }

    /// Every top-K path (heap, scan-first, both screens, batch; with exclusions) ranks exactly as a
    /// sort of `scores` does, and a large β moves the held items to the top or the bottom.
    func testTopKPathsEqualSortedScores() throws {
        for beta: Float in [-40, -0.3, 0.3, 40] {
            let bytes = try TestModel.bytes(repeatBias: beta)
            var models = [try Model(bytes: bytes)]
            for format in [ItemScreen.Format.int8, .half] {
                var o = ModelOptions(screenItems: true)
                o.screenFormat = format
                models.append(try Model(bytes: bytes, options: o))
            }
            for model in models {
                let s = try stateWithRepeats(model)
                let held = Set(s.history.map(\.item))
                for now in [RequestTime.lastEvent, .at(2_000_000_000)] {
                    let scores = try model.scores(s, now: now)
                    for k in [1, 10, 16, 17, 40, model.nItems + 3] {
                        let what = "β \(beta) screen \(model.screensItems) k \(k) now \(now)"
                        let top = try model.topK(s, now: now, k: k)
                        XCTAssertEqual(top, Array(sortedRanking(scores).prefix(k)), what)
                        let extra = [11, 5, 299]
                        XCTAssertEqual(try model.topK(s, now: now, k: k, exclude: extra),
                                       Array(sortedRanking(scores, excluded: Set(extra)).prefix(k)), "exclude, " + what)
                        XCTAssertEqual(try model.topK(s, now: now, k: k, excludeSeen: true),
                                       Array(sortedRanking(scores, excluded: held).prefix(k)), "exclude seen, " + what)
                    }
                    let top = try model.topK(s, now: now, k: held.count)
                    if beta == 40 { XCTAssertEqual(Set(top.map(\.index)), held, "β ≫ 0: held items first") }
                    if beta == -40 { XCTAssertTrue(Set(top.map(\.index)).isDisjoint(with: held), "β ≪ 0: held items last") }
                }
                let states = [s, model.newState(), try stateWithRepeats(model)]
                let batch = try model.topKBatch(states, now: .lastEvent, k: 12)
                for (b, st) in states.enumerated() {
                    XCTAssertEqual(batch[b].map(\.index), try model.topK(st, now: .lastEvent, k: 12).map(\.index), "batch user \(b)")
                }
            }
        }
    }

    func testCatalogueAddsBetaToHeldModelAndAddedItems() throws {
        let beta: Float = 3
        let model = try Model(bytes: TestModel.bytes(repeatBias: beta))
        let plain = try Model(bytes: TestModel.bytes())
        func catalogue(_ m: Model) throws -> Catalog {
            var c = Catalog(model: m)
            for a in 0..<4 { try c.add(id: Int64(900_000 + a), text: (0..<8).map { Float(($0 + a) % 5) / 5 - 0.4 }) }
            try c.remove(id: TestModel.itemID(40))
            return c
        }
        let cat = try catalogue(model), catPlain = try catalogue(plain)
        var s = try stateWithRepeats(model), sp = try stateWithRepeats(plain)
        try cat.update(&s, itemID: 900_001, timestamp: 1_100_000_000)
        try catPlain.update(&sp, itemID: 900_001, timestamp: 1_100_000_000)
        let ids = [TestModel.itemID(11), TestModel.itemID(12), 900_001, 900_002]
        let with = try cat.scores(s, now: .lastEvent, itemIDs: ids)
        let without = try catPlain.scores(sp, now: .lastEvent, itemIDs: ids)
        XCTAssertEqual(with, [without[0] + beta, without[1], without[2] + beta, without[3]])
        // The ranking is a sort of every visible score (40 is removed: never listed).
        let all = try cat.topK(s, now: .lastEvent, k: cat.count)
        XCTAssertEqual(all.count, cat.count)
        XCTAssertFalse(all.contains { $0.id == TestModel.itemID(40) })
        let listed = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.score) })
        XCTAssertEqual(listed[900_001], with[2])
        XCTAssertEqual(listed[TestModel.itemID(11)], with[0])
        XCTAssertEqual(all.map(\.score), all.map(\.score).sorted(by: >))
    }

    func testBadRepeatBiasIsRefused() throws {
        // NaN and ±Inf are refused by the file reader already; a finite β so large that a score
        // plus β could overflow by the model's own check.
        for bad: Float in [.nan, .infinity, -Float.greatestFiniteMagnitude] {
            XCTAssertThrowsError(try Model(bytes: TestModel.bytes(repeatBias: bad)), "\(bad)") { error in
                XCTAssertNotNil(error as? LSRecError, "\(bad): \(error)")
                if bad.isFinite { XCTAssertEqual((error as? LSRecError)?.status, .nonFinite, "\(error)") }
            }
        }
    }
}

private func XCTAssertEqual(_ a: [Float], _ b: [Float], accuracy: Float, _ message: String = "",
                            file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, message, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy * max(1, abs(y)), message, file: file, line: line) }
}
