/// Cold-start evaluation (docs/EVALUATION.md, "Cold-start items"): the users whose leave-one-out
/// target is a held-out item, ranked by full ranking against all items exactly like every other
/// evaluation. Their histories are replayed unchanged, events on cold items included: a model
/// scores those through its cold rows (the new-item vectors a host would add), so the numbers are
/// what a host serving the same catalogue gets.
extension Dataset {
    /// The users whose `split` target item satisfies `keep` (users without a target are dropped),
    /// with their full sequences; items and text unchanged.
    public func keepingUsers(split: EvalSplit, where keep: (Int32) -> Bool) -> Dataset {
        var d = self
        let rule = LeaveOneOut(self)
        d.users = users.filter { u in
            rule.targetIndex(u, split).map { keep(u.items[$0]) } ?? false
        }
        return d
    }
}

extension MostPopular {
    /// MostPopular trained without the cold items: counts over training prefixes with every cold
    /// event removed, so a cold item scores 0 (what popularity knows about an item it never saw).
    public init(data: Dataset, excluding cold: ColdItems) {
        var c = [Float](repeating: 0, count: data.nItems)
        let rule = LeaveOneOut(data)
        for u in data.users {
            for i in u.items.prefix(rule.trainingCount(u)) where cold.isEmpty || !cold.mask[Int(i)] {
                c[Int(i)] += 1
            }
        }
        self.init(counts: c)
    }
}

/// A ranker restricted to some items: the others score -∞, so a target among the allowed items
/// is ranked against the allowed items only. Used for "which of the new items suits this user",
/// the question a host that has just added items to a catalogue asks.
public struct RestrictedRanker: Ranker {
    public let base: Ranker
    /// `allowed[i]` is true for items that stay in the ranking; count = nItems.
    public let allowed: [Bool]
    public init(_ base: Ranker, allowed: [Bool]) { self.base = base; self.allowed = allowed }

    public func scores(user: Int, history: ArraySlice<Int32>, timestamps: ArraySlice<Int64>, now: Int64,
                       into out: inout [Float]) {
        base.scores(user: user, history: history, timestamps: timestamps, now: now, into: &out)
        for i in out.indices where !allowed[i] { out[i] = -.infinity }
    }
}

/// The model and the popularity baseline on cold targets, and the model on the others.
public struct ColdStartReport: Sendable {
    /// Held-out items in the data's catalogue.
    public var coldItems: Int
    /// The model on users whose target is a cold item.
    public var model: EvalReport
    /// MostPopular trained without the cold items, same users.
    public var popularity: EvalReport
    /// The model on the remaining users (warm targets).
    public var warm: EvalReport
    /// The model on cold targets ranked among the cold items only (secondary: which new item
    /// suits this user). A ranker without text ties every cold item; chance HR@10 = 10 / coldItems.
    public var amongCold: EvalReport

    /// Markdown tables with titles.
    public func tables(modelName: String) -> String {
        var m = model, p = popularity, w = warm, c = amongCold
        m.title = "\(modelName), cold-item targets (\(model.usersEvaluated) users, \(coldItems) cold items)"
        p.title = "MostPopular trained without the cold items, cold-item targets"
        w.title = "\(modelName), warm targets (\(warm.usersEvaluated) users)"
        c.title = "\(modelName), cold-item targets ranked among the \(coldItems) cold items only (secondary; "
            + "chance HR@10 = \(String(format: "%.4f", 10 / Double(max(coldItems, 1)))); tied scores rank the target last)"
        return [m.table(), p.table(), w.table(), c.table()].joined(separator: "\n")
    }
}

/// Evaluates `ranker` on the users whose `split` target is in `cold` (and on the others), plus
/// MostPopular trained without the cold items on the cold-target users.
public func evaluateColdStart(_ ranker: Ranker, on data: Dataset, cold: ColdItems, split: EvalSplit,
                              threads: Int = 1) -> ColdStartReport {
    precondition(cold.mask.count == data.nItems, "cold items must be indexed like the data")
    let coldUsers = data.keepingUsers(split: split) { cold.mask[Int($0)] }
    let warmUsers = data.keepingUsers(split: split) { !cold.mask[Int($0)] }
    return ColdStartReport(
        coldItems: cold.count,
        model: evaluate(ranker, on: coldUsers, split: split, threads: threads),
        popularity: evaluate(MostPopular(data: data, excluding: cold), on: coldUsers, split: split, threads: threads),
        warm: evaluate(ranker, on: warmUsers, split: split, threads: threads),
        amongCold: evaluate(RestrictedRanker(ranker, allowed: cold.mask), on: coldUsers, split: split, threads: threads))
}
