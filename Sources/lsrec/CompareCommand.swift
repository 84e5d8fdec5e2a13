import ArgumentParser
import Foundation
import LSRecCore
import LSRecFormat
import LSRecTrain

/// `lsrec compare`: every model of the ablation table on one data set, one split and one
/// protocol (leave-one-out, full ranking), printed side by side in both exclusion modes.
/// The lsrec models are scored through LSRecCore (the inference code the library serves).
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Train and evaluate MostPopular, BPR-MF, SASRec, LSTM-only, attention-only and the fused model; print one table.",
        discussion: """
        All models see the same leave-one-out split (last event = test, the one before = \
        validation); the neural models stop early on validation NDCG@10. Test metrics rank the \
        target against all items, once with already-seen items kept and once excluded. \
        --models picks a subset (comma-separated: pop,bpr,sasrec,short,long,gate). With --out-dir \
        the three lsrec models are written there as <name>.lsrec.
        """)

    @Option(help: "Interaction data: an ML-1M directory (ml-1m-timed), or a log file.") var data: String
    @Flag(help: "For an ML-1M directory: ml-1m-full (all users; untimed ratings first, stable) instead of ml-1m-timed.")
    var full = false
    @Option(help: "Models to run, comma-separated: pop,bpr,sasrec,short,long,gate.") var models = "pop,bpr,sasrec,short,long,gate"
    @Option(help: "Width d of the lsrec models (short, long, gate).") var dim = TrainConfig().dim
    @Option(help: "Width of SASRec (its FFN too). 64 by default: at 128 with its default learning rate it did not train on ml-1m-timed (BENCHMARKS.md).")
    var sasrecDim = SASRecConfig().dim
    @Option(help: "Adam learning rate of SASRec.") var sasrecLr = SASRecConfig().learningRate
    @Option(help: "Maximum epochs of the lsrec models (short, long, gate).") var epochs = TrainConfig().epochs
    @Option(help: "Maximum epochs of SASRec.") var sasrecEpochs = SASRecConfig().maxEpochs
    @Option(help: "Maximum epochs of BPR-MF.") var bprEpochs = BPRMF.Config().epochs
    @Flag(help: "Train the lsrec models (short, long, gate) with the repeat term (see `lsrec train --help`).")
    var repeatBias = false
    @Option(help: "Random seed for every model.") var seed: UInt64 = TrainConfig().seed
    @Option(help: "Worker threads (training and evaluation).") var threads = TrainConfig().threads
    @Option(help: "Validate on the first N evaluable users only (default: all).") var valUsers: Int?
    @Option(help: "Use only the first N users of the data (quick runs).") var maxUsers: Int?
    @Option(help: "Write the trained lsrec models into this directory.") var outDir: String?
    @Flag(help: "Print only the final table.") var quiet = false

    func run() throws {
        let known: Set<String> = ["pop", "bpr", "sasrec", "short", "long", "gate"]
        let chosen = models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let unknown = chosen.filter { !known.contains($0) }
        guard !chosen.isEmpty, unknown.isEmpty else {
            throw ValidationError("--models: unknown \(unknown); choose from pop,bpr,sasrec,short,long,gate")
        }
        guard (1...4096).contains(sasrecDim) else { throw ValidationError("--sasrec-dim must be in 1...4096") }
        guard sasrecLr.isFinite && sasrecLr > 0 else { throw ValidationError("--sasrec-lr must be a positive number") }
        func say(_ s: String) { if !quiet { print(s); fflush(stdout) } }

        var loaded: LoadedDataset
        do {
            loaded = try loadDataset(path: data, options: LoadOptions(movieLens: full ? .full : .timed, itemText: TrainConfig().textDim > 0))
        } catch let e as DataLoadError {
            throw ValidationError("\(e)")
        }
        if let m = maxUsers { loaded.dataset.users = Array(loaded.dataset.users.prefix(max(0, m))) }
        let ds = loaded.dataset
        say("\(loaded.stats)\n\(LeaveOneOut.counts(ds))")

        var rows: [(name: String, report: EvalReport, seconds: Double)] = []
        func record(_ name: String, _ start: Date, _ report: EvalReport) {
            let secs = Date().timeIntervalSince(start)
            rows.append((name, report, secs))
            say(String(format: "%@: test NDCG@10 %.4f HR@10 %.4f (%.0f s)", name, report.full.ndcg10, report.full.hr10, secs))
            if let t = TimingBreakdown(report: report, data: ds) { say("  " + t.summary()) }
        }
        for name in chosen {
            let start = Date()
            switch name {
            case "pop":
                record("MostPopular", start, evaluate(MostPopular(data: ds), on: ds, split: .test, threads: threads))
            case "bpr":
                var c = BPRMF.Config()
                c.epochs = bprEpochs; c.seed = seed
                let bpr = BPRMF(data: ds, config: c) { _, _ in }
                record("BPR-MF", start, evaluate(bpr, on: ds, split: .test, threads: threads))
            case "sasrec":
                var c = SASRecConfig()
                c.maxEpochs = sasrecEpochs; c.dim = sasrecDim; c.ffnDim = sasrecDim; c.learningRate = sasrecLr; c.seed = seed; c.threads = threads; c.validationUsers = valUsers
                let m = trainSASRec(ds, config: c) { say("  sasrec " + $0) }
                record("SASRec (2 blocks, full softmax)", start, m.evaluate(on: ds, split: .test, threads: threads))
            default:
                let fusion = Fusion(rawValue: name)!  // `known` holds only valid names here
                var c = TrainConfig()
                c.fusion = fusion; c.dim = dim; c.epochs = epochs; c.seed = seed; c.threads = threads; c.validationUsers = valUsers
                c.repeatBias = repeatBias
                do { try c.validate() } catch { throw ValidationError("\(error)") }
                let trainer = try Trainer(dataset: ds, config: c)
                try trainer.run { r in
                    say(String(format: "  %@ epoch %d: loss %.4f, val NDCG@10 %.4f", name, r.epoch, r.trainLoss, r.valNDCG10))
                }
                let bytes = try trainer.exportBytes()
                if let dir = outDir {
                    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                    try FileIO.writeAtomically(bytes, to: dir + "/\(name).lsrec")
                }
                let label = ["short": "LSTM only (short-term)", "long": "attention only (long-term)",
                             "gate": "lsrec fused (gate)"][name]!
                record(label, start, evaluate(CoreRanker(model: try Model(bytes: bytes)), on: ds, split: .test, threads: threads))
            }
        }
        print("\n" + Self.table(rows, dataset: loaded.stats.format))
    }

    /// The comparison as a Markdown table: test split, full ranking, seen items kept and excluded.
    static func table(_ rows: [(name: String, report: EvalReport, seconds: Double)], dataset: String) -> String {
        var s = "Test split of \(dataset), leave-one-out, full ranking over all items\n\n"
        s += "| model | NDCG@10 | HR@10 | NDCG@50 | HR@50 | MRR | NDCG@10 (seen excl.) | HR@10 (seen excl.) | time (s) |\n"
        s += "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for r in rows {
            let f = r.report.full, x = r.report.fullExcludingSeen
            s += String(format: "| %@ | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.0f |\n",
                        r.name, f.ndcg10, f.hr10, f.ndcg50, f.hr50, f.mrr, x.ndcg10, x.hr10, r.seconds)
        }
        return s
    }
}
