import XCTest
import LSRecFormat
@testable import LSRecCore

/// The ring's 32-bit times (RingTimes.swift): every stored time comes back exactly, whatever the
/// span, and the common case stays in the narrow form.
final class RingTimesTests: XCTestCase {
    var model: Model!
    /// Set when any state fed by `feedAndCompare` was in the wide form after some event.
    var sawWide = false
    override func setUpWithError() throws { model = try Model(bytes: TestModel.bytes()) }

    /// Feeds `times` (item ids cycling) to a fresh state and to a plain array of the last L
    /// events; the state's held times must equal the array's, after every event.
    @discardableResult
    func feedAndCompare(_ times: [Int64], file: StaticString = #filePath, line: UInt = #line) throws -> UserState {
        var s = model.newState()
        var reference: [Int64] = []
        for (n, t) in times.enumerated() {
            try model.update(&s, itemID: TestModel.itemID(n % 300), timestamp: t)
            reference.append(t)
            if reference.count > model.config.history { reference.removeFirst() }
            XCTAssertEqual(s.history.map(\.time), reference, "after event \(n)", file: file, line: line)
            sawWide = sawWide || s.times.isWide
        }
        return s
    }

    func testOrdinaryStreamStaysNarrow() throws {
        let s = try feedAndCompare(TestModel.events(count: 3 * model.config.history).map(\.time))
        XCTAssertFalse(s.times.isWide)
        XCTAssertEqual(s.times.offsets.count, model.config.history)
        XCTAssertEqual(MemoryLayout<Int32>.stride * s.times.offsets.count, 4 * model.config.history)
    }

    func testExtremeTimesInOneStateAreExactAndSurviveTheBlob() throws {
        let times: [Int64] = [-1, 0, 1, -1, 4_000_000_000_000_000_000, 4_000_000_000_000_000_000, -1, .max]
        let s = try feedAndCompare(times)
        XCTAssertTrue(s.times.isWide, "0 and 4e18 cannot share a 32-bit offset")
        XCTAssertEqual(s.lastTime, .max)
        let back = try model.deserialize(model.serialize(s))
        XCTAssertEqual(back, s)
        XCTAssertEqual(back.history.map(\.time), times)
    }

    func testRebaseKeepsNarrowWhenTheHeldSpanFits() throws {
        let L = model.config.history
        // The first time is the base; after L more events it has left the ring, so a time
        // 3e9 s later than it fits again from the oldest held one.
        let times: [Int64] = [100] + Array(repeating: 2_000_000_000, count: L) + [3_000_000_000, -1, 3_000_000_001]
        let s = try feedAndCompare(times)
        XCTAssertFalse(s.times.isWide)
        XCTAssertEqual(s.times.base, 2_000_000_000)
    }

    func testWideStateNarrowsOnceTheFarTimesLeaveTheRing() throws {
        let L = model.config.history
        var times: [Int64] = [0, 4_000_000_000_000_000_000]
        times += (0..<(2 * L)).map { 4_000_000_000_000_000_000 + Int64($0) * 1000 }
        let s = try feedAndCompare(times)
        XCTAssertFalse(s.times.isWide, "the ring went round twice without the time 0")
    }

    func testRandomSpansAgainstAPlainArray() throws {
        var rng = TestModel.Rng(state: 11)
        for round in 0..<20 {
            var t: Int64 = Int64(rng.next() % 1_000_000)
            let times: [Int64] = (0..<(3 * model.config.history)).map { _ in
                switch rng.next() % 8 {
                case 0: return -1
                case 1 where round % 2 == 0:
                    let jump = Int64(rng.next() >> UInt64(1 + rng.next() % 40))
                    t = jump > Int64.max - t ? .max : t + jump
                default: t = min(Int64.max - 5000, t) + Int64(rng.next() % 5000)
                }
                return t
            }
            try feedAndCompare(times)
        }
        XCTAssertTrue(sawWide, "the random spans should reach the wide form")
    }
}
