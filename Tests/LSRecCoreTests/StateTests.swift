import XCTest
import LSRecFormat
@testable import LSRecCore

final class StateTests: XCTestCase {
    var model: Model!
    override func setUpWithError() throws { model = try Model(bytes: TestModel.bytes()) }

    func feed(_ n: Int, seed: UInt64 = 7) throws -> UserState {
        var s = model.newState()
        for e in TestModel.events(count: n, seed: seed) { try model.update(&s, itemID: e.id, timestamp: e.time) }
        return s
    }

    func testRingKeepsTheLastLEventsAndBlobStopsGrowing() throws {
        let L = model.config.history
        let events = TestModel.events(count: 3 * L)
        var s = model.newState()
        var sizes: [Int] = []
        for (n, e) in events.enumerated() {
            try model.update(&s, itemID: e.id, timestamp: e.time)
            sizes.append(try model.serialize(s).count)
            XCTAssertEqual(s.historyCount, min(n + 1, L))
            XCTAssertEqual(s.eventCount, UInt64(n + 1))
        }
        // The ring holds exactly the last L events, oldest first.
        XCTAssertEqual(s.history.map { model.itemIDs[$0.item] }, events.suffix(L).map(\.id))
        XCTAssertEqual(s.history.map(\.time), events.suffix(L).map(\.time))
        // Growth stops once the ring is full: the largest blob after L events is bounded by the varint sizes.
        let grown = sizes[(L - 1)...]
        let spread = grown.max()! - grown.min()!
        XCTAssertLessThanOrEqual(spread, 2 * L, "blob size after the ring is full varies only with varint widths")
        XCTAssertLessThan(sizes[L - 1 + L], sizes[L - 1] + 2 * L + 1)
        XCTAssertGreaterThan(sizes[L - 1], sizes[0], "the blob grows while the ring fills")
    }

    func testTypicalBlobSizeForDefaultShape() throws {
        var shape = TestModel.Shape(); shape.dim = 64; shape.history = 200; shape.textDim = 0; shape.timeDim = 16
        let big = try Model(bytes: TestModel.bytes(shape))
        var s = big.newState()
        for e in TestModel.events(count: 1000) { try big.update(&s, itemID: e.id, timestamp: e.time) }
        let size = try big.serialize(s).count
        XCTAssertLessThanOrEqual(size, 2560, "d=64, L=200 state blob should be ≤ 2.5 KB, is \(size)")
    }

    func testRoundTripGivesBitIdenticalScores() throws {
        for n in [0, 1, 13, 57] {
            let s = try feed(n)
            let blob = try model.serialize(s)
            let back = try model.deserialize(blob)
            XCTAssertEqual(back, s)
            XCTAssertEqual(try model.scores(back, now: .lastEvent), try model.scores(s, now: .lastEvent))
            XCTAssertEqual(try model.serialize(back), blob, "re-serialising gives the same bytes")
            // Continuing after a round trip equals continuing the original.
            var a = s, b = back
            try model.update(&a, itemID: TestModel.itemID(3), timestamp: 2_000_000_000)
            try model.update(&b, itemID: TestModel.itemID(3), timestamp: 2_000_000_000)
            XCTAssertEqual(try model.scores(a, now: .at(2_000_000_100)), try model.scores(b, now: .at(2_000_000_100)))
        }
    }

    func expectError(_ status: LSRecStatus, _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) {
        do {
            try body()
            XCTFail("expected \(status)", file: file, line: line)
        } catch let e as LSRecError {
            XCTAssertEqual(e.status, status, e.message, file: file, line: line)
            XCTAssertFalse(e.message.isEmpty, file: file, line: line)
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
    }

    /// Re-seals a blob after editing it, so the decoder's later checks are reached.
    func reseal(_ blob: [UInt8]) -> [UInt8] {
        var b = Array(blob.dropLast(4))
        let crc = crc32c(b)
        for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i)))) }
        return b
    }

    func testDamagedBlobsAreRefusedWithSpecificStatus() throws {
        let blob = try model.serialize(feed(25))
        expectError(.truncated) { _ = try model.deserialize([]) }
        expectError(.truncated) { _ = try model.deserialize(Array(blob.prefix(20))) }
        expectError(.truncated) { _ = try model.deserialize(Array(blob.dropLast())) }
        expectError(.format) { _ = try model.deserialize(blob + [0]) }
        var bad = blob; bad[0] = UInt8(ascii: "X")
        expectError(.badMagic) { _ = try model.deserialize(bad) }
        bad = blob; bad[4] = 3   // versions 1 and 2 are read
        expectError(.version) { _ = try model.deserialize(bad) }
        bad = blob; bad[blob.count / 2] ^= 0x10
        expectError(.checksum) { _ = try model.deserialize(bad) }
        // Every single-bit flip anywhere is refused (never accepted, never a trap).
        for i in 0..<blob.count {
            for bit in 0..<8 {
                var flipped = blob; flipped[i] ^= UInt8(1 << bit)
                XCTAssertThrowsError(try model.deserialize(flipped), "flip at byte \(i) bit \(bit) accepted")
            }
        }
        // Resealed edits reach the structural checks.
        bad = blob; bad[12] ^= 1   // fingerprint
        expectError(.modelMismatch) { _ = try model.deserialize(reseal(bad)) }
        bad = blob; bad[20] = 99   // d
        expectError(.format) { _ = try model.deserialize(reseal(bad)) }
        bad = blob; bad[28] = 3    // event count 3 < the 20 held events
        expectError(.format) { _ = try model.deserialize(reseal(bad)) }
        bad = blob; bad[StateCodec.headerSize] = 0x00; bad[StateCodec.headerSize + 1] = 0x00; bad[StateCodec.headerSize + 2] = 0xC0; bad[StateCodec.headerSize + 3] = 0x7F  // h[0] = NaN
        expectError(.format) { _ = try model.deserialize(reseal(bad)) }
        // Found by fuzzing (docs/RELIABILITY.md): an event count of 2^64 - 1 was accepted and the
        // next update trapped on the overflow, killing the host. Counts beyond 2^63 - 1 are refused.
        for count: UInt64 in [.max, 1 << 63] {
            bad = blob
            for i in 0..<8 { bad[28 + i] = UInt8(truncatingIfNeeded: count >> (8 * UInt64(i))) }
            expectError(.format) { _ = try model.deserialize(reseal(bad)) }
        }
        bad = blob
        for i in 0..<8 { bad[28 + i] = UInt8(truncatingIfNeeded: UInt64(Int64.max) >> (8 * UInt64(i))) }
        var huge = try model.deserialize(reseal(bad))   // the largest count is fine, and counts on
        try model.update(&huge, itemID: TestModel.itemID(3), timestamp: -1)
        XCTAssertEqual(huge.eventCount, UInt64(Int64.max) + 1)
    }

    func testBlobFromAnotherModelIsRefused() throws {
        let other = try Model(bytes: TestModel.bytes(seed: 43))
        var s = other.newState()
        try other.update(&s, itemID: TestModel.itemID(1), timestamp: 100)
        expectError(.modelMismatch) { _ = try model.deserialize(other.serialize(s)) }
        expectError(.modelMismatch) { try model.update(&s, itemID: TestModel.itemID(1), timestamp: 200) }
        expectError(.modelMismatch) { _ = try model.scores(s, now: .lastEvent) }
    }

    func testEventPolicy() throws {
        var s = try feed(5)
        let before = s
        let last = s.lastTime
        expectError(.outOfOrder) { try model.update(&s, itemID: TestModel.itemID(1), timestamp: last - 1) }
        expectError(.invalidArgument) { try model.update(&s, itemID: TestModel.itemID(1), timestamp: -2) }
        expectError(.unknownItem) { try model.update(&s, itemID: 5, timestamp: last) }
        XCTAssertEqual(s, before, "failed updates change nothing")
        try model.update(&s, itemID: TestModel.itemID(1), timestamp: last)       // equal time is fine
        try model.update(&s, itemID: TestModel.itemID(2), timestamp: -1)          // unknown time is fine
        XCTAssertEqual(s.lastTime, last, "an unknown time does not move the clock")
        // A batch is all or nothing: a bad third event leaves the state untouched.
        let mid = s
        expectError(.outOfOrder) {
            try model.update(&s, itemIndices: [1, 2, 3], timestamps: [last + 10, last + 20, last + 15])
        }
        XCTAssertEqual(s, mid)
        try model.update(&s, itemIndices: [1, 2, 3], timestamps: [last + 10, -1, last + 20])
        XCTAssertEqual(s.eventCount, mid.eventCount + 3)
    }

    func testUpdateIsIndependentOfBatching() throws {
        let events = TestModel.events(count: 40)
        var one = model.newState(), many = model.newState()
        for e in events { try model.update(&one, itemID: e.id, timestamp: e.time) }
        try model.update(&many, itemIndices: events.map { model.index(ofItem: $0.id)! }, timestamps: events.map(\.time))
        XCTAssertEqual(one, many)
    }
}

final class RebaseTests: XCTestCase {
    func testRebaseEqualsFeedingTheHeldEventsToTheNewModel() throws {
        let old = try Model(bytes: TestModel.bytes(seed: 42))
        // A "retrained" model: other weights, and a catalogue without the last 50 items.
        var shape = TestModel.Shape()
        shape.nItems = 250
        let newModel = try Model(bytes: TestModel.bytes(shape, seed: 99))
        var s = old.newState()
        let events = TestModel.events(count: 45)
        for e in events { try old.update(&s, itemID: e.id, timestamp: e.time) }
        let (moved, skipped) = try newModel.rebase(s, from: old)
        let held = events.suffix(old.config.history)
        let known = held.filter { newModel.index(ofItem: $0.id) != nil }
        XCTAssertGreaterThan(skipped, 0, "the test should exercise skipping")
        XCTAssertEqual(skipped, held.count - known.count)
        var scratch = newModel.newState()
        for e in known { try newModel.update(&scratch, itemID: e.id, timestamp: e.time) }
        XCTAssertEqual(moved, scratch)
        XCTAssertEqual(try newModel.scores(moved, now: .lastEvent), try newModel.scores(scratch, now: .lastEvent))
        XCTAssertThrowsError(try newModel.rebase(s, from: newModel), "a state must come from `from`")
    }
}
