import CZlib

/// Writes a data set as a generic interaction log `user,item,timestamp` (header line, users in
/// data-set order, each user's events oldest first, external ids). gzip-compressed when the path
/// ends in `.gz`. `loadInteractionLog` reads it back to the same sequences. Returns the event count.
@discardableResult
public func writeInteractionLog(_ data: Dataset, to path: String) throws -> Int {
    var w = try GzWriter(path: path)
    defer { w.close() }
    try w.write("user,item,timestamp\n")
    var n = 0
    var line = ""
    for u in data.users {
        line.removeAll(keepingCapacity: true)
        for (i, t) in zip(u.items, u.timestamps) {
            line += "\(u.userID),\(data.itemIDs[Int(i)]),\(t)\n"
            n += 1
        }
        try w.write(line)
    }
    try w.finish()
    return n
}

/// Writes `item_id<TAB>text` lines (UTF-8) for every item; `loadItemText` reads them back.
/// Tabs and newlines inside a text are replaced by spaces.
public func writeItemText(_ data: Dataset, to path: String) throws {
    guard let text = data.itemText else { return }
    var w = try GzWriter(path: path)
    defer { w.close() }
    try w.write("item_id\ttext\n")
    for (id, t) in zip(data.itemIDs, text) {
        let clean = String(t.map { $0 == "\t" || $0 == "\n" || $0 == "\r" ? " " : $0 })
        try w.write("\(id)\t\(clean)\n")
    }
    try w.finish()
}

/// zlib writer: gzip for `.gz` paths, plain ("transparent" mode `T`) otherwise.
struct GzWriter {
    private var file: gzFile?
    let path: String

    init(path: String) throws {
        self.path = path
        file = gzopen(path, path.hasSuffix(".gz") ? "wb6" : "wbT")
        guard file != nil else { throw DataLoadError.cannotOpen(path: path) }
    }

    mutating func write(_ s: String) throws {
        var s = s
        let ok = s.withUTF8 { b -> Bool in
            b.isEmpty || gzwrite(file, b.baseAddress, UInt32(b.count)) == Int32(b.count)
        }
        if !ok { throw DataLoadError.writeFailed(path: path, message: "write failed") }
    }

    /// Closes and reports a failed final flush.
    mutating func finish() throws {
        guard let f = file else { return }
        file = nil
        if gzclose(f) != Z_OK { throw DataLoadError.writeFailed(path: path, message: "close failed") }
    }

    mutating func close() {
        if let f = file { gzclose(f); file = nil }
    }
}
