import LSRecFormat

extension Model {
    /// Scores of every item, s = X·u + b, written into `out` (resized to N).
    public func scores(_ state: UserState, now: RequestTime, into out: inout [Float]) {
        let u = fuse(state, now: now).u
        scores(userVector: u, into: &out)
    }

    /// Scores of every item for a given user vector.
    func scores(userVector u: [Float], into out: inout [Float]) {
        if out.count != nItems { out = [Float](repeating: 0, count: nItems) }
        for i in 0..<nItems { out[i] = itemBias[i] }
        BLAS.gemv(rows: nItems, cols: dim, items, u, beta: 1, &out)
    }

    /// Scores of every item, checking that the state belongs to this model.
    public func scores(_ state: UserState, now: RequestTime) throws -> [Float] {
        try checkOwnership(state)
        var out: [Float] = []
        scores(state, now: now, into: &out)
        return out
    }

    /// Scores of selected items (dense indices, already validated by the caller).
    public func scores(_ state: UserState, now: RequestTime, itemIndices: [Int]) throws -> [Float] {
        try checkOwnership(state)
        guard itemIndices.allSatisfy({ $0 >= 0 && $0 < nItems }) else {
            throw LSRecError(.unknownItem, "item index outside 0..<\(nItems)")
        }
        let u = fuse(state, now: now).u, d = dim
        return itemIndices.map { i in
            var s = itemBias[i]
            for j in 0..<d { s += u[j] * items[i * d + j] }
            return s
        }
    }

    /// Scores of every item for several users with one sgemm: row b of the result is user b (n × N).
    public func scoresBatch(_ states: [UserState], now: RequestTime) throws -> [Float] {
        for s in states { try checkOwnership(s) }
        let d = dim, n = states.count
        var users = [Float](repeating: 0, count: n * d)
        for (b, s) in states.enumerated() {
            let u = fuse(s, now: now).u
            for j in 0..<d { users[b * d + j] = u[j] }
        }
        var out = [Float](repeating: 0, count: n * nItems)
        for b in 0..<n { for i in 0..<nItems { out[b * nItems + i] = itemBias[i] } }
        BLAS.gemm(transA: false, transB: true, m: n, n: nItems, k: d, alpha: 1, users, items, beta: 1, &out)
        return out
    }
}
