/// Raw events in file order, with external ids, before grouping into a `Dataset`.
struct EventTable {
    var users: [Int64] = []
    var items: [Int64] = []
    /// Unix seconds, -1 = unknown.
    var timestamps: [Int64] = []

    var count: Int { users.count }

    mutating func reserve(_ n: Int) {
        users.reserveCapacity(n); items.reserveCapacity(n); timestamps.reserveCapacity(n)
    }

    @inline(__always) mutating func append(user: Int64, item: Int64, time: Int64) {
        users.append(user); items.append(item); timestamps.append(time)
    }
}

/// Dense indices for external ids: index = rank of the id among the sorted distinct ids, so the
/// mapping does not depend on file order (deterministic, and equal for equal id sets).
struct DenseIndex {
    let ids: [Int64]          // dense index -> external id, ascending
    private let base: Int64
    private let table: [Int32]          // direct lookup when the id range is small
    private let dict: [Int64: Int32]    // otherwise

    init(_ values: [Int64]) {
        var sorted = values
        sorted.sort()
        var unique: [Int64] = []
        unique.reserveCapacity(min(sorted.count, 1 << 16))
        for v in sorted where unique.last != v { unique.append(v) }
        ids = unique
        let lo = unique.first ?? 0, hi = unique.last ?? 0
        let span = hi &- lo
        if span >= 0 && span < Int64(max(4 * unique.count, 1 << 20)) {
            base = lo
            var t = [Int32](repeating: -1, count: Int(span) + 1)
            for (i, v) in unique.enumerated() { t[Int(v - lo)] = Int32(i) }
            table = t
            dict = [:]
        } else {
            base = 0
            table = []
            dict = Dictionary(uniqueKeysWithValues: unique.enumerated().map { ($1, Int32($0)) })
        }
    }

    @inline(__always) func index(_ id: Int64) -> Int32 {
        if table.isEmpty { return dict[id]! }
        return table[Int(id - base)]
    }
}

extension EventTable {
    /// Groups events by user (users ascending by id), orders each user's events by timestamp
    /// with unknown (-1) first and ties in file order, maps items to dense indices by sorted id,
    /// and fills the counting fields of `stats`.
    func makeDataset(description: String, stats: inout LoadStats) -> Dataset {
        let itemIndex = DenseIndex(items)
        let userIndex = DenseIndex(users)
        let nUsers = userIndex.ids.count
        let n = count

        // Counting sort by user keeps file order within a user (stable).
        var userOf = [Int32](repeating: 0, count: n)
        var offsets = [Int](repeating: 0, count: nUsers + 1)
        for e in 0..<n {
            let u = userIndex.index(users[e])
            userOf[e] = u
            offsets[Int(u) + 1] += 1
        }
        for u in 0..<nUsers { offsets[u + 1] += offsets[u] }
        var order = [Int32](repeating: 0, count: n)
        var fill = offsets
        for e in 0..<n {
            let u = Int(userOf[e])
            order[fill[u]] = Int32(e)
            fill[u] += 1
        }

        var sequences: [UserSequence] = []
        sequences.reserveCapacity(nUsers)
        var lengths: [Int] = []
        lengths.reserveCapacity(nUsers)
        var duplicates = 0
        var untimed = 0
        for u in 0..<nUsers {
            var evs = Array(order[offsets[u]..<offsets[u + 1]])
            if !isNondecreasing(evs) {
                // -1 (unknown) sorts before every known time; file position breaks ties.
                evs.sort { a, b in
                    let ta = timestamps[Int(a)], tb = timestamps[Int(b)]
                    return ta != tb ? ta < tb : a < b
                }
            }
            let its = evs.map { itemIndex.index(items[Int($0)]) }
            let ts = evs.map { timestamps[Int($0)] }
            untimed += ts.reduce(0) { $0 + ($1 < 0 ? 1 : 0) }
            var sortedItems = its
            sortedItems.sort()
            for k in sortedItems.indices.dropFirst() where sortedItems[k] == sortedItems[k - 1] {
                duplicates += 1
            }
            lengths.append(its.count)
            sequences.append(UserSequence(userID: userIndex.ids[u], items: its, timestamps: ts))
        }

        stats.eventsKept = n
        stats.untimedEvents = untimed
        stats.duplicatePairs = duplicates
        stats.deduplicated = false
        stats.users = nUsers
        stats.items = itemIndex.ids.count
        lengths.sort()
        stats.minEventsPerUser = lengths.first ?? 0
        stats.maxEventsPerUser = lengths.last ?? 0
        stats.medianEventsPerUser = lengths.isEmpty ? 0 : lengths[lengths.count / 2]
        return Dataset(itemIDs: itemIndex.ids, itemText: nil, users: sequences, description: description)
    }

    private func isNondecreasing(_ evs: [Int32]) -> Bool {
        var last = Int64.min
        for e in evs {
            let t = timestamps[Int(e)]
            if t < last { return false }
            last = t
        }
        return true
    }
}
