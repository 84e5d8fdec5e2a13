/// One user's interest state: LSTM `h, c`, the last L events in a ring buffer, counters.
/// A value type: copying a state snapshots it. Use one state from one thread at a time.
public struct UserState: Sendable, Equatable {
    /// Fingerprint of the model that created this state; other models refuse it.
    public let modelFingerprint: UInt64
    /// LSTM hidden and cell state, d floats each.
    public internal(set) var h: [Float]
    public internal(set) var c: [Float]
    /// Ring buffer of the last `capacity` events: dense item index and unix time or -1 (RingTimes.swift).
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

    /// The ring slots of the held events, minus `replacing` (the slot a push is overwriting).
    @inline(__always)
    func heldSlots(replacing: Int?) -> HeldSlots {
        HeldSlots(head: ringHead, count: historyCount, capacity: capacity, skip: replacing ?? -1)
    }

    /// Dense item index of the r-th held event, oldest first (r < historyCount).
    @inline(__always)
    func historyItem(_ r: Int) -> Int { Int(ringItems[(ringHead + r) % capacity]) }

    /// Unix time (or -1) of the r-th held event, oldest first.
    @inline(__always)
    func historyTime(_ r: Int) -> Int64 { times[(ringHead + r) % capacity] }

    /// Calls `body(r, item)` for the held events oldest first (r = 0, 1, …): the ring in two
    /// straight runs, without a division per event as `historyItem` needs.
    @inline(__always)
    func forEachHeldItem(_ body: (Int, Int) -> Void) {
        ringItems.withUnsafeBufferPointer { ring in
            let firstRun = min(historyCount, capacity - ringHead)
            for r in 0..<firstRun { body(r, Int(ring[ringHead + r])) }
            for r in firstRun..<historyCount { body(r, Int(ring[r - firstRun])) }
        }
    }

    /// The held events, oldest first.
    public var history: [(item: Int, time: Int64)] {
        (0..<historyCount).map { (historyItem($0), historyTime($0)) }
    }

    public static func == (a: UserState, b: UserState) -> Bool {
        a.modelFingerprint == b.modelFingerprint && a.h == b.h && a.c == b.c
            && a.history.elementsEqual(b.history, by: { $0 == $1 })
            && a.eventCount == b.eventCount && a.lastTime == b.lastTime && a.capacity == b.capacity
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
