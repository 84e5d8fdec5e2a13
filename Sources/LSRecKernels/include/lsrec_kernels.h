/* Hand-written kernels for the request paths of LSRecCore (not part of the public C ABI). */
#ifndef LSREC_KERNELS_H
#define LSREC_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* out[i] = x[i*d .. i*d+d) · u (+ bias[i] when bias is not NULL) for i < rows: one row-major
 * matrix times one vector. Returns the largest out[i] (-inf when rows = 0; NaN entries are
 * skipped), so a top-K selection can pass over a block none of whose scores beats its threshold.
 * The summation order depends only on d and on which path runs (AVX2+FMA when the CPU has it,
 * else portable C), so a given machine always gives the same bits for the same inputs; the bias
 * is added last, in one rounding. */
float lsk_score_rows(const float *x, size_t rows, size_t d, const float *u, const float *bias, float *out);

/* lsk_score_rows, the same bits and return value, reading the matrix in address order: for a
 * matrix beyond the cache (LSRecCore's scoring of large catalogues). lsk_score_rows sums eight
 * rows side by side, one load of u for eight multiplies, which is faster while the rows are in
 * cache; streamed from memory, one row after another was faster (1M items x 64: 1.2x on Zen 3,
 * BENCHMARKS.md). */
float lsk_score_rows_stream(const float *x, size_t rows, size_t d, const float *u, const float *bias, float *out);

/* y[i] = a[i*lda .. i*lda+cols) · x (+ add[i] when add is not NULL) for i < rows: lsk_score_rows on
 * the left `cols` columns of a row-major matrix with leading dimension lda >= cols (the small
 * products of a request: d x d weights, and the gate's block of a wider matrix). `add` may be
 * `y` itself (y += A·x: each add[i] is read before y[i] is written). Same summation order and
 * return value as lsk_score_rows; lsk_score_rows(x, rows, d, ...) is lsk_gemv(x, d, rows, d, ...). */
float lsk_gemv(const float *a, size_t lda, size_t rows, size_t cols, const float *x, const float *add, float *y);

/* out[i] = rows[i][0 .. d) · u for i < m: lsk_score_rows on rows gathered by pointer (the
 * attention over a user's held events reads their item vectors where they are, without copying
 * them into a block). Same summation order and bits as lsk_score_rows; returns the maximum.
 * The vector path reads the rows last first, so that lsk_sum_gathered, which reads them from the
 * first, finds most of them still in L1. */
float lsk_score_gathered(const float *const *rows, size_t m, size_t d, const float *u, float *out);

/* out[c] = Σ_r w[r] · rows[r][c] for c < d (the attention's weighted mean), rows summed in order. */
void lsk_sum_gathered(const float *const *rows, size_t m, size_t d, const float *w, float *out);

/* The LSTM cell on pre-activations z = [i; f; g; o] (4 x d): c <- sigma(f) c + sigma(i) tanh(g),
 * h <- sigma(o) tanh(c), with LSRecCore's exp / sigmoid / tanh (VectorMath.swift), operation for
 * operation, so the same bits as LSRecCore's lstmCellSwift. Returns 1 when done, 0 (nothing written)
 * when this CPU has no AVX2 path: the caller then runs the Swift cell. */
int lsk_lstm_cell(const float *z, float *c, float *h, size_t d);

/* LSRecCore's expShiftSumSwift (x[i] = exp(x[i] - shift), *total = their sum; the attention's
 * softmax) and sigmoidInPlaceSwift (x[i] = sigma(x[i]); the gate), bit for bit, as lsk_lstm_cell.
 * Return 1 when done, 0 (nothing written) without the AVX2 path. */
int lsk_exp_shift_sum(float *x, size_t n, float shift, float *total);
int lsk_sigmoid(float *x, size_t n);

/* A user vector's int8 copy for the int8 screen, as LSRecCore's quantizeSwift computes it
 * (ItemScreen.swift), bit for bit: *scale = max|u_j| / 127; p_j = u_j / *scale rounded half away
 * from zero and clamped to +-127 (0 when *scale = 0) for j < d, p_j = 0 for d <= j < columns;
 * *err2 = sum over j < d of (u_j - *scale p_j)^2 in double, in column order. u finite. Returns 1
 * when done, 0 (nothing written) without the AVX2 path. */
int lsk_quantize_int8(const float *u, size_t d, size_t columns, int8_t *p, float *scale, double *err2);

/* Screened top-k selection over a binary16 copy of an item matrix laid out in blocks of eight
 * rows, block b holding, column after column, the eight rows' values (row i, column c at
 * (i / 8) * 8 * d + c * 8 + i % 8), the last block padded with zero rows. The approximate score of
 * row i is x~[i] · u (+ bias[i]), summed in float32 in an order of the kernel's choosing (the same
 * for every row on one path): callers bound the error (ItemScreen.swift) and rescore the listed
 * rows exactly with lsk_score_rows.
 *
 * Scans the `rows` rows in order, skipping those in the exclusion set (`excl`: LSRecCore
 * ExclusionSet's open-addressing slots, -1 = empty, `excl_mask` + 1 of them; NULL = none), and
 * keeps the k best approximate scores in `heap` (room for k). The final cutoff is the largest
 * float <= (k-th best approximate score - slack), or -inf when fewer than k rows are left. Lists,
 * in row order, the rows whose approximate score is >= the final cutoff (NaN never) in idx / score
 * (room for `cap`), returns how many and the final cutoff in *cutoff. On the way rows may be
 * listed under a lower cutoff (the k best so far), and dropped when the cutoff rises or the list
 * is full; SIZE_MAX if `cap` could not hold the rows listed on the way (cap = rows never
 * overflows). With slack at least twice the approximation error bound, every row whose exact
 * score can enter the top k is listed (ItemScreen.swift has the argument). k = 0 lists nothing
 * (cutoff +inf). */
size_t lsk_screen_select(const uint16_t *xh, size_t rows, size_t d, const float *u, const float *bias, size_t k,
                         double slack, const int32_t *excl, size_t excl_mask, float *heap, uint32_t *idx,
                         float *score, size_t cap, float *cutoff);

/* 1 when lsk_screen_select has its vector path here (AVX2 + FMA + F16C); 0 means the portable
 * path, slower than exact float32 scoring, so a binary16 screen is not worth building. */
int lsk_screen_path(void);

/* lsk_screen_select over an int8 copy: row i is row_scale[i] * q[i] with q[i][c] in [-127, 127],
 * stored as q + 128 (unsigned) in blocks of eight rows and groups of four columns (row i, columns
 * 4g .. 4g+3 at (i / 8) * 8 * d4 + g * 32 + (i % 8) * 4; d4 = d rounded up to a multiple of 4,
 * padding columns and rows hold 128). uq is the user vector's int8 copy (d4 values, zero-padded)
 * and u_scale its scale. The approximate score of row i is, on every path, bit for bit
 *     fmaf((float)dot, u_scale * row_scale[i], bias[i] (or 0)),  dot = Σ_c q[i][c] · uq[c]
 * (an exact integer; exact as a float while d4 · 127² < 2²⁴, i.e. d4 <= 1040). Selection, listing,
 * cutoff, exclusions, cap and SIZE_MAX exactly as lsk_screen_select. */
size_t lsk_screen_select_int8(const uint8_t *xq, const float *row_scale, size_t rows, size_t d4, const int8_t *uq,
                              float u_scale, const float *bias, size_t k, double slack, const int32_t *excl,
                              size_t excl_mask, float *heap, uint32_t *idx, float *score, size_t cap, float *cutoff);

/* 1 when lsk_screen_select_int8 has a vector path here: AVX-512 F, VL and VNNI, or else AVX2 +
 * FMA + F16C (lsk_screen_path); 0: the portable path, slower than exact scoring, so an int8
 * screen is not worth building. */
int lsk_screen_int8_path(void);
/* 1 when that path is the AVX-512 VNNI one. */
int lsk_screen_int8_vnni(void);
/* Test hook: makes lsk_screen_select_int8 take its AVX2 path on a CPU with VNNI (1), or restores
 * CPU detection (0); no effect without AVX2 + FMA + F16C or while the portable path is forced. */
void lsk_force_int8_avx2(int on);

/* Exact top-k rows of a float matrix (row i's score x[i*d .. i*d+d) . u + bias[i], the bits of
 * lsk_score_rows), scanned in chunks that stay in L1 and selected after each (as the screens'
 * small-k path): lists in idx / score, in row order, every row whose score is >= the k-th best
 * (the k best and all rows tied with the k-th; NaN never), skipping the exclusion set (`excl`,
 * `excl_mask` as lsk_screen_select), and sets *listed to their count, or SIZE_MAX when `cap`
 * could not hold them (past the first 4,096 rows, also when rows tied at an earlier chunk's lower
 * cutoff filled it on the way: give room for k + a few hundred and fall back). Taken when 1 <= k <= 16, the matrix is at most 1 MB (in cache; beyond,
 * selecting between chunks leaves DRAM idle) and lsk_screen_path() is 1: returns 1; otherwise returns
 * 0 and writes nothing (the caller keeps its own selection). */
int lsk_select_rows(const float *x, size_t rows, size_t d, const float *u, const float *bias, size_t k,
                    const int32_t *excl, size_t excl_mask, uint32_t *idx, float *score, size_t cap, size_t *listed);

/* The indices i < n, ascending, with s[i] + bias[i] > t (bias NULL: s[i] > t), written to idx
 * (room for n); returns how many. The sum is one float addition, as in LSRecCore's selection, and
 * NaN is never above t. The candidate filter of a top-K selection over a block of scores. */
size_t lsk_above(const float *s, const float *bias, size_t n, float t, uint32_t *idx);

/* 1 when lsk_score_rows uses the AVX2+FMA path on this CPU, 0 for the portable path. */
int lsk_vector_path(void);

/* Test hook: forces the portable path (1) or restores CPU detection (0). */
void lsk_force_portable(int on);

/* ---- OpenBLAS kernel choice (blas_core.c) ---------------------------------------------------- */

/* The kernel set OpenBLAS chose when it was loaded (openblas_get_corename()), "unknown" if none. */
const char *lsk_blas_core(void);
/* 1 when the loaded OpenBLAS picks its kernels at load time (DYNAMIC_ARCH), so that
 * OPENBLAS_CORETYPE can change them. */
int lsk_blas_dynamic_arch(void);
/* 0: no AVX2 + FMA; 1: AVX2 + FMA; 2: also AVX-512 F/BW/VL/DQ/CD. */
int lsk_cpu_blas_level(void);
/* The OPENBLAS_CORETYPE value that would serve a CPU of cpu_level better than `core`, or NULL when
 * `core` already uses AVX2 + FMA (or better) or the CPU has nothing better. Pure: for tests. */
const char *lsk_blas_suggest(const char *core, int cpu_level);
/* lsk_blas_suggest for the loaded OpenBLAS on this CPU; NULL when it is fine or cannot be changed
 * (no DYNAMIC_ARCH). Static strings. */
const char *lsk_blas_suggested_coretype(void);

#ifdef __cplusplus
}
#endif
#endif
