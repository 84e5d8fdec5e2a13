import ArgumentParser
import LSRecTrain

/// `lsrec synth`: writes the deterministic synthetic interaction log (docs/EVALUATION.md).
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write a synthetic interaction log (user,item,timestamp CSV; gzip if FILE ends in .gz).",
        discussion: """
        Users have a few preferred item clusters (long-term taste) and sessions that each stay in one \
        cluster and often walk along it (short-term signal); events are minutes apart within a session, \
        sessions days apart; item popularity is Zipf-skewed. The same options and --seed give the same \
        bytes. See docs/EVALUATION.md, "Synthetic data".
        """)

    @Option(help: "Output CSV file (.gz for gzip).") var out: String
    @Option(help: "Number of users.") var users = SyntheticData.Config().users
    @Option(help: "Number of items.") var items = SyntheticData.Config().items
    @Option(help: "Random seed.") var seed: UInt64 = SyntheticData.Config().seed
    @Option(help: "Mean events per user.") var eventsPerUser = SyntheticData.Config().meanEventsPerUser
    @Option(help: "Item clusters (default: min(20, items/10)).") var clusters: Int?
    @Option(help: "Also write item text as item_id<TAB>text to this file.") var itemText: String?

    func validate() throws {
        guard users > 0, items >= 2 else { throw ValidationError("--users must be > 0 and --items ≥ 2") }
        guard eventsPerUser >= 3 else { throw ValidationError("--events-per-user must be ≥ 3") }
        if let k = clusters, !(1...items).contains(k) { throw ValidationError("--clusters must be in 1...items") }
    }

    func run() throws {
        var c = SyntheticData.Config(users: users, items: items, seed: seed)
        c.meanEventsPerUser = eventsPerUser
        c.minEventsPerUser = min(c.minEventsPerUser, eventsPerUser)
        if let k = clusters { c.clusters = k }
        let data = SyntheticData.generate(c)
        let n = try writeInteractionLog(data, to: out)
        print("wrote \(out): \(n) events, \(data.users.count) users, \(data.nItems) items, \(c.clusters) clusters, seed \(seed)")
        if let p = itemText {
            try writeItemText(data, to: p)
            print("wrote \(p): \(data.nItems) item texts")
        }
    }
}
