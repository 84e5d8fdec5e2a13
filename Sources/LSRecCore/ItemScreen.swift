import LSRecFormat
import LSRecKernels

/// Options for loading a model (`lsrec_model_params` in the C API).
public struct ModelOptions: Sendable, Equatable {
    /// Keep an approximate copy of the item matrix that single-user top-K scans first, rescoring
    /// only the items that could enter the result exactly (ItemScreen). Same results, bit for
    /// bit. The copy is int8 (N·d bytes + 4 per item) on a CPU with AVX2, FMA and F16C (scanned
    /// with AVX-512 VNNI where present), or binary16 (N·d·2 bytes) there when d > 1040; otherwise,
    /// or when an item value does not fit binary16 then, no copy is made.
    public var screenItems: Bool
    /// Forces the copy's format (tests); nil picks the fastest this CPU has.
    var screenFormat: ItemScreen.Format?

    public init(screenItems: Bool = false) { self.screenItems = screenItems }
}

/// An approximate copy of the item matrix and a bound on how far a score computed from it can be
/// from the exact one. Top-K scores every item from the copy (fewer bytes and cheaper arithmetic
/// than float32) and rescores exactly only the items whose approximate score comes within twice
/// the bound of the k-th best approximate score (`Model.topKScreened` has the argument). The
/// result is the exact path's, ids and score bits.
///
/// The exact score s = fl(u·x + b) (float32 sums of d terms in any order, FMA or not, have error
/// ≤ γ_d Σ|x_j u_j| with γ_d = dε/(1 − dε), ε = 2⁻²⁴; adding the bias rounds once more).
///
/// binary16: row x is stored as its rounding x̃ = x + Δ; the approximate score is a float32 sum:
///   |s − a| ≤ ‖u‖ (‖Δ‖ + γ_d (‖x‖ + ‖x̃‖) + 2ε (1 + γ_d) max(‖x‖, ‖x̃‖)) + 2ε |b|.
/// int8: row x is stored as x̃ = σ q (q integers in [−127, 127], σ = max|x_c| / 127, Δ = x − x̃),
/// the user vector as ũ = τ p the same way (δ = u − ũ, per request); the kernel computes the
/// integer p·q exactly and a = fl(fl(τσ) (p·q) + b), so |a − (ũ·x̃ + b)| ≤ (2ε + ε²)|ũ·x̃| + ε|b|
/// and u·x − ũ·x̃ = u·Δ + δ·x̃:
///   |s − a| ≤ ‖u‖ (‖Δ‖ + (γ_d + 2ε) ‖x‖ + 3ε ‖x̃‖) + ‖δ‖ (1 + 3ε) ‖x̃‖ + 2ε |b|
/// (‖ũ‖ ≤ ‖u‖ + ‖δ‖). Products that underflow add at most ~10⁻³⁸, below the 10⁻³⁰ added.
/// The per-row factors are computed in Double at load and their maxima kept; `slack` adds 0.1%.
final class ItemScreen: @unchecked Sendable {
    enum Format: Sendable, Equatable {
        /// binary16, rows in blocks of eight, column-interleaved (lsk_screen_select).
        case half
        /// int8 + a float scale per row, blocks of eight rows by groups of four columns
        /// (lsk_screen_select_int8).
        case int8
    }

    let format: Format
    /// The copy (lsrec_kernels.h has each format's layout); 64-byte aligned; owned.
    let storage: UnsafeMutableRawPointer
    /// Bytes at `storage`: the values, then (int8) the row scales.
    let bytes: Int
    /// Columns as stored: d, or (int8) d rounded up to a multiple of 4.
    let columns: Int
    /// max over rows of the bracket multiplying ‖u‖ above.
    let perUnitNorm: Double
    /// int8: max over rows of (1 + 3ε)‖x̃‖, multiplying ‖δ‖; 0 for binary16.
    let perQuantError: Double
    /// 2ε max|b|.
    let absolute: Double

    var halves: UnsafePointer<UInt16> { UnsafePointer(storage.assumingMemoryBound(to: UInt16.self)) }
    var quads: UnsafePointer<UInt8> { UnsafePointer(storage.assumingMemoryBound(to: UInt8.self)) }
    /// int8: the row scales σ, after the values (padded to whole blocks, 64-byte aligned).
    var rowScales: UnsafePointer<Float> {
        UnsafePointer((storage + valueBytes).assumingMemoryBound(to: Float.self))
    }
    private let valueBytes: Int

    /// The format this CPU scans fastest for rows of d values, or nil when neither kernel has its
    /// vector path here (the portable screen would be slower than exact scoring). int8 wherever it
    /// has a vector path: with VNNI, and also with AVX2 alone (on Zen 3 a screened request was
    /// 1.38× faster with it than with binary16, BENCHMARKS.md); binary16 only past int8's d <= 1040.
    static func bestFormat(dim d: Int) -> Format? {
        if lsk_screen_int8_path() == 1 && d <= 1040 { return .int8 }
        if lsk_screen_path() == 1 { return .half }
        return nil
    }

    /// nil when `format` (default: `bestFormat`) is unavailable on this CPU, d is too wide for int8
    /// (d > 1040: the integer dot product would no longer be exact in float32), or a value overflows
    /// binary16 (no bound then): top-K stays exact either way.
    init?<Items: RandomAccessCollection<Float>>(items: Items, bias: [Float], rows n: Int, dim d: Int,
                                                format wanted: Format? = nil) where Items.Index == Int {
        guard n > 0, d > 0, items.count == n * d, bias.count == n, let format = wanted ?? Self.bestFormat(dim: d) else {
            return nil
        }
        let eps = 0x1p-24, gamma = Double(d) * eps / (1 - Double(d) * eps)
        let blocks = (n + 7) / 8
        var worst = 0.0, worstQuant = 0.0
        switch format {
        case .half:
            guard lsk_screen_path() == 1 else { return nil }
            let total = blocks * 8 * d
            let raw = UnsafeMutableRawPointer.allocate(byteCount: total * 2, alignment: 64)
            let h = raw.initializeMemory(as: UInt16.self, repeating: 0, count: total)
            for i in 0..<n {
                var err2 = 0.0, norm2 = 0.0, rounded2 = 0.0
                let base = (i / 8) * 8 * d + i % 8
                for c in 0..<d {
                    let v = items[i * d + c]
                    let bits = halfBitsFromFloat(v)
                    guard !halfBitsAreNonFinite(bits) else {
                        raw.deallocate()
                        return nil
                    }
                    h[base + c * 8] = bits
                    let r = Double(floatFromHalfBits(bits)), x = Double(v)
                    err2 += (x - r) * (x - r)
                    norm2 += x * x
                    rounded2 += r * r
                }
                let norm = norm2.squareRoot(), rounded = rounded2.squareRoot()
                worst = max(worst, err2.squareRoot() + gamma * (norm + rounded) + 2 * eps * (1 + gamma) * max(norm, rounded))
            }
            storage = raw
            bytes = total * 2
            valueBytes = bytes
            columns = d
        case .int8:
            guard lsk_screen_int8_path() == 1, d <= 1040 else { return nil }
            let d4 = (d + 3) / 4 * 4
            let values = blocks * 8 * d4, scalesAt = (values + 63) / 64 * 64
            let raw = UnsafeMutableRawPointer.allocate(byteCount: scalesAt + blocks * 8 * 4, alignment: 64)
            let q = raw.initializeMemory(as: UInt8.self, repeating: 128, count: scalesAt)
            let sigma = (raw + scalesAt).initializeMemory(as: Float.self, repeating: 0, count: blocks * 8)
            for i in 0..<n {
                var top: Float = 0
                for c in 0..<d { top = max(top, abs(items[i * d + c])) }
                let scale = top / 127
                sigma[i] = scale
                var err2 = 0.0, norm2 = 0.0, stored2 = 0.0
                let base = (i / 8) * 8 * d4 + (i % 8) * 4
                for c in 0..<d {
                    let v = items[i * d + c]
                    let level = Self.int8Level(v, scale: scale)
                    q[base + (c / 4) * 32 + c % 4] = UInt8(Int(level) + 128)
                    let r = Double(scale) * Double(level), x = Double(v)
                    err2 += (x - r) * (x - r)
                    norm2 += x * x
                    stored2 += r * r
                }
                let norm = norm2.squareRoot(), stored = stored2.squareRoot()
                worst = max(worst, err2.squareRoot() + (gamma + 2 * eps) * norm + 3 * eps * stored)
                worstQuant = max(worstQuant, (1 + 3 * eps) * stored)
            }
            storage = raw
            bytes = scalesAt + blocks * 8 * 4
            valueBytes = scalesAt
            columns = d4
        }
        self.format = format
        perUnitNorm = worst
        perQuantError = worstQuant
        absolute = 2 * eps * bias.reduce(0.0) { max($0, abs(Double($1))) }
    }

    deinit { storage.deallocate() }

    /// The int8 quantisation of one value of a vector (an item row at load, the user vector per
    /// request) whose scale is max|x| / 127: round(v / scale) within ±127, 0 when the scale is 0.
    /// The bounds use the values it returns, so any rounding here keeps them true.
    static func int8Level(_ v: Float, scale: Float) -> Float {
        scale > 0 ? max(-127, min(127, (v / scale).rounded())) : 0
    }

    /// An upper bound on |exact − screened| score for a user vector of norm `userNorm` whose int8
    /// copy is off by `quantError` (‖δ‖; 0 for binary16).
    func slack(userNorm: Double, quantError: Double = 0) -> Double {
        (perUnitNorm * userNorm + perQuantError * quantError + absolute) * 1.001 + 1e-30
    }
}

extension Model {
    /// Single-user top-K through the screen (ItemScreen): nil when the user vector or the bound
    /// is not finite (the exact path then decides what a NaN or an overflow ranks as).
    ///
    /// One call scans the copy (`lsk_screen_select` / `lsk_screen_select_int8`, in C: the scan
    /// and its selection) and finds the k-th best *approximate* score T̃ and the items whose
    /// approximate score is ≥ T̃ − 2·slack (the final cutoff); only those are rescored exactly, in
    /// index order, into the real heap. Why it is exact: the k items holding T̃ have exact
    /// scores ≥ T̃ − slack, so the exact k-th score is at least that, and any item that can rank
    /// in the top k has an approximate score ≥ T̃ − 2·slack, so it is listed.
    func topKScreened(_ screen: ItemScreen, userVector u: UnsafePointer<Float>, k: Int,
                      excluded: ExclusionSet?) -> [ScoredItem]? {
        var norm2 = 0.0
        for j in 0..<dim { norm2 += Double(u[j]) * Double(u[j]) }
        guard norm2.isFinite else { return nil }
        let n = nItems
        let kk = min(k, n)  // k may be anything up to Int.max (a C caller's size_t): bound the arithmetic
        guard kk > 0 else { return [] }
        guard screen.format == .int8 else {
            return screenedTopK(screen, u, k: kk, slack: 2 * screen.slack(userNorm: norm2.squareRoot()),
                                excluded: excluded, quantized: nil)
        }
        return withUnsafeTemporaryAllocation(of: Int8.self, capacity: screen.columns) { p -> [ScoredItem]? in
            let uq = p.baseAddress!
            let quant = quantize(u, into: uq, columns: screen.columns)
            let twoSlack = 2 * screen.slack(userNorm: norm2.squareRoot(), quantError: quant.error)
            guard twoSlack.isFinite else { return nil }
            return screenedTopK(screen, u, k: kk, slack: twoSlack, excluded: excluded,
                                quantized: (UnsafePointer(uq), quant.scale))
        }
    }

    /// u's int8 copy for the int8 screen: τ = max|u_j| / 127, p_j = round(u_j / τ) (zero past d),
    /// and ‖u − τ p‖ in Double from the values actually stored. The C kernel (same bits; the
    /// Swift loop's division and rounding per value were 4% of a screened request) when the CPU
    /// has AVX2, else `quantizeSwift`.
    private func quantize(_ u: UnsafePointer<Float>, into p: UnsafeMutablePointer<Int8>,
                          columns: Int) -> (scale: Float, error: Double) {
        var scale: Float = 0, err2 = 0.0
        if lsk_quantize_int8(u, dim, columns, p, &scale, &err2) == 1 { return (scale, err2.squareRoot()) }
        return Model.quantizeSwift(u, dim: dim, into: p, columns: columns)
    }

    static func quantizeSwift(_ u: UnsafePointer<Float>, dim: Int, into p: UnsafeMutablePointer<Int8>,
                              columns: Int) -> (scale: Float, error: Double) {
        var top: Float = 0
        for j in 0..<dim { top = max(top, abs(u[j])) }
        let scale = top / 127
        var err2 = 0.0
        for j in 0..<columns {
            guard j < dim else {
                p[j] = 0
                continue
            }
            let level = ItemScreen.int8Level(u[j], scale: scale)
            p[j] = Int8(level)
            let e = Double(u[j]) - Double(scale) * Double(level)
            err2 += e * e
        }
        return (scale, err2.squareRoot())
    }

    /// A pass with room for about 8k listed rows, and if ties listed more, a second pass with
    /// room for every row (it cannot overflow).
    private func screenedTopK(_ screen: ItemScreen, _ u: UnsafePointer<Float>, k: Int, slack: Double,
                              excluded: ExclusionSet?, quantized: Quantized?) -> [ScoredItem]? {
        let n = nItems
        if let r = screenedPass(screen, u, k: k, slack: slack, excluded: excluded, quantized: quantized,
                                room: min(n, 4 * k + 256)) {
            return r
        }
        return screenedPass(screen, u, k: k, slack: slack, excluded: excluded, quantized: quantized, room: n)
    }

    /// One scan of the screen listing at most `room` rows (nil if they did not fit): the rows at
    /// or above the final cutoff, then their exact scores.
    private func screenedPass(_ screen: ItemScreen, _ u: UnsafePointer<Float>, k: Int, slack: Double,
                              excluded: ExclusionSet?, quantized: Quantized?,
                              room: Int) -> [ScoredItem]? {
        let d = dim, n = nItems
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: k + room) { floats -> [ScoredItem]? in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: room) { rows -> [ScoredItem]? in
                let heap = floats.baseAddress!, scores = heap + k, at = rows.baseAddress!
                var cutoff: Float = 0
                let listed = itemBias.withUnsafeBufferPointer { bias in
                    ExclusionSet.withKernelSlots(excluded) { slots, mask -> Int in
                        if let (uq, scale) = quantized {
                            return lsk_screen_select_int8(screen.quads, screen.rowScales, n, screen.columns, uq, scale,
                                                          bias.baseAddress!, k, slack, slots, mask, heap, at, scores,
                                                          room, &cutoff)
                        }
                        return lsk_screen_select(screen.halves, n, d, u, bias.baseAddress!, k, slack, slots, mask,
                                                 heap, at, scores, room, &cutoff)
                    }
                }
                guard listed >= 0 else { return nil }  // SIZE_MAX: the rows did not fit in `room`
                // The kernels list exactly the rows at or above the final cutoff (ScreenTests).
                var exact = TopKHeap(k: k, capacityHint: listed)
                guard listed > 0 else { return exact.sorted() }
                // Their exact scores in one gathered call (eight rows at a time, the next eight
                // prefetched; bit for bit lsk_score_rows's, so what the unscreened path computes),
                // into `scores`, whose approximate values are no longer needed.
                items.withUnsafeBufferPointer { x in
                    itemBias.withUnsafeBufferPointer { bias in
                        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: listed) { rowPointers in
                            let p = rowPointers.baseAddress!
                            for j in 0..<listed { p[j] = x.baseAddress! + Int(at[j]) * d }
                            _ = lsk_score_gathered(p, listed, d, u, scores)
                        }
                        for j in 0..<listed {
                            let i = Int(at[j])
                            exact.offer(i, scores[j] + bias[i])
                        }
                    }
                }
                return exact.sorted()
            }
        }
    }

    /// The int8 screen's user side: u's int8 copy and its scale τ.
    typealias Quantized = (UnsafePointer<Int8>, Float)
}
