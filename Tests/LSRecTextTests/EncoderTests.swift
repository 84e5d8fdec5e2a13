import XCTest
@testable import LSRecText
import LSRecFormat

/// The forward pass against the float64 reference, batching, and the encoder file round trip.
final class EncoderTests: XCTestCase {
    static let texts = ["hello world", "", "unwanted running, naive cafe!", "中国 a a a", "x",
                        "hello hello hello hello hello hello hello hello hello hello hello hello"]

    func testForwardMatchesFloat64Reference() throws {
        let w = TinyBert.weights()
        let enc = try TextEncoder(weights: w)
        let seqs = Self.texts.map(enc.tokenize)
        // The last text is truncated to max_tokens = 12.
        XCTAssertEqual(seqs.last!.count, 12)
        // One batch of ragged lengths (reference: padded batch with an attention mask).
        let got = try enc.encode(Self.texts)
        let want = TinyBert.reference(w, seqs)
        XCTAssertEqual(got.count, Self.texts.count * 8)
        var maxDiff = 0.0
        for (i, row) in want.enumerated() {
            for j in 0 ..< 8 { maxDiff = max(maxDiff, abs(Double(got[i * 8 + j]) - row[j])) }
        }
        XCTAssertLessThan(maxDiff, 2e-6, "max |swift - float64 reference| = \(maxDiff)")
        // The embeddings are not trivially equal to each other (the check above has teeth).
        XCTAssertGreaterThan(abs(got[0] - got[8]) + abs(got[1] - got[9]), 1e-3)
    }

    func testBatchEqualsSingleAndChunking() throws {
        let enc = try TextEncoder(weights: TinyBert.weights(seed: 11))
        let batch = try enc.encode(Self.texts)
        for (i, t) in Self.texts.enumerated() {
            let single = try enc.encode(t)
            for j in 0 ..< 8 { XCTAssertEqual(single[j], batch[i * 8 + j], accuracy: 1e-6) }
        }
        // More texts than one forward chunk.
        let many = (0 ..< (TextEncoder.chunkSize + 5)).map { Self.texts[$0 % Self.texts.count] }
        let out = try enc.encode(many)
        XCTAssertEqual(out.count, many.count * 8)
        for i in 0 ..< many.count {
            let k = i % Self.texts.count
            for j in 0 ..< 8 { XCTAssertEqual(out[i * 8 + j], batch[k * 8 + j], accuracy: 1e-6) }
        }
        XCTAssertEqual(try enc.encode([String]()), [])
    }

    func testRowsAreUnitLength() throws {
        let enc = try TextEncoder(weights: TinyBert.weights())
        let out = try enc.encode(Self.texts)
        for i in 0 ..< Self.texts.count {
            let n = (0 ..< 8).reduce(Float(0)) { $0 + out[i * 8 + $1] * out[i * 8 + $1] }
            XCTAssertEqual(n, 1, accuracy: 1e-5)
        }
    }

    func testBadTokenSequencesThrow() throws {
        let enc = try TextEncoder(weights: TinyBert.weights())
        XCTAssertThrowsError(try enc.encode(tokenIDs: [[]]))
        XCTAssertThrowsError(try enc.encode(tokenIDs: [[2, 99, 3]]))
        XCTAssertThrowsError(try enc.encode(tokenIDs: [[2, -1, 3]]))
        XCTAssertThrowsError(try enc.encode(tokenIDs: [Array(repeating: 5, count: 13)]))
    }

    func testFileRoundTripF32IsExact() throws {
        let w = TinyBert.weights()
        let bytes = try EncoderFile.build(w, f16: false)
        let file = try WeightFile(bytes: bytes)
        XCTAssertEqual(try file.string("general.architecture"), "bert-encoder-v1")
        XCTAssertEqual(try file.string("general.license"), "Apache-2.0")
        let back = try EncoderFile.weights(file)
        XCTAssertEqual(back.config, w.config)
        XCTAssertEqual(back.vocab, w.vocab)
        for t in BertWeights.tensorNames(w.config, tokenTypes: 2) {
            XCTAssertEqual(file.tensor(t.name)?.dtype, .f32)
            XCTAssertEqual(back.tensor(t.name), w.tensor(t.name), t.name)
        }
        let a = try TextEncoder(weights: w).encode(Self.texts)
        let b = try TextEncoder(file: file).encode(Self.texts)
        XCTAssertEqual(a, b)
    }

    func testFileRoundTripF16WithinHalfPrecision() throws {
        let w = TinyBert.weights()
        let file = try WeightFile(bytes: try EncoderFile.build(w, f16: true))
        let back = try EncoderFile.weights(file)
        for t in BertWeights.tensorNames(w.config, tokenTypes: 2) {
            let orig = w.tensor(t.name)!, got = back.tensor(t.name)!
            XCTAssertEqual(file.tensor(t.name)?.dtype, t.matrix ? .f16 : .f32, t.name)
            if !t.matrix { XCTAssertEqual(got, orig, t.name); continue }
            for (x, y) in zip(orig, got) {
                // Round to nearest half: relative error ≤ 2^-11 for normals, 2^-25 absolute below.
                XCTAssertLessThanOrEqual(abs(x - y), abs(x) * 0x1p-11 + 0x1p-25, t.name)
            }
            XCTAssertNotEqual(got, orig, "\(t.name) was not narrowed")
        }
        let a = try TextEncoder(weights: w).encode(Self.texts)
        let b = try TextEncoder(file: file).encode(Self.texts)
        for i in 0 ..< Self.texts.count {
            let cos = (0 ..< 8).reduce(Float(0)) { $0 + a[i * 8 + $1] * b[i * 8 + $1] }
            XCTAssertGreaterThan(cos, 0.999)
        }
    }

    func testRecommenderAndBrokenFilesAreRefused() throws {
        var b = WeightFileBuilder()
        b.setMeta("general.architecture", .string("lsrec-v1"))
        b.addTensor("x", shape: [1], floats: [0])
        let model = try WeightFile(bytes: b.build())
        XCTAssertThrowsError(try TextEncoder(file: model)) { e in
            XCTAssertEqual((e as? LSRecError)?.status, .format)
            XCTAssertTrue((e as? LSRecError)?.message.contains("recommender model") ?? false)
        }
        // Valid weight files that are inconsistent encoders: each is refused with LSREC_E_FORMAT.
        let good = try WeightFile(bytes: try EncoderFile.build(TinyBert.weights(), f16: false))
        XCTAssertNoThrow(try TextEncoder(file: try rebuild(good)))
        let cases: [(String, WeightFile)] = [
            ("missing tensor", try rebuild(good, skip: "encoder.layer.1.output.dense.bias")),
            ("wrong shape", try rebuild(good, replace: ("encoder.layer.0.intermediate.dense.bias", [15]))),
            ("vocab_size ≠ vocabulary", try rebuild(good, meta: ("bert.vocab_size", .int(24)))),
            ("heads do not divide hidden", try rebuild(good, meta: ("bert.heads", .int(3)))),
            ("max_tokens > positions", try rebuild(good, meta: ("bert.max_tokens", .int(17)))),
            ("cls pooling", try rebuild(good, meta: ("bert.pooling", .string("cls")))),
            ("not normalised", try rebuild(good, meta: ("bert.normalize", .int(0)))),
            ("eps as int", try rebuild(good, meta: ("bert.layer_norm_eps", .int(0)))),
            ("negative layers", try rebuild(good, meta: ("bert.layers", .int(-1)))),
            ("duplicate vocab", try rebuild(good, meta: ("bert.vocab", .string((TokenizerTests.vocab.dropLast() + ["hello"]).joined(separator: "\n"))))),
        ]
        for (what, file) in cases {
            XCTAssertThrowsError(try TextEncoder(file: file), what) { e in
                XCTAssertEqual((e as? LSRecError)?.status, .format, what)
            }
        }
    }

    /// A copy of `f` with one tensor left out, one tensor replaced by zeros of another shape,
    /// or one metadata value changed.
    private func rebuild(_ f: WeightFile, skip: String? = nil, replace: (String, [Int])? = nil,
                         meta: (String, MetaValue)? = nil) throws -> WeightFile {
        var b = WeightFileBuilder()
        for (k, v) in f.metadata where k != "general.fingerprint" { b.setMeta(k, k == meta?.0 ? meta!.1 : v) }
        for t in f.tensors where t.name != skip {
            if let r = replace, r.0 == t.name {
                b.addTensor(t.name, shape: r.1, floats: [Float](repeating: 0, count: r.1.reduce(1, *)))
            } else {
                b.addTensor(t.name, shape: t.shape, floats: try f.floats(t.name), as: t.dtype)
            }
        }
        return try WeightFile(bytes: b.build())
    }

    func testConcurrentEncodesAgree() throws {
        let enc = try TextEncoder(weights: TinyBert.weights())
        let want = try enc.encode(Self.texts)
        let results = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 8)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            results[i] = (try? enc.encode(Self.texts)) == want
        }
        XCTAssertTrue(results.allSatisfy { $0 })
    }
}
