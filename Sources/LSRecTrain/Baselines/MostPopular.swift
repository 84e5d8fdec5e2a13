/// Scores every item by how often it occurs among the training events (leave-one-out training
/// prefixes, `LeaveOneOut.trainingCount`), the same list for every user. Ties fall to the lower
/// item index under the evaluation's tie rule.
public struct MostPopular: Ranker, Sendable {
    public let counts: [Float]

    public init(data: Dataset) {
        var c = [Float](repeating: 0, count: data.nItems)
        let rule = LeaveOneOut(data)
        for u in data.users {
            for i in u.items.prefix(rule.trainingCount(u)) { c[Int(i)] += 1 }
        }
        counts = c
    }

    /// Scores given directly (one per item).
    public init(counts: [Float]) { self.counts = counts }

    public func scores(user: Int, history: ArraySlice<Int32>, timestamps: ArraySlice<Int64>,
                       now: Int64, into out: inout [Float]) {
        out.withUnsafeMutableBufferPointer { o in
            counts.withUnsafeBufferPointer { c in
                for i in 0..<c.count { o[i] = c[i] }
            }
        }
    }
}
