import CBLAS
import LSRecKernels
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
/// A bounded heap with a threshold test in front: O(N + k log k · log N) on typical data, one
/// pass over the scores. NaN scores are never selected.
public func topK(_ scores: [Float], k: Int, excluded: [Bool]? = nil) -> [ScoredItem] {
    guard k > 0 else { return [] }
    var heap = TopKHeap(k: k, capacityHint: scores.count)
    if let excluded {
        for i in 0..<min(scores.count, excluded.count) where !excluded[i] {
            let s = scores[i]
            if s > heap.threshold || !heap.isFull { heap.offer(i, s) }
        }
        // A mask shorter than the scores excludes nothing beyond its end.
        for i in min(scores.count, excluded.count)..<scores.count {
            let s = scores[i]
            if s > heap.threshold || !heap.isFull { heap.offer(i, s) }
        }
    } else {
        scores.withUnsafeBufferPointer { p in
            if let base = p.baseAddress { offerBlock(base, bias: nil, p.count, first: 0, to: &heap, excluding: nil) }
        }
    }
    return heap.sorted()
}

extension Model {
    /// What a top-K request leaves out of its scan — `extra` dense indices and, with `excludeSeen`,
    /// the state's held items; nil when that is nothing — and the held items it ranks apart: with
    /// the repeat term (RepeatTerm.swift) and the held items not excluded, they are left out of the
    /// scan too, and `repeated` lists the distinct ones not in `extra`. One set, one pass.
    func requestExclusions(_ state: UserState, excludeSeen: Bool, extra: [Int]) -> (excluded: ExclusionSet?, repeated: [Int]) {
        let ranksHeldApart = repeatBias != nil && !excludeSeen
        let held = excludeSeen || ranksHeldApart ? state.historyCount : 0
        guard held > 0 || !extra.isEmpty else { return (nil, []) }
        var set = ExclusionSet(capacity: held + extra.count)
        for i in extra where i >= 0 && i < nItems { set.insert(i) }
        var repeated: [Int] = []
        if ranksHeldApart {
            repeated.reserveCapacity(held)
            set.insertAll(appendingNewTo: &repeated) { insert in state.forEachHeldItem { _, i in insert(i) } }
        } else if held > 0 {
            state.forEachHeldItem { _, i in set.insert(i) }
        }
        return (set.isEmpty ? nil : set, repeated)
    }

    /// The k best items for the user vector u (d floats), skipping `excluded`. Items are scored a
    /// block at a time and each block is selected from while it is in L1, so the N scores never
    /// exist at once (no N-sized allocation, at any catalogue size).
    func topK(userVector u: UnsafePointer<Float>, k: Int, excluded: ExclusionSet?) -> [ScoredItem] {
        guard k > 0 else { return [] }
        if let screen, let result = topKScreened(screen, userVector: u, k: k, excluded: excluded) { return result }
        if let result = topKScanFirst(userVector: u, k: k, excluded: excluded) { return result }
        var heap = TopKHeap(k: k, capacityHint: nItems)
        let rows = scoreBlockRows
        withUnsafeTemporaryAllocation(of: Float.self, capacity: rows) { block in
            items.withUnsafeBufferPointer { x in
                itemBias.withUnsafeBufferPointer { bias in
                    var first = 0
                    while first < nItems {
                        let count = min(rows, nItems - first)
                        let best = scoreBlock(x.baseAddress!, first: first, count: count, u: u,
                                              bias: bias.baseAddress!, into: block.baseAddress!)
                        // Once the heap is full most blocks hold nothing above its threshold:
                        // one comparison skips them (an equal score would rank after the kept one).
                        if !heap.isFull || best > heap.threshold {
                            offerBlock(block.baseAddress!, bias: nil, count, first: first, to: &heap, excluding: excluded)
                        }
                        first += count
                    }
                }
            }
        }
        return heap.sorted()
    }

    /// `topK(userVector:)` through `lsk_select_rows` (small k, a matrix that stays in cache): every
    /// item scored into an L1 buffer a chunk at a time, then the few rows that can still enter
    /// the top k selected, instead of offering rows to the heap while scanning. The kernel lists
    /// every row at or above the exact k-th best score (ties included), in index order, with the
    /// scores `scoreBlock` computes (same kernel, same bits), so offering them to the heap gives
    /// the plain scan's result. nil when the kernel declines or ties overflow the room.
    func topKScanFirst(userVector u: UnsafePointer<Float>, k: Int, excluded: ExclusionSet?) -> [ScoredItem]? {
        // The kernel takes k ≤ 16 only; checked first, so k + 256 cannot overflow (k comes from a
        // C caller's size_t and may be anything up to Int.max).
        guard k >= 1 && k <= 16 else { return nil }
        let room = min(nItems, k + 256)
        return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: room) { rows -> [ScoredItem]? in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: room) { scores -> [ScoredItem]? in
                var listed = 0
                let taken = items.withUnsafeBufferPointer { x in
                    itemBias.withUnsafeBufferPointer { bias in
                        ExclusionSet.withKernelSlots(excluded) { slots, mask in
                            lsk_select_rows(x.baseAddress!, nItems, dim, u, bias.baseAddress!, k, slots, mask,
                                            rows.baseAddress!, scores.baseAddress!, room, &listed)
                        }
                    }
                }
                guard taken == 1, listed >= 0, listed <= room else { return nil }  // declined, or SIZE_MAX
                var heap = TopKHeap(k: k, capacityHint: listed)
                for j in 0..<listed { heap.offer(Int(rows[j]), scores[j]) }
                return heap.sorted()
            }
        }
    }

    /// The k best items for a user. `excludeSeen` drops items among the held events;
    /// `exclude` holds further dense indices to drop.
    public func topK(_ state: UserState, now: RequestTime, k: Int, excludeSeen: Bool = false,
                     exclude: [Int] = []) throws -> [ScoredItem] {
        try checkOwnership(state)
        guard k > 0 else { return [] }
        // With the repeat term the held items are ranked apart (RepeatTerm.swift): left out of
        // the scan, then merged in with β — unless they are excluded anyway.
        let (excluded, repeated) = requestExclusions(state, excludeSeen: excludeSeen, extra: exclude)
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: dim) { u in
            fuse(state, now: now, u: u.baseAddress!, alpha: nil, gate: nil)
            let best = topK(userVector: u.baseAddress!, k: k, excluded: excluded)
            return mergeRepeated(best, repeated, userVector: u.baseAddress!, k: k)
        }
    }

    /// Top-k for many users: user vectors stacked into U, then for each block of items one sgemm
    /// S = U · X_blockᵀ and a per-user selection over S's rows. The users × N score matrix never
    /// exists (at a million items it would be a gigabyte for 256 users). Result b holds user b's list.
    public func topKBatch(_ states: [UserState], now: RequestTime, k: Int, excludeSeen: Bool = false) throws -> [[ScoredItem]] {
        for s in states { try checkOwnership(s) }
        guard k > 0 else { return states.map { _ in [] } }
        var results: [[ScoredItem]] = []
        results.reserveCapacity(states.count)
        // Users in groups, so the sgemm sizes and the score block stay bounded.
        var start = 0
        while start < states.count {
            let group = Array(states[start ..< min(states.count, start + Self.batchUsers)])
            results.append(contentsOf: topKGroup(group, now: now, k: k, excludeSeen: excludeSeen))
            start += group.count
        }
        return results
    }

    /// Users per sgemm in `topKBatch`.
    static let batchUsers = 256
    /// Scores per item block in `topKBatch` (users × items) when OpenBLAS runs one thread: 1 MB,
    /// so the block is still in L2 when every user selects from it (1M items × 256 users, one
    /// core: 1,249 µs per user against 1,353 µs with 4 MB blocks, BENCHMARKS.md).
    static let batchBlockScoresOneThread = 1 << 18
    /// The same with several OpenBLAS threads: 4 MB, so each threaded sgemm is worth its hand-off
    /// (with two threads 1 MB blocks were 15% slower; on a loaded machine every hand-off can wait a
    /// scheduler tick — with 256-item blocks a 1M-item batch once ran 20× slower).
    static let batchBlockScores = 1 << 20

    private func topKGroup(_ states: [UserState], now: RequestTime, k: Int, excludeSeen: Bool) -> [[ScoredItem]] {
        let n = states.count, d = dim
        var users = [Float](repeating: 0, count: n * d)
        users.withUnsafeMutableBufferPointer { p in
            for b in 0..<n { fuse(states[b], now: now, u: p.baseAddress! + b * d, alpha: nil, gate: nil) }
        }
        var heaps = (0..<n).map { _ in TopKHeap(k: k, capacityHint: nItems) }
        // The repeat term: held items left out of the scan and merged in after (RepeatTerm.swift).
        let exclusions = states.map { requestExclusions($0, excludeSeen: excludeSeen, extra: []) }
        let excluded = exclusions.map(\.excluded), repeated = exclusions.map(\.repeated)
        // Item block: n × cols scores, sized by how many threads OpenBLAS gives each sgemm.
        let blockScores = openblas_get_num_threads() > 1 ? Self.batchBlockScores : Self.batchBlockScoresOneThread
        let cols = max(16, min(nItems, blockScores / n))
        var block = [Float](repeating: 0, count: n * cols)
        users.withUnsafeBufferPointer { u in
            items.withUnsafeBufferPointer { x in
                itemBias.withUnsafeBufferPointer { bias in
                    block.withUnsafeMutableBufferPointer { s in
                        var first = 0
                        while first < nItems {
                            let count = min(cols, nItems - first)
                            scoreBlock(users: u.baseAddress!, n, x.baseAddress!, first: first, count: count,
                                       into: s.baseAddress!)
                            for b in 0..<n {
                                offerBlock(s.baseAddress! + b * count, bias: bias.baseAddress! + first, count,
                                           first: first, to: &heaps[b], excluding: excluded[b])
                            }
                            first += count
                        }
                    }
                }
            }
        }
        return users.withUnsafeBufferPointer { u in
            (0..<n).map { b in mergeRepeated(heaps[b].sorted(), repeated[b], userVector: u.baseAddress! + b * d, k: k) }
        }
    }
}
