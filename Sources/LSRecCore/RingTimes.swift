/// The event times of a state's ring, 4 bytes per event in the common case (issue 6: a d = 64,
/// L = 200 state in ≤ 2.5 KB of memory; 8-byte times alone took 1.6 KB).
///
/// Narrow form: `offsets[p]` = time − `base` as an Int32, `unknown` (Int32.min) for an unknown time
/// (−1). Known times never decrease, so offsets from the first known time stay small (68 years of
/// seconds). When a time does not fit, the held times are re-based on the oldest of them; if their
/// span is still beyond Int32 the ring switches to the wide form (`wide[p]` = the time itself),
/// exact for every Int64, and goes back to narrow once the span fits again. Either way reading
/// a slot gives back exactly the time that was stored.
struct RingTimes: Sendable {
    static let unknown = Int32.min
    /// Narrow form (empty while wide).
    private(set) var offsets: [Int32]
    /// Time of offset 0; −1 until the first known time.
    private(set) var base: Int64 = -1
    /// Wide form (empty while narrow).
    private(set) var wide: [Int64] = []

    init(capacity: Int) {
        offsets = [Int32](repeating: Self.unknown, count: capacity)
    }

    var isWide: Bool { !wide.isEmpty }

    /// The time (or −1) stored at ring slot `p`.
    @inline(__always)
    subscript(p: Int) -> Int64 {
        if !wide.isEmpty { return wide[p] }
        let o = offsets[p]
        return o == Self.unknown ? -1 : base + Int64(o)
    }

    /// The narrow offset of `time` from `base`, or nil when it does not fit.
    @inline(__always)
    private static func offset(_ time: Int64, from base: Int64) -> Int32? {
        let (o, overflow) = time.subtractingReportingOverflow(base)
        return !overflow && o > Int64(unknown) && o <= Int64(Int32.max) ? Int32(o) : nil
    }

    /// Stores `time` (≥ 0, or −1 for unknown) at slot `p`. `held` lists the slots of the other
    /// events the ring keeps, needed only on the rare re-base / widen path.
    @inline(__always)
    mutating func store(_ time: Int64, at p: Int, held: HeldSlots) {
        if !wide.isEmpty { wide[p] = time; return }
        if time < 0 { offsets[p] = Self.unknown; return }
        if base < 0 { base = time }
        if let o = Self.offset(time, from: base) { offsets[p] = o; return }
        storeOutOfRange(time, at: p, held: held)
    }

    /// Re-bases on the oldest known held time when the span allows, else widens.
    private mutating func storeOutOfRange(_ time: Int64, at p: Int, held: HeldSlots) {
        var all: [(slot: Int, time: Int64)] = held.map { ($0, self[$0]) }
        all.append((p, time))
        if !rebase(all) {
            wide = [Int64](repeating: -1, count: offsets.count)
            for (slot, t) in all { wide[slot] = t }
            offsets = []
        }
    }

    /// While wide: goes back to the narrow form if the held times fit 32-bit offsets.
    mutating func narrowIfPossible(held: HeldSlots) {
        guard !wide.isEmpty else { return }
        let all = held.map { (slot: $0, time: wide[$0]) }
        let saved = offsets
        offsets = [Int32](repeating: Self.unknown, count: wide.count)
        if rebase(all) { wide = [] } else { offsets = saved }
    }

    /// Rewrites `offsets` for `events` (slot, time) from a base = their oldest known time;
    /// false (nothing changed) when their span does not fit.
    private mutating func rebase(_ events: [(slot: Int, time: Int64)]) -> Bool {
        let known = events.lazy.map(\.time).filter { $0 >= 0 }
        let lo = known.min() ?? base
        guard known.allSatisfy({ Self.offset($0, from: lo) != nil }) else { return false }
        for (slot, t) in events { offsets[slot] = t < 0 ? Self.unknown : Self.offset(t, from: lo)! }
        base = lo
        return true
    }
}
