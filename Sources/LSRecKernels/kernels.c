/* Row dot products (plus bias) for scoring an item matrix against one user vector (LSRecCore's top-K and
 * score paths). Why not OpenBLAS sgemv: at d = 64 its kernel reduces each row on its own and
 * must be called in small blocks to stay single-threaded; scoring eight rows at a time with one
 * shared load of u per chunk and one transposing reduction scored ML-1M's 3,667 x 64 matrix 1.4x
 * faster than one sgemv over it (bench, one core).
 *
 * Both paths sum in the same order: eight lane accumulators per row over the d/8 chunks (the
 * last chunk zero-padded), then ((l0+l1)+(l2+l3)) + ((l4+l5)+(l6+l7)). The AVX2 path fuses
 * multiply-add, so its bits differ from the portable path's, but on one machine a row's score
 * never depends on its position or on how the rows were blocked. */
#include "lsrec_kernels.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define LSK_X86 1
#include <immintrin.h>
#endif

/* ---- portable path ------------------------------------------------------------------------ */

static float tree8(const float l[8]) {
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

/* Row i of the matrix: x + i * ld, or ptrs[i] when the rows are gathered by pointer. */
#define LSK_ROW(i) (ptrs ? ptrs[i] : x + (i) * ld)

static float score_rows_portable(const float *x, size_t ld, const float *const *ptrs, size_t rows, size_t d,
                                 const float *u, const float *bias, float *out) {
    float best = -INFINITY;
    for (size_t i = 0; i < rows; i++) {
        float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        const float *r = LSK_ROW(i);
        for (size_t c = 0; c < d; c += 8) {
            size_t n = d - c < 8 ? d - c : 8;
            for (size_t l = 0; l < n; l++) {
                lane[l] += r[c + l] * u[c + l];
            }
        }
        float s = tree8(lane);
        if (bias) s += bias[i];
        out[i] = s;
        if (s > best) best = s;
    }
    return best;
}

/* ---- AVX2 + FMA path ------------------------------------------------------------------------ */

#ifdef LSK_X86
#define LSK_TARGET __attribute__((target("avx2,fma")))

/* The eight lanes of a, summed in tree8's order. */
LSK_TARGET static inline float hsum8(__m256 a) {
    __m256 b = _mm256_hadd_ps(a, a);      /* l0+l1, l2+l3, ., . | l4+l5, l6+l7, ., . */
    b = _mm256_hadd_ps(b, b);             /* (l0+l1)+(l2+l3) | (l4+l5)+(l6+l7) */
    return _mm_cvtss_f32(_mm_add_ss(_mm256_castps256_ps128(b), _mm256_extractf128_ps(b, 1)));
}

/* The sums of a[0..7], each in tree8's order, as one vector (lane j = sum of a[j]). */
LSK_TARGET static inline __m256 hsum8x8(const __m256 a[8]) {
    __m256 b0 = _mm256_hadd_ps(a[0], a[1]), b1 = _mm256_hadd_ps(a[2], a[3]);
    __m256 b2 = _mm256_hadd_ps(a[4], a[5]), b3 = _mm256_hadd_ps(a[6], a[7]);
    __m256 c0 = _mm256_hadd_ps(b0, b1), c1 = _mm256_hadd_ps(b2, b3);
    /* c0 = rows 0-3 low-lane sums | rows 0-3 high-lane sums; c1 the same for rows 4-7. */
    return _mm256_add_ps(_mm256_permute2f128_ps(c0, c1, 0x20), _mm256_permute2f128_ps(c0, c1, 0x31));
}

/* All ones in the first n lanes (n <= 8), zero in the rest: the mask of a row's or a vector's
 * last n < 8 values, so masked loads and stores touch nothing past its end. */
LSK_TARGET static inline __m256i first_lanes(size_t n) {
    static const int32_t ramp[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(ramp + 8 - n));
}

/* Rows [from, rows) one at a time (those past the last whole block of eight); returns the
 * larger of `best` and their scores. */
LSK_TARGET static inline __attribute__((always_inline)) float
score_rows_avx2_tail(const float *x, size_t ld, const float *const *ptrs, size_t from, size_t rows, size_t body,
                     size_t rem, __m256i mask, __m256 utail, const float *u, const float *bias, float *out, float best) {
    for (size_t i = from; i < rows; i++) {
        const float *r = LSK_ROW(i);
        __m256 a = _mm256_setzero_ps();
        for (size_t c = 0; c < body; c += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(r + c), _mm256_loadu_ps(u + c), a);
        if (rem) a = _mm256_fmadd_ps(_mm256_maskload_ps(r + body, mask), utail, a);
        float s = hsum8(a);
        if (bias) s += bias[i];
        out[i] = s;
        if (s > best) best = s;
    }
    return best;
}

/* One body for strided rows (ptrs NULL) and rows by pointer; always inlined into the
 * wrappers below with `ptrs` a compile-time NULL or not, so the strided loop (the item matrix's)
 * keeps its base + j * ld addressing instead of reading eight row pointers back from memory.
 * row_by_row (strided rows, a compile-time constant): a block's eight rows are summed one after
 * the other instead of side by side, so memory is read in address order (lsk_score_rows_stream).
 * Each row's sum takes the same terms in the same order either way: the same bits. */
LSK_TARGET static inline __attribute__((always_inline)) float
score_rows_avx2_body(const float *x, size_t ld, const float *const *ptrs, size_t rows, size_t d, const float *u,
                     const float *bias, float *out, const int row_by_row) {
    size_t body = d - d % 8, rem = d % 8, full = rows / 8;
    /* The last d % 8 columns: masked loads read nothing past a row's end (or the matrix's). */
    __m256i mask = first_lanes(rem);
    __m256 utail = _mm256_maskload_ps(u + body, mask);
    /* max_ps(s, best) returns best where s is NaN: NaN scores never raise the block maximum. */
    __m256 best8 = _mm256_set1_ps(-INFINITY);
    float best = -INFINITY;
    /* d = 64 row by row: u in eight registers for the whole call, one load per multiply. */
    __m256 u64[8];
    if (row_by_row && body == 64)
        for (int c = 0; c < 8; c++) u64[c] = _mm256_loadu_ps(u + 8 * c);
    /* Gathered rows go last block first (the rows past the last whole block before them), so the
     * first rows are the ones still in L1 afterwards: the attention's weighted sum reads them
     * again from row 0 (lsk_sum_gathered). A row's score does not depend on the order. */
    if (ptrs) best = score_rows_avx2_tail(x, ld, ptrs, full * 8, rows, body, rem, mask, utail, u, bias, out, best);
    for (size_t n = 0; n < full; n++) {
        size_t i = ptrs ? (full - 1 - n) * 8 : n * 8;
        __m256 a[8];
        for (int j = 0; j < 8; j++) a[j] = _mm256_setzero_ps();
        if (ptrs) {
            const float *r[8];
            for (int j = 0; j < 8; j++) r[j] = ptrs[i + j];
            /* The next block's rows, the eight before these (a user's held item vectors, or screened
             * candidates: scattered over the item matrix and often out of L2): ask for them while
             * these eight are summed. */
            if (i >= 8)
                for (size_t j = i - 8; j < i; j++)
                    for (size_t c = 0; c < d; c += 16) _mm_prefetch((const char *)(ptrs[j] + c), _MM_HINT_T0);
            for (size_t c = 0; c < body; c += 8) {
                __m256 uc = _mm256_loadu_ps(u + c);  /* one load of u serves eight rows */
                for (int j = 0; j < 8; j++) a[j] = _mm256_fmadd_ps(_mm256_loadu_ps(r[j] + c), uc, a[j]);
            }
            if (rem)
                for (int j = 0; j < 8; j++) a[j] = _mm256_fmadd_ps(_mm256_maskload_ps(r[j] + body, mask), utail, a[j]);
        } else {
            const float *r = x + i * ld;
            if (row_by_row && body == 64) {
                for (int j = 0; j < 8; j++)
                    for (int c = 0; c < 8; c++) a[j] = _mm256_fmadd_ps(_mm256_loadu_ps(r + j * ld + 8 * c), u64[c], a[j]);
            } else if (row_by_row) {
                for (int j = 0; j < 8; j++)
                    for (size_t c = 0; c < body; c += 8)
                        a[j] = _mm256_fmadd_ps(_mm256_loadu_ps(r + j * ld + c), _mm256_loadu_ps(u + c), a[j]);
            } else {
                for (size_t c = 0; c < body; c += 8) {
                    __m256 uc = _mm256_loadu_ps(u + c);  /* one load of u serves eight rows */
                    for (int j = 0; j < 8; j++) a[j] = _mm256_fmadd_ps(_mm256_loadu_ps(r + j * ld + c), uc, a[j]);
                }
            }
            if (rem)
                for (int j = 0; j < 8; j++) a[j] = _mm256_fmadd_ps(_mm256_maskload_ps(r + j * ld + body, mask), utail, a[j]);
        }
        __m256 s = hsum8x8(a);
        if (bias) s = _mm256_add_ps(s, _mm256_loadu_ps(bias + i));
        _mm256_storeu_ps(out + i, s);
        best8 = _mm256_max_ps(s, best8);
    }
    if (!ptrs) best = score_rows_avx2_tail(x, ld, ptrs, full * 8, rows, body, rem, mask, utail, u, bias, out, best);
    float lanes[8];
    _mm256_storeu_ps(lanes, best8);
    for (int j = 0; j < 8; j++)
        if (lanes[j] > best) best = lanes[j];
    return best;
}
LSK_TARGET static float score_rows_avx2(const float *x, size_t ld, size_t rows, size_t d, const float *u,
                                        const float *bias, float *out) {
    return score_rows_avx2_body(x, ld, NULL, rows, d, u, bias, out, 0);
}

LSK_TARGET static float score_rows_avx2_stream(const float *x, size_t rows, size_t d, const float *u,
                                               const float *bias, float *out) {
    return score_rows_avx2_body(x, d, NULL, rows, d, u, bias, out, 1);
}

LSK_TARGET static float score_rows_avx2_gathered(const float *const *ptrs, size_t rows, size_t d, const float *u,
                                                 float *out) {
    return score_rows_avx2_body(NULL, 0, ptrs, rows, d, u, NULL, out, 0);
}

/* out[c .. c + 8 regs) += Σ_r w[r] rows[r][c ..], rows in order, in `regs` registers (a constant
 * at each call: the loops unroll). */
LSK_TARGET static inline __attribute__((always_inline)) void
sum_gathered_block(const float *const *rows, size_t m, size_t c, const float *w, float *out, const int regs) {
    __m256 a[8];
    for (int j = 0; j < regs; j++) a[j] = _mm256_loadu_ps(out + c + 8 * j);
    for (size_t r = 0; r < m; r++) {
        __m256 wr = _mm256_broadcast_ss(w + r);
        const float *p = rows[r] + c;
        for (int j = 0; j < regs; j++) a[j] = _mm256_fmadd_ps(_mm256_loadu_ps(p + 8 * j), wr, a[j]);
    }
    for (int j = 0; j < regs; j++) _mm256_storeu_ps(out + c + 8 * j, a[j]);
}

/* out[c] += Σ_r w[r] rows[r][c], rows in order, 64 columns (eight registers) at a time, then 32,
 * 8 and 1: at d = 64 one pass over the rows, which the attention's scores (lsk_score_gathered,
 * last row first) have just left in L1 from row 0 on; each column's sum is the same whatever
 * the blocking. */
LSK_TARGET static void sum_gathered_avx2(const float *const *rows, size_t m, size_t d, const float *w, float *out) {
    size_t c = 0;
    for (; c + 64 <= d; c += 64) sum_gathered_block(rows, m, c, w, out, 8);
    for (; c + 32 <= d; c += 32) sum_gathered_block(rows, m, c, w, out, 4);
    for (; c + 8 <= d; c += 8) sum_gathered_block(rows, m, c, w, out, 1);
    for (; c < d; c++) {
        float a = out[c];
        for (size_t r = 0; r < m; r++) a += w[r] * rows[r][c];
        out[c] = a;
    }
}

/* ---- elementwise request maths: lsk_lstm_cell, lsk_exp_shift_sum, lsk_sigmoid, lsk_quantize_int8 -- */

/* LSRecCore's vexp8 / vsigmoid8 / vtanh8 (VectorMath.swift) on 256-bit registers, operation for
 * operation: a multiply and an add are never fused (Swift does not fuse them either), so every
 * lane rounds as the Swift code does and the results are the same bits. Swift compiles its
 * SIMD8<Float> code for the baseline x86-64 (two SSE halves, branches for the range checks);
 * this is half the instructions. The clamps are unconditional here: clamping an in-range value
 * changes nothing, and max/min take the operand order that keeps NaN. */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

LSK_TARGET static inline __m256 vexp8_avx2(__m256 x) {
    x = _mm256_min_ps(_mm256_set1_ps(88.3f), _mm256_max_ps(_mm256_set1_ps(-87.3f), x));
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    __m256 t = _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), magic);
    __m256 n = _mm256_sub_ps(t, magic);
    x = _mm256_sub_ps(x, _mm256_mul_ps(n, _mm256_set1_ps(0.693359375f)));
    x = _mm256_sub_ps(x, _mm256_mul_ps(n, _mm256_set1_ps(-2.12194440e-4f)));
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_add_ps(_mm256_mul_ps(p, x), _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_add_ps(_mm256_mul_ps(p, x), _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_add_ps(_mm256_mul_ps(p, x), _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_add_ps(_mm256_mul_ps(p, x), _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_add_ps(_mm256_mul_ps(p, x), _mm256_set1_ps(5.0000001201e-1f));
    __m256 y = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(p, _mm256_mul_ps(x, x)), x), _mm256_set1_ps(1.0f));
    __m256i ni = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(0x4B400000));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(ni, _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

LSK_TARGET static inline __m256 vsigmoid8_avx2(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 neg = _mm256_xor_ps(x, _mm256_set1_ps(-0.0f));
    return _mm256_div_ps(one, _mm256_add_ps(one, vexp8_avx2(neg)));
}

LSK_TARGET static inline __m256 vtanh8_avx2(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f), signbit = _mm256_set1_ps(-0.0f);
    __m256 a = _mm256_andnot_ps(signbit, x);
    a = _mm256_min_ps(_mm256_set1_ps(40.0f), _mm256_max_ps(_mm256_setzero_ps(), a));
    __m256 big = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(vexp8_avx2(_mm256_add_ps(a, a)), one)));
    __m256 z = _mm256_mul_ps(x, x);
    __m256 p = _mm256_set1_ps(-5.70498872745e-3f);
    p = _mm256_add_ps(_mm256_mul_ps(p, z), _mm256_set1_ps(2.06390887954e-2f));
    p = _mm256_sub_ps(_mm256_mul_ps(p, z), _mm256_set1_ps(5.37397155531e-2f));
    p = _mm256_add_ps(_mm256_mul_ps(p, z), _mm256_set1_ps(1.33314422036e-1f));
    p = _mm256_sub_ps(_mm256_mul_ps(p, z), _mm256_set1_ps(3.33332819422e-1f));
    __m256 small = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(p, z), x), x);
    __m256 signed_big = _mm256_or_ps(big, _mm256_and_ps(x, signbit));
    /* All ones where a < 0.625 (a - 0.625 negative): an arithmetic shift of the sign, as in Swift. */
    __m256 use_small = _mm256_castsi256_ps(_mm256_srai_epi32(_mm256_castps_si256(_mm256_sub_ps(a, _mm256_set1_ps(0.625f))), 31));
    return _mm256_or_ps(_mm256_and_ps(small, use_small), _mm256_andnot_ps(use_small, signed_big));
}

/* z = [i; f; g; o] (4 x d), eight units at a time; the last d % 8 units through the same
 * registers (masked loads and stores). */
LSK_TARGET static void lstm_cell_avx2(const float *z, float *c, float *h, size_t d) {
    for (size_t j = 0; j < d; j += 8) {
        size_t n = d - j < 8 ? d - j : 8;
        __m256i mask = first_lanes(n);
        __m256 zi = _mm256_maskload_ps(z + j, mask), zf = _mm256_maskload_ps(z + d + j, mask);
        __m256 zg = _mm256_maskload_ps(z + 2 * d + j, mask), zo = _mm256_maskload_ps(z + 3 * d + j, mask);
        __m256 cj = _mm256_maskload_ps(c + j, mask);
        __m256 cn = _mm256_add_ps(_mm256_mul_ps(vsigmoid8_avx2(zf), cj), _mm256_mul_ps(vsigmoid8_avx2(zi), vtanh8_avx2(zg)));
        __m256 hn = _mm256_mul_ps(vsigmoid8_avx2(zo), vtanh8_avx2(cn));
        _mm256_maskstore_ps(c + j, mask, cn);
        _mm256_maskstore_ps(h + j, mask, hn);
    }
}

/* LSRecCore's expShiftSumSwift: x[i] = exp(x[i] - shift), eight at a time, the sum kept in eight
 * lanes and folded as laneSum folds them ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)), then the last
 * n % 8 one by one, added in order. */
LSK_TARGET static float exp_shift_sum_avx2(float *x, size_t n, float shift) {
    __m256 acc = _mm256_setzero_ps(), s = _mm256_set1_ps(shift);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = vexp8_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
        _mm256_storeu_ps(x + i, e);
        acc = _mm256_add_ps(acc, e);
    }
    __m128 a = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    __m128 b = _mm_add_ps(a, _mm_movehl_ps(a, a));
    float total = _mm_cvtss_f32(_mm_add_ss(b, _mm_shuffle_ps(b, b, 1)));
    for (; i < n; i++) {
        float e = _mm256_cvtss_f32(vexp8_avx2(_mm256_set1_ps(x[i] - shift)));
        x[i] = e;
        total += e;
    }
    return total;
}

/* LSRecCore's sigmoidInPlaceSwift: x[i] = 1 / (1 + exp(-x[i])). */
LSK_TARGET static void sigmoid_avx2(float *x, size_t n) {
    for (size_t i = 0; i < n; i += 8) {
        size_t k = n - i < 8 ? n - i : 8;
        __m256i mask = first_lanes(k);
        _mm256_maskstore_ps(x + i, mask, vsigmoid8_avx2(_mm256_maskload_ps(x + i, mask)));
    }
}

/* LSRecCore's int8 quantisation of a user vector (ItemScreen.swift, `quantizeSwift`), the same
 * operations: tau = max|u_j| / 127, p_j = clamp(round(u_j / tau), +-127) rounding halves away
 * from zero (Swift's rounded(), C's roundf), 0 past d or when tau = 0, and ||u - tau p||^2
 * summed in double in column order (no fused multiply-add, as in Swift). The divisions and
 * roundings eight at a time; the double sum stays a serial chain, so its bits are Swift's. */
LSK_TARGET static void quantize_int8_avx2(const float *u, size_t d, size_t columns, int8_t *p, float *scale_out,
                                          double *err2_out) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    __m256 m8 = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 8 <= d; j += 8) m8 = _mm256_max_ps(m8, _mm256_and_ps(_mm256_loadu_ps(u + j), absmask));
    float lanes[8], top = 0;
    _mm256_storeu_ps(lanes, m8);
    for (int l = 0; l < 8; l++) top = lanes[l] > top ? lanes[l] : top;
    for (; j < d; j++) top = fabsf(u[j]) > top ? fabsf(u[j]) : top;
    float scale = top / 127.0f;
    double err2 = 0;
    const __m256 sc = _mm256_set1_ps(scale), half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f), signbit = _mm256_set1_ps(-0.0f);
    for (j = 0; j < d; j += 8) {
        float lv[8];
        size_t n = d - j < 8 ? d - j : 8;
        if (!(scale > 0)) {
            for (size_t l = 0; l < n; l++) lv[l] = 0;
        } else if (n == 8) {
            __m256 q = _mm256_div_ps(_mm256_loadu_ps(u + j), sc);
            __m256 t = _mm256_round_ps(q, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
            /* q - t is exact (|q| <= 127 or so); a half or more away from t rounds away from zero. */
            __m256 away = _mm256_cmp_ps(_mm256_andnot_ps(signbit, _mm256_sub_ps(q, t)), half, _CMP_GE_OQ);
            __m256 step = _mm256_and_ps(away, _mm256_or_ps(one, _mm256_and_ps(q, signbit)));
            __m256 r = _mm256_add_ps(t, step);
            _mm256_storeu_ps(lv, _mm256_min_ps(hi, _mm256_max_ps(lo, r)));
        } else {
            for (size_t l = 0; l < n; l++) {
                float r = roundf(u[j + l] / scale);
                lv[l] = r < -127.0f ? -127.0f : (r > 127.0f ? 127.0f : r);
            }
        }
        for (size_t l = 0; l < n; l++) {
            p[j + l] = (int8_t)lv[l];
            double e = (double)u[j + l] - (double)scale * (double)lv[l];
            err2 += e * e;
        }
    }
    for (j = d; j < columns; j++) p[j] = 0;
    *scale_out = scale;
    *err2_out = err2;
}

#if defined(__clang__)
#pragma clang fp contract(on)
#elif defined(__GNUC__)
#pragma GCC pop_options
#endif
#endif

/* ---- binary16 screening copy (lsk_screen_select) ---------------------------------------------- */

/* Exact widening of a binary16 bit pattern (subnormals, infinities and NaN included). */
static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu, bits;
    if (exp == 0) {
        float v = (float)mant * 0x1p-24f;
        return sign ? -v : v;
    }
    bits = exp == 31 ? (sign | 0x7F800000u | (mant << 13)) : (sign | ((exp + 112) << 23) | (mant << 13));
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Row i of the screening layout times u, in column order. */
static float screen_row_portable(const uint16_t *xh, size_t i, size_t d, const float *u) {
    const uint16_t *blk = xh + (i / 8) * 8 * d + i % 8;
    float s = 0;
    for (size_t c = 0; c < d; c++) s += half_to_float(blk[c * 8]) * u[c];
    return s;
}

/* Row i of the int8 screening layout: its integer dot product with uq (columns in groups of
 * four, row i's group g at (i / 8) * 8 * d4 + g * 32 + (i % 8) * 4, stored as value + 128). */
static int32_t screen_row_int8_portable(const uint8_t *xq, size_t i, size_t d4, const int8_t *uq) {
    const uint8_t *blk = xq + (i / 8) * 8 * d4 + (i % 8) * 4;
    int32_t s = 0;
    for (size_t g = 0; g < d4 / 4; g++)
        for (size_t j = 0; j < 4; j++) s += ((int32_t)blk[g * 32 + j] - 128) * uq[g * 4 + j];
    return s;
}

/* The approximate score of an int8 row from its exact integer dot product: one float multiply
 * of the two scales, then one fused multiply-add (both paths, so the same bits). */
static float screen_int8_score(int32_t dot, float u_scale, float row_scale, float b) {
    return fmaf((float)dot, u_scale * row_scale, b);
}

/* Screened selection state (lsk_screen_select): the k best approximate scores seen so far as a
 * min-heap of floats, the cutoff they imply, and the list of rows that passed it. */
typedef struct {
    float *heap;
    size_t k, held;
    double slack;
    float cutoff;
    const int32_t *excl;    /* open-addressing slots (-1 = empty), or NULL */
    size_t excl_mask;
    uint32_t *idx;
    float *score;
    size_t listed, cap;
    int overflow;
} screen_select_state;

/* A selection's start: nothing listed, the cutoff at -inf (+inf when k = 0: nothing can be
 * selected, and the callers then scan nothing). */
static screen_select_state screen_start(size_t k, double slack, const int32_t *excl, size_t excl_mask,
                                        float *heap, uint32_t *idx, float *score, size_t cap) {
    screen_select_state st = {heap, k, 0, slack, k ? -INFINITY : INFINITY, excl, excl_mask, idx, score, 0, cap, 0};
    return st;
}

/* Listed rows below `cutoff` dropped (order kept). */
static void listing_compact(screen_select_state *st, float cutoff) {
    size_t m = 0;
    for (size_t i = 0; i < st->listed; i++) {
        if (st->score[i] >= cutoff) { st->idx[m] = st->idx[i]; st->score[m] = st->score[i]; m++; }
    }
    st->listed = m;
}

/* Room for n more listed rows: when the list is full, the rows listed under a cutoff lower than
 * `cutoff` are dropped first (ties can list many rows); 0 when the n still do not fit. */
static int list_room(screen_select_state *st, size_t n, float cutoff) {
    if (st->listed + n <= st->cap) return 1;
    listing_compact(st, cutoff);
    return st->listed + n <= st->cap;
}

/* A selection's result: the final cutoff, and how many rows are listed (SIZE_MAX on overflow):
 * the rows at or above the final cutoff, those listed under a lower one dropped. */
static size_t screen_finish(screen_select_state *st, float *cutoff) {
    *cutoff = st->cutoff;
    if (st->overflow) return SIZE_MAX;
    listing_compact(st, st->cutoff);
    return st->listed;
}

/* The largest float below f (nextafterf(f, -inf) for the finite f and +inf that reach it), by its
 * bits: no library call, and a select rather than a branch where the k best are kept. */
static inline float float_below(float f) {
    uint32_t b, r;
    memcpy(&b, &f, 4);
    r = f == 0.0f ? 0x80000001u : (f > 0.0f ? b - 1 : b + 1);
    float o;
    memcpy(&o, &r, 4);
    return o;
}

/* The largest float not above threshold - slack, the difference taken in double: an approximate
 * score below it belongs to a row whose exact score cannot reach the top k. */
static inline float cutoff_below(float threshold, double slack) {
    double c = (double)threshold - slack;
    float f = (float)c;
    return (double)f > c ? float_below(f) : f;
}

/* LSRecCore's ExclusionSet.contains, on the same slots and hash. */
static int excluded(const screen_select_state *st, size_t row) {
    size_t s = (size_t)(((uint64_t)row * 0x9E3779B9ull) >> 7) & st->excl_mask;
    for (;;) {
        int32_t v = st->excl[s];
        if (v < 0) return 0;
        if ((size_t)v == row) return 1;
        s = (s + 1) & st->excl_mask;
    }
}

/* One row whose approximate score a is at or above the cutoff when scanned. */
static void screen_take(screen_select_state *st, size_t row, float a) {
    if (a < st->cutoff) return;               /* the cutoff may have risen within the block */
    if (st->excl && excluded(st, row)) return;
    if (!list_room(st, 1, st->cutoff)) {
        st->overflow = 1;
        return;
    }
    st->idx[st->listed] = (uint32_t)row;
    st->score[st->listed] = a;
    st->listed++;
    float *h = st->heap;
    if (st->held < st->k) {                   /* sift up */
        size_t c = st->held++;
        while (c > 0) {
            size_t p = (c - 1) / 2;
            if (h[p] <= a) break;
            h[c] = h[p];
            c = p;
        }
        h[c] = a;
        if (st->held == st->k) st->cutoff = cutoff_below(h[0], st->slack);
    } else if (a > h[0]) {                    /* replace the root, sift down */
        size_t p = 0, n = st->held;
        for (;;) {
            size_t l = 2 * p + 1;
            if (l >= n) break;
            size_t c = l + 1 < n && h[l + 1] < h[l] ? l + 1 : l;
            if (h[c] >= a) break;
            h[p] = h[c];
            p = c;
        }
        h[p] = a;
        st->cutoff = cutoff_below(h[0], st->slack);
    }
}

/* Past this many bytes a screen copy is not expected to stay in cache between requests, and the
 * scans prefetch ahead; below it (ML-1M's int8 copy is 0.23 MB) prefetching only cost time: the
 * int8 selection over ML-1M's size took 3.1-3.2 us without it, 3.5-3.9 us with it
 * (bench/screen_select.c, one core, before take_block_kept). */
#define LSK_SCREEN_PREFETCH_BYTES ((size_t)1 << 20)

/* Whether a selection goes through screen_select_chunked: k within its arrays of the k best
 * (LSK_SCAN_FIRST_MAX_K) and `rows` rows of `row_bytes` each within the cache rule above. */
#define LSK_SCAN_FIRST_MAX_K 16
static inline int scan_first(size_t k, size_t rows, size_t row_bytes) {
    return k <= LSK_SCAN_FIRST_MAX_K && rows <= LSK_SCREEN_PREFETCH_BYTES / row_bytes;
}

#ifdef LSK_X86
#define LSK_TARGET_H __attribute__((target("avx2,fma,f16c")))
#define LSK_HALF8(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))

/* Eight rows (one block) in the lanes of one register: no horizontal sums. Two accumulators
 * (even and odd columns) so consecutive multiply-adds do not wait on each other. */
LSK_TARGET_H static inline __m256 screen_block(const uint16_t *p, size_t d, const float *u) {
    __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps();
    size_t c = 0;
    for (; c + 2 <= d; c += 2) {
        a = _mm256_fmadd_ps(LSK_HALF8(p + c * 8), _mm256_broadcast_ss(u + c), a);
        b = _mm256_fmadd_ps(LSK_HALF8(p + c * 8 + 8), _mm256_broadcast_ss(u + c + 1), b);
    }
    if (c < d) a = _mm256_fmadd_ps(LSK_HALF8(p + c * 8), _mm256_broadcast_ss(u + c), a);
    return _mm256_add_ps(a, b);
}

/* Four blocks (32 rows) at p: their scores without bias in s[0..3]. Eight independent
 * multiply-add chains hide their latency. */
LSK_TARGET_H static inline __attribute__((always_inline)) void
screen_group4(const uint16_t *p, size_t d, const float *u, int far, __m256 s[4]) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
    /* Prefetch the group after next (its 32 * d halves: two 64-byte lines per two columns) when
     * the copy is large (`far`): from DRAM the four interleaved blocks alone did not keep enough
     * loads in flight; in cache the prefetches only cost instructions. */
    const char *ahead = (const char *)(p + 64 * d);
    size_t c = 0;
    for (; c + 2 <= d; c += 2) {
        if (far) {
            _mm_prefetch(ahead + c * 64, _MM_HINT_T0);
            _mm_prefetch(ahead + c * 64 + 64, _MM_HINT_T0);
        }
        __m256 u0 = _mm256_broadcast_ss(u + c), u1 = _mm256_broadcast_ss(u + c + 1);
        a0 = _mm256_fmadd_ps(LSK_HALF8(p + c * 8), u0, a0);
        a1 = _mm256_fmadd_ps(LSK_HALF8(p + 8 * d + c * 8), u0, a1);
        a2 = _mm256_fmadd_ps(LSK_HALF8(p + 16 * d + c * 8), u0, a2);
        a3 = _mm256_fmadd_ps(LSK_HALF8(p + 24 * d + c * 8), u0, a3);
        c0 = _mm256_fmadd_ps(LSK_HALF8(p + c * 8 + 8), u1, c0);
        c1 = _mm256_fmadd_ps(LSK_HALF8(p + 8 * d + c * 8 + 8), u1, c1);
        c2 = _mm256_fmadd_ps(LSK_HALF8(p + 16 * d + c * 8 + 8), u1, c2);
        c3 = _mm256_fmadd_ps(LSK_HALF8(p + 24 * d + c * 8 + 8), u1, c3);
    }
    if (c < d) {
        __m256 u0 = _mm256_broadcast_ss(u + c);
        a0 = _mm256_fmadd_ps(LSK_HALF8(p + c * 8), u0, a0);
        a1 = _mm256_fmadd_ps(LSK_HALF8(p + 8 * d + c * 8), u0, a1);
        a2 = _mm256_fmadd_ps(LSK_HALF8(p + 16 * d + c * 8), u0, a2);
        a3 = _mm256_fmadd_ps(LSK_HALF8(p + 24 * d + c * 8), u0, a3);
    }
    s[0] = _mm256_add_ps(a0, c0);
    s[1] = _mm256_add_ps(a1, c1);
    s[2] = _mm256_add_ps(a2, c2);
    s[3] = _mm256_add_ps(a3, c3);
}

LSK_TARGET_H static inline void take_block(screen_select_state *st, __m256 s, size_t base) {
    unsigned mask = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(s, _mm256_set1_ps(st->cutoff), _CMP_GE_OQ));
    if (mask) {
        float lanes[8];
        _mm256_storeu_ps(lanes, s);
        do {
            unsigned bit = (unsigned)__builtin_ctz(mask);
            screen_take(st, base + bit, lanes[bit]);
            mask &= mask - 1;
        } while (mask);
    }
}

LSK_TARGET_H static void screen_select_avx2(const uint16_t *xh, size_t rows, size_t d, const float *u,
                                            const float *bias, screen_select_state *st) {
    size_t full = rows / 8, b = 0;
    const int far = rows * d * 2 > LSK_SCREEN_PREFETCH_BYTES;
    for (; b + 4 <= full && !st->overflow; b += 4) {
        __m256 s[4];
        screen_group4(xh + b * 8 * d, d, u, far, s);
        for (int j = 0; j < 4; j++) {
            if (bias) s[j] = _mm256_add_ps(s[j], _mm256_loadu_ps(bias + (b + j) * 8));
            take_block(st, s[j], (b + j) * 8);
        }
    }
    for (; b < full && !st->overflow; b++) {
        __m256 s = screen_block(xh + b * 8 * d, d, u);
        if (bias) s = _mm256_add_ps(s, _mm256_loadu_ps(bias + b * 8));
        take_block(st, s, b * 8);
    }
    size_t rest = rows - full * 8;
    if (rest && !st->overflow) {
        float lanes[8];
        _mm256_storeu_ps(lanes, screen_block(xh + full * 8 * d, d, u));
        for (size_t j = 0; j < rest; j++) screen_take(st, full * 8 + j, lanes[j] + (bias ? bias[full * 8 + j] : 0.0f));
    }
}

/* ---- k <= 16, a copy in cache: scan first, select after ------------------------------------
 * The one-pass selections (screen_select_avx2 above, screen_select_vnni below) list every row at
 * or above the cutoff in force when it is scanned (about 85-130 rows per ML-1M request, most of
 * them early, while the cutoff is still low) and pay a serial chain per listed row; that cost
 * more than the scan. Here a chunk of rows is scored into an L1 buffer with no selection at
 * all, then:
 *   1. the chunk's 64 group maxima (8 registers x 8 lanes, each lane a strided group of rows)
 *      with the k best held so far give a lower bound L of the new k-th best (k distinct rows
 *      reach it), so only the few rows >= L can change the k best;
 *   2. those rows update the k best (a descending array), giving the k-th best T and the cutoff;
 *   3. the rows >= the cutoff are listed in row order
 * (2 and 3 over the rows one pass found near the top, when they are few: chunk_select).
 * The same scores (the same instructions per row) and the same k best as the one-pass
 * selection, so the same final cutoff; only rows below it are no longer listed. Both screens use
 * it (int8_chunk, half_chunk score a chunk); the passes are AVX2, as fast here as an AVX-512
 * version with compress stores. Not for copies from DRAM: selecting between chunks leaves the
 * memory idle (1M items x 64, int8: 2.46 -> 2.69 ms), where the one-pass scans keep loads in
 * flight. */

/* Rows per chunk: their scores (16 KB, on the stack) stay in L1 while they are selected from.
 * 2,048 rows took 4% longer at ML-1M's 3,667 (the fixed work per chunk, twice). */
#define LSK_SCREEN_CHUNK 4096
/* Room for the rows near the top that chunk_select keeps in one pass (a multiple of 8, and row
 * offsets within a chunk fit 16 bits). */
#define LSK_NEAR_ROWS 512

/* v into the k best (descending, ties kept) when it belongs there. */
static inline void best_insert(float *top, size_t *held, size_t k, float v) {
    size_t n = *held;
    if (n == k) {
        if (!(v > top[k - 1])) return;
        n = k - 1;
    }
    size_t j = n;
    for (; j > 0 && top[j - 1] < v; j--) top[j] = top[j - 1];
    top[j] = v;
    *held = n + 1;
}

/* Steps 1-3 for the scores of rows [c0, c0 + m) in buf (64-byte aligned, room for m rounded up
 * to a multiple of 8). Returns 0 when the list overflowed. */
LSK_TARGET_H static int chunk_select(screen_select_state *st, float *buf, size_t c0, size_t m, float *top,
                                     size_t *held, float *cutoff) {
    size_t k = st->k;
    /* Excluded rows become NaN: never a maximum (max_ps returns its second operand for a NaN
     * first), never >= anything. Through the slots or the rows, whichever are fewer. */
    if (st->excl && st->excl_mask < m) {
        for (size_t s = 0; s <= st->excl_mask; s++) {
            int32_t v = st->excl[s];
            if (v >= 0 && (size_t)v >= c0 && (size_t)v - c0 < m) buf[(size_t)v - c0] = NAN;
        }
    } else if (st->excl) {
        for (size_t r = 0; r < m; r++)
            if (excluded(st, c0 + r)) buf[r] = NAN;
    }
    /* 1. The lower bound L: the k-th largest of the group maxima and the k best so far. */
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 g[8];
    for (int j = 0; j < 8; j++) g[j] = ninf;
    size_t i = 0;
    for (; i + 64 <= m; i += 64)
        for (int j = 0; j < 8; j++) g[j] = _mm256_max_ps(_mm256_load_ps(buf + i + 8 * j), g[j]);
    for (size_t t = m; t % 8; t++) buf[t] = NAN;  /* padding: never a maximum, never listed */
    for (; i < m; i += 8) g[0] = _mm256_max_ps(_mm256_load_ps(buf + i), g[0]);
    float maxima[64], lower[LSK_SCAN_FIRST_MAX_K];
    for (int j = 0; j < 8; j++) _mm256_storeu_ps(maxima + 8 * j, g[j]);
    size_t nl = *held;
    memcpy(lower, top, *held * sizeof(float));
    for (int j = 0; j < 64; j++)
        if (maxima[j] > -INFINITY) best_insert(lower, &nl, k, maxima[j]);
    /* With k rows known, one pass keeps the rows that can matter in steps 2 and 3: the final
     * k-th best is >= L (k distinct rows reach L), so the final cutoff is >= cutoff_below(L) and
     * no row below it is taken or listed. Steps 2 and 3 then run over those few (27 per ML-1M
     * request on average), in row order as over the chunk: one pass over the chunk instead of
     * two. More than LSK_NEAR_ROWS of them (a large slack, many ties): the two passes below. */
    if (nl == k) {
        uint16_t near[LSK_NEAR_ROWS];
        size_t nn = 0;
        const float least = lower[k - 1];
        const __m256 wide = _mm256_set1_ps(cutoff_below(least, st->slack));
        for (i = 0; i < m && nn <= LSK_NEAR_ROWS - 8; i += 8) {
            unsigned hit = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_load_ps(buf + i), wide, _CMP_GE_OQ));
            while (hit) {
                near[nn++] = (uint16_t)(i + (unsigned)__builtin_ctz(hit));
                hit &= hit - 1;
            }
        }
        if (i >= m) {
            for (size_t j = 0; j < nn; j++)
                if (buf[near[j]] >= least) best_insert(top, held, k, buf[near[j]]);
            *cutoff = cutoff_below(top[k - 1], st->slack);  /* *held == k: nl was */
            for (size_t j = 0; j < nn; j++) {
                float a = buf[near[j]];
                if (!(a >= *cutoff)) continue;
                if (!list_room(st, 1, *cutoff)) return 0;
                st->idx[st->listed] = (uint32_t)(c0 + near[j]);
                st->score[st->listed] = a;
                st->listed++;
            }
            return 1;
        }
    }
    /* Fewer than k rows known: every row is a candidate (-inf; NaN still never is). */
    const __m256 bound = _mm256_set1_ps(nl == k ? lower[k - 1] : -INFINITY);
    /* 2. The rows >= L into the k best. */
    for (i = 0; i < m; i += 8) {
        unsigned hit = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_load_ps(buf + i), bound, _CMP_GE_OQ));
        while (hit) {
            unsigned j = (unsigned)__builtin_ctz(hit);
            hit &= hit - 1;
            best_insert(top, held, k, buf[i + j]);
        }
    }
    if (*held == k) *cutoff = cutoff_below(top[k - 1], st->slack);
    /* 3. The rows >= the cutoff, listed in row order. */
    const __m256 cut = _mm256_set1_ps(*cutoff);
    for (i = 0; i < m; i += 8) {
        unsigned hit = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_load_ps(buf + i), cut, _CMP_GE_OQ));
        if (!hit) continue;
        /* Full: earlier chunks' rows below the risen cutoff go first. */
        if (!list_room(st, (size_t)__builtin_popcount(hit), *cutoff)) return 0;
        do {
            unsigned j = (unsigned)__builtin_ctz(hit);
            hit &= hit - 1;
            st->idx[st->listed] = (uint32_t)(c0 + i + j);
            st->score[st->listed] = buf[i + j];
            st->listed++;
        } while (hit);
    }
    return 1;
}

/* The selection over `rows` rows, chunk by chunk: score_chunk(ctx, c0, m, buf) writes the
 * approximate scores of rows [c0, c0 + m) into buf. */
typedef void (*chunk_scorer)(const void *ctx, size_t c0, size_t m, float *buf);

LSK_TARGET_H static void screen_select_chunked(screen_select_state *st, size_t rows, chunk_scorer score_chunk,
                                               const void *ctx) {
    _Alignas(64) float buf[LSK_SCREEN_CHUNK];  /* a multiple of 8 */
    float top[LSK_SCAN_FIRST_MAX_K];
    size_t held = 0;
    float cutoff = -INFINITY;
    for (size_t c0 = 0; c0 < rows; c0 += LSK_SCREEN_CHUNK) {
        size_t m = rows - c0 < LSK_SCREEN_CHUNK ? rows - c0 : LSK_SCREEN_CHUNK;
        score_chunk(ctx, c0, m, buf);
        if (!chunk_select(st, buf, c0, m, top, &held, &cutoff)) {
            st->overflow = 1;
            return;
        }
    }
    st->cutoff = cutoff;
    st->held = held;
    for (size_t j = 0; j < held; j++) st->heap[j] = top[held - 1 - j];  /* ascending: a valid min-heap */
}

typedef struct {
    const uint16_t *xh;
    size_t d;
    const float *u, *bias;
} half_chunk_args;

/* The binary16 scores of rows [c0, c0 + m), as screen_select_avx2 computes them. */
LSK_TARGET_H static void half_chunk(const void *ctx, size_t c0, size_t m, float *buf) {
    const half_chunk_args *a = ctx;
    size_t d = a->d, full = m / 8, b = 0;
    for (; b + 4 <= full; b += 4) {
        __m256 s[4];
        screen_group4(a->xh + (c0 + b * 8) * d, d, a->u, 0, s);
        for (int j = 0; j < 4; j++) {
            if (a->bias) s[j] = _mm256_add_ps(s[j], _mm256_loadu_ps(a->bias + c0 + (b + j) * 8));
            _mm256_storeu_ps(buf + (b + j) * 8, s[j]);
        }
    }
    for (; b < full; b++) {
        __m256 s = screen_block(a->xh + (c0 + b * 8) * d, d, a->u);
        if (a->bias) s = _mm256_add_ps(s, _mm256_loadu_ps(a->bias + c0 + b * 8));
        _mm256_storeu_ps(buf + b * 8, s);
    }
    size_t rest = m - full * 8;
    if (rest) {
        float lanes[8];
        _mm256_storeu_ps(lanes, screen_block(a->xh + (c0 + full * 8) * d, d, a->u));
        for (size_t j = 0; j < rest; j++) buf[full * 8 + j] = lanes[j] + (a->bias ? a->bias[c0 + full * 8 + j] : 0.0f);
    }
}

/* The int8 screen: vpdpbusd multiplies the stored bytes (value + 128, unsigned) by u's signed
 * bytes and sums groups of four into int32 lanes, one per row of a block (two column groups of a
 * block per 512-bit instruction, int8_group4): no conversions, a quarter of the binary16 scan's
 * bytes. The + 128 adds 128 * sum(uq) to every row, subtracted before the scales are applied. */
#define LSK_TARGET_Q __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")))

/* take_block_kept's running values, kept in locals of the scan (not in the state, whose float
 * fields the compiler must reload after every store to the score list). */
typedef struct {
    float cutoff, least;
    size_t listed, held;
} kept_state;

/* The int8 scan's selection for k <= 16: the k best in the lanes of one register (+inf where
 * unused), each candidate listed and kept with selects instead of branches. With screen_take
 * (a heap, a call and data-dependent branches per candidate; about 130 candidates per ML-1M
 * request) the selection cost more than the scan itself (BENCHMARKS.md); this is 0.6-0.9 us
 * cheaper per request in a stream of users, though slower (4.0 against 3.1 us) in a loop over one
 * copy that stays in cache (bench/screen_select.c), where the heap's branches predict better than
 * this chain of selects runs. Now taken only for copies beyond the cache (rows * d4 over
 * LSK_SCREEN_PREFETCH_BYTES); cached copies go through screen_select_chunked, which lists far
 * fewer rows. Same listing, k best and cutoff as screen_take, row for row. Returns 0,
 * taking nothing, when the list might not hold the block: the caller then moves the k best into
 * the heap (keep_to_heap) and goes on with take_block. */
LSK_TARGET_Q static inline __attribute__((always_inline)) int
take_block_kept(const screen_select_state *st, kept_state *ks, __m256 s, size_t base, __m512 *best) {
    unsigned mask = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(s, _mm256_set1_ps(ks->cutoff), _CMP_GE_OQ));
    if (!mask) return 1;
    if (ks->listed + 8 > st->cap) return 0;
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    float cutoff = ks->cutoff, least = ks->least;
    size_t listed = ks->listed, held = ks->held;
    do {
        unsigned j = (unsigned)__builtin_ctz(mask);
        mask &= mask - 1;
        float a = lanes[j];
        unsigned take = a >= cutoff;
        if (st->excl) take &= !excluded(st, base + j);
        st->idx[listed] = (uint32_t)(base + j);  /* written always, counted when taken */
        st->score[listed] = a;
        listed += take;
        if (held < st->k) {
            if (!take) continue;
            *best = _mm512_mask_mov_ps(*best, (__mmask16)(1u << held), _mm512_set1_ps(a));
            if (++held < st->k) continue;
            least = _mm512_reduce_min_ps(*best);
            cutoff = cutoff_below(least, st->slack);
            continue;
        }
        unsigned replace = take & (a > least);
        __mmask16 at = _mm512_cmpeq_ps_mask(*best, _mm512_set1_ps(least));
        at &= (__mmask16)(-at) & (__mmask16)(0u - replace);  /* the first lane holding the least, if replacing */
        *best = _mm512_mask_mov_ps(*best, at, _mm512_set1_ps(a));
        float next = _mm512_reduce_min_ps(*best), f = cutoff_below(next, st->slack);
        least = next;
        cutoff = replace ? f : cutoff;
    } while (mask);
    ks->cutoff = cutoff;
    ks->least = least;
    ks->listed = listed;
    ks->held = held;
    return 1;
}

/* The register's k best into the heap screen_take keeps (ascending: a valid min-heap), and the
 * running values back into the state (the least is the heap's root from then on). */
LSK_TARGET_Q static void keep_to_heap(screen_select_state *st, const kept_state *ks, __m512 best) {
    st->cutoff = ks->cutoff;
    st->listed = ks->listed;
    st->held = ks->held;
    float v[16];
    _mm512_storeu_ps(v, best);
    for (size_t i = 1; i < st->held; i++) {
        float x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
        v[j] = x;
    }
    for (size_t i = 0; i < st->held; i++) st->heap[i] = v[i];
}

/* Shared by the VNNI and the AVX2 int8 kernels (no AVX-512 in it). */
LSK_TARGET_H static inline __m256 int8_scores(__m256i acc, __m256i off, __m256 us, const float *scale,
                                              const float *bias) {
    __m256 fm = _mm256_mul_ps(us, _mm256_loadu_ps(scale));
    __m256 b = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(acc, off)), fm, b);
}

/* The int8 scan's u, two groups of four columns per 512-bit register: lanes 0-7 hold group 2p's
 * four bytes, lanes 8-15 group 2p + 1's, matching one 64-byte load of a block (its groups 2p and
 * 2p + 1 for rows 0-7). Up to this many pairs (d4 <= 260) on the stack; wider models keep the
 * 256-bit loop. */
#define LSK_INT8_PAIRS 32

LSK_TARGET_Q static size_t int8_pairs(const int8_t *uq, size_t groups, __m512i pairs[LSK_INT8_PAIRS]) {
    size_t n = groups / 2;
    if (n > LSK_INT8_PAIRS) return 0;
    for (size_t i = 0; i < n; i++) {
        int32_t w, v;
        memcpy(&w, uq + 8 * i, 4);
        memcpy(&v, uq + 8 * i + 4, 4);
        pairs[i] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32(w)), _mm256_set1_epi32(v), 1);
    }
    return n;
}

/* The integer dot products of four blocks (32 rows) at p with uq: acc[j] lane i = row 8j + i.
 * With `pairs` (int8_pairs > 0) two groups per 512-bit instruction, the halves added at the end:
 * 1.4x the multiply-adds per ns of the 256-bit loop here (Emerald Rapids, a throwaway loop), and
 * the same integers, so the same scores. */
LSK_TARGET_Q static inline __attribute__((always_inline)) void
int8_group4(const uint8_t *p, size_t d4, const int8_t *uq, size_t pairs, const __m512i *up, __m256i acc[4]) {
    size_t groups = d4 / 4, g = 0;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    if (pairs) {
        __m512i z0 = _mm512_setzero_si512(), z1 = z0, z2 = z0, z3 = z0;
        for (size_t i = 0; i < pairs; i++, g += 2) {
            z0 = _mm512_dpbusd_epi32(z0, _mm512_loadu_si512(p + g * 32), up[i]);
            z1 = _mm512_dpbusd_epi32(z1, _mm512_loadu_si512(p + 8 * d4 + g * 32), up[i]);
            z2 = _mm512_dpbusd_epi32(z2, _mm512_loadu_si512(p + 16 * d4 + g * 32), up[i]);
            z3 = _mm512_dpbusd_epi32(z3, _mm512_loadu_si512(p + 24 * d4 + g * 32), up[i]);
        }
        a0 = _mm256_add_epi32(_mm512_castsi512_si256(z0), _mm512_extracti64x4_epi64(z0, 1));
        a1 = _mm256_add_epi32(_mm512_castsi512_si256(z1), _mm512_extracti64x4_epi64(z1, 1));
        a2 = _mm256_add_epi32(_mm512_castsi512_si256(z2), _mm512_extracti64x4_epi64(z2, 1));
        a3 = _mm256_add_epi32(_mm512_castsi512_si256(z3), _mm512_extracti64x4_epi64(z3, 1));
    }
    for (; g < groups; g++) {
        int32_t w;
        memcpy(&w, uq + 4 * g, 4);
        __m256i ug = _mm256_set1_epi32(w);
        a0 = _mm256_dpbusd_epi32(a0, _mm256_loadu_si256((const __m256i *)(p + g * 32)), ug);
        a1 = _mm256_dpbusd_epi32(a1, _mm256_loadu_si256((const __m256i *)(p + 8 * d4 + g * 32)), ug);
        a2 = _mm256_dpbusd_epi32(a2, _mm256_loadu_si256((const __m256i *)(p + 16 * d4 + g * 32)), ug);
        a3 = _mm256_dpbusd_epi32(a3, _mm256_loadu_si256((const __m256i *)(p + 24 * d4 + g * 32)), ug);
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* The integer dot products of one block (8 rows) at p with uq, one group of four columns at a time. */
LSK_TARGET_Q static inline __m256i int8_block(const uint8_t *p, size_t groups, const int8_t *uq) {
    __m256i a = _mm256_setzero_si256();
    for (size_t g = 0; g < groups; g++) {
        int32_t w;
        memcpy(&w, uq + 4 * g, 4);
        a = _mm256_dpbusd_epi32(a, _mm256_loadu_si256((const __m256i *)(p + g * 32)), _mm256_set1_epi32(w));
    }
    return a;
}

LSK_TARGET_Q static void screen_select_vnni(const uint8_t *xq, const float *row_scale, size_t rows, size_t d4,
                                            const int8_t *uq, int32_t offset, float u_scale, const float *bias,
                                            screen_select_state *st) {
    size_t groups = d4 / 4, full = rows / 8, b = 0;
    const __m256i off = _mm256_set1_epi32(offset);
    const __m256 us = _mm256_set1_ps(u_scale);
    const int far = rows * d4 > LSK_SCREEN_PREFETCH_BYTES;
    int kept_in_register = st->k <= 16 && st->held == 0;  /* take_block_kept until it declines */
    __m512 best = _mm512_set1_ps(INFINITY);
    kept_state ks = {st->cutoff, INFINITY, st->listed, st->held};
    __m512i up[LSK_INT8_PAIRS];
    const size_t pairs = int8_pairs(uq, groups, up);
    /* Four blocks at a time: four independent accumulator chains. */
    for (; b + 4 <= full && !st->overflow; b += 4) {
        const uint8_t *p = xq + b * 8 * d4;
        /* Prefetch the group after next (its 32 * d4 bytes) when the copy is large: from DRAM
         * the four blocks' loads alone do not keep enough requests in flight (as for the
         * binary16 scan); in cache the prefetches only cost instructions. */
        const char *ahead = (const char *)(p + 64 * d4);
        if (far) for (size_t line = 0; line < 32 * d4; line += 64) _mm_prefetch(ahead + line, _MM_HINT_T0);
        __m256i acc[4];
        int8_group4(p, d4, uq, pairs, up, acc);
        for (int j = 0; j < 4; j++) {
            size_t r = (b + j) * 8;
            __m256 s = int8_scores(acc[j], off, us, row_scale + r, bias ? bias + r : NULL);
            if (kept_in_register && take_block_kept(st, &ks, s, r, &best)) continue;
            if (kept_in_register) {
                keep_to_heap(st, &ks, best);
                kept_in_register = 0;
            }
            take_block(st, s, r);
        }
    }
    if (kept_in_register) keep_to_heap(st, &ks, best);
    for (; b < full && !st->overflow; b++) {
        __m256i a = int8_block(xq + b * 8 * d4, groups, uq);
        take_block(st, int8_scores(a, off, us, row_scale + b * 8, bias ? bias + b * 8 : NULL), b * 8);
    }
    for (size_t i = full * 8; i < rows && !st->overflow; i++)
        screen_take(st, i, screen_int8_score(screen_row_int8_portable(xq, i, d4, uq), u_scale, row_scale[i],
                                             bias ? bias[i] : 0.0f));
}

/* ---- int8 screen, k <= 16: scan first, select after (screen_select_chunked) ------------------ */

/* The approximate scores of rows [c0, c0 + m) into buf (bit for bit screen_int8_score's). */
LSK_TARGET_Q static void int8_chunk_scores(const uint8_t *xq, const float *row_scale, size_t c0, size_t m,
                                           size_t d4, const int8_t *uq, __m256i off, float u_scale, const float *bias,
                                           size_t pairs, const __m512i *up, float *buf) {
    const __m256 us = _mm256_set1_ps(u_scale);
    size_t groups = d4 / 4, full = m / 8, b = 0;
    for (; b + 4 <= full; b += 4) {
        size_t r = c0 + b * 8;
        __m256i acc[4];
        int8_group4(xq + r * d4, d4, uq, pairs, up, acc);
        for (int j = 0; j < 4; j++)
            _mm256_storeu_ps(buf + b * 8 + 8 * j, int8_scores(acc[j], off, us, row_scale + r + 8 * j,
                                                                bias ? bias + r + 8 * j : NULL));
    }
    for (; b < full; b++) {
        size_t r = c0 + b * 8;
        _mm256_storeu_ps(buf + b * 8, int8_scores(int8_block(xq + r * d4, groups, uq), off, us, row_scale + r,
                                                  bias ? bias + r : NULL));
    }
    for (size_t i = full * 8; i < m; i++) {
        buf[i] = screen_int8_score(screen_row_int8_portable(xq, c0 + i, d4, uq), u_scale, row_scale[c0 + i],
                                   bias ? bias[c0 + i] : 0.0f);
    }
}

typedef struct {
    const uint8_t *xq;
    const float *row_scale, *bias;
    size_t d4, pairs;
    const int8_t *uq;
    __m256i off;
    float u_scale;
    __m512i up[LSK_INT8_PAIRS];
} int8_chunk_args;

LSK_TARGET_Q static void int8_chunk(const void *ctx, size_t c0, size_t m, float *buf) {
    const int8_chunk_args *a = ctx;
    int8_chunk_scores(a->xq, a->row_scale, c0, m, a->d4, a->uq, a->off, a->u_scale, a->bias, a->pairs, a->up, buf);
}

LSK_TARGET_Q static void screen_select_vnni_small_k(const uint8_t *xq, const float *row_scale, size_t rows,
                                                    size_t d4, const int8_t *uq, int32_t offset, float u_scale,
                                                    const float *bias, screen_select_state *st) {
    int8_chunk_args a;
    a.xq = xq;
    a.row_scale = row_scale;
    a.bias = bias;
    a.d4 = d4;
    a.uq = uq;
    a.off = _mm256_set1_epi32(offset);
    a.u_scale = u_scale;
    a.pairs = int8_pairs(uq, d4 / 4, a.up);
    screen_select_chunked(st, rows, int8_chunk, &a);
}

/* ---- int8 screen without VNNI (AVX2: AMD Zen 1-3, Intel before Ice Lake) ---------------------
 * The integers vpdpbusd computes, from two AVX2 multiplies per 32 bytes: q = stored ^ 0x80 is
 * the value as a signed byte (stored - 128), vpmaddubsw(|uq|, sign(q, uq)) multiplies |uq| (as
 * unsigned, <= 128) by q times uq's sign (exact while q != -128, which the layout's [-127, 127]
 * rules out) and sums adjacent products into int16 lanes without saturating (at most
 * 2 * 128 * 127 = 32512), and vpmaddwd by ones sums those into one int32 per row and group of four.
 * |uq| is taken once per group, for four blocks. The dot products come out without the + 128
 * offset. Half the binary16 copy's bytes and no conversions: on Zen 3 (no VNNI) a 3,667-row
 * selection took 1.6x less time than over the binary16 copy (bench/screen_select, BENCHMARKS.md). */

LSK_TARGET_H static inline __attribute__((always_inline)) __m256i int8_dot_avx2(__m256i acc, const uint8_t *p,
                                                                                __m256i ug, __m256i uabs) {
    const __m256i q = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)p), _mm256_set1_epi8((char)0x80));
    const __m256i pairs = _mm256_maddubs_epi16(uabs, _mm256_sign_epi8(q, ug));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

/* int8_group4's integers for four blocks (32 rows) at p: acc[j] lane i = row 8j + i. */
LSK_TARGET_H static inline __attribute__((always_inline)) void int8_group4_avx2(const uint8_t *p, size_t d4,
                                                                                const int8_t *uq, __m256i acc[4]) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t g = 0; g < d4 / 4; g++) {
        int32_t w;
        memcpy(&w, uq + 4 * g, 4);
        const __m256i ug = _mm256_set1_epi32(w), uabs = _mm256_abs_epi8(ug);
        a0 = int8_dot_avx2(a0, p + g * 32, ug, uabs);
        a1 = int8_dot_avx2(a1, p + 8 * d4 + g * 32, ug, uabs);
        a2 = int8_dot_avx2(a2, p + 16 * d4 + g * 32, ug, uabs);
        a3 = int8_dot_avx2(a3, p + 24 * d4 + g * 32, ug, uabs);
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

LSK_TARGET_H static inline __m256i int8_block_avx2(const uint8_t *p, size_t d4, const int8_t *uq) {
    __m256i a = _mm256_setzero_si256();
    for (size_t g = 0; g < d4 / 4; g++) {
        int32_t w;
        memcpy(&w, uq + 4 * g, 4);
        const __m256i ug = _mm256_set1_epi32(w);
        a = int8_dot_avx2(a, p + g * 32, ug, _mm256_abs_epi8(ug));
    }
    return a;
}

typedef struct {
    const uint8_t *xq;
    const float *row_scale, *bias;
    size_t d4;
    const int8_t *uq;
    float u_scale;
} int8_avx2_args;

/* The approximate scores of rows [c0, c0 + m) into buf (int8_chunk's bits). */
LSK_TARGET_H static void int8_chunk_avx2(const void *ctx, size_t c0, size_t m, float *buf) {
    const int8_avx2_args *a = ctx;
    const __m256 us = _mm256_set1_ps(a->u_scale);
    const __m256i none = _mm256_setzero_si256();
    const size_t d4 = a->d4, full = m / 8;
    size_t b = 0;
    for (; b + 4 <= full; b += 4) {
        size_t r = c0 + b * 8;
        __m256i acc[4];
        int8_group4_avx2(a->xq + r * d4, d4, a->uq, acc);
        for (int j = 0; j < 4; j++)
            _mm256_storeu_ps(buf + b * 8 + 8 * j, int8_scores(acc[j], none, us, a->row_scale + r + 8 * j,
                                                                a->bias ? a->bias + r + 8 * j : NULL));
    }
    for (; b < full; b++) {
        size_t r = c0 + b * 8;
        _mm256_storeu_ps(buf + b * 8, int8_scores(int8_block_avx2(a->xq + r * d4, d4, a->uq), none, us,
                                                  a->row_scale + r, a->bias ? a->bias + r : NULL));
    }
    for (size_t i = full * 8; i < m; i++)
        buf[i] = screen_int8_score(screen_row_int8_portable(a->xq, c0 + i, d4, a->uq), a->u_scale,
                                   a->row_scale[c0 + i], a->bias ? a->bias[c0 + i] : 0.0f);
}

/* The one-pass selection over a copy beyond the cache (screen_select_avx2's, for int8). */
LSK_TARGET_H static void screen_select_int8_avx2(const int8_avx2_args *a, size_t rows, screen_select_state *st) {
    const __m256 us = _mm256_set1_ps(a->u_scale);
    const __m256i none = _mm256_setzero_si256();
    const size_t d4 = a->d4, full = rows / 8;
    const int far = rows * d4 > LSK_SCREEN_PREFETCH_BYTES;
    size_t b = 0;
    for (; b + 4 <= full && !st->overflow; b += 4) {
        const uint8_t *p = a->xq + b * 8 * d4;
        const char *ahead = (const char *)(p + 64 * d4);  /* the group after next, as the VNNI scan */
        if (far) for (size_t line = 0; line < 32 * d4; line += 64) _mm_prefetch(ahead + line, _MM_HINT_T0);
        __m256i acc[4];
        int8_group4_avx2(p, d4, a->uq, acc);
        for (int j = 0; j < 4; j++) {
            size_t r = (b + j) * 8;
            take_block(st, int8_scores(acc[j], none, us, a->row_scale + r, a->bias ? a->bias + r : NULL), r);
        }
    }
    for (; b < full && !st->overflow; b++) {
        size_t r = b * 8;
        take_block(st, int8_scores(int8_block_avx2(a->xq + r * d4, d4, a->uq), none, us, a->row_scale + r,
                                   a->bias ? a->bias + r : NULL), r);
    }
    for (size_t i = full * 8; i < rows && !st->overflow; i++)
        screen_take(st, i, screen_int8_score(screen_row_int8_portable(a->xq, i, d4, a->uq), a->u_scale,
                                             a->row_scale[i], a->bias ? a->bias[i] : 0.0f));
}

/* ---- exact top-k over a float matrix in cache: scan first, select after (lsk_select_rows) ------ */

typedef struct {
    const float *x, *u, *bias;
    size_t d;
} float_chunk_args;

/* The exact scores of rows [c0, c0 + m): lsk_score_rows's kernel, so the same bits. */
LSK_TARGET_H static void float_chunk(const void *ctx, size_t c0, size_t m, float *buf) {
    const float_chunk_args *a = ctx;
    score_rows_avx2(a->x + c0 * a->d, a->d, m, a->d, a->u, a->bias ? a->bias + c0 : NULL, buf);
}
#endif

/* ---- dispatch ------------------------------------------------------------------------------ */

/* -1 unknown, 0 portable, 1 AVX2. Racing first calls all store the same answer. */
static atomic_int detected = -1;
static atomic_int forced_portable = 0;

int lsk_vector_path(void) {
#ifdef LSK_X86
    if (forced_portable) return 0;
    if (detected < 0) {
        __builtin_cpu_init();
        detected = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return detected;
#else
    return 0;
#endif
}

void lsk_force_portable(int on) { forced_portable = on != 0; }

static atomic_int detected_half = -1;

int lsk_screen_path(void) {
#ifdef LSK_X86
    if (forced_portable || !lsk_vector_path()) return 0;
    if (detected_half < 0) {
        __builtin_cpu_init();
        detected_half = __builtin_cpu_supports("f16c");
    }
    return detected_half;
#else
    return 0;
#endif
}

size_t lsk_screen_select(const uint16_t *xh, size_t rows, size_t d, const float *u, const float *bias, size_t k,
                         double slack, const int32_t *excl, size_t excl_mask, float *heap, uint32_t *idx,
                         float *score, size_t cap, float *cutoff) {
    screen_select_state st = screen_start(k, slack, excl, excl_mask, heap, idx, score, cap);
    if (k == 0) return screen_finish(&st, cutoff);
#ifdef LSK_X86
    if (d > 0 && lsk_screen_path()) {
        /* Scan first for a copy that stays in cache (as for the int8 screen). */
        if (scan_first(k, rows, d * 2)) {
            half_chunk_args a = {xh, d, u, bias};
            screen_select_chunked(&st, rows, half_chunk, &a);
        } else {
            screen_select_avx2(xh, rows, d, u, bias, &st);
        }
    } else
#endif
        for (size_t i = 0; i < rows && !st.overflow; i++)
            screen_take(&st, i, screen_row_portable(xh, i, d, u) + (bias ? bias[i] : 0.0f));
    return screen_finish(&st, cutoff);
}

/* -1 unknown, else the best int8 kernel here: 2 AVX-512 VNNI, 1 AVX2 (+ FMA, F16C), 0 none. */
static atomic_int detected_int8 = -1;
static atomic_int forced_int8_avx2 = 0;

static int int8_kernel(void) {
#ifdef LSK_X86
    if (!lsk_screen_path()) return 0;  /* also 0 when the portable path is forced */
    if (detected_int8 < 0) {
        __builtin_cpu_init();
        detected_int8 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")
                                && __builtin_cpu_supports("avx512vnni")
                            ? 2
                            : 1;
    }
    return forced_int8_avx2 ? 1 : detected_int8;
#else
    return 0;
#endif
}

int lsk_screen_int8_path(void) { return int8_kernel() > 0; }

int lsk_screen_int8_vnni(void) { return int8_kernel() == 2; }

void lsk_force_int8_avx2(int on) { forced_int8_avx2 = on != 0; }

size_t lsk_screen_select_int8(const uint8_t *xq, const float *row_scale, size_t rows, size_t d4, const int8_t *uq,
                              float u_scale, const float *bias, size_t k, double slack, const int32_t *excl,
                              size_t excl_mask, float *heap, uint32_t *idx, float *score, size_t cap, float *cutoff) {
    screen_select_state st = screen_start(k, slack, excl, excl_mask, heap, idx, score, cap);
    if (k == 0) return screen_finish(&st, cutoff);
#ifdef LSK_X86
    const int kernel = d4 > 0 ? int8_kernel() : 0;
    if (kernel == 1) {
        const int8_avx2_args a = {xq, row_scale, bias, d4, uq, u_scale};
        /* Scan first for a copy that stays in cache, as below. */
        if (scan_first(k, rows, d4))
            screen_select_chunked(&st, rows, int8_chunk_avx2, &a);
        else
            screen_select_int8_avx2(&a, rows, &st);
    } else if (kernel == 2) {
        int32_t offset = 0;                    /* the stored bytes' + 128, times uq */
        for (size_t c = 0; c < d4; c++) offset += 128 * (int32_t)uq[c];
        /* Scan first for a copy that stays in cache (screen_select_chunked says why not beyond). */
        if (scan_first(k, rows, d4))
            screen_select_vnni_small_k(xq, row_scale, rows, d4, uq, offset, u_scale, bias, &st);
        else
            screen_select_vnni(xq, row_scale, rows, d4, uq, offset, u_scale, bias, &st);
    } else
#endif
        for (size_t i = 0; i < rows && !st.overflow; i++)
            screen_take(&st, i, screen_int8_score(screen_row_int8_portable(xq, i, d4, uq), u_scale, row_scale[i],
                                                  bias ? bias[i] : 0.0f));
    return screen_finish(&st, cutoff);
}

int lsk_select_rows(const float *x, size_t rows, size_t d, const float *u, const float *bias, size_t k,
                    const int32_t *excl, size_t excl_mask, uint32_t *idx, float *score, size_t cap, size_t *listed) {
#ifdef LSK_X86
    if (k >= 1 && d > 0 && scan_first(k, rows, d * sizeof(float)) && lsk_screen_path()) {
        float heap[LSK_SCAN_FIRST_MAX_K], cutoff;
        screen_select_state st = screen_start(k, 0.0, excl, excl_mask, heap, idx, score, cap);
        float_chunk_args a = {x, u, bias, d};
        screen_select_chunked(&st, rows, float_chunk, &a);
        *listed = screen_finish(&st, &cutoff);
        return 1;
    }
#endif
    (void)x, (void)rows, (void)d, (void)u, (void)bias, (void)k, (void)excl, (void)excl_mask, (void)idx, (void)score,
        (void)cap, (void)listed;
    return 0;
}

float lsk_gemv(const float *a, size_t lda, size_t rows, size_t cols, const float *x, const float *add, float *y) {
    if (rows == 0) return -INFINITY;
#ifdef LSK_X86
    if (cols > 0 && lsk_vector_path()) return score_rows_avx2(a, lda, rows, cols, x, add, y);
#endif
    return score_rows_portable(a, lda, NULL, rows, cols, x, add, y);  /* cols = 0: every dot product is 0 */
}

int lsk_quantize_int8(const float *u, size_t d, size_t columns, int8_t *p, float *scale, double *err2) {
#ifdef LSK_X86
    if (lsk_vector_path()) {
        quantize_int8_avx2(u, d, columns, p, scale, err2);
        return 1;
    }
#endif
    (void)u, (void)d, (void)columns, (void)p, (void)scale, (void)err2;
    return 0;
}

int lsk_exp_shift_sum(float *x, size_t n, float shift, float *total) {
#ifdef LSK_X86
    if (lsk_vector_path()) {
        *total = exp_shift_sum_avx2(x, n, shift);
        return 1;
    }
#endif
    (void)x, (void)n, (void)shift, (void)total;
    return 0;
}

int lsk_sigmoid(float *x, size_t n) {
#ifdef LSK_X86
    if (lsk_vector_path()) {
        sigmoid_avx2(x, n);
        return 1;
    }
#endif
    (void)x, (void)n;
    return 0;
}

int lsk_lstm_cell(const float *z, float *c, float *h, size_t d) {
#ifdef LSK_X86
    if (lsk_vector_path()) {
        lstm_cell_avx2(z, c, h, d);
        return 1;
    }
#endif
    (void)z, (void)c, (void)h, (void)d;
    return 0;
}

float lsk_score_gathered(const float *const *rows, size_t m, size_t d, const float *u, float *out) {
    if (m == 0) return -INFINITY;
#ifdef LSK_X86
    if (d > 0 && lsk_vector_path()) return score_rows_avx2_gathered(rows, m, d, u, out);
#endif
    return score_rows_portable(NULL, 0, rows, m, d, u, NULL, out);
}

void lsk_sum_gathered(const float *const *rows, size_t m, size_t d, const float *w, float *out) {
    for (size_t c = 0; c < d; c++) out[c] = 0;
#ifdef LSK_X86
    if (lsk_vector_path()) {
        sum_gathered_avx2(rows, m, d, w, out);
        return;
    }
#endif
    for (size_t r = 0; r < m; r++)
        for (size_t c = 0; c < d; c++) out[c] += w[r] * rows[r][c];
}

/* ---- the threshold filter of a top-K selection ------------------------------------------------ */

/* idx[m] is written for every i and counted only when taken: no branch per score. */
static size_t above_portable(const float *s, const float *bias, size_t n, float t, uint32_t *idx) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        float v = bias ? s[i] + bias[i] : s[i];
        idx[m] = (uint32_t)i;
        m += v > t;
    }
    return m;
}

#ifdef LSK_X86
/* 32 scores per step, one test for all of them: after a top-K's first few thousand items almost
 * no score beats its threshold, so the loop is loads, adds and compares. */
LSK_TARGET static size_t above_avx2(const float *s, const float *bias, size_t n, float t, uint32_t *idx) {
    const __m256 tv = _mm256_set1_ps(t);
    size_t m = 0, i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 v[4];
        for (int j = 0; j < 4; j++) {
            v[j] = _mm256_loadu_ps(s + i + 8 * j);
            if (bias) v[j] = _mm256_add_ps(v[j], _mm256_loadu_ps(bias + i + 8 * j));
            v[j] = _mm256_cmp_ps(v[j], tv, _CMP_GT_OQ);
        }
        __m256 any = _mm256_or_ps(_mm256_or_ps(v[0], v[1]), _mm256_or_ps(v[2], v[3]));
        if (_mm256_testz_ps(any, any)) continue;
        for (int j = 0; j < 4; j++) {
            unsigned mask = (unsigned)_mm256_movemask_ps(v[j]);
            while (mask) {
                idx[m++] = (uint32_t)(i + 8 * (size_t)j + (size_t)__builtin_ctz(mask));
                mask &= mask - 1;
            }
        }
    }
    size_t rest = above_portable(s + i, bias ? bias + i : NULL, n - i, t, idx + m);
    for (size_t j = 0; j < rest; j++) idx[m + j] += (uint32_t)i;
    return m + rest;
}
#endif

size_t lsk_above(const float *s, const float *bias, size_t n, float t, uint32_t *idx) {
#ifdef LSK_X86
    if (lsk_vector_path()) return above_avx2(s, bias, n, t, idx);
#endif
    return above_portable(s, bias, n, t, idx);
}

float lsk_score_rows(const float *x, size_t rows, size_t d, const float *u, const float *bias, float *out) {
    return lsk_gemv(x, d, rows, d, u, bias, out);
}

float lsk_score_rows_stream(const float *x, size_t rows, size_t d, const float *u, const float *bias, float *out) {
#ifdef LSK_X86
    if (rows > 0 && d > 0 && lsk_vector_path()) return score_rows_avx2_stream(x, rows, d, u, bias, out);
#endif
    return lsk_score_rows(x, rows, d, u, bias, out);  /* the portable loop reads rows in order already */
}
