import LSRecFormat

/// One catalogue item with its score (or explanation weight), named by external id.
public struct CatalogItem: Sendable, Equatable {
    public var id: Int64
    public var score: Float
    public init(id: Int64, score: Float) { self.id = id; self.score = score }
}

/// The items a host recommends from: a model's items, minus the ones removed, plus items added
/// after training from a text embedding (`Model.newItemVector`, the one cold-start rule).
/// The model itself is never changed.
///
/// A value type (copy-on-write arrays): a copy is an O(1) snapshot that later changes to the
/// original do not affect. Reading one value from many threads is safe; mutate it from one
/// thread at a time with no concurrent readers (the C API guards its catalogue with a rwlock).
///
/// Order (used for ties in `topK` and by `itemIDs`): the model's items in the model's order,
/// then added items in the order they were added.
///
/// Ids: an added item's id must not be any of the model's ids (a removed model item comes back
/// with `restore`, never as a text-only item under the same id), so a user state — whose history
/// holds model items by dense index and added items by id (with their vectors) — always names
/// items unambiguously.
public struct Catalog: Sendable {
    /// The model whose items and weights the catalogue uses (kept alive by the catalogue).
    public let model: Model
    /// hidden[i]: model item i was removed. Empty until the first removal.
    private var hidden: [Bool] = []
    private var hiddenCount = 0
    /// Items added after training, in insertion order: ids, vectors [M, d], biases.
    private var addedIDs: [Int64] = []
    private var addedVectors: [Float] = []
    private var addedBias: [Float] = []
    private var addedIndex: [Int64: Int] = [:]
    /// Per-dimension bounds used to refuse added vectors whose scores could overflow (see `add`).
    private let bounds: OverflowBounds

    /// A catalogue holding exactly the model's items.
    public init(model: Model) {
        self.model = model
        bounds = OverflowBounds(model)
    }

    /// Where a visible catalogue item lives.
    enum Entry: Equatable {
        case model(Int)   // dense model index
        case added(Int)   // position among added items
    }

    /// Number of items a recommendation can return (visible model items + added items).
    public var count: Int { model.nItems - hiddenCount + addedIDs.count }

    /// Number of items added after training.
    public var addedCount: Int { addedIDs.count }

    /// The visible items' ids in catalogue order.
    public var itemIDs: [Int64] {
        var out: [Int64] = []
        out.reserveCapacity(count)
        for i in 0..<model.nItems where !isHidden(i) { out.append(model.itemIDs[i]) }
        out.append(contentsOf: addedIDs)
        return out
    }

    @inline(__always)
    private func isHidden(_ i: Int) -> Bool { hiddenCount > 0 && hidden[i] }

    /// The visible item with external id `id`, or nil.
    func entry(_ id: Int64) -> Entry? {
        if let i = model.index(ofItem: id) { return isHidden(i) ? nil : .model(i) }
        return addedIndex[id].map(Entry.added)
    }

    /// True when `id` is currently recommendable.
    public func contains(_ id: Int64) -> Bool { entry(id) != nil }

    /// The item vector e and bias b of a visible item (s = u·e + b).
    public func vector(ofItem id: Int64) throws -> (vector: [Float], bias: Float) {
        switch try visible(id) {
        case .model(let i): return (model.itemVector(i), model.itemBias[i])
        case .added(let a): return (addedVector(a), addedBias[a])
        }
    }

    private func visible(_ id: Int64) throws -> Entry {
        guard let e = entry(id) else { throw unknown(id) }
        return e
    }

    private func unknown(_ id: Int64) -> LSRecError {
        if let i = model.index(ofItem: id), isHidden(i) {
            return LSRecError(.unknownItem, "item id \(id) was removed from the catalogue")
        }
        return LSRecError(.unknownItem, "item id \(id) is not in the catalogue")
    }

    private func addedVector(_ a: Int) -> [Float] {
        let d = model.dim
        return Array(addedVectors[a * d ..< (a + 1) * d])
    }

    // MARK: - Changes

    /// The vector and bias `add(id:text:)` would give an item (validates the text, not the id).
    /// Split out so the C API can do this O(d·k) work before taking its write lock.
    public func newItem(text: [Float]) throws -> (vector: [Float], bias: Float) {
        let (v, b) = try model.newItemVector(text: text)
        try bounds.check(v, bias: b)
        return (v, b)
    }

    /// Adds an item the model was not trained on, scored with `Model.newItemVector(text:)`.
    /// Refuses: an id already in the catalogue or belonging to the model (`.invalidArgument`;
    /// no silent replacement — remove first), id −1 (the padding of ranked outputs), a model
    /// without text projection, a text of the wrong length or non-finite. On error nothing changes.
    public mutating func add(id: Int64, text: [Float]) throws {
        try checkNewID(id)
        let (v, b) = try newItem(text: text)
        insert(id: id, vector: v, bias: b)
    }

    /// `add` with a vector already made by `newItem(text:)` of this catalogue's model.
    public mutating func add(id: Int64, newItem item: (vector: [Float], bias: Float)) throws {
        guard item.vector.count == model.dim else {
            throw LSRecError(.invalidArgument, "item vector has \(item.vector.count) values, the model has d = \(model.dim)")
        }
        try checkNewID(id)
        insert(id: id, vector: item.vector, bias: item.bias)
    }

    private func checkNewID(_ id: Int64) throws {
        guard id != -1 else {
            throw LSRecError(.invalidArgument, "item id -1 is reserved (it pads ranked results)")
        }
        if let i = model.index(ofItem: id) {
            throw LSRecError(.invalidArgument, isHidden(i)
                ? "item id \(id) is a removed model item; bring it back with restore (lsrec_catalog_restore_item), not add"
                : "item id \(id) is already in the catalogue (one of the model's items)")
        }
        guard addedIndex[id] == nil else {
            throw LSRecError(.invalidArgument, "item id \(id) is already in the catalogue (added earlier; remove it first to replace it)")
        }
    }

    private mutating func insert(id: Int64, vector: [Float], bias: Float) {
        addedIndex[id] = addedIDs.count
        addedIDs.append(id)
        addedVectors.append(contentsOf: vector)
        addedBias.append(bias)
    }

    /// Removes a visible item: a model item is hidden (restore brings it back), an added one is
    /// dropped. Unknown or already removed ids are `.unknownItem`.
    public mutating func remove(id: Int64) throws {
        switch try visible(id) {
        case .model(let i):
            if hidden.isEmpty { hidden = [Bool](repeating: false, count: model.nItems) }
            hidden[i] = true
            hiddenCount += 1
        case .added(let a):
            // Order-preserving removal: ties keep ranking in insertion order.
            let d = model.dim
            addedIDs.remove(at: a)
            addedBias.remove(at: a)
            addedVectors.removeSubrange(a * d ..< (a + 1) * d)
            addedIndex[id] = nil
            for j in a..<addedIDs.count { addedIndex[addedIDs[j]] = j }
        }
    }

    /// Makes a removed model item recommendable again. `.unknownItem` for ids the model does not
    /// have, `.invalidArgument` for a model item that was not removed.
    public mutating func restore(id: Int64) throws {
        guard let i = model.index(ofItem: id) else {
            throw LSRecError(.unknownItem, addedIndex[id] != nil
                ? "item id \(id) was added to the catalogue, not a model item: nothing to restore"
                : "item id \(id) is not one of the model's items")
        }
        guard isHidden(i) else {
            throw LSRecError(.invalidArgument, "item id \(id) was not removed")
        }
        hidden[i] = false
        hiddenCount -= 1
    }

    // MARK: - Scoring

    /// Scores s = u·e + b of visible items (u computed once). Any id not in the catalogue is an
    /// error naming its position.
    public func scores(_ state: UserState, now: RequestTime, itemIDs ids: [Int64]) throws -> [Float] {
        try model.checkOwnership(state)
        let entries = try ids.enumerated().map { n, id -> Entry in
            guard let e = entry(id) else {
                let why = unknown(id).message
                throw LSRecError(.unknownItem, ids.count == 1 ? why : "items[\(n)]: " + why)
            }
            return e
        }
        guard !entries.isEmpty else { return [] }
        let u = model.fuse(state, now: now).u, d = model.dim
        func score<V: RandomAccessCollection<Float>>(_ vectors: V, row: Int, bias: Float) -> Float where V.Index == Int {
            var s = bias
            for j in 0..<d { s += u[j] * vectors[row * d + j] }
            return s
        }
        let held = repeatedEntries(state), beta = model.repeatBias ?? 0
        return entries.map { e in
            switch e {
            case .model(let i):
                let s = score(model.items, row: i, bias: model.itemBias[i])
                return held.model.contains(i) ? s + beta : s
            case .added(let a):
                let s = score(addedVectors, row: a, bias: addedBias[a])
                return held.added.contains(a) ? s + beta : s
            }
        }
    }

    /// The k best visible items for a user, best first (ties: catalogue order). `excludeSeen`
    /// drops the items among the state's held events (model items, and added items by id);
    /// `exclude` holds further ids to drop (ids not in the catalogue are ignored).
    public func topK(_ state: UserState, now: RequestTime, k: Int, excludeSeen: Bool = false,
                     exclude: [Int64] = []) throws -> [CatalogItem] {
        try model.checkOwnership(state)
        let n = model.nItems, m = addedIDs.count
        guard k > 0 else { return [] }
        let u = model.fuse(state, now: now).u
        // Slots 0..<n are model items, n..<n+m added ones: topK's index order is catalogue order.
        var s: [Float] = []
        model.scores(userVector: u, into: &s)
        if m > 0 {
            var extra = addedBias
            BLAS.gemv(rows: m, cols: model.dim, addedVectors, u, beta: 1, &extra)
            s.append(contentsOf: extra)
        }
        // The repeat term on held items, model and added ones alike (MODEL.md "Scores").
        if let beta = model.repeatBias {
            let held = repeatedEntries(state)
            for i in held.model { s[i] += beta }
            for a in held.added { s[n + a] += beta }
        }
        var mask: [Bool]? = nil
        if hiddenCount > 0 || (excludeSeen && state.historyCount > 0) || !exclude.isEmpty {
            var x = hiddenCount > 0 ? hidden : [Bool](repeating: false, count: n)
            x.append(contentsOf: repeatElement(false, count: m))
            if excludeSeen {
                state.forEachHeldItem { _, i in x[i] = true }
                for a in heldAddedPositions(state) { x[n + a] = true }
            }
            for id in exclude {
                switch entry(id) {
                case .model(let i): x[i] = true
                case .added(let a): x[n + a] = true
                case nil: break
                }
            }
            mask = x
        }
        return LSRecCore.topK(s, k: k, excluded: mask).map {
            CatalogItem(id: $0.index < n ? model.itemIDs[$0.index] : addedIDs[$0.index - n], score: $0.score)
        }
    }

    /// The distinct held items the repeat term applies to: model items (dense index) and items
    /// added to this catalogue and still in it (position in the added list). Empty sets when the
    /// model has no repeat term.
    func repeatedEntries(_ state: UserState) -> (model: Set<Int>, added: Set<Int>) {
        guard model.repeatBias != nil else { return ([], []) }
        return (Set(model.repeatedItems(state)), heldAddedPositions(state))
    }

    /// Positions in the added list of the added items the state holds events on and that are
    /// still in this catalogue.
    func heldAddedPositions(_ state: UserState) -> Set<Int> {
        var added = Set<Int>()
        guard state.holdsAddedItems else { return added }
        for r in 0..<state.historyCount {
            if case .added(let id) = state.heldItem(r), let a = addedIndex[id] { added.insert(a) }
        }
        return added
    }

    /// Which held events drove the score of visible item `id` (MODEL.md, "Scores and
    /// explanations"): history items by id (model items and added items, removed ones included —
    /// the user did see them) with their summed contributions, largest first (ties: lower model
    /// index, then added items by id), at most k.
    public func explain(_ state: UserState, now: RequestTime, itemID id: Int64, k: Int) throws -> [CatalogItem] {
        try model.checkOwnership(state)
        let parts: [Contribution]
        switch try visible(id) {
        case .model(let i): parts = try model.explain(state, now: now, itemIndex: i, k: k)
        case .added(let a): parts = model.explain(state, now: now, itemVector: addedVector(a), k: k)
        }
        return parts.map { CatalogItem(id: $0.item.id(in: model), score: $0.weight) }
    }

    /// Feeds one event to a state of the catalogue's model. Model items (removed ones too: the
    /// event happened) go through `Model.update`. An item added to this catalogue (visible now)
    /// is fed with its vector, which the state keeps with the event (docs/MODEL.md, "Items added
    /// after training"): later removal from the catalogue does not change the state. Any other id
    /// — unknown, or an added item already removed — is `.unknownItem`; on error nothing changes.
    public func update(_ state: inout UserState, itemID id: Int64, timestamp: Int64) throws {
        try model.checkOwnership(state)
        if let i = model.index(ofItem: id) {
            try model.update(&state, itemIndex: i, timestamp: timestamp)
            return
        }
        guard let a = addedIndex[id] else {
            throw LSRecError(.unknownItem, "item id \(id) is not in the catalogue (never added, or removed)")
        }
        try model.update(&state, addedID: id, vector: addedVector(a), timestamp: timestamp)
    }
}
