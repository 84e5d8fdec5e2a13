import Foundation

/// The result of `evaluate`: full-ranking metrics in both exclusion modes (the headline is
/// "seen kept"), the secondary sampled-100 metrics, and the counts behind them.
public struct EvalReport: Sendable {
    /// Free text shown above the table (e.g. the ranker's name); `evaluate` leaves it empty.
    public var title = ""
    public var split: EvalSplit
    /// Users whose target was ranked.
    public var usersEvaluated: Int
    /// Users without a target (< 3 events, or in a data set with timestamps last two events not
    /// both timed): in training only, never evaluated.
    public var usersTrainingOnly: Int
    /// Evaluable users left out by `maxUsers`.
    public var usersSkipped: Int
    public var nItems: Int
    /// HEADLINE. Rank among all items, items already in the history kept.
    public var full: RankingMetrics
    /// Rank among all items except those in the history (the target itself is never excluded).
    public var fullExcludingSeen: RankingMetrics
    /// SECONDARY. Rank among the target and `sampledNegatives` unseen items sampled uniformly.
    public var sampled: RankingMetrics
    public var sampledNegatives: Int
    /// Users that had fewer unseen items than `sampledNegatives` (all of theirs were used).
    public var usersWithFewerNegatives: Int
    public var sampleSeed: UInt64
    /// Per evaluated user (in data-set order): the full rank with seen items kept, for paired tests.
    public var fullRanks: [Int32]
    /// Wall time, seconds.
    public var seconds: Double

    /// A markdown table of every metric.
    public func table() -> String {
        var s = ""
        if !title.isEmpty { s += "### \(title)\n\n" }
        s += "\(split.rawValue) split: \(usersEvaluated) users evaluated"
        if usersSkipped > 0 { s += " (\(usersSkipped) more not evaluated: maxUsers)" }
        s += ", \(usersTrainingOnly) users without a target in training only; \(nItems) items; "
        s += String(format: "%.2f s\n\n", seconds)
        s += "| metric | full, seen kept (headline) | full, seen excluded | sampled-\(sampledNegatives) (secondary) |\n"
        s += "|---|---:|---:|---:|\n"
        func row(_ name: String, _ f: (RankingMetrics) -> Double, sampled show: Bool = true, digits: Int = 4) {
            let fmt = "%.\(digits)f"
            s += "| \(name) | \(String(format: fmt, f(full))) | \(String(format: fmt, f(fullExcludingSeen))) | "
            s += (show ? String(format: fmt, f(sampled)) : "–") + " |\n"
        }
        row("HR@10", { $0.hr10 })
        row("NDCG@10", { $0.ndcg10 })
        row("HR@50", { $0.hr50 }, sampled: false)
        row("NDCG@50", { $0.ndcg50 }, sampled: false)
        row("MRR", { $0.mrr })
        row("Precision@10", { $0.precision10 }, sampled: false)
        row("Recall@10", { $0.recall10 }, sampled: false)
        row("F1@10", { $0.f1at10 }, sampled: false)
        row("mean rank", { $0.meanRank }, digits: 1)
        row("median rank", { $0.medianRank }, digits: 1)
        s += "\nSampled-\(sampledNegatives): rank among the target and \(sampledNegatives) items sampled "
        s += "uniformly from the user's unseen items (seed 0x\(String(sampleSeed, radix: 16))); not comparable with full ranking."
        if usersWithFewerNegatives > 0 { s += " \(usersWithFewerNegatives) users had fewer unseen items." }
        s += " Ties rank the target below equal-scored items of lower index.\n"
        return s
    }
}
