/// Element type of a tensor: the on-disk `dtype` code.
public enum DType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    /// IEEE-754 binary32.
    case f32 = 0
    /// IEEE-754 binary16, widened to `Float` on load.
    case f16 = 1
    /// Signed 64-bit integer.
    case i64 = 2

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f32: return 4
        case .f16: return 2
        case .i64: return 8
        }
    }

    /// "f32", "f16" or "i64".
    public var description: String {
        switch self {
        case .f32: return "f32"
        case .f16: return "f16"
        case .i64: return "i64"
        }
    }
}

/// One entry of the tensor directory.
public struct TensorInfo: Sendable, Equatable {
    /// Unique name, e.g. "lstm.w_x".
    public let name: String
    /// Element type.
    public let dtype: DType
    /// Dimensions, 1 to 4 of them, row-major.
    public let shape: [Int]
    /// Absolute file offset of the first byte (a multiple of 64).
    public let offset: Int
    /// Bytes of data: product(shape) × dtype.size.
    public let byteLength: Int
    /// CRC32C of the tensor's bytes.
    public let crc: UInt32

    /// Creates a directory entry (no validation; the reader and builder validate).
    public init(name: String, dtype: DType, shape: [Int], offset: Int, byteLength: Int, crc: UInt32) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.offset = offset
        self.byteLength = byteLength
        self.crc = crc
    }

    /// Number of elements, product(shape).
    public var count: Int { byteLength / dtype.size }
}
