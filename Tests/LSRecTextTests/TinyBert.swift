import LSRecFormat
@testable import LSRecText
import Foundation

/// SplitMix64: a small seeded generator so the tiny model is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A tiny random BERT (2 layers, hidden 8, 2 heads, intermediate 16) over the tokenizer tests'
/// vocabulary, and an independent float64 reference forward pass written as plain loops over a
/// padded batch with an additive attention mask (the way Hugging Face computes it).
enum TinyBert {
    static let config = BertConfig(vocabSize: TokenizerTests.vocab.count, hidden: 8, layers: 2, heads: 2,
                                   intermediate: 16, maxPositions: 16, maxTokens: 12)

    static func weights(seed: UInt64 = 7) -> BertWeights {
        var rng = SplitMix64(state: seed)
        let c = config
        return try! BertWeights.assemble(config: c, vocab: TokenizerTests.vocab, tokenTypes: 2) { name, shape in
            let n = shape.reduce(1, *)
            // LayerNorm gains near 1, everything else spread around 0 (large enough that GELU's
            // curvature and the softmax matter).
            let isGain = name.hasSuffix("LayerNorm.weight")
            return (0 ..< n).map { _ in
                let u = Float(Double(rng.next() >> 11) / Double(1 << 53)) * 2 - 1
                return isGain ? 1 + 0.3 * u : 0.8 * u
            }
        }
    }

    /// Reference embeddings of `seqs` (row-major, n × hidden), float64 throughout.
    static func reference(_ w: BertWeights, _ seqs: [[Int32]]) -> [[Double]] {
        let c = w.config, H = c.hidden, I = c.intermediate, nh = c.heads, dh = H / nh
        let T = seqs.map(\.count).max()!
        let eps = c.layerNormEps
        func d(_ a: [Float]) -> [Double] { a.map(Double.init) }
        func linear(_ x: [[Double]], _ wt: [Float], _ b: [Float], out: Int, inDim: Int) -> [[Double]] {
            x.map { row in
                (0 ..< out).map { o in
                    var s = Double(b[o])
                    for i in 0 ..< inDim { s += row[i] * Double(wt[o * inDim + i]) }
                    return s
                }
            }
        }
        func layerNorm(_ x: [[Double]], _ g: [Float], _ b: [Float]) -> [[Double]] {
            x.map { row in
                let mean = row.reduce(0, +) / Double(row.count)
                let v = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(row.count)
                return row.indices.map { (row[$0] - mean) / (v + eps).squareRoot() * Double(g[$0]) + Double(b[$0]) }
            }
        }
        var result: [[Double]] = []
        for s in seqs {
            // Pad to T with [PAD] (id 0); mask 1 for real tokens.
            let ids = s + Array(repeating: 0, count: T - s.count)
            let mask = (0 ..< T).map { $0 < s.count ? 1.0 : 0.0 }
            var x: [[Double]] = (0 ..< T).map { p in
                (0 ..< H).map { j in
                    Double(w.wordEmbeddings[Int(ids[p]) * H + j]) + Double(w.positionEmbeddings[p * H + j]) +
                        Double(w.tokenTypeEmbeddings[j])
                }
            }
            x = layerNorm(x, w.embeddingNormWeight, w.embeddingNormBias)
            for L in w.layers {
                let q = linear(x, L.query, L.queryBias, out: H, inDim: H)
                let k = linear(x, L.key, L.keyBias, out: H, inDim: H)
                let v = linear(x, L.value, L.valueBias, out: H, inDim: H)
                var ctx = [[Double]](repeating: [Double](repeating: 0, count: H), count: T)
                for h in 0 ..< nh {
                    for i in 0 ..< T {
                        var sc = (0 ..< T).map { j -> Double in
                            var dot = 0.0
                            for e in 0 ..< dh { dot += q[i][h * dh + e] * k[j][h * dh + e] }
                            return dot / Double(dh).squareRoot() + (1 - mask[j]) * -Double(Float.greatestFiniteMagnitude)
                        }
                        let m = sc.max()!
                        sc = sc.map { exp($0 - m) }
                        let z = sc.reduce(0, +)
                        for e in 0 ..< dh {
                            var acc = 0.0
                            for j in 0 ..< T { acc += sc[j] / z * v[j][h * dh + e] }
                            ctx[i][h * dh + e] = acc
                        }
                    }
                }
                var a = linear(ctx, L.attentionOutput, L.attentionOutputBias, out: H, inDim: H)
                for i in 0 ..< T { for j in 0 ..< H { a[i][j] += x[i][j] } }
                let h1 = layerNorm(a, L.attentionNormWeight, L.attentionNormBias)
                var m = linear(h1, L.intermediate, L.intermediateBias, out: I, inDim: H)
                m = m.map { $0.map { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) } }
                var o = linear(m, L.output, L.outputBias, out: H, inDim: I)
                for i in 0 ..< T { for j in 0 ..< H { o[i][j] += h1[i][j] } }
                x = layerNorm(o, L.outputNormWeight, L.outputNormBias)
            }
            // Masked mean pooling, then L2 normalisation.
            var pooled = [Double](repeating: 0, count: H)
            for p in 0 ..< T { for j in 0 ..< H { pooled[j] += x[p][j] * mask[p] } }
            let count = mask.reduce(0, +)
            pooled = pooled.map { $0 / count }
            let norm = pooled.reduce(0) { $0 + $1 * $1 }.squareRoot()
            result.append(pooled.map { $0 / norm })
        }
        return result
    }
}
