import XCTest
@testable import LSRecTrain

/// Finite-difference checks of every SASRec op with a hand-written backward pass, in float64 on
/// the same generic code that trains in float32: LayerNorm, causal single-head attention (with
/// and without a dropout mask on the weights), the dense layers of the FFN, full-softmax
/// cross-entropy, and the whole network (item and positional embeddings, both blocks' FFN with
/// ReLU and dropout, final LayerNorm, both losses).
///
/// Tolerance: central differences with ε = 1e-5; every element must satisfy
/// |analytic − numeric| ≤ 1e-6 · max(|analytic| + |numeric|, 1e-3), i.e. relative error ≤ 1e-6,
/// and ≤ 1e-9 absolute for gradients near zero. The worst error per check is printed.
final class SASRecGradientTests: XCTestCase {
    static let eps = 1e-5
    static let tolerance = 1e-6

    /// Compares `analytic` with central differences of `f` around `x`; returns the worst error.
    @discardableResult
    func check(_ name: String, _ x: [Double], analytic: [Double], quiet: Bool = false,
               _ f: ([Double]) -> Double, file: StaticString = #filePath, line: UInt = #line) -> Double {
        XCTAssertEqual(x.count, analytic.count, file: file, line: line)
        var worst = 0.0, xs = x
        for i in x.indices {
            xs[i] = x[i] + Self.eps
            let fp = f(xs)
            xs[i] = x[i] - Self.eps
            let fm = f(xs)
            xs[i] = x[i]
            let numeric = (fp - fm) / (2 * Self.eps)
            let err = abs(analytic[i] - numeric) / max(abs(analytic[i]) + abs(numeric), 1e-3)
            worst = max(worst, err)
            XCTAssertLessThanOrEqual(err, Self.tolerance, "\(name)[\(i)]: analytic \(analytic[i]) numeric \(numeric)",
                                     file: file, line: line)
        }
        if !quiet { print("SASRec gradient check \(name): \(x.count) elements, max relative error \(worst)") }
        return worst
    }

    static func gaussian(_ n: Int, _ rng: inout SeededGenerator, scale: Double = 1) -> [Double] {
        (0..<n).map { _ in rng.gaussian() * scale }
    }

    // MARK: LayerNorm

    func testLayerNorm() {
        let rows = 3, d = 5
        var rng = SeededGenerator(seed: 1)
        let x = Self.gaussian(rows * d, &rng), w = Self.gaussian(rows * d, &rng)
        let gamma = (0..<d).map { _ in 1 + 0.5 * rng.gaussian() }, beta = Self.gaussian(d, &rng)
        // loss = Σ w ⊙ LN(x)
        func loss(_ x: [Double], _ gamma: [Double], _ beta: [Double]) -> Double {
            var out = [Double](repeating: 0, count: rows * d), xh = out, rs = [Double](repeating: 0, count: rows)
            sasLayerNormForward(x, rows: rows, d: d, gamma: gamma, beta: beta, eps: 1e-8, out: &out, xhat: &xh,
                                rstd: &rs, threads: 1)
            return zip(out, w).reduce(0) { $0 + $1.0 * $1.1 }
        }
        var out = [Double](repeating: 0, count: rows * d), xh = out, rs = [Double](repeating: 0, count: rows)
        sasLayerNormForward(x, rows: rows, d: d, gamma: gamma, beta: beta, eps: 1e-8, out: &out, xhat: &xh,
                            rstd: &rs, threads: 1)
        // Accumulate mode on a non-zero dx: the check subtracts the starting value.
        let start = Self.gaussian(rows * d, &rng)
        var dx = start, dg = [Double](repeating: 0, count: d), db = dg
        sasLayerNormBackward(w, rows: rows, d: d, xhat: xh, rstd: rs, gamma: gamma, dx: &dx, accumulate: true,
                             dGamma: &dg, dBeta: &db, threads: 1)
        check("layerNorm.dx", x, analytic: zip(dx, start).map { $0 - $1 }) { loss($0, gamma, beta) }
        check("layerNorm.dGamma", gamma, analytic: dg) { loss(x, $0, beta) }
        check("layerNorm.dBeta", beta, analytic: db) { loss(x, gamma, $0) }
    }

    // MARK: Attention

    func attentionCheck(dropout: Bool) {
        let L = 5, d = 3
        var rng = SeededGenerator(seed: dropout ? 3 : 2)
        let q = Self.gaussian(L * d, &rng), k = Self.gaussian(L * d, &rng), v = Self.gaussian(L * d, &rng)
        let w = Self.gaussian(L * d, &rng)
        var mask: [Double]? = nil
        if dropout {
            var m = [Double](repeating: 0, count: L * L)
            sasDropoutMask(&m, L * L, rate: 0.3, rng: &rng)
            XCTAssertTrue(m.contains(0) && m.contains { $0 > 1 }, "mask should drop some and keep some")
            mask = m
        }
        let scale = 1 / Double(d).squareRoot()
        var tmp = [Double](repeating: 0, count: L * L)
        func forward(_ q: [Double], _ k: [Double], _ v: [Double], A: inout [Double]) -> [Double] {
            var out = [Double](repeating: 0, count: L * d)
            if let m = mask {
                m.withUnsafeBufferPointer { mp in
                    sasAttentionForward(q: q, k: k, v: v, L: L, d: d, scale: scale, A: &A, mask: mp.baseAddress!,
                                        tmp: &tmp, out: &out)
                }
            } else {
                sasAttentionForward(q: q, k: k, v: v, L: L, d: d, scale: scale, A: &A, mask: nil, tmp: &tmp, out: &out)
            }
            return out
        }
        func loss(_ q: [Double], _ k: [Double], _ v: [Double]) -> Double {
            var A = [Double](repeating: 0, count: L * L)
            return zip(forward(q, k, v, A: &A), w).reduce(0) { $0 + $1.0 * $1.1 }
        }
        var A = [Double](repeating: 0, count: L * L)
        _ = forward(q, k, v, A: &A)
        // Causal: nothing above the diagonal, rows sum to 1.
        for i in 0..<L {
            for j in (i + 1)..<L { XCTAssertEqual(A[i * L + j], 0) }
            XCTAssertEqual((0...i).reduce(0) { $0 + A[i * L + $1] }, 1, accuracy: 1e-12)
        }
        var dq = [Double](repeating: 0, count: L * d), dk = dq, dv = dq
        var t1 = [Double](repeating: 0, count: L * L), t2 = t1
        if let m = mask {
            m.withUnsafeBufferPointer { mp in
                sasAttentionBackward(q: q, k: k, v: v, L: L, d: d, scale: scale, A: A, mask: mp.baseAddress!,
                                     dOut: w, dq: &dq, dk: &dk, dv: &dv, tmp1: &t1, tmp2: &t2)
            }
        } else {
            sasAttentionBackward(q: q, k: k, v: v, L: L, d: d, scale: scale, A: A, mask: nil,
                                 dOut: w, dq: &dq, dk: &dk, dv: &dv, tmp1: &t1, tmp2: &t2)
        }
        let tag = dropout ? "attention+dropout" : "attention"
        check("\(tag).dq", q, analytic: dq) { loss($0, k, v) }
        check("\(tag).dk", k, analytic: dk) { loss(q, $0, v) }
        check("\(tag).dv", v, analytic: dv) { loss(q, k, $0) }
        // The last key/value row is seen only by the last query: its gradients come from row L−1
        // alone, so with a loss on the other rows only they must vanish (no look-ahead).
        var wPrefix = w
        for j in 0..<d { wPrefix[(L - 1) * d + j] = 0 }
        if mask == nil {
            sasAttentionBackward(q: q, k: k, v: v, L: L, d: d, scale: scale, A: A, mask: nil,
                                 dOut: wPrefix, dq: &dq, dk: &dk, dv: &dv, tmp1: &t1, tmp2: &t2)
            for j in 0..<d {
                XCTAssertEqual(dk[(L - 1) * d + j], 0)
                XCTAssertEqual(dv[(L - 1) * d + j], 0)
            }
        }
    }

    func testCausalAttention() { attentionCheck(dropout: false) }
    func testCausalAttentionWithDropout() { attentionCheck(dropout: true) }

    // MARK: Dense layer (the FFN's two layers and the Q/K/V projections)

    func testLinear() {
        let rows = 4, din = 3, dout = 5
        var rng = SeededGenerator(seed: 4)
        let x = Self.gaussian(rows * din, &rng), W = Self.gaussian(din * dout, &rng), b = Self.gaussian(dout, &rng)
        let w = Self.gaussian(rows * dout, &rng)
        func loss(_ x: [Double], _ W: [Double], _ b: [Double]) -> Double {
            var out = [Double](repeating: 0, count: rows * dout)
            sasLinear(x, rows: rows, din: din, dout: dout, w: W, b: b, out: &out, threads: 1)
            return zip(out, w).reduce(0) { $0 + $1.0 * $1.1 }
        }
        var dW = [Double](repeating: 0, count: din * dout), db = [Double](repeating: 0, count: dout)
        var dx = [Double](repeating: 0, count: rows * din)
        sasLinearBackward(x, w, rows: rows, din: din, dout: dout, w: W, dW: &dW, db: &db, dx: &dx, accumulate: false)
        check("linear.dx", x, analytic: dx) { loss($0, W, b) }
        check("linear.dW", W, analytic: dW) { loss(x, $0, b) }
        check("linear.db", b, analytic: db) { loss(x, W, $0) }
    }

    // MARK: Softmax cross-entropy

    func testSoftmaxCrossEntropy() {
        let n = 11, target = 4, scale = 0.25
        var rng = SeededGenerator(seed: 5)
        let z = Self.gaussian(n, &rng, scale: 3)
        var row = z
        let value = sasSoftmaxCrossEntropy(&row, n, target: target, scale: scale)
        func loss(_ z: [Double]) -> Double {
            let mx = z.max()!
            return scale * (log(z.reduce(0) { $0 + exp($1 - mx) }) + mx - z[target])
        }
        XCTAssertEqual(value * scale, loss(z), accuracy: 1e-12)
        check("softmaxCE.dlogits", z, analytic: row, loss)
    }

    // MARK: Whole network

    /// N = 7 items, d = 4, FFN 6 (≠ d, to catch transposes), n = 5, 2 blocks; three sequences of
    /// 5 (full window), 3 and 1 events packed into one batch.
    static let tinyLayout = SASRecLayout(nItems: 7, dim: 4, ffnDim: 6, maxLength: 5, blocks: 2)

    static func tinyBatch() -> SASRecBatch {
        var b = SASRecBatch()
        b.append([2, 0, 5, 5, 1] as [Int32], targets: [0, 5, 5, 1, 6], maxLength: 5)
        b.append([6, 3, 2] as [Int32], targets: [3, 2, 4], maxLength: 5)
        b.append([1] as [Int32], targets: [0], maxLength: 5)
        b.negatives = [3, 4, 1, 2, 3, 0, 5, 1, 6]
        return b
    }

    static func randomParams(_ layout: SASRecLayout, seed: UInt64) -> [Double] {
        var rng = SeededGenerator(seed: seed)
        var p = (0..<layout.total).map { _ in rng.gaussian() * 0.5 }
        for t in layout.tensors where t.name.hasSuffix("Gamma") {
            for i in t.offset..<(t.offset + t.count) { p[i] += 1 }
        }
        return p
    }

    func networkCheck(loss: SASRecConfig.Loss, dropout: Double) {
        let layout = Self.tinyLayout
        let net = SASRecNetwork<Double>(layout: layout, threads: 1, dropout: dropout, layerNormEpsilon: 1e-8)
        let batch = Self.tinyBatch()
        let params = Self.randomParams(layout, seed: 42)
        let seed: UInt64? = dropout > 0 ? 77 : nil
        let value = params.withUnsafeBufferPointer {
            net.lossAndGradient(batch, $0.baseAddress!, loss: loss, dropoutSeed: seed)
        }
        XCTAssertTrue(value.isFinite && value > 0)
        let analytic = Array(UnsafeBufferPointer(start: net.grad.p, count: layout.total))
        func f(_ p: [Double]) -> Double {
            p.withUnsafeBufferPointer { pp in
                net.forward(batch, pp.baseAddress!, dropoutSeed: seed)
                net.grad.zero(layout.total)
                return loss == .fullSoftmax ? net.fullSoftmaxLoss(pp.baseAddress!) : net.binaryCrossEntropyLoss(pp.baseAddress!)
            }
        }
        XCTAssertEqual(f(params), value, "the loss is a deterministic function of the parameters")
        var worst = 0.0
        for t in layout.tensors {
            let range = t.offset..<(t.offset + t.count)
            let grads = Array(analytic[range])
            if t.name.hasSuffix(".bk") {
                // The key bias adds q_i·b_k to every score of row i, which the softmax ignores: its
                // gradient is exactly zero (kept only because the reference layer has a bias).
                XCTAssertTrue(grads.allSatisfy { abs($0) < 1e-12 }, "\(t.name) should get no gradient")
            } else {
                XCTAssertTrue(grads.contains { abs($0) > 1e-9 }, "\(t.name) got no gradient")
            }
            worst = max(worst, check("network[\(loss.rawValue), dropout \(dropout)].\(t.name)",
                                     Array(params[range]), analytic: grads, quiet: true) { sub in
                var p = params
                p.replaceSubrange(range, with: sub)
                return f(p)
            })
        }
        print("SASRec whole-network gradient check \(loss.rawValue) dropout \(dropout): max relative error \(worst)")
    }

    func testNetworkFullSoftmax() { networkCheck(loss: .fullSoftmax, dropout: 0) }
    func testNetworkFullSoftmaxWithDropout() { networkCheck(loss: .fullSoftmax, dropout: 0.3) }
    func testNetworkBinaryCrossEntropy() { networkCheck(loss: .binaryCrossEntropy, dropout: 0) }
    func testNetworkBinaryCrossEntropyWithDropout() { networkCheck(loss: .binaryCrossEntropy, dropout: 0.3) }
}
