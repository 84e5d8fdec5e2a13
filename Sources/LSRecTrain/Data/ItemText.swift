/// Item descriptions: MovieLens `movies.dat` (`MovieID::Title::Genres`, ISO-8859-1) or a
/// tab-separated `item_id<TAB>text` file (UTF-8, as `lsrec synth --item-text` writes).

/// Decodes ISO-8859-1 (latin-1): every byte is the Unicode scalar of the same value.
/// (`movies.dat` has bytes such as 0xE9 "é" that are not valid UTF-8.)
public func decodeLatin1<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    var s = String.UnicodeScalarView()
    for b in bytes { s.append(Unicode.Scalar(b)) }
    return String(s)
}

/// Reads `movies.dat` into `movie id -> "Title Genre1|Genre2"`. Malformed lines (not three
/// `::` fields, non-integer or duplicate id) fail the load with their line numbers.
public func loadMovieLensItemText(path: String) throws -> [Int64: String] {
    var out: [Int64: String] = [:]
    var bad = MalformedCollector(path: path)
    let fields = UnsafeMutableBufferPointer<FieldRange>.allocate(capacity: 4)
    defer { fields.deallocate() }
    try forEachLine(path: path) { line, lineNo in
        if isBlank(line) { return }
        let n = splitFields(line, .doubleColon, into: fields)
        guard n == 3 else {
            bad.add(line: lineNo, reason: "expected 3 fields (MovieID::Title::Genres), found \(n)", bytes: line)
            return
        }
        guard let id = parseInt64(line, fields[0]) else {
            bad.add(line: lineNo, reason: "movie id is not an integer", bytes: line); return
        }
        guard out[id] == nil else {
            bad.add(line: lineNo, reason: "duplicate movie id \(id)", bytes: line); return
        }
        let title = decodeLatin1(line[fields[1].start..<fields[1].end])
        let genres = decodeLatin1(line[fields[2].start..<fields[2].end])
        out[id] = genres.isEmpty ? title : title + " " + genres
    }
    try bad.check()
    return out
}

/// Reads `item_id<TAB>text` lines (UTF-8; an optional first line whose id is not an integer is
/// a header). Malformed lines fail the load with their line numbers.
public func loadItemTextTSV(path: String) throws -> [Int64: String] {
    var out: [Int64: String] = [:]
    var bad = MalformedCollector(path: path)
    var first = true
    try forEachLine(path: path) { line, lineNo in
        if isBlank(line) { return }
        defer { first = false }
        guard let tab = line.firstIndex(of: 9) else {
            bad.add(line: lineNo, reason: "expected item_id<TAB>text", bytes: line); return
        }
        guard let id = parseInt64(line, FieldRange(start: 0, end: tab)) else {
            if !first { bad.add(line: lineNo, reason: "item id is not an integer", bytes: line) }
            return
        }
        guard out[id] == nil else {
            bad.add(line: lineNo, reason: "duplicate item id \(id)", bytes: line); return
        }
        out[id] = String(decoding: UnsafeBufferPointer(rebasing: line[(tab + 1)...]), as: UTF8.self)
    }
    try bad.check()
    return out
}

/// Loads item text, choosing the format by content: `::` separated -> `movies.dat` (latin-1),
/// otherwise tab-separated UTF-8.
public func loadItemText(path: String) throws -> [Int64: String] {
    let first = try firstNonBlankLine(path: path) ?? ""
    if first.contains("::") { return try loadMovieLensItemText(path: path) }
    return try loadItemTextTSV(path: path)
}

extension Dataset {
    /// Sets `itemText` from `texts` (external id -> text); items without an entry get "".
    /// Returns how many items had text.
    @discardableResult
    public mutating func attachItemText(_ texts: [Int64: String]) -> Int {
        var found = 0
        itemText = itemIDs.map { id in
            if let t = texts[id] { found += 1; return t }
            return ""
        }
        return found
    }

    /// Attaches the texts read from `path` and records the file and its coverage in `stats`.
    mutating func attachItemText(_ texts: [Int64: String], from path: String, stats: inout LoadStats) {
        let found = attachItemText(texts)
        stats.files.append(path)
        stats.itemsWithText = found
        stats.itemsWithoutText = nItems - found
    }
}
