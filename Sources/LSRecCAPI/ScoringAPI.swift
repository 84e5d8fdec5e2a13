import LSRecCore
import LSRecFormat

@_cdecl("lsrec_score")
public func lsrec_score(_ model: OpaquePointer?, _ state: OpaquePointer?, _ now: Int64,
                        _ out: UnsafeMutablePointer<Float>?, _ cap: UInt) -> Int32 {
    guarded("lsrec_score") {
        let m = try modelBox(model).model
        let s = try stateBox(state).state
        let time = try requestTime(now)
        let dst = try outputBuffer(out, "out", cap: cap, needed: m.nItems, holds: "the model has \(m.nItems) items")
        write(try m.scores(s, now: time), to: dst)
    }
}

@_cdecl("lsrec_score_items")
public func lsrec_score_items(_ model: OpaquePointer?, _ state: OpaquePointer?, _ now: Int64,
                              _ items: UnsafePointer<Int64>?, _ n: UInt, _ out: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded("lsrec_score_items") {
        let m = try modelBox(model).model
        let s = try stateBox(state).state
        let time = try requestTime(now)
        let ids = try int64Array(items, try size(n, "n"), "items")
        guard !ids.isEmpty else { return }
        guard let out else { throw nullArgument("out") }
        write(try m.scores(s, now: time, itemIndices: itemIndices(m, ids)), to: out)
    }
}

/// Writes a ranked list into caller buffers of k slots, padding with id -1 / `pad`.
func writeRanked(_ ids: [Int64], _ values: [Float], k: Int, pad: Float,
                 _ outItems: UnsafeMutablePointer<Int64>, _ outValues: UnsafeMutablePointer<Float>?) {
    for slot in 0..<k {
        let real = slot < ids.count
        outItems[slot] = real ? ids[slot] : -1
        outValues?[slot] = real ? values[slot] : pad
    }
}

func checkFlags(_ flags: UInt32) throws -> Bool {
    guard flags & ~1 == 0 else { throw LSRecError(.invalidArgument, "unknown flags 0x\(String(flags, radix: 16))") }
    return flags & 1 != 0
}

/// lsrec_topk's arguments, checked; built before anything changes, so lsrec_state_update_topk
/// refuses bad top-k arguments before it touches the state.
struct TopKRequest {
    let time: RequestTime, k: Int, excludeSeen: Bool, extra: [Int]
    let outItems: UnsafeMutablePointer<Int64>, outScores: UnsafeMutablePointer<Float>?
    let nOut: UnsafeMutablePointer<UInt>?

    init(_ m: Model, now: Int64, k: UInt, flags: UInt32, exclude: UnsafePointer<Int64>?, nExclude: UInt,
         outItems: UnsafeMutablePointer<Int64>?, outScores: UnsafeMutablePointer<Float>?,
         nOut: UnsafeMutablePointer<UInt>?) throws {
        time = try requestTime(now)
        self.k = try size(k, "k")
        guard self.k > 0 else { throw LSRecError(.invalidArgument, "k is 0") }
        excludeSeen = try checkFlags(flags)
        extra = try int64Array(exclude, try size(nExclude, "n_exclude"), "exclude").compactMap(m.index(ofItem:))
        guard let outItems else { throw nullArgument("out_items") }
        self.outItems = outItems
        self.outScores = outScores
        self.nOut = nOut
    }

    /// Ranks and writes the k slots and *n_out.
    func run(_ m: Model, _ s: UserState) throws {
        let best = try m.topK(s, now: time, k: k, excludeSeen: excludeSeen, exclude: extra)
        writeRanked(best.map { m.itemIDs[$0.index] }, best.map(\.score), k: k, pad: -.infinity, outItems, outScores)
        nOut?.pointee = UInt(best.count)
    }
}

@_cdecl("lsrec_topk")
public func lsrec_topk(_ model: OpaquePointer?, _ state: OpaquePointer?, _ now: Int64, _ k: UInt, _ flags: UInt32,
                       _ exclude: UnsafePointer<Int64>?, _ nExclude: UInt,
                       _ outItems: UnsafeMutablePointer<Int64>?, _ outScores: UnsafeMutablePointer<Float>?,
                       _ nOut: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("lsrec_topk") {
        let m = try modelBox(model).model
        let s = try stateBox(state).state
        try TopKRequest(m, now: now, k: k, flags: flags, exclude: exclude, nExclude: nExclude,
                        outItems: outItems, outScores: outScores, nOut: nOut).run(m, s)
    }
}

@_cdecl("lsrec_state_update_topk")
public func lsrec_state_update_topk(_ model: OpaquePointer?, _ state: OpaquePointer?, _ item: Int64, _ ts: Int64,
                                    _ now: Int64, _ k: UInt, _ flags: UInt32,
                                    _ exclude: UnsafePointer<Int64>?, _ nExclude: UInt,
                                    _ outItems: UnsafeMutablePointer<Int64>?, _ outScores: UnsafeMutablePointer<Float>?,
                                    _ nOut: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("lsrec_state_update_topk") {
        let m = try modelBox(model).model
        let box = try stateBox(state)
        // Every argument is checked before the update (which checks the event), so a failure
        // leaves the state and the output buffers as they were; after it, ranking cannot fail.
        let request = try TopKRequest(m, now: now, k: k, flags: flags, exclude: exclude, nExclude: nExclude,
                                      outItems: outItems, outScores: outScores, nOut: nOut)
        try m.update(&box.state, itemIndex: itemIndex(m, item), timestamp: ts)
        try request.run(m, box.state)
    }
}

@_cdecl("lsrec_topk_batch")
public func lsrec_topk_batch(_ model: OpaquePointer?, _ states: UnsafePointer<OpaquePointer?>?, _ n: UInt,
                             _ now: Int64, _ k: UInt, _ flags: UInt32,
                             _ outItems: UnsafeMutablePointer<Int64>?, _ outScores: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded("lsrec_topk_batch") {
        let m = try modelBox(model).model
        let users = try size(n, "n"), kk = try size(k, "k")
        let time = try requestTime(now)
        guard kk > 0 else { throw LSRecError(.invalidArgument, "k is 0") }
        let excludeSeen = try checkFlags(flags)
        guard users > 0 else { return }
        guard let states else { throw nullArgument("states") }
        guard let outItems else { throw nullArgument("out_items") }
        guard !users.multipliedReportingOverflow(by: kk).overflow else {
            throw LSRecError(.invalidArgument, "n × k overflows")
        }
        let list = try (0..<users).map { b in try stateBox(states[b], "states[\(b)]").state }
        let results = try m.topKBatch(list, now: time, k: kk, excludeSeen: excludeSeen)
        for (b, best) in results.enumerated() {
            writeRanked(best.map { m.itemIDs[$0.index] }, best.map(\.score), k: kk, pad: -.infinity,
                        outItems + b * kk, outScores.map { $0 + b * kk })
        }
    }
}

@_cdecl("lsrec_explain")
public func lsrec_explain(_ model: OpaquePointer?, _ state: OpaquePointer?, _ item: Int64, _ k: UInt,
                          _ outItems: UnsafeMutablePointer<Int64>?, _ outWeights: UnsafeMutablePointer<Float>?,
                          _ nOut: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("lsrec_explain") {
        let m = try modelBox(model).model
        let s = try stateBox(state).state
        let kk = try size(k, "k")
        guard kk > 0 else { throw LSRecError(.invalidArgument, "k is 0") }
        guard let outItems else { throw nullArgument("out_history_items") }
        guard let outWeights else { throw nullArgument("out_weights") }
        let target = try itemIndices(m, [item])[0]
        let parts = try m.explain(s, now: .lastEvent, itemIndex: target, k: kk)
        writeRanked(parts.map { $0.item.id(in: m) }, parts.map(\.weight), k: kk, pad: 0, outItems, outWeights)
        nOut?.pointee = UInt(parts.count)
    }
}

@_cdecl("lsrec_user_vector")
public func lsrec_user_vector(_ model: OpaquePointer?, _ state: OpaquePointer?, _ now: Int64,
                              _ out: UnsafeMutablePointer<Float>?, _ cap: UInt) -> Int32 {
    guarded("lsrec_user_vector") {
        let m = try modelBox(model).model
        let s = try stateBox(state).state
        let time = try requestTime(now)
        let dst = try outputBuffer(out, "out", cap: cap, needed: m.dim, holds: "the user vector has \(m.dim) floats")
        write(try m.userVector(s, now: time), to: dst)
    }
}
