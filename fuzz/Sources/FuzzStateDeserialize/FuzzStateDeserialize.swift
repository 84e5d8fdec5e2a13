// libFuzzer target for lsrec_state_deserialize (docs/RELIABILITY.md, "Fuzzing").
//
// The model is the committed fixture (Tests/Fixtures/tiny-random.lsrec, or $LSREC_FUZZ_MODEL),
// loaded once. Each input is tried twice:
//   1. lsrec_state_deserialize on the raw bytes;
//   2. the same bytes with the blob's length field (bytes 8..11) and trailing CRC32C repaired,
//      so that mutations reach the payload checks (a fuzzer cannot forge CRC32C).
// A blob that is accepted is then used: serialise (must be a fixed point after one round),
// update with valid events, score (finite), top-k, explain, user vector, clone, rebase.
// Any broken invariant is a crash (precondition), as is any trap in the library.
import LSRecCAPI
import LSRecFormat
#if canImport(Glibc)
import Glibc
#endif

private let modelPath: String = {
    if let p = getenv("LSREC_FUZZ_MODEL") { return String(cString: p) }
    // fuzz/Sources/FuzzStateDeserialize/<this file> -> repository root
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(4)
    return parts.joined(separator: "/") + "/Tests/Fixtures/tiny-random.lsrec"
}()

private let model: OpaquePointer = {
    var m: OpaquePointer? = nil
    guard lsrec_model_load(modelPath, &m) == 0, let m else {
        fatalError("cannot load \(modelPath): \(String(cString: lsrec_last_error()))")
    }
    return m
}()

private let itemIDs: [Int64] = {
    let n = Int(lsrec_model_n_items(model))
    var ids = [Int64](repeating: 0, count: n)
    check(lsrec_model_item_ids(model, &ids, UInt(n)) == 0)
    return ids
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func lsrecFuzzStateDeserialize(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    let raw = deserialize(bytes)
    if bytes.count >= 8 {
        var fixed = bytes
        if fixed.count >= 12 { put32(&fixed, 8, UInt32(truncatingIfNeeded: fixed.count)) }
        put32(&fixed, fixed.count - 4, crc32c(fixed[0 ..< fixed.count - 4]))
        let repaired = deserialize(fixed)
        // Repairing a valid blob changes nothing.
        check(raw != 0 || repaired == 0, "a valid blob was refused after repairing its CRC")
    }
    return 0
}

private func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
    for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
}

private func deserialize(_ bytes: [UInt8]) -> Int32 {
    var s: OpaquePointer? = OpaquePointer(bitPattern: 0x1)  // must be reset to NULL on failure
    let status = bytes.withUnsafeBytes { lsrec_state_deserialize(model, $0.baseAddress, UInt($0.count), &s) }
    if status != 0 {
        check(s == nil, "failed deserialize left *out set")
        check(LSRecStatus(rawValue: status) != nil && status != LSRecStatus.internal.rawValue,
                     "status \(status) is not a specific error")
        check(String(cString: lsrec_last_error()).hasPrefix("lsrec_state_deserialize: "), "no message")
        return status
    }
    guard let s else { fail("LSREC_OK but *out is NULL") }
    exercise(s, bytes)
    lsrec_state_free(s)
    return 0
}

private func blob(_ s: OpaquePointer?) -> [UInt8] {
    var need: UInt = 0
    check(lsrec_state_serialize(s, nil, 0, &need) == 0)
    var b = [UInt8](repeating: 0, count: Int(need))
    check(lsrec_state_serialize(s, &b, need, nil) == 0)
    return b
}

private func exercise(_ s: OpaquePointer, _ input: [UInt8]) {
    let n = itemIDs.count
    check(lsrec_state_n_events(s) >= 0)

    // Round trip: what the library writes it reads back, and the second round is byte-identical.
    let b1 = blob(s)
    var r: OpaquePointer? = nil
    check(b1.withUnsafeBytes { lsrec_state_deserialize(model, $0.baseAddress, UInt($0.count), &r) } == 0,
                 "re-serialised blob refused: \(String(cString: lsrec_last_error()))")
    check(blob(r) == b1, "serialise is not a fixed point")
    lsrec_state_free(r)

    // The restored state answers every request; scores are finite (|h| <= 1, weights finite).
    var scores = [Float](repeating: 0, count: n)
    for now: Int64 in [-1, 0, 1_700_000_000, Int64.max] {
        check(lsrec_score(model, s, now, &scores, UInt(n)) == 0, String(cString: lsrec_last_error()))
        check(scores.allSatisfy { $0.isFinite }, "non-finite score from an accepted blob")
    }
    var top = [Int64](repeating: 0, count: 12), topScores = [Float](repeating: 0, count: 12)
    var nOut: UInt = 0
    check(lsrec_topk(model, s, -1, 12, 1, nil, 0, &top, &topScores, &nOut) == 0)
    var why = [Int64](repeating: 0, count: 4), weights = [Float](repeating: 0, count: 4)
    check(lsrec_explain(model, s, itemIDs[0], 4, &why, &weights, &nOut) == 0)

    var c: OpaquePointer? = nil, moved: OpaquePointer? = nil
    check(lsrec_state_clone(s, &c) == 0)
    // Rebasing onto the same model keeps every model item; events on items added to a catalogue
    // (a version-2 blob's table, u32 count after h and c) are skipped: the model lacks their ids.
    var skipped: UInt = 0, added: UInt = 0
    if b1[4] == 2 {
        let at = 56 + 8 * Int(lsrec_model_dim(model))
        for i in 0..<4 { added |= UInt(b1[at + i]) << (8 * UInt(i)) }
    }
    check(lsrec_state_rebase(model, s, &moved, &skipped) == 0 && skipped == added,
                 "rebase failed: \(String(cString: lsrec_last_error())) (skipped \(skipped), added \(added))")
    lsrec_state_free(moved)

    // Events after the restored ones: an unknown time is always in order; a known time is in
    // order unless earlier than the state's last time.
    check(lsrec_state_update(model, c, itemIDs[Int(input.count) % n], -1) == 0,
                 "update failed: \(String(cString: lsrec_last_error()))")
    let st = lsrec_state_update(model, c, itemIDs[0], 1_700_000_000)
    check(st == 0 || st == LSRecStatus.outOfOrder.rawValue, "update gave \(st)")
    check(lsrec_state_update(model, c, itemIDs[1], Int64.max) == 0)
    check(lsrec_score(model, c, -1, &scores, UInt(n)) == 0)
    check(scores.allSatisfy { $0.isFinite })
    lsrec_state_free(c)
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
