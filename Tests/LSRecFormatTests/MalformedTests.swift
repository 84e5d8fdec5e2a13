import LSRecFormat
import XCTest

/// Every row of docs/FORMAT.md's check table, each producing its specific status.
final class MalformedTests: XCTestCase {
    private var good: [UInt8] = []
    private var map: FileMap!

    override func setUp() {
        super.setUp()
        good = sampleFile()
        map = FileMap(good)
    }

    private func entry(_ name: String) -> FileMap.Entry {
        guard let e = map.entry(name) else { XCTFail("no entry \(name)"); return map.entries[0] }
        return e
    }

    private func meta(_ key: String) -> FileMap.Meta {
        guard let m = map.meta(key) else { XCTFail("no meta \(key)"); return map.metas[0] }
        return m
    }

    func testSampleIsValidAndResealIsIdentity() throws {
        XCTAssertNoThrow(try WeightFile(bytes: good))
        var b = good
        reseal(&b)
        XCTAssertEqual(b, good, "the test helper must reproduce the writer's checksums exactly")
        XCTAssertEqual(map.entries.count, 4)
        XCTAssertEqual(map.metas.count, 5)
    }

    // MARK: truncated

    func testTruncated() {
        for cut in [0, 1, 8, 63, 64, 79, 80, 81, good.count / 2, good.count - 16, good.count - 2, good.count - 1] {
            assertRefused(Array(good.prefix(cut)), .truncated)
        }
        var b = good
        put64(&b, 16, UInt64(good.count + 1))                 // header claims one more byte
        assertRefused(b, .truncated)
        put64(&b, 16, UInt64.max)
        assertRefused(b, .truncated)
    }

    // MARK: magic, byte order, version

    func testBadMagic() {
        var b = good
        b[0] = UInt8(ascii: "X")
        assertRefused(b, .badMagic)
        b = good
        b[7] = 1                                             // the NUL of "LSRECWT\0"
        assertRefused(b, .badMagic)
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 7, count: 200)
        assertRefused(png, .badMagic)
    }

    func testBigEndianByteOrderMark() {
        var b = good
        b.replaceSubrange(12 ..< 16, with: [0x01, 0x02, 0x03, 0x04])
        assertRefused(b, .byteOrder)
        reseal(&b)
        assertRefused(b, .byteOrder)
        b.replaceSubrange(12 ..< 16, with: [0x05, 0x03, 0x02, 0x01])   // neither order
        reseal(&b)
        assertRefused(b, .format, contains: "byte_order_mark")
    }

    func testVersion() {
        for v: UInt32 in [0, 2, 0x0100_0000, UInt32.max] {
            var b = good
            put32(&b, 8, v)
            reseal(&b)
            assertRefused(b, .version, contains: "\(v)")
        }
    }

    func testExtraTrailingBytes() {
        assertRefused(good + [0], .format, contains: "extra bytes")
        assertRefused(good + [UInt8](repeating: 0, count: 64), .format)
        var b = good
        put64(&b, 16, UInt64(good.count - 1))
        assertRefused(b, .format)
    }

    // MARK: checksums

    func testHeaderChecksum() {
        var b = good
        b[60] ^= 0x01
        assertRefused(b, .checksum, contains: "header_crc")
        b = good
        b[40] ^= 0x01                                        // metadata_count, not re-sealed
        assertRefused(b, .checksum, contains: "header_crc")
    }

    func testTrailerChecksum() {
        var b = good
        b[b.count - 8] ^= 0x80
        assertRefused(b, .checksum, contains: "file_crc")
        b = good
        b[100] ^= 0x01                                       // a metadata byte, only the file CRC covers it
        assertRefused(b, .checksum, contains: "file_crc")
    }

    func testTensorDataBitFlip() {
        let e = entry("w.two")
        var b = good
        b[e.offset + 5] ^= 0x04
        assertRefused(b, .checksum)                          // caught by the file CRC
        resealHeaderAndFile(&b)
        assertRefused(b, .checksum, contains: "tensor 'w.two'")   // caught by the tensor CRC
        b = good
        b[e.crcField] ^= 0x01                                // the stored tensor CRC itself
        resealHeaderAndFile(&b)
        assertRefused(b, .checksum, contains: "tensor 'w.two'")
    }

    func testTrailerMagicAndReserved() {
        var b = good
        b[b.count - 16] = UInt8(ascii: "X")
        assertRefused(b, .format, contains: "LSRECEND")
        b = good
        b[b.count - 1] = 1
        assertRefused(b, .format, contains: "reserved")
    }

    // MARK: offsets and lengths

    func testHeaderOffsetsAndLengths() {
        func refused(_ field: Int, _ v: UInt64, u32: Bool = false, line: UInt = #line) {
            var b = good
            if u32 { put32(&b, field, UInt32(truncatingIfNeeded: v)) } else { put64(&b, field, v) }
            resealHeaderAndFile(&b)
            assertRefused(b, .format, line: line)
        }
        let metaLength = le64(good, 32)
        refused(24, 0)                                        // metadata_offset
        refused(24, 128)
        refused(32, metaLength + 1)                           // metadata_length
        refused(32, metaLength - 1)
        refused(32, UInt64.max)
        refused(32, UInt64(good.count))
        refused(48, 64 + metaLength + 1)                      // directory_offset
        refused(48, UInt64.max)
        refused(56, UInt64(le32(good, 56) + 1), u32: true)    // directory_length
        refused(56, UInt64(le32(good, 56) - 1), u32: true)
        refused(56, UInt64(UInt32.max), u32: true)
        refused(40, UInt64(le32(good, 40) + 1), u32: true)    // metadata_count
        refused(40, UInt64(le32(good, 40) - 1), u32: true)
        refused(40, UInt64(UInt32.max), u32: true)
        refused(44, UInt64(le32(good, 44) + 1), u32: true)    // tensor_count
        refused(44, UInt64(le32(good, 44) - 1), u32: true)
        refused(44, UInt64(UInt32.max), u32: true)
    }

    func testTensorOffsetOutOfRange() {
        let e = entry("w.two")
        let trailerStart = good.count - 16
        for bad: UInt64 in [UInt64((trailerStart + 63) / 64 * 64), UInt64(good.count + 64) / 64 * 64,
                            UInt64.max - 63, 1 << 62, 0, 64] {
            var b = good
            put64(&b, e.offsetField, bad)
            reseal(&b, tensorCRCs: false)
            assertRefused(b, .format, contains: "tensor 'w.two'")
        }
    }

    func testTensorOffsetMisaligned() {
        let e = entry("w.two")
        var b = good
        put64(&b, e.offsetField, UInt64(e.offset + 4))
        reseal(&b, tensorCRCs: false)
        assertRefused(b, .format, contains: "tensor 'w.two': offset \(e.offset + 4) is not a multiple of 64")
    }

    func testOverlappingTensors() {
        let first = map.entries[0], second = map.entries[1]
        var b = good
        put64(&b, second.offsetField, UInt64(first.offset))
        reseal(&b)
        assertRefused(b, .format, contains: "overlaps")
        // Moving a tensor onto the last one (whose range it fits in) is an overlap too, reported
        // as such rather than as the non-zero bytes left at its old place.
        let last = map.entries[3]
        b = good
        put64(&b, entry("w.two").offsetField, UInt64(last.offset))
        reseal(&b)
        assertRefused(b, .format, contains: "overlaps")
    }

    func testByteLengthDisagreesWithShape() {
        let e = entry("w.one")
        var b = good
        put64(&b, e.byteLengthField, UInt64(e.byteLength + 4))
        reseal(&b, tensorCRCs: false)
        assertRefused(b, .format, contains: "byte_length")
        b = good
        put64(&b, e.dimsOffset, 3)                            // shape [3, 3] but 24 bytes
        reseal(&b, tensorCRCs: false)
        assertRefused(b, .format, contains: "byte_length")
        b = good
        put64(&b, e.dimsOffset, UInt64.max)                   // product overflows
        reseal(&b, tensorCRCs: false)
        assertRefused(b, .format, contains: "tensor 'w.one'")
        b = good
        put64(&b, e.dimsOffset, 1 << 62)
        put64(&b, e.dimsOffset + 8, 4)                        // 2^64 elements: overflow to 0
        reseal(&b, tensorCRCs: false)
        assertRefused(b, .format, contains: "tensor 'w.one'")
    }

    func testBadDtypeAndNdim() {
        let e = entry("w.one")
        for dt: UInt32 in [3, 0xFFFF_FFFF] {
            var b = good
            put32(&b, e.dtypeOffset, dt)
            reseal(&b, tensorCRCs: false)
            assertRefused(b, .format, contains: "dtype")
        }
        var b = good
        put32(&b, e.dtypeOffset, 2)                           // i64 with 24 bytes for 6 elements
        reseal(&b, tensorCRCs: false)
        assertRefused(b, .format, contains: "byte_length")
        for nd: UInt32 in [0, 5, UInt32.max] {
            b = good
            put32(&b, e.ndimOffset, nd)
            resealHeaderAndFile(&b)
            assertRefused(b, .format, contains: "ndim")
        }
        b = good
        put32(&b, e.ndimOffset, 3)                            // one more dim: the entry misparses
        resealHeaderAndFile(&b)
        assertRefused(b, .format)
    }

    func testNonZeroPadding() {
        let first = map.entries.map(\.offset).min() ?? 0
        XCTAssertGreaterThan(first, map.directoryEnd, "sample must have padding after the directory")
        var b = good
        b[first - 1] = 0x20
        reseal(&b)
        assertRefused(b, .format, contains: "padding")
    }

    func testPaddingBeforeTrailer() throws {
        // A writer may leave zero padding between the last tensor and the trailer.
        var b = good
        b.insert(contentsOf: [UInt8](repeating: 0, count: 40), at: good.count - 16)
        put64(&b, 16, UInt64(b.count))
        resealHeaderAndFile(&b)
        XCTAssertEqual(try WeightFile(bytes: b).fileSize, good.count + 40)
        // ... but it must be zero.
        b[b.count - 17] = 1
        resealHeaderAndFile(&b)
        assertRefused(b, .format, contains: "padding byte at offset \(b.count - 17)")
    }

    // MARK: names and keys

    func testDuplicateTensorName() {
        let one = entry("w.one"), two = entry("w.two")
        var b = good
        b.replaceSubrange(two.nameOffset ..< two.nameOffset + 5, with: b[one.nameOffset ..< one.nameOffset + 5])
        reseal(&b)
        assertRefused(b, .format, contains: "duplicate tensor name 'w.one'")
    }

    func testDuplicateMetadataKey() {
        let a = meta("m.int"), f = meta("m.flt")
        var b = good
        b.replaceSubrange(f.keyOffset ..< f.keyOffset + 5, with: b[a.keyOffset ..< a.keyOffset + 5])
        reseal(&b)
        assertRefused(b, .format, contains: "duplicate metadata key 'm.int'")
    }

    func testInvalidUTF8() {
        let badSequences: [[UInt8]] = [[0xFF], [0xC0, 0x80], [0xED, 0xA0], [0x80]]
        for seq in badSequences {
            var b = good
            let m = meta("m.int")
            b.replaceSubrange(m.keyOffset ..< m.keyOffset + seq.count, with: seq)
            reseal(&b)
            assertRefused(b, .format, contains: "UTF-8")

            b = good
            let e = entry("w.one")
            b.replaceSubrange(e.nameOffset + 1 ..< e.nameOffset + 1 + seq.count, with: seq)
            reseal(&b)
            assertRefused(b, .format, contains: "UTF-8")

            b = good
            let s = meta("m.str")                              // "héllo": 6 bytes
            b.replaceSubrange(s.valueOffset ..< s.valueOffset + seq.count, with: seq)
            reseal(&b)
            assertRefused(b, .format, contains: "UTF-8")
        }
        var b = good
        b[meta("m.int").keyOffset + 1] = 0                   // NUL inside a key
        reseal(&b)
        assertRefused(b, .format, contains: "NUL")
        b = good
        b[entry("w.one").nameOffset + 4] = 0                 // NUL at the end of a tensor name
        reseal(&b)
        assertRefused(b, .format, contains: "NUL")
    }

    func testNameAndKeyLengths() {
        let m = meta("m.int")
        for len: UInt32 in [0, 257, UInt32.max] {
            var b = good
            put32(&b, m.keyOffset - 4, len)
            resealHeaderAndFile(&b)
            assertRefused(b, .format, contains: "key_length")
        }
        let e = entry("w.one")
        for len: UInt32 in [0, 257, UInt32.max] {
            var b = good
            put32(&b, e.nameOffset - 4, len)
            resealHeaderAndFile(&b)
            assertRefused(b, .format, contains: "name_length")
        }
        var b = good
        let s = meta("m.str")
        put32(&b, s.valueOffset - 4, (1 << 20) + 1)
        resealHeaderAndFile(&b)
        assertRefused(b, .format, contains: "1 MiB")
        b = good
        put32(&b, s.valueOffset - 4, 1000)                    // runs past the metadata block
        resealHeaderAndFile(&b)
        assertRefused(b, .format, contains: "metadata block")
    }

    func testUnknownMetadataType() {
        for type: UInt32 in [0, 4, 0xFFFF_FFFF] {
            var b = good
            put32(&b, meta("m.int").typeOffset, type)
            reseal(&b)
            assertRefused(b, .format, contains: "unknown value type \(type)")
        }
    }

    // MARK: values

    func testNonFiniteF32() {
        let e = entry("w.two")
        for bits: UInt32 in [0x7FC0_0000, 0x7F80_0001, 0xFFC0_0000, 0x7F80_0000, 0xFF80_0000] {
            var b = good
            put32(&b, e.offset + 8, bits)                    // element 2
            reseal(&b)
            assertRefused(b, .nonFinite, contains: "tensor 'w.two': element 2")
        }
    }

    func testNonFiniteF16() {
        let e = entry("h.half")
        for bits: UInt16 in [0x7E00, 0x7C01, 0xFE00, 0x7C00, 0xFC00] {
            var b = good
            b[e.offset + 6] = UInt8(bits & 0xFF)             // element 3
            b[e.offset + 7] = UInt8(bits >> 8)
            reseal(&b)
            assertRefused(b, .nonFinite, contains: "tensor 'h.half': element 3")
        }
    }

    func testNonFiniteIsNotCheckedInI64() throws {
        let e = entry("i.ids")
        var b = good
        put64(&b, e.offset, 0x7FF8_0000_0000_0000)
        reseal(&b)
        XCTAssertEqual(try WeightFile(bytes: b).int64s("i.ids")[0], 0x7FF8_0000_0000_0000)
    }

    func testFingerprintMismatch() {
        let m = meta("general.fingerprint")
        var b = good
        b.replaceSubrange(m.valueOffset ..< m.valueOffset + 16, with: Array("0000000000000000".utf8))
        reseal(&b, fingerprint: false)
        assertRefused(b, .format, contains: "general.fingerprint")
        b = good
        b[m.valueOffset] = UInt8(ascii: "G")                   // not a hex digit
        reseal(&b, fingerprint: false)
        assertRefused(b, .format, contains: "general.fingerprint")
        // The key missing altogether.
        b = good
        b[m.keyOffset + 18] = UInt8(ascii: "X")
        reseal(&b)
        assertRefused(b, .format, contains: "missing metadata key 'general.fingerprint'")
        // A tensor edit (with its CRC re-computed) but without the fingerprint is a mismatch.
        b = good
        let e = entry("w.two")
        put32(&b, e.offset, Float(7).bitPattern)
        reseal(&b, fingerprint: false)
        assertRefused(b, .format, contains: "general.fingerprint")
    }

    // MARK: exhaustive and random damage

    /// Flipping any single byte of the file (three different ways) is always refused.
    func testEveryByteFlipIsRefused() {
        var accepted: [Int] = []
        for i in 0 ..< good.count {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var b = good
                b[i] ^= mask
                do {
                    _ = try WeightFile(bytes: b)
                    accepted.append(i)
                } catch is LSRecError {
                } catch {
                    XCTFail("byte \(i): unexpected error \(error)")
                }
            }
        }
        XCTAssertEqual(accepted, [], "single-byte damage accepted at offsets \(accepted)")
    }

    /// Random edits of header, metadata and directory bytes, re-sealed so that they get past the
    /// checksums, must be refused with an LSRecError or parse -- never trap.
    func testRandomStructuralDamageNeverTraps() {
        var rng = SplitMix64(seed: 99)
        let structEnd = map.directoryEnd
        var refused = 0
        for _ in 0 ..< 3000 {
            var b = good
            for _ in 0 ..< Int.random(in: 1 ... 4, using: &rng) {
                let i = Int.random(in: 16 ..< structEnd, using: &rng)
                switch Int.random(in: 0 ..< 3, using: &rng) {
                case 0: b[i] = UInt8.random(in: 0 ... 255, using: &rng)
                case 1: b[i] ^= 1 << UInt8.random(in: 0 ..< 8, using: &rng)
                default: b[i] = [0x00, 0xFF, 0x7F, 0x80, 0x40][Int.random(in: 0 ..< 5, using: &rng)]
                }
            }
            resealHeaderAndFile(&b)
            do {
                _ = try WeightFile(bytes: b)
            } catch let e as LSRecError {
                refused += 1
                XCTAssertTrue([.format, .checksum, .truncated, .nonFinite].contains(e.status), "\(e)")
            } catch {
                XCTFail("unexpected error \(error)")
            }
        }
        XCTAssertGreaterThan(refused, 2500)
    }

    /// Random truncations and random garbage of random sizes never trap.
    func testRandomGarbageNeverTraps() {
        var rng = SplitMix64(seed: 7)
        for _ in 0 ..< 500 {
            let n = Int.random(in: 0 ... 400, using: &rng)
            var b = (0 ..< n).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
            if n >= 16 && Bool.random(using: &rng) {           // plausible header, random rest
                b.replaceSubrange(0 ..< 16, with: good[0 ..< 16])
                if n >= 80 { put64(&b, 16, UInt64(n)); resealHeaderAndFile(&b) }
            }
            XCTAssertThrowsError(try WeightFile(bytes: b))
        }
    }
}
