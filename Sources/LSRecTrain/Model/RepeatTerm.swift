/// The repeat term of MODEL.md ("Scores"): s_i += β for every distinct item among the events the
/// row's user state holds — the row's attention band, the last ≤ L events up to and including the
/// row's own. One `HeldItemMarks` per worker: a stamp per item marks the current row's items, so
/// a row's distinct items cost O(L), with no sorting and no N-sized clearing between rows.
final class HeldItemMarks {
    private var stamp: [Int]
    private var current = 0
    /// The distinct held items of the row last collected, in band order (first occurrence).
    private(set) var items: [Int32] = []

    init(items n: Int) { stamp = [Int](repeating: 0, count: n) }

    /// Collects the distinct items held at row `r` of `b`.
    func collect(_ b: WindowBatch, row r: Int) {
        current += 1
        items.removeAll(keepingCapacity: true)
        let lane = r % b.lanes, tau = r / b.lanes, slots = b.histLen
        let lo = Int(b.attnLo[r]), hi = b.history - 1 + tau
        guard b.active[r], lo <= hi else { return }
        for s in lo...hi {
            let j = b.hist[lane * slots + s]
            if j >= 0 && stamp[Int(j)] != current {
                stamp[Int(j)] = current
                items.append(j)
            }
        }
    }

    /// Is item j among the items of the row last collected?
    @inline(__always) func contains(_ j: Int) -> Bool { stamp[j] == current }
}
