import XCTest
@testable import LSRecTrain

/// Fixed scores per user, for hand-computable ranks.
private struct TableRanker: Ranker {
    let table: [[Float]]
    func scores(user: Int, history: ArraySlice<Int32>, timestamps: ArraySlice<Int64>, now: Int64,
                into out: inout [Float]) {
        for i in out.indices { out[i] = table[user][i] }
    }
}

private func seq(_ id: Int64, _ items: [Int32]) -> UserSequence {
    UserSequence(userID: id, items: items, timestamps: items.indices.map { Int64($0) * 10 })
}

final class EvalMetricsTests: XCTestCase {
    func testFullRankTieRuleIsPessimisticByIndex() {
        // target 2 (score 0.5): item 1 is higher, item 0 ties with a lower index, item 4 ties with a higher one.
        let s: [Float] = [0.5, 0.9, 0.5, 0.1, 0.5]
        XCTAssertEqual(fullRank(s, target: 2), 3)
        XCTAssertEqual(fullRank(s, target: 0), 2)  // only item 1 above
        XCTAssertEqual(fullRank(s, target: 4), 4)  // 1 above, 0 and 2 tie with lower index
        XCTAssertEqual(fullRank(s, target: 1), 1)
        XCTAssertEqual(fullRank([Float](repeating: 0, count: 6), target: 5), 6)
        // NaN never ranks above; a NaN target counts as -inf.
        XCTAssertEqual(fullRank([Float.nan, 1, Float.nan], target: 1), 1)
        XCTAssertEqual(fullRank([1, Float.nan, 0], target: 1), 3)
    }

    func testMetricsFromRanksByHand() {
        let m = RankingMetrics(ranks: [1, 3, 11, 60])
        XCTAssertEqual(m.users, 4)
        XCTAssertEqual(m.hr10, 2.0 / 4, accuracy: 1e-12)
        XCTAssertEqual(m.ndcg10, (1.0 + 1 / log2(4.0)) / 4, accuracy: 1e-12)
        XCTAssertEqual(m.hr50, 3.0 / 4, accuracy: 1e-12)
        XCTAssertEqual(m.ndcg50, (1.0 + 0.5 + 1 / log2(12.0)) / 4, accuracy: 1e-12)
        XCTAssertEqual(m.mrr, (1.0 + 1.0 / 3 + 1.0 / 11 + 1.0 / 60) / 4, accuracy: 1e-12)
        XCTAssertEqual(m.precision10, 0.05, accuracy: 1e-12)
        XCTAssertEqual(m.recall10, 0.5, accuracy: 1e-12)
        // Per user F1 = 2·0.1·1/(0.1+1) = 2/11 on a hit, 0 otherwise.
        XCTAssertEqual(m.f1at10, (2.0 / 11) * 2 / 4, accuracy: 1e-12)
        XCTAssertEqual(m.meanRank, 75.0 / 4, accuracy: 1e-12)
        XCTAssertEqual(m.medianRank, 7.0, accuracy: 1e-12)
    }

    func testEvaluateBothModesAndSampledOnTinyCase() {
        // 5 items. User 0: events [2, 0, 4, 1]. Test target = 1 (history 2,0,4); validation target = 4.
        // User 1: events [3, 2, 0]: test target 0 (history 3,2), validation target 2 (history 3).
        let data = Dataset(itemIDs: [10, 11, 12, 13, 14], itemText: nil,
                           users: [seq(1, [2, 0, 4, 1]), seq(2, [3, 2, 0]), seq(3, [1, 2])],
                           description: "tiny")
        let r = TableRanker(table: [[0.5, 0.5, 0.9, 0.1, 0.5],
                                    [0.2, 0.8, 0.3, 0.9, 0.0],
                                    [0, 0, 0, 0, 0]])
        let test = evaluate(r, on: data, split: .test)
        XCTAssertEqual(test.usersEvaluated, 2)
        XCTAssertEqual(test.usersTrainingOnly, 1)  // user 3 has 2 events
        // User 0, target 1 (0.5): above = item 2 (0.9) and item 0 (tie, lower index) -> rank 3.
        // Seen {2,0,4} excluded -> rank 1. Unseen for sampling: only item 3 (0.1) -> rank 1.
        // User 1, target 0 (0.2): above = 1 (0.8), 2 (0.3), 3 (0.9) -> rank 4.
        // Seen {3,2} excluded -> rank 2 (item 1 above). Unseen: {1, 4}: item 1 above -> rank 2.
        XCTAssertEqual(test.fullRanks, [3, 4])
        XCTAssertEqual(test.full.mrr, (1.0 / 3 + 1.0 / 4) / 2, accuracy: 1e-12)
        XCTAssertEqual(test.full.ndcg10, (1 / log2(4.0) + 1 / log2(5.0)) / 2, accuracy: 1e-12)
        XCTAssertEqual(test.full.hr10, 1)
        XCTAssertEqual(test.fullExcludingSeen.mrr, (1.0 + 0.5) / 2, accuracy: 1e-12)
        XCTAssertEqual(test.fullExcludingSeen.ndcg10, (1.0 + 1 / log2(3.0)) / 2, accuracy: 1e-12)
        XCTAssertEqual(test.sampled.mrr, (1.0 + 0.5) / 2, accuracy: 1e-12)
        XCTAssertEqual(test.usersWithFewerNegatives, 2) // only 1 and 2 unseen items exist

        let val = evaluate(r, on: data, split: .validation)
        // User 0, target 4 (0.5), history {2,0}: above 2, 0 (tie, lower), 1 (tie, lower) -> 4;
        // excluding 2 and 0 -> 2; unseen {1, 3}: 1 above -> 2.
        // User 1, target 2 (0.3), history {3}: above 1, 3 -> 3; excluding 3 -> 2; unseen {0,1,4}: 1 above -> 2.
        XCTAssertEqual(val.fullRanks, [4, 3])
        XCTAssertEqual(val.fullExcludingSeen.mrr, 0.5, accuracy: 1e-12)
        XCTAssertEqual(val.sampled.mrr, 0.5, accuracy: 1e-12)
    }

    func testTargetSeenBeforeIsNeverExcluded() {
        // Events [1, 0, 1]: the test target 1 is also in the history; it must still be ranked.
        let data = Dataset(itemIDs: [0, 1, 2], itemText: nil, users: [seq(0, [1, 0, 1])], description: "")
        let r = TableRanker(table: [[0.9, 0.5, 0.7]])
        let rep = evaluate(r, on: data, split: .test)
        XCTAssertEqual(rep.fullRanks, [3])
        XCTAssertEqual(rep.fullExcludingSeen.meanRank, 2) // item 0 excluded, item 2 still above
        XCTAssertEqual(rep.sampled.meanRank, 2)           // the only unseen item is 2
    }

    func testSampledNegativesComeFromUnseenItemsOnly() {
        // 500 items; history 0..<50 scored highest, target 60 next, every other unseen item lower.
        let n = 500
        var s = [Float](repeating: 0, count: n)
        for i in 0..<50 { s[i] = 100 }
        s[60] = 10
        let data = Dataset(itemIDs: (0..<n).map(Int64.init), itemText: nil,
                           users: [seq(0, Array(0..<50) + [61, 60])], description: "")
        let rep = evaluate(TableRanker(table: [s]), on: data, split: .test)
        XCTAssertEqual(rep.fullRanks, [51])
        XCTAssertEqual(rep.fullExcludingSeen.meanRank, 1)
        XCTAssertEqual(rep.sampled.meanRank, 1)
        XCTAssertEqual(rep.usersWithFewerNegatives, 0)
    }

    func testParallelEvaluationIsDeterministic() {
        var c = SyntheticData.Config(users: 120, items: 80, seed: 3)
        c.meanEventsPerUser = 12
        let data = SyntheticData.generate(c)
        let pop = MostPopular(data: data)
        let a = evaluate(pop, on: data, split: .test, threads: 1)
        let b = evaluate(pop, on: data, split: .test, threads: 3)
        XCTAssertEqual(a.fullRanks, b.fullRanks)
        XCTAssertEqual(a.full, b.full)
        XCTAssertEqual(a.fullExcludingSeen, b.fullExcludingSeen)
        XCTAssertEqual(a.sampled, b.sampled)
        let few = evaluate(pop, on: data, split: .test, maxUsers: 10)
        XCTAssertEqual(few.usersEvaluated, 10)
        XCTAssertEqual(few.usersSkipped, 110)
        XCTAssertEqual(few.fullRanks, Array(a.fullRanks.prefix(10)))
        XCTAssertTrue(a.table().contains("| HR@10 |"))
    }
}
