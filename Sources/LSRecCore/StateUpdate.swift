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

    /// The LSTM step on a validated event on model item `itemIndex`, with no heap allocation.
    func lstmStep(_ state: inout UserState, itemIndex: Int, timestamp: Int64) {
        items.withUnsafeBufferPointer { x in
            lstmRecurrence(&state, input: x.baseAddress! + itemIndex * dim, timestamp: timestamp)
        }
        state.push(item: Int32(itemIndex), time: timestamp)
    }

    /// The LSTM recurrence on a validated event whose item vector is `e` (d floats):
    /// z = (b + W_x[:, d:] G[bucket]) + W_x[:, :d] e + W_h h  (the first term prepared per bucket).
    /// Updates h and c; the caller records the event in the ring.
    private func lstmRecurrence(_ state: inout UserState, input e: UnsafePointer<Float>, timestamp: Int64) {
        let d = dim, t = config.timeDim
        let gap: Int64? = (timestamp >= 0 && state.lastTime >= 0) ? timestamp - state.lastTime : nil
        let bucket = timeBucket(gap, buckets: config.timeBuckets)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * d) { zb in
            let z = zb.baseAddress!
            prepared.lstmByBucket.withUnsafeBufferPointer { z.update(from: $0.baseAddress! + bucket * 4 * d, count: 4 * d) }
            lstmWx.withUnsafeBufferPointer { wx in
                gemv(wx.baseAddress!, lda: d + t, rows: 4 * d, cols: d, e, accumulate: true, z)
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
    }

    /// Feeds an event on an item that is not one of the model's — one added to a catalogue after
    /// training (`Catalog.update` is the way in) — with its id and vector e (d floats). The LSTM
    /// step uses e as it would a model item's vector; the state keeps (id, e) with the event, so
    /// attention, explanations and blobs see it without the catalogue. Refused (state unchanged):
    /// an id of the model or −1, a vector of the wrong length, non-finite or beyond
    /// `heldVectorLimit`, and the time errors of `validateEvent`.
    func update(_ state: inout UserState, addedID id: Int64, vector e: [Float], timestamp: Int64) throws {
        try checkOwnership(state)
        try checkHeldAddedItem(id: id, vector: e)
        guard timestamp >= -1 else {
            throw LSRecError(.invalidArgument, "timestamp \(timestamp) is negative (use -1 for an unknown time)")
        }
        if timestamp >= 0 && state.lastTime >= 0 && timestamp < state.lastTime {
            throw LSRecError(.outOfOrder, "timestamp \(timestamp) is earlier than the previous event's \(state.lastTime)")
        }
        e.withUnsafeBufferPointer { v in
            lstmRecurrence(&state, input: v.baseAddress!, timestamp: timestamp)
            state.push(addedID: id, vector: v, time: timestamp)
        }
    }

    /// Why (id, e) cannot be held by a state as an added item, if it cannot: the id must not name
    /// a model item (or −1, free side slots), e must be d finite values within `heldVectorLimit`.
    func checkHeldAddedItem(id: Int64, vector e: [Float]) throws {
        guard id != AddedEvents.free else {
            throw LSRecError(.invalidArgument, "item id -1 is reserved")
        }
        guard index(ofItem: id) == nil else {
            throw LSRecError(.invalidArgument, "item id \(id) is one of the model's items, not an added one")
        }
        guard e.count == dim else {
            throw LSRecError(.invalidArgument, "item vector has \(e.count) values, the model has d = \(dim)")
        }
        guard e.allSatisfy({ $0.isFinite && abs($0) <= heldVectorLimit }) else {
            throw LSRecError(.nonFinite, "item \(id)'s vector has a value beyond ±\(heldVectorLimit), "
                + "the largest a user state can hold without risking float32 overflow")
        }
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
    /// events to this model from scratch. Items this model does not know are skipped and counted;
    /// an event on an item added to a catalogue is kept only if this model has that id (its
    /// stored vector belongs to the old model's space).
    public func rebase(_ state: UserState, from old: Model) throws -> (state: UserState, skipped: Int) {
        try old.checkOwnership(state)
        var fresh = newState()
        var items: [Int] = [], times: [Int64] = []
        for (item, time) in state.events {
            guard let index = index(ofItem: item.id(in: old)) else { continue }
            items.append(index)
            times.append(time)
        }
        try update(&fresh, itemIndices: items, timestamps: times)
        return (fresh, state.historyCount - items.count)
    }
}
