import LSRecFormat

/// Bounds that keep an added item's score and explanation weights inside float32, in the spirit
/// of `Model.checkNoOverflow` (which covers the model's own items). A state's history holds
/// model items only, so the user vector obeys the model's bounds whatever was added:
///   |u_j| ≤ U_j = max(Σ_i |W_o[j,i]|, Σ_i |W_v[j,i]| · ê_i)   (|h| ≤ 1, ê_i = max over items |e_i|)
///   |score|  ≤ |b| + Σ_j |e_j| · U_j
///   |weight| ≤ Σ_j |e_j| · Y_j with Y_j = Σ_i |W_v[j,i]| · ê_i   (α sums to 1, 1 − g ∈ [0, 1])
struct OverflowBounds: Sendable {
    let u: [Double]
    let y: [Double]
    static let limit = Double(Float.greatestFiniteMagnitude) / 4

    init(_ model: Model) {
        let d = model.dim, n = model.nItems
        var eMax = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { eMax[j] = max(eMax[j], Double(abs(model.items[i * d + j]))) } }
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
    }

    /// Throws `.nonFinite` when item vector `e` (with bias b) could overflow a score or weight.
    func check(_ e: [Float], bias: Float) throws {
        var score = Double(abs(bias)), weight = 0.0
        for j in 0..<e.count {
            score += Double(abs(e[j])) * u[j]
            weight += Double(abs(e[j])) * y[j]
        }
        guard score <= Self.limit, weight <= Self.limit else {  // also catches +Inf
            throw LSRecError(.nonFinite, "the projected text vector is so large that scores could overflow float32")
        }
    }
}
