/// Adam (Kingma & Ba) with bias correction, global-norm gradient clipping and optional
/// decoupled weight decay, over the flat parameter vector.
public struct Adam: Sendable, Equatable {
    /// First and second moment estimates, laid out like the parameters.
    public var m: [Float]
    public var v: [Float]
    /// Updates taken so far (for bias correction).
    public var step: Int

    public init(count: Int) {
        m = [Float](repeating: 0, count: count)
        v = [Float](repeating: 0, count: count)
        step = 0
    }

    /// Global L2 norm of `grad`, accumulated in Double over `chunks` fixed slices summed in
    /// order (the result depends on the chunk count only).
    public static func norm(_ grad: [Float], chunks: Int = 1) -> Double {
        let c = max(1, chunks)
        var partial = [Double](repeating: 0, count: c)
        grad.withUnsafeBufferPointer { g in
            partial.withUnsafeMutableBufferPointer { out in
                let o = out.baseAddress!
                parallelFor(c, threads: c) { k in
                    var s = 0.0
                    for i in (k * g.count / c)..<((k + 1) * g.count / c) { s += Double(g[i]) * Double(g[i]) }
                    o[k] = s
                }
            }
        }
        return partial.reduce(0, +).squareRoot()
    }

    /// One step: clips `grad` to `clipNorm` (if > 0), updates the moments and `params`.
    /// Element-wise, so `threads` workers split it without changing the result.
    /// Returns the gradient norm before clipping.
    @discardableResult
    public mutating func update(_ params: inout [Float], grad: [Float], learningRate lr: Double,
                                beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                                weightDecay: Double = 0, clipNorm: Double = 0, threads: Int = 1) -> Double {
        precondition(params.count == grad.count && grad.count == m.count)
        let norm = Self.norm(grad, chunks: threads)
        let clip = (clipNorm > 0 && norm > clipNorm) ? Float(clipNorm / norm) : 1
        step += 1
        let b1 = Float(beta1), b2 = Float(beta2)
        let c1 = Float(1 - pow(beta1, Double(step))), c2 = Float(1 - pow(beta2, Double(step)))
        let lrF = Float(lr), eps = Float(epsilon), decay = Float(lr * weightDecay)
        let n = params.count, workers = max(1, threads)
        params.withUnsafeMutableBufferPointer { p in
            m.withUnsafeMutableBufferPointer { m in
                v.withUnsafeMutableBufferPointer { v in
                    grad.withUnsafeBufferPointer { g in
                        let p = p.baseAddress!, m = m.baseAddress!, v = v.baseAddress!, g = g.baseAddress!
                        parallelFor(workers, threads: workers) { k in
                            for i in (k * n / workers)..<((k + 1) * n / workers) {
                                let gi = g[i] * clip
                                m[i] = b1 * m[i] + (1 - b1) * gi
                                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                                let mh = m[i] / c1, vh = v[i] / c2
                                p[i] -= lrF * mh / (vh.squareRoot() + eps) + decay * p[i]
                            }
                        }
                    }
                }
            }
        }
        return norm
    }
}

private func pow(_ x: Double, _ y: Double) -> Double {
    var r = 1.0
    for _ in 0..<Int(y) { r *= x }   // integer exponent: exact order, no libm differences
    return r
}
