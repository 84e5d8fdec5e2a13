import LSRecFormat

/// Turns item texts into fixed-width vectors: the MiniLM sentence encoder in `lsrec train
/// --text-encoder` (an adapter in the CLI), test doubles in the tests.
public protocol TextEmbedder {
    /// Width k of every vector.
    var dim: Int { get }
    /// Identifies the encoder and its weights; the embedding cache is keyed by it, so it must
    /// change whenever the vectors could.
    var fingerprint: String { get }
    /// One row of `dim` floats per text, row-major. Must be deterministic (same texts, same bits).
    func embed(_ texts: [String]) throws -> [Float]
}

/// Where the fixed text matrix T [N, k] of `item.text` comes from.
public enum TextSource {
    /// No text (k = 0).
    case none
    /// Signed feature hashing of words (`hashedTextFeatures`), width `dim`.
    case hashed(dim: Int)
    /// A sentence encoder. `cachePath`: a file that stores the matrix keyed by the encoder's
    /// fingerprint and a hash of the texts (reused when both match, rewritten otherwise);
    /// `progress(done, total)` is called after each batch of `batch` texts.
    case embedder(TextEmbedder, cachePath: String?, batch: Int = 64, progress: ((Int, Int) -> Void)? = nil)
}

/// The text matrix T [N, k] and how it was made.
public struct ItemTextFeatures {
    /// k.
    public let dim: Int
    /// Row-major [N, k]; an item without text has a zero row (no text, no text term: e = E row).
    public let values: [Float]
    /// One line for the weight file's `train.text_features`.
    public let description: String
    /// Items with non-empty text.
    public let itemsWithText: Int
    /// True when the encoder's vectors came from the cache file.
    public let fromCache: Bool

    public init(dim: Int, values: [Float], description: String, itemsWithText: Int, fromCache: Bool = false) {
        self.dim = dim; self.values = values; self.description = description
        self.itemsWithText = itemsWithText; self.fromCache = fromCache
    }

    /// Builds T for `nItems` items from `texts` (one per item, "" = none; nil = the data has no
    /// text, every row zero).
    public static func make(_ source: TextSource, texts: [String]?, nItems: Int) throws -> ItemTextFeatures {
        let texts = texts.map { Array($0.prefix(nItems)) + [String](repeating: "", count: max(0, nItems - $0.count)) }
            ?? [String](repeating: "", count: nItems)
        let withText = texts.reduce(0) { $0 + ($1.isEmpty ? 0 : 1) }
        switch source {
        case .none:
            return ItemTextFeatures(dim: 0, values: [], description: "none", itemsWithText: withText)
        case .hashed(let k):
            return ItemTextFeatures(dim: k, values: hashedTextFeatures(texts, nItems: nItems, dim: k),
                                    description: hashedTextDescription, itemsWithText: withText)
        case let .embedder(enc, cachePath, batch, progress):
            return try embed(texts, with: enc, cachePath: cachePath, batch: max(1, batch), progress: progress)
        }
    }

    /// `train.text_features` of hashed features.
    public static let hashedTextDescription = "hashed words, FNV-1a 64, L2-normalised"

    private static func embed(_ texts: [String], with enc: TextEmbedder, cachePath: String?, batch: Int,
                              progress: ((Int, Int) -> Void)?) throws -> ItemTextFeatures {
        let k = enc.dim, n = texts.count
        guard k > 0 else { throw TrainError.invalidConfig("text encoder has width 0") }
        let key = TextEmbeddingCache.Key(encoder: enc.fingerprint, texts: TextEmbeddingCache.hash(texts), count: n, dim: k)
        let description = "sentence encoder \(enc.fingerprint), k=\(k); items without text: zero row"
        let withText = texts.reduce(0) { $0 + ($1.isEmpty ? 0 : 1) }
        if let cachePath, let cached = TextEmbeddingCache.read(path: cachePath, key: key) {
            return ItemTextFeatures(dim: k, values: cached, description: description, itemsWithText: withText, fromCache: true)
        }
        // Only items with text are encoded; the others keep a zero row.
        let rows = texts.indices.filter { !texts[$0].isEmpty }
        var out = [Float](repeating: 0, count: n * k)
        var done = 0
        while done < rows.count {
            let chunk = Array(rows[done..<min(done + batch, rows.count)])
            let v = try enc.embed(chunk.map { texts[$0] })
            guard v.count == chunk.count * k else {
                throw TrainError.invalidConfig("text encoder returned \(v.count) values for \(chunk.count) texts of width \(k)")
            }
            guard v.allSatisfy({ $0.isFinite }) else { throw TrainError.invalidConfig("text encoder returned NaN or Inf") }
            for (r, i) in chunk.enumerated() {
                for j in 0..<k { out[i * k + j] = v[r * k + j] }
            }
            done += chunk.count
            progress?(done, rows.count)
        }
        if let cachePath { try TextEmbeddingCache.write(out, key: key, path: cachePath) }
        return ItemTextFeatures(dim: k, values: out, description: description, itemsWithText: withText)
    }
}

/// The encoder's item-text matrix on disk, so a second `lsrec train` on the same data and encoder
/// does not embed every title again. A weight-file container (CRC-checked) with the key in its
/// metadata; a file whose key differs (other encoder, other texts) or that does not parse is
/// ignored and overwritten. The vectors are stored as f32, bit for bit, so training from the cache
/// gives the same weight file as training from the encoder.
public enum TextEmbeddingCache {
    public struct Key: Equatable {
        public var encoder: String
        public var texts: UInt64
        public var count: Int
        public var dim: Int
    }

    /// FNV-1a 64 over every text's UTF-8 length (8 bytes) and bytes, in item order.
    public static func hash(_ texts: [String]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ b: UInt8) { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        for t in texts {
            var len = UInt64(t.utf8.count)
            for _ in 0..<8 { mix(UInt8(len & 0xff)); len >>= 8 }
            for b in t.utf8 { mix(b) }
        }
        return h
    }

    static let architecture = "lsrec-text-cache"

    /// The cached matrix when `path` holds one with exactly this key; nil otherwise.
    public static func read(path: String, key: Key) -> [Float]? {
        guard let f = try? WeightFile(path: path),
              (try? f.string("general.architecture")) == architecture,
              (try? f.string("cache.encoder")) == key.encoder,
              (try? f.int("cache.texts_fnv1a64")) == Int64(bitPattern: key.texts),
              let v = try? f.floats("text", shape: [key.count, key.dim]) else { return nil }
        return v
    }

    /// Writes the matrix with its key (atomically: temp file + rename).
    public static func write(_ values: [Float], key: Key, path: String) throws {
        var b = WeightFileBuilder()
        b.setMeta("general.architecture", .string(architecture))
        b.setMeta("general.created_by", .string(trainerVersion))
        b.setMeta("cache.encoder", .string(key.encoder))
        b.setMeta("cache.texts_fnv1a64", .int(Int64(bitPattern: key.texts)))
        b.addTensor("text", shape: [key.count, key.dim], floats: values)
        try FileIO.writeAtomically(try b.build(), to: path)
    }
}
