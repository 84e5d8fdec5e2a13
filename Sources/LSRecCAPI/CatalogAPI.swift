import LSRecCore
import LSRecFormat
#if canImport(Glibc)
import Glibc
#endif

/// The box behind an lsrec_catalog handle: a `Catalog` value guarded by a pthread rwlock.
///
/// Concurrency: a read call (top-k, scores, explain, ids) holds the read lock while it computes,
/// so it sees one consistent catalogue, and any number of reads run in parallel. A change holds
/// the write lock and edits the arrays in place (no copy: no reader holds them meanwhile); the
/// O(d·k) projection of an added item's text runs under the read lock first. The lock prefers
/// writers, so a stream of readers cannot starve a writer: a change waits for the reads in
/// progress, and reads that arrive meanwhile wait for the change (which is O(d) for an add,
/// O(1) to hide or restore a model item, O(added items · d) to drop an added item).
final class CatalogBox {
    static let liveTag: UInt64 = 0x4C53_5245_4343_4154  // "LSRECCAT"
    var tag = liveTag  // first stored property (see `tag(of:)` in Handles.swift)
    /// Fixed address for the lock (a Swift stored property's address is not stable).
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>
    private var catalog: Catalog
    /// The catalogue's model; immutable, so readable without the lock.
    let model: Model

    init(_ catalog: Catalog) throws {
        lock = .allocate(capacity: 1)
        var attr = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attr)
        defer { pthread_rwlockattr_destroy(&attr) }
        // glibc's default prefers readers: with reads always in flight a writer would wait forever.
        pthread_rwlockattr_setkind_np(&attr, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        guard pthread_rwlock_init(lock, &attr) == 0 else {
            lock.deallocate()
            throw LSRecError(.outOfMemory, "cannot create the catalogue's lock")
        }
        self.catalog = catalog
        model = catalog.model
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    /// Runs a read-only computation on the catalogue under the read lock.
    func read<T>(_ body: (Catalog) throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(catalog)
    }

    /// Runs a change under the write lock; a thrown error leaves the catalogue as it was
    /// (every `Catalog` mutation validates before changing anything).
    func write(_ body: (inout Catalog) throws -> Void) throws {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        try body(&catalog)
    }
}

func catalogBox(_ handle: OpaquePointer?, _ name: String = "cat") throws -> CatalogBox {
    guard let handle else { throw nullArgument(name) }
    guard handleTag(handle) == CatalogBox.liveTag else {
        throw LSRecError(.invalidArgument, "\(name) is not a live lsrec_catalog handle")
    }
    return Unmanaged<CatalogBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

/// Same layout rule as Handles.swift's private `tag(of:)`: two header words, then `tag`.
@inline(__always)
private func handleTag(_ handle: OpaquePointer) -> UInt64 {
    UnsafeRawPointer(handle).load(fromByteOffset: 2 * MemoryLayout<Int>.size, as: UInt64.self)
}

@_cdecl("lsrec_catalog_new")
public func lsrec_catalog_new(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded("lsrec_catalog_new") {
        guard let out else { throw nullArgument("out") }
        out.pointee = nil
        let m = try modelBox(model).model
        out.pointee = retainHandle(try CatalogBox(Catalog(model: m)))
    }
}

@_cdecl("lsrec_catalog_free")
public func lsrec_catalog_free(_ handle: OpaquePointer?) {
    guard let box = try? catalogBox(handle) else { return }
    box.tag = 0
    Unmanaged<CatalogBox>.fromOpaque(UnsafeRawPointer(handle!)).release()
}

@_cdecl("lsrec_catalog_n_items")
public func lsrec_catalog_n_items(_ handle: OpaquePointer?) -> Int64 {
    guard let box = try? catalogBox(handle) else { return -1 }
    return Int64(box.read { $0.count })
}

@_cdecl("lsrec_catalog_item_ids")
public func lsrec_catalog_item_ids(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<Int64>?, _ cap: UInt,
                                   _ nOut: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("lsrec_catalog_item_ids") {
        let ids = try catalogBox(handle).read { $0.itemIDs }
        // The count is reported even when the buffer is short: another thread may have added
        // items since the caller asked lsrec_catalog_n_items.
        nOut?.pointee = UInt(ids.count)
        guard !ids.isEmpty else { return }  // out may be NULL then, like any empty buffer
        let dst = try outputBuffer(out, "out", cap: cap, needed: ids.count, holds: "the catalogue has \(ids.count) items")
        write(ids, to: dst)
    }
}

@_cdecl("lsrec_catalog_add_item")
public func lsrec_catalog_add_item(_ handle: OpaquePointer?, _ item: Int64, _ text: UnsafePointer<Float>?,
                                   _ textDim: UInt) -> Int32 {
    guarded("lsrec_catalog_add_item") {
        let box = try catalogBox(handle)
        let k = box.model.config.textDim
        guard k > 0 else {
            throw LSRecError(.invalidArgument, "this model has no text projection (lsrec.text_dim = 0): items cannot be added from text")
        }
        let n = try size(textDim, "text_dim")
        guard n == k else {
            throw LSRecError(.invalidArgument, "text_dim = \(n), the model expects lsrec.text_dim = \(k)")
        }
        guard let text else { throw nullArgument("text_vec") }
        let values = Array(UnsafeBufferPointer(start: text, count: n))
        // Projection under the read lock; the id is checked under the write lock (another writer may race).
        let made = try box.read { try $0.newItem(text: values) }
        try box.write { try $0.add(id: item, newItem: made) }
    }
}

@_cdecl("lsrec_catalog_remove_item")
public func lsrec_catalog_remove_item(_ handle: OpaquePointer?, _ item: Int64) -> Int32 {
    guarded("lsrec_catalog_remove_item") {
        try catalogBox(handle).write { try $0.remove(id: item) }
    }
}

@_cdecl("lsrec_catalog_restore_item")
public func lsrec_catalog_restore_item(_ handle: OpaquePointer?, _ item: Int64) -> Int32 {
    guarded("lsrec_catalog_restore_item") {
        try catalogBox(handle).write { try $0.restore(id: item) }
    }
}

@_cdecl("lsrec_catalog_contains")
public func lsrec_catalog_contains(_ handle: OpaquePointer?, _ item: Int64) -> Int32 {
    guard let box = try? catalogBox(handle) else { return -1 }
    return box.read { $0.contains(item) } ? 1 : 0
}

@_cdecl("lsrec_catalog_item_vector")
public func lsrec_catalog_item_vector(_ handle: OpaquePointer?, _ item: Int64, _ out: UnsafeMutablePointer<Float>?,
                                      _ cap: UInt, _ bias: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded("lsrec_catalog_item_vector") {
        let box = try catalogBox(handle)
        let d = box.model.dim
        let dst = try outputBuffer(out, "out", cap: cap, needed: d, holds: "an item vector has \(d) floats")
        let (v, b) = try box.read { try $0.vector(ofItem: item) }
        write(v, to: dst)
        bias?.pointee = b
    }
}

@_cdecl("lsrec_catalog_score_items")
public func lsrec_catalog_score_items(_ handle: OpaquePointer?, _ state: OpaquePointer?, _ now: Int64,
                                      _ items: UnsafePointer<Int64>?, _ n: UInt,
                                      _ out: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded("lsrec_catalog_score_items") {
        let box = try catalogBox(handle)
        let s = try stateBox(state).state
        let time = try requestTime(now)
        let ids = try int64Array(items, try size(n, "n"), "items")
        guard !ids.isEmpty else { return }
        guard let out else { throw nullArgument("out") }
        write(try box.read { try $0.scores(s, now: time, itemIDs: ids) }, to: out)
    }
}

@_cdecl("lsrec_catalog_topk")
public func lsrec_catalog_topk(_ handle: OpaquePointer?, _ state: OpaquePointer?, _ now: Int64, _ k: UInt,
                               _ flags: UInt32, _ exclude: UnsafePointer<Int64>?, _ nExclude: UInt,
                               _ outItems: UnsafeMutablePointer<Int64>?, _ outScores: UnsafeMutablePointer<Float>?,
                               _ nOut: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("lsrec_catalog_topk") {
        let box = try catalogBox(handle)
        let s = try stateBox(state).state
        let time = try requestTime(now)
        let kk = try size(k, "k")
        guard kk > 0 else { throw LSRecError(.invalidArgument, "k is 0") }
        let excludeSeen = try checkFlags(flags)
        let extra = try int64Array(exclude, try size(nExclude, "n_exclude"), "exclude")
        guard let outItems else { throw nullArgument("out_items") }
        let best = try box.read { try $0.topK(s, now: time, k: kk, excludeSeen: excludeSeen, exclude: extra) }
        writeRanked(best.map(\.id), best.map(\.score), k: kk, pad: -.infinity, outItems, outScores)
        nOut?.pointee = UInt(best.count)
    }
}

@_cdecl("lsrec_catalog_explain")
public func lsrec_catalog_explain(_ handle: OpaquePointer?, _ state: OpaquePointer?, _ item: Int64, _ k: UInt,
                                  _ outItems: UnsafeMutablePointer<Int64>?, _ outWeights: UnsafeMutablePointer<Float>?,
                                  _ nOut: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("lsrec_catalog_explain") {
        let box = try catalogBox(handle)
        let s = try stateBox(state).state
        let kk = try size(k, "k")
        guard kk > 0 else { throw LSRecError(.invalidArgument, "k is 0") }
        guard let outItems else { throw nullArgument("out_history_items") }
        guard let outWeights else { throw nullArgument("out_weights") }
        let parts = try box.read { try $0.explain(s, now: .lastEvent, itemID: item, k: kk) }
        writeRanked(parts.map(\.id), parts.map(\.score), k: kk, pad: 0, outItems, outWeights)
        nOut?.pointee = UInt(parts.count)
    }
}

@_cdecl("lsrec_catalog_state_update")
public func lsrec_catalog_state_update(_ handle: OpaquePointer?, _ state: OpaquePointer?, _ item: Int64,
                                       _ ts: Int64) -> Int32 {
    guarded("lsrec_catalog_state_update") {
        let cat = try catalogBox(handle)
        let box = try stateBox(state)
        // In place: Catalog.update validates everything before it changes the state.
        try cat.read { try $0.update(&box.state, itemID: item, timestamp: ts) }
    }
}
