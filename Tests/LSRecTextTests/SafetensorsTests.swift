import XCTest
@testable import LSRecText
import LSRecFormat

/// The safetensors reader and its JSON parser: valid files read back exactly; every malformed
/// input throws LSRecError (none traps — a trap would kill the test process).
final class SafetensorsTests: XCTestCase {
    /// A safetensors file from a header JSON text and a data buffer.
    static func file(_ header: String, data: [UInt8]) -> [UInt8] {
        let h = Array(header.utf8)
        var out: [UInt8] = (0 ..< 8).map { UInt8(truncatingIfNeeded: UInt64(h.count) >> (8 * UInt64($0))) }
        out += h
        out += data
        return out
    }

    static func f32Bytes(_ xs: [Float]) -> [UInt8] {
        xs.flatMap { x in (0 ..< 4).map { UInt8(truncatingIfNeeded: x.bitPattern >> (8 * UInt32($0))) } }
    }

    static let values: [Float] = [1, -2.5, 3.25, 0, 1e-3, 7]
    static let validHeader = #"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"# +
        #""b":{"dtype":"F16","shape":[2],"data_offsets":[24,28]},"c":{"dtype":"I64","shape":[1],"data_offsets":[28,36]}}"#
    static var validData: [UInt8] {
        // b = [1.5, -0.25] as f16: 0x3E00, 0xB400.
        f32Bytes(values) + [0x00, 0x3E, 0x00, 0xB4] + [UInt8](repeating: 9, count: 8)
    }

    func testValidFileReadsBack() throws {
        let st = try SafetensorsFile(bytes: Self.file(Self.validHeader, data: Self.validData))
        XCTAssertEqual(st.entries.map(\.name), ["a", "b", "c"])
        XCTAssertEqual(try st.floats("a", shape: [2, 3]), Self.values)
        XCTAssertEqual(try st.floats("b"), [1.5, -0.25])
        XCTAssertEqual(st.entry("c")?.dtype, "I64")
        XCTAssertThrowsError(try st.floats("c"))                 // not a float dtype
        XCTAssertThrowsError(try st.floats("a", shape: [3, 2]))  // wrong shape
        XCTAssertThrowsError(try st.floats("zz"))                // missing
    }

    func testMalformedFilesThrow() {
        let d = Self.validData
        func entry(_ body: String) -> [UInt8] { Self.file("{\"a\":{\(body)}}", data: d) }
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("7 bytes", [1, 0, 0, 0, 0, 0, 0]),
            ("header longer than file", Self.file(Self.validHeader, data: d).prefix(60).map { $0 }),
            ("header length 2^63", [0, 0, 0, 0, 0, 0, 0, 0x80] + Array("{}".utf8)),
            ("header length 2^64-1", [UInt8](repeating: 0xFF, count: 8) + Array("{}".utf8)),
            ("header not JSON", Self.file("hello", data: d)),
            ("header truncated JSON", Self.file(#"{"a":{"dtype":"F32""#, data: d)),
            ("header array", Self.file("[1,2]", data: d)),
            ("trailing comma", Self.file(#"{"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]},}"#, data: d)),
            ("trailing garbage", Self.file(#"{} x"#, data: d)),
            ("entry not object", Self.file(#"{"a":[1]}"#, data: d)),
            ("missing dtype", entry(#""shape":[6],"data_offsets":[0,24]"#)),
            ("unknown dtype", entry(#""dtype":"F31","shape":[6],"data_offsets":[0,24]"#)),
            ("dtype not string", entry(#""dtype":3,"shape":[6],"data_offsets":[0,24]"#)),
            ("missing shape", entry(#""dtype":"F32","data_offsets":[0,24]"#)),
            ("negative dim", entry(#""dtype":"F32","shape":[-6],"data_offsets":[0,24]"#)),
            ("fractional dim", entry(#""dtype":"F32","shape":[1.5],"data_offsets":[0,24]"#)),
            ("huge dims", entry(#""dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,24]"#)),
            ("dim beyond Int", entry(#""dtype":"F32","shape":[99999999999999999999999],"data_offsets":[0,24]"#)),
            ("offsets not pair", entry(#""dtype":"F32","shape":[6],"data_offsets":[0]"#)),
            ("end before begin", entry(#""dtype":"F32","shape":[6],"data_offsets":[24,0]"#)),
            ("end past buffer", entry(#""dtype":"F32","shape":[10],"data_offsets":[0,40]"#)),
            ("negative offset", entry(#""dtype":"F32","shape":[6],"data_offsets":[-4,20]"#)),
            ("size mismatch", entry(#""dtype":"F32","shape":[5],"data_offsets":[0,24]"#)),
            ("unknown field", entry(#""dtype":"F32","shape":[6],"data_offsets":[0,24],"x":1"#)),
            ("overlap", Self.file(#"{"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}"#, data: d)),
            ("duplicate key", Self.file(#"{"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]},"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]}}"#, data: d)),
            ("metadata not strings", Self.file(#"{"__metadata__":{"x":1}}"#, data: d)),
            ("invalid UTF-8 name", Self.file("{\"\u{FF}\":1}", data: d).enumerated().map { $0.offset == 10 ? 0xFF : $0.element }),
        ]
        for (what, bytes) in cases {
            XCTAssertThrowsError(try SafetensorsFile(bytes: bytes), what) { e in
                XCTAssertNotNil(e as? LSRecError, what)
            }
        }
    }

    func testNonFiniteValuesAreRefusedOnRead() throws {
        let st = try SafetensorsFile(bytes: Self.file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                                                      data: Self.f32Bytes([1, .nan])))
        XCTAssertThrowsError(try st.floats("a"))
    }

    func testRandomCorruptionNeverTraps() {
        // Flip bytes of a valid file (header and data) many times: every result parses or throws.
        let base = Self.file(Self.validHeader, data: Self.validData)
        var rng = SplitMix64(state: 3)
        var parsed = 0, refused = 0
        for _ in 0 ..< 3000 {
            var b = base
            for _ in 0 ..< Int(rng.next() % 3) + 1 {
                let i = Int(rng.next() % UInt64(b.count))
                b[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            if rng.next() % 4 == 0 { b.removeLast(Int(rng.next() % UInt64(b.count))) }
            if let st = try? SafetensorsFile(bytes: b) {
                parsed += 1
                for e in st.entries { _ = try? st.floats(e.name) }
            } else {
                refused += 1
            }
        }
        XCTAssertGreaterThan(refused, 1000)
        XCTAssertGreaterThan(parsed, 10)  // data-only flips still parse
    }

    // MARK: JSON

    func testJSONValues() throws {
        let v = try JSONParser.parse(Array(#" {"s": "a\"b\\c\/\n\u00e9\ud83d\ude00", "n": [0, -1.5e3, 12345678901234567890, true, false, null], "o": {}} "#.utf8))
        XCTAssertEqual(v["s"], .string("a\"b\\c/\né😀"))
        guard case .array(let n)? = v["n"] else { return XCTFail("n") }
        XCTAssertEqual(n.count, 6)
        XCTAssertEqual(n[0].integer, 0)
        XCTAssertEqual(n[1], .number(-1500, text: "-1.5e3"))
        XCTAssertNil(n[1].integer)
        XCTAssertNil(n[2].integer)  // beyond Int: not an integer
        XCTAssertEqual(n[3], .bool(true))
        XCTAssertEqual(n[5], .null)
        XCTAssertEqual(v["o"], .object([]))
    }

    func testJSONRejects() {
        let bad = ["", " ", "01", "-", "1.", ".5", "1e", "+1", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "[1 2]", "tru",
                   "nul", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
                   "\"a\u{1}b\"", "{1:2}", "[]]", "NaN", "Infinity", "'a'", "[1]//c",
                   String(repeating: "[", count: 100_000)]
        for s in bad {
            XCTAssertThrowsError(try JSONParser.parse(Array(s.utf8)), s.prefix(20).debugDescription)
        }
        XCTAssertThrowsError(try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]))  // invalid UTF-8 in a string
        XCTAssertNoThrow(try JSONParser.parse(Array((String(repeating: "[", count: 63) + String(repeating: "]", count: 63)).utf8)))
    }
}
