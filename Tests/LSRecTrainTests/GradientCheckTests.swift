import XCTest
import LSRecCore
@testable import LSRecTrain

/// Finite-difference checks of every hand-written backward op, in float64 on the same generic
/// code the trainer runs in float32.
///
/// Tiny model: N = 7, d = 4, t = 3, k = 2, B = 6 buckets, L = 3, window W = 3 over 2 lanes.
/// Training prefixes of 5, 3 and 2 events (users of 7, 5 and 4 events): lane 0 runs one user over
/// two windows (the second window carries h, c and attends to slots before the window); lane 1
/// holds two users, so a reset happens inside a window.
///
/// Tolerance: central differences with ε = 1e-5; every element must satisfy
/// |analytic − numeric| ≤ 1e-6 · max(|analytic| + |numeric|, 1e-3), i.e. relative error 1e-6 for
/// ordinary gradients and 1e-9 absolute near zero (observed maxima ≈ 7e-8; printed).
final class GradientCheckTests: XCTestCase {
    static let eps = 1e-5
    static let tolerance = 1e-6

    static func tinyDataset() -> Dataset {
        let users = [
            UserSequence(userID: 1, items: [0, 3, 5, 3, 6, 1, 2],
                         timestamps: [100, 100, 160, -1, 5000, 5001, 90000]),
            UserSequence(userID: 2, items: [4, 2, 2, 6, 0], timestamps: [-1, 10, 300, 301, 400]),
            UserSequence(userID: 3, items: [1, 5, 6, 4], timestamps: [7, 70, 700, 7000]),
        ]
        return Dataset(itemIDs: (0..<7).map { Int64(100 + $0) }, itemText: nil, users: users, description: "tiny")
    }

    static func tinyShape(_ fusion: Fusion, repeatBias: Bool = false) -> NetworkShape {
        NetworkShape(nItems: 7, dim: 4, history: 3, timeDim: 3, timeBuckets: 6, textDim: 2, fusion: fusion,
                     repeatBias: repeatBias)
    }

    /// Parameters with every tensor (biases and tables too) randomised at a scale where all
    /// nonlinearities are exercised away from saturation.
    static func randomParams(_ shape: NetworkShape, seed: UInt64) -> NetworkParameters<Double> {
        var rng = SeededGenerator(seed: seed)
        let text = (0..<(shape.nItems * shape.textDim)).map { _ in rng.gaussian() }
        var p = NetworkParameters<Double>(zerosLike: shape, text: text)
        for i in p.values.indices { p.values[i] = rng.gaussian() * 0.6 }
        return p
    }

    /// The two windows of the tiny data set.
    static func windows(lanes: Int = 2, steps: Int = 3, history: Int = 3) -> [WindowBatch] {
        let seqs = TrainingSequences(dataset: tinyDataset(), timeBuckets: 6)
        var rng = SeededGenerator(seed: 9)
        var sched = LaneScheduler(sequences: seqs, lanes: lanes, order: Array(0..<seqs.count), rng: &rng)
        var out: [WindowBatch] = []
        var b = WindowBatch(lanes: lanes, steps: steps, history: history)
        while sched.next(into: &b) { out.append(b) }
        return out
    }

    /// Checks the analytic gradient of one window's mean loss against central differences,
    /// holding the carried state fixed (exactly what truncated BPTT differentiates).
    /// `dropped`: item-ID dropout's dropped items (their bias is then the shared new-item bias).
    /// `repeatBias`: the model has the repeat term β (user 1's item 3 twice among 3 held events).
    func check(fusion: Fusion, loss: LossKind, dropout: Double = 0, dropped: [Int32] = [], repeatBias: Bool = false,
               negatives: [Int32] = [2, 6, 6, 0, 4], file: StaticString = #filePath, line: UInt = #line) {
        let shape = Self.tinyShape(fusion, repeatBias: repeatBias)
        let params = Self.randomParams(shape, seed: 42)
        // Two workers over blocks of 2 target rows: the blocked, per-worker softmax paths run too.
        let net = Network<Double>(shape: shape, lanes: 2, steps: 3, threads: 2, loss: loss, negatives: 5, blockRows: 2)
        if loss == .sampled {
            var rng = SeededGenerator(seed: 3)
            net.logExpectedCount = (0..<7).map { _ in rng.gaussian() }
            net.setNegatives(negatives)   // by default: repeats, and hits of real targets
        }
        let wins = Self.windows()
        XCTAssertEqual(wins.count, 2, file: file, line: line)
        net.droppedItems = dropped
        net.resetCarry()
        var worst = 0.0
        var maskRNG = SeededGenerator(seed: 5)
        for (w, batch) in wins.enumerated() {
            // Masks are drawn once per window and held fixed for every perturbed forward.
            net.sampleDropout(input: dropout, output: dropout, rng: &maskRNG)
            let (sum, targets) = net.forward(batch, params)
            XCTAssertGreaterThan(targets, 0, file: file, line: line)
            XCTAssert(sum.isFinite, file: file, line: line)
            net.backward(params)
            let analytic = net.grad
            var p = params
            for id in ParamID.allCases {
                var tensorWorst = 0.0, anyNonZero = false
                for i in p.layout.range(id) {
                    let orig = p.values[i]
                    p.values[i] = orig + Self.eps
                    let (lp, np) = net.forward(batch, p)
                    p.values[i] = orig - Self.eps
                    let (lm, nm) = net.forward(batch, p)
                    p.values[i] = orig
                    let numeric = (lp / Double(np) - lm / Double(nm)) / (2 * Self.eps)
                    let a = analytic[i]
                    let err = abs(a - numeric) / max(abs(a) + abs(numeric), 1e-3)
                    tensorWorst = max(tensorWorst, err)
                    if abs(a) > 1e-9 { anyNonZero = true }
                    XCTAssertLessThanOrEqual(err, Self.tolerance,
                        "\(fusion)/\(loss) window \(w) \(id.name)[\(i - p.layout.offsets[id.rawValue])]: analytic \(a) numeric \(numeric)",
                        file: file, line: line)
                }
                if Self.usedBy(fusion).contains(id) || (id == .newItemBias && !dropped.isEmpty) || (id == .repeatBias && repeatBias) {
                    XCTAssertTrue(anyNonZero, "\(fusion)/\(loss) window \(w): \(id.name) got no gradient", file: file, line: line)
                }
                worst = max(worst, tensorWorst)
            }
            // Restore activations of the unperturbed parameters, then carry into the next window.
            net.forward(batch, params)
            net.commitCarry()
        }
        print("gradient check \(fusion)/\(loss)/dropout \(dropout): max relative error \(worst)")
    }

    /// Tensors that influence the loss in each fusion mode (the others must get zero gradient).
    static func usedBy(_ f: Fusion) -> Set<ParamID> {
        let common: Set<ParamID> = [.itemEmbedding, .itemBias, .textProj, .eventGap, .lstmWx, .lstmWh, .lstmBias]
        switch f {
        case .gate: return Set(ParamID.allCases).subtracting([.newItemBias, .repeatBias])  // only with dropped items / the term
        case .short: return common.union([.outW])
        case .long: return common.union([.attnWq, .attnWk, .attnWv])
        }
    }

    func testGateFullSoftmax() { check(fusion: .gate, loss: .full) }
    func testShortFullSoftmax() { check(fusion: .short, loss: .full) }
    func testLongFullSoftmax() { check(fusion: .long, loss: .full) }
    func testGateSampledSoftmax() { check(fusion: .gate, loss: .sampled) }
    /// Items 2 and 6 are negatives (6 twice) and 2 is a target: the shared new-item bias gets the
    /// gradient of the positive and the repeated negatives.
    func testGateSampledSoftmaxWithDroppedItems() { check(fusion: .gate, loss: .sampled, dropped: [2, 6]) }
    func testGateFullSoftmaxWithDropout() { check(fusion: .gate, loss: .full, dropout: 0.3) }
    func testGateFullSoftmaxWithRepeatTerm() { check(fusion: .gate, loss: .full, repeatBias: true) }
    /// Negatives held at some rows (3, 5, 1 in both windows) and targets at others: β enters
    /// positive and negative columns.
    func testGateSampledSoftmaxWithRepeatTerm() {
        check(fusion: .gate, loss: .sampled, repeatBias: true, negatives: [3, 6, 5, 1, 2])
    }
    func testShortFullSoftmaxWithRepeatTerm() { check(fusion: .short, loss: .full, repeatBias: true) }

    /// The windows really exercise what the check claims: a carry, a mid-window reset, and
    /// history slots before the window.
    func testTinyWindowsCoverCarryResetAndPreWindowHistory() {
        let wins = Self.windows()
        XCTAssertEqual(wins.count, 2)
        let w0 = wins[0], w1 = wins[1]
        // Some row inside window 0 starts a new user (reset) after a real row.
        XCTAssertTrue((1..<3).contains { tau in (0..<2).contains { l in
            w0.active[tau * 2 + l] && !w0.keep[tau * 2 + l] } })
        // Window 1 continues a user (keep at τ = 0) and attends to a slot before the window.
        let cont = (0..<2).first { l in w1.active[l] && w1.keep[l] }
        XCTAssertNotNil(cont)
        if let l = cont { XCTAssertLessThan(Int(w1.attnLo[l]), 2); XCTAssertGreaterThanOrEqual(w1.hist[l * w1.histLen], 0) }
    }
}
