import ArgumentParser
import Foundation
import LSRecCore
import LSRecFormat
import LSRecTrain

/// `lsrec recommend`: feeds one user's history to a model and prints the top-k with the
/// history events that explain each pick (titles when the data has item text).
struct RecommendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recommend",
        abstract: "Recommend for one user of a data set, with explanations.")

    @Option(help: "The .lsrec weight file.") var model: String
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "External user id (default: the first user of the data).") var user: Int64?
    @Option(name: .short, help: "How many items.") var k = 10
    @Flag(help: "Also recommend items the user already has in the held history.") var includeSeen = false
    @Option(help: "Write the user's events as 'item_id unix_ts' lines (input for examples/c/recommend).")
    var historyOut: String?
    @Option(help: "Write 'item_id<TAB>title' lines for the catalogue (input for examples/c/recommend -t).")
    var titlesOut: String?

    func run() throws {
        guard k > 0 else { throw ValidationError("-k must be at least 1") }
        let m: Model
        do { m = try Model(path: model) } catch let e as LSRecError { throw ValidationError("\(model): \(e)") }
        let data = try dataOptions.load(quiet: true).dataset
        guard let u = user.map({ id in data.users.first { $0.userID == id } }) ?? data.users.first else {
            throw ValidationError("user \(user.map(String.init) ?? "") is not in the data")
        }
        let title = { (id: Int64) -> String in
            guard let text = data.itemText, let i = data.itemIDs.firstIndex(of: id) else { return "item \(id)" }
            return text[i]
        }
        var state = m.newState()
        var events: [(Int64, Int64)] = []
        var skipped = 0
        for (i, t) in zip(u.items, u.timestamps) {
            let id = data.itemIDs[Int(i)]
            if (try? m.update(&state, itemID: id, timestamp: t)) != nil { events.append((id, t)) } else { skipped += 1 }
        }
        if let historyOut {
            let lines = events.map { "\($0.0) \($0.1)\n" }.joined()
            try lines.write(toFile: historyOut, atomically: true, encoding: .utf8)
        }
        if let titlesOut, let text = data.itemText {
            let lines = zip(data.itemIDs, text).map { "\($0.0)\t\($0.1)\n" }.joined()
            try lines.write(toFile: titlesOut, atomically: true, encoding: .utf8)
        }
        print("user \(u.userID): \(events.count) events fed" + (skipped > 0 ? " (\(skipped) items unknown to the model skipped)" : ""))
        print("last events:")
        for (id, t) in events.suffix(5) {
            print("  \(t >= 0 ? Self.date(t) : "(no time)")  \(title(id))")
        }
        let best = try m.topK(state, now: .lastEvent, k: k, excludeSeen: !includeSeen)
        print("\ntop \(k)\(includeSeen ? "" : " (held history excluded)"):")
        for (rank, item) in best.enumerated() {
            let id = m.itemIDs[item.index]
            print(String(format: "%2d. %8.3f  ", rank + 1, item.score) + title(id))
            let why = try m.explain(state, now: .lastEvent, itemIndex: item.index, k: 3).filter { $0.weight > 0 }
            if !why.isEmpty {
                print("      because you watched: " + why.map {
                    "\(title($0.item.id(in: m))) (\(String(format: "%.3f", $0.weight)))" }.joined(separator: "; "))
            }
        }
    }

    static func date(_ t: Int64) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
    }
}
