import XCTest
import LSRecCore
import LSRecFormat
@testable import LSRecTrain

/// A test double of the sentence encoder: known vectors computed from the text's bytes, and a
/// count of how many texts it was asked to embed.
final class FakeEmbedder: TextEmbedder {
    let dim = 3
    let fingerprint: String
    private(set) var embedded = 0

    init(fingerprint: String = "fake-encoder-v1") { self.fingerprint = fingerprint }

    /// (byte count, first byte, number of spaces) / 10.
    static func vector(_ s: String) -> [Float] {
        let b = Array(s.utf8)
        return [Float(b.count) / 10, Float(b.first ?? 0) / 10, Float(b.filter { $0 == 32 }.count) / 10]
    }

    func embed(_ texts: [String]) throws -> [Float] {
        embedded += texts.count
        return texts.flatMap(Self.vector)
    }
}

/// The text-feature source (hashed words or a sentence encoder) ends up, exactly, in `item.text`.
final class TextSourceTests: XCTestCase {
    func tempPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lsrec-text-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    /// Data whose items have text, except two.
    static func data() -> Dataset {
        var ds = TrainerTests.data(users: 40, items: 30)
        ds.itemText![3] = ""
        ds.itemText![17] = ""
        return ds
    }

    func config(textDim: Int) -> TrainConfig {
        var c = TrainerTests.tinyConfig(1)
        c.textDim = textDim
        return c
    }

    func testEncoderVectorsEndUpInItemText() throws {
        let ds = Self.data()
        let enc = FakeEmbedder()
        let cache = tempPath("encoder.textcache")
        unlink(cache)
        let text = try ItemTextFeatures.make(.embedder(enc, cachePath: cache, batch: 7), texts: ds.itemText, nItems: ds.nItems)
        XCTAssertEqual(enc.embedded, ds.nItems - 2, "items without text are not embedded")
        XCTAssertEqual(text.itemsWithText, ds.nItems - 2)
        XCTAssertFalse(text.fromCache)
        let t = try Trainer(dataset: ds, config: config(textDim: 3), text: text)
        try t.run()
        let bytes = try t.exportBytes()
        let f = try WeightFile(bytes: bytes)
        XCTAssertEqual(try f.int("lsrec.text_dim"), 3)
        XCTAssertEqual(f.tensor("item.text_proj")?.shape, [8, 3])
        let stored = try f.floats("item.text", shape: [ds.nItems, 3])
        for i in 0..<ds.nItems {
            let want = ds.itemText![i].isEmpty ? [0, 0, 0] : FakeEmbedder.vector(ds.itemText![i])
            XCTAssertEqual(Array(stored[i * 3 ..< i * 3 + 3]), want, "item \(i)")
        }
        XCTAssertTrue(try f.string("train.text_features").contains("fake-encoder-v1"))

        // The cache: same encoder and texts -> read back bit for bit, the encoder is not called.
        let enc2 = FakeEmbedder()
        let cached = try ItemTextFeatures.make(.embedder(enc2, cachePath: cache), texts: ds.itemText, nItems: ds.nItems)
        XCTAssertTrue(cached.fromCache)
        XCTAssertEqual(enc2.embedded, 0)
        XCTAssertEqual(cached.values, text.values)
        // Training from the cache gives the same bytes (deterministic with text).
        let t2 = try Trainer(dataset: ds, config: config(textDim: 3), text: cached)
        try t2.run()
        XCTAssertEqual(bytes, try t2.exportBytes())
        // Another encoder fingerprint or other texts miss the cache.
        let other = FakeEmbedder(fingerprint: "fake-encoder-v2")
        XCTAssertFalse(try ItemTextFeatures.make(.embedder(other, cachePath: cache), texts: ds.itemText, nItems: ds.nItems).fromCache)
        XCTAssertEqual(other.embedded, ds.nItems - 2)
        var changed = ds.itemText!
        changed[0] += "!"
        let enc3 = FakeEmbedder(fingerprint: "fake-encoder-v2")
        XCTAssertFalse(try ItemTextFeatures.make(.embedder(enc3, cachePath: cache), texts: changed, nItems: ds.nItems).fromCache)
        // A text width that differs from the configuration is refused.
        XCTAssertThrowsError(try Trainer(dataset: ds, config: config(textDim: 4), text: text))
    }

    /// Hashed features: the default source for --text-dim K, identical to `hashedTextFeatures`;
    /// no text: no item.text tensor.
    func testHashedAndNoTextSources() throws {
        let ds = Self.data()
        let t = try Trainer(dataset: ds, config: config(textDim: 5))
        try t.run()
        let f = try WeightFile(bytes: try t.exportBytes())
        let stored = try f.floats("item.text", shape: [ds.nItems, 5])
        XCTAssertEqual(stored, hashedTextFeatures(ds.itemText, nItems: ds.nItems, dim: 5))
        XCTAssertEqual(Array(stored[3 * 5 ..< 4 * 5]), [0, 0, 0, 0, 0])
        XCTAssertEqual(try f.string("train.text_features"), ItemTextFeatures.hashedTextDescription)
        let explicit = try ItemTextFeatures.make(.hashed(dim: 5), texts: ds.itemText, nItems: ds.nItems)
        let t2 = try Trainer(dataset: ds, config: config(textDim: 5), text: explicit)
        try t2.run()
        XCTAssertEqual(try t.exportBytes(), try t2.exportBytes())

        let none = try Trainer(dataset: ds, config: config(textDim: 0))
        try none.run()
        let g = try WeightFile(bytes: try none.exportBytes())
        XCTAssertNil(g.tensor("item.text"))
        XCTAssertNil(g.tensor("item.text_proj"))
    }

    /// Resuming with another text source is refused (the checkpoint records it).
    func testCheckpointRecordsTextSource() throws {
        let ds = Self.data()
        let ckpt = tempPath("text.ckpt")
        let hashed = try Trainer(dataset: ds, config: config(textDim: 3))
        try hashed.run(checkpointPath: ckpt)
        let text = try ItemTextFeatures.make(.embedder(FakeEmbedder(), cachePath: nil), texts: ds.itemText, nItems: ds.nItems)
        let enc = try Trainer(dataset: ds, config: config(textDim: 3), text: text)
        XCTAssertThrowsError(try enc.restore(checkpoint: try FileIO.readAll(path: ckpt)))
        var coldConfig = config(textDim: 3)
        coldConfig.coldFraction = 0.1
        XCTAssertThrowsError(try Trainer(dataset: ds, config: coldConfig).restore(checkpoint: try FileIO.readAll(path: ckpt)))
        XCTAssertNoThrow(try Trainer(dataset: ds, config: config(textDim: 3)).restore(checkpoint: try FileIO.readAll(path: ckpt)))
    }
}
