/*
 * screen_select.c — the int8 screen's selection kernel alone (lsk_screen_select_int8), in a loop
 * over one copy that stays in cache: N random rows of 64 columns, k = 10, a slack of 0.5 (the
 * one-pass selection listed about 85 rows on the way; 14 are at or above the final cutoff).
 * Prints microseconds per call (median of ROUNDS rounds). Built against the kernel source, not
 * the library, with clang as SwiftPM builds the library (GCC's code was 12% slower):
 *
 *   make bench-tools   (or: clang -O2 -ISources/LSRecKernels/include -o build/bench/screen_select \
 *                      bench/screen_select.c Sources/LSRecKernels/kernels.c -lm)
 *   taskset -c 0 build/bench/screen_select [N] [SLACK] [ROUNDS] [int8|half]
 *
 * `half` times lsk_screen_select over a binary16 copy instead (the screen for d > 1040, and of
 * every CPU without VNNI before the AVX2 int8 kernel; its slack lists a different number of rows).
 * The int8 run takes the VNNI kernel where the CPU has it, else the AVX2 one.
 *
 * Used for the prefetch threshold in kernels.c (LSK_SCREEN_PREFETCH_BYTES): build it from two
 * versions of kernels.c and run them alternately.
 */
#define _POSIX_C_SOURCE 200809L
#include "lsrec_kernels.h"
#include "bench_util.h"

#include <stdint.h>
#include <string.h>

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 3667, d4 = 64, k = 10;
    double slack = argc > 2 ? atof(argv[2]) : 0.5;
    int rounds = argc > 3 ? atoi(argv[3]) : 7, calls = 20000;
    int half = argc > 4 && strcmp(argv[4], "half") == 0;
    if (n == 0 || n > 4096 || rounds < 1 || rounds > 99 || (argc > 4 && !half && strcmp(argv[4], "int8") != 0)) {
        fprintf(stderr, "usage: %s [N <= 4096] [SLACK] [ROUNDS <= 99] [int8|half]\n", argv[0]);
        return 2;
    }
    uint8_t *xq = aligned_alloc(64, (n + 8) * d4);
    uint16_t *xh = malloc((n + 8) * d4 * sizeof(uint16_t));
    float *scale = malloc(n * sizeof(float)), *bias = malloc(n * sizeof(float)), u[64];
    if (!xq || !xh || !scale || !bias) return 1;
    srand(1);
    for (size_t i = 0; i < (n + 8) * d4; i++) xq[i] = (uint8_t)(1 + rand() % 255);  /* q in [-127, 127] */
    /* binary16 values of magnitude 1/4 .. 2, random sign and mantissa */
    for (size_t i = 0; i < (n + 8) * d4; i++)
        xh[i] = (uint16_t)((rand() & 1) << 15 | (13 + rand() % 3) << 10 | (rand() & 0x3FF));
    for (size_t i = 0; i < n; i++) { scale[i] = 0.01f; bias[i] = 0; }
    int8_t uq[64];
    for (int c = 0; c < 64; c++) uq[c] = (int8_t)(rand() % 255 - 127);
    for (int c = 0; c < 64; c++) u[c] = (float)(rand() % 255 - 127) / 127.0f;
    float heap[16], score[4096], cutoff;
    uint32_t idx[4096];
    double t[99];
    size_t listed = 0;
    for (int r = -1; r < rounds; r++) {  /* round -1 warms up */
        double t0 = now_s();
        for (int i = 0; i < calls; i++) {
            uq[i & 63] ^= 1;  /* a different user vector each call */
            u[i & 63] = -u[i & 63];
            listed = half ? lsk_screen_select(xh, n, d4, u, bias, k, slack, NULL, 0, heap, idx, score, 4096, &cutoff)
                          : lsk_screen_select_int8(xq, scale, n, d4, uq, 0.01f, bias, k, slack, NULL, 0, heap, idx,
                                                   score, 4096, &cutoff);
        }
        if (r >= 0) t[r] = (now_s() - t0) / calls * 1e6;
    }
    double med = median(t, rounds);  /* sorts t */
    printf("n=%zu %s path %d: %.3f us per call (median of %d; min %.3f max %.3f), %zu rows listed\n", n,
           half ? "binary16" : "int8", half ? lsk_screen_path() : lsk_screen_int8_path(), med, rounds, t[0],
           t[rounds - 1], listed);
    return 0;
}
