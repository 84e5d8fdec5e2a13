/// Which held-out event of each user `evaluate` predicts.
public enum EvalSplit: String, Sendable, CaseIterable {
    /// The second-to-last event; history = every event before it.
    case validation
    /// The last event; history = every event before it (including the validation event).
    case test
}

/// The leave-one-out protocol (docs/EVALUATION.md): for an evaluated user with n events, event n-1
/// is the test target, event n-2 the validation target, events 0..<n-2 are training. A user is
/// evaluated when they have ≥ 3 events and, in a data set with any timestamp, both targets are
/// timed: an untimed event's place in the sequence is file order, not time (ml-1m-full puts them
/// first), so it is not "the next event". Other users are kept, whole, in training.
public struct LeaveOneOut: Sendable, Equatable {
    public static let minEvents = 3

    /// Targets must have a timestamp (the data set has at least one timed event).
    public let timedTargets: Bool

    /// The protocol for `data`: timed targets when any of its events has a time.
    public init(_ data: Dataset) {
        timedTargets = data.users.contains { $0.timestamps.contains { $0 >= 0 } }
    }

    public init(timedTargets: Bool) { self.timedTargets = timedTargets }

    /// True when `user` has a validation and a test target.
    @inlinable public func isEvaluated(_ user: UserSequence) -> Bool {
        let n = user.items.count
        guard n >= Self.minEvents else { return false }
        // Untimed events sort first, so the last two are timed when any two are.
        return !timedTargets || (user.timestamps[n - 1] >= 0 && user.timestamps[n - 2] >= 0)
    }

    /// How many leading events of `user` are training events.
    @inlinable public func trainingCount(_ user: UserSequence) -> Int {
        isEvaluated(user) ? user.items.count - 2 : user.items.count
    }

    /// Index of the user's target event for `split`, or nil for a training-only user.
    @inlinable public func targetIndex(_ user: UserSequence, _ split: EvalSplit) -> Int? {
        guard isEvaluated(user) else { return nil }
        let n = user.items.count
        return split == .test ? n - 1 : n - 2
    }

    /// Counts of the split over a data set.
    public static func counts(_ data: Dataset) -> SplitCounts {
        let rule = LeaveOneOut(data)
        var c = SplitCounts()
        c.users = data.users.count
        for u in data.users {
            c.trainingEvents += rule.trainingCount(u)
            if rule.isEvaluated(u) {
                c.evaluableUsers += 1
            } else if u.items.count >= minEvents {
                c.untimedTargetUsers += 1
            } else {
                c.trainingOnlyUsers += 1
            }
        }
        return c
    }
}

/// How a data set divides under leave-one-out.
public struct SplitCounts: Sendable, Equatable, CustomStringConvertible {
    public var users = 0
    /// Users with a validation and a test target each.
    public var evaluableUsers = 0
    /// Users with < 3 events: all their events are training, they are never evaluated.
    public var trainingOnlyUsers = 0
    /// Users with ≥ 3 events whose last two are not both timed, in a data set with timestamps:
    /// all their events are training, they are never evaluated.
    public var untimedTargetUsers = 0
    public var trainingEvents = 0
    public init() {}

    public var description: String {
        "split: \(users) users, \(evaluableUsers) evaluated (1 validation + 1 test target each), " +
        "\(trainingOnlyUsers) with < 3 events in training only, " +
        "\(untimedTargetUsers) whose last two events are not both timed in training only; " +
        "\(trainingEvents) training events"
    }
}
