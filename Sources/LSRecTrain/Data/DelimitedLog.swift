/// Column layout of a delimited interaction file.
struct LogLayout: Equatable {
    var separator: FieldSeparator
    /// Exact number of fields every data line must have.
    var fieldCount: Int
    var user: Int
    var item: Int
    /// nil: no time column, every event is untimed (-1) and keeps file order.
    var timestamp: Int?
    /// Validated as a number when present; not stored (ratings are implicit feedback here).
    var rating: Int?
    /// Whether the first non-blank line is a header to skip.
    var hasHeader: Bool
    /// Whether -1 ("unknown") is accepted as a timestamp.
    var allowUnknownTime: Bool

    /// `UserID::MovieID::Rating::Timestamp`, every time known.
    static let movieLensRatings = LogLayout(separator: .doubleColon, fieldCount: 4, user: 0, item: 1,
                                            timestamp: 3, rating: 2, hasHeader: false,
                                            allowUnknownTime: false)
}

/// Parses every line of `path` with `layout` into `table`, counting into `stats`.
/// Throws `DataLoadError.malformed` listing the first bad lines (with line numbers) and their count.
func parseDelimitedLog(path: String, layout: LogLayout, into table: inout EventTable,
                       stats: inout LoadStats) throws {
    var bad = MalformedCollector(path: path)
    let cap = layout.fieldCount + 1 // one extra slot detects "too many fields"
    let fields = UnsafeMutableBufferPointer<FieldRange>.allocate(capacity: cap)
    defer { fields.deallocate() }
    var lines = 0, blank = 0, header = 0

    try forEachLine(path: path) { line, lineNo in
        lines += 1
        if isBlank(line) { blank += 1; return }
        if layout.hasHeader && header == 0 { header = 1; return } // first non-blank line
        let n = splitFields(line, layout.separator, into: fields)
        guard n == layout.fieldCount else {
            bad.add(line: lineNo, reason: "expected \(layout.fieldCount) fields, found \(n)", bytes: line)
            return
        }
        guard let u = parseInt64(line, fields[layout.user]) else {
            bad.add(line: lineNo, reason: "user id is not an integer", bytes: line); return
        }
        guard let it = parseInt64(line, fields[layout.item]) else {
            bad.add(line: lineNo, reason: "item id is not an integer", bytes: line); return
        }
        var t: Int64 = -1
        if let tc = layout.timestamp {
            guard let v = parseInt64(line, fields[tc]) else {
                bad.add(line: lineNo, reason: "timestamp is not an integer", bytes: line); return
            }
            guard v >= 0 || (v == -1 && layout.allowUnknownTime) else {
                bad.add(line: lineNo, reason: layout.allowUnknownTime
                        ? "negative timestamp other than -1 (unknown)" : "timestamp is negative",
                        bytes: line)
                return
            }
            t = v
        }
        if let rc = layout.rating, !isNumber(line, fields[rc]) {
            bad.add(line: lineNo, reason: "rating is not a number", bytes: line); return
        }
        table.append(user: u, item: it, time: t)
    }
    stats.files.append(path)
    stats.linesRead += lines
    stats.blankLines += blank
    stats.headerLines += header
    try bad.check()
}

/// Reads the first non-blank line of a (possibly gzipped) file as a string, or nil if none.
func firstNonBlankLine(path: String) throws -> String? {
    struct Found: Error { let line: String }
    do {
        try forEachLine(path: path) { line, _ in
            if !isBlank(line) { throw Found(line: String(decoding: line, as: UTF8.self)) }
        }
    } catch let f as Found {
        return f.line
    }
    return nil
}
