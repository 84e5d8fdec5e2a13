import LSRecFormat

/// Items the model was not trained on (cold start). One rule, used by the catalogue that hosts add
/// items to and by the trainer's cold-start evaluation, so both score a new item the same way:
///   e_new = P · t      (no learned ID embedding: E row = 0)
///   b_new = `item.new_bias` when the weight file has it: learned by training with item-ID dropout,
///           where items seen only through their text share this one bias, so the model itself
///           fits what an item known only from its text deserves;
///         = else the median of the trained item biases   (neither favoured like a hit nor buried)
extension Model {
    /// The vector and bias an untrained item with text embedding `text` (length k) gets.
    /// Throws when the model has no text projection (k = 0) or `text` has the wrong length / is not finite.
    public func newItemVector(text: [Float]) throws -> (vector: [Float], bias: Float) {
        let d = dim, k = config.textDim
        guard k > 0 else {
            throw LSRecError(.invalidArgument, "this model has no text projection (lsrec.text_dim = 0): items cannot be added from text")
        }
        guard text.count == k else {
            throw LSRecError(.invalidArgument, "text vector has \(text.count) values, the model expects lsrec.text_dim = \(k)")
        }
        guard text.allSatisfy({ $0.isFinite }) else {
            throw LSRecError(.nonFinite, "text vector contains NaN or Inf")
        }
        var v = [Float](repeating: 0, count: d)
        BLAS.gemv(rows: d, cols: k, textProj, text, beta: 0, &v)
        guard v.allSatisfy({ $0.isFinite }) else {
            throw LSRecError(.nonFinite, "projected text vector overflows float32")
        }
        return (v, newItemBias)
    }

    /// Median (mean of the two middle values for even counts); 0 when empty. The new-item bias
    /// rule; the trainer's cold-start export uses it too, so both agree to the bit.
    public static func median(_ a: [Float]) -> Float {
        guard !a.isEmpty else { return 0 }
        let s = a.sorted()
        let m = s.count / 2
        return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
    }
}
