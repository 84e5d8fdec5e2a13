/*
 * floors.c — this machine's single-core limits, for bench/compare.py's floor column.
 *
 *   floors [REPEATS] [N_ITEMS] [D]
 *
 * Prints key=value lines, each rate the best of REPEATS runs (default 5) after a warm-up: a limit
 * of the machine, which another tenant's load can only lower, so the best run is the estimate and
 * a figure measured against it is not flattered by a disturbed run (the median of five once read
 * 111 GFLOP/s for sgemm, and 140-158 in the runs right after). sgemv_us, a time to compare
 * with rather than a limit, is the median like every engine figure:
 *   sgemm_gflops        cblas_sgemm, 1 thread, square n = 1536 (2n³ flops per call)
 *   sgemm_b256_gflops   the batch-scoring shape: [256 x 64] x [64 x 1M]ᵀ in blocks of 64k items
 *   read_gbs            read-only sum over 1 GiB (64 independent accumulators, vectorised)
 *   triad_gbs           STREAM triad a = b + s c over 3 x 256 MiB (counting 3 streams; no
 *                       write-allocate correction, as STREAM reports)
 *   read_l2_gbs         read-only sum over 1 MiB repeated (the ML-1M item matrix is 0.9 MiB,
 *                       which stays in cache during a request stream)
 *   sgemv_us            with N_ITEMS: one cblas_sgemv of [N_ITEMS x D] (D = 64; the scoring product
 *                       of one user) with the matrix in cache, µs per call
 * Run with OPENBLAS_NUM_THREADS=1 (the harness sets it); openblas_set_num_threads(1) is called too.
 */
#define _POSIX_C_SOURCE 199309L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void openblas_set_num_threads(int);
#include "bench_util.h"




/* The highest of n rates. */
static double best_rate(const double *v, int n) {
    double b = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] > b) b = v[i];
    return b;
}

static float *filled(size_t n, float v) {
    float *p = aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
    if (!p) { perror("alloc"); exit(1); }
    for (size_t i = 0; i < n; i++) p[i] = v + (float)(i % 7) * 1e-3f;
    return p;
}

/* Sum of n floats with 64 independent accumulators (8 AVX registers at -O3 -march=native), so
 * the adds' latency does not limit the rate even when the data is in cache. */
static float sum_read(const float *restrict p, size_t n) {
    float acc[64] = {0};
    for (size_t i = 0; i + 64 <= n; i += 64)
        for (int j = 0; j < 64; j++) acc[j] += p[i + j];
    float s = 0;
    for (int j = 0; j < 64; j++) s += acc[j];
    return s;
}

static void triad(float *restrict a, const float *restrict b, const float *restrict c, float s, size_t n) {
    for (size_t i = 0; i < n; i++) a[i] = b[i] + s * c[i];
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    int n_items = argc > 2 ? atoi(argv[2]) : 0;
    int dim = argc > 3 ? atoi(argv[3]) : 64;
    if (dim < 1 || dim > 4096) dim = 64;
    if (reps < 1 || reps > 100) reps = 5;
    openblas_set_num_threads(1);
    double runs[100];
    volatile float sink = 0;

    { /* square sgemm */
        const int n = 1536;
        float *a = filled((size_t)n * n, 0.5f), *b = filled((size_t)n * n, 0.25f), *c = filled((size_t)n * n, 0);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        for (int r = 0; r < reps; r++) {
            double t = now_s();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
            runs[r] = 2.0 * n * n * (double)n / (now_s() - t) / 1e9;
        }
        printf("sgemm_gflops=%.2f\n", best_rate(runs, reps));
        free(a); free(b); free(c);
    }
    { /* the batch-scoring shape: U [256 x 64] times a 64k-item block of X [64k x 64], transposed */
        const int m = 256, k = 64, nb = 65536;
        float *u = filled((size_t)m * k, 0.1f), *x = filled((size_t)nb * k, 0.2f), *s = filled((size_t)m * nb, 0);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, nb, k, 1, u, k, x, k, 0, s, nb);
        for (int r = 0; r < reps; r++) {
            double t = now_s();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, nb, k, 1, u, k, x, k, 0, s, nb);
            runs[r] = 2.0 * m * nb * (double)k / (now_s() - t) / 1e9;
        }
        printf("sgemm_b256_gflops=%.2f\n", best_rate(runs, reps));
        free(u); free(x); free(s);
    }
    { /* DRAM read */
        const size_t n = (size_t)1 << 28; /* 1 GiB of floats */
        float *p = filled(n, 1);
        sink += sum_read(p, n);
        for (int r = 0; r < reps; r++) {
            double t = now_s();
            sink += sum_read(p, n);
            runs[r] = n * 4.0 / (now_s() - t) / 1e9;
        }
        printf("read_gbs=%.2f\n", best_rate(runs, reps));
        free(p);
    }
    { /* DRAM triad */
        const size_t n = (size_t)1 << 26; /* 256 MiB per array */
        float *a = filled(n, 0), *b = filled(n, 1), *c = filled(n, 2);
        triad(a, b, c, 3, n);
        for (int r = 0; r < reps; r++) {
            double t = now_s();
            triad(a, b, c, 3 + r, n);
            runs[r] = 3.0 * n * 4.0 / (now_s() - t) / 1e9;
        }
        sink += a[n / 2];
        printf("triad_gbs=%.2f\n", best_rate(runs, reps));
        free(a); free(b); free(c);
    }
    { /* cache-resident read, 1 MiB */
        const size_t n = (size_t)1 << 18;
        const int inner = 2000;
        float *p = filled(n, 1);
        sink += sum_read(p, n);
        for (int r = 0; r < reps; r++) {
            double t = now_s();
            for (int i = 0; i < inner; i++) sink += sum_read(p, n);
            runs[r] = (double)inner * n * 4.0 / (now_s() - t) / 1e9;
        }
        printf("read_l2_gbs=%.2f\n", best_rate(runs, reps));
        free(p);
    }
    if (n_items > 0) { /* the scoring product alone: s = X u + b, X [n_items x 64] in cache */
        const int d = dim, inner = 200;
        float *x = filled((size_t)n_items * d, 0.01f), *u = filled(d, 0.1f), *s = filled(n_items, 0);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, n_items, d, 1, x, d, u, 1, 1, s, 1);
        for (int r = 0; r < reps; r++) {
            double t = now_s();
            for (int i = 0; i < inner; i++) cblas_sgemv(CblasRowMajor, CblasNoTrans, n_items, d, 1, x, d, u, 1, 1, s, 1);
            runs[r] = (now_s() - t) / inner * 1e6;
        }
        sink += s[0];
        printf("sgemv_items=%d\nsgemv_us=%.3f\n", n_items, median(runs, reps));
        free(x); free(u); free(s);
    }
    fprintf(stderr, "(checksum %g)\n", (double)sink);
    return 0;
}
