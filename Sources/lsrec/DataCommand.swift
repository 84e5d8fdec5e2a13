import ArgumentParser
import Foundation
import LSRecTrain

/// `lsrec data`: loads a data set, prints what was read and kept and the leave-one-out split,
/// and optionally evaluates the MostPopular and BPR-MF baselines on it.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Load interaction data, print load statistics and split counts; optionally run the baselines.")

    @Argument(help: "An ML-1M directory (ml-1m-timed by default), a ratings file, or a CSV/TSV log (.gz ok).")
    var path: String
    @Flag(help: "For an ML-1M directory: load ml-1m-full (all users; untimed ratings first) instead of ml-1m-timed.")
    var full = false
    @Option(help: "Item text file (movies.dat or item_id<TAB>text).") var itemText: String?
    @Flag(help: "Evaluate MostPopular and BPR-MF (full ranking, leave-one-out).") var baselines = false
    @Option(help: "Split to evaluate: test or validation.") var split = "test"
    @Option(help: "Evaluation threads.") var threads = 2
    @Option(help: "Evaluate only the first N evaluable users.") var maxUsers: Int?
    @Option(help: "BPR-MF factor width.") var bprDim = BPRMF.Config().dim
    @Option(help: "BPR-MF epochs.") var bprEpochs = BPRMF.Config().epochs
    @Option(help: "BPR-MF SGD learning rate.") var bprLr = BPRMF.Config().learningRate
    @Option(help: "BPR-MF L2 regularisation.") var bprReg = BPRMF.Config().regularization
    @Option(help: "BPR-MF seed.") var seed: UInt64 = BPRMF.Config().seed

    func run() throws {
        guard let sp = EvalSplit(rawValue: split) else { throw ValidationError("--split must be test or validation") }
        let loaded: LoadedDataset
        do {
            loaded = try loadDataset(path: path, options: LoadOptions(movieLens: full ? .full : .timed, itemTextPath: itemText))
        } catch let e as DataLoadError {
            throw ValidationError("\(e)")
        }
        print(loaded.stats)
        let data = loaded.dataset
        print(LeaveOneOut.counts(data))
        guard baselines else { return }

        var pop = evaluate(MostPopular(data: data), on: data, split: sp, maxUsers: maxUsers, threads: threads)
        pop.title = "MostPopular on \(loaded.stats.format)"
        print("\n" + pop.table())

        var c = BPRMF.Config()
        c.dim = bprDim; c.epochs = bprEpochs; c.learningRate = bprLr; c.regularization = bprReg; c.seed = seed
        let start = Date()
        let bpr = BPRMF(data: data, config: c) { e, loss in
            if e == 1 || e % 5 == 0 || e == c.epochs { print("BPR-MF epoch \(e): loss \(String(format: "%.4f", loss))") }
        }
        print(String(format: "BPR-MF trained in %.1f s", Date().timeIntervalSince(start)))
        var rep = evaluate(bpr, on: data, split: sp, maxUsers: maxUsers, threads: threads)
        rep.title = "BPR-MF (d=\(c.dim), \(c.epochs) epochs, lr \(c.learningRate), reg \(c.regularization)) on \(loaded.stats.format)"
        print("\n" + rep.table())
    }
}
