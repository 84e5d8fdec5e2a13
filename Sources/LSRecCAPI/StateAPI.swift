import LSRecCore
import LSRecFormat

@_cdecl("lsrec_state_new")
public func lsrec_state_new(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded("lsrec_state_new") {
        guard let out else { throw nullArgument("out") }
        out.pointee = nil
        let m = try modelBox(model).model
        out.pointee = retainHandle(StateBox(m.newState(), of: m))
    }
}

@_cdecl("lsrec_state_clone")
public func lsrec_state_clone(_ src: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded("lsrec_state_clone") {
        guard let out else { throw nullArgument("out") }
        out.pointee = nil
        let box = try stateBox(src, "src")
        out.pointee = retainHandle(StateBox(box.state, of: box.model))
    }
}

@_cdecl("lsrec_state_free")
public func lsrec_state_free(_ handle: OpaquePointer?) {
    guard let box = try? stateBox(handle) else { return }
    box.tag = 0
    Unmanaged<StateBox>.fromOpaque(UnsafeRawPointer(handle!)).release()
}

@_cdecl("lsrec_state_n_events")
public func lsrec_state_n_events(_ handle: OpaquePointer?) -> Int64 {
    guard let box = try? stateBox(handle) else { return -1 }
    return Int64(clamping: box.state.eventCount)
}

/// Dense index of one external id.
func itemIndex(_ model: Model, _ id: Int64) throws -> Int {
    guard let i = model.index(ofItem: id) else { throw LSRecError(.unknownItem, "item id \(id) is not in the model") }
    return i
}

/// Dense indices of external ids; the first unknown id is an error naming its position.
func itemIndices(_ model: Model, _ ids: [Int64]) throws -> [Int] {
    try ids.enumerated().map { n, id in
        guard let i = model.index(ofItem: id) else {
            throw LSRecError(.unknownItem, ids.count == 1 ? "item id \(id) is not in the model"
                                                          : "items[\(n)] = \(id) is not in the model")
        }
        return i
    }
}

@_cdecl("lsrec_state_update")
public func lsrec_state_update(_ model: OpaquePointer?, _ state: OpaquePointer?, _ item: Int64, _ ts: Int64) -> Int32 {
    guarded("lsrec_state_update") {
        let m = try modelBox(model).model
        let box = try stateBox(state)
        // The one-event path: no arrays, no batch validation (update validates before changing anything).
        try m.update(&box.state, itemIndex: itemIndex(m, item), timestamp: ts)
    }
}

@_cdecl("lsrec_state_update_many")
public func lsrec_state_update_many(_ model: OpaquePointer?, _ state: OpaquePointer?, _ items: UnsafePointer<Int64>?,
                                    _ ts: UnsafePointer<Int64>?, _ n: UInt) -> Int32 {
    guarded("lsrec_state_update_many") {
        let m = try modelBox(model).model
        let box = try stateBox(state)
        let count = try size(n, "n")
        let ids = try int64Array(items, count, "items"), times = try int64Array(ts, count, "unix_ts")
        try m.update(&box.state, itemIndices: itemIndices(m, ids), timestamps: times)
    }
}

@_cdecl("lsrec_state_serialize")
public func lsrec_state_serialize(_ state: OpaquePointer?, _ dst: UnsafeMutableRawPointer?, _ cap: UInt,
                                  _ needed: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("lsrec_state_serialize") {
        let blob = StateCodec.encode(try stateBox(state).state)
        needed?.pointee = UInt(blob.count)
        if dst == nil && cap == 0 { return }
        guard try size(cap, "cap") >= blob.count else {
            throw LSRecError(.bufferTooSmall, "cap = \(cap), the state needs \(blob.count) bytes")
        }
        guard let dst else { throw nullArgument("dst") }
        blob.withUnsafeBytes { dst.copyMemory(from: $0.baseAddress!, byteCount: blob.count) }
    }
}

@_cdecl("lsrec_state_deserialize")
public func lsrec_state_deserialize(_ model: OpaquePointer?, _ src: UnsafeRawPointer?, _ len: UInt,
                                    _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded("lsrec_state_deserialize") {
        guard let out else { throw nullArgument("out") }
        out.pointee = nil
        let m = try modelBox(model).model
        let n = try size(len, "len")
        var bytes: [UInt8] = []
        if n > 0 {
            guard let src else { throw nullArgument("src") }
            bytes = Array(UnsafeRawBufferPointer(start: src, count: n))
        }
        out.pointee = retainHandle(StateBox(try m.deserialize(bytes), of: m))
    }
}

@_cdecl("lsrec_state_rebase")
public func lsrec_state_rebase(_ newModel: OpaquePointer?, _ oldState: OpaquePointer?,
                               _ out: UnsafeMutablePointer<OpaquePointer?>?, _ skipped: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("lsrec_state_rebase") {
        guard let out else { throw nullArgument("out") }
        out.pointee = nil
        let m = try modelBox(newModel, "new_model").model
        let old = try stateBox(oldState, "old_state")
        let (fresh, dropped) = try m.rebase(old.state, from: old.model)
        skipped?.pointee = UInt(dropped)
        out.pointee = retainHandle(StateBox(fresh, of: m))
    }
}
