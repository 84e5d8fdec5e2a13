/// One line a loader could not parse.
public struct MalformedLine: Sendable, Equatable, CustomStringConvertible {
    /// File name (last path component) and 1-based line number.
    public var file: String
    public var line: Int
    public var reason: String
    /// The line's first bytes, for the message.
    public var excerpt: String

    public var description: String { "\(file):\(line): \(reason): \"\(excerpt)\"" }
}

/// Why loading (or writing) a data set failed. Malformed lines are never dropped silently: the whole load
/// fails with the first few of them and their total count.
public enum DataLoadError: Error, Sendable, CustomStringConvertible {
    case cannotOpen(path: String)
    case readFailed(path: String, message: String)
    case writeFailed(path: String, message: String)
    /// `count` malformed lines in `path`; `examples` are the first few, in file order.
    case malformed(path: String, count: Int, examples: [MalformedLine])
    case unrecognisedFormat(path: String, reason: String)
    case noEvents(path: String)

    public var description: String {
        switch self {
        case .cannotOpen(let p): return "cannot open \(p)"
        case .readFailed(let p, let m): return "error reading \(p): \(m)"
        case .writeFailed(let p, let m): return "error writing \(p): \(m)"
        case .malformed(let p, let n, let ex):
            let list = ex.map { "  " + $0.description }.joined(separator: "\n")
            let more = n > ex.count ? "\n  … and \(n - ex.count) more" : ""
            return "\(n) malformed line\(n == 1 ? "" : "s") in \(p):\n\(list)\(more)"
        case .unrecognisedFormat(let p, let r): return "unrecognised data format in \(p): \(r)"
        case .noEvents(let p): return "no events in \(p)"
        }
    }
}

/// Collects malformed lines while a file is parsed; `check()` throws if there were any.
struct MalformedCollector {
    let path: String
    let fileName: String
    let keep: Int
    private(set) var count = 0
    private(set) var examples: [MalformedLine] = []

    init(path: String, keep: Int = 10) {
        self.path = path
        self.keep = keep
        fileName = path.split(separator: "/").last.map(String.init) ?? path
    }

    mutating func add(line: Int, reason: String, bytes: UnsafeBufferPointer<UInt8>) {
        count += 1
        guard examples.count < keep else { return }
        let excerpt = String(decoding: bytes.prefix(120), as: UTF8.self) // lossy is fine for a message
        examples.append(MalformedLine(file: fileName, line: line, reason: reason, excerpt: excerpt))
    }

    func check() throws {
        if count > 0 { throw DataLoadError.malformed(path: path, count: count, examples: examples) }
    }
}
