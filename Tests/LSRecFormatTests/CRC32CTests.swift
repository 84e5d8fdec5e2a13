import LSRecFormat
import XCTest

/// Bit-at-a-time CRC32C, straight from the definition, as a reference for the slice-by-8 code.
private func referenceCRC32C(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0 ..< 8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    }
    return ~crc
}

final class CRC32CTests: XCTestCase {
    func testKnownVectors() {
        XCTAssertEqual(crc32c(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(crc32c([UInt8]()), 0)
        // RFC 3720 (iSCSI) B.4 test vectors.
        XCTAssertEqual(crc32c([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(crc32c([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(crc32c((0 ..< 32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(crc32c((0 ..< 32).reversed().map { UInt8($0) }), 0x113F_DB5C)
    }

    func testReferenceImplementationAgreesWithKnownVector() {
        XCTAssertEqual(referenceCRC32C(Array("123456789".utf8)), 0xE306_9283)
    }

    func testSliceBy8MatchesBitwiseForAllLengthsAndAlignments() {
        var rng = SplitMix64(seed: 1)
        let data = (0 ..< 600).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
        for start in 0 ..< 9 {
            for length in 0 ..< 140 {
                let slice = data[start ..< start + length]
                XCTAssertEqual(crc32c(slice), referenceCRC32C(Array(slice)), "start \(start) length \(length)")
            }
        }
        XCTAssertEqual(crc32c(data), referenceCRC32C(data))
    }

    func testIncrementalEqualsOneShot() {
        var rng = SplitMix64(seed: 2)
        let data = (0 ..< 1000).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
        for _ in 0 ..< 50 {
            let a = Int.random(in: 0 ... data.count, using: &rng)
            let b = Int.random(in: a ... data.count, using: &rng)
            var c = CRC32C()
            c.update(data[0 ..< a])
            c.update(data[a ..< b])
            c.update(data[b...])
            XCTAssertEqual(c.value, crc32c(data))
        }
        let raw = data.withUnsafeBytes { crc32c($0) }
        XCTAssertEqual(raw, referenceCRC32C(data))
    }
}
