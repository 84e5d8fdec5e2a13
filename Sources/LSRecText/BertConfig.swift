import LSRecFormat

/// The shape of a BERT encoder (all-MiniLM-L6-v2: vocab 30522, hidden 384, 6 layers, 12 heads,
/// intermediate 1536, 512 positions, 128 tokens, eps 1e-12).
public struct BertConfig: Sendable, Equatable {
    /// Rows of the word-embedding table (= vocabulary size).
    public var vocabSize: Int
    /// Hidden width, also the embedding width.
    public var hidden: Int
    /// Transformer layers.
    public var layers: Int
    /// Attention heads (divides `hidden`).
    public var heads: Int
    /// Feed-forward width.
    public var intermediate: Int
    /// Rows of the position-embedding table.
    public var maxPositions: Int
    /// Tokenizer length limit including [CLS] and [SEP] (≤ maxPositions).
    public var maxTokens: Int
    /// LayerNorm epsilon (added to the variance).
    public var layerNormEps: Double
    /// Lowercase and strip accents in the tokenizer.
    public var lowercase: Bool
    /// Longer words (in Unicode scalars) become [UNK].
    public var maxInputCharsPerWord: Int

    /// A configuration; `validate()` checks it.
    public init(vocabSize: Int, hidden: Int, layers: Int, heads: Int, intermediate: Int,
                maxPositions: Int, maxTokens: Int, layerNormEps: Double = 1e-12, lowercase: Bool = true,
                maxInputCharsPerWord: Int = 100) {
        self.vocabSize = vocabSize
        self.hidden = hidden
        self.layers = layers
        self.heads = heads
        self.intermediate = intermediate
        self.maxPositions = maxPositions
        self.maxTokens = maxTokens
        self.layerNormEps = layerNormEps
        self.lowercase = lowercase
        self.maxInputCharsPerWord = maxInputCharsPerWord
    }

    /// Width of one attention head.
    public var headDim: Int { hidden / heads }

    /// Throws `LSRecError(.format, ...)` unless every size is in a sane range and consistent.
    public func validate() throws {
        func check(_ name: String, _ v: Int, _ r: ClosedRange<Int>) throws {
            guard r.contains(v) else { throw LSRecError(.format, "encoder \(name) = \(v) is outside \(r.lowerBound)...\(r.upperBound)") }
        }
        try check("vocab_size", vocabSize, 5...1_000_000)
        try check("hidden", hidden, 1...8192)
        try check("layers", layers, 1...128)
        try check("heads", heads, 1...hidden)
        try check("intermediate", intermediate, 1...65536)
        try check("max_positions", maxPositions, 2...65536)
        try check("max_tokens", maxTokens, 2...maxPositions)
        try check("max_input_chars_per_word", maxInputCharsPerWord, 1...1_000_000)
        guard hidden % heads == 0 else { throw LSRecError(.format, "encoder hidden \(hidden) is not a multiple of heads \(heads)") }
        guard layerNormEps.isFinite, layerNormEps > 0, layerNormEps < 1 else {
            throw LSRecError(.format, "encoder layer_norm_eps \(layerNormEps) must be in (0, 1)")
        }
    }
}

/// One transformer layer, weights in PyTorch's [out, in] layout (y = x·Wᵀ + b).
public struct BertLayerWeights: Sendable {
    /// Self-attention projections [hidden, hidden] and biases [hidden].
    public var query: [Float], queryBias: [Float]
    public var key: [Float], keyBias: [Float]
    public var value: [Float], valueBias: [Float]
    /// Attention output projection [hidden, hidden], bias [hidden].
    public var attentionOutput: [Float], attentionOutputBias: [Float]
    /// LayerNorm after attention + residual.
    public var attentionNormWeight: [Float], attentionNormBias: [Float]
    /// Feed-forward in [intermediate, hidden], bias [intermediate].
    public var intermediate: [Float], intermediateBias: [Float]
    /// Feed-forward out [hidden, intermediate], bias [hidden].
    public var output: [Float], outputBias: [Float]
    /// LayerNorm after feed-forward + residual.
    public var outputNormWeight: [Float], outputNormBias: [Float]

    /// Memberwise.
    public init(query: [Float], queryBias: [Float], key: [Float], keyBias: [Float], value: [Float], valueBias: [Float],
                attentionOutput: [Float], attentionOutputBias: [Float],
                attentionNormWeight: [Float], attentionNormBias: [Float],
                intermediate: [Float], intermediateBias: [Float], output: [Float], outputBias: [Float],
                outputNormWeight: [Float], outputNormBias: [Float]) {
        self.query = query; self.queryBias = queryBias
        self.key = key; self.keyBias = keyBias
        self.value = value; self.valueBias = valueBias
        self.attentionOutput = attentionOutput; self.attentionOutputBias = attentionOutputBias
        self.attentionNormWeight = attentionNormWeight; self.attentionNormBias = attentionNormBias
        self.intermediate = intermediate; self.intermediateBias = intermediateBias
        self.output = output; self.outputBias = outputBias
        self.outputNormWeight = outputNormWeight; self.outputNormBias = outputNormBias
    }
}

/// All weights of a BERT encoder plus its vocabulary. Tensor names follow Hugging Face's
/// BertModel (`tensorNames`), so the safetensors import and the .lsrec file share one list.
public struct BertWeights: Sendable {
    /// Sizes.
    public var config: BertConfig
    /// WordPiece vocabulary in id order.
    public var vocab: [String]
    /// [vocab, hidden].
    public var wordEmbeddings: [Float]
    /// [maxPositions, hidden].
    public var positionEmbeddings: [Float]
    /// [tokenTypes, hidden]; only row 0 is used (single-segment input).
    public var tokenTypeEmbeddings: [Float]
    /// Rows of `tokenTypeEmbeddings`.
    public var tokenTypes: Int
    /// Embedding LayerNorm gain and shift [hidden].
    public var embeddingNormWeight: [Float], embeddingNormBias: [Float]
    /// The transformer layers, first to last.
    public var layers: [BertLayerWeights]

    /// Memberwise (`assemble` builds and checks one from named tensors).
    public init(config: BertConfig, vocab: [String], wordEmbeddings: [Float], positionEmbeddings: [Float],
                tokenTypeEmbeddings: [Float], tokenTypes: Int, embeddingNormWeight: [Float],
                embeddingNormBias: [Float], layers: [BertLayerWeights]) {
        self.config = config
        self.vocab = vocab
        self.wordEmbeddings = wordEmbeddings
        self.positionEmbeddings = positionEmbeddings
        self.tokenTypeEmbeddings = tokenTypeEmbeddings
        self.tokenTypes = tokenTypes
        self.embeddingNormWeight = embeddingNormWeight
        self.embeddingNormBias = embeddingNormBias
        self.layers = layers
    }

    /// (name, shape, is a matrix) of every tensor, in file order. Matrices are the tensors that
    /// `convert-encoder --f16` narrows; vectors (biases, LayerNorm) always stay f32.
    public static func tensorNames(_ c: BertConfig, tokenTypes: Int) -> [(name: String, shape: [Int], matrix: Bool)] {
        let H = c.hidden, I = c.intermediate
        var out: [(String, [Int], Bool)] = [
            ("embeddings.word_embeddings.weight", [c.vocabSize, H], true),
            ("embeddings.position_embeddings.weight", [c.maxPositions, H], true),
            ("embeddings.token_type_embeddings.weight", [tokenTypes, H], true),
            ("embeddings.LayerNorm.weight", [H], false),
            ("embeddings.LayerNorm.bias", [H], false),
        ]
        for l in 0 ..< c.layers {
            let p = "encoder.layer.\(l)."
            out += [
                (p + "attention.self.query.weight", [H, H], true), (p + "attention.self.query.bias", [H], false),
                (p + "attention.self.key.weight", [H, H], true), (p + "attention.self.key.bias", [H], false),
                (p + "attention.self.value.weight", [H, H], true), (p + "attention.self.value.bias", [H], false),
                (p + "attention.output.dense.weight", [H, H], true), (p + "attention.output.dense.bias", [H], false),
                (p + "attention.output.LayerNorm.weight", [H], false), (p + "attention.output.LayerNorm.bias", [H], false),
                (p + "intermediate.dense.weight", [I, H], true), (p + "intermediate.dense.bias", [I], false),
                (p + "output.dense.weight", [H, I], true), (p + "output.dense.bias", [H], false),
                (p + "output.LayerNorm.weight", [H], false), (p + "output.LayerNorm.bias", [H], false),
            ]
        }
        return out.map { (name: $0.0, shape: $0.1, matrix: $0.2) }
    }

    /// Builds the weights from a name → floats lookup (shapes checked by the caller's `load`).
    public static func assemble(config c: BertConfig, vocab: [String], tokenTypes: Int,
                                _ load: (String, [Int]) throws -> [Float]) throws -> BertWeights {
        try c.validate()
        guard vocab.count == c.vocabSize else {
            throw LSRecError(.format, "vocabulary has \(vocab.count) tokens but vocab_size is \(c.vocabSize)")
        }
        guard (1...16).contains(tokenTypes) else { throw LSRecError(.format, "encoder has \(tokenTypes) token types") }
        let H = c.hidden, I = c.intermediate
        var layers: [BertLayerWeights] = []
        for l in 0 ..< c.layers {
            let p = "encoder.layer.\(l)."
            layers.append(BertLayerWeights(
                query: try load(p + "attention.self.query.weight", [H, H]), queryBias: try load(p + "attention.self.query.bias", [H]),
                key: try load(p + "attention.self.key.weight", [H, H]), keyBias: try load(p + "attention.self.key.bias", [H]),
                value: try load(p + "attention.self.value.weight", [H, H]), valueBias: try load(p + "attention.self.value.bias", [H]),
                attentionOutput: try load(p + "attention.output.dense.weight", [H, H]),
                attentionOutputBias: try load(p + "attention.output.dense.bias", [H]),
                attentionNormWeight: try load(p + "attention.output.LayerNorm.weight", [H]),
                attentionNormBias: try load(p + "attention.output.LayerNorm.bias", [H]),
                intermediate: try load(p + "intermediate.dense.weight", [I, H]), intermediateBias: try load(p + "intermediate.dense.bias", [I]),
                output: try load(p + "output.dense.weight", [H, I]), outputBias: try load(p + "output.dense.bias", [H]),
                outputNormWeight: try load(p + "output.LayerNorm.weight", [H]), outputNormBias: try load(p + "output.LayerNorm.bias", [H])))
        }
        return BertWeights(
            config: c, vocab: vocab,
            wordEmbeddings: try load("embeddings.word_embeddings.weight", [c.vocabSize, H]),
            positionEmbeddings: try load("embeddings.position_embeddings.weight", [c.maxPositions, H]),
            tokenTypeEmbeddings: try load("embeddings.token_type_embeddings.weight", [tokenTypes, H]),
            tokenTypes: tokenTypes,
            embeddingNormWeight: try load("embeddings.LayerNorm.weight", [H]),
            embeddingNormBias: try load("embeddings.LayerNorm.bias", [H]),
            layers: layers)
    }

    /// The tensor called `name` (as listed by `tensorNames`).
    public func tensor(_ name: String) -> [Float]? {
        switch name {
        case "embeddings.word_embeddings.weight": return wordEmbeddings
        case "embeddings.position_embeddings.weight": return positionEmbeddings
        case "embeddings.token_type_embeddings.weight": return tokenTypeEmbeddings
        case "embeddings.LayerNorm.weight": return embeddingNormWeight
        case "embeddings.LayerNorm.bias": return embeddingNormBias
        default: break
        }
        let parts = name.split(separator: ".", maxSplits: 3)
        guard parts.count == 4, parts[0] == "encoder", parts[1] == "layer", let l = Int(parts[2]),
              l >= 0, l < layers.count else { return nil }
        let w = layers[l]
        switch String(parts[3]) {
        case "attention.self.query.weight": return w.query
        case "attention.self.query.bias": return w.queryBias
        case "attention.self.key.weight": return w.key
        case "attention.self.key.bias": return w.keyBias
        case "attention.self.value.weight": return w.value
        case "attention.self.value.bias": return w.valueBias
        case "attention.output.dense.weight": return w.attentionOutput
        case "attention.output.dense.bias": return w.attentionOutputBias
        case "attention.output.LayerNorm.weight": return w.attentionNormWeight
        case "attention.output.LayerNorm.bias": return w.attentionNormBias
        case "intermediate.dense.weight": return w.intermediate
        case "intermediate.dense.bias": return w.intermediateBias
        case "output.dense.weight": return w.output
        case "output.dense.bias": return w.outputBias
        case "output.LayerNorm.weight": return w.outputNormWeight
        case "output.LayerNorm.bias": return w.outputNormBias
        default: return nil
        }
    }
}
