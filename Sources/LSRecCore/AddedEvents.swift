/// One held event's item: a model item, or an item added to a catalogue after training.
public enum HeldItem: Hashable, Sendable {
    /// Dense index of a model item.
    case model(Int)
    /// External id of an item added to a catalogue (its vector is kept in the state).
    case added(id: Int64)

    /// The external id, looked up in `model` for a model item.
    public func id(in model: Model) -> Int64 {
        switch self {
        case .model(let i): return model.itemIDs[i]
        case .added(let id): return id
        }
    }
}

/// The side table of a state's events on items added to a catalogue (docs/MODEL.md, "Items added
/// after training"): the item's external id and its vector e (d floats), so the state stays
/// self-contained and model-bound — it never points at a catalogue, and removing the item from
/// the catalogue later does not change what the state holds.
///
/// A ring entry for such an event holds −1 − slot. Each held event has its own slot (no sharing,
/// no reference counts); the slot is freed when the ring drops the event and reused by the next
/// added event, so the table never exceeds L slots. Freed slots hold id −1 (which no added item
/// can have). With no live slot the arrays are released: a state without added events carries
/// two empty arrays and nothing else.
struct AddedEvents: Sendable {
    private(set) var ids: [Int64] = []
    private(set) var vectors: [Float] = []
    /// Slots in use.
    private(set) var live = 0
    static let free: Int64 = -1

    var isEmpty: Bool { live == 0 }

    /// Stores (id, vector) in a free slot and returns the slot.
    mutating func insert(id: Int64, vector: UnsafeBufferPointer<Float>) -> Int {
        let d = vector.count
        live += 1
        if let slot = ids.firstIndex(of: Self.free) {
            ids[slot] = id
            vectors.withUnsafeMutableBufferPointer { v in
                (v.baseAddress! + slot * d).update(from: vector.baseAddress!, count: d)
            }
            return slot
        }
        ids.append(id)
        vectors.append(contentsOf: vector)
        return ids.count - 1
    }

    /// Frees a slot whose event the ring has dropped.
    mutating func release(_ slot: Int) {
        ids[slot] = Self.free
        live -= 1
        if live == 0 { ids = []; vectors = [] }
    }

    /// The vector in `slot` (d floats).
    func vector(_ slot: Int, dim d: Int) -> ArraySlice<Float> { vectors[slot * d ..< (slot + 1) * d] }
}
