/// The lsrec-v1 network (docs/MODEL.md) over one `WindowBatch` at a time: batched forward on
/// BLAS, hand-written backward, truncated BPTT with h, c carried between windows per lane.
///
/// Use: (`sampleDropout` when training) → `forward` (loss; keeps activations) → `backward` (fills `grad`, the gradient of the
/// mean loss over the window's targets) → `commitCarry` (the window's last h, c become the
/// next window's starting state). Generic so gradient checks run the same code in Double.
public final class Network<T: TrainScalar> {
    public let shape: NetworkShape
    public let lanes: Int
    public let steps: Int
    public let threads: Int
    public let lossKind: LossKind
    let layout: ParameterLayout

    /// Gradient of the last window's mean loss, laid out like `NetworkParameters.values`.
    public internal(set) var grad: [T]

    // Sizes used everywhere.
    let d: Int, t: Int, n: Int, k: Int, L: Int, R: Int, H: Int, din: Int, dgate: Int
    var scale: T { 1 / T(Double(d).squareRoot()) }

    // Forward activations (rows r = τ·lanes + b).
    let X: Buf<T>                      // item matrix [N, d]
    let xin, z, hprev, cprev, c, tc, h: Buf<T>
    let q, kq, ebar, lv, gin, gate, hp, u: Buf<T>
    let hist, attn: Buf<T>             // [lanes, H, d], [lanes, W, H]
    let carryH, carryC: Buf<T>         // [lanes, d]
    // Backward scratch.
    let dU, dhp, dLv, dGpre, dH, dQ, dKq, dEbar, dgin, dZ, dxin: Buf<T>
    let dA, dHist, dhNext, dcNext, tmp: Buf<T>
    // Loss. U' = [U | 1] and X' = [X | b] fold the item bias into the score gemm, so the
    // transposed gemm that gives ∂X also yields ∂b (its last column).
    let ldu: Int
    let xb: Buf<T>                     // X' [N, d+1]
    let uv, duv: Buf<T>                // U' of the target rows [R, d+1] and ∂U'
    /// Full softmax: rows per block; each worker owns a logits block and a partial ∂X'.
    let blockRows: Int
    let blocks: [Buf<T>]
    let dxPart: [Buf<T>]
    /// Sampled softmax logits [R, 1+S].
    let logits: Buf<T>
    var wantGradient = true
    /// Inverted-dropout masks (0 or 1/(1−p)) on the LSTM input x and on the user vector u;
    /// drawn by `sampleDropout` for the next training window, off otherwise.
    let maskIn, maskU: Buf<T>
    var dropoutOn = false
    var validRows: [Int] = []
    var batch: WindowBatch?
    var lossTargets = 0
    /// Wall seconds spent in the loss/scoring part (`lossForward`, `lossBackward`: the scores over
    /// the catalogue, the softmax and their gradients) since this network was made. Timing only.
    public private(set) var lossSeconds = 0.0
    /// Sampled softmax: log(S·Q(j)) per item, set by the trainer; negatives of the current window.
    public var logExpectedCount: [T] = []
    var negatives: [Int32] = []
    let xneg: Buf<T>
    /// Items excluded from the softmax (cold-start held-out items, `ColdItems`): their logits are
    /// pinned far below every other before the softmax, so their probability, and with it every
    /// gradient reaching their embedding and bias through the loss, is exactly 0. They must never
    /// be targets. (Sampled softmax: the trainer gives them zero proposal weight instead.)
    public var maskedItems: [Int32] = []
    /// Item-ID dropout (`TrainConfig.idDropout`): items whose learned embedding E row is left out
    /// of the item matrix for the current window, X_i = P·t_i, so the text projection has to carry
    /// them alone — exactly the situation of a cold item. Their E rows get no gradient that window,
    /// and their bias is the shared learned `newItemBias` instead of their own.
    public var droppedItems: [Int32] = [] {
        didSet {
            isDropped = [Bool](repeating: false, count: droppedItems.isEmpty ? 0 : n)
            for i in droppedItems { isDropped[Int(i)] = true }
        }
    }
    /// isDropped[i]: item i is in `droppedItems` (empty when none is).
    var isDropped: [Bool] = []
    /// Repeat term (`shape.repeatBias`): per-worker marks of a row's held items, and each valid
    /// target row's ∂loss/∂β, summed in row order by the backward (deterministic).
    let heldMarks: [HeldItemMarks]
    var repeatGrad: [T]

    /// The bias item i has in this window: its own, or the new-item bias when its ID is dropped.
    @inline(__always)
    func effectiveBias(_ i: Int, _ P: TensorPointers<T>) -> T {
        isDropped.isEmpty || !isDropped[i] ? P[.itemBias][i] : P[.newItemBias][0]
    }

    /// - Parameters:
    ///   - negatives: negatives per window for `.sampled` (ignored for `.full`).
    ///   - blockRows: target rows per full-softmax block (cache-sized; small values for tests).
    public init(shape: NetworkShape, lanes: Int, steps: Int, threads: Int = 1,
                loss: LossKind = .full, negatives: Int = 0, blockRows: Int = 64) {
        self.blockRows = blockRows
        self.shape = shape; self.lanes = lanes; self.steps = steps
        self.threads = threads; self.lossKind = loss
        layout = ParameterLayout(shape)
        grad = [T](repeating: 0, count: layout.total)
        d = shape.dim; t = shape.timeDim; n = shape.nItems; k = shape.textDim; L = shape.history
        R = lanes * steps; H = L - 1 + steps; din = d + t; dgate = 2 * d + t
        X = Buf(n * d)
        xin = Buf(R * din); z = Buf(R * 4 * d)
        hprev = Buf(R * d); cprev = Buf(R * d); c = Buf(R * d); tc = Buf(R * d); h = Buf(R * d)
        q = Buf(R * d); kq = Buf(R * d); ebar = Buf(R * d); lv = Buf(R * d)
        gin = Buf(R * dgate); gate = Buf(R * d); hp = Buf(R * d); u = Buf(R * d)
        hist = Buf(lanes * H * d); attn = Buf(lanes * steps * H)
        carryH = Buf(lanes * d); carryC = Buf(lanes * d)
        dU = Buf(R * d); dhp = Buf(R * d); dLv = Buf(R * d); dGpre = Buf(R * d); dH = Buf(R * d)
        dQ = Buf(R * d); dKq = Buf(R * d); dEbar = Buf(R * d); dgin = Buf(R * dgate)
        dZ = Buf(R * 4 * d); dxin = Buf(R * din)
        dA = Buf(lanes * steps * H); dHist = Buf(lanes * H * d)
        dhNext = Buf(lanes * d); dcNext = Buf(lanes * d); tmp = Buf(lanes * d)
        ldu = d + 1
        xb = Buf(n * ldu)
        uv = Buf(R * ldu); duv = Buf(R * ldu)
        let workers = loss == .full ? max(1, threads) : 0
        let nn = n, dd = d
        blocks = (0..<workers).map { _ in Buf(blockRows * nn) }
        dxPart = (0..<workers).map { _ in Buf(nn * (dd + 1)) }
        logits = Buf(loss == .full ? 1 : R * (1 + max(negatives, 1)))
        xneg = Buf(loss == .full ? 1 : max(negatives, 1) * d)
        maskIn = Buf(R * din); maskU = Buf(R * d)
        heldMarks = shape.repeatBias ? (0..<max(1, threads)).map { _ in HeldItemMarks(items: nn) } : []
        repeatGrad = [T](repeating: 0, count: shape.repeatBias ? R : 0)
    }

    /// Starts every lane from h = c = 0 (a new epoch).
    public func resetCarry() { carryH.zero(); carryC.zero() }

    /// The last window's final h, c become the next window's initial state (no gradient
    /// crosses the boundary: truncated BPTT).
    public func commitCarry() {
        let last = (steps - 1) * lanes
        carryH.p.update(from: h.p + last * d, count: lanes * d)
        carryC.p.update(from: c.p + last * d, count: lanes * d)
    }

    /// Sets the carried state of lane `b` (tests).
    public func setCarry(lane b: Int, h hv: [T], c cv: [T]) {
        for j in 0..<d { carryH.p[b * d + j] = hv[j]; carryC.p[b * d + j] = cv[j] }
    }

    /// Draws fresh dropout masks for the next `forward` (rates p_in on x, p_u on u; 0 = none).
    /// Training only: evaluation and export never drop anything.
    public func sampleDropout<G: RandomNumberGenerator>(input pIn: Double, output pU: Double, rng: inout G) {
        dropoutOn = pIn > 0 || pU > 0
        guard dropoutOn else { return }
        func fill(_ m: Buf<T>, _ p: Double) {
            let keep = T(1 / (1 - p))
            // 16 random bits per decision, four decisions per draw.
            let threshold = UInt64((p * 65536).rounded())
            var i = 0
            while i < m.count {
                var bits = rng.next()
                for _ in 0..<4 where i < m.count {
                    m.p[i] = (bits & 0xFFFF) < threshold ? 0 : keep
                    bits >>= 16; i += 1
                }
            }
        }
        fill(maskIn, pIn); fill(maskU, pU)
    }

    /// Turns dropout off (e.g. before scoring with the trainer's own forward).
    public func disableDropout() { dropoutOn = false; droppedItems = [] }

    /// Draws the items whose ID embedding is dropped in the next window (each with probability p).
    public func sampleItemDropout<G: RandomNumberGenerator>(_ p: Double, rng: inout G) {
        droppedItems = (0..<n).compactMap { rng.unitDouble() < p ? Int32($0) : nil }
    }

    /// Sets the shared negatives of the next window (`.sampled` only).
    public func setNegatives(_ items: [Int32]) { negatives = items }

    /// Forward pass over `batch`. Returns the summed loss over targets and their number
    /// (loss 0, targets 0 when the batch has no target). Activations stay for `backward`;
    /// `gradient: false` skips the loss-gradient work fused into the forward (then no `backward`).
    @discardableResult
    public func forward(_ batch: WindowBatch, _ params: NetworkParameters<T>, gradient: Bool = true) -> (lossSum: Double, targets: Int) {
        precondition(batch.lanes == lanes && batch.steps == steps && batch.history == L)
        precondition(params.layout == layout)
        self.batch = batch
        wantGradient = gradient
        return params.values.withUnsafeBufferPointer { pv in
            params.text.withUnsafeBufferPointer { tv in
                let P = TensorPointers(base: UnsafeMutablePointer(mutating: pv.baseAddress!), layout: layout)
                buildItemMatrix(P, tv.baseAddress!)
                lstmForward(batch, P)
                if shape.fusion != .short { attentionForward(batch, P) }
                fusionForward(batch, P)
                let t0 = ContinuousClock.now
                defer { lossSeconds += seconds(ContinuousClock.now - t0) }
                return lossForward(batch, P)
            }
        }
    }

    /// Back-propagates the last `forward` into `grad` (zeroed first).
    public func backward(_ params: NetworkParameters<T>) {
        guard let batch, wantGradient else { preconditionFailure("backward needs forward(gradient: true)") }
        params.values.withUnsafeBufferPointer { pv in
            params.text.withUnsafeBufferPointer { tv in
                grad.withUnsafeMutableBufferPointer { gv in
                    gv.update(repeating: 0)
                    let P = TensorPointers(base: UnsafeMutablePointer(mutating: pv.baseAddress!), layout: layout)
                    let G = TensorPointers(base: gv.baseAddress!, layout: layout)
                    dH.zero()
                    let t0 = ContinuousClock.now
                    lossBackward(batch, P, G)
                    lossSeconds += seconds(ContinuousClock.now - t0)
                    fusionBackward(batch, P, G)
                    if shape.fusion != .short { attentionBackward(batch, P, G) }
                    lstmBackward(batch, P, G)
                    // X = E + T·Pᵀ: dE = dX (accumulated in place), dP = dXᵀ·T.
                    if k > 0 {
                        T.gemm(true, false, d, k, n, 1, G[.itemEmbedding], d, tv.baseAddress!, k, 1, G[.textProj], k)
                    }
                    // Dropped ID embeddings were not part of X: dE row = 0 (after dP used the full dX).
                    for i in droppedItems { (G[.itemEmbedding] + Int(i) * d).update(repeating: 0, count: d) }
                }
            }
        }
    }

    /// X = E + T·Pᵀ.
    func buildItemMatrix(_ P: TensorPointers<T>, _ text: UnsafePointer<T>) {
        X.p.update(from: P[.itemEmbedding], count: n * d)
        for i in droppedItems { (X.p + Int(i) * d).update(repeating: 0, count: d) }
        if k > 0 { T.gemm(false, true, n, d, k, 1, text, k, P[.textProj], k, 1, X.p, d) }
    }

    /// The fused user vector u of row `r` after `forward`.
    public func userVector(row r: Int) -> [T] { (0..<d).map { u.p[r * d + $0] } }

    /// s = X·u + b (+ β on the row's held items) for row `r` after `forward`: the trainer's own
    /// scores (parity tests).
    public func scores(row r: Int, _ params: NetworkParameters<T>) -> [T] {
        let b = params[.itemBias], bNew = params[.newItemBias][0]
        var out: [T] = (0..<n).map { i in
            var s = isDropped.isEmpty || !isDropped[i] ? b[i] : bNew
            for j in 0..<d { s += X.p[i * d + j] * u.p[r * d + j] }
            return s
        }
        if shape.repeatBias, let batch {
            let marks = HeldItemMarks(items: n)
            marks.collect(batch, row: r)
            let beta = params[.repeatBias][0]
            for j in marks.items { out[Int(j)] += beta }
        }
        return out
    }
}
