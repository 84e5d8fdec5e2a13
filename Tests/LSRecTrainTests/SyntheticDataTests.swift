import XCTest
@testable import LSRecTrain

final class SyntheticDataTests: XCTestCase {
    private func small(seed: UInt64 = 7) -> SyntheticData.Config {
        var c = SyntheticData.Config(users: 200, items: 150, seed: seed)
        c.meanEventsPerUser = 20
        return c
    }

    func testDeterministicFromSeed() {
        let a = SyntheticData.generate(small())
        let b = SyntheticData.generate(small())
        XCTAssertEqual(a.users.map(\.items), b.users.map(\.items))
        XCTAssertEqual(a.users.map(\.timestamps), b.users.map(\.timestamps))
        XCTAssertEqual(a.itemText, b.itemText)
        let c = SyntheticData.generate(small(seed: 8))
        XCTAssertNotEqual(a.users.map(\.items), c.users.map(\.items))
    }

    func testShapeSessionsAndText() {
        let cfg = small()
        let d = SyntheticData.generate(cfg)
        XCTAssertEqual(d.users.count, 200)
        XCTAssertEqual(d.nItems, 150)
        let lengths = d.users.map(\.items.count)
        XCTAssertGreaterThanOrEqual(lengths.min()!, cfg.minEventsPerUser)
        let mean = Double(lengths.reduce(0, +)) / Double(lengths.count)
        XCTAssertEqual(mean, 20, accuracy: 4)
        var gaps: [Int64] = []
        for u in d.users {
            XCTAssertEqual(u.items.count, u.timestamps.count)
            for k in 1..<u.timestamps.count { gaps.append(u.timestamps[k] - u.timestamps[k - 1]) }
        }
        XCTAssertTrue(gaps.allSatisfy { $0 >= 60 })
        XCTAssertTrue(gaps.contains { $0 < 1800 })         // within a session: minutes
        XCTAssertTrue(gaps.contains { $0 >= 86_400 })      // between sessions: days
        let clusters = SyntheticData.itemClusters(cfg)
        XCTAssertTrue(d.itemText![17].hasPrefix("item 17 cluster \(clusters[17]) "))
    }

    func testCSVRoundTrip() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let d = SyntheticData.generate(small())
        for name in ["synth.csv", "synth.csv.gz"] {
            let p = dir.file(name)
            XCTAssertEqual(try writeInteractionLog(d, to: p), d.users.reduce(0) { $0 + $1.items.count })
            let back = try loadDataset(path: p).dataset
            XCTAssertEqual(back.users.map(\.userID), d.users.map(\.userID))
            XCTAssertEqual(back.users.map { $0.items.map { back.itemIDs[Int($0)] } },
                           d.users.map { $0.items.map { d.itemIDs[Int($0)] } })
            XCTAssertEqual(back.users.map(\.timestamps), d.users.map(\.timestamps))
        }
        let tp = dir.file("items.tsv")
        try writeItemText(d, to: tp)
        let texts = try loadItemText(path: tp)
        XCTAssertEqual(texts[17], d.itemText![17])
    }
}
