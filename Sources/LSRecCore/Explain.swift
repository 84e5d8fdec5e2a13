import LSRecFormat

/// One history item's share of a recommendation's score (MODEL.md, "Scores and explanations").
public struct Contribution: Sendable, Equatable {
    /// Dense index of the history item.
    public var index: Int
    /// Summed contribution α_r · ((1 − g) ⊙ W_v e_r) · e_i over the item's occurrences.
    public var weight: Float
}

extension Model {
    /// Which held events drove the score of `itemIndex`: the long-term part of the score split
    /// exactly over history items, largest first (ties: lower index first), at most k.
    public func explain(_ state: UserState, now: RequestTime, itemIndex: Int, k: Int) throws -> [Contribution] {
        try checkOwnership(state)
        guard itemIndex >= 0 && itemIndex < nItems else {
            throw LSRecError(.unknownItem, "item index \(itemIndex) is outside 0..<\(nItems)")
        }
        return explain(state, now: now, itemVector: itemVector(itemIndex), k: k)
    }

    /// `explain` for an item given by its vector e (d values, checked by the caller): a model
    /// item's row, or an item added to a catalogue, so both are explained by the same code.
    /// contribution_r = α_r · ((1 − g) ⊙ W_v e_r) · e, summed per history item.
    func explain(_ state: UserState, now: RequestTime, itemVector e: [Float], k: Int) -> [Contribution] {
        let fused = fuse(state, now: now)
        let d = dim, m = state.historyCount
        guard k > 0, !fused.alpha.isEmpty else { return [] }
        // y = W_vᵀ ((1 − g) ⊙ e), so contribution_r = α_r · (e_r · y).
        var w = [Float](repeating: 0, count: d)
        for j in 0..<d { w[j] = (1 - fused.gate[j]) * e[j] }
        var y = [Float](repeating: 0, count: d)
        BLAS.gemv(trans: true, rows: d, cols: d, attnWv, w, beta: 0, &y)
        var byItem: [Int: Float] = [:]
        for r in 0..<m {
            let h = state.historyItem(r)
            var dot: Float = 0
            for j in 0..<d { dot += items[h * d + j] * y[j] }
            byItem[h, default: 0] += fused.alpha[r] * dot
        }
        let ranked = byItem.map { Contribution(index: $0.key, weight: $0.value) }
            .sorted { $0.weight > $1.weight || ($0.weight == $1.weight && $0.index < $1.index) }
        return Array(ranked.prefix(k))
    }
}
