import LSRecKernels

/// The repeat term of MODEL.md ("Scores"): a model trained with it (`score.repeat_bias`) adds one
/// learned weight β to the score of every distinct item among the events the user state holds.
/// Every scoring path adds it the same way, so a ranking and its scores agree to the bit:
/// `scores` add β to the held items' entries; the top-K paths rank every other item as before
/// (the held ones excluded) and merge in the held items scored one by one — at most L of them.
extension Model {
    /// The distinct model items among the state's held events (dense indices, first occurrence
    /// first): the items β applies to. Empty when the model has no repeat term.
    func repeatedItems(_ state: UserState) -> [Int] {
        requestExclusions(state, excludeSeen: false, extra: []).repeated
    }

    /// s[i] += β for the state's held items; `scores` holds the N model scores.
    func addRepeatTerm(_ state: UserState, to scores: UnsafeMutableBufferPointer<Float>) {
        guard let beta = repeatBias else { return }
        for i in repeatedItems(state) { scores[i] += beta }
    }

    /// The k best of `best` (the ranking of every other item) and `repeated` (held items left out
    /// of it), the latter scored u · e_i + b_i + β by `lsk_score_gathered` (bit for bit the block
    /// kernel's dot products, read in place), so the result equals ranking `scores` outright.
    func mergeRepeated(_ best: [ScoredItem], _ repeated: [Int], userVector u: UnsafePointer<Float>,
                       k: Int) -> [ScoredItem] {
        guard let beta = repeatBias, !repeated.isEmpty else { return best }
        let d = dim, m = repeated.count
        var heap = TopKHeap(k: k, capacityHint: best.count + m)
        for s in best { heap.offer(s.index, s.score) }
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: m) { rows in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: m) { out in
                items.withUnsafeBufferPointer { x in
                    for (r, i) in repeated.enumerated() { rows[r] = x.baseAddress! + i * d }
                    _ = lsk_score_gathered(rows.baseAddress!, m, d, u, out.baseAddress!)
                }
                // + b_i, then + β: the operations (and bits) of `scores` and `addRepeatTerm`.
                itemBias.withUnsafeBufferPointer { bias in
                    for (r, i) in repeated.enumerated() { heap.offer(i, out[r] + bias[i] + beta) }
                }
            }
        }
        return heap.sorted()
    }
}
