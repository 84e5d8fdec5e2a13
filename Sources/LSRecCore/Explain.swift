import LSRecFormat

/// One history item's share of a recommendation's score (MODEL.md, "Scores and explanations").
public struct Contribution: Sendable, Equatable {
    /// The history item: a model item, or an item added to a catalogue that the user had an event on.
    public var item: HeldItem
    /// Summed contribution α_r · ((1 − g) ⊙ W_v e_r) · e_i over the item's occurrences.
    public var weight: Float

    public init(item: HeldItem, weight: Float) { self.item = item; self.weight = weight }

    /// Dense index of a model history item; −1 for an added item (see `item`).
    public var index: Int {
        if case .model(let i) = item { return i }
        return -1
    }

    /// Ranking: larger weight first; ties: model items by lower index, then added items by id.
    static func ranksBefore(_ a: Contribution, _ b: Contribution) -> Bool {
        if a.weight != b.weight { return a.weight > b.weight }
        switch (a.item, b.item) {
        case (.model(let x), .model(let y)): return x < y
        case (.model, .added): return true
        case (.added, .model): return false
        case (.added(let x), .added(let y)): return x < y
        }
    }
}

extension Model {
    /// Which held events drove the score of `itemIndex`: the long-term part of the score split
    /// exactly over history items, largest first (ties: lower index first, added items after
    /// model items), at most k.
    public func explain(_ state: UserState, now: RequestTime, itemIndex: Int, k: Int) throws -> [Contribution] {
        try checkOwnership(state)
        guard itemIndex >= 0 && itemIndex < nItems else {
            throw LSRecError(.unknownItem, "item index \(itemIndex) is outside 0..<\(nItems)")
        }
        return explain(state, now: now, itemVector: itemVector(itemIndex), k: k)
    }

    /// `explain` for an item given by its vector e (d values, checked by the caller): a model
    /// item's row, or an item added to a catalogue, so both are explained by the same code.
    /// contribution_r = α_r · ((1 − g) ⊙ W_v e_r) · e, summed per history item; e_r is a model
    /// row or, for an event on an added item, the vector the state holds for it.
    func explain(_ state: UserState, now: RequestTime, itemVector e: [Float], k: Int) -> [Contribution] {
        let fused = fuse(state, now: now)
        let d = dim
        guard k > 0, !fused.alpha.isEmpty else { return [] }
        // y = W_vᵀ ((1 − g) ⊙ e), so contribution_r = α_r · (e_r · y).
        var w = [Float](repeating: 0, count: d)
        for j in 0..<d { w[j] = (1 - fused.gate[j]) * e[j] }
        var y = [Float](repeating: 0, count: d)
        attnWv.withUnsafeBufferPointer { BLAS.gemv(trans: true, rows: d, cols: d, $0, w, beta: 0, &y) }
        var byItem: [HeldItem: Float] = [:]
        items.withUnsafeBufferPointer { x in
            state.forEachHeldVector(items: x.baseAddress!) { r, er in
                var dot: Float = 0
                for j in 0..<d { dot += er[j] * y[j] }
                byItem[state.heldItem(r), default: 0] += fused.alpha[r] * dot
            }
        }
        let ranked = byItem.map { Contribution(item: $0.key, weight: $0.value) }.sorted(by: Contribution.ranksBefore)
        return Array(ranked.prefix(k))
    }
}
