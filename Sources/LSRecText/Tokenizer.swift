import LSRecFormat

/// The BERT WordPiece tokenizer of all-MiniLM-L6-v2, matching Hugging Face `tokenizers` with the
/// model's tokenizer.json: special tokens matched in the raw text; BertNormalizer (clean_text,
/// handle_chinese_chars, strip_accents, lowercase); BertPreTokenizer (whitespace and
/// punctuation); WordPiece (greedy longest match, `##` continuations, words longer than
/// `maxInputCharsPerWord` scalars become [UNK]); `[CLS] … [SEP]`, truncated to `maxTokens` in all.
/// Immutable and thread-safe.
public struct WordPieceTokenizer: Sendable {
    /// Token ids by UTF-8 bytes (not by `String`, whose equality is canonical equivalence and
    /// would merge distinct vocabulary entries).
    private let ids: [[UInt8]: Int32]
    /// Vocabulary in id order.
    public let vocab: [String]
    /// Lowercase (and strip accents, as tokenizers does when strip_accents is unset).
    public let lowercase: Bool
    /// Length limit including [CLS] and [SEP].
    public let maxTokens: Int
    /// Words longer than this many Unicode scalars become [UNK].
    public let maxInputCharsPerWord: Int
    /// Ids of [CLS], [SEP], [UNK], [PAD].
    public let clsID: Int32, sepID: Int32, unkID: Int32, padID: Int32
    /// Special tokens recognised in the raw input (as tokenizers' added tokens), by scalars.
    private let specials: [(scalars: [Unicode.Scalar], id: Int32)]

    /// Builds the tokenizer from the vocabulary (`vocab[id]`). Throws `LSRecError(.format, ...)`
    /// for duplicate or empty tokens, missing [CLS]/[SEP]/[UNK]/[PAD], or `maxTokens` < 2.
    public init(vocab: [String], lowercase: Bool = true, maxTokens: Int = 128, maxInputCharsPerWord: Int = 100) throws {
        guard !vocab.isEmpty, vocab.count <= Int(Int32.max) else {
            throw LSRecError(.format, "vocabulary has \(vocab.count) tokens")
        }
        guard maxTokens >= 2 else { throw LSRecError(.format, "max_tokens \(maxTokens) must be at least 2") }
        guard maxInputCharsPerWord >= 1 else { throw LSRecError(.format, "max_input_chars_per_word must be positive") }
        var ids: [[UInt8]: Int32] = [:]
        ids.reserveCapacity(vocab.count)
        for (i, t) in vocab.enumerated() {
            guard !t.isEmpty else { throw LSRecError(.format, "vocabulary token \(i) is empty") }
            guard ids.updateValue(Int32(i), forKey: Array(t.utf8)) == nil else {
                throw LSRecError(.format, "vocabulary token \(i) \(t.debugDescription) is a duplicate")
            }
        }
        func special(_ t: String) throws -> Int32 {
            guard let id = ids[Array(t.utf8)] else { throw LSRecError(.format, "vocabulary has no \(t) token") }
            return id
        }
        clsID = try special("[CLS]")
        sepID = try special("[SEP]")
        unkID = try special("[UNK]")
        padID = try special("[PAD]")
        var specials: [(scalars: [Unicode.Scalar], id: Int32)] = []
        for t in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] {
            if let id = ids[Array(t.utf8)] { specials.append((Array(t.unicodeScalars), id)) }
        }
        self.specials = specials
        self.ids = ids
        self.vocab = vocab
        self.lowercase = lowercase
        self.maxTokens = maxTokens
        self.maxInputCharsPerWord = maxInputCharsPerWord
    }

    /// The id of `token`, or nil.
    public func id(of token: String) -> Int32? { ids[Array(token.utf8)] }

    /// Token ids of `text`: `[CLS]`, the WordPiece ids (truncated to `maxTokens - 2`), `[SEP]`.
    public func encode(_ text: String) -> [Int32] {
        var out: [Int32] = [clsID]
        let limit = maxTokens - 2
        var pieces: [Int32] = []
        for segment in splitSpecials(Array(text.unicodeScalars)) {
            switch segment {
            case .special(let id): pieces.append(id)
            case .text(let s): wordPieces(of: s, into: &pieces, limit: limit)
            }
            if pieces.count >= limit { break }
        }
        out.append(contentsOf: pieces.prefix(limit))
        out.append(sepID)
        return out
    }

    /// The WordPiece tokens of `text` as strings, without [CLS]/[SEP] or truncation (for tests
    /// and debugging).
    public func tokens(_ text: String) -> [String] {
        var pieces: [Int32] = []
        for segment in splitSpecials(Array(text.unicodeScalars)) {
            switch segment {
            case .special(let id): pieces.append(id)
            case .text(let s): wordPieces(of: s, into: &pieces, limit: Int.max)
            }
        }
        return pieces.map { vocab[Int($0)] }
    }

    private enum Segment { case text([Unicode.Scalar]), special(Int32) }

    /// Splits the raw text at special tokens (leftmost, longest match; case-sensitive, not
    /// normalised), as tokenizers does for its added tokens.
    private func splitSpecials(_ s: [Unicode.Scalar]) -> [Segment] {
        var out: [Segment] = []
        var start = 0, i = 0
        while i < s.count {
            var matched: (length: Int, id: Int32)? = nil
            if s[i] == "[" {
                for (t, id) in specials where t.count <= s.count - i && (matched == nil || t.count > matched!.length) {
                    if s[i ..< i + t.count].elementsEqual(t) { matched = (t.count, id) }
                }
            }
            if let m = matched {
                if i > start { out.append(.text(Array(s[start ..< i]))) }
                out.append(.special(m.id))
                i += m.length
                start = i
            } else {
                i += 1
            }
        }
        if start < s.count { out.append(.text(Array(s[start...]))) }
        return out
    }

    /// BertNormalizer: clean text, space out CJK ideographs, strip accents, lowercase.
    func normalize(_ input: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var s: [Unicode.Scalar] = []
        s.reserveCapacity(input.count)
        for c in input {
            if c.value == 0 || c.value == 0xFFFD || BertUnicode.isControl(c) { continue }
            if BertUnicode.isWhitespace(c) { s.append(" "); continue }
            if BertUnicode.isChinese(c) {
                s.append(" "); s.append(c); s.append(" ")
            } else {
                s.append(c)
            }
        }
        guard lowercase else { return s }
        // strip_accents is unset in tokenizer.json, so it follows lowercase (true): NFD, drop Mn.
        let stripped = BertUnicode.nfd(s).filter { !BertUnicode.isNonspacingMark($0) }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(stripped.count)
        for c in stripped {
            if c.value < 0x80 {
                out.append(c.value >= 0x41 && c.value <= 0x5A ? Unicode.Scalar(c.value + 32)! : c)
            } else {
                out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return out
    }

    /// Normalise, pre-tokenise, and append the WordPiece ids of every word (stopping once
    /// `limit` ids are present: the rest would be truncated anyway).
    private func wordPieces(of text: [Unicode.Scalar], into out: inout [Int32], limit: Int) {
        // The raw text is normalised one whitespace-delimited run at a time, so a huge text
        // costs only the prefix that fills `limit`. This equals normalising it all at once:
        // every step is per character except NFD's reordering of combining marks, which never
        // crosses a whitespace character (a starter), and whitespace only separates words.
        // Whitespace that is also a control character (VT, FF, NEL) is removed by clean_text
        // instead: it joins its neighbours, so it cannot end a run.
        func separates(_ c: Unicode.Scalar) -> Bool { BertUnicode.isWhitespace(c) && !BertUnicode.isControl(c) }
        var start = 0
        while start < text.count, out.count < limit {
            var end = start
            while end < text.count, !separates(text[end]) { end += 1 }
            if end > start { splitWords(normalize(Array(text[start ..< end])), into: &out, limit: limit) }
            start = end + 1
        }
    }

    /// BertPreTokenizer on normalised text (whitespace splits, each punctuation character is a
    /// word of its own), then WordPiece of each word, until `limit` ids are present.
    func splitWords(_ s: [Unicode.Scalar], into out: inout [Int32], limit: Int) {
        var word: [Unicode.Scalar] = []
        func flush() {
            if !word.isEmpty { wordPiece(word, into: &out); word.removeAll(keepingCapacity: true) }
        }
        for c in s {
            if out.count >= limit { return }
            if BertUnicode.isWhitespace(c) {
                flush()
            } else if BertUnicode.isPunctuation(c) {
                flush()
                word.append(c)
                flush()
            } else {
                word.append(c)
            }
        }
        flush()
    }

    /// Greedy longest-match-first WordPiece of one word; the whole word is [UNK] when it is too
    /// long or some remainder matches nothing.
    private func wordPiece(_ word: [Unicode.Scalar], into out: inout [Int32]) {
        guard word.count <= maxInputCharsPerWord else { out.append(unkID); return }
        // UTF-8 of the word plus the scalar boundaries in it.
        var bytes: [UInt8] = []
        var bounds: [Int] = [0]
        for c in word {
            UTF8.encode(c) { bytes.append($0) }
            bounds.append(bytes.count)
        }
        var found: [Int32] = []
        var start = 0
        let prefix: [UInt8] = [0x23, 0x23]  // "##"
        while start < word.count {
            var end = word.count
            var hit: Int32? = nil
            while end > start {
                let piece = Array(bytes[bounds[start] ..< bounds[end]])
                if let id = ids[start > 0 ? prefix + piece : piece] { hit = id; break }
                end -= 1
            }
            guard let id = hit else { out.append(unkID); return }
            found.append(id)
            start = end
        }
        out.append(contentsOf: found)
    }
}
