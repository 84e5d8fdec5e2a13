/// One user's chronologically ordered events, items as dense indices into `Dataset.itemIDs`.
public struct UserSequence: Sendable {
    public var userID: Int64
    /// Dense item indices, oldest first (stable order for equal timestamps).
    public var items: [Int32]
    /// Unix seconds per event; -1 where the time is unknown (ML-1M "full": ordered first).
    public var timestamps: [Int64]

    public init(userID: Int64, items: [Int32], timestamps: [Int64]) {
        self.userID = userID
        self.items = items
        self.timestamps = timestamps
    }
}

/// Interaction log after loading: dense item indices, per-user sequences, item text when known.
public struct Dataset: Sendable {
    /// Dense index -> external item id (e.g. MovieLens movie id).
    public var itemIDs: [Int64]
    /// Dense index -> text describing the item ("Toy Story (1995) Animation|Children's|Comedy"),
    /// or nil when the data has no item text.
    public var itemText: [String]?
    public var users: [UserSequence]
    /// Human-readable description written into the weight file (`train.data`).
    public var description: String

    public init(itemIDs: [Int64], itemText: [String]?, users: [UserSequence], description: String) {
        self.itemIDs = itemIDs
        self.itemText = itemText
        self.users = users
        self.description = description
    }

    public var nItems: Int { itemIDs.count }
}
