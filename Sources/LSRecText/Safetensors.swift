import LSRecFormat

/// Reader of the safetensors format (https://huggingface.co/docs/safetensors): an 8-byte
/// little-endian header length N, N bytes of JSON `{"name": {"dtype", "shape", "data_offsets"},
/// "__metadata__": {...}}`, then the data buffer. Every field is validated; a malformed file throws
/// `LSRecError(.format or .truncated, ...)` and never traps. F32 and F16 tensors can be read as
/// `Float`; other dtypes are listed but not readable.
public struct SafetensorsFile: Sendable {
    /// One tensor of the header.
    public struct Entry: Sendable, Equatable {
        /// Tensor name.
        public let name: String
        /// The safetensors dtype string ("F32", "F16", "I64", ...).
        public let dtype: String
        /// Dimensions (row-major).
        public let shape: [Int]
        /// Byte range inside the data buffer (relative to its start).
        public let begin: Int
        public let end: Int
    }

    /// Largest header accepted (the format's own limit is 100 MB).
    public static let maxHeaderLength = 100 << 20

    /// The tensors in header order.
    public let entries: [Entry]
    private let index: [String: Int]
    private let bytes: [UInt8]
    private let dataStart: Int

    /// Reads and parses the file at `path`.
    public init(path: String) throws {
        try self.init(bytes: FileIO.readAll(path: path))
    }

    /// Parses `bytes`: checks the header length, the JSON, every entry's dtype, shape and offsets
    /// (inside the buffer, matching shape × dtype size, non-overlapping).
    public init(bytes: [UInt8]) throws {
        guard bytes.count >= 8 else {
            throw LSRecError(.truncated, "safetensors: \(bytes.count) bytes, too short for the 8-byte header length")
        }
        var n: UInt64 = 0
        for k in 0 ..< 8 { n |= UInt64(bytes[k]) << (8 * UInt64(k)) }
        guard n <= UInt64(Self.maxHeaderLength) else {
            throw LSRecError(.format, "safetensors: header length \(n) exceeds \(Self.maxHeaderLength)")
        }
        guard n <= UInt64(bytes.count - 8) else {
            throw LSRecError(.truncated, "safetensors: header length \(n) but only \(bytes.count - 8) bytes follow")
        }
        let headerEnd = 8 + Int(n)
        let json = try JSONParser.parse(Array(bytes[8 ..< headerEnd]), what: "safetensors header")
        guard case .object(let members) = json else {
            throw LSRecError(.format, "safetensors: header is not a JSON object")
        }
        let dataLength = bytes.count - headerEnd
        var entries: [Entry] = []
        for (name, v) in members {
            if name == "__metadata__" {
                guard case .object(let meta) = v, meta.allSatisfy({ if case .string = $0.value { return true } else { return false } }) else {
                    throw LSRecError(.format, "safetensors: __metadata__ must be an object of strings")
                }
                continue
            }
            entries.append(try Self.entry(name, v, dataLength: dataLength))
        }
        // Offsets must tile the buffer without overlap (the format requires exactly that; holes
        // are tolerated, overlaps are not).
        let sorted = entries.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var cursor = 0
        for e in sorted where e.end > e.begin {
            guard e.begin >= cursor else {
                throw LSRecError(.format, "safetensors: tensor '\(e.name)' overlaps another tensor")
            }
            cursor = e.end
        }
        self.entries = entries
        var index: [String: Int] = [:]
        for (k, e) in entries.enumerated() { index[e.name] = k }
        self.index = index
        self.bytes = bytes
        self.dataStart = headerEnd
    }

    /// Bytes per element of a safetensors dtype, nil for unknown ones.
    static func elementSize(_ dtype: String) -> Int? {
        switch dtype {
        case "BOOL", "U8", "I8", "F8_E4M3", "F8_E5M2": return 1
        case "I16", "U16", "F16", "BF16": return 2
        case "I32", "U32", "F32": return 4
        case "I64", "U64", "F64": return 8
        default: return nil
        }
    }

    private static func entry(_ name: String, _ v: JSONValue, dataLength: Int) throws -> Entry {
        let t = "safetensors: tensor '\(name)'"
        guard case .object(let fields) = v else { throw LSRecError(.format, "\(t) is not an object") }
        for (key, _) in fields where key != "dtype" && key != "shape" && key != "data_offsets" {
            throw LSRecError(.format, "\(t): unknown field '\(key)'")
        }
        guard case .string(let dtype)? = v["dtype"] else { throw LSRecError(.format, "\(t): missing string 'dtype'") }
        guard let size = elementSize(dtype) else { throw LSRecError(.format, "\(t): unknown dtype '\(dtype)'") }
        guard case .array(let dims)? = v["shape"] else { throw LSRecError(.format, "\(t): missing array 'shape'") }
        guard dims.count <= 8 else { throw LSRecError(.format, "\(t): \(dims.count) dimensions (at most 8)") }
        var shape: [Int] = []
        var count = 1
        for d in dims {
            guard let x = d.integer, x >= 0 else { throw LSRecError(.format, "\(t): shape entries must be non-negative integers") }
            let (p, o) = count.multipliedReportingOverflow(by: x)
            guard !o else { throw LSRecError(.format, "\(t): shape \(dims.count)-D is too large") }
            shape.append(x)
            count = p
        }
        guard case .array(let offs)? = v["data_offsets"], offs.count == 2,
              let begin = offs[0].integer, let end = offs[1].integer else {
            throw LSRecError(.format, "\(t): 'data_offsets' must be [begin, end] integers")
        }
        guard begin >= 0, begin <= end, end <= dataLength else {
            throw LSRecError(.format, "\(t): data_offsets [\(begin), \(end)] outside the \(dataLength)-byte data buffer")
        }
        let (bytes, o) = count.multipliedReportingOverflow(by: size)
        guard !o, bytes == end - begin else {
            throw LSRecError(.format, "\(t): data_offsets cover \(end - begin) bytes but shape \(shape) of \(dtype) needs \(o ? -1 : bytes)")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// The entry of tensor `name`, or nil.
    public func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The elements of F32 or F16 tensor `name` as Float, row-major; `LSRecError(.format, ...)` when
    /// missing, of another dtype, not of `shape` (when given), or holding NaN/Inf.
    public func floats(_ name: String, shape: [Int]? = nil) throws -> [Float] {
        guard let e = entry(name) else { throw LSRecError(.format, "safetensors: missing tensor '\(name)'") }
        if let shape, shape != e.shape {
            throw LSRecError(.format, "safetensors: tensor '\(name)' has shape \(e.shape), expected \(shape)")
        }
        let start = dataStart + e.begin
        var out: [Float]
        switch e.dtype {
        case "F32":
            let n = (e.end - e.begin) / 4
            out = [Float](repeating: 0, count: n)
            #if _endian(little)
            // One copy of the range (checked against the buffer in init) instead of n loads.
            out.withUnsafeMutableBytes { dst in
                bytes.withUnsafeBytes { src in
                    dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[start ..< start + 4 * n]))
                }
            }
            #else
            for k in 0 ..< n {
                let p = start + 4 * k
                let bits = UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
                out[k] = Float(bitPattern: bits)
            }
            #endif
        case "F16":
            let n = (e.end - e.begin) / 2
            out = [Float](repeating: 0, count: n)
            for k in 0 ..< n {
                let p = start + 2 * k
                out[k] = floatFromHalfBits(UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8)
            }
        default:
            throw LSRecError(.format, "safetensors: tensor '\(name)' has dtype \(e.dtype), expected F32 or F16")
        }
        if let bad = out.firstIndex(where: { !$0.isFinite }) {
            throw LSRecError(.nonFinite, "safetensors: tensor '\(name)' element \(bad) is \(out[bad])")
        }
        return out
    }
}
