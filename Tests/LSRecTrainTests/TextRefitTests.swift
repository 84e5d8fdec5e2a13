import XCTest
@testable import LSRecTrain

/// refitTextProjection: trained item vectors unchanged, P' solves the ridge normal equations over
/// the fitted items (float64 check), excluded and text-less items do not enter the fit.
final class TextRefitTests: XCTestCase {
    let n = 40, d = 5, k = 6

    func makeParams(seed: UInt64) -> NetworkParameters<Float> {
        let shape = NetworkShape(nItems: n, dim: d, history: 4, timeDim: 3, timeBuckets: 6, textDim: k, fusion: .gate)
        var rng = SeededGenerator(seed: seed)
        var text = (0..<(n * k)).map { _ in Float(rng.gaussian()) }
        for j in 0..<k { text[3 * k + j] = 0 }                  // item 3 has no text
        return NetworkParameters<Float>(shape: shape, text: text, initScale: 0.5, rng: &rng)
    }

    func vectors(_ p: NetworkParameters<Float>) -> [Double] {
        let e = p[.itemEmbedding], proj = p[.textProj]
        var x = [Double](repeating: 0, count: n * d)
        for i in 0..<n { for r in 0..<d {
            var v = Double(e[i * d + r])
            for j in 0..<k { v += Double(proj[r * k + j]) * Double(p.text[i * k + j]) }
            x[i * d + r] = v
        } }
        return x
    }

    func testWarmVectorsUnchangedAndNormalEquationsHold() throws {
        var p = makeParams(seed: 7)
        var excluded = [Bool](repeating: false, count: n)
        excluded[5] = true; excluded[11] = true
        let before = vectors(p)
        let ridge = 0.1
        refitTextProjection(&p, excluded: excluded, ridge: ridge)
        let after = vectors(p)
        for i in 0..<(n * d) { XCTAssertEqual(after[i], before[i], accuracy: 1e-4 * max(1, abs(before[i]))) }

        // Normal equations over fitted items F (not excluded, text non-zero):
        // Σ_F t_i (x_i − P' t_i)ᵀ = λ P'ᵀ with λ = ridge · trace(Σ_F t tᵀ) / k.
        let proj = p[.textProj]
        let fitted = (0..<n).filter { !excluded[$0] && $0 != 3 }
        var trace = 0.0
        for i in fitted { for j in 0..<k { trace += Double(p.text[i * k + j] * p.text[i * k + j]) } }
        let lambda = ridge * trace / Double(k)
        for j in 0..<k { for r in 0..<d {
            var lhs = 0.0
            for i in fitted {
                var pred = 0.0
                for l in 0..<k { pred += Double(proj[r * k + l]) * Double(p.text[i * k + l]) }
                lhs += Double(p.text[i * k + j]) * (before[i * d + r] - pred)
            }
            XCTAssertEqual(lhs, lambda * Double(proj[r * k + j]), accuracy: 1e-3 * max(1, abs(lhs)))
        } }
    }

    func testExcludedItemsDoNotMoveTheFit() {
        var excluded = [Bool](repeating: false, count: n)
        excluded[5] = true
        var a = makeParams(seed: 9), b = a
        let eOff = b.layout.offsets[ParamID.itemEmbedding.rawValue]
        for r in 0..<d { b.values[eOff + 5 * d + r] += 100 }     // move only an excluded item
        for r in 0..<d { b.values[eOff + 3 * d + r] -= 50 }      // and the text-less one
        refitTextProjection(&a, excluded: excluded)
        refitTextProjection(&b, excluded: excluded)
        XCTAssertEqual(a[.textProj], b[.textProj])
    }

    func testFitRecoversAnExactLinearMap() {
        // When x_i = Q t_i exactly and the ridge is tiny, P' ≈ Q, so E' ≈ 0.
        var p = makeParams(seed: 3)
        var rng = SeededGenerator(seed: 4)
        let q = (0..<(d * k)).map { _ in Float(rng.gaussian()) }
        p[.textProj] = q
        p[.itemEmbedding] = [Float](repeating: 0, count: n * d)
        refitTextProjection(&p, excluded: [Bool](repeating: false, count: n), ridge: 1e-9)
        for (a, b) in zip(p[.textProj], q) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        XCTAssertLessThan(p[.itemEmbedding].map { abs($0) }.max()!, 1e-4)
    }
}
