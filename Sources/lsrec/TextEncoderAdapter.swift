import LSRecFormat
import LSRecText
import LSRecTrain

/// The sentence encoder (LSRecText, e.g. MiniLM from `make encoder`) as the trainer's `TextEmbedder`.
struct EncoderEmbedder: TextEmbedder {
    let encoder: TextEncoder
    let fingerprint: String
    var dim: Int { encoder.dim }

    func embed(_ texts: [String]) throws -> [Float] { try encoder.encode(texts) }
}

/// Loads an encoder file. Its fingerprint, which keys the item-text cache, names the source model
/// and hashes everything the vectors depend on: the tensors (the weight file's fingerprint, so f32
/// and f16 files differ) and the vocabulary and settings (the `bert.*` metadata).
func loadTextEncoder(path: String) throws -> TextEmbedder {
    let file = try WeightFile(path: path)
    let encoder = try TextEncoder(file: file)
    var settings: [String] = []
    for (key, value) in file.metadata where key.hasPrefix("bert.") { settings.append("\(key)=\(value)") }
    let source = (try? file.string("general.source")) ?? "unknown source"
    let fp = "\(source) (\(EncoderFile.architecture), tensors \(fingerprintHex(file.fingerprint)), "
        + "settings \(String(TextEmbeddingCache.hash(settings), radix: 16)))"
    return EncoderEmbedder(encoder: encoder, fingerprint: fp)
}
