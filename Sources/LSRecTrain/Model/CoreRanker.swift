import LSRecCore

/// Scores through the inference core (the one source of truth for evaluation): replays the
/// history with `Model.update`, then `Model.scores` with now = `.at(ts)` (`.unknown` for −1).
/// Stateless per call, so `evaluate` may call it from several threads.
public struct CoreRanker: Ranker {
    public let model: Model

    public init(model: Model) { self.model = model }

    public func scores(user: Int, history: ArraySlice<Int32>, timestamps: ArraySlice<Int64>, now: Int64,
                       into out: inout [Float]) {
        var state = model.newState()
        do {
            try model.update(&state, itemIndices: history.map { Int($0) }, timestamps: Array(timestamps))
        } catch {
            // Data sets are time-sorted per user; a refused history is a bug, not an input error.
            preconditionFailure("core refused a history for user \(user): \(error)")
        }
        model.scores(state, now: now >= 0 ? .at(now) : .unknown, into: &out)
    }
}
