/// The Unicode helpers of the BERT normaliser: canonical decomposition (NFD) with canonical
/// ordering, and the character classes of Hugging Face `tokenizers`' BertNormalizer and
/// BertPreTokenizer. Categories come from the Swift standard library's Unicode data; the
/// decompositions from the generated table in UnicodeDecomposition.swift.
///
/// `tokenizers` takes general categories (control, punctuation, nonspacing mark) and canonical
/// decompositions from crates whose tables are Unicode 8.0: a character assigned later is, for
/// it, in none of those classes. Probing tokenizers 0.x on every code point confirms the cut-off
/// exactly, plus six characters whose category changed after 8.0 (listed below). We reproduce
/// that with `properties.age`, so ids match tokenizers on new characters too. Whitespace and
/// lowercasing come from Rust's standard library, which is current, as Swift's is.
enum BertUnicode {
    /// Assigned in Unicode 8.0 or earlier (what tokenizers' category tables know).
    @inline(__always)
    static func inUnicode8(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x0370 { return true }  // Latin, IPA, combining diacriticals: all ≤ 1.1
        guard let age = s.properties.age else { return false }
        return age.major < 8 || (age.major == 8 && age.minor == 0)
    }

    /// Appends the canonical decomposition of `s` (recursive; Hangul algorithmic) to `out`.
    static func appendDecomposition(of s: Unicode.Scalar, to out: inout [Unicode.Scalar]) {
        let v = s.value
        // Hangul syllables (Unicode §3.12).
        if v >= 0xAC00, v <= 0xD7A3 {
            let index = v - 0xAC00
            let l = 0x1100 + index / 588, vv = 0x1161 + (index % 588) / 28, t = 0x11A7 + index % 28
            out.append(Unicode.Scalar(l)!)
            out.append(Unicode.Scalar(vv)!)
            if t != 0x11A7 { out.append(Unicode.Scalar(t)!) }
            return
        }
        // Below U+00C0 nothing decomposes: the common ASCII case skips the search.
        guard v >= 0xC0, inUnicode8(s), let k = find(v) else { out.append(s); return }
        for i in Int(decompositionStarts[k]) ..< Int(decompositionStarts[k + 1]) {
            out.append(Unicode.Scalar(decompositionValues[i])!)
        }
    }

    /// Binary search of the sorted decomposition keys.
    private static func find(_ v: UInt32) -> Int? {
        var lo = 0, hi = decompositionKeys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if decompositionKeys[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo < decompositionKeys.count && decompositionKeys[lo] == v ? lo : nil
    }

    /// NFD: decompose, then sort each run of non-starters by canonical combining class (stable).
    static func nfd(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(scalars.count)
        for s in scalars { appendDecomposition(of: s, to: &out) }
        var i = 0
        while i < out.count {
            guard out[i].properties.canonicalCombiningClass.rawValue != 0 else { i += 1; continue }
            var j = i
            while j < out.count, out[j].properties.canonicalCombiningClass.rawValue != 0 { j += 1 }
            if j - i > 1 {
                // Insertion sort: runs are short and it is stable.
                for a in (i + 1) ..< j {
                    let x = out[a]
                    let cx = x.properties.canonicalCombiningClass.rawValue
                    var b = a - 1
                    while b >= i, out[b].properties.canonicalCombiningClass.rawValue > cx {
                        out[b + 1] = out[b]
                        b -= 1
                    }
                    out[b + 1] = x
                }
            }
            i = j
        }
        return out
    }

    /// Rust's `char::is_whitespace` (the White_Space property), plus tab, LF and CR.
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
    }

    /// tokenizers' `is_control`: categories Cc, Cf, Co (Unicode 8.0) — except tab, LF, CR, which
    /// are whitespace. Unassigned code points are not control characters for it (they are kept).
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        guard inUnicode8(s) else { return false }
        switch s.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse: return true
        default: return false
        }
    }

    /// ASCII punctuation (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~) or a Unicode P* category.
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (v >= 33 && v <= 47) || (v >= 58 && v <= 64) || (v >= 91 && v <= 96) || (v >= 123 && v <= 126) {
            return true
        }
        // Po in Unicode 8.0, other categories since.
        if v == 0x166D || v == 0x111C9 { return true }
        guard inUnicode8(s) else { return false }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// CJK ideograph blocks, exactly as tokenizers' BertNormalizer lists them (its range starts
    /// at U+2B920, not U+2B820 as in the original BERT code; we follow tokenizers).
    static func isChinese(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00 ... 0x9FFF, 0x3400 ... 0x4DBF, 0x20000 ... 0x2A6DF, 0x2A700 ... 0x2B73F,
             0x2B740 ... 0x2B81F, 0x2B920 ... 0x2CEAF, 0xF900 ... 0xFAFF, 0x2F800 ... 0x2FA1F:
            return true
        default:
            return false
        }
    }

    /// A nonspacing mark (Mn, Unicode 8.0): what strip_accents removes after NFD.
    static func isNonspacingMark(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x1734, 0x1171E: return true                   // Mn in 8.0, Mc since
        case 0x1885, 0x1886, 0xA9BD, 0x111C9: return false  // Lo, Mc, Po in 8.0; Mn since
        default: return inUnicode8(s) && s.properties.generalCategory == .nonspacingMark
        }
    }
}
