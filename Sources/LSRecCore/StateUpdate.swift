import LSRecFormat

extension Model {
    /// A fresh state for a user with no events (h = c = 0).
    public func newState() -> UserState {
        UserState(modelFingerprint: fingerprint, dim: dim, capacity: config.history)
    }

    /// Throws `.modelMismatch` unless `state` was made by this model.
    @inline(__always)
    func checkOwnership(_ state: UserState) throws {
        guard state.modelFingerprint == fingerprint, state.h.count == dim, state.capacity == config.history else {
            throw LSRecError(.modelMismatch, "the state was created by another model (fingerprint "
                + fingerprintHex(state.modelFingerprint) + ", this model " + fingerprintHex(fingerprint) + ")")
        }
    }

    /// Checks an event without changing anything; the error says what is wrong.
    public func validateEvent(_ state: UserState, itemIndex: Int, timestamp: Int64) throws {
        try checkOwnership(state)
        guard itemIndex >= 0 && itemIndex < nItems else {
            throw LSRecError(.unknownItem, "item index \(itemIndex) is outside 0..<\(nItems)")
        }
        guard timestamp >= -1 else {
            throw LSRecError(.invalidArgument, "timestamp \(timestamp) is negative (use -1 for an unknown time)")
        }
        if timestamp >= 0 && state.lastTime >= 0 && timestamp < state.lastTime {
            throw LSRecError(.outOfOrder, "timestamp \(timestamp) is earlier than the previous event's \(state.lastTime)")
        }
    }

    /// Feeds one event (MODEL.md, LSTM step): O(d²) time, no growth beyond L events.
    /// `timestamp` is unix seconds, or -1 when unknown. On error the state is unchanged.
    public func update(_ state: inout UserState, itemIndex: Int, timestamp: Int64) throws {
        try validateEvent(state, itemIndex: itemIndex, timestamp: timestamp)
        lstmStep(&state, itemIndex: itemIndex, timestamp: timestamp)
    }

    /// Feeds one event by external item id.
    public func update(_ state: inout UserState, itemID: Int64, timestamp: Int64) throws {
        guard let index = index(ofItem: itemID) else {
            throw LSRecError(.unknownItem, "item id \(itemID) is not in the model")
        }
        try update(&state, itemIndex: index, timestamp: timestamp)
    }

    /// The LSTM recurrence on a validated event, with no heap allocation:
    /// z = (b + W_x[:, d:] G[bucket]) + W_x[:, :d] e + W_h h  (the first term prepared per bucket).
    func lstmStep(_ state: inout UserState, itemIndex: Int, timestamp: Int64) {
        let d = dim, t = config.timeDim
        let gap: Int64? = (timestamp >= 0 && state.lastTime >= 0) ? timestamp - state.lastTime : nil
        let bucket = timeBucket(gap, buckets: config.timeBuckets)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * d) { zb in
            let z = zb.baseAddress!
            prepared.lstmByBucket.withUnsafeBufferPointer { z.update(from: $0.baseAddress! + bucket * 4 * d, count: 4 * d) }
            lstmWx.withUnsafeBufferPointer { wx in
                items.withUnsafeBufferPointer { x in
                    gemv(wx.baseAddress!, lda: d + t, rows: 4 * d, cols: d, x.baseAddress! + itemIndex * d, accumulate: true, z)
                }
            }
            lstmWh.withUnsafeBufferPointer { wh in
                state.h.withUnsafeBufferPointer { h in
                    gemv(wh.baseAddress!, lda: d, rows: 4 * d, cols: d, h.baseAddress!, accumulate: true, z)
                }
            }
            state.c.withUnsafeMutableBufferPointer { c in
                state.h.withUnsafeMutableBufferPointer { h in
                    lstmCell(z, c.baseAddress!, h.baseAddress!, d)
                }
            }
        }
        state.push(item: Int32(itemIndex), time: timestamp)
    }
}

extension Model {
    /// Feeds events in order, all or nothing: every event is validated (including the order of
    /// times across the batch) before the first is applied.
    public func update(_ state: inout UserState, itemIndices: [Int], timestamps: [Int64]) throws {
        try checkOwnership(state)
        guard itemIndices.count == timestamps.count else {
            throw LSRecError(.invalidArgument, "\(itemIndices.count) items but \(timestamps.count) timestamps")
        }
        var last = state.lastTime
        for (n, (item, time)) in zip(itemIndices, timestamps).enumerated() {
            guard item >= 0 && item < nItems else {
                throw LSRecError(.unknownItem, "event \(n): item index \(item) is outside 0..<\(nItems)")
            }
            guard time >= -1 else {
                throw LSRecError(.invalidArgument, "event \(n): timestamp \(time) is negative (use -1 for an unknown time)")
            }
            if time >= 0 && last >= 0 && time < last {
                throw LSRecError(.outOfOrder, "event \(n): timestamp \(time) is earlier than the previous event's \(last)")
            }
            if time >= 0 { last = time }
        }
        for (item, time) in zip(itemIndices, timestamps) {
            lstmStep(&state, itemIndex: item, timestamp: time)
        }
    }
}

extension Model {
    /// Moves a user to this (e.g. newly trained) model: replays the events `state` holds (the last
    /// L, with their times) into a fresh state of this model. The result equals feeding those
    /// events to this model from scratch. Items this model does not know are skipped and counted.
    public func rebase(_ state: UserState, from old: Model) throws -> (state: UserState, skipped: Int) {
        try old.checkOwnership(state)
        var fresh = newState()
        var items: [Int] = [], times: [Int64] = []
        for (item, time) in state.history {
            guard let index = index(ofItem: old.itemIDs[item]) else { continue }
            items.append(index)
            times.append(time)
        }
        try update(&fresh, itemIndices: items, timestamps: times)
        return (fresh, state.historyCount - items.count)
    }
}
