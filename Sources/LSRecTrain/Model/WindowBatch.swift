import LSRecCore

/// One truncated-BPTT window for `lanes` users side by side: `steps` events per lane.
/// Row r = τ·lanes + b (step-major, so each LSTM step is a contiguous block of rows).
///
/// Attention for the row at window step τ looks at history slots `attnLo[r] … L−1+τ` of its
/// lane; slot s of lane b holds the item of lane-time `windowStart − (L−1) + s` (`hist`,
/// −1 = nothing), so the L−1 events before the window still serve as keys and values.
public struct WindowBatch: Sendable {
    public let lanes: Int
    public let steps: Int
    public let history: Int
    /// Slots per lane: L − 1 + W.
    public var histLen: Int { history - 1 + steps }
    public var rows: Int { lanes * steps }

    /// Row is a real event (inactive rows are padding: no loss, no gradient).
    public var active: [Bool]
    /// Input item of the row's event.
    public var item: [Int32]
    public var gapBucket: [Int32]
    /// Bucket of the request time used for this row's prediction.
    public var requestBucket: [Int32]
    /// Item to predict, −1 for none.
    public var target: [Int32]
    /// false where a new user starts (h, c reset to 0 before the step).
    public var keep: [Bool]
    /// First attended history slot.
    public var attnLo: [Int32]
    /// lanes × histLen item indices, −1 = empty slot.
    public var hist: [Int32]

    public init(lanes: Int, steps: Int, history: Int) {
        self.lanes = lanes; self.steps = steps; self.history = history
        let r = lanes * steps
        active = [Bool](repeating: false, count: r)
        item = [Int32](repeating: 0, count: r)
        gapBucket = [Int32](repeating: 0, count: r)
        requestBucket = [Int32](repeating: 0, count: r)
        target = [Int32](repeating: -1, count: r)
        keep = [Bool](repeating: false, count: r)
        attnLo = [Int32](repeating: 0, count: r)
        hist = [Int32](repeating: -1, count: lanes * (history - 1 + steps))
    }

    /// Marks every row inactive and empties the history.
    public mutating func clear() {
        for r in 0..<rows {
            active[r] = false; item[r] = 0; gapBucket[r] = 0; requestBucket[r] = 0
            target[r] = -1; keep[r] = false; attnLo[r] = Int32(history - 1 + r / lanes + 1)
        }
        for i in hist.indices { hist[i] = -1 }
    }

    /// Rows with a prediction target.
    public var targetCount: Int { target.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }

    /// A single-lane batch replaying a user's history (unix times, −1 = unknown) with request
    /// time `now` (−1 = unknown) on the last row; buckets exactly as the inference core forms them.
    public static func replay(items: [Int32], timestamps: [Int64], now: Int64, history: Int, timeBuckets: Int) -> WindowBatch {
        var gaps: [Int32] = []
        var last: Int64 = -1
        for s in timestamps {
            gaps.append(Int32(timeBucket((s >= 0 && last >= 0) ? s - last : nil, buckets: timeBuckets)))
            if s >= 0 { last = s }
        }
        let req = Int32(timeBucket((now >= 0 && last >= 0) ? now - last : nil, buckets: timeBuckets))
        return replay(items: items, gapBuckets: gaps, requestBucket: req, history: history)
    }

    /// A single-lane batch that replays one whole history (no targets): the trainer's own
    /// forward for scoring, used by parity tests. `requestBucket` applies to the last event.
    public static func replay(items: [Int32], gapBuckets: [Int32], requestBucket: Int32, history: Int) -> WindowBatch {
        let n = items.count
        precondition(n >= 1)
        var b = WindowBatch(lanes: 1, steps: n, history: history)
        b.clear()
        for p in 0..<n {
            b.active[p] = true
            b.item[p] = items[p]
            b.gapBucket[p] = gapBuckets[p]
            b.keep[p] = p > 0
            let slot = history - 1 + p
            b.hist[slot] = items[p]
            b.attnLo[p] = Int32(slot - min(p + 1, history) + 1)
        }
        b.requestBucket[n - 1] = requestBucket
        return b
    }
}

/// Feeds users to lanes: each lane plays its queue of users back to back (a new user resets
/// h, c through `keep`), so windows stay full whatever the sequence lengths.
public struct LaneScheduler: Sendable {
    let seqs: TrainingSequences
    var queues: [[Int32]]
    var queuePos: [Int]
    /// Current sequence of each lane (−1 = none left) and its next context position.
    var current: [Int]
    var position: [Int]
    /// Targets of the most loaded lane: the epoch takes ⌈this / W⌉ windows.
    public let maxLaneTargets: Int

    /// Assigns the sequences in `order` to `lanes` lanes, balancing the work: the longest
    /// 2·lanes go first (largest first) to the least loaded lane, then the rest in `order`;
    /// finally each lane's queue is shuffled so long users are not synchronised.
    public init<G: RandomNumberGenerator>(sequences: TrainingSequences, lanes: Int, order: [Int], rng: inout G) {
        seqs = sequences
        let steps = { (s: Int) in sequences.length[s] - 1 }
        let nLong = min(order.count, 2 * lanes)
        let byLength = order.enumerated().sorted { a, b in
            steps(a.element) != steps(b.element) ? steps(a.element) > steps(b.element) : a.offset < b.offset
        }
        var longSet = Set<Int>()
        for i in 0..<nLong { longSet.insert(byLength[i].offset) }
        var sequence = (0..<nLong).map { byLength[$0].element }
        for (k, s) in order.enumerated() where !longSet.contains(k) { sequence.append(s) }
        var load = [Int](repeating: 0, count: lanes)
        var q = [[Int32]](repeating: [], count: lanes)
        for s in sequence {
            var best = 0
            for l in 1..<lanes where load[l] < load[best] { best = l }
            q[best].append(Int32(s)); load[best] += steps(s)
        }
        for l in 0..<lanes where q[l].count > 1 {
            for i in stride(from: q[l].count - 1, to: 0, by: -1) {
                q[l].swapAt(i, rng.index(below: i + 1))
            }
        }
        queues = q
        maxLaneTargets = load.max() ?? 0
        queuePos = [Int](repeating: 0, count: lanes)
        current = [Int](repeating: -1, count: lanes)
        position = [Int](repeating: 0, count: lanes)
        for l in 0..<lanes { advance(l) }
    }

    private mutating func advance(_ l: Int) {
        if queuePos[l] < queues[l].count {
            current[l] = Int(queues[l][queuePos[l]]); queuePos[l] += 1; position[l] = 0
        } else {
            current[l] = -1
        }
    }

    /// Fills the next window; false when every lane is exhausted (nothing written).
    public mutating func next(into b: inout WindowBatch) -> Bool {
        precondition(b.lanes == queues.count)
        if current.allSatisfy({ $0 < 0 }) { return false }
        b.clear()
        let L = b.history, H = b.histLen
        for l in 0..<b.lanes {
            // Events of the continuing user before the window are keys/values too.
            if current[l] >= 0 {
                let s = current[l], p0 = position[l], base = seqs.start[s]
                for slot in 0..<(L - 1) {
                    let p = p0 - (L - 1) + slot
                    if p >= 0 { b.hist[l * H + slot] = seqs.items[base + p] }
                }
            }
            for tau in 0..<b.steps {
                guard current[l] >= 0 else { break }
                let s = current[l], p = position[l], base = seqs.start[s]
                let r = tau * b.lanes + l
                let slot = L - 1 + tau
                b.active[r] = true
                b.item[r] = seqs.items[base + p]
                b.gapBucket[r] = Int32(seqs.gapBucket[base + p])
                b.requestBucket[r] = Int32(seqs.requestBucket[base + p])
                b.target[r] = seqs.isTarget[base + p + 1] ? seqs.items[base + p + 1] : -1
                b.keep[r] = p > 0
                b.attnLo[r] = Int32(slot - min(p + 1, L) + 1)
                b.hist[l * H + slot] = b.item[r]
                position[l] = p + 1
                if p + 1 >= seqs.length[s] - 1 { advance(l) }
            }
        }
        return true
    }

    /// Context steps still to be served, for progress and ETA (each is a target unless untimed
    /// events are skipped as targets).
    public var remainingTargets: Int {
        var n = 0
        for l in queues.indices where current[l] >= 0 {
            n += seqs.length[current[l]] - 1 - position[l]
            for k in queuePos[l]..<queues[l].count { n += seqs.length[Int(queues[l][k])] - 1 }
        }
        return n
    }
}
