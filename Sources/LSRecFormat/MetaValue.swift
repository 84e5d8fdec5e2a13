/// A typed metadata value of a weight file: int64 (type 1), float64 (type 2) or UTF-8 string (type 3).
public enum MetaValue: Equatable, Sendable, CustomStringConvertible {
    /// Type 1: a signed 64-bit integer.
    case int(Int64)
    /// Type 2: an IEEE-754 double.
    case float(Double)
    /// Type 3: a UTF-8 string of at most 1 MiB.
    case string(String)

    /// The type name used by `lsrec inspect`: "int", "float" or "string".
    public var typeName: String {
        switch self {
        case .int: return "int"
        case .float: return "float"
        case .string: return "string"
        }
    }

    /// The on-disk type code (1, 2 or 3).
    var typeCode: UInt32 {
        switch self {
        case .int: return Layout.metaInt
        case .float: return Layout.metaFloat
        case .string: return Layout.metaString
        }
    }

    /// The value as text; strings are quoted and escaped.
    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .float(let v): return String(v)
        case .string(let s): return s.debugDescription
        }
    }
}
