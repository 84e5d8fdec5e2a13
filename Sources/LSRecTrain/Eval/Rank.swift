/// Rank of a target among scores, with the tie rule of docs/EVALUATION.md:
/// rank = 1 + #{j : s_j > s_t} + #{j < t : s_j = s_t}, i.e. ties are broken against the target
/// by item index (an item with an equal score and a lower index is ranked above it).
/// NaN scores never rank above anything; a NaN target score counts as −∞.

/// Whether item `j` (score `v`) is ranked above target `t` (score `st`).
@inline(__always)
func outranks(_ v: Float, _ j: Int, _ st: Float, _ t: Int) -> Bool {
    v > st || (v == st && j < t)
}

/// 1-based rank of `target` among all of `scores`.
public func fullRank(_ scores: UnsafeBufferPointer<Float>, target t: Int) -> Int {
    let st = scores[t].isNaN ? -Float.infinity : scores[t]
    var above = 0
    // Two branch-free loops instead of one with the index test: the compiler vectorises these.
    for j in 0..<t where scores[j] >= st { above += 1 }
    for j in (t + 1)..<scores.count where scores[j] > st { above += 1 }
    return above + 1
}

/// Convenience overload for arrays.
public func fullRank(_ scores: [Float], target: Int) -> Int {
    scores.withUnsafeBufferPointer { fullRank($0, target: target) }
}

/// Per-thread scratch for rank computation: a stamp per item marks "seen by the current user"
/// without clearing an N-sized array per user.
struct RankScratch {
    var mark: [UInt32]
    var stamp: UInt32 = 0
    init(nItems: Int) { mark = [UInt32](repeating: 0, count: nItems) }

    mutating func next() -> UInt32 {
        if stamp == UInt32.max { // wrap: clear once every 4 billion users
            for i in mark.indices { mark[i] = 0 }
            stamp = 0
        }
        stamp += 1
        return stamp
    }
}

/// The three ranks `evaluate` records for one target.
struct TargetRanks {
    var full: Int32
    /// Among items not in the history (the target itself is always kept).
    var excludingSeen: Int32
    /// Among the target and `negatives` unseen items sampled uniformly.
    var sampled: Int32
    var negatives: Int32
}

/// Ranks of `target` given the user's `history`: full, with seen items excluded, and against
/// `sampleCount` sampled unseen negatives (fewer if fewer unseen items exist), drawn with `rng`.
func rankTarget<G: RandomNumberGenerator>(_ scores: UnsafeBufferPointer<Float>, target t: Int,
                                          history: ArraySlice<Int32>, sampleCount: Int,
                                          scratch: inout RankScratch, rng: inout G) -> TargetRanks {
    let n = scores.count
    let full = fullRank(scores, target: t)
    let st = scores[t].isNaN ? -Float.infinity : scores[t]
    let stamp = scratch.next()
    var seenAbove = 0
    var distinctSeen = 0
    scratch.mark.withUnsafeMutableBufferPointer { mark in
        for h in history {
            let j = Int(h)
            if mark[j] != stamp {
                mark[j] = stamp
                distinctSeen += 1
                if j != t && outranks(scores[j], j, st, t) { seenAbove += 1 }
            }
        }
    }
    // Sampled negatives: unseen and not the target.
    let targetSeen = scratch.mark[t] == stamp
    scratch.mark[t] = stamp
    let available = n - distinctSeen - (targetSeen ? 0 : 1)
    var sampledAbove = 0
    var drawn = 0
    scratch.mark.withUnsafeMutableBufferPointer { mark in
        if available <= sampleCount { // take every unseen item
            for j in 0..<n where mark[j] != stamp {
                drawn += 1
                if outranks(scores[j], j, st, t) { sampledAbove += 1 }
            }
        } else {
            while drawn < sampleCount { // rejection sampling without replacement
                let j = rng.index(below: n)
                if mark[j] == stamp { continue }
                mark[j] = stamp
                drawn += 1
                if outranks(scores[j], j, st, t) { sampledAbove += 1 }
            }
        }
    }
    return TargetRanks(full: Int32(full), excludingSeen: Int32(full - seenAbove),
                       sampled: Int32(sampledAbove + 1), negatives: Int32(drawn))
}
