import LSRecFormat
import XCTest

final class RoundTripTests: XCTestCase {
    private func f32Values(_ n: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        var v = (0 ..< n).map { _ in Float(bitPattern: UInt32.random(in: 0 ... UInt32.max, using: &rng)) }
        for i in v.indices where !v[i].isFinite { v[i] = Float(i) }   // keep random finite bit patterns
        return v
    }

    func testMetadataAndTensorsRoundTrip() throws {
        var w = WeightFileBuilder()
        let meta: [(String, MetaValue)] = [
            ("general.architecture", .string("lsrec-v1")),
            ("lsrec.dim", .int(64)),
            ("int.min", .int(Int64.min)),
            ("int.max", .int(Int64.max)),
            ("float.pi", .float(Double.pi)),
            ("float.negzero", .float(-0.0)),
            ("float.tiny", .float(Double.leastNonzeroMagnitude)),
            ("string.empty", .string("")),
            ("模型.名前", .string("日本語のテキスト ✓")),
            ("emoji.🎉", .string("party 🎉 with \"quotes\" and \n newline")),
            ("train.κ", .float(-1.5e300)),
        ]
        for (k, v) in meta { w.setMeta(k, v) }
        let a = f32Values(7, seed: 10) + [-0.0, Float.leastNonzeroMagnitude, -Float.greatestFiniteMagnitude,
                                        Float.leastNormalMagnitude, 1]
        let b = f32Values(12, seed: 11)
        let c = f32Values(24, seed: 12)
        let d = f32Values(48, seed: 13)
        let h: [Float] = [0, -0.0, 1, -1, 0.1, 1e-7, 3.14159, -65504, 65504, 1.0 / 3, 2.5e-5, 100.25]
        let ids: [Int64] = [1, -2, Int64.max, Int64.min, 0, 123_456_789_012]
        w.addTensor("t.vec", shape: [12], floats: a)
        w.addTensor("t.mat", shape: [3, 4], floats: b)
        w.addTensor("t.cube", shape: [2, 3, 4], floats: c)
        w.addTensor("t.4d", shape: [2, 2, 3, 4], floats: d)
        w.addTensor("t.half", shape: [3, 4], floats: h, as: .f16)
        w.addTensor("ids", shape: [6], int64s: ids)
        w.addTensor("名前.ü", shape: [1], floats: [42])
        let bytes = try w.build()

        let f = try WeightFile(bytes: bytes)
        XCTAssertEqual(f.fileSize, bytes.count)
        XCTAssertEqual(Int(le64(bytes, 16)), bytes.count)
        // Metadata in insertion order, then the fingerprint the builder appended.
        XCTAssertEqual(f.metadata.map(\.key), meta.map(\.0) + ["general.fingerprint"])
        for (i, (k, v)) in meta.enumerated() {
            XCTAssertEqual(f.metadata[i].value, v, k)
            XCTAssertEqual(f.meta(k), v, k)
        }
        if case .float(let z) = f.meta("float.negzero") { XCTAssertEqual(z.bitPattern, (-0.0 as Double).bitPattern) }
        else { XCTFail("float.negzero") }
        XCTAssertEqual(try f.string("general.fingerprint"), fingerprintHex(f.fingerprint))

        // Tensors in directory order, bit-exact f32, nearest-even f16, exact i64.
        XCTAssertEqual(f.tensors.map(\.name), ["t.vec", "t.mat", "t.cube", "t.4d", "t.half", "ids", "名前.ü"])
        XCTAssertEqual(f.tensors.map(\.shape), [[12], [3, 4], [2, 3, 4], [2, 2, 3, 4], [3, 4], [6], [1]])
        XCTAssertEqual(f.tensors.map(\.dtype), [.f32, .f32, .f32, .f32, .f16, .i64, .f32])
        for (name, expected) in [("t.vec", a), ("t.mat", b), ("t.cube", c), ("t.4d", d), ("名前.ü", [42])] {
            XCTAssertEqual(try f.floats(name).map(\.bitPattern), expected.map(\.bitPattern), name)
        }
        XCTAssertEqual(try f.floats("t.half").map(\.bitPattern),
                       h.map { floatFromHalfBits(halfBitsFromFloat($0)).bitPattern })
        XCTAssertEqual(try f.floats("t.half")[2], 1)
        XCTAssertEqual(try f.int64s("ids"), ids)

        let map = FileMap(bytes)
        for t in f.tensors {
            XCTAssertEqual(t.offset % 64, 0, "\(t.name) offset \(t.offset)")
            XCTAssertGreaterThanOrEqual(t.offset, map.directoryEnd)
            XCTAssertEqual(t.byteLength, t.shape.reduce(1, *) * t.dtype.size)
            XCTAssertEqual(t.crc, crc32c(Array(bytes[t.offset ..< t.offset + t.byteLength])))
        }
        XCTAssertEqual(f.fingerprint, independentFingerprint(bytes, map))
        // The raw layout matches the spec's header.
        XCTAssertEqual(Array(bytes[0 ..< 8]), Array("LSRECWT\0".utf8))
        XCTAssertEqual(Array(bytes[12 ..< 16]), [0x04, 0x03, 0x02, 0x01])
        XCTAssertEqual(Array(bytes[bytes.count - 16 ..< bytes.count - 8]), Array("LSRECEND".utf8))
        XCTAssertEqual(le32(bytes, bytes.count - 4), 0)
        XCTAssertEqual(le32(bytes, 60), crc32c(Array(bytes[0 ..< 60])))
        XCTAssertEqual(le32(bytes, bytes.count - 8), crc32c(Array(bytes[0 ..< bytes.count - 16])))
        XCTAssertEqual(f.header.directoryOffset, 64 + f.header.metadataLength)
        XCTAssertEqual(f.header.metadataCount, meta.count + 1)
        XCTAssertEqual(f.header.tensorCount, 7)
    }

    func testSetMetaReplacesInPlaceAndKeepsOrder() throws {
        var w = WeightFileBuilder()
        w.setMeta("a", .int(1))
        w.setMeta("b", .string("x"))
        w.setMeta("c", .float(2))
        w.setMeta("a", .string("replaced"))
        w.setMeta("general.fingerprint", .string("user value is overwritten"))
        w.setMeta("d", .int(4))
        let f = try WeightFile(bytes: try w.build())
        XCTAssertEqual(f.metadata.map(\.key), ["a", "b", "c", "general.fingerprint", "d"])
        XCTAssertEqual(f.meta("a"), .string("replaced"))
        XCTAssertEqual(f.meta("general.fingerprint"), .string(fingerprintHex(f.fingerprint)))
    }

    func testEmptyFile() throws {
        let bytes = try WeightFileBuilder().build()
        let f = try WeightFile(bytes: bytes)
        XCTAssertTrue(f.tensors.isEmpty)
        XCTAssertEqual(f.fingerprint, 0xCBF2_9CE4_8422_2325)     // FNV-1a offset basis: nothing hashed
        XCTAssertEqual(f.metadata.map(\.key), ["general.fingerprint"])
        // A zero-element tensor is allowed too.
        var w = WeightFileBuilder()
        w.addTensor("empty", shape: [0, 4], floats: [])
        let g = try WeightFile(bytes: try w.build())
        XCTAssertEqual(try g.floats("empty"), [])
        XCTAssertEqual(g.tensor("empty")?.shape, [0, 4])
    }

    func testFingerprintDependsOnTensorsOnly() throws {
        var w1 = sampleBuilder()
        w1.setMeta("train.note", .string("one"))
        var w2 = sampleBuilder()
        w2.setMeta("train.note", .string("two, longer"))
        w2.setMeta("train.extra", .int(5))
        let f1 = try WeightFile(bytes: try w1.build()), f2 = try WeightFile(bytes: try w2.build())
        XCTAssertEqual(f1.fingerprint, f2.fingerprint)

        var w3 = sampleBuilder()
        w3.addTensor("w.three", shape: [1], floats: [1])
        XCTAssertNotEqual(try WeightFile(bytes: try w3.build()).fingerprint, f1.fingerprint)
        var w4 = WeightFileBuilder(), w5 = WeightFileBuilder()
        w4.addTensor("x", shape: [2], floats: [1, 2])
        w5.addTensor("x", shape: [2], floats: [1, 2.0000002])
        XCTAssertNotEqual(try WeightFile(bytes: try w4.build()).fingerprint,
                          try WeightFile(bytes: try w5.build()).fingerprint)
        var w6 = WeightFileBuilder()
        w6.addTensor("x", shape: [2, 1], floats: [1, 2])         // same data, other shape
        XCTAssertNotEqual(try WeightFile(bytes: try w4.build()).fingerprint,
                          try WeightFile(bytes: try w6.build()).fingerprint)
    }

    func testFingerprintHex() {
        XCTAssertEqual(fingerprintHex(0), "0000000000000000")
        XCTAssertEqual(fingerprintHex(0x0123_4567_89AB_CDEF), "0123456789abcdef")
        XCTAssertEqual(fingerprintHex(UInt64.max), "ffffffffffffffff")
        XCTAssertEqual(parseFingerprintHex("0123456789abcdef"), 0x0123_4567_89AB_CDEF)
        XCTAssertNil(parseFingerprintHex("0123456789ABCDEF"))
        XCTAssertNil(parseFingerprintHex("0123"))
    }

    func testBuildIsDeterministicAndAlignedWithZeroPadding() throws {
        let a = try sampleBuilder().build(), b = try sampleBuilder().build()
        XCTAssertEqual(a, b)
        let f = try WeightFile(bytes: a)
        var covered = Set<Int>()
        for t in f.tensors { covered.formUnion(t.offset ..< t.offset + t.byteLength) }
        let map = FileMap(a)
        for i in map.directoryEnd ..< a.count - 16 where !covered.contains(i) {
            XCTAssertEqual(a[i], 0, "padding byte \(i)")
        }
        XCTAssertTrue(f.tensors.allSatisfy { $0.offset % 64 == 0 })
    }

    func testAccessorsReportMissingAndWrongTypes() throws {
        let f = try WeightFile(bytes: sampleFile())
        XCTAssertEqual(try f.int("m.int"), -42)
        XCTAssertEqual(try f.float("m.flt"), 0.25)
        XCTAssertEqual(try f.string("m.str"), "héllo")
        assertThrows(.format, contains: "missing metadata key 'nope'") { try f.int("nope") }
        assertThrows(.format, contains: "metadata 'm.str' is not an int") { try f.int("m.str") }
        assertThrows(.format, contains: "metadata 'm.int' is not a string") { try f.string("m.int") }
        assertThrows(.format, contains: "missing tensor 'nope'") { try f.floats("nope") }
        assertThrows(.format, contains: "i.ids") { try f.floats("i.ids") }
        assertThrows(.format, contains: "w.one") { try f.int64s("w.one") }
        assertThrows(.format, contains: "expected [3, 2]") { try f.floats("w.one", shape: [3, 2]) }
        XCTAssertEqual(try f.floats("w.one", shape: [2, 3]).count, 6)
        XCTAssertNil(f.tensor("nope"))
        XCTAssertNil(f.meta("nope"))
        let two = try XCTUnwrap(f.tensor("w.two"))
        XCTAssertEqual(f.data("w.two").map(Array.init), Array(f.bytes[two.offset ..< two.offset + 16]))
        XCTAssertEqual(f.data("w.two").map { Array($0) }?.count, 16)
        XCTAssertEqual(DType.f32.size, 4)
        XCTAssertEqual(DType.f16.size, 2)
        XCTAssertEqual(DType.i64.size, 8)
    }

    func testBuilderRefusesBadInput() {
        func refuses(_ contains: String, file: StaticString = #filePath, line: UInt = #line,
                     _ edit: (inout WeightFileBuilder) -> Void) {
            var w = WeightFileBuilder()
            w.addTensor("ok", shape: [1], floats: [1])
            edit(&w)
            assertThrows(.invalidArgument, contains: contains, file: file, line: line) { try w.build() }
        }
        refuses("duplicate tensor name 'ok'") { $0.addTensor("ok", shape: [1], floats: [2]) }
        refuses("needs 6 elements, got 5") { $0.addTensor("x", shape: [2, 3], floats: [1, 2, 3, 4, 5]) }
        refuses("needs 2 elements, got 3") { $0.addTensor("x", shape: [2], int64s: [1, 2, 3]) }
        refuses("cannot be stored as i64") { $0.addTensor("x", shape: [1], floats: [1], as: .i64) }
        refuses("not finite") { $0.addTensor("x", shape: [2], floats: [1, .nan]) }
        refuses("element 0") { $0.addTensor("x", shape: [1], floats: [.infinity]) }
        refuses("not finite") { $0.addTensor("x", shape: [1], floats: [-.infinity], as: .f16) }
        refuses("not finite") { $0.addTensor("x", shape: [1], floats: [.nan], as: .f16) }
        refuses("overflows f16") { $0.addTensor("x", shape: [1], floats: [70000], as: .f16) }
        refuses("dimensions") { $0.addTensor("x", shape: [], floats: [1]) }
        refuses("dimensions") { $0.addTensor("x", shape: [1, 1, 1, 1, 1], floats: [1]) }
        refuses("invalid shape") { $0.addTensor("x", shape: [-1, -1], floats: [1]) }
        refuses("invalid shape") { $0.addTensor("x", shape: [Int.max, 3], floats: [1]) }
        refuses("is empty") { $0.addTensor("", shape: [1], floats: [1]) }
        refuses("257 bytes") { $0.addTensor(String(repeating: "n", count: 257), shape: [1], floats: [1]) }
        refuses("NUL") { $0.addTensor("a\0b", shape: [1], floats: [1]) }
        refuses("is empty") { $0.setMeta("", .int(1)) }
        refuses("257 bytes") { $0.setMeta(String(repeating: "é", count: 128) + "x", .int(1)) }
        refuses("exceeds 1 MiB") { $0.setMeta("big", .string(String(repeating: "x", count: (1 << 20) + 1))) }
        // Limits themselves are fine.
        var w = WeightFileBuilder()
        w.addTensor(String(repeating: "n", count: 256), shape: [1, 1, 1, 1], floats: [1])
        w.setMeta(String(repeating: "k", count: 256), .string(String(repeating: "x", count: 1 << 20)))
        XCTAssertNoThrow(try WeightFile(bytes: try w.build()))
    }

    func testVerifyChecksumsFalseSkipsOnlyChecksums() throws {
        var b = sampleFile()
        let e = try XCTUnwrap(FileMap(b).entry("w.two"))
        b[e.offset] ^= 0x01                                   // a finite value changes
        assertRefused(b, .checksum)
        // Without checksum verification the damaged data is not detected by CRC, but the
        // fingerprint still uses the stored CRCs, so the file is accepted as stored.
        XCTAssertNoThrow(try WeightFile(bytes: b, verifyChecksums: false))
        // Structural problems are still refused.
        var c = sampleFile()
        c.append(0)
        assertRefused(c, .format, verifyChecksums: false)
    }
}
