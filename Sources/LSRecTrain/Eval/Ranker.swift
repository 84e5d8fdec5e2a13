/// Anything that scores the whole catalogue for a user: the model, MostPopular, BPR-MF.
///
/// `evaluate` calls `scores` with `out.count == nItems` and expects every entry overwritten
/// (higher = better). With `threads > 1` it is called concurrently from several threads, each
/// with its own `out`, so an implementation must not mutate shared state while scoring.
public protocol Ranker {
    /// Scores for every item (count = nItems) given a user's history prefix and the target's time.
    /// - Parameters:
    ///   - user: index into `Dataset.users`.
    ///   - history: the user's dense item indices before the target, oldest first.
    ///   - timestamps: their unix times (-1 = unknown), same length.
    ///   - now: the target event's time (-1 = unknown); a model may use the gap to the last event.
    func scores(user: Int, history: ArraySlice<Int32>, timestamps: ArraySlice<Int64>, now: Int64,
                into out: inout [Float])
}
