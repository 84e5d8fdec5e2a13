import CBLAS
import LSRecFormat
import LSRecKernels

extension Model {
    /// Scores of every item, s = X·u + b, written into `out` (resized to N).
    public func scores(_ state: UserState, now: RequestTime, into out: inout [Float]) {
        let u = fuse(state, now: now).u
        scores(userVector: u, into: &out)
        out.withUnsafeMutableBufferPointer { addRepeatTerm(state, to: $0) }
    }

    /// Scores of every item for a given user vector, block by block exactly as `topK` computes
    /// them (so a ranking and its scores always agree to the bit).
    func scores(userVector u: [Float], into out: inout [Float]) {
        if out.count != nItems { out = [Float](repeating: 0, count: nItems) }
        let rows = scoreBlockRows
        u.withUnsafeBufferPointer { u in
            items.withUnsafeBufferPointer { x in
                itemBias.withUnsafeBufferPointer { bias in
                    out.withUnsafeMutableBufferPointer { o in
                        var first = 0
                        while first < nItems {
                            let count = min(rows, nItems - first)
                            scoreBlock(x.baseAddress!, first: first, count: count, u: u.baseAddress!,
                                       bias: bias.baseAddress!, into: o.baseAddress! + first)
                            first += count
                        }
                    }
                }
            }
        }
    }

    /// Items per scoring block: the block's scores stay in L1 while they are selected from.
    var scoreBlockRows: Int { max(8, min(nItems, 8192 / dim)) }

    /// Item matrices of at least this many bytes are scored in address order
    /// (`lsk_score_rows_stream`: same bits, faster from memory; slower while the rows are in
    /// cache, as for a 3,706 × 128 matrix, 1.9 MB). 8 MiB: beyond the L2 of every CPU measured
    /// (at most 2 MiB per core); a 12.8 MB matrix already scored about as fast either way.
    static let streamScoringBytes = 8 << 20

    /// Whether `scoreBlock` reads the item matrix in address order (`streamScoringBytes`).
    var streamsScoring: Bool { nItems * dim * MemoryLayout<Float>.stride >= Self.streamScoringBytes }

    /// out[i] = X[first + i] · u + b[first + i] for i < count, on the calling thread; returns the
    /// block's largest score (NaN skipped). The kernel (LSRecKernels) gives a row the same bits
    /// wherever it sits in a block, and both kernels give the same bits, so `scores` and `topK`
    /// agree exactly.
    @inline(__always)
    @discardableResult
    func scoreBlock(_ x: UnsafePointer<Float>, first: Int, count: Int, u: UnsafePointer<Float>,
                    bias: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) -> Float {
        streamsScoring ? lsk_score_rows_stream(x + first * dim, count, dim, u, bias + first, out)
                       : lsk_score_rows(x + first * dim, count, dim, u, bias + first, out)
    }

    /// S[b, i] = U[b] · X[first + i] for b < n users, i < count items (S row-major n × count).
    func scoreBlock(users u: UnsafePointer<Float>, _ n: Int, _ x: UnsafePointer<Float>, first: Int, count: Int,
                    into s: UnsafeMutablePointer<Float>) {
        let d = dim
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(count), Int32(d), 1,
                    u, Int32(d), x + first * d, Int32(d), 0, s, Int32(count))
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
        let repeated = Set(repeatedItems(state))
        return itemIndices.map { i in
            var s = itemBias[i]
            for j in 0..<d { s += u[j] * items[i * d + j] }
            if let beta = repeatBias, repeated.contains(i) { s += beta }
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
        users.withUnsafeBufferPointer { users in
            items.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { out in
                    BLAS.gemm(transA: false, transB: true, m: n, n: nItems, k: d, alpha: 1, users, x, beta: 1, out)
                }
            }
        }
        out.withUnsafeMutableBufferPointer { out in
            for (b, s) in states.enumerated() {
                addRepeatTerm(s, to: UnsafeMutableBufferPointer(rebasing: out[b * nItems ..< (b + 1) * nItems]))
            }
        }
        return out
    }
}
