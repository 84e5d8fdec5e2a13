/// Where each SASRec tensor lives inside one flat parameter vector (and, identically, inside the
/// gradient and Adam moment vectors). Matrices are row-major [in, out], so a layer is y = x·W + b.
struct SASRecLayout: Equatable, Sendable {
    /// Offsets of one self-attention block's tensors.
    struct Block: Equatable, Sendable {
        var ln1Gamma = 0, ln1Beta = 0
        var wq = 0, bq = 0, wk = 0, bk = 0, wv = 0, bv = 0
        var ln2Gamma = 0, ln2Beta = 0
        var w1 = 0, b1 = 0, w2 = 0, b2 = 0
    }

    let nItems: Int, dim: Int, ffnDim: Int, maxLength: Int
    /// Item embedding [nItems, d]: the input table (scaled by √d) and the output layer.
    let itemEmb: Int
    /// Learned positional embedding [maxLength, d]; position maxLength−1 is the latest event.
    let posEmb: Int
    let blocks: [Block]
    let finalGamma: Int, finalBeta: Int
    let total: Int

    init(nItems: Int, dim: Int, ffnDim: Int, maxLength: Int, blocks: Int) {
        precondition(nItems > 0 && dim > 0 && ffnDim > 0 && maxLength > 0 && blocks > 0)
        self.nItems = nItems; self.dim = dim; self.ffnDim = ffnDim; self.maxLength = maxLength
        var at = 0
        func take(_ n: Int) -> Int { defer { at += n }; return at }
        itemEmb = take(nItems * dim)
        posEmb = take(maxLength * dim)
        var bs: [Block] = []
        for _ in 0..<blocks {
            var b = Block()
            b.ln1Gamma = take(dim); b.ln1Beta = take(dim)
            b.wq = take(dim * dim); b.bq = take(dim)
            b.wk = take(dim * dim); b.bk = take(dim)
            b.wv = take(dim * dim); b.bv = take(dim)
            b.ln2Gamma = take(dim); b.ln2Beta = take(dim)
            b.w1 = take(dim * ffnDim); b.b1 = take(ffnDim)
            b.w2 = take(ffnDim * dim); b.b2 = take(dim)
            bs.append(b)
        }
        self.blocks = bs
        finalGamma = take(dim); finalBeta = take(dim)
        total = at
    }

    init(nItems: Int, config: SASRecConfig) {
        self.init(nItems: nItems, dim: config.dim, ffnDim: config.ffnDim, maxLength: config.maxLength,
                  blocks: config.blocks)
    }

    /// Every tensor: name, offset, element count, and (for matrices) fan-in and fan-out.
    var tensors: [(name: String, offset: Int, count: Int, fan: (Int, Int)?)] {
        let d = dim, f = ffnDim
        var t: [(String, Int, Int, (Int, Int)?)] = [
            ("itemEmb", itemEmb, nItems * d, (nItems, d)), ("posEmb", posEmb, maxLength * d, (maxLength, d)),
        ]
        for (i, b) in blocks.enumerated() {
            t += [("b\(i).ln1Gamma", b.ln1Gamma, d, nil), ("b\(i).ln1Beta", b.ln1Beta, d, nil),
                  ("b\(i).wq", b.wq, d * d, (d, d)), ("b\(i).bq", b.bq, d, nil),
                  ("b\(i).wk", b.wk, d * d, (d, d)), ("b\(i).bk", b.bk, d, nil),
                  ("b\(i).wv", b.wv, d * d, (d, d)), ("b\(i).bv", b.bv, d, nil),
                  ("b\(i).ln2Gamma", b.ln2Gamma, d, nil), ("b\(i).ln2Beta", b.ln2Beta, d, nil),
                  ("b\(i).w1", b.w1, d * f, (d, f)), ("b\(i).b1", b.b1, f, nil),
                  ("b\(i).w2", b.w2, f * d, (f, d)), ("b\(i).b2", b.b2, d, nil)]
        }
        t += [("finalGamma", finalGamma, d, nil), ("finalBeta", finalBeta, d, nil)]
        return t.map { (name: $0.0, offset: $0.1, count: $0.2, fan: $0.3) }
    }

    /// Initial parameters as in the reference implementation: Glorot-uniform matrices and
    /// embeddings, LayerNorm γ = 1, β = 0, biases 0.
    func initialParameters(seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        var v = [Float](repeating: 0, count: total)
        for t in tensors {
            if let (fanIn, fanOut) = t.fan {
                let bound = (6.0 / Double(fanIn + fanOut)).squareRoot()
                for i in t.offset..<(t.offset + t.count) { v[i] = Float((2 * g.unitDouble() - 1) * bound) }
            } else if t.name.hasSuffix("Gamma") {
                for i in t.offset..<(t.offset + t.count) { v[i] = 1 }
            }
        }
        return v
    }
}
