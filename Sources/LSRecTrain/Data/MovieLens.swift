#if canImport(Glibc)
import Glibc
#endif

/// The two ML-1M variants rebuilt in `shared/data/ml-1m` (see its SOURCE.md).
public enum MovieLensVariant: String, Sendable, CaseIterable {
    /// "ml-1m-timed": `ratings_complete_users.dat.gz`, the 3,896 users whose every rating has a
    /// time (643,694 events). Exact chronologies; the default.
    case timed
    /// "ml-1m-full": `ratings_merged.csv.gz`, all 6,040 users and 1,000,209 ratings; 277,641 have
    /// timestamp -1 (unknown) and are ordered first within their user, in file order.
    case full

    public var name: String { self == .timed ? "ml-1m-timed" : "ml-1m-full" }
}

/// Loads `ratings_complete_users.dat.gz` (or an original `ratings.dat[.gz]`):
/// `UserID::MovieID::Rating::Timestamp`, every timestamp known (a negative one is malformed).
/// `moviesPath`: `movies.dat` for item text, or nil for none.
public func loadMovieLensTimed(path: String, moviesPath: String?) throws -> LoadedDataset {
    try loadMovieLens(path: path, layout: .movieLensRatings, format: MovieLensVariant.timed.name,
                      moviesPath: moviesPath)
}

/// Loads `ratings_merged.csv.gz`: header `user_id,movie_id,rating,timestamp`, timestamp -1 =
/// unknown. Untimed events come first within their user, in file order (stable sort by time
/// with -1 lowest).
public func loadMovieLensFull(path: String, moviesPath: String?) throws -> LoadedDataset {
    let layout = try detectLogLayout(path: path)
    guard layout.hasHeader, layout.separator == .comma, layout.timestamp != nil else {
        throw DataLoadError.unrecognisedFormat(path: path, reason: "expected header user_id,movie_id,rating,timestamp")
    }
    return try loadMovieLens(path: path, layout: layout, format: MovieLensVariant.full.name,
                             moviesPath: moviesPath)
}

private func loadMovieLens(path: String, layout: LogLayout, format: String,
                           moviesPath: String?) throws -> LoadedDataset {
    let clock = ContinuousClock()
    let start = clock.now
    var stats = LoadStats()
    stats.format = format
    var table = EventTable()
    table.reserve(1_000_209) // ML-1M size; a hint only
    try parseDelimitedLog(path: path, layout: layout, into: &table, stats: &stats)
    guard table.count > 0 else { throw DataLoadError.noEvents(path: path) }
    var data = table.makeDataset(description: "", stats: &stats)
    if let moviesPath {
        data.attachItemText(try loadMovieLensItemText(path: moviesPath), from: moviesPath, stats: &stats)
    }
    data.description = "MovieLens-1M \(format): \(stats.users) users, \(stats.items) items, \(stats.eventsKept) events"
    stats.seconds = seconds(clock.now - start)
    return LoadedDataset(dataset: data, stats: stats)
}

/// Loads ML-1M from a directory holding the `shared/data/ml-1m` files.
public func loadMovieLens(directory: String, variant: MovieLensVariant = .timed,
                          itemText: Bool = true) throws -> LoadedDataset {
    let dir = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
    let movies = itemText ? existing(["\(dir)/movies.dat"]) : nil
    switch variant {
    case .timed:
        guard let p = existing(["\(dir)/ratings_complete_users.dat.gz", "\(dir)/ratings.dat",
                                "\(dir)/ratings.dat.gz"]) else {
            throw DataLoadError.cannotOpen(path: "\(dir)/ratings_complete_users.dat.gz")
        }
        return try loadMovieLensTimed(path: p, moviesPath: movies)
    case .full:
        guard let p = existing(["\(dir)/ratings_merged.csv.gz"]) else {
            throw DataLoadError.cannotOpen(path: "\(dir)/ratings_merged.csv.gz")
        }
        return try loadMovieLensFull(path: p, moviesPath: movies)
    }
}

/// First path that exists as a regular file.
func existing(_ paths: [String]) -> String? {
    paths.first { fileKind($0) == .file }
}

enum FileKind { case missing, file, directory }

func fileKind(_ path: String) -> FileKind {
    var st = stat()
    guard stat(path, &st) == 0 else { return .missing }
    return (st.st_mode & S_IFMT) == S_IFDIR ? .directory : .file
}
