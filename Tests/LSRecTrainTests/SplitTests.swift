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
        XCTAssertEqual(LeaveOneOut.targetIndex(5, .test), 4)
        XCTAssertEqual(LeaveOneOut.targetIndex(5, .validation), 3)
        XCTAssertNil(LeaveOneOut.targetIndex(2, .test))
        XCTAssertEqual(LeaveOneOut.trainingCount(2), 2)
        XCTAssertEqual(LeaveOneOut.trainingCount(3), 1)
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
