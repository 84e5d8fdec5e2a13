/// Writer of the `.lsrec` weight file (docs/FORMAT.md).
///
/// Collect metadata and tensors, then `build()` lays the file out: header, metadata, directory,
/// zero padding, each tensor at a multiple of 64, trailer. It computes every tensor CRC, the
/// fingerprint (stored as `general.fingerprint`), the header CRC and the file CRC.
public struct WeightFileBuilder {
    private enum Payload {
        case floats([Float])
        case int64s([Int64])
    }

    private struct PendingTensor {
        let name: String
        let shape: [Int]
        let dtype: DType
        let payload: Payload
    }

    private var metadata: [(key: String, value: MetaValue)] = []
    private var metadataIndex: [String: Int] = [:]
    private var tensors: [PendingTensor] = []

    /// Creates an empty builder.
    public init() {}

    /// Sets metadata `key`: replaces the value of an existing key in place, otherwise appends.
    /// `general.fingerprint` is always overwritten by `build()`.
    public mutating func setMeta(_ key: String, _ value: MetaValue) {
        if let i = metadataIndex[key] {
            metadata[i].value = value
        } else {
            metadataIndex[key] = metadata.count
            metadata.append((key: key, value: value))
        }
    }

    /// Adds a floating-point tensor stored as `dtype` (`.f32`, or `.f16` rounded to nearest-even).
    /// Problems (duplicate name, shape/count mismatch, bad dtype, NaN/Inf) are reported by `build()`.
    public mutating func addTensor(_ name: String, shape: [Int], floats: [Float], as dtype: DType = .f32) {
        tensors.append(PendingTensor(name: name, shape: shape, dtype: dtype, payload: .floats(floats)))
    }

    /// Adds an i64 tensor. Problems are reported by `build()`.
    public mutating func addTensor(_ name: String, shape: [Int], int64s: [Int64]) {
        tensors.append(PendingTensor(name: name, shape: shape, dtype: .i64, payload: .int64s(int64s)))
    }

    /// Serialises: computes tensor CRCs, the fingerprint (sets general.fingerprint), header/trailer
    /// CRCs, 64-byte alignment. Throws `LSRecError(.invalidArgument, ...)` for duplicate names,
    /// shape/count mismatch, bad dtype, NaN/Inf, bad keys/names or oversized strings.
    public func build() throws -> [UInt8] {
        // Metadata, with the fingerprint value as a 16-digit placeholder (its length is fixed).
        var meta = metadata
        let fingerprintSlot: Int
        if let i = metadataIndex[Layout.fingerprintKey] {
            fingerprintSlot = i
            meta[i].value = .string(fingerprintHex(0))
        } else {
            fingerprintSlot = meta.count
            meta.append((key: Layout.fingerprintKey, value: .string(fingerprintHex(0))))
        }
        for (k, v) in meta {
            if let problem = nameProblem(k.utf8) {
                throw LSRecError(.invalidArgument, "metadata key \(k.debugDescription) \(problem)")
            }
            if case .string(let s) = v, s.utf8.count > Layout.maxStringLength {
                throw LSRecError(.invalidArgument, "metadata '\(k)': string of \(s.utf8.count) bytes exceeds 1 MiB")
            }
        }
        guard meta.count <= Int(UInt32.max), tensors.count <= Int(UInt32.max) else {
            throw LSRecError(.invalidArgument, "too many metadata entries or tensors")
        }

        // Validate tensors and compute the layout.
        var seen: Set<String> = []
        var lengths: [Int] = []
        lengths.reserveCapacity(tensors.count)
        var directoryLength = 0
        for t in tensors {
            if let problem = nameProblem(t.name.utf8) {
                throw LSRecError(.invalidArgument, "tensor name \(t.name.debugDescription) \(problem)")
            }
            guard seen.insert(t.name).inserted else {
                throw LSRecError(.invalidArgument, "duplicate tensor name '\(t.name)'")
            }
            guard t.shape.count >= 1, t.shape.count <= Layout.maxDims else {
                throw LSRecError(.invalidArgument, "tensor '\(t.name)': shape \(t.shape) must have 1...\(Layout.maxDims) dimensions")
            }
            var elements = 1
            for d in t.shape {
                let (p, o) = elements.multipliedReportingOverflow(by: d)
                guard d >= 0, !o else {
                    throw LSRecError(.invalidArgument, "tensor '\(t.name)': invalid shape \(t.shape)")
                }
                elements = p
            }
            let count: Int
            switch t.payload {
            case .floats(let v):
                guard t.dtype == .f32 || t.dtype == .f16 else {
                    throw LSRecError(.invalidArgument, "tensor '\(t.name)': float data cannot be stored as \(t.dtype)")
                }
                count = v.count
            case .int64s(let v):
                count = v.count
            }
            guard count == elements else {
                throw LSRecError(.invalidArgument, "tensor '\(t.name)': shape \(t.shape) needs \(elements) elements, got \(count)")
            }
            let (len, o) = elements.multipliedReportingOverflow(by: t.dtype.size)
            guard !o else { throw LSRecError(.invalidArgument, "tensor '\(t.name)': too large") }
            lengths.append(len)
            directoryLength += 4 + t.name.utf8.count + 4 + 4 + 8 * t.shape.count + 8 + 8 + 4
        }
        guard directoryLength <= Int(UInt32.max) else {
            throw LSRecError(.invalidArgument, "tensor directory of \(directoryLength) bytes exceeds 4 GiB")
        }

        var metaWriter = ByteWriter()
        var fingerprintValueOffset = 0
        for (i, (k, v)) in meta.enumerated() {
            metaWriter.u32(UInt32(k.utf8.count))
            metaWriter.append(k.utf8)
            metaWriter.u32(v.typeCode)
            switch v {
            case .int(let x): metaWriter.u64(UInt64(bitPattern: x))
            case .float(let x): metaWriter.u64(x.bitPattern)
            case .string(let s):
                metaWriter.u32(UInt32(s.utf8.count))
                if i == fingerprintSlot { fingerprintValueOffset = Layout.headerSize + metaWriter.count }
                metaWriter.append(s.utf8)
            }
        }
        let metaLength = metaWriter.count
        let directoryOffset = Layout.headerSize + metaLength
        let directoryEnd = directoryOffset + directoryLength

        var offsets: [Int] = []
        offsets.reserveCapacity(tensors.count)
        var cursor = directoryEnd
        for len in lengths {
            guard let start = alignUp64(cursor) else { throw LSRecError(.invalidArgument, "file too large") }
            offsets.append(start)
            let (e, o) = start.addingReportingOverflow(len)
            guard !o else { throw LSRecError(.invalidArgument, "file too large") }
            cursor = e
        }
        let trailerStart = cursor
        let (fileSize, o) = trailerStart.addingReportingOverflow(Layout.trailerSize)
        guard !o else { throw LSRecError(.invalidArgument, "file too large") }

        // Write the tensor data in place, checking values, and checksum it.
        var out = [UInt8](repeating: 0, count: fileSize)
        var infos: [TensorInfo] = []
        infos.reserveCapacity(tensors.count)
        for (i, t) in tensors.enumerated() {
            try encode(t, into: &out, at: offsets[i])
            let crc = crc32c(out[offsets[i] ..< offsets[i] + lengths[i]])
            infos.append(TensorInfo(name: t.name, dtype: t.dtype, shape: t.shape, offset: offsets[i],
                                    byteLength: lengths[i], crc: crc))
        }

        // Metadata with the real fingerprint.
        var metaBytes = metaWriter.bytes
        let fp = Array(fingerprintHex(computeFingerprint(infos)).utf8)
        let fpAt = fingerprintValueOffset - Layout.headerSize
        metaBytes.replaceSubrange(fpAt ..< fpAt + fp.count, with: fp)
        out.replaceSubrange(Layout.headerSize ..< directoryOffset, with: metaBytes)

        // Directory.
        var dir = ByteWriter(capacity: directoryLength)
        for t in infos {
            dir.u32(UInt32(t.name.utf8.count))
            dir.append(t.name.utf8)
            dir.u32(t.dtype.rawValue)
            dir.u32(UInt32(t.shape.count))
            for d in t.shape { dir.u64(UInt64(d)) }
            dir.u64(UInt64(t.offset))
            dir.u64(UInt64(t.byteLength))
            dir.u32(t.crc)
        }
        out.replaceSubrange(directoryOffset ..< directoryEnd, with: dir.bytes)

        // Header.
        out.replaceSubrange(0 ..< 8, with: Layout.magic)
        storeU32LE(WeightFile.formatVersion, into: &out, at: Layout.offVersion)
        storeU32LE(Layout.byteOrderMark, into: &out, at: Layout.offByteOrder)
        storeU64LE(UInt64(fileSize), into: &out, at: Layout.offFileSize)
        storeU64LE(UInt64(Layout.headerSize), into: &out, at: Layout.offMetadataOffset)
        storeU64LE(UInt64(metaLength), into: &out, at: Layout.offMetadataLength)
        storeU32LE(UInt32(meta.count), into: &out, at: Layout.offMetadataCount)
        storeU32LE(UInt32(infos.count), into: &out, at: Layout.offTensorCount)
        storeU64LE(UInt64(directoryOffset), into: &out, at: Layout.offDirectoryOffset)
        storeU32LE(UInt32(directoryLength), into: &out, at: Layout.offDirectoryLength)
        storeU32LE(crc32c(out[0 ..< Layout.offHeaderCRC]), into: &out, at: Layout.offHeaderCRC)

        // Trailer.
        let fileCRC = crc32c(out[0 ..< trailerStart])
        out.replaceSubrange(trailerStart ..< trailerStart + 8, with: Layout.trailerMagic)
        storeU32LE(fileCRC, into: &out, at: trailerStart + 8)
        storeU32LE(0, into: &out, at: trailerStart + 12)
        return out
    }

    /// Writes the elements of `t` little-endian at `offset`, refusing NaN/Inf (and f16 overflow).
    private func encode(_ t: PendingTensor, into out: inout [UInt8], at offset: Int) throws {
        var bad: (index: Int, value: Float)? = nil
        switch t.payload {
        case .floats(let v):
            out.withUnsafeMutableBytes { raw in
                if t.dtype == .f32 {
                    for (i, x) in v.enumerated() {
                        guard x.isFinite else { bad = (i, x); return }
                        raw.storeBytes(of: x.bitPattern.littleEndian, toByteOffset: offset + 4 * i, as: UInt32.self)
                    }
                } else {
                    for (i, x) in v.enumerated() {
                        let h = halfBitsFromFloat(x)
                        guard !halfBitsAreNonFinite(h) else { bad = (i, x); return }
                        raw.storeBytes(of: h.littleEndian, toByteOffset: offset + 2 * i, as: UInt16.self)
                    }
                }
            }
        case .int64s(let v):
            out.withUnsafeMutableBytes { raw in
                for (i, x) in v.enumerated() {
                    raw.storeBytes(of: x.littleEndian, toByteOffset: offset + 8 * i, as: Int64.self)
                }
            }
        }
        if let bad {
            let why = bad.value.isFinite ? "\(bad.value) overflows f16" : "\(bad.value) is not finite"
            throw LSRecError(.invalidArgument, "tensor '\(t.name)': element \(bad.index): \(why)")
        }
    }
}
