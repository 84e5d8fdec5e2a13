/// One user's interest state: LSTM `h, c`, the last L events in a ring buffer, counters.
/// A value type: copying a state snapshots it. Use one state from one thread at a time.
public struct UserState: Sendable, Equatable {
    /// Fingerprint of the model that created this state; other models refuse it.
    public let modelFingerprint: UInt64
    /// LSTM hidden and cell state, d floats each.
    public internal(set) var h: [Float]
    public internal(set) var c: [Float]
    /// Ring buffer of the last `capacity` events: item (dense model index, or −1 − slot of `added`)
    /// and unix time or -1 (RingTimes.swift).
    var ringItems: [Int32]
    var times: RingTimes
    /// Position of the oldest event in the ring.
    var ringHead: Int = 0
    /// Events currently held in the ring (≤ capacity).
    public internal(set) var historyCount: Int = 0
    /// Every event ever fed, including those the ring has dropped.
    public internal(set) var eventCount: UInt64 = 0
    /// Most recent known event time, or -1 when no event had a known time.
    public internal(set) var lastTime: Int64 = -1
    /// Ids and vectors of held events on items added to a catalogue (AddedEvents.swift).
    var added = AddedEvents()

    init(modelFingerprint: UInt64, dim: Int, capacity: Int) {
        self.modelFingerprint = modelFingerprint
        h = [Float](repeating: 0, count: dim)
        c = [Float](repeating: 0, count: dim)
        ringItems = [Int32](repeating: 0, count: capacity)
        times = RingTimes(capacity: capacity)
    }

    public var capacity: Int { ringItems.count }

    /// Appends an event, dropping the oldest once the ring is full (O(1); no allocation unless a
    /// time falls outside the 32-bit window of `RingTimes`).
    mutating func push(item: Int32, time: Int64) {
        let slot = (ringHead + historyCount) % capacity
        if historyCount == capacity && ringItems[slot] < 0 { added.release(Int(-1 - ringItems[slot])) }
        ringItems[slot] = item
        times.store(time, at: slot, held: heldSlots(replacing: slot))
        if historyCount < capacity {
            historyCount += 1
        } else {
            ringHead = (ringHead + 1) % capacity
        }
        eventCount += 1
        if time >= 0 { lastTime = time }
        // Once per trip round the ring, a wide state whose held times fit again goes back to 32 bits.
        if times.isWide && slot == capacity - 1 { times.narrowIfPossible(held: heldSlots(replacing: nil)) }
    }

    /// Appends an event on an item added to a catalogue: its id and vector go to the side table
    /// (O(d); the slot of an event the ring drops is reused).
    mutating func push(addedID id: Int64, vector: UnsafeBufferPointer<Float>, time: Int64) {
        let slot = (ringHead + historyCount) % capacity
        // Free the dropped event's side slot first, so the new one can take it.
        if historyCount == capacity && ringItems[slot] < 0 {
            added.release(Int(-1 - ringItems[slot]))
            ringItems[slot] = 0
        }
        let side = added.insert(id: id, vector: vector)
        push(item: Int32(-1 - side), time: time)
    }

    /// True when some held event is on an item added to a catalogue.
    public var holdsAddedItems: Bool { !added.isEmpty }

    /// The ring slots of the held events, minus `replacing` (the slot a push is overwriting).
    @inline(__always)
    func heldSlots(replacing: Int?) -> HeldSlots {
        HeldSlots(head: ringHead, count: historyCount, capacity: capacity, skip: replacing ?? -1)
    }

    /// Ring value of the r-th held event, oldest first (r < historyCount): a dense model index,
    /// or −1 − slot for an added item (see `heldItem`).
    @inline(__always)
    func historyItem(_ r: Int) -> Int { Int(ringItems[(ringHead + r) % capacity]) }

    /// The item of the r-th held event, oldest first.
    func heldItem(_ r: Int) -> HeldItem {
        let v = historyItem(r)
        return v >= 0 ? .model(v) : .added(id: added.ids[-1 - v])
    }

    /// The id and vector (d floats) of the r-th held event if it is on an added item, else nil.
    func addedEntry(_ r: Int) -> (id: Int64, vector: ArraySlice<Float>)? {
        let v = historyItem(r)
        return v >= 0 ? nil : (added.ids[-1 - v], added.vector(-1 - v, dim: h.count))
    }

    /// The vector of the r-th held event if it is on an added item (d floats), else nil.
    func addedVector(_ r: Int) -> ArraySlice<Float>? { addedEntry(r)?.vector }

    /// Unix time (or -1) of the r-th held event, oldest first.
    @inline(__always)
    func historyTime(_ r: Int) -> Int64 { times[(ringHead + r) % capacity] }

    /// Calls `body(r, ring value)` for the held events oldest first (r = 0, 1, …): the ring in
    /// two straight runs, without a division per event as `historyItem` needs.
    @inline(__always)
    private func forEachHeld(_ body: (Int, Int) -> Void) {
        ringItems.withUnsafeBufferPointer { ring in
            let firstRun = min(historyCount, capacity - ringHead)
            for r in 0..<firstRun { body(r, Int(ring[ringHead + r])) }
            for r in firstRun..<historyCount { body(r, Int(ring[r - firstRun])) }
        }
    }

    /// Calls `body(r, item)` for the held events on *model* items (dense index), oldest first;
    /// events on added items are skipped (they are not model items: nothing to exclude).
    @inline(__always)
    func forEachHeldItem(_ body: (Int, Int) -> Void) {
        forEachHeld { r, v in if v >= 0 { body(r, v) } }
    }

    /// Calls `body(r, e_r)` for every held event oldest first, with its item vector: row `item`
    /// of the model's item matrix `x` ([N, d]), or the state's own copy for an added item.
    @inline(__always)
    func forEachHeldVector(items x: UnsafePointer<Float>, _ body: (Int, UnsafePointer<Float>) -> Void) {
        added.vectors.withUnsafeBufferPointer { side in
            forEachHeld { r, v in body(r, heldVector(v, items: x, side: side)) }
        }
    }

    /// The vector of a held slot value v: row v of the model's matrix x, or (v < 0) the state's
    /// own copy −1 − v of an added item in `side` (the storage of `added.vectors`).
    @inline(__always)
    private func heldVector(_ v: Int, items x: UnsafePointer<Float>, side: UnsafeBufferPointer<Float>) -> UnsafePointer<Float> {
        let d = h.count
        return v >= 0 ? x + v * d : side.baseAddress! + (-1 - v) * d
    }

    /// Calls `body` with the item vectors of the held events, oldest first, as one array of
    /// pointers (into the model's matrix `x` or the state's copies; valid only inside `body`).
    func withHeldVectorPointers<R>(items x: UnsafePointer<Float>,
                                   _ body: (UnsafePointer<UnsafePointer<Float>?>) -> R) -> R {
        added.vectors.withUnsafeBufferPointer { side in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: max(1, historyCount)) { ptrs in
                let p = ptrs.baseAddress!
                forEachHeld { r, v in p[r] = heldVector(v, items: x, side: side) }
                return body(UnsafePointer(p))
            }
        }
    }

    /// The held events, oldest first: dense model index and time. An event on an item added to a
    /// catalogue has item −1 here (its id is in `events`).
    public var history: [(item: Int, time: Int64)] {
        (0..<historyCount).map { (max(-1, historyItem($0)), historyTime($0)) }
    }

    /// The held events, oldest first, with added items named by their external ids.
    public var events: [(item: HeldItem, time: Int64)] {
        (0..<historyCount).map { (heldItem($0), historyTime($0)) }
    }

    /// Same model, LSTM state, counters and held events (items, times, and added items' vectors).
    public static func == (a: UserState, b: UserState) -> Bool {
        a.modelFingerprint == b.modelFingerprint && a.h == b.h && a.c == b.c
            && a.eventCount == b.eventCount && a.lastTime == b.lastTime && a.capacity == b.capacity
            && a.historyCount == b.historyCount
            && (0..<a.historyCount).allSatisfy { r in
                a.heldItem(r) == b.heldItem(r) && a.historyTime(r) == b.historyTime(r)
                    && a.addedVector(r).map(Array.init) == b.addedVector(r).map(Array.init)
            }
    }
}

/// Ring slots of held events (oldest first), optionally leaving one out.
struct HeldSlots: Sequence, IteratorProtocol {
    let head: Int, count: Int, capacity: Int, skip: Int
    private var r = 0

    init(head: Int, count: Int, capacity: Int, skip: Int) {
        self.head = head; self.count = count; self.capacity = capacity; self.skip = skip
    }

    mutating func next() -> Int? {
        while r < count {
            let p = (head + r) % capacity
            r += 1
            if p != skip { return p }
        }
        return nil
    }
}
