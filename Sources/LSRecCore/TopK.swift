import LSRecFormat

/// One recommended item: dense index and score.
public struct ScoredItem: Sendable, Equatable {
    public var index: Int
    public var score: Float
    public init(index: Int, score: Float) { self.index = index; self.score = score }
}

/// Ranking order used everywhere: higher score first, ties broken by the lower index.
@inline(__always)
func ranksBefore(_ a: ScoredItem, _ b: ScoredItem) -> Bool {
    a.score > b.score || (a.score == b.score && a.index < b.index)
}

/// The k best entries of `scores` in ranking order, skipping indices where `excluded` is true.
/// A bounded heap: O(N log k), one pass over the scores. NaN scores are never selected.
public func topK(_ scores: [Float], k: Int, excluded: [Bool]? = nil) -> [ScoredItem] {
    guard k > 0 else { return [] }
    // Min-heap on ranking order: the root is the worst of the kept items.
    var heap: [ScoredItem] = []
    heap.reserveCapacity(min(k, scores.count))
    for i in 0..<scores.count {
        let s = scores[i]
        if s.isNaN { continue }
        if let excluded, excluded[i] { continue }
        let item = ScoredItem(index: i, score: s)
        if heap.count < k {
            heap.append(item)
            siftUp(&heap, heap.count - 1)
        } else if ranksBefore(item, heap[0]) {
            heap[0] = item
            siftDown(&heap, 0)
        }
    }
    return heap.sorted(by: ranksBefore)
}

@inline(__always)
private func siftUp(_ heap: inout [ScoredItem], _ start: Int) {
    var child = start
    while child > 0 {
        let parent = (child - 1) / 2
        guard ranksBefore(heap[parent], heap[child]) else { return }
        heap.swapAt(parent, child)
        child = parent
    }
}

@inline(__always)
private func siftDown(_ heap: inout [ScoredItem], _ start: Int) {
    var parent = start
    while true {
        let left = 2 * parent + 1, right = left + 1
        var worst = parent
        if left < heap.count && ranksBefore(heap[worst], heap[left]) { worst = left }
        if right < heap.count && ranksBefore(heap[worst], heap[right]) { worst = right }
        if worst == parent { return }
        heap.swapAt(parent, worst)
        parent = worst
    }
}

extension Model {
    /// Exclusion mask for the state's held events (and extra dense indices), or nil when empty.
    func exclusionMask(_ state: UserState, excludeSeen: Bool, extra: [Int]) -> [Bool]? {
        guard excludeSeen && state.historyCount > 0 || !extra.isEmpty else { return nil }
        var mask = [Bool](repeating: false, count: nItems)
        if excludeSeen { for r in 0..<state.historyCount { mask[state.historyItem(r)] = true } }
        for i in extra where i >= 0 && i < nItems { mask[i] = true }
        return mask
    }

    /// The k best items for a user. `excludeSeen` drops items among the held events;
    /// `exclude` holds further dense indices to drop.
    public func topK(_ state: UserState, now: RequestTime, k: Int, excludeSeen: Bool = false,
                     exclude: [Int] = []) throws -> [ScoredItem] {
        try checkOwnership(state)
        var s: [Float] = []
        scores(state, now: now, into: &s)
        return LSRecCore.topK(s, k: k, excluded: exclusionMask(state, excludeSeen: excludeSeen, extra: exclude))
    }

    /// Top-k for many users, scored with one sgemm. Result b holds user b's list.
    public func topKBatch(_ states: [UserState], now: RequestTime, k: Int, excludeSeen: Bool = false) throws -> [[ScoredItem]] {
        let all = try scoresBatch(states, now: now)
        return states.indices.map { b in
            let row = Array(all[b * nItems ..< (b + 1) * nItems])
            return LSRecCore.topK(row, k: k, excluded: exclusionMask(states[b], excludeSeen: excludeSeen, extra: []))
        }
    }
}
