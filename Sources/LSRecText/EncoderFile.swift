import LSRecFormat

/// The encoder's place in the .lsrec file family (docs/FORMAT.md, "Encoder files"):
/// `general.architecture = "bert-encoder-v1"`, `bert.*` metadata, the vocabulary as one
/// newline-joined metadata string, and the BERT tensors under their Hugging Face names.
public enum EncoderFile {
    /// The architecture string of encoder files.
    public static let architecture = "bert-encoder-v1"

    /// Serialises `w` as an encoder .lsrec file. With `f16`, every matrix (embedding tables and
    /// dense weights) is stored as IEEE half; biases and LayerNorm parameters stay f32 (they are
    /// tiny and LayerNorm is the most precision-sensitive step).
    public static func build(_ w: BertWeights, f16: Bool, source: String = "sentence-transformers/all-MiniLM-L6-v2",
                             license: String = "Apache-2.0", createdBy: String = "lsrec convert-encoder") throws -> [UInt8] {
        let c = w.config
        try c.validate()
        for t in w.vocab where t.isEmpty || t.utf8.contains(0x0A) || t.utf8.contains(0x0D) {
            throw LSRecError(.invalidArgument, "vocabulary token \(t.debugDescription) is empty or contains a line break")
        }
        var b = WeightFileBuilder()
        b.setMeta("general.architecture", .string(architecture))
        b.setMeta("general.created_by", .string(createdBy))
        b.setMeta("general.source", .string(source))
        b.setMeta("general.license", .string(license))
        b.setMeta("bert.vocab_size", .int(Int64(c.vocabSize)))
        b.setMeta("bert.hidden", .int(Int64(c.hidden)))
        b.setMeta("bert.layers", .int(Int64(c.layers)))
        b.setMeta("bert.heads", .int(Int64(c.heads)))
        b.setMeta("bert.intermediate", .int(Int64(c.intermediate)))
        b.setMeta("bert.max_positions", .int(Int64(c.maxPositions)))
        b.setMeta("bert.token_types", .int(Int64(w.tokenTypes)))
        b.setMeta("bert.max_tokens", .int(Int64(c.maxTokens)))
        b.setMeta("bert.layer_norm_eps", .float(c.layerNormEps))
        b.setMeta("bert.activation", .string("gelu"))
        b.setMeta("bert.lowercase", .int(c.lowercase ? 1 : 0))
        b.setMeta("bert.max_input_chars_per_word", .int(Int64(c.maxInputCharsPerWord)))
        b.setMeta("bert.pooling", .string("mean"))
        b.setMeta("bert.normalize", .int(1))
        b.setMeta("bert.vocab", .string(w.vocab.joined(separator: "\n")))
        for t in BertWeights.tensorNames(c, tokenTypes: w.tokenTypes) {
            guard let data = w.tensor(t.name) else { throw LSRecError(.internal, "no tensor \(t.name)") }
            b.addTensor(t.name, shape: t.shape, floats: data, as: f16 && t.matrix ? .f16 : .f32)
        }
        return try b.build()
    }

    /// Reads the weights of an encoder file. `LSRecError(.format, ...)` when the file is another
    /// member of the family (a recommender model) or inconsistent.
    public static func weights(_ file: WeightFile) throws -> BertWeights {
        guard case .string(let arch)? = file.meta("general.architecture") else {
            throw LSRecError(.format, "missing metadata key 'general.architecture'")
        }
        guard arch == architecture else {
            if arch == "lsrec-v1" {
                throw LSRecError(.format, "this is a recommender model file (architecture 'lsrec-v1'), not a text encoder; load it with lsrec_model_load, or convert an encoder with `lsrec convert-encoder`")
            }
            throw LSRecError(.format, "unsupported architecture '\(arch)' (an encoder file has '\(architecture)')")
        }
        func int(_ key: String) throws -> Int {
            let v = try file.int(key)
            guard let i = Int(exactly: v), i >= 0, i <= Int(Int32.max) else {
                throw LSRecError(.format, "metadata '\(key)' = \(v) is out of range")
            }
            return i
        }
        let pooling = try file.string("bert.pooling")
        guard pooling == "mean" else { throw LSRecError(.format, "bert.pooling '\(pooling)' is not supported (only mean)") }
        guard try file.int("bert.normalize") == 1 else { throw LSRecError(.format, "bert.normalize must be 1") }
        let activation = try file.string("bert.activation")
        guard activation == "gelu" else { throw LSRecError(.format, "bert.activation '\(activation)' is not supported (only gelu)") }
        let lower = try file.int("bert.lowercase")
        guard lower == 0 || lower == 1 else { throw LSRecError(.format, "bert.lowercase must be 0 or 1") }
        let eps = try file.float("bert.layer_norm_eps")
        let config = BertConfig(
            vocabSize: try int("bert.vocab_size"), hidden: try int("bert.hidden"), layers: try int("bert.layers"),
            heads: try int("bert.heads"), intermediate: try int("bert.intermediate"),
            maxPositions: try int("bert.max_positions"), maxTokens: try int("bert.max_tokens"),
            layerNormEps: eps, lowercase: lower == 1,
            maxInputCharsPerWord: try int("bert.max_input_chars_per_word"))
        try config.validate()
        let vocab = try file.string("bert.vocab").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return try BertWeights.assemble(config: config, vocab: vocab, tokenTypes: try int("bert.token_types")) { name, shape in
            try file.floats(name, shape: shape)
        }
    }
}
