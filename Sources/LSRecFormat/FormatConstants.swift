/// Fixed numbers of the `.lsrec` format (docs/FORMAT.md).
enum Layout {
    /// "LSRECWT\0"
    static let magic: [UInt8] = [0x4C, 0x53, 0x52, 0x45, 0x43, 0x57, 0x54, 0x00]
    /// "LSRECEND"
    static let trailerMagic: [UInt8] = [0x4C, 0x53, 0x52, 0x45, 0x43, 0x45, 0x4E, 0x44]
    static let byteOrderMark: UInt32 = 0x0102_0304
    static let swappedByteOrderMark: UInt32 = 0x0403_0201
    static let headerSize = 64
    static let trailerSize = 16
    static let minFileSize = headerSize + trailerSize      // 80
    static let alignment = 64
    static let maxNameLength = 256
    static let maxStringLength = 1 << 20                   // 1 MiB
    static let maxDims = 4

    // Header field offsets.
    static let offVersion = 8
    static let offByteOrder = 12
    static let offFileSize = 16
    static let offMetadataOffset = 24
    static let offMetadataLength = 32
    static let offMetadataCount = 40
    static let offTensorCount = 44
    static let offDirectoryOffset = 48
    static let offDirectoryLength = 56
    static let offHeaderCRC = 60

    // Metadata value types.
    static let metaInt: UInt32 = 1
    static let metaFloat: UInt32 = 2
    static let metaString: UInt32 = 3

    /// Metadata key holding the tensor fingerprint.
    static let fingerprintKey = "general.fingerprint"
}

/// Validates a metadata key or tensor name: UTF-8, 1...256 bytes, no NUL byte.
/// Returns a reason when invalid, `nil` when fine.
func nameProblem(_ utf8: some Collection<UInt8>) -> String? {
    if utf8.isEmpty { return "is empty" }
    if utf8.count > Layout.maxNameLength { return "is \(utf8.count) bytes long (at most \(Layout.maxNameLength))" }
    if utf8.contains(0) { return "contains a NUL byte" }
    return nil
}

/// Rounds `n` up to a multiple of 64, or `nil` on overflow.
func alignUp64(_ n: Int) -> Int? {
    let (s, o) = n.addingReportingOverflow(Layout.alignment - 1)
    return o ? nil : s & ~(Layout.alignment - 1)
}
