#if canImport(Glibc)
import Glibc
#endif
import LSRecFormat

/// The sentence encoder: WordPiece tokenizer + BERT + mean pooling + L2 normalisation
/// (sentence-transformers all-MiniLM-L6-v2). Immutable after `init`, so any number of threads
/// may call `encode` at once; every call allocates its own scratch.
public final class TextEncoder: Sendable {
    /// Sequences encoded per forward pass: bounds the scratch memory of a large `encode` call.
    public static let chunkSize = 64

    /// Sizes of the network.
    public let config: BertConfig
    /// The tokenizer `encode` applies.
    public let tokenizer: WordPieceTokenizer
    private let model: BertModel

    /// Loads an encoder .lsrec file (`lsrec convert-encoder`). Throws `LSRecError`
    /// (`.io` for unreadable paths, `.format` for another kind of .lsrec file, ...).
    public convenience init(path: String) throws {
        try self.init(file: WeightFile(path: path))
    }

    /// Loads from a parsed weight file.
    public convenience init(file: WeightFile) throws {
        try self.init(weights: EncoderFile.weights(file))
    }

    /// Builds the encoder from weights (e.g. `SentenceTransformerImport.weights(directory:)`).
    public init(weights w: BertWeights) throws {
        try w.config.validate()
        config = w.config
        tokenizer = try WordPieceTokenizer(vocab: w.vocab, lowercase: w.config.lowercase,
                                           maxTokens: w.config.maxTokens,
                                           maxInputCharsPerWord: w.config.maxInputCharsPerWord)
        model = BertModel(w)
    }

    /// Output width (the hidden size; 384 for MiniLM).
    public var dim: Int { config.hidden }
    /// Token limit including [CLS] and [SEP] (128 for MiniLM).
    public var maxTokens: Int { config.maxTokens }

    /// Token ids of `text`, [CLS] … [SEP], truncated to `maxTokens`.
    public func tokenize(_ text: String) -> [Int32] { tokenizer.encode(text) }

    /// Embeddings of `texts`, row-major `texts.count × dim`, each row L2-normalised.
    public func encode(_ texts: [String]) throws -> [Float] {
        try encode(tokenIDs: texts.map(tokenizer.encode))
    }

    /// Embedding of one text (`dim` floats).
    public func encode(_ text: String) throws -> [Float] { try encode([text]) }

    /// Embeddings of already tokenised sequences (each 1...maxTokens ids below vocab_size).
    public func encode(tokenIDs seqs: [[Int32]]) throws -> [Float] {
        for (i, s) in seqs.enumerated() {
            guard !s.isEmpty, s.count <= config.maxTokens else {
                throw LSRecError(.invalidArgument, "sequence \(i) has \(s.count) tokens (1...\(config.maxTokens))")
            }
            if let bad = s.first(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
                throw LSRecError(.invalidArgument, "sequence \(i) has token id \(bad) outside 0..<\(config.vocabSize)")
            }
        }
        var out: [Float] = []
        out.reserveCapacity(seqs.count * dim)
        var start = 0
        while start < seqs.count {
            let end = min(seqs.count, start + Self.chunkSize)
            out.append(contentsOf: model.forward(Array(seqs[start ..< end])))
            start = end
        }
        return out
    }
}

/// The BERT forward pass on a batch. The sequences are packed back to back (no padding rows):
/// the dense layers run as one sgemm over all tokens of the batch, attention runs per sequence
/// over its own tokens only. This equals padding to the longest sequence with an attention mask
/// (masked keys get weight exp(-inf) = 0, and padded rows are excluded from the mean pooling)
/// without computing the padded rows.
struct BertModel: Sendable {
    struct Layer: Sendable {
        var qkv: [Float], qkvBias: [Float]   // query, key, value stacked: [3H, H]
        var attnOut: [Float], attnOutBias: [Float]
        var norm1Weight: [Float], norm1Bias: [Float]
        var inter: [Float], interBias: [Float]
        var out: [Float], outBias: [Float]
        var norm2Weight: [Float], norm2Bias: [Float]
    }

    let c: BertConfig
    let word: [Float], position: [Float], tokenType: [Float]
    let embNormWeight: [Float], embNormBias: [Float]
    let layers: [Layer]

    init(_ w: BertWeights) {
        c = w.config
        word = w.wordEmbeddings
        position = w.positionEmbeddings
        tokenType = Array(w.tokenTypeEmbeddings.prefix(w.config.hidden))
        embNormWeight = w.embeddingNormWeight
        embNormBias = w.embeddingNormBias
        layers = w.layers.map {
            Layer(qkv: $0.query + $0.key + $0.value, qkvBias: $0.queryBias + $0.keyBias + $0.valueBias,
                  attnOut: $0.attentionOutput, attnOutBias: $0.attentionOutputBias,
                  norm1Weight: $0.attentionNormWeight, norm1Bias: $0.attentionNormBias,
                  inter: $0.intermediate, interBias: $0.intermediateBias,
                  out: $0.output, outBias: $0.outputBias,
                  norm2Weight: $0.outputNormWeight, norm2Bias: $0.outputNormBias)
        }
    }

    /// Pooled, normalised embeddings of `seqs` (validated by the caller), row-major.
    func forward(_ seqs: [[Int32]]) -> [Float] {
        let H = c.hidden, I = c.intermediate, heads = c.heads, dh = c.headDim
        var starts: [Int] = []
        var rows = 0
        for s in seqs { starts.append(rows); rows += s.count }

        // Embeddings: word + position + token type 0, then LayerNorm.
        var x = [Float](repeating: 0, count: rows * H)
        for (b, s) in seqs.enumerated() {
            for (p, id) in s.enumerated() {
                let r = (starts[b] + p) * H, wo = Int(id) * H, po = p * H
                for j in 0 ..< H { x[r + j] = word[wo + j] + position[po + j] + tokenType[j] }
            }
        }
        layerNorm(&x, rows: rows, embNormWeight, embNormBias)

        var qkv = [Float](repeating: 0, count: rows * 3 * H)
        var ctx = [Float](repeating: 0, count: rows * H)
        var h = [Float](repeating: 0, count: rows * H)
        var mid = [Float](repeating: 0, count: rows * I)
        let longest = seqs.map(\.count).max() ?? 0
        var scores = [Float](repeating: 0, count: longest * longest)
        let scale = 1 / Float(dh).squareRoot()

        for layer in layers {
            TextBLAS.linear(x, rows: rows, inDim: H, layer.qkv, layer.qkvBias, outDim: 3 * H, into: &qkv)
            for (b, s) in seqs.enumerated() {
                let n = s.count, base = starts[b] * 3 * H
                for hd in 0 ..< heads {
                    // scores = Q Kᵀ / sqrt(dh) over this sequence's tokens only.
                    TextBLAS.gemm(transB: true, m: n, n: n, k: dh, alpha: scale,
                                  qkv, base + hd * dh, lda: 3 * H, qkv, base + H + hd * dh, ldb: 3 * H,
                                  beta: 0, &scores, ldc: n)
                    softmaxRows(&scores, rows: n, cols: n)
                    TextBLAS.gemm(transB: false, m: n, n: dh, k: n, scores, lda: n,
                                  qkv, base + 2 * H + hd * dh, ldb: 3 * H,
                                  beta: 0, &ctx, starts[b] * H + hd * dh, ldc: H)
                }
            }
            // Attention output: dense + residual, LayerNorm.
            TextBLAS.linear(ctx, rows: rows, inDim: H, layer.attnOut, layer.attnOutBias, outDim: H, into: &h)
            for i in 0 ..< rows * H { h[i] += x[i] }
            layerNorm(&h, rows: rows, layer.norm1Weight, layer.norm1Bias)
            // Feed-forward: GELU(h W1ᵀ + b1) W2ᵀ + b2, residual, LayerNorm.
            TextBLAS.linear(h, rows: rows, inDim: H, layer.inter, layer.interBias, outDim: I, into: &mid)
            for i in 0 ..< rows * I { mid[i] = gelu(mid[i]) }
            TextBLAS.linear(mid, rows: rows, inDim: I, layer.out, layer.outBias, outDim: H, into: &x)
            for i in 0 ..< rows * H { x[i] += h[i] }
            layerNorm(&x, rows: rows, layer.norm2Weight, layer.norm2Bias)
        }

        // Mean pooling over each sequence's tokens, then L2 normalisation (eps 1e-12 as
        // torch.nn.functional.normalize).
        var out = [Float](repeating: 0, count: seqs.count * H)
        for (b, s) in seqs.enumerated() {
            var acc = [Double](repeating: 0, count: H)
            for p in 0 ..< s.count {
                let r = (starts[b] + p) * H
                for j in 0 ..< H { acc[j] += Double(x[r + j]) }
            }
            var norm = 0.0
            for j in 0 ..< H { acc[j] /= Double(s.count); norm += acc[j] * acc[j] }
            let inv = 1 / max(norm.squareRoot(), 1e-12)
            for j in 0 ..< H { out[b * H + j] = Float(acc[j] * inv) }
        }
        return out
    }

    /// Row-wise LayerNorm in place: (x - mean) / sqrt(var + eps) · weight + bias (biased variance).
    private func layerNorm(_ x: inout [Float], rows: Int, _ weight: [Float], _ bias: [Float]) {
        let H = c.hidden
        let eps = Float(c.layerNormEps)
        for r in 0 ..< rows {
            let o = r * H
            var mean: Float = 0
            for j in 0 ..< H { mean += x[o + j] }
            mean /= Float(H)
            var v: Float = 0
            for j in 0 ..< H { let d = x[o + j] - mean; v += d * d }
            let inv = 1 / (v / Float(H) + eps).squareRoot()
            for j in 0 ..< H { x[o + j] = (x[o + j] - mean) * inv * weight[j] + bias[j] }
        }
    }

    /// Softmax of each row in place (max-shifted).
    private func softmaxRows(_ s: inout [Float], rows: Int, cols: Int) {
        for r in 0 ..< rows {
            let o = r * cols
            var m = -Float.infinity
            for j in 0 ..< cols { m = max(m, s[o + j]) }
            var sum: Float = 0
            for j in 0 ..< cols { let e = expf(s[o + j] - m); s[o + j] = e; sum += e }
            let inv = 1 / sum
            for j in 0 ..< cols { s[o + j] *= inv }
        }
    }
}

/// Exact GELU, as BERT's "gelu": x · Φ(x) = 0.5 x (1 + erf(x / √2)).
@inline(__always)
func gelu(_ x: Float) -> Float { 0.5 * x * (1 + erff(x * 0.70710678118654752)) }
