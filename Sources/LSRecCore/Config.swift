import LSRecFormat

/// How the short-term (LSTM) and long-term (attention) interests are combined (docs/MODEL.md).
public enum Fusion: String, Sendable, CaseIterable {
    /// u = g ⊙ h′ + (1 − g) ⊙ l, the fused model.
    case gate
    /// u = h′: the LSTM-only ablation.
    case short
    /// u = l: the attention-only ablation.
    case long
}

/// Sizes and options of an lsrec-v1 model, read from the weight file's metadata.
public struct ModelConfig: Sendable, Equatable {
    public var dim: Int
    public var history: Int
    public var nItems: Int
    public var textDim: Int
    public var timeDim: Int
    public var timeBuckets: Int
    public var fusion: Fusion

    public init(dim: Int = 64, history: Int = 200, nItems: Int, textDim: Int = 0,
                timeDim: Int = 16, timeBuckets: Int = 32, fusion: Fusion = .gate) {
        self.dim = dim
        self.history = history
        self.nItems = nItems
        self.textDim = textDim
        self.timeDim = timeDim
        self.timeBuckets = timeBuckets
        self.fusion = fusion
    }
}

/// The time at which a recommendation is requested, for the request-gap embedding τ.
public enum RequestTime: Sendable, Equatable {
    /// A unix time in seconds.
    case at(Int64)
    /// The time of the user's last event (gap bucket 1), or unknown when there is none.
    case lastEvent
    /// Unknown (gap bucket 0).
    case unknown
}

/// MODEL.md's `bucket(Δ)`: 0 unknown, 1 for Δ ≤ 0, then 2 + ⌊log₂ Δ⌋ capped at `buckets − 1`.
/// Integer arithmetic only, so trainer and runtime always agree.
@inline(__always)
public func timeBucket(_ delta: Int64?, buckets: Int) -> Int {
    guard let delta else { return 0 }
    if delta <= 0 { return 1 }
    let log2 = 63 - delta.leadingZeroBitCount
    return 2 + min(buckets - 3, log2)
}
