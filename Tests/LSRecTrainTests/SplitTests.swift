import XCTest
@testable import LSRecTrain

final class SplitTests: XCTestCase {
    func testLeaveOneOutCounts() {
        let users = [1, 2, 3, 5].enumerated().map { k, n in
            UserSequence(userID: Int64(k), items: (0..<n).map { Int32($0) }, timestamps: (0..<n).map { Int64($0) })
        }
        let data = Dataset(itemIDs: (0..<5).map(Int64.init), itemText: nil, users: users, description: "")
        let c = LeaveOneOut.counts(data)
        XCTAssertEqual(c.users, 4)
        XCTAssertEqual(c.evaluableUsers, 2)
        XCTAssertEqual(c.trainingOnlyUsers, 2)
        XCTAssertEqual(c.trainingEvents, 1 + 2 + 1 + 3)
        let rule = LeaveOneOut(data)
        XCTAssertTrue(rule.timedTargets)
        XCTAssertEqual(rule.targetIndex(users[3], .test), 4)
        XCTAssertEqual(rule.targetIndex(users[3], .validation), 3)
        XCTAssertNil(rule.targetIndex(users[1], .test))
        XCTAssertEqual(rule.trainingCount(users[1]), 2)
        XCTAssertEqual(rule.trainingCount(users[2]), 1)
    }

    /// In a data set with timestamps a target must be timed (untimed events sit first in file
    /// order): a user whose last two events are not both timed is kept whole in training. Without
    /// any timestamp (a log with no time column) file order is the order and everyone with ≥ 3
    /// events is evaluated.
    func testTargetsAreTimedWhenTheDataHasTimes() {
        let u = { (k: Int64, ts: [Int64]) in UserSequence(userID: k, items: ts.indices.map { Int32($0) }, timestamps: ts) }
        let users = [
            u(0, [-1, -1, 10, 20]),      // last two timed: evaluated, training = 2 events
            u(1, [-1, -1, -1, 30]),      // one timed: its validation target would be untimed
            u(2, [-1, -1, -1, -1, -1]),  // none timed
            u(3, [5, 6, 7]),
        ]
        let data = Dataset(itemIDs: (0..<5).map(Int64.init), itemText: nil, users: users, description: "")
        let c = LeaveOneOut.counts(data)
        XCTAssertEqual([c.evaluableUsers, c.untimedTargetUsers, c.trainingOnlyUsers], [2, 2, 0])
        XCTAssertEqual(c.trainingEvents, 2 + 4 + 5 + 1)
        let rule = LeaveOneOut(data)
        XCTAssertEqual(rule.targetIndex(users[0], .test), 3)
        XCTAssertEqual(rule.targetIndex(users[0], .validation), 2)
        for k in [1, 2] {
            XCTAssertNil(rule.targetIndex(users[k], .test))
            XCTAssertNil(rule.targetIndex(users[k], .validation))
            XCTAssertEqual(rule.trainingCount(users[k]), users[k].items.count)
        }
        XCTAssertEqual(evaluate(MostPopular(data: data), on: data, split: .test).usersEvaluated, 2)
        // The same users without any time: all four are evaluated.
        var untimed = data
        untimed.users = users.map { UserSequence(userID: $0.userID, items: $0.items, timestamps: $0.timestamps.map { _ in -1 }) }
        XCTAssertFalse(LeaveOneOut(untimed).timedTargets)
        XCTAssertEqual(LeaveOneOut.counts(untimed).evaluableUsers, 4)
        XCTAssertEqual(evaluate(MostPopular(data: untimed), on: untimed, split: .test).usersEvaluated, 4)
    }

    func testMostPopularCountsTrainingEventsOnly() {
        // User 0: [0, 1, 2, 2]: training = [0, 1]; user 1: [2] (training only).
        let users = [
            UserSequence(userID: 0, items: [0, 1, 2, 2], timestamps: [1, 2, 3, 4]),
            UserSequence(userID: 1, items: [2], timestamps: [1]),
        ]
        let data = Dataset(itemIDs: [0, 1, 2], itemText: nil, users: users, description: "")
        XCTAssertEqual(MostPopular(data: data).counts, [1, 1, 1])
    }
}
