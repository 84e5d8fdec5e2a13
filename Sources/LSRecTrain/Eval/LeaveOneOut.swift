/// Which held-out event of each user `evaluate` predicts.
public enum EvalSplit: String, Sendable, CaseIterable {
    /// The second-to-last event; history = every event before it.
    case validation
    /// The last event; history = every event before it (including the validation event).
    case test
}

/// The leave-one-out protocol (docs/EVALUATION.md): for a user with n ≥ 3 events, event n-1 is the
/// test target, event n-2 the validation target, events 0..<n-2 are training. Users with fewer than
/// 3 events are kept, whole, in training and never evaluated.
public enum LeaveOneOut {
    public static let minEvents = 3

    /// How many leading events of a user with `n` events are training events.
    @inlinable public static func trainingCount(_ n: Int) -> Int { n >= minEvents ? n - 2 : n }

    /// Index of the user's target event for `split`, or nil for a training-only user.
    @inlinable public static func targetIndex(_ n: Int, _ split: EvalSplit) -> Int? {
        guard n >= minEvents else { return nil }
        return split == .test ? n - 1 : n - 2
    }

    /// Counts of the split over a data set.
    public static func counts(_ data: Dataset) -> SplitCounts {
        var c = SplitCounts()
        c.users = data.users.count
        for u in data.users {
            let n = u.items.count
            c.trainingEvents += trainingCount(n)
            if n >= minEvents { c.evaluableUsers += 1 } else { c.trainingOnlyUsers += 1 }
        }
        return c
    }
}

/// How a data set divides under leave-one-out.
public struct SplitCounts: Sendable, Equatable, CustomStringConvertible {
    public var users = 0
    /// Users with ≥ 3 events: one validation and one test target each.
    public var evaluableUsers = 0
    /// Users with < 3 events: all their events are training, they are never evaluated.
    public var trainingOnlyUsers = 0
    public var trainingEvents = 0
    public init() {}

    public var description: String {
        "split: \(users) users, \(evaluableUsers) evaluated (1 validation + 1 test target each), " +
        "\(trainingOnlyUsers) with < 3 events in training only; \(trainingEvents) training events"
    }
}
