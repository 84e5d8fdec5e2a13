import LSRecCore

/// Sizes of one lsrec-v1 network (docs/MODEL.md notation in the comments).
public struct NetworkShape: Sendable, Equatable {
    /// N
    public var nItems: Int
    /// d
    public var dim: Int
    /// L
    public var history: Int
    /// t
    public var timeDim: Int
    /// B
    public var timeBuckets: Int
    /// k (0 = no text)
    public var textDim: Int
    public var fusion: Fusion
    /// The model has the learned repeat term β (`score.repeat_bias`, MODEL.md "Scores").
    public var repeatBias: Bool

    public init(nItems: Int, dim: Int, history: Int, timeDim: Int, timeBuckets: Int, textDim: Int, fusion: Fusion,
                repeatBias: Bool = false) {
        self.nItems = nItems; self.dim = dim; self.history = history; self.timeDim = timeDim
        self.timeBuckets = timeBuckets; self.textDim = textDim; self.fusion = fusion; self.repeatBias = repeatBias
    }

    /// The core's view of the same sizes.
    public var modelConfig: ModelConfig {
        ModelConfig(dim: dim, history: history, nItems: nItems, textDim: textDim, timeDim: timeDim,
                    timeBuckets: timeBuckets, fusion: fusion)
    }
}

/// The trainable tensors, in weight-file order. `item.text` is fixed data, not a parameter.
public enum ParamID: Int, CaseIterable, Sendable {
    case itemEmbedding, itemBias, textProj, eventGap, requestGap
    case lstmWx, lstmWh, lstmBias, attnWq, attnWk, attnWv, gateW, gateBias, outW
    /// The bias of an item whose ID embedding is dropped (item-ID dropout): learned, so the
    /// model itself says what an item it knows only from its text deserves. Written as
    /// `item.new_bias` only when trained (`TrainConfig.idDropout` > 0).
    case newItemBias
    /// β, added to the score of every distinct item among the events a user state holds (the
    /// repeat term, `TrainConfig.repeatBias`). Shape [0] (absent) unless `NetworkShape.repeatBias`.
    case repeatBias

    /// Tensor name in the weight file (docs/FORMAT.md).
    public var name: String {
        switch self {
        case .itemEmbedding: return "item.embedding"
        case .itemBias: return "item.bias"
        case .textProj: return "item.text_proj"
        case .eventGap: return "time.event_gap"
        case .requestGap: return "time.request_gap"
        case .lstmWx: return "lstm.w_x"
        case .lstmWh: return "lstm.w_h"
        case .lstmBias: return "lstm.bias"
        case .attnWq: return "attn.w_q"
        case .attnWk: return "attn.w_k"
        case .attnWv: return "attn.w_v"
        case .gateW: return "gate.w"
        case .gateBias: return "gate.bias"
        case .outW: return "out.w_h"
        case .newItemBias: return "item.new_bias"
        case .repeatBias: return "score.repeat_bias"
        }
    }

    /// Shape for the given sizes; `textProj` is [d, 0] (absent) without text.
    public func shape(_ s: NetworkShape) -> [Int] {
        let d = s.dim, t = s.timeDim
        switch self {
        case .itemEmbedding: return [s.nItems, d]
        case .itemBias: return [s.nItems]
        case .textProj: return [d, s.textDim]
        case .eventGap, .requestGap: return [s.timeBuckets, t]
        case .lstmWx: return [4 * d, d + t]
        case .lstmWh: return [4 * d, d]
        case .lstmBias: return [4 * d]
        case .attnWq, .attnWk, .attnWv, .outW: return [d, d]
        case .gateW: return [d, 2 * d + t]
        case .gateBias: return [d]
        case .newItemBias: return [1]
        case .repeatBias: return [s.repeatBias ? 1 : 0]
        }
    }
}

/// Where each tensor lives inside the flat parameter vector.
public struct ParameterLayout: Sendable, Equatable {
    public let shape: NetworkShape
    /// `offsets[id.rawValue] ..< offsets[id.rawValue] + counts[id.rawValue]`.
    public let offsets: [Int]
    public let counts: [Int]
    /// Total scalars.
    public let total: Int

    public init(_ shape: NetworkShape) {
        self.shape = shape
        var o: [Int] = [], c: [Int] = [], acc = 0
        for id in ParamID.allCases {
            let n = id.shape(shape).reduce(1, *)
            o.append(acc); c.append(n); acc += n
        }
        offsets = o; counts = c; total = acc
    }

    @inline(__always) public func range(_ id: ParamID) -> Range<Int> {
        offsets[id.rawValue] ..< offsets[id.rawValue] + counts[id.rawValue]
    }
}

/// All parameters of the network in one flat row-major vector (tensors in `ParamID` order,
/// so Adam, clipping and checkpoints are single loops), plus the fixed text matrix T [N, k].
public struct NetworkParameters<T: TrainScalar>: Equatable {
    public let layout: ParameterLayout
    /// Every trainable scalar; tensor `id` is `values[layout.range(id)]`.
    public var values: [T]
    /// Fixed text features T [N, k] (empty when k = 0).
    public var text: [T]

    public var shape: NetworkShape { layout.shape }

    /// All-zero parameters of the right sizes.
    public init(zerosLike shape: NetworkShape, text: [T] = []) {
        layout = ParameterLayout(shape)
        values = [T](repeating: 0, count: layout.total)
        self.text = text.isEmpty ? [T](repeating: 0, count: shape.nItems * shape.textDim) : text
        precondition(self.text.count == shape.nItems * shape.textDim, "text matrix must be [N, k]")
    }

    /// Deterministic initialisation from `rng` (draw order is fixed, so a seed fixes every weight).
    public init<G: RandomNumberGenerator>(shape: NetworkShape, text: [T], initScale: Double, rng: inout G) {
        self.init(zerosLike: shape, text: text)
        let d = shape.dim
        func normal(_ id: ParamID, _ std: Double) {
            for i in layout.range(id) { values[i] = T(rng.gaussian() * std) }
        }
        func uniform(_ id: ParamID, _ bound: Double) {
            for i in layout.range(id) { values[i] = T((rng.unitDouble() * 2 - 1) * bound) }
        }
        func xavier(_ id: ParamID) {
            let s = id.shape(shape)
            uniform(id, (6.0 / Double(s[0] + s[1])).squareRoot())
        }
        normal(.itemEmbedding, initScale)
        normal(.textProj, initScale)
        normal(.eventGap, 0.1)
        normal(.requestGap, 0.1)
        // PyTorch-style LSTM init; forget-gate bias 1 so the cell remembers early in training.
        uniform(.lstmWx, 1 / Double(d).squareRoot())
        uniform(.lstmWh, 1 / Double(d).squareRoot())
        let b = layout.offsets[ParamID.lstmBias.rawValue]
        for j in d..<(2 * d) { values[b + j] = 1 }
        xavier(.attnWq); xavier(.attnWk); xavier(.attnWv)
        xavier(.gateW)
        xavier(.outW)
    }

    /// A copy of one tensor.
    public subscript(_ id: ParamID) -> [T] {
        get { Array(values[layout.range(id)]) }
        set {
            precondition(newValue.count == layout.counts[id.rawValue])
            values.replaceSubrange(layout.range(id), with: newValue)
        }
    }

    /// Converts element type (Float ↔ Double), e.g. for gradient checks and parity tests.
    public func converted<U: TrainScalar>(to: U.Type) -> NetworkParameters<U> {
        var p = NetworkParameters<U>(zerosLike: shape, text: text.map { U($0) })
        p.values = values.map { U($0) }
        return p
    }
}
