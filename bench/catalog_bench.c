/*
 * catalog_bench.c — latency of the catalogue calls (lsrec_catalog_*) next to lsrec_topk, on one
 * model with text embeddings (lsrec.text_dim > 0), single caller thread.
 *
 *   catalog_bench MODEL.lsrec [REPEATS]
 *
 * Prints a markdown table: median and p90 over REPEATS runs (default 7) of the per-call time of
 * lsrec_topk (k=10) and lsrec_catalog_topk (k=10) with 0, N/10 and N added items (N = the
 * model's items), lsrec_catalog_add_item, add + remove, lsrec_catalog_explain of an added item,
 * and lsrec_catalog_topk while another thread adds and removes an item every millisecond. Timing only;
 * correctness is what Tests/capi/catalog_test.c checks.
 */
#define _POSIX_C_SOURCE 200809L
#include <lsrec.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench_util.h"




enum { MAX_REPEATS = 64, CALLS = 200 };

static void report(const char *name, double *runs, int repeats, int calls_per_run) {
    report_row(name, 46, runs, repeats, calls_per_run);
}

static size_t text_dim;

static void text_of(int64_t seed, float *t) {
    for (size_t j = 0; j < text_dim; j++) t[j] = (float)sin((double)seed * 0.731 + (double)j * 1.37) * 0.1f;
}

/* Adds ids base .. base+n-1. */
static void add_range(lsrec_catalog *cat, int64_t base, int64_t n, float *t) {
    for (int64_t i = 0; i < n; i++) {
        text_of(base + i, t);
        CHECK(lsrec_catalog_add_item(cat, base + i, t, text_dim));
    }
}

static void time_topk(const char *name, const lsrec_model *m, const lsrec_catalog *cat, const lsrec_state *s,
                      int repeats) {
    double runs[MAX_REPEATS];
    int64_t ids[10];
    float sc[10];
    for (int r = -1; r < repeats; r++) { /* r = -1: warm-up */
        double t0 = now_s();
        for (int i = 0; i < CALLS; i++) {
            if (cat) CHECK(lsrec_catalog_topk(cat, s, LSREC_NOW_LAST_EVENT, 10, LSREC_EXCLUDE_SEEN, NULL, 0, ids, sc, NULL));
            else CHECK(lsrec_topk(m, s, LSREC_NOW_LAST_EVENT, 10, LSREC_EXCLUDE_SEEN, NULL, 0, ids, sc, NULL));
        }
        if (r >= 0) runs[r] = now_s() - t0;
    }
    report(name, runs, repeats, CALLS);
}

typedef struct {
    lsrec_catalog *cat;
    atomic_int stop;
    long ops;
} churn_arg;

/* Adds then removes one item (ids 9e15 + i) every millisecond (2000 changes/s, far above a real
 * catalogue's rate) until told to stop: what readers feel of the writer-preferring lock. */
static void *churn(void *p) {
    churn_arg *a = p;
    float *t = malloc(text_dim * sizeof *t);
    for (int64_t i = 0; !atomic_load(&a->stop); i++) {
        int64_t id = (int64_t)9000000000000000LL + i;
        text_of(id, t);
        CHECK(lsrec_catalog_add_item(a->cat, id, t, text_dim));
        CHECK(lsrec_catalog_remove_item(a->cat, id));
        a->ops += 2;
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
    }
    free(t);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: catalog_bench MODEL.lsrec [REPEATS]\n");
        return 2;
    }
    int repeats = argc > 2 ? atoi(argv[2]) : 7;
    if (repeats < 1 || repeats > MAX_REPEATS) repeats = 7;
    lsrec_model *m = NULL;
    CHECK(lsrec_model_load(argv[1], &m));
    char buf[32];
    if (lsrec_model_meta(m, "lsrec.text_dim", buf, sizeof buf) < 0 || atoi(buf) <= 0) {
        fprintf(stderr, "catalog_bench: %s has no text projection (lsrec.text_dim = 0)\n", argv[1]);
        return 1;
    }
    text_dim = (size_t)atoi(buf);
    const int64_t n = lsrec_model_n_items(m);
    int64_t *ids = malloc((size_t)n * sizeof *ids);
    CHECK(lsrec_model_item_ids(m, ids, (size_t)n));
    lsrec_state *s = NULL;
    CHECK(lsrec_state_new(m, &s));
    for (int e = 0; e < 50; e++) CHECK(lsrec_state_update(m, s, ids[(e * 97) % n], 1700000000 + 600 * e));
    float *t = malloc(text_dim * sizeof *t);

    printf("model %s: N = %lld, d = %d, text_dim = %zu; %d runs x %d calls\n\n", argv[1], (long long)n,
           lsrec_model_dim(m), text_dim, repeats, CALLS);
    printf("| %-46s | %10s | %10s |\n", "call", "median µs", "p90 µs");
    printf("|%s|%s|%s|\n", "------------------------------------------------", "------------", "------------");

    lsrec_catalog *cat = NULL;
    CHECK(lsrec_catalog_new(m, &cat));
    time_topk("lsrec_topk k=10 (model only)", m, NULL, s, repeats);
    time_topk("lsrec_catalog_topk k=10, 0 added", m, cat, s, repeats);
    add_range(cat, (int64_t)1 << 50, n / 10, t);
    time_topk("lsrec_catalog_topk k=10, N/10 added", m, cat, s, repeats);
    add_range(cat, ((int64_t)1 << 50) + n / 10, n - n / 10, t);
    time_topk("lsrec_catalog_topk k=10, N added", m, cat, s, repeats);

    double runs[MAX_REPEATS];
    int64_t next = (int64_t)1 << 51;
    for (int r = -1; r < repeats; r++) {
        double t0 = now_s();
        add_range(cat, next, CALLS, t);
        next += CALLS;
        if (r >= 0) runs[r] = now_s() - t0;
    }
    report("lsrec_catalog_add_item (N+ added)", runs, repeats, CALLS);
    for (int r = -1; r < repeats; r++) {
        double t0 = now_s();
        for (int i = 0; i < CALLS; i++) {
            text_of(i, t);
            CHECK(lsrec_catalog_add_item(cat, -2 - i, t, text_dim));
            CHECK(lsrec_catalog_remove_item(cat, -2 - i));
        }
        if (r >= 0) runs[r] = now_s() - t0;
    }
    report("add + remove of the newest item (N+ added)", runs, repeats, CALLS);
    for (int r = -1; r < repeats; r++) {
        int64_t hist[3];
        float w[3];
        double t0 = now_s();
        for (int i = 0; i < CALLS; i++) CHECK(lsrec_catalog_explain(cat, s, (int64_t)1 << 50, 3, hist, w, NULL));
        if (r >= 0) runs[r] = now_s() - t0;
    }
    report("lsrec_catalog_explain k=3 (an added item)", runs, repeats, CALLS);

    churn_arg ca = {.cat = cat};
    pthread_t th;
    if (pthread_create(&th, NULL, churn, &ca) != 0) return 1;
    time_topk("catalog_topk k=10, N added, 2000 changes/s", m, cat, s, repeats);
    atomic_store(&ca.stop, 1);
    pthread_join(th, NULL);
    printf("\n(the writer made %ld changes meanwhile)\n", ca.ops);

    lsrec_catalog_free(cat);
    lsrec_state_free(s);
    lsrec_model_free(m);
    free(ids);
    free(t);
    return 0;
}
