import LSRecCore

/// Which training loss to optimise.
public enum LossKind: String, Sendable, CaseIterable {
    /// Softmax cross-entropy over the whole catalogue (exact; one big sgemm per window).
    case full
    /// Sampled softmax with log-Q correction: shared negatives drawn from the unigram^0.75 law.
    case sampled
}

/// How the learning rate evolves over the planned epochs.
public enum LRSchedule: String, Sendable, CaseIterable {
    case constant
    /// Cosine decay from `learningRate` to 5% of it at the end of `epochs` (per step).
    case cosine
}

/// Model sizes and training hyper-parameters. Defaults are the ones `lsrec train` uses.
public struct TrainConfig: Sendable, Equatable {
    /// Model width d. 128: on ml-1m-timed it reached test NDCG@10 0.204 / HR@10 0.339 in 12
    /// epochs (7.5 min on the 2-core benchmark machine) against 0.174 / 0.300 at 64
    /// (BENCHMARKS.md); scoring costs twice the FLOPs and bytes of d = 64.
    public var dim = 128
    /// Attention history bound L.
    public var history = 200
    /// Width of the time-gap embeddings.
    public var timeDim = 16
    /// Rows of the time-gap tables (B ≥ 3).
    public var timeBuckets = 32
    /// Width k of the fixed text features (0 = no text projection).
    public var textDim = 0
    public var fusion: Fusion = .gate
    /// Truncated back-propagation window W (events per lane per optimiser step).
    public var window = 32
    /// Lanes (users processed side by side) per optimiser step. Small batches learn more per
    /// epoch on ML-1M (16 lanes × 32 events = 512 targets per Adam step).
    public var batch = 16
    public var learningRate = 4e-3
    public var schedule: LRSchedule = .cosine
    public var beta1 = 0.9
    public var beta2 = 0.999
    public var epsilon = 1e-8
    /// Global gradient-norm clip (≤ 0 disables).
    public var clipNorm = 5.0
    /// Dropout rate on the LSTM input [e_i ; G] during training (inverted; 0 = off).
    public var dropoutInput = 0.2
    /// Dropout rate on the fused user vector u during training (inverted; 0 = off).
    public var dropoutOutput = 0.2
    /// L2 penalty on every weight (decoupled, AdamW style); 0 disables.
    public var weightDecay = 0.0
    /// Planned epochs (the cosine schedule spans them). 12 keeps ML-1M-timed within ~6 min of
    /// 2 idle cores; 16 gains ≈ +0.004 test NDCG@10 for a third more time.
    public var epochs = 12
    /// Stop after this many epochs without a better validation NDCG@10.
    public var patience = 3
    public var seed: UInt64 = 1
    /// Threads for OpenBLAS and the per-lane loops. Results are reproducible per thread count.
    public var threads = 2
    public var loss: LossKind = .full
    /// Negatives per window for `.sampled`.
    public var negatives = 1024
    /// Validate on the first this-many evaluable users only (nil = all).
    public var validationUsers: Int? = nil
    /// Standard deviation of the item-embedding initialisation.
    public var initScale = 0.05
    /// Cold-start protocol: this fraction of items is held out of training entirely (`ColdItems`);
    /// 0 = none.
    public var coldFraction = 0.0
    /// Seed of the held-out item draw (independent of `seed`).
    public var coldSeed: UInt64 = 1
    /// Item-ID dropout: per training window, each item's learned embedding E row is left out with
    /// this probability (its vector is then P·t alone), teaching the text projection to stand in
    /// for items without an embedding (cold start). 0 = off; needs text (textDim > 0).
    public var idDropout = 0.0
    /// Train on events without a timestamp as targets too. false: they are inputs only (their
    /// order within the user is file order, not time order — ml-1m-full's untimed prefix).
    public var untimedTargets = true
    /// Learn the repeat term β (MODEL.md "Scores"): one scalar added to the score of every item
    /// the user state holds, so the model learns from the data how likely a user is to pick an
    /// item again (ML-1M: never — a movie is rated once). Off by default: a request then also
    /// scores the held items one by one and merges them into the top k.
    public var repeatBias = false

    public init() {}

    /// Throws a readable error for sizes the model or the trainer cannot use.
    public func validate() throws {
        func need(_ ok: Bool, _ what: String) throws {
            if !ok { throw TrainError.invalidConfig(what) }
        }
        try need(dim >= 1 && dim <= 4096, "dim must be in 1...4096")
        try need(history >= 1, "history must be ≥ 1")
        try need(timeDim >= 1, "time dim must be ≥ 1")
        try need(timeBuckets >= 3 && timeBuckets <= 64, "time buckets must be in 3...64")
        try need(textDim >= 0, "text dim must be ≥ 0")
        try need(window >= 1, "window must be ≥ 1")
        try need(batch >= 1, "batch must be ≥ 1")
        try need(learningRate > 0 && learningRate.isFinite, "learning rate must be > 0")
        try need(epochs >= 0, "epochs must be ≥ 0")
        try need(threads >= 1, "threads must be ≥ 1")
        try need(negatives >= 1, "negatives must be ≥ 1")
        try need(coldFraction >= 0 && coldFraction < 1, "cold-item fraction must be in [0, 1)")
        try need(idDropout >= 0 && idDropout < 1, "item-ID dropout must be in [0, 1)")
        try need(dropoutInput >= 0 && dropoutInput < 1 && dropoutOutput >= 0 && dropoutOutput < 1,
                 "dropout rates must be in [0, 1)")
    }
}

/// Errors of the trainer that are not weight-file errors.
public enum TrainError: Error, CustomStringConvertible, Sendable {
    case invalidConfig(String)
    case noTrainingData(String)
    case checkpoint(String)
    case diverged(String)

    public var description: String {
        switch self {
        case .invalidConfig(let s): return "invalid training configuration: \(s)"
        case .noTrainingData(let s): return "no training data: \(s)"
        case .checkpoint(let s): return "checkpoint: \(s)"
        case .diverged(let s): return "training diverged: \(s)"
        }
    }
}
