import LSRecKernels

/// The pieces of top-K selection shared by every ranking path (one user, many users, a plain
/// score array): a bounded heap that exposes its admission threshold, and a small hash set of
/// excluded indices consulted only for the few items that beat the threshold.

/// The k best (score, index) pairs seen so far, in ranking order (`ranksBefore`). Once full, an
/// item must beat `threshold` (the worst kept score) to enter: callers test that first, on
/// eight scores at a time, and skip everything else without touching the heap.
struct TopKHeap {
    /// Min-heap on ranking order: the root is the worst of the kept items.
    private(set) var heap: [ScoredItem] = []
    let k: Int
    /// Worst kept score once k items are held; −∞ before (every non-NaN score may enter).
    private(set) var threshold: Float = -.infinity

    init(k: Int, capacityHint: Int) {
        self.k = k
        heap.reserveCapacity(max(0, min(k, capacityHint)))
    }

    var isFull: Bool { heap.count >= k }

    /// Offers item `index`; NaN scores never enter. Ties go to the lower index.
    @inline(__always)
    mutating func offer(_ index: Int, _ score: Float) {
        if score.isNaN || k <= 0 { return }
        let item = ScoredItem(index: index, score: score)
        if heap.count < k {
            heap.append(item)
            siftUp(heap.count - 1)
            if heap.count == k { threshold = heap[0].score }
        } else if ranksBefore(item, heap[0]) {
            heap[0] = item
            siftDown(0)
            threshold = heap[0].score
        }
    }

    /// The kept items, best first.
    func sorted() -> [ScoredItem] { heap.sorted(by: ranksBefore) }

    // The sifts run on the heap's buffer: through the array's subscript and swapAt, each step
    // paid bounds and uniqueness checks (6% of a plain top-10's samples at ML-1M size).
    private mutating func siftUp(_ start: Int) {
        heap.withUnsafeMutableBufferPointer { h in
            var child = start
            let item = h[child]
            while child > 0 {
                let parent = (child - 1) / 2
                guard ranksBefore(h[parent], item) else { break }
                h[child] = h[parent]
                child = parent
            }
            h[child] = item
        }
    }

    private mutating func siftDown(_ start: Int) {
        heap.withUnsafeMutableBufferPointer { h in
            var parent = start
            let n = h.count, item = h[parent]
            while true {
                let left = 2 * parent + 1, right = left + 1
                guard left < n else { break }
                let worse = right < n && ranksBefore(h[left], h[right]) ? right : left
                guard ranksBefore(item, h[worse]) else { break }
                h[parent] = h[worse]
                parent = worse
            }
            h[parent] = item
        }
    }
}

/// A set of dense item indices (open addressing, linear probing): O(count) to build, so ranking
/// with exclusions needs no N-sized mask — at a million items that mask was 1 MB per request.
struct ExclusionSet {
    private var slots: [Int32]
    private let mask: Int
    private(set) var isEmpty = true

    /// Room for `capacity` distinct indices.
    init(capacity: Int) {
        var size = 16
        while size < 2 * capacity { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    @inline(__always)
    private func slot(_ index: Int) -> Int { Self.slot(index, mask) }
    @inline(__always)
    private static func slot(_ index: Int, _ mask: Int) -> Int { (index &* 0x9E37_79B9) >> 7 & mask }

    /// Adds a dense index in 0..<Int32.max (others are ignored: they name no item).
    mutating func insert(_ index: Int) {
        let mask = self.mask
        if slots.withUnsafeMutableBufferPointer({ Self.insert(index, into: $0, mask: mask) }) { isEmpty = false }
    }

    /// Inserts every index `body` yields (as `insert` does) and appends each one that was not in
    /// the set yet to `added`, in order. One pass on the slots' buffer: inserting a user's held
    /// items one `insert` at a time paid the array's uniqueness check per item.
    mutating func insertAll(appendingNewTo added: inout [Int], _ body: ((Int) -> Void) -> Void) {
        let mask = self.mask
        var any = false
        slots.withUnsafeMutableBufferPointer { slots in
            body { index in
                guard Self.insert(index, into: slots, mask: mask) else { return }
                any = true
                added.append(index)
            }
        }
        if any { isEmpty = false }
    }

    /// The probe both inserts share: true when `index` was added (not present, and a valid index).
    @inline(__always)
    private static func insert(_ index: Int, into slots: UnsafeMutableBufferPointer<Int32>, mask: Int) -> Bool {
        guard index >= 0 && index < Int(Int32.max) else { return false }
        var s = slot(index, mask)
        while slots[s] >= 0 {
            if slots[s] == Int32(index) { return false }
            s = (s + 1) & mask
        }
        slots[s] = Int32(index)
        return true
    }

    /// The slots (−1 = empty) and the mask, for lsk_screen_select, which probes them with the same
    /// hash in C.
    func withSlots<R>(_ body: (UnsafePointer<Int32>, Int) -> R) -> R {
        slots.withUnsafeBufferPointer { body($0.baseAddress!, mask) }
    }

    /// The kernels' exclusion arguments for `set`: its slots and mask, or (nil, 0) — nothing to
    /// skip — when there is no set or it is empty.
    static func withKernelSlots<R>(_ set: ExclusionSet?, _ body: (UnsafePointer<Int32>?, Int) -> R) -> R {
        if let set, !set.isEmpty { return set.withSlots { body($0, $1) } }
        return body(nil, 0)
    }

    @inline(__always)
    func contains(_ index: Int) -> Bool {
        var s = slot(index)
        while true {
            let v = slots[s]
            if v < 0 { return false }
            if v == Int32(truncatingIfNeeded: index) { return true }
            s = (s + 1) & mask
        }
    }
}

/// Offers scores[i] + bias[i] for i < n as items `first + i` to `heap`, skipping excluded ones.
/// Once the heap is full, `lsk_above` (C, vectorised) picks the candidates that beat the
/// threshold in force at the start of each chunk; each is then offered only if it still beats the
/// risen threshold, so the heap sees exactly the offers of a plain loop. `bias` nil adds nothing.
@inline(__always)
func offerBlock(_ scores: UnsafePointer<Float>, bias: UnsafePointer<Float>?, _ n: Int, first: Int,
                to heap: inout TopKHeap, excluding excluded: ExclusionSet?) {
    @inline(__always) func consider(_ i: Int) {
        let s = bias.map { scores[i] + $0[i] } ?? scores[i]
        guard s > heap.threshold || !heap.isFull else { return }
        if let excluded, excluded.contains(first + i) { return }
        heap.offer(first + i, s)
    }
    var i = 0
    while i < n && !heap.isFull {  // every score enters until k are held
        consider(i)
        i += 1
    }
    guard i < n else { return }
    withUnsafeTemporaryAllocation(of: UInt32.self, capacity: offerChunk) { idx in
        while i < n {
            let m = min(offerChunk, n - i)
            let found = lsk_above(scores + i, bias.map { $0 + i }, m, heap.threshold, idx.baseAddress!)
            for j in 0..<found { consider(i + Int(idx[j])) }
            i += m
        }
    }
}

/// Scores per `lsk_above` call in `offerBlock` (its index buffer lives on the stack).
let offerChunk = 1024
