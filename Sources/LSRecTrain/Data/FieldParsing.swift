/// Byte-level field splitting and number parsing for delimited interaction files.
/// No `String` is built for a well-formed line: that is what makes a 1M-line load take ~1 s.

/// Field separator of a delimited file.
enum FieldSeparator: Sendable, Equatable {
    case comma, tab, doubleColon   // ",", "\t", "::" (MovieLens)

    var name: String {
        switch self { case .comma: return "csv"; case .tab: return "tsv"; case .doubleColon: return "::" }
    }
}

/// Half-open byte range of one field within a line.
struct FieldRange { var start: Int; var end: Int }

/// Splits `line` into fields, writing at most `into.count` ranges; returns the number of fields
/// found (which may exceed the capacity: the caller then reports a field-count error).
@inline(__always)
func splitFields(_ line: UnsafeBufferPointer<UInt8>, _ sep: FieldSeparator,
                 into out: UnsafeMutableBufferPointer<FieldRange>) -> Int {
    var n = 0
    var start = 0
    var i = 0
    let count = line.count
    @inline(__always) func push(_ s: Int, _ e: Int) {
        if n < out.count { out[n] = FieldRange(start: s, end: e) }
        n += 1
    }
    switch sep {
    case .comma, .tab:
        let c: UInt8 = sep == .comma ? 44 : 9
        while i < count {
            if line[i] == c { push(start, i); start = i + 1 }
            i += 1
        }
    case .doubleColon:
        while i < count {
            if line[i] == 58 && i + 1 < count && line[i + 1] == 58 {
                push(start, i); i += 2; start = i
            } else { i += 1 }
        }
    }
    push(start, count)
    return n
}

/// Trims ASCII spaces and one pair of surrounding double quotes.
@inline(__always)
func trimField(_ line: UnsafeBufferPointer<UInt8>, _ r: FieldRange) -> FieldRange {
    var s = r.start, e = r.end
    while s < e && (line[s] == 32 || line[s] == 9) { s += 1 }
    while e > s && (line[e - 1] == 32 || line[e - 1] == 9) { e -= 1 }
    if e - s >= 2 && line[s] == 34 && line[e - 1] == 34 { s += 1; e -= 1 }
    return FieldRange(start: s, end: e)
}

/// Parses a decimal integer (optional sign). nil on anything else, empty, or overflow.
@inline(__always)
func parseInt64(_ line: UnsafeBufferPointer<UInt8>, _ raw: FieldRange) -> Int64? {
    let r = trimField(line, raw)
    var i = r.start
    guard i < r.end else { return nil }
    var negative = false
    if line[i] == 45 || line[i] == 43 { negative = line[i] == 45; i += 1 }
    guard i < r.end else { return nil }
    var v: Int64 = 0
    while i < r.end {
        let d = line[i] &- 48
        guard d < 10 else { return nil }
        let (m, o1) = v.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(Int64(d))
        if o1 || o2 { return nil }
        v = a
        i += 1
    }
    return negative ? -v : v
}

/// True when the field is a decimal number such as `4`, `-1`, `3.5`, `.5`, `1e3`.
func isNumber(_ line: UnsafeBufferPointer<UInt8>, _ raw: FieldRange) -> Bool {
    let r = trimField(line, raw)
    var i = r.start
    if i < r.end && (line[i] == 45 || line[i] == 43) { i += 1 }
    var digits = 0, dots = 0
    while i < r.end {
        let b = line[i]
        if b >= 48 && b <= 57 { digits += 1 }
        else if b == 46 { dots += 1; if dots > 1 { return false } }
        else if (b == 101 || b == 69) && digits > 0 { // exponent
            i += 1
            if i < r.end && (line[i] == 45 || line[i] == 43) { i += 1 }
            guard i < r.end else { return false }
            while i < r.end { guard line[i] >= 48 && line[i] <= 57 else { return false }; i += 1 }
            return true
        } else { return false }
        i += 1
    }
    return digits > 0
}

/// The field's bytes as a (UTF-8, lossy) string, for header names and messages.
func fieldString(_ line: UnsafeBufferPointer<UInt8>, _ r: FieldRange) -> String {
    let t = trimField(line, r)
    return String(decoding: UnsafeBufferPointer(rebasing: line[t.start..<t.end]), as: UTF8.self)
}

/// True when the line has only spaces/tabs.
func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
    for b in line where b != 32 && b != 9 { return false }
    return true
}
