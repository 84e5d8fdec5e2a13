import LSRecCore

/// The training part of every user's history, flattened, with the time buckets precomputed
/// exactly as the inference core computes them (`timeBucket`).
///
/// Leave-one-out: a user with n ≥ 3 events keeps events 1…n−2 for training (n−1 is the
/// validation target, n the test target); shorter users are all training. Within the kept
/// prefix of m events, contexts 1…m−1 predict events 2…m, so validation and test items are
/// never targets (nor inputs).
public struct TrainingSequences: Sendable {
    /// Dense item index per kept event, users concatenated.
    public private(set) var items: [Int32] = []
    /// bucket(s_p − s_last) of each event as an LSTM input (`time.event_gap` row).
    public private(set) var gapBucket: [UInt8] = []
    /// For the context ending at event p: bucket(s_{p+1} − s_last(≤p)) (`time.request_gap` row).
    /// Undefined (0) for the last kept event of a user.
    public private(set) var requestBucket: [UInt8] = []
    /// First flat index of each sequence.
    public private(set) var start: [Int] = []
    /// Kept events per sequence (m); the sequence yields up to m − 1 training targets.
    public private(set) var length: [Int] = []
    /// Per kept event: may it be a training target? false only for untimed events when they are
    /// excluded as targets (`untimedTargets: false`); they are still inputs.
    public private(set) var isTarget: [Bool] = []
    /// Training targets over all sequences (events 2…m of each sequence with `isTarget`).
    public private(set) var targetCount = 0
    /// Index into `Dataset.users` of each sequence.
    public private(set) var userIndex: [Int] = []

    /// Builds the sequences of the first `maxUsers` users (all when nil). Users with fewer than
    /// two kept events give no target and are skipped.
    ///
    /// `cold`: items held out entirely (cold-start protocol, `ColdItems`). Their events are removed
    /// from the training prefix before anything else, as if they had never happened: they are
    /// neither inputs nor targets, and time gaps run from the previous kept event. The leave-one-out
    /// split itself is unchanged (it is taken on the full sequence).
    ///
    /// `untimedTargets: false`: events without a timestamp are never targets (they stay inputs).
    /// On ml-1m-full they sit first in their user's sequence in file order, not in time order, so
    /// "the next event" among them is not a next event at all.
    public init(dataset: Dataset, timeBuckets: Int, maxUsers: Int? = nil, cold: ColdItems? = nil,
                untimedTargets: Bool = true) {
        let users = maxUsers.map { Array(dataset.users.prefix(max(0, $0))) } ?? dataset.users
        let coldMask = cold.flatMap { $0.isEmpty ? nil : $0.mask }
        let rule = LeaveOneOut(dataset)
        for (u, user) in users.enumerated() {
            let prefix = rule.trainingCount(user)
            let kept: [Int] = coldMask.map { mask in (0..<prefix).filter { !mask[Int(user.items[$0])] } }
                ?? Array(0..<prefix)
            let m = kept.count
            guard m >= 2 else { continue }
            start.append(items.count); length.append(m); userIndex.append(u)
            var last: Int64 = -1
            for (p, e) in kept.enumerated() {
                let s = user.timestamps[e]
                let gap: Int64? = (s >= 0 && last >= 0) ? s - last : nil
                items.append(user.items[e])
                let target = untimedTargets || s >= 0
                isTarget.append(target)
                if p > 0 && target { targetCount += 1 }
                gapBucket.append(UInt8(timeBucket(gap, buckets: timeBuckets)))
                if s >= 0 { last = s }
                if p + 1 < m {
                    let next = user.timestamps[kept[p + 1]]
                    let req: Int64? = (next >= 0 && last >= 0) ? next - last : nil
                    requestBucket.append(UInt8(timeBucket(req, buckets: timeBuckets)))
                } else {
                    requestBucket.append(0)
                }
            }
        }
    }

    /// Sequences held.
    public var count: Int { start.count }
}
