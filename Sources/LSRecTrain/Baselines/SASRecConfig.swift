/// Hyper-parameters of the SASRec baseline (Kang & McAuley 2018, "Self-Attentive Sequential
/// Recommendation"). Architecture defaults are the paper's ML-1M settings (n = 200, 2 blocks,
/// 1 head, dropout 0.2, FFN size = d, Adam with β2 = 0.98), with d = 64 and the full-softmax loss
/// of the stronger CE variants (Klenitskiy & Vasilev 2023, Petrov & Macdonald 2023).
///
/// The optimisation schedule is tuned for a ~10-minute budget on 2 shared cores rather than the
/// paper's hundreds of epochs: batch 32 users, lr 4e-3, ≤ 30 epochs with early stopping (an
/// epoch costs about the same at any batch size; smaller batches take more steps). Short ML-1M
/// sweeps, validation NDCG@10 (full ranking, seen kept) after 8 epochs: batch 32 / lr 1e-3 0.091,
/// batch 16 / lr 1e-3 0.097, batch 32 / lr 2e-3 0.099, batch 32 / lr 4e-3 0.107; batch 128 /
/// lr 2e-3 was at 0.057 after 4 epochs (batch 32 / lr 2e-3: 0.089), batch 128 / lr 1e-3 at 0.012
/// after 2.
public struct SASRecConfig: Sendable, Equatable {
    /// Training objective.
    public enum Loss: String, Sendable, CaseIterable {
        /// Softmax cross-entropy over the full catalogue at every position (the default).
        case fullSoftmax
        /// The paper's objective: binary cross-entropy of the target against one negative per
        /// position, drawn uniformly from the items absent from the user's training events.
        case binaryCrossEntropy
    }

    /// Embedding / hidden size d.
    public var dim = 64
    /// Inner size of the point-wise feed-forward network (the paper uses d; set it with `dim`).
    public var ffnDim = 64
    /// Maximum sequence length n: training uses the last n (input, target) pairs of each user's
    /// training events, scoring the last n history items. Positions count from the end.
    public var maxLength = 200
    /// Self-attention blocks.
    public var blocks = 2
    /// Dropout rate on the embeddings, the attention weights and both FFN layers (training only).
    public var dropout: Double = 0.2
    public var loss: Loss = .fullSoftmax
    /// Users per mini-batch.
    public var batchSize = 32
    public var learningRate: Double = 4e-3
    public var adamBeta1: Double = 0.9
    public var adamBeta2: Double = 0.98
    public var adamEpsilon: Double = 1e-8
    /// ε inside every LayerNorm (the reference implementations use 1e-8).
    public var layerNormEpsilon: Double = 1e-8
    /// Upper bound on training epochs (one epoch = every training user once).
    public var maxEpochs = 30
    /// Evaluate validation NDCG@10 every this many epochs.
    public var evalEvery = 1
    /// Stop after this many validation evaluations without a new best NDCG@10; the returned
    /// model holds the best parameters seen.
    public var patience = 5
    /// Evaluate validation on the first this many users only (nil = all).
    public var validationUsers: Int?
    /// Seed of initialisation, shuffling, dropout masks and negatives.
    public var seed: UInt64 = 1
    /// Threads for OpenBLAS, the row-parallel loops and validation. Results are reproducible for
    /// a fixed seed and thread count.
    public var threads = 2

    public init() {}
}
