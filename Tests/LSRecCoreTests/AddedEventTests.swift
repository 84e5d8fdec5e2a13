import Foundation
import XCTest
import LSRecFormat
@testable import LSRecCore

/// Events on items added to a catalogue after training (AddedEvents.swift): the state keeps the
/// item's id and vector, and every reader of held events treats it like a model item with that vector.
final class AddedEventTests: XCTestCase {
    static let addedID: Int64 = 5_000_000

    /// `base` with one more item (id `id`, embedding `e`, text row 0, bias `bias`): the model in
    /// which the added item *is* a model item with the same vector.
    static func withExtraItem(_ base: [UInt8], id: Int64, embedding e: [Float], bias: Float) throws -> [UInt8] {
        let f = try WeightFile(bytes: base)
        let n = Int(try f.int("lsrec.n_items")), k = Int(try f.int("lsrec.text_dim"))
        var b = WeightFileBuilder()
        for (key, value) in f.metadata { b.setMeta(key, value) }
        b.setMeta("lsrec.n_items", .int(Int64(n + 1)))
        for t in f.tensors {
            var shape = t.shape
            switch t.name {
            case "item.ids": b.addTensor(t.name, shape: [n + 1], int64s: try f.int64s(t.name) + [id]); continue
            case "item.embedding": shape[0] += 1; b.addTensor(t.name, shape: shape, floats: try f.floats(t.name) + e)
            case "item.bias": shape[0] += 1; b.addTensor(t.name, shape: shape, floats: try f.floats(t.name) + [bias])
            case "item.text": shape[0] += 1; b.addTensor(t.name, shape: shape, floats: try f.floats(t.name) + [Float](repeating: 0, count: k))
            default: b.addTensor(t.name, shape: shape, floats: try f.floats(t.name))
            }
        }
        return try b.build()
    }

    /// A mixed stream: model items with ids from TestModel.events, and the added item at some steps.
    static func stream(_ n: Int, addedEvery: Int) -> [(id: Int64, time: Int64)] {
        TestModel.events(count: n, seed: 3).enumerated().map { i, e in i % addedEvery == 2 ? (addedID, e.time) : e }
    }

    func feed(_ model: Model, _ s: inout UserState, _ e: (id: Int64, time: Int64), vector v: [Float]) throws {
        if e.id == Self.addedID {
            try model.update(&s, addedID: e.id, vector: v, timestamp: e.time)
        } else {
            try model.update(&s, itemID: e.id, timestamp: e.time)
        }
    }

    /// The core property, bit for bit: a state fed an added item (id, vector v) equals a state of
    /// a model that has v as a model item — LSTM, attention, gate, scores, explanations, exclusion.
    func testAddedEventEqualsAModelItemWithTheSameVector() throws {
        for fusion in ["gate", "long"] {
            var shape = TestModel.Shape()
            shape.textDim = 0  // item vectors are E exactly: no product that could round differently
            shape.fusion = fusion
            let baseBytes = try TestModel.bytes(shape)
            let a = try Model(bytes: baseBytes)
            var rng = TestModel.Rng(state: 77)
            let v = (0..<a.dim).map { _ in rng.uniform(0.5) }
            let b = try Model(bytes: Self.withExtraItem(baseBytes, id: Self.addedID, embedding: v, bias: 0.1))
            var sa = a.newState(), sb = b.newState()
            let events = Self.stream(2 * a.config.history + 5, addedEvery: 6)
            for (n, e) in events.enumerated() {
                try feed(a, &sa, e, vector: v)
                try b.update(&sb, itemID: e.id, timestamp: e.time)
                XCTAssertEqual(sa.h, sb.h, "\(fusion): h after event \(n)")
                XCTAssertEqual(sa.c, sb.c, "\(fusion): c after event \(n)")
            }
            XCTAssertEqual(sa.events.map { $0.item.id(in: a) }, sb.events.map { $0.item.id(in: b) })
            XCTAssertEqual(sa.events.map(\.time), sb.events.map(\.time))
            XCTAssertTrue(sa.events.contains { $0.item == .added(id: Self.addedID) }, "the added item is held")
            XCTAssertEqual(sa.history.filter { $0.item == -1 }.count, sa.events.filter { $0.item == .added(id: Self.addedID) }.count)
            let last = events.last { $0.time >= 0 }!.time
            for now in [RequestTime.lastEvent, .at(last + 86_400)] {
                XCTAssertEqual(try a.userVector(sa, now: now), try b.userVector(sb, now: now), "\(fusion) attention over the held vector")
                XCTAssertEqual(try a.scores(sa, now: now), Array(try b.scores(sb, now: now).prefix(a.nItems)))
            }
            for target in [0, 17, 123] {
                let ea = try a.explain(sa, now: .lastEvent, itemIndex: target, k: 1000)
                let eb = try b.explain(sb, now: .lastEvent, itemIndex: target, k: 1000)
                XCTAssertEqual(Dictionary(uniqueKeysWithValues: ea.map { ($0.item.id(in: a), $0.weight) }),
                               Dictionary(uniqueKeysWithValues: eb.map { ($0.item.id(in: b), $0.weight) }), "\(fusion) explain \(target)")
                XCTAssertTrue(ea.contains { $0.item == .added(id: Self.addedID) && $0.index == -1 })
            }
            // Excluding seen items: the added item is not a model item of `a`, so the same model items go.
            let ta = try a.topK(sa, now: .lastEvent, k: 40, excludeSeen: true)
            let tb = try b.topK(sb, now: .lastEvent, k: 40, excludeSeen: true)
            XCTAssertEqual(ta.map { a.itemIDs[$0.index] }, tb.map { b.itemIDs[$0.index] })
            XCTAssertEqual(ta.map(\.score), tb.map(\.score))
            XCTAssertEqual(try a.topKBatch([sa, sa], now: .lastEvent, k: 10, excludeSeen: true)[1].map(\.index),
                           Array(ta.prefix(10)).map(\.index))
            // Both attention paths (gathered keys, row loop) read the held vector.
            let d = a.dim, m = sa.historyCount
            let q = (0..<d).map { Float($0 % 5) * 0.3 - 0.6 }
            var a1 = [Float](repeating: 0, count: m), a2 = a1, m1 = [Float](repeating: 0, count: d), m2 = m1
            a.items.withUnsafeBufferPointer { x in
                q.withUnsafeBufferPointer { q in
                    a.attend(sa, x: x.baseAddress!, query: q.baseAddress!, alpha: &a1, mean: &m1, gather: true)
                    a.attend(sa, x: x.baseAddress!, query: q.baseAddress!, alpha: &a2, mean: &m2, gather: false)
                }
            }
            for (x, y) in zip(m1, m2) { XCTAssertEqual(x, y, accuracy: 1e-5) }
            // Rebase onto b (which knows the id) keeps the event; onto a model without it, skips it.
            let (moved, skipped) = try b.rebase(sa, from: a)
            XCTAssertEqual(skipped, 0)
            var replay = b.newState()
            for e in sa.events { try b.update(&replay, itemID: e.item.id(in: a), timestamp: e.time) }
            XCTAssertEqual(moved, replay)
            let (back, dropped) = try a.rebase(sb, from: b)
            XCTAssertEqual(dropped, sa.events.filter { $0.item == .added(id: Self.addedID) }.count)
            XCTAssertFalse(back.holdsAddedItems)
        }
    }

    /// Through a catalogue on a text model, against the float64 reference of the model in which
    /// the added item is a model item.
    func testCatalogueEventOnAddedItemMatchesReference() throws {
        let bytes = try TestModel.bytes()
        let model = try Model(bytes: bytes)
        var cat = Catalog(model: model)
        let text: [Float] = (0..<8).map { Float(sin(Double($0) * 1.3 + 0.4)) }
        try cat.add(id: Self.addedID, text: text)
        try cat.add(id: 6_000_000, text: text.map { -$0 })
        let v = try cat.vector(ofItem: Self.addedID).vector
        let ref = try Reference(bytes: Self.withExtraItem(bytes, id: Self.addedID, embedding: v, bias: model.newItemBias))
        let events = Self.stream(45, addedEvery: 7)
        var s = model.newState()
        for e in events { try cat.update(&s, itemID: e.id, timestamp: e.time) }
        let r = ref.run(events)
        for j in 0..<model.dim {
            XCTAssertEqual(Double(s.h[j]), r.h[j], accuracy: 1e-4)
            XCTAssertEqual(Double(s.c[j]), r.c[j], accuracy: 1e-4)
        }
        // Scores (u includes attention over the held added vector).
        let refScores = ref.scores(r, now: nil)
        let ids: [Int64] = [Self.addedID, TestModel.itemID(5), TestModel.itemID(250)]
        let got = try cat.scores(s, now: .lastEvent, itemIDs: ids)
        for (id, g) in zip(ids, got) {
            XCTAssertEqual(Double(g), refScores[ref.ids.firstIndex(of: id)!], accuracy: 1e-4)
        }
        // Explanations name the added item by id, with the reference's weight.
        let target = 17
        let parts = try cat.explain(s, now: .lastEvent, itemID: TestModel.itemID(target), k: 1000)
        let refParts = ref.contributions(r, item: target, now: nil)
        XCTAssertEqual(Set(parts.map(\.id)), Set(refParts.keys.map { ref.ids[$0] }))
        for p in parts { XCTAssertEqual(Double(p.score), refParts[ref.ids.firstIndex(of: p.id)!]!, accuracy: 1e-4) }
        XCTAssertTrue(parts.contains { $0.id == Self.addedID })
        // excludeSeen drops the held added item (and not the other added one).
        let all = try cat.topK(s, now: .lastEvent, k: cat.count)
        let unseen = try cat.topK(s, now: .lastEvent, k: cat.count, excludeSeen: true)
        XCTAssertTrue(all.contains { $0.id == Self.addedID })
        XCTAssertFalse(unseen.contains { $0.id == Self.addedID })
        XCTAssertTrue(unseen.contains { $0.id == 6_000_000 })
        let seen = Set(s.events.map { $0.item.id(in: model) })
        XCTAssertEqual(Set(unseen.map(\.id)), Set(cat.itemIDs).subtracting(seen))

        // Removing the item later changes nothing the state holds: it keeps its copy.
        let blobBefore = try model.serialize(s)
        try cat.remove(id: Self.addedID)
        XCTAssertEqual(try model.serialize(s), blobBefore)
        let after = try cat.explain(s, now: .lastEvent, itemID: TestModel.itemID(target), k: 1000)
        XCTAssertEqual(after, parts)
        XCTAssertFalse(try cat.topK(s, now: .lastEvent, k: cat.count).contains { $0.id == Self.addedID })
        // …but new events on it are refused, with the state unchanged.
        let before = s
        XCTAssertThrowsError(try cat.update(&s, itemID: Self.addedID, timestamp: -1)) { e in
            assertStatus(e, .unknownItem)
            XCTAssertTrue((e as! LSRecError).message.contains("not in the catalogue"))
        }
        XCTAssertEqual(s, before)
        // The bare model never knew it.
        XCTAssertThrowsError(try model.update(&s, itemID: 6_000_000, timestamp: -1)) { assertStatus($0, .unknownItem) }
        XCTAssertEqual(s, before)
    }

    func testBadAddedEventsChangeNothing() throws {
        let model = try Model(bytes: TestModel.bytes())
        var cat = Catalog(model: model)
        try cat.add(id: Self.addedID, text: [Float](repeating: 0.3, count: 8))
        var s = model.newState()
        try cat.update(&s, itemID: TestModel.itemID(1), timestamp: 1000)
        let before = s
        XCTAssertThrowsError(try cat.update(&s, itemID: Self.addedID, timestamp: 999)) { assertStatus($0, .outOfOrder) }
        XCTAssertThrowsError(try cat.update(&s, itemID: Self.addedID, timestamp: -2)) { assertStatus($0, .invalidArgument) }
        XCTAssertThrowsError(try cat.update(&s, itemID: 31_337, timestamp: 2000)) { assertStatus($0, .unknownItem) }
        let v = [Float](repeating: 0.1, count: model.dim)
        XCTAssertThrowsError(try model.update(&s, addedID: TestModel.itemID(2), vector: v, timestamp: 2000)) { assertStatus($0, .invalidArgument) }
        XCTAssertThrowsError(try model.update(&s, addedID: -1, vector: v, timestamp: 2000)) { assertStatus($0, .invalidArgument) }
        XCTAssertThrowsError(try model.update(&s, addedID: 9, vector: [0.1], timestamp: 2000)) { assertStatus($0, .invalidArgument) }
        var nan = v; nan[3] = .nan
        XCTAssertThrowsError(try model.update(&s, addedID: 9, vector: nan, timestamp: 2000)) { assertStatus($0, .nonFinite) }
        var huge = v; huge[0] = model.heldVectorLimit * 2
        XCTAssertThrowsError(try model.update(&s, addedID: 9, vector: huge, timestamp: 2000)) { assertStatus($0, .nonFinite) }
        XCTAssertEqual(s, before)
        // The limit leaves room: 2^16 × the largest model item component for this model.
        let top = model.itemColumnMax.max()!
        XCTAssertEqual(Double(model.heldVectorLimit), top * 65536, accuracy: top * 65536 * 1e-6)
        huge[0] = model.heldVectorLimit
        try model.update(&s, addedID: 9, vector: huge, timestamp: 2000)
        XCTAssertTrue(try model.scores(s, now: .lastEvent).allSatisfy(\.isFinite))
    }

    /// The side table holds one slot per held added event and frees it when the ring drops it.
    func testRingWrapAroundDropsSideEntries() throws {
        let model = try Model(bytes: TestModel.bytes())
        let L = model.config.history
        var s = model.newState()
        var rng = TestModel.Rng(state: 5)
        var reference: [(id: Int64, vector: [Float])?] = []
        for n in 0..<(5 * L) {
            if rng.next() % 3 == 0 {
                let id = Int64(7_000_000 + n)
                let v = (0..<model.dim).map { _ in rng.uniform(0.4) }
                try model.update(&s, addedID: id, vector: v, timestamp: -1)
                reference.append((id, v))
            } else {
                try model.update(&s, itemIndex: n % 300, timestamp: -1)
                reference.append(nil)
            }
            if reference.count > L { reference.removeFirst() }
            let live = reference.compactMap { $0 }
            XCTAssertEqual(s.added.live, live.count)
            XCTAssertLessThanOrEqual(s.added.ids.count, L, "the table never exceeds L slots")
            XCTAssertEqual((0..<s.historyCount).compactMap { s.addedEntry($0).map { [Float]($0.vector) } }, live.map(\.vector))
            XCTAssertEqual((0..<s.historyCount).compactMap { s.addedEntry($0)?.id }, live.map(\.id))
        }
        // L model events later no added event is held: the table is released.
        for n in 0..<L { try model.update(&s, itemIndex: n, timestamp: -1) }
        XCTAssertFalse(s.holdsAddedItems)
        XCTAssertTrue(s.added.ids.isEmpty && s.added.vectors.isEmpty)
        XCTAssertEqual(try model.serialize(s)[4], 1, "a state without added events is written as version 1")
    }

    func testBlobVersionsRoundTrip() throws {
        let model = try Model(bytes: TestModel.bytes())
        var cat = Catalog(model: model)
        try cat.add(id: Self.addedID, text: [Float](repeating: 0.2, count: 8))
        var plain = model.newState()
        for e in TestModel.events(count: 12) { try cat.update(&plain, itemID: e.id, timestamp: e.time) }  // < L: nothing dropped
        let v1 = try model.serialize(plain)
        XCTAssertEqual(v1[4], 1)
        XCTAssertEqual(v1, StateCodec.encode(plain))
        var s = plain
        try cat.update(&s, itemID: Self.addedID, timestamp: -1)
        try cat.update(&s, itemID: TestModel.itemID(4), timestamp: -1)
        try cat.update(&s, itemID: Self.addedID, timestamp: plain.lastTime + 60)
        let v2 = try model.serialize(s)
        XCTAssertEqual(v2[4], 2)
        // The v2 overhead: a u32 count, two entries of 8 + 4d bytes, the three new events (1-byte
        // codes each), and one more byte for a held model index of 127 (code 128 is two bytes).
        let widened = plain.history.filter { $0.item == 127 }.count
        XCTAssertEqual(v2.count - v1.count, 4 + 2 * (8 + 4 * model.dim) + 6 + widened)
        let back = try model.deserialize(v2)
        XCTAssertEqual(back, s)
        XCTAssertEqual(try model.serialize(back), v2)
        XCTAssertEqual(try model.scores(back, now: .lastEvent), try model.scores(s, now: .lastEvent))
        var a = s, b = back
        try cat.update(&a, itemID: Self.addedID, timestamp: -1)
        try cat.update(&b, itemID: Self.addedID, timestamp: -1)
        XCTAssertEqual(a, b)
        XCTAssertEqual(try model.deserialize(v1), plain)
    }

    /// Re-seals a blob after editing it, so the decoder's later checks are reached.
    func reseal(_ blob: [UInt8]) -> [UInt8] {
        var b = Array(blob.dropLast(4))
        let crc = crc32c(b)
        for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i)))) }
        return b
    }

    func expectFormat(_ model: Model, _ blob: [UInt8], _ what: String, _ status: LSRecStatus = .format,
                      file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try model.deserialize(reseal(blob)), what, file: file, line: line) { e in
            XCTAssertEqual((e as? LSRecError)?.status, status, "\(what): \(e)", file: file, line: line)
        }
    }

    func testHostileVersion2BlobsAreRefused() throws {
        let model = try Model(bytes: TestModel.bytes())
        let d = model.dim
        var s = model.newState()
        try model.update(&s, itemIndex: 3, timestamp: 100)
        try model.update(&s, addedID: 42, vector: [Float](repeating: 0.25, count: d), timestamp: 200)
        try model.update(&s, itemIndex: 4, timestamp: -1)
        let blob = try model.serialize(s)
        let table = StateCodec.headerSize + 8 * d   // u32 count, then (i64 id, d × f32)
        let events = table + 4 + 8 + 4 * d          // (varint item code, varint time code) × 3
        XCTAssertEqual(blob[4], 2)
        XCTAssertEqual(Array(blob[table..<table + 4]), [1, 0, 0, 0])
        XCTAssertEqual(Array(blob[events..<events + 6]), [4, 1, 0, 101, 5, 0], "codes: 1 + index, 0 = table entry")
        XCTAssertEqual(try model.deserialize(blob), s)

        // Every single-bit flip and every truncation is refused, never a trap.
        for i in 0..<blob.count {
            for bit in 0..<8 {
                var flipped = blob; flipped[i] ^= UInt8(1 << bit)
                XCTAssertThrowsError(try model.deserialize(flipped), "flip at byte \(i) bit \(bit) accepted")
            }
        }
        for n in 0..<blob.count { XCTAssertThrowsError(try model.deserialize(Array(blob.prefix(n)))) }

        func edit(_ at: Int, _ bytes: [UInt8]) -> [UInt8] {
            var b = blob
            b.replaceSubrange(at..<at + bytes.count, with: bytes)
            return b
        }
        func le64(_ v: Int64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: v) >> (8 * UInt64($0))) } }
        func le32f(_ v: Float) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt32($0))) } }
        expectFormat(model, edit(table, [4, 0, 0, 0]), "more table entries than held events")
        expectFormat(model, edit(table, [2, 0, 0, 0]), "2 entries, would run past the payload", .truncated)
        expectFormat(model, edit(table, [0, 0, 0, 0]), "an event uses an entry the table lacks (the id's bytes read as events)")
        expectFormat(model, edit(table, [0xFF, 0xFF, 0xFF, 0xFF]), "absurd table size")
        expectFormat(model, edit(table + 4, le64(-1)), "id -1")
        expectFormat(model, edit(table + 4, le64(TestModel.itemID(9))), "id of a model item")
        expectFormat(model, edit(table + 12, le32f(.nan)), "NaN in the vector")
        expectFormat(model, edit(table + 12, le32f(.infinity)), "Inf in the vector")
        expectFormat(model, edit(table + 12 + 4 * (d - 1), le32f(model.heldVectorLimit * 4)), "vector beyond the limit")
        expectFormat(model, edit(events + 2, [1]), "entry never used (its event names model item 0)")
        expectFormat(model, edit(events, [0]), "two events, one entry")
        XCTAssertEqual(model.nItems, 300)
        expectFormat(model, edit(events, [0xAD, 0x02]), "model index 300 = N (code 301)")
        // A v1 blob relabelled as version 2: its events are read as a table — refused, not trapped.
        var plain = model.newState()
        for e in TestModel.events(count: 25) { try model.update(&plain, itemID: e.id, timestamp: e.time) }
        var relabelled = try model.serialize(plain); relabelled[4] = 2
        XCTAssertThrowsError(try model.deserialize(reseal(relabelled)))
        var v3 = blob; v3[4] = 3
        expectFormat(model, v3, "version 3", .version)
    }
}
