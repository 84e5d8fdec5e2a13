import LSRecFormat

/// Serialised user state, all little-endian (docs/FORMAT.md, "User-state blob"):
///
///     "LSRS" | u32 version | u32 total length | u64 model fingerprint | u32 d | u32 L
///     | u64 event count | i64 last time | u32 held events | i64 base time
///     | d × f32 h | d × f32 c
///     | (version 2 only) u32 A | A × (i64 item id, d × f32 item vector)
///     | held × (varint item code, varint time code) | u32 CRC32C of all before
///
/// Time code: 0 = unknown, else 1 + (time − previous known time in the ring, or base time).
/// Item code, version 1: the dense model index (< N). Version 2: 0 = the next entry of the
/// added-item table, else 1 + the dense model index. Version 2 is written only for a state
/// holding events on items added to a catalogue; its table holds one entry per such event, in
/// ring order, each used by exactly one event (one canonical blob per state; no N needed to write).
public enum StateCodec {
    static let magic: [UInt8] = Array("LSRS".utf8)
    /// A state whose held events are all model items.
    public static let version: UInt32 = 1
    /// A state holding events on items added to a catalogue (the added-item table).
    public static let versionWithAddedItems: UInt32 = 2
    static let headerSize = 4 + 4 + 4 + 8 + 4 + 4 + 8 + 8 + 4 + 8

    /// Bytes of the serialised state.
    public static func encode(_ s: UserState) -> [UInt8] {
        let d = s.h.count
        let v2 = s.holdsAddedItems
        var out = [UInt8]()
        out.reserveCapacity(headerSize + 8 * d + 6 * s.historyCount + 4 + (v2 ? 4 + s.historyCount * (8 + 4 * d) : 0))
        out += magic
        put32(&out, v2 ? versionWithAddedItems : version)
        put32(&out, 0)  // total length, patched below
        put64(&out, s.modelFingerprint)
        put32(&out, UInt32(d))
        put32(&out, UInt32(s.capacity))
        put64(&out, s.eventCount)
        put64(&out, UInt64(bitPattern: s.lastTime))
        put32(&out, UInt32(s.historyCount))
        let base: Int64 = (0..<s.historyCount).lazy.map(s.historyTime).first(where: { $0 >= 0 }) ?? -1
        put64(&out, UInt64(bitPattern: base))
        for v in s.h { put32(&out, v.bitPattern) }
        for v in s.c { put32(&out, v.bitPattern) }
        if v2 {
            let table = (0..<s.historyCount).compactMap(s.addedEntry)
            put32(&out, UInt32(table.count))
            for (id, e) in table {
                put64(&out, UInt64(bitPattern: id))
                for v in e { put32(&out, v.bitPattern) }
            }
        }
        var previous = base
        for r in 0..<s.historyCount {
            let item = s.historyItem(r)
            putVarint(&out, v2 ? (item < 0 ? 0 : UInt64(item) + 1) : UInt64(item))
            let t = s.historyTime(r)
            if t < 0 {
                putVarint(&out, 0)
            } else {
                putVarint(&out, UInt64(t - previous) + 1)
                previous = t
            }
        }
        let total = UInt32(out.count + 4)
        for i in 0..<4 { out[8 + i] = UInt8(truncatingIfNeeded: total >> (8 * UInt32(i))) }
        put32(&out, crc32c(out))
        return out
    }

    /// Parses a blob for `model`; every inconsistency is a specific error, never a trap.
    public static func decode(_ bytes: [UInt8], for model: Model) throws -> UserState {
        var r = Reader(bytes: bytes)
        guard bytes.count >= headerSize + 4 else {
            throw LSRecError(.truncated, "state blob has \(bytes.count) bytes, a valid one has at least \(headerSize + 4)")
        }
        guard Array(bytes[0..<4]) == magic else { throw LSRecError(.badMagic, "not an lsrec state blob (bad magic)") }
        r.offset = 4
        let version = try r.u32()
        guard version == Self.version || version == versionWithAddedItems else {
            throw LSRecError(.version, "state blob version \(version); this library reads versions \(Self.version) and \(versionWithAddedItems)")
        }
        let total = Int(try r.u32())
        guard total <= bytes.count else {
            throw LSRecError(.truncated, "state blob says \(total) bytes, got \(bytes.count)")
        }
        guard total == bytes.count else {
            throw LSRecError(.format, "state blob says \(total) bytes, got \(bytes.count)")
        }
        let stored = UInt32(bytes[total - 4]) | UInt32(bytes[total - 3]) << 8
            | UInt32(bytes[total - 2]) << 16 | UInt32(bytes[total - 1]) << 24
        guard crc32c(Array(bytes[0..<(total - 4)])) == stored else {
            throw LSRecError(.checksum, "state blob checksum mismatch")
        }
        let fingerprint = try r.u64()
        guard fingerprint == model.fingerprint else {
            throw LSRecError(.modelMismatch, "state blob belongs to model " + fingerprintHex(fingerprint)
                + ", not to this model " + fingerprintHex(model.fingerprint))
        }
        let d = Int(try r.u32()), capacity = Int(try r.u32())
        guard d == model.dim, capacity == model.config.history else {
            throw LSRecError(.format, "state blob has d=\(d), L=\(capacity); the model has d=\(model.dim), L=\(model.config.history)")
        }
        let eventCount = try r.u64()
        let lastTime = Int64(bitPattern: try r.u64())
        let held = Int(try r.u32())
        let base = Int64(bitPattern: try r.u64())
        guard UInt64(held) == min(eventCount, UInt64(capacity)), lastTime >= -1, base >= -1 else {
            throw LSRecError(.format, "state blob counters are inconsistent (held \(held), capacity \(capacity), events \(eventCount))")
        }
        // lsrec_state_n_events reports an int64, and the next event must be countable (an event
        // count of 2^64 - 1 used to trap in the next update, killing the host; found by fuzzing).
        guard eventCount <= UInt64(Int64.max) else {
            throw LSRecError(.format, "state blob's event count \(eventCount) exceeds 2^63 - 1")
        }
        var s = model.newState()
        for j in 0..<d { s.h[j] = Float(bitPattern: try r.u32()) }
        for j in 0..<d { s.c[j] = Float(bitPattern: try r.u32()) }
        guard s.h.allSatisfy({ $0.isFinite && abs($0) <= 1 }), s.c.allSatisfy({ $0.isFinite }) else {
            throw LSRecError(.format, "state blob holds a non-finite or out-of-range LSTM state")
        }
        let table = version == versionWithAddedItems ? try readAddedTable(&r, held: held, model: model) : []
        var nextEntry = 0
        var previous = base, newest: Int64 = -1
        for n in 0..<held {
            let itemCode = try r.varint()
            var entry: (id: Int64, vector: [Float])? = nil
            var item = itemCode
            if version == versionWithAddedItems {
                if itemCode == 0 {
                    guard nextEntry < table.count else {
                        throw LSRecError(.format, "state blob event \(n) refers to added item \(nextEntry + 1), the table has \(table.count)")
                    }
                    entry = table[nextEntry]
                    nextEntry += 1
                }
                item = itemCode &- 1
            }
            guard entry != nil || item < UInt64(model.nItems) else {
                throw LSRecError(.format, "state blob names item index \(item); the model has \(model.nItems) items")
            }
            let code = try r.varint()
            var time: Int64 = -1
            if code > 0 {
                guard previous >= 0, code - 1 <= UInt64(Int64.max - previous) else {
                    throw LSRecError(.format, "state blob holds an invalid event time")
                }
                time = previous + Int64(code - 1)
                previous = time
                newest = time
            }
            if let entry {
                entry.vector.withUnsafeBufferPointer { s.push(addedID: entry.id, vector: $0, time: time) }
            } else {
                s.push(item: Int32(item), time: time)
            }
        }
        guard nextEntry == table.count else {
            throw LSRecError(.format, "state blob's added-item table has \(table.count) entries, its events use \(nextEntry)")
        }
        guard r.offset == total - 4 else {
            throw LSRecError(.format, "state blob has \(total - 4 - r.offset) unexpected bytes after the events")
        }
        // The newest known time in the ring is the user's last known time (older ones were dropped).
        guard newest == -1 || newest == lastTime else {
            throw LSRecError(.format, "state blob's last time \(lastTime) disagrees with its newest event \(newest)")
        }
        s.eventCount = eventCount
        s.lastTime = lastTime
        return s
    }

    /// The version-2 table of added items: at most one entry per held event, each a valid added
    /// item for `model` (not one of its ids, not −1, d finite values within `heldVectorLimit`).
    private static func readAddedTable(_ r: inout Reader, held: Int, model: Model) throws -> [(id: Int64, vector: [Float])] {
        let count = Int(try r.u32()), d = model.dim
        guard count <= held else {
            throw LSRecError(.format, "state blob's added-item table has \(count) entries for \(held) held events")
        }
        // Checked before reserving anything: a hostile count cannot make us allocate.
        guard count * (8 + 4 * d) <= r.remaining else {
            throw LSRecError(.truncated, "state blob ends inside its added-item table")
        }
        var table: [(id: Int64, vector: [Float])] = []
        table.reserveCapacity(count)
        for j in 0..<count {
            let id = Int64(bitPattern: try r.u64())
            var e = [Float](repeating: 0, count: d)
            for k in 0..<d { e[k] = Float(bitPattern: try r.u32()) }
            do {
                try model.checkHeldAddedItem(id: id, vector: e)
            } catch let error as LSRecError {
                throw LSRecError(.format, "state blob's added item \(j): " + error.message)
            }
            table.append((id, e))
        }
        return table
    }

    private static func put32(_ out: inout [UInt8], _ v: UInt32) {
        for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) }
    }
    private static func put64(_ out: inout [UInt8], _ v: UInt64) {
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }
    private static func putVarint(_ out: inout [UInt8], _ v: UInt64) {
        var v = v
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        out.append(UInt8(v))
    }

    /// Bounds-checked little-endian cursor.
    private struct Reader {
        let bytes: [UInt8]
        var offset = 0
        /// Payload bytes left before the CRC.
        var remaining: Int { max(0, bytes.count - 4 - offset) }
        mutating func byte() throws -> UInt8 {
            guard offset < bytes.count - 4 else { throw LSRecError(.truncated, "state blob ends inside its payload") }
            defer { offset += 1 }
            return bytes[offset]
        }
        mutating func u32() throws -> UInt32 {
            var v: UInt32 = 0
            for i in 0..<4 { v |= UInt32(try byte()) << (8 * UInt32(i)) }
            return v
        }
        mutating func u64() throws -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(try byte()) << (8 * UInt64(i)) }
            return v
        }
        mutating func varint() throws -> UInt64 {
            var v: UInt64 = 0
            for shift in stride(from: 0, to: 64, by: 7) {
                let b = try byte()
                v |= UInt64(b & 0x7F) << UInt64(shift)
                if b & 0x80 == 0 { return v }
            }
            throw LSRecError(.format, "state blob holds an over-long varint")
        }
    }
}

extension Model {
    /// Serialises a state of this model.
    public func serialize(_ state: UserState) throws -> [UInt8] {
        try checkOwnership(state)
        return StateCodec.encode(state)
    }

    /// Restores a state serialised by this model (`.modelMismatch` for another model's blob).
    public func deserialize(_ bytes: [UInt8]) throws -> UserState {
        try StateCodec.decode(bytes, for: self)
    }
}
