import ArgumentParser
import Foundation
import LSRecTrain

/// Where interaction data comes from, shared by eval and recommend.
struct DataOptions: ParsableArguments {
    @Option(help: "An ML-1M directory (ml-1m-timed by default), a ratings file, or a CSV/TSV log user,item,timestamp[,rating] (.gz ok).")
    var data: String
    @Flag(help: "For an ML-1M directory: ml-1m-full (all 6,040 users; untimed ratings ordered first) instead of ml-1m-timed.")
    var full = false
    @Option(help: "Item text file (movies.dat, or item_id<TAB>text).")
    var itemText: String?

    /// Loads the data, printing the load statistics to stderr.
    func load(quiet: Bool = false) throws -> LoadedDataset {
        do {
            let loaded = try loadDataset(path: data, options: LoadOptions(movieLens: full ? .full : .timed, itemTextPath: itemText))
            if !quiet { FileHandle.standardError.write(Data("\(loaded.stats)\n".utf8)) }
            return loaded
        } catch let e as DataLoadError {
            throw ValidationError("\(e)")
        }
    }
}
