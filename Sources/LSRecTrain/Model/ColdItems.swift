import LSRecCore

/// The cold-start protocol's held-out items (docs/EVALUATION.md, "Cold-start items").
///
/// A cold item is removed from training entirely: its events leave every training sequence (as
/// inputs and as targets), it is masked out of the softmax (never a negative), so its learned
/// embedding and bias get no training signal, and the written model gives it exactly what
/// `Model.newItemVector` gives an item added after training: E row = 0 (so e = P·t) and bias =
/// the median of the trained biases. Evaluation then ranks cold items as a host's catalogue would.
public struct ColdItems: Sendable, Equatable {
    /// Dense item indices, ascending.
    public let indices: [Int32]
    /// `mask[i]` is true for a cold item; count = N.
    public let mask: [Bool]

    /// The given dense indices (any order, no duplicates) of a catalogue of `nItems`.
    public init(nItems: Int, indices: [Int32]) {
        var m = [Bool](repeating: false, count: nItems)
        for i in indices {
            precondition(i >= 0 && Int(i) < nItems && !m[Int(i)], "cold item indices must be distinct and < N")
            m[Int(i)] = true
        }
        mask = m
        self.indices = indices.sorted()
    }

    /// No cold items.
    public static func none(nItems: Int) -> ColdItems { ColdItems(nItems: nItems, indices: []) }

    /// round(fraction · N) items drawn uniformly without replacement (partial Fisher–Yates) with a
    /// generator seeded by `seed` alone, so the held-out set does not depend on the training seed
    /// and runs that differ only in their model (text or not) hold out the same items.
    public static func choose(nItems: Int, fraction: Double, seed: UInt64) -> ColdItems {
        let count = min(nItems, max(0, Int((fraction * Double(nItems)).rounded())))
        guard count > 0 else { return .none(nItems: nItems) }
        var rng = SeededGenerator(seed: SeedMixer.mix(seed ^ 0xC01D_17E5))
        var order = (0..<nItems).map { Int32($0) }
        for i in 0..<count { order.swapAt(i, i + rng.index(below: nItems - i)) }
        return ColdItems(nItems: nItems, indices: Array(order.prefix(count)))
    }

    public var isEmpty: Bool { indices.isEmpty }
    public var count: Int { indices.count }

    /// The median of the biases of the items that are not cold (mean of the two middle values for
    /// an even count), the same rule as `Model.newItemBias`. Writing it as every cold item's bias
    /// leaves the median of all N biases unchanged, so the loaded model's `newItemBias` equals it.
    public func medianWarmBias(_ bias: [Float]) -> Float {
        var warm: [Float] = []
        warm.reserveCapacity(bias.count - count)
        for (i, b) in bias.enumerated() where !mask[i] { warm.append(b) }
        return Model.median(warm)
    }

    /// Applies the new-item rule to cold rows: E row = 0, bias = the learned `item.new_bias` when
    /// `learnedBias` (item-ID dropout trained it; the loaded model's `newItemBias` is then that
    /// value), else the median of the warm biases. (Text T and projection P are untouched: a
    /// cold item's vector is then P·t, as for a new item.)
    public func applyNewItemRule<T: TrainScalar>(to params: inout NetworkParameters<T>, learnedBias: Bool = false) {
        guard !isEmpty else { return }
        let d = params.shape.dim
        let eOff = params.layout.offsets[ParamID.itemEmbedding.rawValue]
        let bOff = params.layout.offsets[ParamID.itemBias.rawValue]
        let biases = params[.itemBias].map { Float($0) }
        let median = learnedBias ? params[.newItemBias][0] : T(Double(medianWarmBias(biases)))
        for i in indices {
            for j in 0..<d { params.values[eOff + Int(i) * d + j] = 0 }
            params.values[bOff + Int(i)] = median
        }
    }
}
