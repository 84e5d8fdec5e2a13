/// Variable-length sequences packed back to back, one row per event, with no padding.
///
/// Packing replaces the reference implementation's left padding + padding mask: a sequence's rows
/// attend only to earlier rows of the same sequence (the causal mask inside each sequence), and
/// position indices count from the end (row j of a length-L sequence gets position n − L + j),
/// which is exactly the position a left-padded length-n window gives it. Valid positions thus
/// compute the same values as with padding and masking, without spending work on pad rows.
struct SASRecBatch: Sendable {
    var items: [Int32] = []
    var positions: [Int32] = []
    /// Next-item target per row (training); empty when scoring.
    var targets: [Int32] = []
    /// One sampled negative per row (binary cross-entropy only).
    var negatives: [Int32] = []
    /// Row offsets of the sequences: sequence s is rows seqStart[s]..<seqStart[s+1].
    var seqStart: [Int] = [0]

    var rows: Int { items.count }
    var sequences: Int { seqStart.count - 1 }

    /// Appends one sequence (at most `maxLength` rows; the caller truncates).
    mutating func append<S: Collection>(_ input: S, targets t: S?, maxLength: Int) where S.Element == Int32 {
        let L = input.count
        precondition(L >= 1 && L <= maxLength, "sequence length \(L) outside 1...\(maxLength)")
        for (j, item) in input.enumerated() {
            items.append(item)
            positions.append(Int32(maxLength - L + j))
        }
        if let t { precondition(t.count == L); targets.append(contentsOf: t) }
        seqStart.append(items.count)
    }
}

/// The SASRec training data: per user with ≥ 2 training events (leave-one-out prefix, so the
/// validation and test events are never seen), the (input, target) pairs of the last `maxLength`
/// steps: inputs e₀…e_{m−2} → targets e₁…e_{m−1}.
struct SASRecTrainingData: Sendable {
    /// Per trainable user: its last (≤ maxLength + 1) training events.
    let sequences: [[Int32]]
    /// Per trainable user: its sorted distinct training items (to reject negatives).
    let seen: [[Int32]]
    let maxLength: Int
    /// Σ rows of one epoch (= targets per epoch).
    let rowsPerEpoch: Int

    init(dataset: Dataset, maxLength: Int) {
        var seqs: [[Int32]] = [], seen: [[Int32]] = [], rows = 0
        let rule = LeaveOneOut(dataset)
        for u in dataset.users {
            let train = u.items.prefix(rule.trainingCount(u))
            guard train.count >= 2 else { continue }
            let window = Array(train.suffix(maxLength + 1))
            seqs.append(window)
            seen.append(Array(Set(train)).sorted())
            rows += window.count - 1
        }
        sequences = seqs
        self.seen = seen
        self.maxLength = maxLength
        rowsPerEpoch = rows
    }

    var count: Int { sequences.count }

    /// A batch of the given sequences; with `negativesFrom` (nItems, rng), one negative per row
    /// drawn uniformly from the items the user has no training event with.
    func batch<G: RandomNumberGenerator>(_ which: ArraySlice<Int>, negativesFrom nItems: Int? = nil,
                                         rng: inout G) -> SASRecBatch {
        var b = SASRecBatch()
        for s in which {
            let seq = sequences[s]
            b.append(seq.dropLast(), targets: seq.dropFirst(), maxLength: maxLength)
            if let n = nItems {
                let pos = seen[s]
                precondition(pos.count < n, "a user has every item; no negative exists")
                for _ in 1..<seq.count {
                    var j = Int32(rng.index(below: n))
                    while sasSortedContains(pos, j) { j = Int32(rng.index(below: n)) }
                    b.negatives.append(j)
                }
            }
        }
        return b
    }
}

@inline(__always)
func sasSortedContains(_ sorted: [Int32], _ x: Int32) -> Bool {
    var lo = 0, hi = sorted.count
    while lo < hi {
        let mid = (lo + hi) >> 1
        if sorted[mid] < x { lo = mid + 1 } else { hi = mid }
    }
    return lo < sorted.count && sorted[lo] == x
}
