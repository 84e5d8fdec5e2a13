/*
 * scale_topk.c — top-K on a large catalogue against the memory-bandwidth floor, one caller thread.
 *
 *   cc -std=c11 -O2 -Iinclude -o build/bin/scale_topk bench/scale_topk.c -Lbuild/static -llsrec \
 *      -Wl,-rpath,$PWD/build/static -lopenblas -lm
 *   build/bin/scale_topk MODEL.lsrec [CALLS]
 *
 * The floor: one top-K must read the item matrix once (N × d float32); the time of a plain
 * streaming sum over a buffer of that size, measured in the same run, is the floor. Prints the
 * median over CALLS (default 15) of lsrec_topk (k = 10), of the floor, their ratio, and
 * lsrec_topk_batch for 256 users (per user) next to a bare OpenBLAS sgemm of the same product
 * (256 users × N items × d, in 256 × 4096 output blocks, nothing else), its reference speed.
 * Timing only; correctness is the test suite's job.
 */
#define _POSIX_C_SOURCE 199309L
#include <cblas.h>
#include <lsrec.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) { qsort(v, n, sizeof *v, cmp_double); return v[n / 2]; }

#define CHECK(call) do { if ((call) != LSREC_OK) { fprintf(stderr, "%s: %s\n", #call, lsrec_last_error()); exit(1); } } while (0)

/* A streaming read of n floats (8 independent sums so the adds do not limit it). */
static float stream_sum(const float *a, size_t n) {
    float s[8] = {0};
    for (size_t i = 0; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) s[j] += a[i + j];
    return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}

enum { USERS = 256, MAX_CALLS = 101 };

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s MODEL.lsrec [CALLS]\n", argv[0]); return 2; }
    int calls = argc > 2 ? atoi(argv[2]) : 15;
    if (calls < 1 || calls > MAX_CALLS) calls = 15;
    lsrec_model *m;
    CHECK(lsrec_model_load(argv[1], &m));
    int64_t n = lsrec_model_n_items(m);
    int d = lsrec_model_dim(m);
    int64_t *ids = malloc(sizeof(int64_t) * n);
    CHECK(lsrec_model_item_ids(m, ids, n));
    lsrec_state *users[USERS];
    for (int u = 0; u < USERS; u++) {
        CHECK(lsrec_state_new(m, &users[u]));
        for (int e = 0; e < 200; e++)
            CHECK(lsrec_state_update(m, users[u], ids[((int64_t)u * 7919 + (int64_t)e * 104729) % n], 1000000000 + e * 60));
    }
    size_t floats = (size_t)n * d;
    float *buf = malloc(floats * sizeof(float));
    for (size_t i = 0; i < floats; i++) buf[i] = (float)(i & 1023) * 1e-3f;

    double t_topk[MAX_CALLS], t_floor[MAX_CALLS];
    int64_t out_ids[10 * USERS]; float out_sc[10 * USERS]; size_t got;
    volatile float sink = 0;
    CHECK(lsrec_topk(m, users[0], LSREC_NOW_LAST_EVENT, 10, 0, NULL, 0, out_ids, out_sc, &got)); /* warm-up */
    sink += stream_sum(buf, floats);
    for (int c = 0; c < calls; c++) {  /* alternate, so both see the same machine */
        double a = now_s();
        CHECK(lsrec_topk(m, users[c % USERS], LSREC_NOW_LAST_EVENT, 10, 0, NULL, 0, out_ids, out_sc, &got));
        t_topk[c] = now_s() - a;
        a = now_s();
        sink += stream_sum(buf, floats);
        t_floor[c] = now_s() - a;
    }
    double topk = median(t_topk, calls), floor_s = median(t_floor, calls);
    double bytes = (double)floats * sizeof(float);
    printf("model %s: %lld items, d=%d (item matrix %.0f MB)\n\n", argv[1], (long long)n, d, bytes / 1e6);
    printf("| figure | median ms | note |\n|---|---:|---|\n");
    printf("| lsrec_topk k=10 | %.3f | %.1f GB/s of item matrix |\n", topk * 1e3, bytes / topk / 1e9);
    printf("| floor: streaming read of the item matrix | %.3f | %.1f GB/s |\n", floor_s * 1e3, bytes / floor_s / 1e9);
    printf("| ratio lsrec_topk / floor | %.2f× | |\n", topk / floor_s);

    int batches = calls < 5 ? calls : 5;
    for (int c = 0; c < batches; c++) {
        double a = now_s();
        CHECK(lsrec_topk_batch(m, (const lsrec_state *const *)users, USERS, LSREC_NOW_LAST_EVENT, 10, 0, out_ids, out_sc));
        t_topk[c] = (now_s() - a) / USERS;
    }
    double per_user = median(t_topk, batches);
    printf("| lsrec_topk_batch 256 users, per user | %.3f | %.1f GFLOP/s (2·N·d per user) |\n",
           per_user * 1e3, 2.0 * (double)floats / per_user / 1e9);
    /* The same product with bare sgemm: U (256 × d) times item blocks of 4096 rows of buf. */
    enum { BLOCK = 4096 };
    float *u = malloc(sizeof(float) * USERS * d), *c = malloc(sizeof(float) * USERS * BLOCK);
    for (int i = 0; i < USERS * d; i++) u[i] = (float)(i % 17) * 0.01f;
    for (int r = 0; r < batches; r++) {
        double a = now_s();
        for (int64_t first = 0; first < n; first += BLOCK) {
            int cnt = (int)(n - first < BLOCK ? n - first : BLOCK);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, USERS, cnt, d, 1, u, d, buf + first * d, d, 0, c, cnt);
        }
        t_topk[r] = (now_s() - a) / USERS;
    }
    double gemm = median(t_topk, batches);
    printf("| bare sgemm of the same product, per user | %.3f | %.1f GFLOP/s |\n", gemm * 1e3,
           2.0 * (double)floats / gemm / 1e9);
    printf("| ratio lsrec_topk_batch / sgemm | %.2f× | |\n", per_user / gemm);
    free(u); free(c);
    if (sink == 12345) printf(" ");
    for (int u = 0; u < USERS; u++) lsrec_state_free(users[u]);
    lsrec_model_free(m);
    free(ids); free(buf);
    return 0;
}
