import LSRecKernels

/// Kernels for the per-request maths (d ≈ 64): single-threaded matrix–vector products,
/// and eight-lane dot products and axpys for the attention over held events.
/// Pointers are scoped views of the model's and state's arrays (never a host's).

/// y = A·x, or y += A·x when `accumulate`; A is rows × cols, row-major with leading dimension
/// lda ≥ cols (so a left block of columns of a wider matrix works). The C kernel of
/// LSRecKernels, not OpenBLAS: at these sizes (64 × 64 to 256 × 64) an sgemv call's own
/// overhead was a third of its time, and a request must never hand work to OpenBLAS's threads
/// (on a shared machine a hand-off cost 24 µs for a 1 µs product).
@inline(__always)
func gemv(_ a: UnsafePointer<Float>, lda: Int, rows: Int, cols: Int, _ x: UnsafePointer<Float>,
          accumulate: Bool, _ y: UnsafeMutablePointer<Float>) {
    guard rows > 0 else { return }
    // y as the kernel's `add`: each y[i] is read before it is overwritten (lsrec_kernels.h).
    lsk_gemv(a, lda, rows, cols, x, accumulate ? UnsafePointer(y) : nil, y)
}

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Sum of the eight lanes, in a fixed order.
@inline(__always)
func laneSum(_ v: SIMD8<Float>) -> Float {
    let a = v.lowHalf + v.highHalf
    let b = a.lowHalf + a.highHalf
    return b[0] + b[1]
}

/// Σ_j a[j] x[j] for j < n.
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
    var j = 0
    while j + 16 <= n {
        acc0 += load8(a + j) * load8(x + j)
        acc1 += load8(a + j + 8) * load8(x + j + 8)
        j += 16
    }
    if j + 8 <= n {
        acc0 += load8(a + j) * load8(x + j)
        j += 8
    }
    var s = laneSum(acc0 + acc1)
    while j < n { s += a[j] * x[j]; j += 1 }
    return s
}

/// y[j] += w · x[j] for j < n.
@inline(__always)
func axpy(_ w: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    var j = 0
    let wv = SIMD8<Float>(repeating: w)
    while j + 8 <= n {
        store8(load8(y + j) + wv * load8(x + j), y + j)
        j += 8
    }
    while j < n { y[j] += w * x[j]; j += 1 }
}

/// x[i] = exp(x[i] − shift) for i < n; returns Σ x[i]. The C kernel (same bits) with AVX2.
@inline(__always)
func expShiftSum(_ x: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
    var total: Float = 0
    return lsk_exp_shift_sum(x, n, shift, &total) == 1 ? total : expShiftSumSwift(x, n, shift: shift)
}

func expShiftSumSwift(_ x: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
    var acc = SIMD8<Float>()
    let s = SIMD8<Float>(repeating: shift)
    var i = 0
    while i + 8 <= n {
        let e = vexp8(load8(x + i) - s)
        store8(e, x + i)
        acc += e
        i += 8
    }
    var total = laneSum(acc)
    while i < n {
        let e = vexp8(SIMD8(repeating: x[i] - shift))[0]
        x[i] = e
        total += e
        i += 1
    }
    return total
}

/// x[i] = σ(x[i]) for i < n. The C kernel (same bits) with AVX2.
@inline(__always)
func sigmoidInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    if lsk_sigmoid(x, n) == 0 { sigmoidInPlaceSwift(x, n) }
}

func sigmoidInPlaceSwift(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n { store8(vsigmoid8(load8(x + i)), x + i); i += 8 }
    while i < n { x[i] = vsigmoid8(SIMD8(repeating: x[i]))[0]; i += 1 }
}

/// The LSTM cell on pre-activations z = [i; f; g; o] (4 × d): c ← σ(f) ⊙ c + σ(i) ⊙ tanh(g),
/// h ← σ(o) ⊙ tanh(c). The C kernel when the CPU has AVX2 (the same operations on 256-bit
/// registers, so the same bits, in half the instructions of the Swift code, which compiles for
/// baseline x86-64), else `lstmCellSwift`.
@inline(__always)
func lstmCell(_ z: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ h: UnsafeMutablePointer<Float>, _ d: Int) {
    if lsk_lstm_cell(z, c, h, d) == 0 { lstmCellSwift(z, c, h, d) }
}

/// The LSTM cell in Swift, eight units at a time (the reference lsk_lstm_cell must equal).
func lstmCellSwift(_ z: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ h: UnsafeMutablePointer<Float>, _ d: Int) {
    @inline(__always) func cell(_ zi: SIMD8<Float>, _ zf: SIMD8<Float>, _ zg: SIMD8<Float>, _ zo: SIMD8<Float>,
                                _ c: SIMD8<Float>) -> (c: SIMD8<Float>, h: SIMD8<Float>) {
        let cn = vsigmoid8(zf) * c + vsigmoid8(zi) * vtanh8(zg)
        return (cn, vsigmoid8(zo) * vtanh8(cn))
    }
    var j = 0
    while j + 8 <= d {
        let r = cell(load8(z + j), load8(z + d + j), load8(z + 2 * d + j), load8(z + 3 * d + j), load8(c + j))
        store8(r.c, c + j)
        store8(r.h, h + j)
        j += 8
    }
    while j < d {
        let r = cell(SIMD8(repeating: z[j]), SIMD8(repeating: z[d + j]), SIMD8(repeating: z[2 * d + j]),
                     SIMD8(repeating: z[3 * d + j]), SIMD8(repeating: c[j]))
        c[j] = r.c[0]
        h[j] = r.h[0]
        j += 1
    }
}
