#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

/// Matrix factorisation trained with the BPR loss (Rendle et al. 2009) by plain SGD:
/// score(u, i) = P[u] · Q[i] + b[i]. Trained on the leave-one-out training events only; each
/// epoch visits every training event once in a seeded random order and pairs it with one negative
/// drawn uniformly from the items the user has no training event with.
public final class BPRMF: Ranker, @unchecked Sendable { // immutable after init
    public struct Config: Sendable, Equatable {
        public var dim = 64
        public var epochs = 30
        public var learningRate: Float = 0.05
        /// L2 on user and item factors (per update, scaled by the learning rate).
        public var regularization: Float = 0.005
        public var biasRegularization: Float = 0.0005
        /// Initial factors ~ N(0, initStd²); biases start at 0.
        public var initStd: Float = 0.1
        public var seed: UInt64 = 1
        public init() {}
    }

    public let config: Config
    public let nUsers: Int
    public let nItems: Int
    /// [nUsers, dim], [nItems, dim], [nItems], row-major.
    public private(set) var userFactors: [Float]
    public private(set) var itemFactors: [Float]
    public private(set) var itemBias: [Float]
    /// Mean BPR loss (−log σ(x_uij)) per epoch.
    public private(set) var epochLoss: [Double] = []

    /// Trains on `data`'s training events; `progress(epoch, meanLoss)` after each epoch.
    public init(data: Dataset, config: Config = Config(), progress: ((Int, Double) -> Void)? = nil) {
        self.config = config
        nUsers = data.users.count
        nItems = data.nItems
        let d = config.dim
        var g = SeededGenerator(seed: config.seed)
        userFactors = (0..<(nUsers * d)).map { _ in Float(g.gaussian()) * config.initStd }
        itemFactors = (0..<(nItems * d)).map { _ in Float(g.gaussian()) * config.initStd }
        itemBias = [Float](repeating: 0, count: nItems)

        // Training pairs, and each user's sorted distinct training items for negative rejection.
        var pairs: [(user: Int32, item: Int32)] = []
        var positives: [[Int32]] = []
        positives.reserveCapacity(nUsers)
        let rule = LeaveOneOut(data)
        for (u, seq) in data.users.enumerated() {
            let train = seq.items.prefix(rule.trainingCount(seq))
            for i in train { pairs.append((Int32(u), i)) }
            positives.append(Array(Set(train)).sorted())
        }
        guard !pairs.isEmpty, nItems > 1 else { return }

        for epoch in 0..<config.epochs {
            for k in stride(from: pairs.count - 1, to: 0, by: -1) { pairs.swapAt(k, g.index(below: k + 1)) }
            var loss = 0.0
            userFactors.withUnsafeMutableBufferPointer { P in
                itemFactors.withUnsafeMutableBufferPointer { Q in
                    itemBias.withUnsafeMutableBufferPointer { B in
                        for (u, i) in pairs {
                            let pos = positives[Int(u)]
                            guard pos.count < nItems else { continue } // user has seen everything
                            var j = g.index(below: nItems)
                            while contains(pos, Int32(j)) { j = g.index(below: nItems) }
                            loss += Self.step(P.baseAddress! + Int(u) * d, Q.baseAddress! + Int(i) * d,
                                              Q.baseAddress! + j * d, &B[Int(i)], &B[j], d, config)
                        }
                    }
                }
            }
            let mean = loss / Double(pairs.count)
            epochLoss.append(mean)
            progress?(epoch + 1, mean)
        }
    }

    /// One SGD step on (u, i, j); returns −log σ(x_uij) before the step.
    @inline(__always)
    private static func step(_ p: UnsafeMutablePointer<Float>, _ qi: UnsafeMutablePointer<Float>,
                             _ qj: UnsafeMutablePointer<Float>, _ bi: inout Float, _ bj: inout Float,
                             _ d: Int, _ c: Config) -> Double {
        var x = bi - bj
        for k in 0..<d { x += p[k] * (qi[k] - qj[k]) }
        // dL/dx of −log σ(x) is −σ(−x); computed stably for either sign of x.
        let e = expf(-abs(x))
        let sigNeg: Float = x >= 0 ? e / (1 + e) : 1 / (1 + e) // σ(−x)
        let loss = x >= 0 ? log1pf(e) : -x + log1pf(e)
        let lr = c.learningRate, reg = c.regularization
        for k in 0..<d {
            let pk = p[k], qik = qi[k], qjk = qj[k]
            p[k] += lr * (sigNeg * (qik - qjk) - reg * pk)
            qi[k] += lr * (sigNeg * pk - reg * qik)
            qj[k] += lr * (-sigNeg * pk - reg * qjk)
        }
        bi += lr * (sigNeg - c.biasRegularization * bi)
        bj += lr * (-sigNeg - c.biasRegularization * bj)
        return Double(loss)
    }

    public func scores(user: Int, history: ArraySlice<Int32>, timestamps: ArraySlice<Int64>,
                       now: Int64, into out: inout [Float]) {
        let d = config.dim
        userFactors.withUnsafeBufferPointer { P in
            itemFactors.withUnsafeBufferPointer { Q in
                itemBias.withUnsafeBufferPointer { B in
                    out.withUnsafeMutableBufferPointer { o in
                        let p = P.baseAddress! + user * d
                        for i in 0..<nItems {
                            let q = Q.baseAddress! + i * d
                            var s: Float = 0
                            for k in 0..<d { s += p[k] * q[k] }
                            o[i] = s + B[i]
                        }
                    }
                }
            }
        }
    }
}

/// Binary search in a sorted array.
@inline(__always)
private func contains(_ sorted: [Int32], _ x: Int32) -> Bool {
    var lo = 0, hi = sorted.count
    while lo < hi {
        let mid = (lo + hi) >> 1
        if sorted[mid] < x { lo = mid + 1 } else { hi = mid }
    }
    return lo < sorted.count && sorted[lo] == x
}
