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

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard ranksBefore(heap[parent], heap[child]) else { return }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let n = heap.count
        while true {
            let left = 2 * parent + 1, right = left + 1
            var worst = parent
            if left < n && ranksBefore(heap[worst], heap[left]) { worst = left }
            if right < n && ranksBefore(heap[worst], heap[right]) { worst = right }
            if worst == parent { return }
            heap.swapAt(parent, worst)
            parent = worst
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
    private func slot(_ index: Int) -> Int { (index &* 0x9E37_79B9) >> 7 & mask }

    /// Adds a dense index in 0..<Int32.max (others are ignored: they name no item).
    mutating func insert(_ index: Int) {
        guard index >= 0 && index < Int(Int32.max) else { return }
        var s = slot(index)
        while slots[s] >= 0 {
            if slots[s] == Int32(index) { return }
            s = (s + 1) & mask
        }
        slots[s] = Int32(index)
        isEmpty = false
    }

    /// The slots (−1 = empty) and the mask, for lsk_screen_select, which probes them with the same
    /// hash in C.
    func withSlots<R>(_ body: (UnsafePointer<Int32>, Int) -> R) -> R {
        slots.withUnsafeBufferPointer { body($0.baseAddress!, mask) }
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
/// Eight at a time: a group none of whose scores beats the threshold costs one comparison.
/// `bias` nil adds nothing. Returns nothing; the heap holds the result.
@inline(__always)
func offerBlock(_ scores: UnsafePointer<Float>, bias: UnsafePointer<Float>?, _ n: Int, first: Int,
                to heap: inout TopKHeap, excluding excluded: ExclusionSet?) {
    @inline(__always) func consider(_ i: Int, _ s: Float) {
        guard s > heap.threshold || !heap.isFull else { return }
        if let excluded, excluded.contains(first + i) { return }
        heap.offer(first + i, s)
    }
    var i = 0
    while i + 8 <= n {
        var v = load8(scores + i)
        if let bias { v += load8(bias + i) }
        if !heap.isFull || anyAbove(v, heap.threshold) {
            for lane in 0..<8 { consider(i + lane, v[lane]) }
        }
        i += 8
    }
    while i < n {
        consider(i, bias.map { scores[i] + $0[i] } ?? scores[i])
        i += 1
    }
}

/// Whether some lane of v may be above t: t − v has its sign bit set exactly where v > t (NaN
/// lanes may answer yes; the caller's scalar test then rejects them). By hand, because the
/// standard library's SIMD comparison + `any` cost ~140 instructions per call here.
@inline(__always)
func anyAbove(_ v: SIMD8<Float>, _ t: Float) -> Bool {
    anySignBit(SIMD8(repeating: t) - v)
}
