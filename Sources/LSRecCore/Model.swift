import LSRecFormat
#if canImport(Glibc)
import Glibc
#endif

/// An immutable, loaded lsrec-v1 model. Safe to share between threads: nothing mutates after init.
public final class Model: @unchecked Sendable {
    public let config: ModelConfig
    /// Dense item index -> external item id, as stored in the file.
    public let itemIDs: [Int64]
    /// The weight file's metadata, in file order.
    public let metadata: [(key: String, value: MetaValue)]
    /// Fingerprint of the weights (FORMAT.md); user-state blobs carry it.
    public let fingerprint: UInt64

    let indexOfID: [Int64: Int32]
    /// Item matrix X [N, d]: e_i = E[i] + P·T[i], precomputed at load.
    /// The matrices the request paths stream through are cache-line aligned (AlignedFloats.swift).
    let items: AlignedFloats
    let itemBias: [Float]
    let eventGap: [Float]      // G  [B, t]
    let requestGap: [Float]    // Gτ [B, t]
    let lstmWx: AlignedFloats  // [4d, d+t]
    let lstmWh: AlignedFloats  // [4d, d]
    let lstmBias: [Float]      // [4d]
    let attnWq: [Float]        // [d, d]
    let attnWk: [Float]
    let attnWv: AlignedFloats  // [d, d]
    let gateW: AlignedFloats   // [d, 2d+t]
    let gateBias: [Float]      // [d]
    let outW: AlignedFloats    // [d, d]
    /// Text projection P [d, k] (empty when k = 0); kept so items added after training can be projected.
    let textProj: [Float]
    /// Bias given to an item that was not trained (NewItem.swift): `item.new_bias` when the file
    /// has it (learned with item-ID dropout), else the median trained item bias.
    public let newItemBias: Float
    /// β of the repeat term (`score.repeat_bias`, RepeatTerm.swift), nil when the file has none.
    public let repeatBias: Float?
    /// Weight products folded at load for the request paths (PreparedWeights.swift).
    let prepared: PreparedWeights
    /// max over items of |e_i[j]| per dimension j (the overflow bounds of NumericRange.swift).
    let itemColumnMax: [Double]
    /// The largest |value| in the vector of an item added to a catalogue that a user state may
    /// hold (an event on it); beyond, float32 overflow could not be ruled out. Set at load.
    public private(set) var heldVectorLimit: Float = 0
    /// The approximate (int8 or binary16) copy of the item matrix (ModelOptions.screenItems), when built.
    let screen: ItemScreen?
    /// True when single-user top-K goes through the screen.
    public var screensItems: Bool { screen != nil }
    /// Bytes of the screening copy (0 without one).
    public var screenBytes: Int { screen?.bytes ?? 0 }

    /// Parses, verifies (every checksum) and loads a weight file held in memory.
    public convenience init(bytes: [UInt8], options: ModelOptions = ModelOptions()) throws {
        try self.init(file: WeightFile(bytes: bytes), options: options)
    }

    /// Reads and loads a weight file from disk.
    public convenience init(path: String, options: ModelOptions = ModelOptions()) throws {
        try self.init(bytes: FileIO.readAll(path: path), options: options)
    }

    /// Loads from an already parsed and verified weight file; checks it is a consistent lsrec-v1 model.
    public init(file: WeightFile, options: ModelOptions = ModelOptions()) throws {
        let arch = try file.string("general.architecture")
        guard arch == "lsrec-v1" else {
            throw LSRecError(.format, "unsupported architecture '\(arch)' (this library reads lsrec-v1)")
        }
        func size(_ key: String, _ range: ClosedRange<Int64>) throws -> Int {
            let v = try file.int(key)
            guard range.contains(v) else {
                throw LSRecError(.format, "metadata '\(key)' = \(v) is outside \(range.lowerBound)...\(range.upperBound)")
            }
            return Int(v)
        }
        let d = try size("lsrec.dim", 1...4096)
        let L = try size("lsrec.history", 1...65536)
        let n = try size("lsrec.n_items", 1...Int64(Int32.max))
        let k = try size("lsrec.text_dim", 0...65536)
        let t = try size("lsrec.time_dim", 1...4096)
        let b = try size("lsrec.time_buckets", 3...64)
        let fusionName = try file.string("lsrec.fusion")
        guard let fusion = Fusion(rawValue: fusionName) else {
            throw LSRecError(.format, "metadata 'lsrec.fusion' = '\(fusionName)' is not gate, short or long")
        }
        config = ModelConfig(dim: d, history: L, nItems: n, textDim: k, timeDim: t, timeBuckets: b, fusion: fusion)
        metadata = file.metadata
        fingerprint = file.fingerprint

        func check(_ name: String, _ shape: [Int]) throws {
            guard let info = file.tensor(name) else { throw LSRecError(.format, "missing tensor '\(name)'") }
            guard info.shape == shape else {
                throw LSRecError(.format, "tensor '\(name)' has shape \(info.shape), expected \(shape) from the metadata")
            }
        }
        func load(_ name: String, _ shape: [Int]) throws -> [Float] {
            try check(name, shape)
            return try file.floats(name)
        }
        // The matrices the request paths stream through, written straight into aligned storage.
        func loadAligned(_ name: String, _ shape: [Int]) throws -> AlignedFloats {
            try check(name, shape)
            return try AlignedFloats(count: shape.reduce(1, *)) { try file.copyFloats(name, into: $0) }
        }
        guard let idInfo = file.tensor("item.ids") else { throw LSRecError(.format, "missing tensor 'item.ids'") }
        guard idInfo.shape == [n] else {
            throw LSRecError(.format, "tensor 'item.ids' has shape \(idInfo.shape), expected [\(n)] from the metadata")
        }
        itemIDs = try file.int64s("item.ids")
        var index = [Int64: Int32](minimumCapacity: n)
        for (i, id) in itemIDs.enumerated() {
            if index.updateValue(Int32(i), forKey: id) != nil {
                throw LSRecError(.format, "tensor 'item.ids': item id \(id) appears twice")
            }
        }
        indexOfID = index

        try check("item.embedding", [n, d])
        var proj: [Float] = []
        if k > 0 {
            try check("item.text", [n, k])
            proj = try load("item.text_proj", [d, k])
        } else if file.tensor("item.text") != nil || file.tensor("item.text_proj") != nil {
            throw LSRecError(.format, "tensor 'item.text' present but metadata 'lsrec.text_dim' is 0")
        }
        let x = try AlignedFloats(count: n * d) { x in
            try file.copyFloats("item.embedding", into: x)
            guard k > 0 else { return }
            let text = try file.floats("item.text")
            // X += T · Pᵀ  ([N,k] × [k,d])
            text.withUnsafeBufferPointer { text in
                proj.withUnsafeBufferPointer { proj in
                    BLAS.gemm(transA: false, transB: true, m: n, n: d, k: k, alpha: 1, text, proj, beta: 1, x)
                }
            }
            guard x.allSatisfy({ $0.isFinite }) else {
                throw LSRecError(.nonFinite, "item vectors E + P·T overflow to Inf")
            }
        }
        items = x
        itemColumnMax = Model.columnMax(x, rows: n, cols: d)
        textProj = proj
        itemBias = try load("item.bias", [n])
        // Trained with item-ID dropout, the file carries the learned new-item bias (NewItem.swift).
        if file.tensor("item.new_bias") != nil {
            guard k > 0 else { throw LSRecError(.format, "tensor 'item.new_bias' present but metadata 'lsrec.text_dim' is 0") }
            newItemBias = try load("item.new_bias", [1])[0]
        } else {
            newItemBias = Model.median(itemBias)
        }
        // Trained with the repeat term, the file carries β; |β| ≤ float max / 4 keeps every
        // score + β finite (checkNoOverflow bounds the scores by the same quarter).
        if file.tensor("score.repeat_bias") != nil {
            let beta = try load("score.repeat_bias", [1])[0]
            guard beta.isFinite, abs(beta) <= Float.greatestFiniteMagnitude / 4 else {
                throw LSRecError(.nonFinite, "tensor 'score.repeat_bias' is \(beta), outside ±float max / 4")
            }
            repeatBias = beta
        } else {
            repeatBias = nil
        }
        eventGap = try load("time.event_gap", [b, t])
        requestGap = try load("time.request_gap", [b, t])
        lstmWx = try loadAligned("lstm.w_x", [4 * d, d + t])
        lstmWh = try loadAligned("lstm.w_h", [4 * d, d])
        lstmBias = try load("lstm.bias", [4 * d])
        attnWq = try load("attn.w_q", [d, d])
        attnWk = try load("attn.w_k", [d, d])
        attnWv = try loadAligned("attn.w_v", [d, d])
        gateW = try loadAligned("gate.w", [d, 2 * d + t])
        gateBias = try load("gate.bias", [d])
        outW = try loadAligned("out.w_h", [d, d])
        screen = options.screenItems ? ItemScreen(items: x, bias: itemBias, rows: n, dim: d, format: options.screenFormat) : nil
        prepared = PreparedWeights(d: d, t: t, buckets: b, lstmWx: lstmWx, lstmBias: lstmBias, eventGap: eventGap,
                                   gateW: gateW, gateBias: gateBias, requestGap: requestGap,
                                   attnWq: attnWq, attnWk: attnWk)
        try checkNoOverflow()
        heldVectorLimit = largestHeldVectorLimit()
    }

    public var nItems: Int { config.nItems }
    public var dim: Int { config.dim }

    /// Dense index of an external item id, or nil when the model does not know it.
    @inline(__always)
    public func index(ofItem id: Int64) -> Int? {
        indexOfID[id].map(Int.init)
    }

    /// The precomputed vector e_i of item `index` (a copy).
    public func itemVector(_ index: Int) -> [Float] {
        Array(items[index * dim ..< (index + 1) * dim])
    }

    /// Value of a metadata key, rendered as text (ints and floats in Swift's shortest form).
    public func metadataText(_ key: String) -> String? {
        guard let v = metadata.first(where: { $0.key == key })?.value else { return nil }
        switch v {
        case .int(let i): return String(i)
        case .float(let f): return String(f)
        case .string(let s): return s
        }
    }
}
