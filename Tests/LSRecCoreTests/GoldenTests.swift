import Foundation
import XCTest
import LSRecFormat
@testable import LSRecCore

/// Tests/Fixtures/golden.json: one fixed event sequence on the golden model, with the expected
/// top-10 lists, user vector and explanation. The Swift core (here), the C ABI
/// (Tests/capi/golden_test.c), Python (bindings/python/tests) and Go (bindings/go) all check
/// their results against this one file with an absolute tolerance of 1e-5.
///
/// The file names its model (relative to Tests/Fixtures), so when the trained golden model
/// replaces tiny-random.lsrec only `Golden.modelFile` changes here.
/// Regenerate with `LSREC_WRITE_FIXTURES=1 swift test --filter GoldenTests`.
final class GoldenTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let jsonPath = fixtures.appendingPathComponent("golden.json").path

    /// What the JSON holds (field names as in the file).
    struct Golden: Codable, Equatable {
        struct Events: Codable, Equatable { var items: [Int64]; var times: [Int64] }
        struct TopK: Codable, Equatable {
            var now: Int64
            var exclude_seen: Bool
            var ids: [Int64]
            var scores: [Double]
        }
        struct UserVector: Codable, Equatable { var now: Int64; var values: [Double] }
        struct Explain: Codable, Equatable {
            var item: Int64
            var k: Int
            var history_items: [Int64]
            var weights: [Double]
        }
        var about: String
        var model: String
        var fingerprint: String
        var n_items: Int
        var dim: Int
        var tolerance: Double
        var events: Events
        var n_events: Int64
        var k: Int
        var topk: [TopK]
        var user_vector: UserVector
        var explain: Explain
    }

    // ---- The fixed inputs ---------------------------------------------------------------------

    static let modelFile = "golden-trained.lsrec"
    static let about = "lsrec golden case: feed `events` (item ids, unix times; -1 = LSREC_TS_UNKNOWN) "
        + "in order to a new state of `model` (relative to Tests/Fixtures) with lsrec_state_update "
        + "or lsrec_state_update_many; then lsrec_topk(now, k, exclude_seen) must give `ids` "
        + "exactly and `scores` within `tolerance` (absolute), lsrec_user_vector(now) `values`, "
        + "and lsrec_explain(item, k) `history_items` and `weights`. now = -1 is "
        + "LSREC_NOW_LAST_EVENT. Written by Tests/LSRecCoreTests/GoldenTests.swift "
        + "(LSREC_WRITE_FIXTURES=1 swift test --filter GoldenTests); do not edit by hand."

    /// 24 events on a model that holds the last L = 20: the ring wraps. Dense indices (the
    /// golden model, Tests/Fixtures/golden-trained.lsrec, was trained by `lsrec train` on synthetic data); items repeat, also within the held window (explanations sum
    /// an item's occurrences); three unknown times; equal times.
    static let itemIndices = [3, 17, 42, 42, 101, 7, 250, 299, 0, 63, 128, 17, 5, 77, 190, 233, 12, 150, 42, 88,
                              271, 63, 160, 45]
    static let times: [Int64] = [1_700_000_000, 1_700_000_060, 1_700_000_060, -1, 1_700_003_600, 1_700_007_200,
                                 1_700_090_000, -1, 1_700_090_030, 1_700_200_000, 1_700_200_005, 1_700_250_000,
                                 1_700_400_000, 1_700_400_000, 1_700_500_000, 1_700_600_000, -1, 1_700_700_000,
                                 1_700_800_000, 1_701_000_000, 1_701_000_300, 1_701_003_600, 1_701_100_000,
                                 1_701_100_060]
    /// The explicit request time: three days after the last event.
    static let explicitNow: Int64 = 1_701_100_060 + 3 * 86_400
    static let k = 10
    static let explainK = 5
    static let tolerance = 1e-5

    // ---- Computing the expected values from the core ------------------------------------------

    static func requestTime(_ now: Int64) -> RequestTime { now == -1 ? .lastEvent : .at(now) }

    /// The golden values as the core computes them today, for the given events.
    static func compute(model: Model, items: [Int64], times: [Int64]) throws -> Golden {
        var state = model.newState()
        for (item, time) in zip(items, times) {
            try model.update(&state, itemID: item, timestamp: time)
        }
        let topk = try [Int64(-1), explicitNow].map { now -> Golden.TopK in
            let best = try model.topK(state, now: requestTime(now), k: k, excludeSeen: true)
            return Golden.TopK(now: now, exclude_seen: true, ids: best.map { model.itemIDs[$0.index] },
                               scores: best.map { Double($0.score) })
        }
        let u = try model.userVector(state, now: .lastEvent)
        let target = topk[0].ids[0]
        let parts = try model.explain(state, now: .lastEvent, itemIndex: model.index(ofItem: target)!, k: explainK)
        return Golden(
            about: about, model: modelFile, fingerprint: model.metadataText("general.fingerprint") ?? "",
            n_items: model.nItems, dim: model.dim, tolerance: tolerance,
            events: .init(items: items, times: times), n_events: Int64(state.eventCount), k: k, topk: topk,
            user_vector: .init(now: -1, values: u.map(Double.init)),
            explain: .init(item: target, k: explainK, history_items: parts.map { model.itemIDs[$0.index] },
                           weights: parts.map { Double($0.weight) }))
    }

    // ---- Writing: stable, readable, one array per line ----------------------------------------

    /// A float32 value in its shortest round-trip form (what the hosts parse back exactly).
    static func number(_ x: Double) -> String { "\(Float(x))" }
    static func ints(_ a: [Int64]) -> String { "[" + a.map(String.init).joined(separator: ", ") + "]" }
    static func floats(_ a: [Double]) -> String { "[" + a.map(number).joined(separator: ", ") + "]" }
    static func string(_ s: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }

    static func render(_ g: Golden) -> String {
        let cases = g.topk.map { c in
            "    {\"now\": \(c.now), \"exclude_seen\": \(c.exclude_seen),\n"
                + "     \"ids\": \(ints(c.ids)),\n"
                + "     \"scores\": \(floats(c.scores))}"
        }.joined(separator: ",\n")
        return """
        {
          "about": \(string(g.about)),
          "model": \(string(g.model)),
          "fingerprint": \(string(g.fingerprint)),
          "n_items": \(g.n_items),
          "dim": \(g.dim),
          "tolerance": \(g.tolerance),
          "events": {
            "items": \(ints(g.events.items)),
            "times": \(ints(g.events.times))
          },
          "n_events": \(g.n_events),
          "k": \(g.k),
          "topk": [
        \(cases)
          ],
          "user_vector": {"now": \(g.user_vector.now),
            "values": \(floats(g.user_vector.values))},
          "explain": {"item": \(g.explain.item), "k": \(g.explain.k),
            "history_items": \(ints(g.explain.history_items)),
            "weights": \(floats(g.explain.weights))}
        }

        """
    }

    // ---- Tests ----------------------------------------------------------------------------------

    func testGoldenJSONMatchesTheCore() throws {
        let model = try Model(path: Self.fixtures.appendingPathComponent(Self.modelFile).path)
        let items = Self.itemIndices.map { model.itemIDs[$0] }
        let fresh = try Self.compute(model: model, items: items, times: Self.times)
        if ProcessInfo.processInfo.environment["LSREC_WRITE_FIXTURES"] == "1" {
            try FileIO.writeAtomically(Array(Self.render(fresh).utf8), to: Self.jsonPath)
        }
        let bytes = try FileIO.readAll(path: Self.jsonPath)
        let golden = try JSONDecoder().decode(Golden.self, from: Data(bytes))

        // The inputs in the file are the ones above (and the events include an unknown time).
        XCTAssertEqual(golden.model, Self.modelFile)
        XCTAssertEqual(golden.events, fresh.events)
        XCTAssertTrue(golden.events.times.contains(-1))
        XCTAssertEqual(golden.fingerprint, fresh.fingerprint, "golden.json was written for another model; regenerate it")
        XCTAssertEqual(golden.n_items, model.nItems)
        XCTAssertEqual(golden.dim, model.dim)
        XCTAssertEqual(golden.tolerance, Self.tolerance)
        XCTAssertEqual(golden.n_events, fresh.n_events)
        XCTAssertEqual(golden.k, Self.k)
        XCTAssertEqual(golden.topk.map(\.now), [-1, Self.explicitNow])

        // The core, fed the file's events, reproduces the file's results.
        let computed = try Self.compute(model: model, items: golden.events.items, times: golden.events.times)
        XCTAssertEqual(golden.topk.count, computed.topk.count)
        for (want, got) in zip(golden.topk, computed.topk) {
            XCTAssertEqual(got.ids, want.ids, "top-\(Self.k) ids at now = \(want.now)")
            XCTAssertEqual(want.ids.count, Self.k)
            assertClose(got.scores, want.scores, "scores at now = \(want.now)")
        }
        assertClose(computed.user_vector.values, golden.user_vector.values, "user vector")
        XCTAssertEqual(golden.user_vector.values.count, model.dim)
        XCTAssertEqual(computed.explain.item, golden.explain.item)
        XCTAssertEqual(computed.explain.history_items, golden.explain.history_items, "explanation items")
        XCTAssertFalse(golden.explain.history_items.isEmpty)
        assertClose(computed.explain.weights, golden.explain.weights, "explanation weights")

        // The file is laid out exactly as the writer lays it out (catches a hand edit or a stale
        // layout). Rendered from the parsed file, not from `fresh`: the last digit of a score
        // depends on the CPU's BLAS kernel (AVX2 vs AVX-512), which the tolerance above allows.
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), Self.render(golden),
                       "Tests/Fixtures/golden.json is stale; regenerate with LSREC_WRITE_FIXTURES=1")
    }

    func testTheExplicitNowChangesTheRanking() throws {
        // Guards the golden case's usefulness: the two request times must exercise different τ.
        let golden = try JSONDecoder().decode(Golden.self, from: Data(FileIO.readAll(path: Self.jsonPath)))
        XCTAssertEqual(golden.topk.count, 2)
        guard golden.topk.count == 2 else { return }
        XCTAssertNotEqual(golden.topk[0].scores, golden.topk[1].scores)
    }

    private func assertClose(_ got: [Double], _ want: [Double], _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, "\(what): length", file: file, line: line)
        for (i, (g, w)) in zip(got, want).enumerated() where abs(g - w) > Self.tolerance {
            XCTFail("\(what)[\(i)]: \(g), expected \(w) (tolerance \(Self.tolerance))", file: file, line: line)
        }
    }
}
