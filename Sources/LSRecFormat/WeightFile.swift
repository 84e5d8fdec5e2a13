/// Reader of the `.lsrec` weight file (docs/FORMAT.md). `WeightFile(bytes:)` runs every check of
/// the format's table, in order, and throws `LSRecError` with the table's status and a message
/// saying what is wrong and where. It never traps on hostile input and never allocates more than
/// the size of the input.

/// The fixed-size header fields of a parsed weight file.
public struct WeightFileHeader: Sendable, Equatable {
    /// `format_version` (always 1 for a file that parsed).
    public let formatVersion: UInt32
    /// `file_size`: total bytes including the trailer.
    public let fileSize: Int
    /// `metadata_offset` (always 64).
    public let metadataOffset: Int
    /// `metadata_length`: bytes of the metadata block.
    public let metadataLength: Int
    /// `metadata_count`: number of metadata entries.
    public let metadataCount: Int
    /// `tensor_count`: number of directory entries.
    public let tensorCount: Int
    /// `directory_offset` (= metadata_offset + metadata_length).
    public let directoryOffset: Int
    /// `directory_length`: bytes of the tensor directory.
    public let directoryLength: Int
    /// `header_crc`: CRC32C of header bytes 0..59.
    public let headerCRC: UInt32
    /// `file_crc` from the trailer: CRC32C of every byte before the trailer.
    public let fileCRC: UInt32
}

/// A parsed, validated weight file. Tensor data stays in `bytes` until asked for.
public struct WeightFile: Sendable {
    /// The format version this reader understands and the builder writes.
    public static let formatVersion: UInt32 = 1

    /// The whole file.
    public let bytes: [UInt8]
    /// Total size in bytes (= `bytes.count` = header `file_size`).
    public let fileSize: Int
    /// The header and trailer fields.
    public let header: WeightFileHeader
    /// Metadata entries in file order.
    public let metadata: [(key: String, value: MetaValue)]
    /// Tensor directory entries in directory order.
    public let tensors: [TensorInfo]
    /// The fingerprint recomputed from the directory; equal to `general.fingerprint`.
    public let fingerprint: UInt64

    private let metadataIndex: [String: Int]
    private let tensorIndex: [String: Int]

    /// Parses and validates everything in FORMAT.md's table (checksums verified when
    /// `verifyChecksums`). Throws `LSRecError` with the table's status.
    public init(bytes: [UInt8], verifyChecksums: Bool = true) throws {
        let p = try Parser(bytes: bytes, verifyChecksums: verifyChecksums)
        self.bytes = bytes
        self.fileSize = p.header.fileSize
        self.header = p.header
        self.metadata = p.metadata
        self.tensors = p.tensors
        self.fingerprint = p.fingerprint
        self.metadataIndex = p.metadataIndex
        self.tensorIndex = p.tensorIndex
    }

    /// Reads the file at `path` (`LSRecError(.io, ...)` on failure) and parses it.
    public init(path: String, verifyChecksums: Bool = true) throws {
        try self.init(bytes: FileIO.readAll(path: path), verifyChecksums: verifyChecksums)
    }

    // MARK: Metadata

    /// The value of metadata `key`, or `nil` when absent.
    public func meta(_ key: String) -> MetaValue? {
        guard let i = metadataIndex[key] else { return nil }
        return metadata[i].value
    }

    /// The int64 metadata `key`; `LSRecError(.format, ...)` when missing or of another type.
    public func int(_ key: String) throws -> Int64 {
        switch try required(key) {
        case .int(let v): return v
        default: throw LSRecError(.format, "metadata '\(key)' is not an int")
        }
    }

    /// The float64 metadata `key`; `LSRecError(.format, ...)` when missing or of another type.
    public func float(_ key: String) throws -> Double {
        switch try required(key) {
        case .float(let v): return v
        default: throw LSRecError(.format, "metadata '\(key)' is not a float")
        }
    }

    /// The string metadata `key`; `LSRecError(.format, ...)` when missing or of another type.
    public func string(_ key: String) throws -> String {
        switch try required(key) {
        case .string(let v): return v
        default: throw LSRecError(.format, "metadata '\(key)' is not a string")
        }
    }

    private func required(_ key: String) throws -> MetaValue {
        guard let v = meta(key) else { throw LSRecError(.format, "missing metadata key '\(key)'") }
        return v
    }

    // MARK: Tensors

    /// The directory entry of tensor `name`, or `nil` when absent.
    public func tensor(_ name: String) -> TensorInfo? {
        guard let i = tensorIndex[name] else { return nil }
        return tensors[i]
    }

    /// The raw bytes of tensor `name` (no copy), or `nil` when absent.
    public func data(_ name: String) -> ArraySlice<UInt8>? {
        guard let t = tensor(name) else { return nil }
        return bytes[t.offset ..< t.offset + t.byteLength]
    }

    /// The elements of an f32 or f16 tensor as `Float` (f16 widened), row-major.
    /// `LSRecError(.format, ...)` when the tensor is missing or is i64.
    public func floats(_ name: String) throws -> [Float] {
        let n = try requiredTensor(name).count
        return try [Float](unsafeUninitializedCapacity: n) { out, initialized in
            try copyFloats(name, into: out)
            initialized = n
        }
    }

    /// `floats(name)` written into `out` (storage the caller owns, e.g. aligned: no second copy
    /// of a large tensor). `out` must hold exactly the tensor's element count, else `.format`.
    public func copyFloats(_ name: String, into out: UnsafeMutableBufferPointer<Float>) throws {
        let t = try requiredTensor(name)
        let n = t.count
        guard out.count == n else {
            throw LSRecError(.format, "tensor '\(name)' has \(n) elements, expected \(out.count)")
        }
        switch t.dtype {
        case .f32:
            bytes.withUnsafeBytes { raw in
                #if _endian(little)
                UnsafeMutableRawBufferPointer(out).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: raw[t.offset ..< t.offset + t.byteLength]))
                #else
                for i in 0 ..< n {
                    out[i] = Float(bitPattern: UInt32(littleEndian:
                        raw.loadUnaligned(fromByteOffset: t.offset + 4 * i, as: UInt32.self)))
                }
                #endif
            }
        case .f16:
            bytes.withUnsafeBytes { raw in
                for i in 0 ..< n {
                    out[i] = floatFromHalfBits(UInt16(littleEndian:
                        raw.loadUnaligned(fromByteOffset: t.offset + 2 * i, as: UInt16.self)))
                }
            }
        case .i64:
            throw LSRecError(.format, "tensor '\(name)' has dtype i64, expected f32 or f16")
        }
    }

    /// `floats(name)` after checking that the tensor's shape is exactly `shape`
    /// (`LSRecError(.format, "tensor 'x' has shape [..], expected [..]")`).
    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        try requireShape(name, shape)
        return try floats(name)
    }

    /// The elements of an i64 tensor. `LSRecError(.format, ...)` when missing or not i64.
    public func int64s(_ name: String) throws -> [Int64] {
        let t = try requiredTensor(name)
        guard t.dtype == .i64 else {
            throw LSRecError(.format, "tensor '\(name)' has dtype \(t.dtype), expected i64")
        }
        let n = t.count
        return [Int64](unsafeUninitializedCapacity: n) { out, initialized in
            bytes.withUnsafeBytes { raw in
                for i in 0 ..< n {
                    out[i] = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: t.offset + 8 * i, as: Int64.self))
                }
            }
            initialized = n
        }
    }

    /// Throws `LSRecError(.format, ...)` unless tensor `name` exists with exactly `shape`.
    public func requireShape(_ name: String, _ shape: [Int]) throws {
        let t = try requiredTensor(name)
        guard t.shape == shape else {
            throw LSRecError(.format, "tensor '\(name)' has shape \(t.shape), expected \(shape)")
        }
    }

    private func requiredTensor(_ name: String) throws -> TensorInfo {
        guard let t = tensor(name) else { throw LSRecError(.format, "missing tensor '\(name)'") }
        return t
    }
}

// MARK: - Parsing

/// Runs the checks of FORMAT.md's table in order.
private struct Parser {
    var header: WeightFileHeader
    var metadata: [(key: String, value: MetaValue)] = []
    var metadataIndex: [String: Int] = [:]
    var tensors: [TensorInfo] = []
    var tensorIndex: [String: Int] = [:]
    var fingerprint: UInt64 = 0

    init(bytes b: [UInt8], verifyChecksums: Bool) throws {
        // 1. Enough bytes for a header and a trailer.
        guard b.count >= Layout.minFileSize else {
            throw LSRecError(.truncated, "file has \(b.count) bytes; the smallest valid file has \(Layout.minFileSize)")
        }
        // 2. Magic.
        guard b[0 ..< 8].elementsEqual(Layout.magic) else {
            let found = b[0 ..< 8].map { hex2($0) }.joined(separator: " ")
            throw LSRecError(.badMagic, "magic at offset 0 is \(found), expected 4c 53 52 45 43 57 54 00 (\"LSRECWT\\0\")")
        }
        // 3. Byte order.
        let bom = loadU32(b, Layout.offByteOrder)
        if bom == Layout.swappedByteOrderMark {
            throw LSRecError(.byteOrder, "byte_order_mark at offset 12 reads 0x04030201: the file was written big-endian")
        }
        guard bom == Layout.byteOrderMark else {
            throw LSRecError(.format, "byte_order_mark at offset 12 is 0x\(hex8(bom)), expected 0x01020304")
        }
        // 4. Version.
        let version = loadU32(b, Layout.offVersion)
        guard version == WeightFile.formatVersion else {
            throw LSRecError(.version, "format_version is \(version); this reader supports only \(WeightFile.formatVersion)")
        }
        // 5. file_size against the bytes present.
        let declared = loadU64(b, Layout.offFileSize)
        if declared > UInt64(b.count) {
            throw LSRecError(.truncated, "file_size in the header is \(declared) but only \(b.count) bytes are present")
        }
        if declared < UInt64(b.count) {
            throw LSRecError(.format, "\(UInt64(b.count) - declared) extra bytes after file_size \(declared)")
        }
        let size = b.count
        let trailerStart = size - Layout.trailerSize
        let headerCRC = loadU32(b, Layout.offHeaderCRC)
        let fileCRC = loadU32(b, trailerStart + 8)

        // 6. Header and trailer checksums.
        if verifyChecksums {
            let h = crc32c(b[0 ..< Layout.offHeaderCRC])
            guard h == headerCRC else {
                throw LSRecError(.checksum, "header_crc is 0x\(hex8(headerCRC)) but bytes 0..59 hash to 0x\(hex8(h))")
            }
            let f = crc32c(b[0 ..< trailerStart])
            guard f == fileCRC else {
                throw LSRecError(.checksum, "file_crc in the trailer is 0x\(hex8(fileCRC)) but bytes 0..\(trailerStart - 1) hash to 0x\(hex8(f))")
            }
        }

        // 7. Structure.
        guard b[trailerStart ..< trailerStart + 8].elementsEqual(Layout.trailerMagic) else {
            throw LSRecError(.format, "trailer magic \"LSRECEND\" missing at offset \(trailerStart)")
        }
        let reserved = loadU32(b, trailerStart + 12)
        guard reserved == 0 else {
            throw LSRecError(.format, "trailer reserved field at offset \(trailerStart + 12) is \(reserved), expected 0")
        }
        let metaOffset = loadU64(b, Layout.offMetadataOffset)
        guard metaOffset == UInt64(Layout.headerSize) else {
            throw LSRecError(.format, "metadata_offset is \(metaOffset), expected \(Layout.headerSize)")
        }
        let metaLength64 = loadU64(b, Layout.offMetadataLength)
        guard metaLength64 <= UInt64(trailerStart - Layout.headerSize) else {
            throw LSRecError(.format, "metadata_length \(metaLength64) runs past the trailer at offset \(trailerStart)")
        }
        let metaLength = Int(metaLength64)
        let metaEnd = Layout.headerSize + metaLength
        let dirOffset64 = loadU64(b, Layout.offDirectoryOffset)
        guard dirOffset64 == UInt64(metaEnd) else {
            throw LSRecError(.format, "directory_offset is \(dirOffset64), expected metadata_offset + metadata_length = \(metaEnd)")
        }
        let dirLength = Int(loadU32(b, Layout.offDirectoryLength))
        guard dirLength <= trailerStart - metaEnd else {
            throw LSRecError(.format, "directory_length \(dirLength) at directory_offset \(metaEnd) runs past the trailer at offset \(trailerStart)")
        }
        let dirEnd = metaEnd + dirLength
        let metaCount = Int(loadU32(b, Layout.offMetadataCount))
        let tensorCount = Int(loadU32(b, Layout.offTensorCount))

        header = WeightFileHeader(
            formatVersion: version, fileSize: size, metadataOffset: Layout.headerSize,
            metadataLength: metaLength, metadataCount: metaCount, tensorCount: tensorCount,
            directoryOffset: metaEnd, directoryLength: dirLength, headerCRC: headerCRC, fileCRC: fileCRC)

        try parseMetadata(b, start: Layout.headerSize, end: metaEnd, count: metaCount)
        try parseDirectory(b, start: metaEnd, end: dirEnd, count: tensorCount, trailerStart: trailerStart)
        try checkLayout(b, dirEnd: dirEnd, trailerStart: trailerStart)

        // 8. Tensor checksums.
        if verifyChecksums {
            for t in tensors {
                let c = crc32c(b[t.offset ..< t.offset + t.byteLength])
                guard c == t.crc else {
                    throw LSRecError(.checksum, "tensor '\(t.name)': stored crc32c 0x\(hex8(t.crc)) but its \(t.byteLength) bytes at offset \(t.offset) hash to 0x\(hex8(c))")
                }
            }
        }
        // 9. Finite values.
        for t in tensors { try checkFinite(b, t) }
        // 10. Fingerprint.
        fingerprint = computeFingerprint(tensors)
        guard let stored = metadataIndex[Layout.fingerprintKey].map({ metadata[$0].value }) else {
            throw LSRecError(.format, "missing metadata key '\(Layout.fingerprintKey)'")
        }
        guard case .string(let s) = stored else {
            throw LSRecError(.format, "metadata '\(Layout.fingerprintKey)' is not a string")
        }
        let expected = fingerprintHex(fingerprint)
        guard s == expected else {
            throw LSRecError(.format, "metadata '\(Layout.fingerprintKey)' is \(s.debugDescription) but the tensors hash to \"\(expected)\"")
        }
    }

    private mutating func parseMetadata(_ b: [UInt8], start: Int, end: Int, count: Int) throws {
        var r = ByteReader(b, start: start, end: end, region: "metadata block")
        // Every entry takes at least 17 bytes, so this reservation is bounded by the file size.
        metadata.reserveCapacity(min(count, (end - start) / 17))
        for i in 0 ..< count {
            let at = "metadata entry \(i) (offset \(r.position))"
            let keyLength = try r.u32("\(at) key_length")
            guard keyLength >= 1, keyLength <= UInt32(Layout.maxNameLength) else {
                throw LSRecError(.format, "\(at): key_length \(keyLength) is outside 1...\(Layout.maxNameLength)")
            }
            let keyBytes = try r.bytes(Int(keyLength), "\(at) key")
            guard let key = String(validating: keyBytes, as: UTF8.self) else {
                throw LSRecError(.format, "\(at): key is not valid UTF-8")
            }
            if let problem = nameProblem(keyBytes) {
                throw LSRecError(.format, "\(at): key \(key.debugDescription) \(problem)")
            }
            if let first = metadataIndex[key] {
                throw LSRecError(.format, "duplicate metadata key '\(key)' (entries \(first) and \(i))")
            }
            let type = try r.u32("metadata '\(key)' type")
            let value: MetaValue
            switch type {
            case Layout.metaInt:
                value = .int(Int64(bitPattern: try r.u64("metadata '\(key)' int64 value")))
            case Layout.metaFloat:
                value = .float(Double(bitPattern: try r.u64("metadata '\(key)' float64 value")))
            case Layout.metaString:
                let n = try r.u32("metadata '\(key)' string length")
                guard n <= UInt32(Layout.maxStringLength) else {
                    throw LSRecError(.format, "metadata '\(key)': string length \(n) exceeds 1 MiB")
                }
                let sb = try r.bytes(Int(n), "metadata '\(key)' string value")
                guard let s = String(validating: sb, as: UTF8.self) else {
                    throw LSRecError(.format, "metadata '\(key)': string value is not valid UTF-8")
                }
                value = .string(s)
            default:
                throw LSRecError(.format, "metadata '\(key)': unknown value type \(type) at offset \(r.position - 4)")
            }
            metadataIndex[key] = metadata.count
            metadata.append((key: key, value: value))
        }
        guard r.remaining == 0 else {
            throw LSRecError(.format, "metadata block has \(r.remaining) unused bytes after its \(count) entries (metadata_length \(end - start))")
        }
    }

    private mutating func parseDirectory(_ b: [UInt8], start: Int, end: Int, count: Int, trailerStart: Int) throws {
        var r = ByteReader(b, start: start, end: end, region: "tensor directory")
        // Every entry takes at least 41 bytes, so this reservation is bounded by the file size.
        tensors.reserveCapacity(min(count, (end - start) / 41))
        for i in 0 ..< count {
            let at = "tensor entry \(i) (offset \(r.position))"
            let nameLength = try r.u32("\(at) name_length")
            guard nameLength >= 1, nameLength <= UInt32(Layout.maxNameLength) else {
                throw LSRecError(.format, "\(at): name_length \(nameLength) is outside 1...\(Layout.maxNameLength)")
            }
            let nameBytes = try r.bytes(Int(nameLength), "\(at) name")
            guard let name = String(validating: nameBytes, as: UTF8.self) else {
                throw LSRecError(.format, "\(at): name is not valid UTF-8")
            }
            if let problem = nameProblem(nameBytes) {
                throw LSRecError(.format, "\(at): name \(name.debugDescription) \(problem)")
            }
            if let first = tensorIndex[name] {
                throw LSRecError(.format, "duplicate tensor name '\(name)' (entries \(first) and \(i))")
            }
            let t = "tensor '\(name)'"
            let dtypeRaw = try r.u32("\(t) dtype")
            guard let dtype = DType(rawValue: dtypeRaw) else {
                throw LSRecError(.format, "\(t): unknown dtype \(dtypeRaw)")
            }
            let ndim = try r.u32("\(t) ndim")
            guard ndim >= 1, ndim <= UInt32(Layout.maxDims) else {
                throw LSRecError(.format, "\(t): ndim \(ndim) is outside 1...\(Layout.maxDims)")
            }
            var shape: [Int] = []
            var elements = 1
            var overflow = false
            for k in 0 ..< Int(ndim) {
                let d64 = try r.u64("\(t) dim \(k)")
                guard let d = Int(exactly: d64) else { overflow = true; shape.append(Int.max); continue }
                shape.append(d)
                let (p, o) = elements.multipliedReportingOverflow(by: d)
                overflow = overflow || o
                elements = p
            }
            let offset64 = try r.u64("\(t) offset")
            let length64 = try r.u64("\(t) byte_length")
            let crc = try r.u32("\(t) crc32c")
            let (expectedLength, o2) = elements.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, !o2 else {
                throw LSRecError(.format, "\(t): shape \(shape) of \(dtype) is too large")
            }
            guard length64 == UInt64(expectedLength) else {
                throw LSRecError(.format, "\(t): byte_length \(length64) does not match shape \(shape) × \(dtype.size) bytes = \(expectedLength)")
            }
            guard offset64 % UInt64(Layout.alignment) == 0 else {
                throw LSRecError(.format, "\(t): offset \(offset64) is not a multiple of \(Layout.alignment)")
            }
            guard offset64 >= UInt64(end) else {
                throw LSRecError(.format, "\(t): offset \(offset64) lies before the end of the tensor directory (\(end))")
            }
            let (tensorEnd, o3) = offset64.addingReportingOverflow(length64)
            guard !o3, tensorEnd <= UInt64(trailerStart) else {
                throw LSRecError(.format, "\(t): bytes [\(offset64), \(offset64) + \(length64)) run past the trailer at offset \(trailerStart)")
            }
            tensorIndex[name] = tensors.count
            tensors.append(TensorInfo(name: name, dtype: dtype, shape: shape, offset: Int(offset64),
                                      byteLength: expectedLength, crc: crc))
        }
        guard r.remaining == 0 else {
            throw LSRecError(.format, "tensor directory has \(r.remaining) unused bytes after its \(count) entries (directory_length \(end - start))")
        }
    }

    /// Tensors must not overlap, and every byte between the directory and the trailer that no
    /// tensor covers must be zero padding.
    private func checkLayout(_ b: [UInt8], dirEnd: Int, trailerStart: Int) throws {
        let order = tensors.indices.sorted {
            (tensors[$0].offset, tensors[$0].byteLength) < (tensors[$1].offset, tensors[$1].byteLength)
        }
        var covered = dirEnd          // end of the bytes accounted for so far
        var last: Int? = nil          // index of the tensor that ends at `covered`
        for i in order {
            let t = tensors[i]
            if t.offset < covered, let j = last {
                let u = tensors[j]
                throw LSRecError(.format, "tensor '\(t.name)' [\(t.offset), \(t.offset + t.byteLength)) overlaps tensor '\(u.name)' [\(u.offset), \(u.offset + u.byteLength))")
            }
            covered = t.offset + t.byteLength
            last = i
        }
        covered = dirEnd
        for i in order {
            try checkZero(b, from: covered, to: tensors[i].offset)
            covered = tensors[i].offset + tensors[i].byteLength
        }
        try checkZero(b, from: covered, to: trailerStart)
    }

    private func checkZero(_ b: [UInt8], from: Int, to: Int) throws {
        guard from < to else { return }
        if let k = b[from ..< to].firstIndex(where: { $0 != 0 }) {
            throw LSRecError(.format, "padding byte at offset \(k) is 0x\(hex2(b[k])), expected 0")
        }
    }

    private func checkFinite(_ b: [UInt8], _ t: TensorInfo) throws {
        let n = t.count
        var bad: (index: Int, what: String)? = nil
        b.withUnsafeBytes { raw in
            switch t.dtype {
            case .f32:
                for i in 0 ..< n {
                    let x = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: t.offset + 4 * i, as: UInt32.self))
                    if x & 0x7F80_0000 == 0x7F80_0000 {
                        bad = (i, x & 0x007F_FFFF != 0 ? "NaN" : (x >> 31 != 0 ? "-Inf" : "+Inf"))
                        return
                    }
                }
            case .f16:
                for i in 0 ..< n {
                    let x = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: t.offset + 2 * i, as: UInt16.self))
                    if halfBitsAreNonFinite(x) {
                        bad = (i, x & 0x03FF != 0 ? "NaN" : (x >> 15 != 0 ? "-Inf" : "+Inf"))
                        return
                    }
                }
            case .i64:
                return
            }
        }
        if let bad {
            throw LSRecError(.nonFinite, "tensor '\(t.name)': element \(bad.index) (offset \(t.offset + bad.index * t.dtype.size)) is \(bad.what)")
        }
    }
}

private func hex2(_ v: UInt8) -> String {
    let d = Array("0123456789abcdef".utf8)
    return String(decoding: [d[Int(v >> 4)], d[Int(v & 0xF)]], as: UTF8.self)
}

/// Eight lower-case hex digits.
func hex8(_ v: UInt32) -> String {
    String(fingerprintHex(UInt64(v)).suffix(8))
}
