import Foundation

/// The headline metrics (full ranking, seen kept) split by whether the user's history before the
/// target is entirely timed. ml-1m-full mixes the two kinds: its 2,144 partly timed users have
/// untimed early events placed first in file order, so a single number hides which kind the
/// model serves worse.
public struct TimingBreakdown: Sendable {
    /// Users whose every history event has a timestamp.
    public var timed: RankingMetrics
    /// Users with at least one untimed history event.
    public var partlyTimed: RankingMetrics

    /// nil when every evaluated user falls in one group (nothing to split).
    public init?(report: EvalReport, data: Dataset) {
        var timedRanks: [Int32] = [], partlyRanks: [Int32] = []
        var k = 0
        let rule = LeaveOneOut(data)
        for seq in data.users {
            guard k < report.fullRanks.count else { break }
            guard let t = rule.targetIndex(seq, report.split) else { continue }
            if seq.timestamps[0..<t].contains(where: { $0 < 0 }) {
                partlyRanks.append(report.fullRanks[k])
            } else {
                timedRanks.append(report.fullRanks[k])
            }
            k += 1
        }
        guard !timedRanks.isEmpty, !partlyRanks.isEmpty else { return nil }
        timed = RankingMetrics(ranks: timedRanks)
        partlyTimed = RankingMetrics(ranks: partlyRanks)
    }

    /// One line for progress output: each group's user count, NDCG@10 and HR@10.
    public func summary() -> String {
        String(format: "every history event timed (%d users): NDCG@10 %.4f HR@10 %.4f; some untimed (%d): NDCG@10 %.4f HR@10 %.4f",
               timed.users, timed.ndcg10, timed.hr10, partlyTimed.users, partlyTimed.ndcg10, partlyTimed.hr10)
    }

    /// A markdown table: users, HR@10, NDCG@10, HR@50, MRR per group.
    public func table() -> String {
        var s = "By history timing (full ranking, seen kept):\n\n"
        s += "| users | count | HR@10 | NDCG@10 | HR@50 | MRR |\n|---|---:|---:|---:|---:|---:|\n"
        for (name, m) in [("every history event timed", timed), ("some history events untimed", partlyTimed)] {
            s += "| \(name) | \(m.users) | " + [m.hr10, m.ndcg10, m.hr50, m.mrr].map { String(format: "%.4f", $0) }.joined(separator: " | ") + " |\n"
        }
        return s
    }
}
