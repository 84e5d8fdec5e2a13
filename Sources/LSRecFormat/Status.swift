/// Result codes shared by the weight-file reader, the model and the C ABI.
/// The raw values are the `lsrec_status` codes of `include/lsrec.h`; never renumber them.
public enum LSRecStatus: Int32, Sendable, CaseIterable {
    case ok = 0
    case invalidArgument = 1
    case io = 2
    case format = 3
    case version = 4
    case checksum = 5
    case unknownItem = 6
    case bufferTooSmall = 7
    case modelMismatch = 8
    case outOfMemory = 9
    case `internal` = 10
    case badMagic = 11
    case truncated = 12
    case byteOrder = 13
    case nonFinite = 14
    case outOfOrder = 15

    /// Short fixed description, as returned by `lsrec_status_str`.
    public var text: String {
        switch self {
        case .ok: return "ok"
        case .invalidArgument: return "invalid argument"
        case .io: return "I/O error"
        case .format: return "malformed file or blob"
        case .version: return "unsupported version"
        case .checksum: return "checksum mismatch"
        case .unknownItem: return "unknown item id"
        case .bufferTooSmall: return "buffer too small"
        case .modelMismatch: return "state belongs to another model"
        case .outOfMemory: return "out of memory"
        case .internal: return "internal error"
        case .badMagic: return "not an lsrec file (bad magic)"
        case .truncated: return "truncated input"
        case .byteOrder: return "wrong byte order"
        case .nonFinite: return "NaN or Inf in weights"
        case .outOfOrder: return "timestamp earlier than the previous event"
        }
    }
}

/// The one error type thrown inside lsrec: a status code plus a message for humans.
public struct LSRecError: Error, CustomStringConvertible, Sendable {
    public let status: LSRecStatus
    public let message: String

    public init(_ status: LSRecStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.text): \(message)" }
}
