#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

/// Leave-one-out ranking metrics, each the mean over evaluated users of a per-user value computed
/// from the 1-based rank r of the single target (docs/EVALUATION.md):
/// HR@K = [r ≤ K]; NDCG@K = [r ≤ K] / log2(r + 1); MRR = 1 / r;
/// precision@10 = HR@10 / 10; recall@10 = HR@10; F1@10 = 2PR / (P + R) = HR@10 · 2/11.
public struct RankingMetrics: Sendable, Equatable {
    public var users = 0
    public var hr10 = 0.0
    public var ndcg10 = 0.0
    public var hr50 = 0.0
    public var ndcg50 = 0.0
    public var mrr = 0.0
    public var precision10 = 0.0
    public var recall10 = 0.0
    public var f1at10 = 0.0
    public var meanRank = 0.0
    public var medianRank = 0.0

    public init() {}

    /// Metrics of a list of ranks, summed in the given order (deterministic).
    public init<S: Sequence>(ranks: S) where S.Element: BinaryInteger {
        var all: [Int] = []
        for r in ranks {
            let r = Int(r)
            precondition(r >= 1, "ranks are 1-based")
            all.append(r)
            let hit10 = r <= 10 ? 1.0 : 0.0
            let dcg = 1 / log2(Double(r) + 1)
            hr10 += hit10
            ndcg10 += r <= 10 ? dcg : 0
            hr50 += r <= 50 ? 1 : 0
            ndcg50 += r <= 50 ? dcg : 0
            mrr += 1 / Double(r)
            meanRank += Double(r)
            let p = hit10 / 10, rec = hit10
            f1at10 += p + rec > 0 ? 2 * p * rec / (p + rec) : 0
        }
        users = all.count
        guard users > 0 else { return }
        let n = Double(users)
        hr10 /= n; ndcg10 /= n; hr50 /= n; ndcg50 /= n; mrr /= n; meanRank /= n; f1at10 /= n
        precision10 = hr10 / 10
        recall10 = hr10
        all.sort()
        medianRank = all.count % 2 == 1 ? Double(all[all.count / 2])
            : Double(all[all.count / 2 - 1] + all[all.count / 2]) / 2
    }
}
