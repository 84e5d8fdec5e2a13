/// Generic interaction logs: `user,item,timestamp[,rating]`, comma, tab or `::` separated,
/// plain or gzip, with an optional header, detected from the first non-blank line.

/// Header names (lower-cased, non-alphanumerics removed) recognised for each column.
private let userNames: Set<String> = ["user", "userid", "uid", "users", "visitorid", "customerid"]
private let itemNames: Set<String> = ["item", "itemid", "iid", "movie", "movieid", "product", "productid"]
private let timeNames: Set<String> = ["timestamp", "time", "ts", "unixtime", "unixtimestamp", "datetime"]
private let ratingNames: Set<String> = ["rating", "score", "value"]

private func normalise(_ name: String) -> String {
    String(name.lowercased().unicodeScalars.filter { ($0.value >= 97 && $0.value <= 122) || ($0.value >= 48 && $0.value <= 57) })
}

/// Works out the layout of a delimited log from its first non-blank line:
/// - separator: `::` if present, else tab if present, else comma;
/// - header: present when no field of that line is a number (never for `::`); columns are then found by
///   name (user/user_id/…, item/item_id/movie_id/…, timestamp/time/ts, rating/score), or by
///   position when the names are not recognised;
/// - without a header, by position: `user,item[,timestamp[,rating]]`, except a 4-field `::` line,
///   which is MovieLens `user::item::rating::timestamp`.
/// A timestamp of -1 means unknown; with no time column every event is unknown.
func detectLogLayout(path: String) throws -> LogLayout {
    guard let first = try firstNonBlankLine(path: path) else { throw DataLoadError.noEvents(path: path) }
    let sep: FieldSeparator = first.contains("::") ? .doubleColon : first.contains("\t") ? .tab : .comma
    let bytes = Array(first.utf8)
    return try bytes.withUnsafeBufferPointer { line -> LogLayout in
        let cap = 64
        let buf = UnsafeMutableBufferPointer<FieldRange>.allocate(capacity: cap)
        defer { buf.deallocate() }
        let n = splitFields(line, sep, into: buf)
        guard n >= 2 && n <= cap else {
            throw DataLoadError.unrecognisedFormat(path: path, reason: "first line has \(n) fields; expected user,item,timestamp[,rating]")
        }
        let fields = (0..<n).map { buf[$0] }
        // A header has no numeric field; a data line with one bad field is then reported as
        // malformed instead of being skipped as a "header". `::` files (MovieLens) have none.
        let header = sep != .doubleColon && !fields.contains { isNumber(line, $0) }
        if header {
            let names = fields.map { normalise(fieldString(line, $0)) }
            let u = names.firstIndex { userNames.contains($0) }
            let i = names.firstIndex { itemNames.contains($0) }
            let t = names.firstIndex { timeNames.contains($0) }
            let r = names.firstIndex { ratingNames.contains($0) }
            if let u, let i {
                return LogLayout(separator: sep, fieldCount: n, user: u, item: i, timestamp: t, rating: r,
                                 hasHeader: true, allowUnknownTime: true)
            }
            return try positional(n, sep, header: true, path: path)
        }
        if sep == .doubleColon && n == 4 {
            var l = LogLayout.movieLensRatings
            l.allowUnknownTime = true
            return l
        }
        return try positional(n, sep, header: false, path: path)
    }
}

private func positional(_ n: Int, _ sep: FieldSeparator, header: Bool, path: String) throws -> LogLayout {
    guard (2...4).contains(n) else {
        throw DataLoadError.unrecognisedFormat(path: path, reason: "\(n) columns without recognised header names; expected user,item,timestamp[,rating]")
    }
    return LogLayout(separator: sep, fieldCount: n, user: 0, item: 1, timestamp: n >= 3 ? 2 : nil,
                     rating: n == 4 ? 3 : nil, hasHeader: header, allowUnknownTime: true)
}

/// Loads a generic interaction log (see `detectLogLayout`). Ids must be integers. Every event is
/// kept; within a user, events are ordered by timestamp, unknown (-1) first, ties in file order.
/// Items get dense indices in ascending order of their id.
public func loadInteractionLog(path: String, itemTextPath: String? = nil) throws -> LoadedDataset {
    let clock = ContinuousClock()
    let start = clock.now
    let layout = try detectLogLayout(path: path)
    var stats = LoadStats()
    stats.format = layout.separator.name
    var table = EventTable()
    try parseDelimitedLog(path: path, layout: layout, into: &table, stats: &stats)
    guard table.count > 0 else { throw DataLoadError.noEvents(path: path) }
    let name = path.split(separator: "/").last.map(String.init) ?? path
    var data = table.makeDataset(description: "", stats: &stats)
    if let itemTextPath {
        data.attachItemText(try loadItemText(path: itemTextPath), from: itemTextPath, stats: &stats)
    }
    data.description = "\(name) (\(stats.format)): \(stats.users) users, \(stats.items) items, \(stats.eventsKept) events"
    stats.seconds = seconds(clock.now - start)
    return LoadedDataset(dataset: data, stats: stats)
}

/// A duration in seconds (the trainer's timings: data loading, evaluation, epochs, the loss part).
func seconds(_ d: Duration) -> Double {
    let c = d.components
    return Double(c.seconds) + Double(c.attoseconds) * 1e-18
}
