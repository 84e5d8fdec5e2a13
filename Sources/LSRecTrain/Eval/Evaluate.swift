import Foundation
import Dispatch

/// Leave-one-out evaluation of `ranker` on `data` (docs/EVALUATION.md).
///
/// For every user with ≥ 3 events (in data-set order; the first `maxUsers` of them if given) the
/// ranker scores all items from the history before the `split` target, with `now` = the target's
/// time. Work is spread over `threads` workers (1 = the calling thread); results are stored per
/// user and summed in user order, so the report does not depend on `threads`.
/// Sampled negatives come from a per-user stream derived from `sampleSeed` and the user index.
public func evaluate(_ ranker: Ranker, on data: Dataset, split: EvalSplit, maxUsers: Int? = nil,
                     threads: Int = 1, sampledNegatives: Int = 100,
                     sampleSeed: UInt64 = 0x5EED_0100) -> EvalReport {
    let clock = ContinuousClock()
    let start = clock.now
    var eligible: [Int] = []
    var trainingOnly = 0
    let rule = LeaveOneOut(data)
    for (u, seq) in data.users.enumerated() {
        if rule.targetIndex(seq, split) != nil { eligible.append(u) } else { trainingOnly += 1 }
    }
    let total = eligible.count
    if let m = maxUsers, m < eligible.count { eligible.removeLast(eligible.count - max(0, m)) }
    let nUsers = eligible.count
    let users = eligible // immutable copy for the workers
    let nItems = data.nItems
    var results = [TargetRanks](repeating: TargetRanks(full: 0, excludingSeen: 0, sampled: 0, negatives: 0),
                                count: nUsers)
    let seedBase = SeedMixer.mix(sampleSeed)

    results.withUnsafeMutableBufferPointer { out in
        let outBase = out.baseAddress!
        // Workers take chunks of users from a shared counter; each writes only its users' slots.
        let lock = NSLock()
        var nextUser = 0
        let chunk = 8
        let work = { (_: Int) in
            var scores = [Float](repeating: 0, count: nItems)
            var scratch = RankScratch(nItems: nItems)
            while true {
                lock.lock()
                let lo = nextUser
                nextUser += chunk
                lock.unlock()
                if lo >= nUsers { break }
                for k in lo..<min(lo + chunk, nUsers) {
                    let u = users[k]
                    let seq = data.users[u]
                    let t = rule.targetIndex(seq, split)!
                    for i in 0..<nItems { scores[i] = 0 }
                    ranker.scores(user: u, history: seq.items[0..<t], timestamps: seq.timestamps[0..<t],
                                  now: seq.timestamps[t], into: &scores)
                    precondition(scores.count == nItems, "Ranker must leave out.count == nItems")
                    var rng = SeededGenerator(seed: seedBase ^ SeedMixer.mix(UInt64(u)))
                    let r = scores.withUnsafeBufferPointer {
                        rankTarget($0, target: Int(seq.items[t]), history: seq.items[0..<t],
                                   sampleCount: sampledNegatives, scratch: &scratch, rng: &rng)
                    }
                    (outBase + k).pointee = r
                }
            }
        }
        let workers = max(1, min(threads, (nUsers + chunk - 1) / chunk))
        if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
    }

    return EvalReport(
        split: split, usersEvaluated: nUsers, usersTrainingOnly: trainingOnly,
        usersSkipped: total - nUsers, nItems: nItems,
        full: RankingMetrics(ranks: results.lazy.map { $0.full }),
        fullExcludingSeen: RankingMetrics(ranks: results.lazy.map { $0.excludingSeen }),
        sampled: RankingMetrics(ranks: results.lazy.map { $0.sampled }),
        sampledNegatives: sampledNegatives,
        usersWithFewerNegatives: results.reduce(0) { $0 + ($1.negatives < sampledNegatives ? 1 : 0) },
        sampleSeed: sampleSeed,
        fullRanks: results.map { $0.full },
        seconds: seconds(clock.now - start))
}
