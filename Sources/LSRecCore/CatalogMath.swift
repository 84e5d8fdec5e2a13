import LSRecFormat

/// Bounds that keep an added item's score and explanation weights inside float32, in the spirit
/// of `Model.checkNoOverflow` (which covers the model's own items). A state's held events may be
/// added items too, but only with values within `Model.heldVectorLimit`, so every held vector lies
/// in the box |e_j| ≤ ê_j = max(max over model items |e_i[j]|, limit) (`Model.heldVectorBox`) and:
///   |u_j| ≤ U_j = max(Σ_i |W_o[j,i]|, Σ_i |W_v[j,i]| · ê_i)   (|h| ≤ 1)
///   |score|  ≤ |b| + Σ_j |e_j| · U_j
///   |weight| ≤ Σ_j |e_j| · Y_j with Y_j = Σ_i |W_v[j,i]| · ê_i   (α sums to 1, 1 − g ∈ [0, 1])
/// An added item must itself fit the box, so that users can watch it (`Catalog.update`).
struct OverflowBounds: Sendable {
    let u: [Double]
    let y: [Double]
    let heldLimit: Float
    static let limit = Double(Float.greatestFiniteMagnitude) / 4

    init(_ model: Model) {
        let d = model.dim
        let eMax = model.heldVectorBox()
        var u = [Double](repeating: 0, count: d), y = [Double](repeating: 0, count: d)
        for r in 0..<d {
            var hOut = 0.0, l = 0.0
            for i in 0..<d {
                hOut += Double(abs(model.outW[r * d + i]))
                l += Double(abs(model.attnWv[r * d + i])) * eMax[i]
            }
            u[r] = max(hOut, l)
            y[r] = l
        }
        self.u = u
        self.y = y
        heldLimit = model.heldVectorLimit
    }

    /// Throws `.nonFinite` when item vector `e` (with bias b) could overflow a score or weight,
    /// or could not be held in a user state.
    func check(_ e: [Float], bias: Float) throws {
        var score = Double(abs(bias)), weight = 0.0
        for j in 0..<e.count {
            score += Double(abs(e[j])) * u[j]
            weight += Double(abs(e[j])) * y[j]
        }
        guard score <= Self.limit, weight <= Self.limit else {  // also catches +Inf
            throw LSRecError(.nonFinite, "the projected text vector is so large that scores could overflow float32")
        }
        guard e.allSatisfy({ abs($0) <= heldLimit }) else {
            throw LSRecError(.nonFinite, "the projected text vector has a value beyond ±\(heldLimit), "
                + "the largest a user state can hold (an event on the item) without risking float32 overflow")
        }
    }
}
