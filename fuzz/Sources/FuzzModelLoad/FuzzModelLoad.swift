// libFuzzer target for lsrec_model_load_memory (docs/RELIABILITY.md, "Fuzzing").
//
// Each input is tried three ways:
//   1. lsrec_model_load_memory on the raw bytes (the C entry point, every check on);
//   2. WeightFile(bytes:, verifyChecksums: false) + Model(file:): the same parser and model
//      checks with the CRCs skipped, so mutations of the structure are not all stopped by a
//      checksum (a coverage-guided fuzzer cannot forge CRC32C);
//   3. when (2) parsed the structure: the same bytes with every CRC recomputed, through
//      lsrec_model_load_memory again. It must agree with (2) exactly: same status, and on
//      success the C API is exercised on the model (ids, metadata, states, scoring, top-k,
//      explain, serialise/deserialise).
// Any disagreement or broken invariant is a crash (precondition), as is any trap in the library.
import LSRecCAPI
import LSRecCore
import LSRecFormat
#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func lsrecFuzzModelLoad(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []

    // 1. The C entry point on the raw bytes.
    let raw = loadThroughCAPI(bytes)

    // 2. Checksums off.
    guard let file = try? WeightFile(bytes: bytes, verifyChecksums: false) else { return 0 }
    var coreStatus: Int32 = 0
    do {
        let model = try Model(file: file)
        exerciseCore(model)
    } catch let e as LSRecError {
        coreStatus = e.status.rawValue
    } catch {
        fail("Model(file:) threw a non-LSRecError: \(error)")
    }
    // A raw load that succeeded must also succeed without checksums.
    check(raw != 0 || coreStatus == 0, "raw bytes load but the checksum-free path fails with \(coreStatus)")

    // 3. The same bytes with every CRC repaired must give exactly the checksum-free result.
    let repaired = repairChecksums(bytes, file)
    let again = loadThroughCAPI(repaired)
    check(again == coreStatus,
                 "repaired bytes: lsrec_model_load_memory gives \(again), the checksum-free parse \(coreStatus)")
    return 0
}

/// lsrec_model_load_memory; on success the model is exercised through the C API and freed.
private func loadThroughCAPI(_ bytes: [UInt8]) -> Int32 {
    var handle: OpaquePointer? = OpaquePointer(bitPattern: 0x1)  // must be reset to NULL on failure
    let status = bytes.withUnsafeBytes { lsrec_model_load_memory($0.baseAddress, UInt($0.count), &handle) }
    if status != 0 {
        check(handle == nil, "failed load left *out set")
        check(LSRecStatus(rawValue: status) != nil && status != LSRecStatus.internal.rawValue,
                     "status \(status) is not a specific error")
        check(String(cString: lsrec_last_error()).hasPrefix("lsrec_model_load_memory: "), "no message")
        return status
    }
    guard let m = handle else { fail("LSREC_OK but *out is NULL") }
    exerciseCAPI(m)
    lsrec_model_free(m)
    return status
}

private func exerciseCAPI(_ m: OpaquePointer) {
    let n = Int(lsrec_model_n_items(m)), d = Int(lsrec_model_dim(m))
    check(n >= 1 && d >= 1)
    var ids = [Int64](repeating: 0, count: n)
    check(lsrec_model_item_ids(m, &ids, UInt(n)) == 0)
    var text = [CChar](repeating: 0, count: 64)
    check(lsrec_model_meta(m, "general.fingerprint", &text, 64) == 16)

    var s: OpaquePointer? = nil
    check(lsrec_state_new(m, &s) == 0 && s != nil)
    defer { lsrec_state_free(s) }
    // A few events, known and unknown times, repeats; all valid.
    let times: [Int64] = [1_700_000_000, -1, 1_700_000_000, 1_700_003_600, Int64.max]
    for (r, t) in times.enumerated() {
        check(lsrec_state_update(m, s, ids[(r * 7) % n], t) == 0, String(cString: lsrec_last_error()))
    }
    var scores = [Float](repeating: 0, count: n)
    check(lsrec_score(m, s, -1, &scores, UInt(n)) == 0)
    check(lsrec_score(m, s, 0, &scores, UInt(n)) == 0)
    let k = min(n, 5) + 2
    var top = [Int64](repeating: 0, count: k), topScores = [Float](repeating: 0, count: k)
    var nOut: UInt = 0
    check(lsrec_topk(m, s, -1, UInt(k), 1, nil, 0, &top, &topScores, &nOut) == 0)
    check(Int(nOut) <= min(k, n))
    var u = [Float](repeating: 0, count: d)
    check(lsrec_user_vector(m, s, Int64.max, &u, UInt(d)) == 0)
    var why = [Int64](repeating: 0, count: 3), weights = [Float](repeating: 0, count: 3)
    check(lsrec_explain(m, s, ids[0], 3, &why, &weights, &nOut) == 0)

    // serialise -> deserialise -> serialise is the identity on bytes
    var need: UInt = 0
    check(lsrec_state_serialize(s, nil, 0, &need) == 0)
    var blob = [UInt8](repeating: 0, count: Int(need))
    check(lsrec_state_serialize(s, &blob, need, &need) == 0)
    var r: OpaquePointer? = nil
    let st = blob.withUnsafeBytes { lsrec_state_deserialize(m, $0.baseAddress, UInt($0.count), &r) }
    check(st == 0, "own blob refused: \(String(cString: lsrec_last_error()))")
    var blob2 = [UInt8](repeating: 0, count: Int(need))
    check(lsrec_state_serialize(r, &blob2, need, nil) == 0 && blob2 == blob)
    let pair: [OpaquePointer?] = [s, r]
    var batch = [Int64](repeating: 0, count: 2 * k)
    check(lsrec_topk_batch(m, pair, 2, 1_800_000_000, UInt(k), 0, &batch, nil) == 0)
    lsrec_state_free(r)
}

private func exerciseCore(_ model: Model) {
    var s = model.newState()
    let n = model.nItems
    for (r, t) in [Int64(5), -1, 5, 86_400].enumerated() {
        do { try model.update(&s, itemIndices: [(r * 3) % n], timestamps: [t]) } catch {
            fail("update of a valid event failed: \(error)")
        }
    }
    _ = try? model.scores(s, now: .at(1_000_000))
    _ = try? model.topK(s, now: .lastEvent, k: 3, excludeSeen: true, exclude: [])
}

/// The bytes with header CRC, every tensor CRC, the fingerprint (it hashes the tensor CRCs) and
/// the file CRC recomputed. The layout comes from the checksum-free parse; FORMAT.md gives the
/// field positions.
private func repairChecksums(_ input: [UInt8], _ file: WeightFile) -> [UInt8] {
    var b = input
    func put32(_ at: Int, _ v: UInt32) { for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) } }
    // Directory entries: u32 name_length, name, u32 dtype, u32 ndim, ndim × u64, u64 offset,
    // u64 byte_length, u32 crc32c.
    var at = file.header.directoryOffset
    var repaired: [TensorInfo] = []
    for t in file.tensors {
        at += 4 + t.name.utf8.count + 4 + 4 + 8 * t.shape.count + 8 + 8
        let crc = crc32c(b[t.offset ..< t.offset + t.byteLength])
        put32(at, crc)
        at += 4
        repaired.append(TensorInfo(name: t.name, dtype: t.dtype, shape: t.shape, offset: t.offset,
                                   byteLength: t.byteLength, crc: crc))
    }
    // Metadata entries: u32 key_length, key, u32 type, then 8 bytes (int, float) or u32 length + bytes.
    at = file.header.metadataOffset
    for (key, value) in file.metadata {
        at += 4 + key.utf8.count + 4
        switch value {
        case .int, .float: at += 8
        case .string(let text):
            let n = text.utf8.count
            if key == "general.fingerprint", text == fingerprintHex(file.fingerprint) {
                let hex = Array(fingerprintHex(computeFingerprint(repaired)).utf8)
                for i in 0..<n { b[at + 4 + i] = hex[i] }
            }
            at += 4 + n
        }
    }
    put32(60, crc32c(b[0 ..< 60]))
    let trailer = b.count - 16
    put32(trailer + 8, crc32c(b[0 ..< trailer]))
    return b
}

/// precondition() that also prints its message in release builds, then aborts (a libFuzzer crash).
private func check(_ ok: Bool, _ message: @autoclosure () -> String = "invariant broken",
                   file: StaticString = #fileID, line: UInt = #line) {
    if !ok { fail(message(), file: file, line: line) }
}

private func fail(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fputs("\(file):\(line): \(message)\n", stderr)
    abort()
}
