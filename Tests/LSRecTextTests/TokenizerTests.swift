import XCTest
@testable import LSRecText
import LSRecFormat

/// The WordPiece tokenizer on a tiny hand-written vocabulary: each behaviour of tokenizers'
/// BertNormalizer / BertPreTokenizer / WordPiece that MiniLM's tokenizer.json switches on.
final class TokenizerTests: XCTestCase {
    static let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
                        "hello", "world", ",", "!", "un", "##want", "##ed", "runn", "##ing",
                        "naive", "cafe", "中", "国", "a", "##a", "?", "—", "ab", "##c", "x"]

    func tokenizer(maxTokens: Int = 128, lowercase: Bool = true) throws -> WordPieceTokenizer {
        try WordPieceTokenizer(vocab: Self.vocab, lowercase: lowercase, maxTokens: maxTokens)
    }

    func testPunctuationSplitsAndLowercase() throws {
        let t = try tokenizer()
        XCTAssertEqual(t.tokens("Hello, World!"), ["hello", ",", "world", "!"])
        XCTAssertEqual(t.tokens("hello,,world"), ["hello", ",", ",", "world"])
        // Unicode punctuation (em dash, Pd) is split off like ASCII punctuation.
        XCTAssertEqual(t.tokens("hello—world"), ["hello", "—", "world"])
        // Without lowercasing, "Hello" is not in the vocabulary.
        XCTAssertEqual(try tokenizer(lowercase: false).tokens("Hello world"), ["[UNK]", "world"])
    }

    func testWordPieceContinuations() throws {
        let t = try tokenizer()
        XCTAssertEqual(t.tokens("unwanted running"), ["un", "##want", "##ed", "runn", "##ing"])
        // Greedy longest match: "abc" is "ab" + "##c", not "a" + ...
        XCTAssertEqual(t.tokens("abc"), ["ab", "##c"])
        // A remainder that matches nothing makes the whole word [UNK], not a partial split.
        XCTAssertEqual(t.tokens("hellox world"), ["[UNK]", "world"])
        XCTAssertEqual(t.tokens("zzz"), ["[UNK]"])
    }

    func testLongWordsBecomeUnknown() throws {
        let t = try tokenizer(maxTokens: 1000)
        let hundred = String(repeating: "a", count: 100)
        XCTAssertEqual(t.tokens(hundred), ["a"] + Array(repeating: "##a", count: 99))
        XCTAssertEqual(t.tokens(hundred + "a"), ["[UNK]"])
        // The limit counts scalars of the normalised word: 101 accented a's are still too long.
        XCTAssertEqual(t.tokens(String(repeating: "á", count: 101)), ["[UNK]"])
    }

    func testAccentsAreStripped() throws {
        let t = try tokenizer()
        XCTAssertEqual(t.tokens("Naïve CAFÉ"), ["naive", "cafe"])
        // Decomposed input (e + combining acute) gives the same.
        XCTAssertEqual(t.tokens("cafe\u{301}"), ["cafe"])
        // Canonical ordering of NFD: dot below (ccc 220) sorts before dot above (ccc 230).
        XCTAssertEqual(BertUnicode.nfd(Array("\u{1E0B}\u{323}".unicodeScalars)).map(\.value), [0x64, 0x323, 0x307])
        // Hangul syllables decompose algorithmically: 한 = ᄒ ᅡ ᆫ.
        XCTAssertEqual(BertUnicode.nfd(Array("한".unicodeScalars)).map(\.value), [0x1112, 0x1161, 0x11AB])
    }

    func testChineseCharactersAreSeparateWords() throws {
        let t = try tokenizer()
        XCTAssertEqual(t.tokens("中国"), ["中", "国"])
        XCTAssertEqual(t.tokens("a中a"), ["a", "中", "a"])
        // Hiragana is not in the CJK ideograph ranges: it stays inside its word.
        XCTAssertEqual(t.tokens("aの"), ["[UNK]"])
    }

    func testControlCharactersAndWhitespace() throws {
        let t = try tokenizer()
        // NUL, U+FFFD, a zero-width space (Cf) and a C1 control are dropped, joining the word.
        XCTAssertEqual(t.tokens("hel\u{0}l\u{FFFD}o\u{200B} wor\u{85}ld"), ["hello", "world"])
        // Tab, newline, CR and Unicode spaces separate words.
        XCTAssertEqual(t.tokens("hello\tworld\nhello\r\nworld\u{3000}x\u{A0}a"), ["hello", "world", "hello", "world", "x", "a"])
    }

    func testEmptyAndSpecialTokens() throws {
        let t = try tokenizer()
        XCTAssertEqual(t.encode(""), [2, 3])
        XCTAssertEqual(t.encode("   \u{200B} "), [2, 3])
        XCTAssertEqual(t.encode("hello world"), [2, 5, 6, 3])
        // Special tokens are recognised in the raw text (case-sensitive), as tokenizers' added tokens.
        XCTAssertEqual(t.tokens("hello[MASK]world"), ["hello", "[MASK]", "world"])
        // Lowercase "[mask]" is ordinary text: "[", "mask", "]" (none in this vocabulary but the split shows).
        XCTAssertEqual(t.tokens("[mask]"), ["[UNK]", "[UNK]", "[UNK]"])
    }

    /// tokenizers' category tables are Unicode 8.0: later characters are neither punctuation,
    /// control characters nor strippable marks (checked against tokenizers on every code point).
    func testUnicode8Categories() throws {
        let t = try tokenizer()
        XCTAssertEqual(t.tokens("x\u{2E42}x"), ["x", "[UNK]", "x"])   // Ps, Unicode 8.0: split
        XCTAssertEqual(t.tokens("x\u{2E52}x"), ["[UNK]"])             // Po, Unicode 13.0: part of the word
        XCTAssertEqual(t.tokens("x\u{166D}x"), ["x", "[UNK]", "x"])   // Po in 8.0 (So today): split
        XCTAssertEqual(t.tokens("a\u{E000}b"), ["ab"])                // private use: removed
        XCTAssertEqual(t.tokens("a\u{0E5C}b"), ["[UNK]"])             // unassigned: kept
        XCTAssertEqual(t.tokens("a\u{1BCA0}b"), ["ab"])               // Cf, Unicode 7.0: removed
        XCTAssertEqual(t.tokens("a\u{110CD}b"), ["[UNK]"])            // Cf, Unicode 11.0: kept
        XCTAssertEqual(t.tokens("a\u{0301}b"), ["ab"])                // Mn, 1.1: stripped
        XCTAssertEqual(t.tokens("a\u{1DF9}b"), ["[UNK]"])             // Mn, Unicode 10.0: kept
        XCTAssertEqual(t.tokens("a\u{1734}b"), ["ab"])                // Mn in 8.0 (Mc today): stripped
        XCTAssertEqual(t.tokens("a\u{0903}b"), ["[UNK]"])             // Mc: kept
    }

    func testTruncation() throws {
        let t = try tokenizer(maxTokens: 5)
        XCTAssertEqual(t.encode("hello world hello world hello"), [2, 5, 6, 5, 3])
        XCTAssertEqual(t.encode("hello"), [2, 5, 3])
        // Truncation counts word pieces, not words.
        XCTAssertEqual(t.encode("unwanted"), [2, 9, 10, 11, 3])
        XCTAssertEqual(t.encode("unwanted running"), [2, 9, 10, 11, 3])
    }

    /// Normalising run by run (the early stop for long texts) gives the same tokens as the whole
    /// text: combining marks after whitespace, CJK, punctuation and control characters at run edges.
    func testLongTextsStopEarlyWithTheSameTokens() throws {
        let t = try tokenizer(maxTokens: 10_000)
        let pieces = ["hello", " \u{301}x", "\t中国,", "\u{200B} ", "naïve\u{0}", "  ", "!", "unwanted\u{3000}", "CAFÉ",
                      "\u{85}", "\u{B}", "\u{C}", "a", "b"]
        var rng = SplitMix64(state: 5)
        var text = ""
        for _ in 0 ..< 300 { text += pieces[Int(rng.next() % UInt64(pieces.count))] }
        let all = t.tokens(text)
        XCTAssertGreaterThan(all.count, 200)
        // Reference: the whole text normalised at once, then split into words.
        var whole: [Int32] = []
        t.splitWords(t.normalize(Array(text.unicodeScalars)), into: &whole, limit: .max)
        XCTAssertEqual(all.map { t.id(of: $0)! }, whole)
        let short = try tokenizer(maxTokens: 50)
        XCTAssertEqual(short.encode(text), [2] + all.prefix(48).map { t.id(of: $0)! } + [3])
        // A long text costs its prefix only: a million words still tokenizes quickly.
        XCTAssertEqual(short.encode(String(repeating: "hello ", count: 1_000_000)).count, 50)
    }

    func testBadVocabularies() {
        XCTAssertThrowsError(try WordPieceTokenizer(vocab: ["[CLS]", "[SEP]", "[UNK]"]))            // no [PAD]
        XCTAssertThrowsError(try WordPieceTokenizer(vocab: ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "a", "a"]))
        XCTAssertThrowsError(try WordPieceTokenizer(vocab: ["[PAD]", "[CLS]", "[SEP]", "[UNK]", ""]))
        XCTAssertThrowsError(try WordPieceTokenizer(vocab: ["[PAD]", "[CLS]", "[SEP]", "[UNK]"], maxTokens: 1))
        // Canonically equivalent but distinct tokens are two entries, not a duplicate.
        XCTAssertNoThrow(try WordPieceTokenizer(vocab: ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "\u{E9}", "e\u{301}"]))
    }
}
