import LSRecFormat
import XCTest

#if canImport(Glibc)
import Glibc
#endif

// Independent little-endian helpers (deliberately not the library's).
func le32(_ b: [UInt8], _ o: Int) -> UInt32 {
    UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
}
func le64(_ b: [UInt8], _ o: Int) -> UInt64 { UInt64(le32(b, o)) | UInt64(le32(b, o + 4)) << 32 }
func put32(_ b: inout [UInt8], _ o: Int, _ v: UInt32) { for i in 0 ..< 4 { b[o + i] = UInt8((v >> (8 * UInt32(i))) & 0xFF) } }
func put64(_ b: inout [UInt8], _ o: Int, _ v: UInt64) { for i in 0 ..< 8 { b[o + i] = UInt8((v >> (8 * UInt64(i))) & 0xFF) } }

/// Byte positions of every field of a well-formed `.lsrec` file, found by walking it with the
/// test's own reading of docs/FORMAT.md. Used to edit single fields of a valid file.
struct FileMap {
    struct Meta {
        var keyOffset: Int
        var key: String
        var typeOffset: Int
        var type: UInt32
        var valueOffset: Int      // for strings: the first byte of the UTF-8 payload
        var valueLength: Int
    }
    struct Entry {
        var nameOffset: Int
        var name: String
        var dtypeOffset: Int
        var dtype: UInt32
        var ndimOffset: Int
        var dimsOffset: Int
        var dims: [UInt64]
        var offsetField: Int
        var byteLengthField: Int
        var crcField: Int
        var offset: Int
        var byteLength: Int
    }
    var metas: [Meta] = []
    var entries: [Entry] = []
    var directoryOffset = 0
    var directoryEnd = 0

    init(_ b: [UInt8]) {
        var p = 64
        for _ in 0 ..< Int(le32(b, 40)) {
            let kl = Int(le32(b, p))
            let key = String(decoding: b[p + 4 ..< p + 4 + kl], as: UTF8.self)
            let keyOffset = p + 4
            p += 4 + kl
            let type = le32(b, p)
            let typeOffset = p
            p += 4
            var vo = p, vl = 8
            if type == 3 { vl = Int(le32(b, p)); vo = p + 4; p += 4 }
            p += vl
            metas.append(Meta(keyOffset: keyOffset, key: key, typeOffset: typeOffset, type: type, valueOffset: vo, valueLength: vl))
        }
        directoryOffset = Int(le64(b, 48))
        p = directoryOffset
        for _ in 0 ..< Int(le32(b, 44)) {
            let nl = Int(le32(b, p))
            let nameOffset = p + 4
            let name = String(decoding: b[p + 4 ..< p + 4 + nl], as: UTF8.self)
            p += 4 + nl
            let dtypeOffset = p, dtype = le32(b, p)
            let ndimOffset = p + 4, ndim = Int(le32(b, p + 4))
            p += 8
            let dimsOffset = p
            let dims = (0 ..< ndim).map { le64(b, p + 8 * $0) }
            p += 8 * ndim
            entries.append(Entry(nameOffset: nameOffset, name: name, dtypeOffset: dtypeOffset, dtype: dtype,
                                 ndimOffset: ndimOffset, dimsOffset: dimsOffset, dims: dims,
                                 offsetField: p, byteLengthField: p + 8, crcField: p + 16,
                                 offset: Int(truncatingIfNeeded: le64(b, p)),
                                 byteLength: Int(truncatingIfNeeded: le64(b, p + 8))))
            p += 20
        }
        directoryEnd = p
    }

    func meta(_ key: String) -> Meta? { metas.first { $0.key == key } }
    func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }
}

/// FNV-1a 64 over the directory as docs/FORMAT.md describes it, computed from raw bytes.
func independentFingerprint(_ b: [UInt8], _ map: FileMap) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    func eat(_ x: UInt8) { h = (h ^ UInt64(x)) &* 0x100_0000_01B3 }
    for e in map.entries {
        for c in e.name.utf8 { eat(c) }
        eat(0)
        for i in 0 ..< 4 { eat(b[e.dtypeOffset + i]) }
        for i in 0 ..< 8 * e.dims.count { eat(b[e.dimsOffset + i]) }
        for i in 0 ..< 4 { eat(b[e.crcField + i]) }
    }
    return h
}

/// After editing bytes of a valid file, re-patch checksums so that only the edit is wrong:
/// tensor CRCs (when their ranges are in bounds), the fingerprint value, the header CRC and
/// the file CRC. Uses `b.count` as the file size.
func reseal(_ b: inout [UInt8], tensorCRCs: Bool = true, fingerprint: Bool = true) {
    let map = FileMap(b)
    if tensorCRCs {
        for e in map.entries where e.offset >= 0 && e.byteLength >= 0 && e.offset <= b.count && e.byteLength <= b.count - e.offset {
            put32(&b, e.crcField, crc32c(Array(b[e.offset ..< e.offset + e.byteLength])))
        }
    }
    if fingerprint, let m = map.meta("general.fingerprint"), m.type == 3, m.valueLength == 16 {
        let hex = Array(fingerprintHex(independentFingerprint(b, map)).utf8)
        for i in 0 ..< 16 { b[m.valueOffset + i] = hex[i] }
    }
    resealHeaderAndFile(&b)
}

/// Re-patches only the header CRC and the file CRC (no parsing at all).
func resealHeaderAndFile(_ b: inout [UInt8]) {
    guard b.count >= 80 else { return }
    put32(&b, 60, crc32c(Array(b[0 ..< 60])))
    put32(&b, b.count - 8, crc32c(Array(b[0 ..< b.count - 16])))
}

/// Asserts that parsing `bytes` throws an `LSRecError` with `status` (and, optionally, a message
/// containing `contains`).
func assertRefused(_ bytes: [UInt8], _ status: LSRecStatus, contains: String? = nil,
                   verifyChecksums: Bool = true, file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try WeightFile(bytes: bytes, verifyChecksums: verifyChecksums)
        XCTFail("accepted a file that should be refused with \(status)", file: file, line: line)
    } catch let e as LSRecError {
        XCTAssertEqual(e.status, status, "message: \(e.message)", file: file, line: line)
        if let contains {
            XCTAssertTrue(e.message.contains(contains), "message \"\(e.message)\" lacks \"\(contains)\"", file: file, line: line)
        }
    } catch {
        XCTFail("unexpected error type \(error)", file: file, line: line)
    }
}

/// Asserts that `body` throws an `LSRecError` with `status`.
func assertThrows<T>(_ status: LSRecStatus, contains: String? = nil, file: StaticString = #filePath, line: UInt = #line,
                     _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("did not throw \(status)", file: file, line: line)
    } catch let e as LSRecError {
        XCTAssertEqual(e.status, status, "message: \(e.message)", file: file, line: line)
        if let contains {
            XCTAssertTrue(e.message.contains(contains), "message \"\(e.message)\" lacks \"\(contains)\"", file: file, line: line)
        }
    } catch {
        XCTFail("unexpected error type \(error)", file: file, line: line)
    }
}

/// A small deterministic PRNG (SplitMix64) so fuzz-style tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The small sample file used by the malformed-input tests: every metadata type, every dtype.
func sampleBuilder() -> WeightFileBuilder {
    var w = WeightFileBuilder()
    w.setMeta("general.architecture", .string("lsrec-v1"))
    w.setMeta("m.int", .int(-42))
    w.setMeta("m.flt", .float(0.25))
    w.setMeta("m.str", .string("héllo"))
    w.addTensor("w.one", shape: [2, 3], floats: [1, -2, 3.5, 0, -0.0, 1e-3])
    w.addTensor("w.two", shape: [2, 2], floats: [0.5, 0.25, -8, 9])
    w.addTensor("h.half", shape: [4], floats: [1, -1, 0.5, 65504], as: .f16)
    w.addTensor("i.ids", shape: [3], int64s: [7, -1, Int64.max])
    return w
}

func sampleFile() -> [UInt8] {
    do { return try sampleBuilder().build() } catch { XCTFail("sample build failed: \(error)"); return [] }
}
