/// The fixed text matrix T [N, k] from item text: signed feature hashing of lower-cased words
/// (FNV-1a 64, bucket = hash mod k, sign from bit 63), rows L2-normalised; items without text
/// get a zero row. Deterministic, so the trainer rebuilds it identically on `--resume`.
public func hashedTextFeatures(_ texts: [String]?, nItems: Int, dim k: Int) -> [Float] {
    var out = [Float](repeating: 0, count: nItems * k)
    guard k > 0, let texts else { return out }
    for (i, text) in texts.prefix(nItems).enumerated() {
        var word: [UInt8] = []
        func flush() {
            guard !word.isEmpty else { return }
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in word { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
            out[i * k + Int(h % UInt64(k))] += (h >> 63) == 0 ? 1 : -1
            word.removeAll(keepingCapacity: true)
        }
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): word.append(b + 32)
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), 0x80...: word.append(b)
            default: flush()
            }
        }
        flush()
        var norm: Float = 0
        for j in 0..<k { norm += out[i * k + j] * out[i * k + j] }
        if norm > 0 {
            let inv = 1 / norm.squareRoot()
            for j in 0..<k { out[i * k + j] *= inv }
        }
    }
    return out
}
