import LSRecFormat
import LSRecKernels

/// Options for loading a model (`lsrec_model_params` in the C API).
public struct ModelOptions: Sendable, Equatable {
    /// Keep a binary16 copy of the item matrix that single-user top-K scans first, rescoring
    /// only the items that could enter the result exactly (ItemScreen). Same results, bit for
    /// bit; about half the matrix's bytes per request; costs N·d·2 bytes of memory. Ignored
    /// (no copy is made) on a CPU without AVX2, FMA and F16C, or when an item value does not fit
    /// binary16.
    public var screenItems: Bool

    public init(screenItems: Bool = false) { self.screenItems = screenItems }
}

/// A binary16 copy of the item matrix and a bound on how far a score computed from it can be
/// from the exact one. Top-K scores every item from the copy (half the bytes of float32: a
/// request reads the matrix from cache, so bytes set the pace) and rescores exactly only the
/// items whose approximate score comes within twice the bound of the k-th best approximate
/// score (`Model.topKScreened` has the argument). The result is the exact path's, ids and
/// score bits.
///
/// Bound, for row x, its binary16 rounding x̃ = x + Δ, and user vector u (float32 sums of d
/// terms in any order, FMA or not, have error ≤ γ_d Σ|x_j u_j| with γ_d = dε/(1 − dε), ε = 2⁻²⁴;
/// adding the bias rounds once more):
///   |s − a| ≤ ‖u‖ (‖Δ‖ + γ_d (‖x‖ + ‖x̃‖) + 2ε (1 + γ_d) max(‖x‖, ‖x̃‖)) + 2ε |b|.
/// The per-row factor is computed in Double at load and its maximum kept; `slack` adds 0.1%.
final class ItemScreen: @unchecked Sendable {
    /// Rows in blocks of eight, column-interleaved (lsrec_kernels.h); 64-byte aligned; owned.
    let halves: UnsafeMutablePointer<UInt16>
    /// Number of UInt16 in `halves` (padded to whole blocks).
    let count: Int
    /// max over rows of the bracket above (per unit of ‖u‖).
    let perUnitNorm: Double
    /// 2ε max|b|.
    let absolute: Double

    /// nil when the CPU lacks the kernel's vector path (the portable screen would be slower than
    /// exact scoring) or a value overflows binary16 (no bound then): top-K stays exact either way.
    init?(items: [Float], bias: [Float], rows n: Int, dim d: Int) {
        guard n > 0, d > 0, items.count == n * d, bias.count == n, lsk_screen_path() == 1 else { return nil }
        let total = (n + 7) / 8 * 8 * d
        let h = UnsafeMutableRawPointer.allocate(byteCount: total * 2, alignment: 64)
            .bindMemory(to: UInt16.self, capacity: total)
        h.initialize(repeating: 0, count: total)
        let eps = 0x1p-24, gamma = Double(d) * eps / (1 - Double(d) * eps)
        var worst = 0.0
        for i in 0..<n {
            var err2 = 0.0, norm2 = 0.0, rounded2 = 0.0
            let base = (i / 8) * 8 * d + i % 8
            for c in 0..<d {
                let v = items[i * d + c]
                let bits = halfBitsFromFloat(v)
                guard !halfBitsAreNonFinite(bits) else {
                    h.deinitialize(count: total)
                    h.deallocate()
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
        halves = h
        count = total
        perUnitNorm = worst
        absolute = 2 * eps * bias.reduce(0.0) { max($0, abs(Double($1))) }
    }

    deinit {
        halves.deinitialize(count: count)
        halves.deallocate()
    }

    /// Memory held by the copy.
    var bytes: Int { count * MemoryLayout<UInt16>.size }

    /// An upper bound on |exact − screened| score for a user vector of norm `userNorm`.
    func slack(userNorm: Double) -> Double { (perUnitNorm * userNorm + absolute) * 1.001 + 1e-30 }
}

extension Model {
    /// Single-user top-K through the screen (ItemScreen): nil when the user vector is not finite
    /// (the exact path then decides what a NaN or an overflow ranks as).
    ///
    /// One pass over the binary16 copy (`lsk_screen_select`, in C: the whole scan and its
    /// selection in one call) keeps a heap of the k best *approximate* scores and a list of
    /// candidates; then only the candidates that can still make the result are rescored
    /// exactly, in index order, into the real heap. Why it is exact: the k items holding the
    /// final approximate threshold T̃ have exact scores ≥ T̃ − slack, so the exact k-th score is
    /// at least that, and any item that can rank in the top k has an approximate score
    /// ≥ T̃ − 2·slack. T̃ only rises during the pass, so every such item was listed.
    func topKScreened(_ screen: ItemScreen, userVector u: UnsafePointer<Float>, k: Int,
                      excluded: ExclusionSet?) -> [ScoredItem]? {
        var norm2 = 0.0
        for j in 0..<dim { norm2 += Double(u[j]) * Double(u[j]) }
        guard norm2.isFinite else { return nil }
        let twoSlack = 2 * screen.slack(userNorm: norm2.squareRoot())
        let n = nItems
        let kk = min(k, n)  // k may be anything up to Int.max (a C caller's size_t): bound the arithmetic
        guard kk > 0 else { return [] }
        // About 8k rows are usually listed; ties can list more, and then a second pass has room
        // for every row (it cannot overflow).
        if let r = screenedPass(screen, u, k: kk, slack: twoSlack, excluded: excluded, room: min(n, 4 * kk + 256)) {
            return r
        }
        return screenedPass(screen, u, k: kk, slack: twoSlack, excluded: excluded, room: n)
    }

    /// One scan of the screen listing at most `room` rows (nil if they did not fit), then the
    /// exact scores of the listed rows that the final cutoff leaves in.
    private func screenedPass(_ screen: ItemScreen, _ u: UnsafePointer<Float>, k: Int, slack: Double,
                              excluded: ExclusionSet?, room: Int) -> [ScoredItem]? {
        let d = dim, n = nItems
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: k + room + 1) { floats -> [ScoredItem]? in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: room) { rows -> [ScoredItem]? in
                let heap = floats.baseAddress!, scores = heap + k, one = scores + room, at = rows.baseAddress!
                var cutoff: Float = 0
                let listed = itemBias.withUnsafeBufferPointer { bias in
                    let select = { (slots: UnsafePointer<Int32>?, mask: Int) in
                        lsk_screen_select(screen.halves, n, d, u, bias.baseAddress!, k, slack, slots, mask,
                                          heap, at, scores, room, &cutoff)
                    }
                    if let excluded, !excluded.isEmpty { return excluded.withSlots { select($0, $1) } }
                    return select(nil, 0)
                }
                guard listed >= 0 else { return nil }  // SIZE_MAX: the rows did not fit in `room`
                var exact = TopKHeap(k: k, capacityHint: n)
                items.withUnsafeBufferPointer { x in
                    itemBias.withUnsafeBufferPointer { bias in
                        for j in 0..<listed where scores[j] >= cutoff {
                            // The exact score, bit for bit what the unscreened path computes.
                            let i = Int(at[j])
                            exact.offer(i, lsk_score_rows(x.baseAddress! + i * d, 1, d, u, bias.baseAddress! + i, one))
                        }
                    }
                }
                return exact.sorted()
            }
        }
    }
}
