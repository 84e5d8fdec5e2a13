import Foundation

/// What `trainSASRec` did: per-epoch loss, the validation curve, and the epoch kept.
public struct SASRecTrainingReport: Sendable {
    /// One validation evaluation (full ranking, seen items kept — the harness headline).
    public struct Validation: Sendable {
        public var epoch: Int
        public var ndcg10: Double
        public var hr10: Double
    }
    /// Epochs run (early stopping may end before `maxEpochs`).
    public var epochs = 0
    /// The epoch whose parameters the model holds (best validation NDCG@10).
    public var bestEpoch = 0
    public var bestValidationNDCG10 = -1.0
    /// Mean training loss per epoch (mean over all target positions of the epoch's batches).
    public var epochLoss: [Double] = []
    public var validation: [Validation] = []
    /// Training (input, target) positions per epoch.
    public var rowsPerEpoch = 0
    /// Wall time of training including validation, seconds.
    public var seconds = 0.0
    public init() {}
}

/// A trained SASRec model. As a `Ranker` it scores the whole catalogue from the last
/// `maxLength` items of a history, without dropout: score(i) = z·E[i], z the final
/// (LayerNorm'ed) hidden state at the latest position. Timestamps are not used.
public final class SASRecModel: Ranker, @unchecked Sendable { // immutable after init; the pool is locked
    public let config: SASRecConfig
    public let nItems: Int
    /// Flat parameter vector (layout: SASRecParameters.swift).
    public let parameters: [Float]
    public let report: SASRecTrainingReport
    let layout: SASRecLayout

    // Scoring networks for concurrent `scores` calls (each call takes one, then returns it).
    private let lock = NSLock()
    private var pool: [SASRecNetwork<Float>] = []

    init(config: SASRecConfig, nItems: Int, parameters: [Float], report: SASRecTrainingReport) {
        self.config = config
        self.nItems = nItems
        layout = SASRecLayout(nItems: nItems, config: config)
        precondition(parameters.count == layout.total, "parameter vector does not match the configuration")
        self.parameters = parameters
        self.report = report
    }

    public func scores(user: Int, history: ArraySlice<Int32>, timestamps: ArraySlice<Int64>, now: Int64,
                       into out: inout [Float]) {
        scores(history: history, into: &out)
    }

    /// Scores of every item after `history` (oldest first; only the last `maxLength` are used).
    /// An empty history gives all zeros.
    public func scores(history: ArraySlice<Int32>, into out: inout [Float]) {
        if out.count != nItems { out = [Float](repeating: 0, count: nItems) }
        guard !history.isEmpty else {
            for i in 0..<nItems { out[i] = 0 }
            return
        }
        lock.lock()
        let net = pool.popLast() ?? SASRecNetwork<Float>(layout: layout, threads: 1, dropout: 0,
                                                          layerNormEpsilon: config.layerNormEpsilon, trainable: false)
        lock.unlock()
        var batch = SASRecBatch()
        batch.append(history.suffix(config.maxLength), targets: nil, maxLength: config.maxLength)
        let d = layout.dim
        parameters.withUnsafeBufferPointer { P in
            let p = P.baseAddress!
            net.forward(batch, p, dropoutSeed: nil)
            out.withUnsafeMutableBufferPointer { o in
                // scores = E · z_last
                Float.sasGemm(false, false, nItems, 1, d, 1, p + layout.itemEmb, d,
                              net.z.p + (batch.rows - 1) * d, 1, 0, o.baseAddress!, 1)
            }
        }
        lock.lock()
        pool.append(net)
        lock.unlock()
    }
}

extension SASRecModel {
    /// The shared harness's `evaluate`, with OpenBLAS held at one thread while it runs (restored
    /// afterwards): `threads` users are scored in parallel, each single-threaded, which is much
    /// faster than nesting OpenBLAS's own threads inside every small product.
    public func evaluate(on data: Dataset, split: EvalSplit, maxUsers: Int? = nil, threads: Int) -> EvalReport {
        let old = sasSetBLASThreads(1)
        defer { sasSetBLASThreads(old) }
        return LSRecTrain.evaluate(self, on: data, split: split, maxUsers: maxUsers, threads: threads)
    }
}
