import LSRecCore
import LSRecFormat

/// How the cold-start held-out items travel in a weight file, so `lsrec eval` can report them:
/// `train.cold_items` = their external ids, comma-separated (ascending dense index), with
/// `train.cold_fraction` and `train.cold_seed`. Absent when no item was held out.
extension Trainer {
    var coldMetadata: [(String, MetaValue)] {
        guard !cold.isEmpty else { return [] }
        return [
            ("train.cold_fraction", .float(config.coldFraction)),
            ("train.cold_seed", .int(Int64(bitPattern: config.coldSeed))),
            ("train.cold_items", .string(cold.indices.map { String(dataset.itemIDs[Int($0)]) }.joined(separator: ","))),
        ]
    }
}

extension ColdItems {
    /// The held-out item ids recorded in `model` (`train.cold_items`), nil when it has none.
    /// Throws when the key does not parse.
    public static func recordedIDs(in model: Model) throws -> [Int64]? {
        guard let text = model.metadataText("train.cold_items") else { return nil }
        var ids: [Int64] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let id = Int64(part) else {
                throw TrainError.invalidConfig("metadata train.cold_items: '\(part)' is not an item id")
            }
            ids.append(id)
        }
        return ids
    }

    /// The items of a data set (dense indices into `itemIDs`) whose ids are in `ids`; ids the data
    /// does not have are ignored.
    public init(itemIDs: [Int64], coldIDs: [Int64]) {
        let wanted = Set(coldIDs)
        self.init(nItems: itemIDs.count,
                  indices: itemIDs.indices.filter { wanted.contains(itemIDs[$0]) }.map { Int32($0) })
    }
}
