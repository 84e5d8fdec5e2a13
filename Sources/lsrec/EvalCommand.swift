import ArgumentParser
import LSRecCore
import LSRecFormat
import LSRecTrain

/// `lsrec eval`: leave-one-out, full-ranking evaluation of a weight file, scored through the
/// inference core (the same code the C library serves).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a .lsrec model on interaction data (leave-one-out, full ranking; docs/EVALUATION.md).")

    @Option(help: "The .lsrec weight file.") var model: String
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Split: test (last event per user) or validation (the one before).") var split = "test"
    @Option(help: "Evaluation threads.") var threads = 2
    @Option(help: "Evaluate only the first N evaluable users.") var maxUsers: Int?

    func run() throws {
        guard let sp = EvalSplit(rawValue: split) else { throw ValidationError("--split must be test or validation") }
        // Users are spread over --threads workers; a multi-threaded BLAS inside each small product
        // only spin-waits (on a loaded machine an evaluation took 20+ minutes instead of ~1).
        setBLASThreads(1)
        let m: Model
        do { m = try Model(path: model) } catch let e as LSRecError { throw ValidationError("\(model): \(e)") }
        let loaded = try dataOptions.load()
        let r = ranker(for: m, dataItemIDs: loaded.dataset.itemIDs)
        if let c = r as? CatalogRanker {
            print("note: the model knows \(c.known) of the data's \(loaded.dataset.nItems) items; unknown items score -inf")
        }
        var report = evaluate(r, on: loaded.dataset, split: sp, maxUsers: maxUsers, threads: threads)
        report.title = "\(model) on \(loaded.dataset.description)"
        print(report.table())
        if let t = TimingBreakdown(report: report, data: loaded.dataset) { print(t.table()) }
        // A model trained under the cold-start protocol: its held-out items' targets separately.
        let coldIDs: [Int64]?
        do { coldIDs = try ColdItems.recordedIDs(in: m) } catch { throw ValidationError("\(model): \(error)") }
        if let coldIDs {
            let cold = ColdItems(itemIDs: loaded.dataset.itemIDs, coldIDs: coldIDs)
            let data = maxUsers.map { n in
                var d = loaded.dataset
                let rule = LeaveOneOut(d)
                d.users = Array(d.users.filter { rule.targetIndex($0, sp) != nil }.prefix(max(0, n)))
                return d
            } ?? loaded.dataset
            let cr = evaluateColdStart(r, on: data, cold: cold, split: sp, threads: threads)
            print("\nCold-start protocol: \(coldIDs.count) items were held out of training (train.cold_items), "
                  + "\(cold.count) of them in this data. Histories are replayed unchanged (events on cold items "
                  + "go through the model's new-item vectors); targets are ranked against all items.\n")
            print(cr.tables(modelName: model))
        }
    }
}
