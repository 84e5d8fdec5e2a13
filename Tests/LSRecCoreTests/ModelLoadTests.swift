import XCTest
import LSRecFormat
@testable import LSRecCore

/// Model-level consistency checks on top of the format's own: well-formed files that are not a
/// usable lsrec-v1 model are refused with `.format` (or `.nonFinite`) and a message naming the problem.
final class ModelLoadTests: XCTestCase {
    /// Rebuilds the test model with one change applied to its tensors/metadata.
    func variant(_ edit: (inout [String: (shape: [Int], data: [Float])], inout [String: MetaValue], inout [Int64]) -> Void) throws -> [UInt8] {
        let base = try WeightFile(bytes: TestModel.bytes())
        var tensors: [String: (shape: [Int], data: [Float])] = [:]
        for t in base.tensors where t.name != "item.ids" { tensors[t.name] = (t.shape, try base.floats(t.name)) }
        var meta: [String: MetaValue] = [:]
        for (k, v) in base.metadata where k != "general.fingerprint" { meta[k] = v }
        var ids = try base.int64s("item.ids")
        edit(&tensors, &meta, &ids)
        var b = WeightFileBuilder()
        for k in meta.keys.sorted() { b.setMeta(k, meta[k]!) }
        b.addTensor("item.ids", shape: [ids.count], int64s: ids)
        for name in tensors.keys.sorted() { b.addTensor(name, shape: tensors[name]!.shape, floats: tensors[name]!.data) }
        return try b.build()
    }

    func expect(_ status: LSRecStatus, containing text: String, _ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try Model(bytes: bytes)
            XCTFail("loaded", file: file, line: line)
        } catch let e as LSRecError {
            XCTAssertEqual(e.status, status, e.message, file: file, line: line)
            XCTAssertTrue(e.message.contains(text), "'\(e.message)' should mention '\(text)'", file: file, line: line)
        } catch { XCTFail("\(error)", file: file, line: line) }
    }

    func testUnchangedVariantLoads() throws {
        XCTAssertNoThrow(try Model(bytes: variant { _, _, _ in }))
    }

    func testInconsistentModelsAreRefused() throws {
        expect(.format, containing: "lstm.w_h", try variant { t, _, _ in t["lstm.w_h"] = nil })
        expect(.format, containing: "attn.w_q", try variant { t, _, _ in t["attn.w_q"] = ([15, 16], Array(repeating: 0, count: 240)) })
        expect(.format, containing: "item.ids", try variant { _, m, _ in m["lsrec.n_items"] = .int(299) })
        expect(.format, containing: "item.embedding", try variant { t, _, _ in t["item.embedding"]!.shape = [16, 300] })
        expect(.format, containing: "lsrec.dim", try variant { _, m, _ in m["lsrec.dim"] = nil })
        expect(.format, containing: "lsrec.dim", try variant { _, m, _ in m["lsrec.dim"] = .string("16") })
        expect(.format, containing: "lsrec.dim", try variant { _, m, _ in m["lsrec.dim"] = .int(0) })
        expect(.format, containing: "architecture", try variant { _, m, _ in m["general.architecture"] = .string("gpt2") })
        expect(.format, containing: "lsrec.fusion", try variant { _, m, _ in m["lsrec.fusion"] = .string("average") })
        expect(.format, containing: "appears twice", try variant { _, _, ids in ids[5] = ids[6] })
        expect(.format, containing: "item.text", try variant { t, m, _ in m["lsrec.text_dim"] = .int(0); t["item.text_proj"] = nil })
        expect(.nonFinite, containing: "overflow", try variant { t, _, _ in
            t["item.text_proj"]!.data = Array(repeating: 3e38, count: t["item.text_proj"]!.data.count) })
    }

    /// `item.new_bias` (written by training with item-ID dropout) is the new-item bias when present;
    /// a wrong shape or a model without text projection is refused (non-finite values are refused
    /// for every tensor by the format reader).
    func testLearnedNewItemBias() throws {
        let plain = try Model(bytes: variant { _, _, _ in })
        XCTAssertEqual(plain.newItemBias, Model.median(plain.itemBias))
        let learned = try Model(bytes: variant { t, _, _ in t["item.new_bias"] = ([1], [0.625]) })
        XCTAssertEqual(learned.newItemBias, 0.625)
        XCTAssertEqual(try learned.newItemVector(text: [Float](repeating: 0.1, count: learned.config.textDim)).bias, 0.625)
        expect(.format, containing: "item.new_bias", try variant { t, _, _ in t["item.new_bias"] = ([2], [0.5, 0.5]) })
        expect(.format, containing: "item.new_bias", try variant { t, m, _ in
            m["lsrec.text_dim"] = .int(0); t["item.text_proj"] = nil; t["item.text"] = nil; t["item.new_bias"] = ([1], [0.5]) })
    }

    /// Found by fuzzing (docs/RELIABILITY.md): finite weights so large that a forward pass
    /// overflows float32. They used to load; the first event then made h and c NaN, scores NaN,
    /// and lsrec_state_deserialize refused the state's own blob. Now refused at load.
    func testFiniteWeightsThatOverflowAtInferenceAreRefused() throws {
        func scaled(_ name: String, _ value: Float) throws -> [UInt8] {
            try variant { t, _, _ in t[name]!.data = t[name]!.data.map { $0 < 0 ? -value : value } }
        }
        // The fuzzer's case: time.event_gap ~3e38 and lstm.w_x ~1e38 (here only the gap table).
        expect(.nonFinite, containing: "LSTM pre-activation", try scaled("time.event_gap", 3e38))
        expect(.nonFinite, containing: "LSTM pre-activation", try scaled("lstm.w_h", 1e38))
        expect(.nonFinite, containing: "attention", try scaled("attn.w_k", 1e37))
        expect(.nonFinite, containing: "interest", try scaled("out.w_h", 1e38))
        expect(.nonFinite, containing: "gate", try scaled("time.request_gap", 3e38))
        expect(.nonFinite, containing: "item score", try scaled("item.bias", 2e38))
        // Large weights that cannot overflow still load, and inference stays finite.
        let model = try Model(bytes: try scaled("lstm.w_h", 1e30))
        var s = model.newState()
        for e in TestModel.events(count: 30) { try model.update(&s, itemID: e.id, timestamp: e.time) }
        XCTAssertTrue(s.h.allSatisfy(\.isFinite) && s.c.allSatisfy(\.isFinite))
        XCTAssertTrue(try model.scores(s, now: .lastEvent).allSatisfy(\.isFinite))
        XCTAssertEqual(try model.deserialize(try model.serialize(s)), s)
    }
}
