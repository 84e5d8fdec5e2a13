import LSRecCore

/// Scores a data set through a model whose catalogue differs from the data's (e.g. a model
/// trained on ml-1m-timed evaluated on ml-1m-full): history items the model does not know are
/// skipped, data items the model does not know score -∞ (they can never be recommended).
/// When the catalogues are identical, use `CoreRanker`, which needs no mapping.
public struct CatalogRanker: Ranker {
    public let model: Model
    /// Data index -> model index (-1 = unknown to the model).
    let toModel: [Int]
    /// Data items the model knows.
    public let known: Int

    public init(model: Model, dataItemIDs: [Int64]) {
        self.model = model
        toModel = dataItemIDs.map { model.index(ofItem: $0) ?? -1 }
        known = toModel.filter { $0 >= 0 }.count
    }

    public func scores(user: Int, history: ArraySlice<Int32>, timestamps: ArraySlice<Int64>, now: Int64,
                       into out: inout [Float]) {
        var items: [Int] = [], times: [Int64] = []
        for (i, t) in zip(history, timestamps) where toModel[Int(i)] >= 0 {
            items.append(toModel[Int(i)])
            times.append(t)
        }
        var state = model.newState()
        do {
            try model.update(&state, itemIndices: items, timestamps: times)
        } catch {
            preconditionFailure("core refused a history for user \(user): \(error)")
        }
        var modelScores: [Float] = []
        model.scores(state, now: now >= 0 ? .at(now) : .unknown, into: &modelScores)
        for (d, m) in toModel.enumerated() { out[d] = m >= 0 ? modelScores[m] : -.infinity }
    }
}

/// The ranker for evaluating `model` on data with the given item ids.
public func ranker(for model: Model, dataItemIDs: [Int64]) -> Ranker {
    model.itemIDs == dataItemIDs ? CoreRanker(model: model) : CatalogRanker(model: model, dataItemIDs: dataItemIDs)
}
