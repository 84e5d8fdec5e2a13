/// A loaded data set and what the load read and kept.
public struct LoadedDataset: Sendable {
    public var dataset: Dataset
    public var stats: LoadStats
}

/// Options for `loadDataset(path:options:)`.
public struct LoadOptions: Sendable {
    /// Which ML-1M variant a directory loads (default: timed).
    public var movieLens: MovieLensVariant = .timed
    /// Attach item text: `movies.dat` beside MovieLens data, or `itemTextPath`.
    public var itemText = true
    /// Explicit item-text file (`movies.dat` format or `id<TAB>text`); overrides the default.
    public var itemTextPath: String?

    public init(movieLens: MovieLensVariant = .timed, itemText: Bool = true, itemTextPath: String? = nil) {
        self.movieLens = movieLens
        self.itemText = itemText
        self.itemTextPath = itemTextPath
    }
}

/// The one entry point for training and evaluation data.
/// - a directory holding ML-1M files -> `options.movieLens` (ml-1m-timed by default), with
///   `movies.dat` as item text;
/// - a file named `ratings_merged.csv[.gz]` -> ml-1m-full;
/// - a file of 4-field `::` lines -> MovieLens ratings with ml-1m-timed rules (every time known);
/// - any other file -> a generic log whose format is sniffed (`detectLogLayout`).
/// MovieLens files pick up a `movies.dat` beside them as item text; `options.itemTextPath`
/// attaches item text to any of them.
/// Every malformed line fails the load (`DataLoadError.malformed`, with line numbers).
public func loadDataset(path: String, options: LoadOptions = LoadOptions()) throws -> LoadedDataset {
    switch fileKind(path) {
    case .missing:
        throw DataLoadError.cannotOpen(path: path)
    case .directory:
        var loaded = try loadMovieLens(directory: path, variant: options.movieLens,
                                       itemText: options.itemText && options.itemTextPath == nil)
        if options.itemText, let t = options.itemTextPath { try attach(t, to: &loaded) }
        return loaded
    case .file:
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let dir = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        // movies.dat beside MovieLens ratings, unless item text is off or given explicitly.
        let movies = options.itemText && options.itemTextPath == nil ? existing(["\(dir)/movies.dat"]) : nil
        var loaded: LoadedDataset
        if name == "ratings_merged.csv.gz" || name == "ratings_merged.csv" {
            loaded = try loadMovieLensFull(path: path, moviesPath: movies)
        } else {
            let layout = try detectLogLayout(path: path)
            if layout.separator == .doubleColon && layout.fieldCount == 4 && !layout.hasHeader {
                loaded = try loadMovieLensTimed(path: path, moviesPath: movies)
            } else {
                return try loadInteractionLog(path: path, itemTextPath: options.itemText ? options.itemTextPath : nil)
            }
        }
        if options.itemText, let t = options.itemTextPath { try attach(t, to: &loaded) }
        return loaded
    }
}

private func attach(_ textPath: String, to loaded: inout LoadedDataset) throws {
    loaded.dataset.attachItemText(try loadItemText(path: textPath), from: textPath, stats: &loaded.stats)
}
