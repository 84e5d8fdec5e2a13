import XCTest
@testable import LSRecTrain

/// SASRec behaviour: the packed batch equals the reference's padded-and-masked computation,
/// causality, thread-count independence of the maths, determinism, the leave-one-out training
/// data, the ranker, and that it learns sequential structure on synthetic data.
final class SASRecTests: XCTestCase {
    typealias Layout = SASRecLayout

    // MARK: Reference: left padding to n with key and query masks, as in kang205/SASRec

    /// Plain loops, one sequence, no dropout; returns z at the valid (non-pad) positions.
    static func paddedReference(_ p: [Double], _ l: Layout, _ seq: [Int32], eps: Double = 1e-8) -> [[Double]] {
        let n = l.maxLength, d = l.dim, f = l.ffnDim, pad = n - seq.count
        let valid = (0..<n).map { $0 >= pad }
        func ln(_ x: [Double], _ g: Int, _ b: Int) -> [Double] {
            let mean = x.reduce(0, +) / Double(d)
            let v = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(d)
            return (0..<d).map { p[g + $0] * (x[$0] - mean) / (v + eps).squareRoot() + p[b + $0] }
        }
        func dense(_ x: [Double], _ w: Int, _ b: Int, _ din: Int, _ dout: Int) -> [Double] {
            (0..<dout).map { j in (0..<din).reduce(p[b + j]) { $0 + x[$1] * p[w + $1 * dout + j] } }
        }
        // Pad rows: the padding item's embedding is 0 and the row is masked to 0.
        var x: [[Double]] = (0..<n).map { t in
            valid[t] ? (0..<d).map { j in d.squareRootD * p[l.itemEmb + Int(seq[t - pad]) * d + j] + p[l.posEmb + t * d + j] }
                     : [Double](repeating: 0, count: d)
        }
        for b in l.blocks {
            let h = x.map { ln($0, b.ln1Gamma, b.ln1Beta) }
            let q = h.map { dense($0, b.wq, b.bq, d, d) }
            let k = x.map { dense($0, b.wk, b.bk, d, d) }, v = x.map { dense($0, b.wv, b.bv, d, d) }
            var y: [[Double]] = []
            for i in 0..<n {
                var o = [Double](repeating: 0, count: d)
                let keys = (0...i).filter { valid[$0] }            // causal mask ∧ key padding mask
                if valid[i] && !keys.isEmpty {                       // query mask
                    let s = keys.map { j in (0..<d).reduce(0.0) { $0 + q[i][$1] * k[j][$1] } / d.squareRootD }
                    let mx = s.max()!, e = s.map { exp($0 - mx) }, z = e.reduce(0, +)
                    for (a, j) in keys.enumerated() { for c in 0..<d { o[c] += e[a] / z * v[j][c] } }
                }
                let g = ln((0..<d).map { h[i][$0] + o[$0] }, b.ln2Gamma, b.ln2Beta)
                let u = dense(g, b.w1, b.b1, d, f).map { max($0, 0) }
                let out = zip(g, dense(u, b.w2, b.b2, f, d)).map { $0 + $1 }
                y.append(valid[i] ? out : [Double](repeating: 0, count: d))
            }
            x = y
        }
        return (pad..<n).map { ln(x[$0], l.finalGamma, l.finalBeta) }
    }

    func testPackedBatchMatchesPaddedReference() {
        let l = Layout(nItems: 9, dim: 6, ffnDim: 5, maxLength: 6, blocks: 2)
        let p = SASRecGradientTests.randomParams(l, seed: 7)
        let seqs: [[Int32]] = [[3, 1, 4, 1, 5, 8], [2, 7], [6], [0, 8, 8, 3]]
        var batch = SASRecBatch()
        for s in seqs { batch.append(s, targets: nil, maxLength: l.maxLength) }
        let net = SASRecNetwork<Double>(layout: l, threads: 2, dropout: 0.5, layerNormEpsilon: 1e-8, trainable: false)
        p.withUnsafeBufferPointer { net.forward(batch, $0.baseAddress!, dropoutSeed: nil) }
        var worst = 0.0
        for (s, seq) in seqs.enumerated() {
            let ref = Self.paddedReference(p, l, seq)
            for (i, row) in ref.enumerated() {
                for j in 0..<l.dim {
                    let got = net.z.p[(batch.seqStart[s] + i) * l.dim + j]
                    worst = max(worst, abs(got - row[j]))
                    XCTAssertEqual(got, row[j], accuracy: 1e-10, "sequence \(s) row \(i) col \(j)")
                }
            }
        }
        print("SASRec packed vs padded reference: max abs difference \(worst)")
    }

    /// Changing the latest item changes only the latest row (no look-ahead), and a sequence's
    /// rows do not depend on the other sequences packed with it.
    func testCausalAndSequencesIndependent() {
        let l = Layout(nItems: 9, dim: 6, ffnDim: 5, maxLength: 6, blocks: 2)
        let p = SASRecGradientTests.randomParams(l, seed: 8)
        func z(_ seqs: [[Int32]]) -> [Double] {
            var b = SASRecBatch()
            for s in seqs { b.append(s, targets: nil, maxLength: l.maxLength) }
            let net = SASRecNetwork<Double>(layout: l, threads: 1, dropout: 0, layerNormEpsilon: 1e-8, trainable: false)
            p.withUnsafeBufferPointer { net.forward(b, $0.baseAddress!, dropoutSeed: nil) }
            return Array(UnsafeBufferPointer(start: net.z.p, count: b.rows * l.dim))
        }
        let a = z([[1, 2, 3, 4]]), b = z([[1, 2, 3, 7]])
        XCTAssertEqual(Array(a[0..<(3 * l.dim)]), Array(b[0..<(3 * l.dim)]))
        XCTAssertNotEqual(Array(a[(3 * l.dim)...]), Array(b[(3 * l.dim)...]))
        let together = z([[5, 5, 0], [1, 2, 3, 4], [8]])
        XCTAssertEqual(Array(together[(3 * l.dim)..<(7 * l.dim)]), a)
    }

    // MARK: Threads

    /// The multi-threaded paths (row-split dense layers with partial weight gradients, parallel
    /// softmax chunks with partial ∂E, parallel attention) compute the same gradient as one thread.
    func testThreadCountDoesNotChangeTheMaths() {
        let l = Layout(nItems: 40, dim: 8, ffnDim: 8, maxLength: 60, blocks: 2)
        let p = SASRecGradientTests.randomParams(l, seed: 9)
        var rng = SeededGenerator(seed: 10)
        var b = SASRecBatch()
        for len in [60, 3, 45, 60, 17, 1, 60, 60, 38, 60, 60, 60, 60, 60] {   // 705 rows: several parts and chunks
            let s = (0...len).map { _ in Int32(rng.index(below: 40)) }
            b.append(s.dropLast(), targets: s.dropFirst(), maxLength: l.maxLength)
        }
        XCTAssertGreaterThan(b.rows, 2 * 256)
        func run(_ threads: Int) -> (Double, [Double]) {
            let net = SASRecNetwork<Double>(layout: l, threads: threads, dropout: 0.2, layerNormEpsilon: 1e-8)
            let loss = p.withUnsafeBufferPointer { net.lossAndGradient(b, $0.baseAddress!, loss: .fullSoftmax, dropoutSeed: 5) }
            return (loss, Array(UnsafeBufferPointer(start: net.grad.p, count: l.total)))
        }
        let (l1, g1) = run(1), (l3, g3) = run(3), (l3b, g3b) = run(3)
        XCTAssertEqual(l1, l3, accuracy: 1e-12)
        let scale = g1.map(abs).max()!
        for i in g1.indices { XCTAssertEqual(g1[i], g3[i], accuracy: 1e-12 * scale, "gradient[\(i)]") }
        XCTAssertEqual(l3, l3b)
        XCTAssertEqual(g3, g3b, "same threads ⇒ bitwise the same gradient")
    }

    // MARK: Data

    func testTrainingDataExcludesValidationAndTestEvents() {
        // Items 90+ appear only as each user's last two events.
        var users: [UserSequence] = []
        for u in 0..<5 {
            var items: [Int32] = (0..<(4 + u)).map { Int32(($0 * 7 + u) % 20) }
            items += [Int32(90 + 2 * u), Int32(91 + 2 * u)]
            users.append(UserSequence(userID: Int64(u), items: items, timestamps: items.indices.map { Int64($0) }))
        }
        users.append(UserSequence(userID: 9, items: [3, 4], timestamps: [1, 2]))   // < 3 events: all training
        let data = Dataset(itemIDs: (0..<100).map { Int64($0) }, itemText: nil, users: users, description: "t")
        let t = SASRecTrainingData(dataset: data, maxLength: 3)
        XCTAssertEqual(t.count, 6)
        for s in t.sequences { XCTAssertFalse(s.contains { $0 >= 90 }) }
        XCTAssertEqual(t.sequences[5], [3, 4])
        XCTAssertEqual(t.sequences[4], Array(users[4].items[4..<8]), "last maxLength + 1 training events")
        var rng = SeededGenerator(seed: 1)
        let b = t.batch(ArraySlice([0, 4, 5]), negativesFrom: 100, rng: &rng)
        XCTAssertEqual(b.rows, 3 + 3 + 1)
        XCTAssertEqual(Array(b.positions[3..<7]), [0, 1, 2, 2], "positions count from the end")
        XCTAssertEqual(b.targets.count, b.rows)
        for (r, neg) in b.negatives.enumerated() {
            let s = [0, 0, 0, 4, 4, 4, 5][r]
            XCTAssertFalse(users[s].items.prefix(LeaveOneOut(data).trainingCount(users[s])).contains(neg))
        }
    }

    func testDropoutMaskRateAndDeterminism() {
        var g1 = SeededGenerator(seed: 3), g2 = SeededGenerator(seed: 3)
        var a = [Float](repeating: 0, count: 100_000), b = a
        sasDropoutMask(&a, a.count, rate: 0.2, rng: &g1)
        sasDropoutMask(&b, b.count, rate: 0.2, rng: &g2)
        XCTAssertEqual(a, b)
        let dropped = Double(a.filter { $0 == 0 }.count) / Double(a.count)
        XCTAssertEqual(dropped, 0.2, accuracy: 0.01)
        XCTAssertEqual(Double(a.reduce(0, +)) / Double(a.count), 1, accuracy: 0.01, "inverted dropout keeps the mean")
    }

    // MARK: Training

    static func synthetic(users: Int = 300) -> Dataset {
        var c = SyntheticData.Config(users: users, items: 200, seed: 11)
        c.meanEventsPerUser = 30
        return SyntheticData.generate(c)
    }

    static func smallConfig() -> SASRecConfig {
        var c = SASRecConfig()
        c.dim = 16; c.ffnDim = 16; c.maxLength = 30; c.batchSize = 32
        c.learningRate = 5e-3; c.maxEpochs = 2; c.patience = 100
        return c
    }

    func testTrainingIsDeterministic() {
        let data = Self.synthetic(users: 60)
        var c = Self.smallConfig()
        c.maxEpochs = 1
        let a = trainSASRec(data, config: c) { _ in }, b = trainSASRec(data, config: c) { _ in }
        XCTAssertEqual(a.parameters, b.parameters)
        c.seed = 2
        let other = trainSASRec(data, config: c) { _ in }
        XCTAssertNotEqual(a.parameters, other.parameters)
    }

    func testBeatsMostPopularOnSynthetic() {
        let data = Self.synthetic()
        var c = Self.smallConfig()
        c.maxEpochs = 3
        for loss in SASRecConfig.Loss.allCases {
            c.loss = loss
            let model = trainSASRec(data, config: c) { _ in }
            XCTAssertLessThan(model.report.epochLoss.last!, model.report.epochLoss.first!)
            XCTAssertGreaterThan(model.report.bestEpoch, 0)
            let pop = evaluate(MostPopular(data: data), on: data, split: .test)
            let rep = model.evaluate(on: data, split: .test, threads: 2)
            print("SASRec \(loss.rawValue) synthetic test HR@10 \(rep.full.hr10) vs MostPopular \(pop.full.hr10)")
            XCTAssertGreaterThan(rep.full.hr10, pop.full.hr10 + 0.05, "\(loss)")
        }
    }

    // MARK: Ranker

    func testRankerScoresLastMaxLengthItems() {
        let l = Layout(nItems: 12, dim: 8, ffnDim: 8, maxLength: 4, blocks: 2)
        var c = SASRecConfig()
        c.dim = 8; c.ffnDim = 8; c.maxLength = 4
        let model = SASRecModel(config: c, nItems: 12, parameters: l.initialParameters(seed: 3), report: .init())
        var long = [Float](repeating: 0, count: 12), short = long, empty = long
        let h: [Int32] = [1, 2, 3, 4, 5, 6]
        model.scores(user: 0, history: h[...], timestamps: [Int64](repeating: -1, count: 6)[...], now: -1, into: &long)
        model.scores(history: h.suffix(4), into: &short)
        XCTAssertEqual(long, short)
        XCTAssertTrue(long.contains { $0 != long[0] })
        model.scores(history: [], into: &empty)
        XCTAssertEqual(empty, [Float](repeating: 0, count: 12))
        // Same as the network's last row times Eᵀ.
        var b = SASRecBatch()
        b.append(h.suffix(4), targets: nil, maxLength: 4)
        let net = SASRecNetwork<Float>(layout: l, threads: 1, dropout: 0, layerNormEpsilon: 1e-8, trainable: false)
        model.parameters.withUnsafeBufferPointer { net.forward(b, $0.baseAddress!, dropoutSeed: nil) }
        for i in 0..<12 {
            var s: Float = 0
            for j in 0..<8 { s += net.z.p[3 * 8 + j] * model.parameters[l.itemEmb + i * 8 + j] }
            XCTAssertEqual(long[i], s, accuracy: 1e-5)
        }
    }
}

private extension Int {
    var squareRootD: Double { Double(self).squareRoot() }
}
