/// Products of weights that never change, folded once at load so a request does less work
/// (MODEL.md's maths, regrouped; computed in Double and rounded once):
///   lstmByBucket[b] = b_lstm + W_x[:, d:] · G[b]          (B × 4d: the event-gap part of the LSTM input)
///   gateByBucket[b] = b_g + W_g[:, 2d:] · Gτ[b]           (B × d: the request-gap part of the gate)
///   attnQK          = W_kᵀ W_q / √d                        (d × d: the attention logit is (attnQK · h) · e_r)
/// About 57 KB for d = 64, t = 16, B = 32.
struct PreparedWeights: Sendable {
    let lstmByBucket: [Float]
    let gateByBucket: [Float]
    let attnQK: AlignedFloats

    init(d: Int, t: Int, buckets: Int, lstmWx: AlignedFloats, lstmBias: [Float], eventGap: [Float],
         gateW: AlignedFloats, gateBias: [Float], requestGap: [Float], attnWq: [Float], attnWk: [Float]) {
        var lstm = [Float](repeating: 0, count: buckets * 4 * d)
        for b in 0..<buckets {
            for r in 0..<(4 * d) {
                var s = Double(lstmBias[r])
                let row = r * (d + t) + d
                for j in 0..<t { s += Double(lstmWx[row + j]) * Double(eventGap[b * t + j]) }
                lstm[b * 4 * d + r] = Float(s)
            }
        }
        var gate = [Float](repeating: 0, count: buckets * d)
        for b in 0..<buckets {
            for r in 0..<d {
                var s = Double(gateBias[r])
                let row = r * (2 * d + t) + 2 * d
                for j in 0..<t { s += Double(gateW[row + j]) * Double(requestGap[b * t + j]) }
                gate[b * d + r] = Float(s)
            }
        }
        // attnQK[i, j] = Σ_r W_k[r, i] · W_q[r, j] / √d
        var qk = [Double](repeating: 0, count: d * d)
        for r in 0..<d {
            for i in 0..<d {
                let k = Double(attnWk[r * d + i])
                if k == 0 { continue }
                for j in 0..<d { qk[i * d + j] += k * Double(attnWq[r * d + j]) }
            }
        }
        let scale = 1 / Double(d).squareRoot()
        lstmByBucket = lstm
        gateByBucket = gate
        attnQK = AlignedFloats(qk.map { Float($0 * scale) })
    }
}
