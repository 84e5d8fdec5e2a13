/// A deterministic synthetic interaction log with both long-term tastes and short-term sessions,
/// for tests and for checking that a sequence model learns something popularity cannot.
/// The generative process is documented in docs/EVALUATION.md, "Synthetic data".
public enum SyntheticData {
    /// Generator settings. Every field has the documented default.
    public struct Config: Sendable, Equatable {
        public var users = 2000
        public var items = 1000
        /// Item clusters ("genres"); items are spread evenly over them at random.
        public var clusters = 20
        /// Mean events per user; each user has `minEventsPerUser + Geometric` events.
        public var meanEventsPerUser = 50
        public var minEventsPerUser = 5
        /// Each user prefers this many clusters (uniform in the range), chosen by cluster popularity.
        public var preferredClusters = 2...4
        /// Probability that a session explores a uniformly random cluster instead of a preferred one.
        public var exploreProbability = 0.1
        /// Probability that the next item in a session follows the previous one in its cluster's
        /// order (1 to 3 steps on) instead of a fresh popularity draw: the short-term signal.
        public var chainProbability = 0.6
        /// Mean events per session (1 + Geometric).
        public var meanSessionLength = 5.0
        /// Zipf exponent of item popularity within a cluster (by rank); cluster popularity uses half.
        public var popularityExponent = 0.8
        /// Unix time of the earliest possible first event (2020-01-01T00:00:00Z).
        public var startTime: Int64 = 1_577_836_800
        public var seed: UInt64 = 1

        public init() {}
        public init(users: Int, items: Int, seed: UInt64) {
            self.users = users
            self.items = items
            self.seed = seed
            self.clusters = max(2, min(20, items / 10))
        }
    }

    private static let words = [
        "action", "comedy", "drama", "noir", "heist", "space", "western", "romance", "horror",
        "musical", "documentary", "fantasy", "mystery", "thriller", "animation", "war", "sports",
        "history", "cooking", "travel", "science", "poetry", "jazz", "crime",
    ]

    /// The cluster of every item (index = item id = dense index).
    public static func itemClusters(_ c: Config) -> [Int] {
        var g = SeededGenerator(seed: c.seed ^ 0x4954_454D) // "ITEM"
        var perm = Array(0..<c.items)
        for i in stride(from: perm.count - 1, to: 0, by: -1) { perm.swapAt(i, g.index(below: i + 1)) }
        var cluster = [Int](repeating: 0, count: c.items)
        for (pos, item) in perm.enumerated() { cluster[item] = pos % c.clusters }
        return cluster
    }

    /// Generates the data set: user ids 0..<users, item ids 0..<items (= dense indices), item text
    /// "item 17 cluster 3 noir heist". Same config, same data, on every machine.
    public static func generate(_ c: Config = Config()) -> Dataset {
        precondition(c.users > 0 && c.items > 0 && c.clusters > 0 && c.clusters <= c.items)
        let clusterOf = itemClusters(c)
        // Members of each cluster in a fixed order; the position is the item's popularity rank.
        var members = [[Int32]](repeating: [], count: c.clusters)
        for i in 0..<c.items { members[clusterOf[i]].append(Int32(i)) }
        var g0 = SeededGenerator(seed: c.seed ^ 0x4F52_4445) // "ORDE"
        for k in 0..<c.clusters { // shuffle so rank is not tied to item id
            for i in stride(from: members[k].count - 1, to: 0, by: -1) { members[k].swapAt(i, g0.index(below: i + 1)) }
        }
        var position = [Int](repeating: 0, count: c.items)
        for k in 0..<c.clusters { for (p, it) in members[k].enumerated() { position[Int(it)] = p } }
        let within = members.map { m in WeightedSampler(weights: (0..<m.count).map { zipf($0, c.popularityExponent) }) }
        let clusterPopularity = (0..<c.clusters).map { zipf($0, c.popularityExponent / 2) }

        let text = (0..<c.items).map { i -> String in
            let k = clusterOf[i]
            return "item \(i) cluster \(k) \(words[k % words.count]) \(words[(k * 7 + 3) % words.count])"
        }

        var users: [UserSequence] = []
        users.reserveCapacity(c.users)
        for u in 0..<c.users {
            // An independent stream per user: the data of user u does not depend on `users`.
            var g = SeededGenerator(seed: SeedMixer.mix(c.seed) ^ SeedMixer.mix(UInt64(u) &+ 0x5553))
            // Long-term taste: a few preferred clusters with random weights.
            let k = min(c.clusters, c.preferredClusters.lowerBound + g.index(below: c.preferredClusters.count))
            var prefs: [Int] = []
            var avail = clusterPopularity
            for _ in 0..<k {
                let pick = WeightedSampler(weights: avail).sample(&g)
                prefs.append(pick)
                avail[pick] = 0
            }
            let prefSampler = WeightedSampler(weights: prefs.map { _ in 0.2 + g.unitDouble() })

            let extra = Double(max(0, c.meanEventsPerUser - c.minEventsPerUser))
            let n = c.minEventsPerUser + geometric(mean: extra, &g)
            var items: [Int32] = []
            var times: [Int64] = []
            items.reserveCapacity(n)
            times.reserveCapacity(n)
            var seen = Set<Int32>()
            var t = c.startTime + Int64(g.index(below: 365 * 86_400))
            while items.count < n {
                // A session: one cluster, events minutes apart.
                let cluster = g.unitDouble() < c.exploreProbability
                    ? g.index(below: c.clusters) : prefs[prefSampler.sample(&g)]
                let m = members[cluster]
                let len = min(n - items.count, 1 + geometric(mean: c.meanSessionLength - 1, &g))
                var prev: Int32 = -1
                for e in 0..<len {
                    var item: Int32 = -1
                    for _ in 0..<6 { // avoid re-consuming; after 6 tries accept a repeat
                        if prev >= 0 && g.unitDouble() < c.chainProbability {
                            let p = position[Int(prev)] + 1 + g.index(below: 3)
                            item = m[p % m.count]
                        } else {
                            item = m[within[cluster].sample(&g)]
                        }
                        if !seen.contains(item) { break }
                        prev = item // a seen chain target moves the chain on
                    }
                    seen.insert(item)
                    items.append(item)
                    if e > 0 { t += 60 + Int64(g.index(below: 1_740)) }
                    times.append(t)
                    prev = item
                }
                t += 86_400 + Int64(g.index(below: 6 * 86_400)) // the next session, days later
            }
            users.append(UserSequence(userID: Int64(u), items: items, timestamps: times))
        }
        return Dataset(itemIDs: (0..<c.items).map(Int64.init), itemText: text, users: users,
                       description: "synthetic(users \(c.users), items \(c.items), clusters \(c.clusters), seed \(c.seed))")
    }

    private static func zipf(_ rank: Int, _ s: Double) -> Double { 1 / _lsrPow(Double(rank + 1), s) }

    /// Number of failures before a success with success probability 1/(1+mean): mean `mean`.
    private static func geometric<G: RandomNumberGenerator>(mean: Double, _ g: inout G) -> Int {
        guard mean > 0 else { return 0 }
        let p = 1 / (1 + mean)
        let u = max(g.unitDouble(), 0x1p-60)
        return Int(_lsrLog(u) / _lsrLog(1 - p))
    }
}
