/* Hand-written kernels for the request paths of LSRecCore (not part of the public C ABI). */
#ifndef LSREC_KERNELS_H
#define LSREC_KERNELS_H

#include <stddef.h>

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

/* 1 when lsk_score_rows uses the AVX2+FMA path on this CPU, 0 for the portable path. */
int lsk_vector_path(void);

/* Test hook: forces the portable path (1) or restores CPU detection (0). */
void lsk_force_portable(int on);

#ifdef __cplusplus
}
#endif
#endif
