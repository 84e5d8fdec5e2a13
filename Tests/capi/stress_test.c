/*
 * stress_test.c — many threads on one model, each with its own states, must give exactly the
 * single-threaded results (docs/RELIABILITY.md, "Concurrency").
 *
 *   stress_test MODEL [REQUESTS_PER_THREAD] [THREADS]      defaults: 50000 requests, 8 threads
 *
 * A request = lsrec_state_update (one event for one of the thread's users) + lsrec_topk (k = 10,
 * EXCLUDE_SEEN); every 97th request also round-trips that user's state through
 * lsrec_state_serialize / lsrec_state_deserialize, and every 101st scores it with lsrec_score.
 * Each thread serves USERS users of its own, round robin, with a deterministic event stream
 * seeded by the thread number. The same workloads are first run one after another on the main
 * thread; a 64-bit hash of every request's output (ids and score bits) is kept, and the threaded
 * run must reproduce every hash and every user's final state blob byte for byte.
 * Prints a summary line; exits 1 on any mismatch or failed call. No timing is asserted.
 * `make stress` runs the full size, `make test-c` a short one (8 x 2000).
 */
#define _POSIX_C_SOURCE 200809L

#include "lsrec.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { USERS = 16, K = 10, MAX_BLOB = 1 << 16 };

static const lsrec_model *model;
static int64_t *ids;   /* the model's item ids */
static size_t n_items;
static size_t requests_per_thread;

typedef struct {
    int thread;
    uint64_t *hashes;                /* one per request */
    unsigned char *blobs[USERS];     /* final state of each user */
    size_t blob_len[USERS];
    int failures;
    char error[256];
} workload;

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static void fail(workload *w, const char *what) {
    if (w->failures++ == 0)
        snprintf(w->error, sizeof w->error, "thread %d: %s: %s", w->thread, what, lsrec_last_error());
}

/* Runs one thread's whole workload; fills w->hashes and w->blobs. */
static void *run(void *arg) {
    workload *w = arg;
    lsrec_state *users[USERS] = {0};
    int64_t clock[USERS];
    uint64_t x = 0x9E3779B97F4A7C15ull ^ ((uint64_t)w->thread * 0xBF58476D1CE4E5B9ull);
    for (int u = 0; u < USERS; u++) {
        clock[u] = 1600000000 + (int64_t)w->thread * 1000000 + u;
        if (lsrec_state_new(model, &users[u]) != LSREC_OK) { fail(w, "lsrec_state_new"); goto out; }
    }
    unsigned char *blob = malloc(MAX_BLOB);
    if (!blob) { fail(w, "malloc"); goto out; }
    for (size_t r = 0; r < requests_per_thread; r++) {
        int u = (int)(r % USERS);
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int64_t item = ids[x % n_items];
        int64_t ts;
        if ((x >> 20) % 7 == 0) ts = LSREC_TS_UNKNOWN;
        else { clock[u] += (int64_t)((x >> 24) % 200000); ts = clock[u]; }
        if (lsrec_state_update(model, users[u], item, ts) != LSREC_OK) { fail(w, "lsrec_state_update"); break; }

        int64_t top[K];
        float scores[K];
        size_t n_out = 0;
        int64_t now = (x >> 40) % 3 == 0 ? LSREC_NOW_LAST_EVENT : clock[u] + (int64_t)((x >> 32) % 86400);
        if (lsrec_topk(model, users[u], now, K, LSREC_EXCLUDE_SEEN, NULL, 0, top, scores, &n_out) != LSREC_OK) {
            fail(w, "lsrec_topk");
            break;
        }
        uint64_t h = 0xcbf29ce484222325ull;
        h = fnv(h, top, sizeof top);
        h = fnv(h, scores, sizeof scores);
        h = fnv(h, &n_out, sizeof n_out);

        if (r % 97 == 0) { /* a round trip through a blob replaces the state */
            size_t len = 0;
            lsrec_state *back = NULL;
            if (lsrec_state_serialize(users[u], blob, MAX_BLOB, &len) != LSREC_OK
                || lsrec_state_deserialize(model, blob, len, &back) != LSREC_OK) {
                fail(w, "serialize/deserialize");
                break;
            }
            lsrec_state_free(users[u]);
            users[u] = back;
            h = fnv(h, blob, len);
        }
        if (r % 101 == 0) {
            float *all = malloc(n_items * sizeof *all);
            if (!all || lsrec_score(model, users[u], LSREC_NOW_LAST_EVENT, all, n_items) != LSREC_OK) {
                free(all);
                fail(w, "lsrec_score");
                break;
            }
            h = fnv(h, all, n_items * sizeof *all);
            free(all);
        }
        w->hashes[r] = h;
    }
    for (int u = 0; u < USERS && !w->failures; u++) {
        size_t len = 0;
        if (lsrec_state_serialize(users[u], blob, MAX_BLOB, &len) != LSREC_OK) { fail(w, "final serialize"); break; }
        w->blobs[u] = malloc(len);
        if (!w->blobs[u]) { fail(w, "malloc"); break; }
        memcpy(w->blobs[u], blob, len);
        w->blob_len[u] = len;
    }
    free(blob);
out:
    for (int u = 0; u < USERS; u++) lsrec_state_free(users[u]);
    return NULL;
}

static void init_workloads(workload *w, int threads) {
    for (int t = 0; t < threads; t++) {
        memset(&w[t], 0, sizeof w[t]);
        w[t].thread = t;
        w[t].hashes = calloc(requests_per_thread ? requests_per_thread : 1, sizeof *w[t].hashes);
        if (!w[t].hashes) { fprintf(stderr, "stress_test: out of memory\n"); exit(2); }
    }
}

static void free_workloads(workload *w, int threads) {
    for (int t = 0; t < threads; t++) {
        free(w[t].hashes);
        for (int u = 0; u < USERS; u++) free(w[t].blobs[u]);
    }
}

static double seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: stress_test MODEL [REQUESTS_PER_THREAD] [THREADS]\n");
        return 2;
    }
    requests_per_thread = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 50000;
    int threads = argc > 3 ? atoi(argv[3]) : 8;
    if (threads < 1 || threads > 256) { fprintf(stderr, "stress_test: THREADS must be 1..256\n"); return 2; }

    lsrec_model *m = NULL;
    if (lsrec_model_load(argv[1], &m) != LSREC_OK) {
        fprintf(stderr, "stress_test: cannot load %s: %s\n", argv[1], lsrec_last_error());
        return 2;
    }
    model = m;
    n_items = (size_t)lsrec_model_n_items(m);
    ids = malloc(n_items * sizeof *ids);
    if (!ids || lsrec_model_item_ids(m, ids, n_items) != LSREC_OK) { fprintf(stderr, "stress_test: item ids\n"); return 2; }

    workload *ref = malloc((size_t)threads * sizeof *ref), *par = malloc((size_t)threads * sizeof *par);
    if (!ref || !par) { fprintf(stderr, "stress_test: out of memory\n"); return 2; }
    init_workloads(ref, threads);
    init_workloads(par, threads);

    /* 1. Single-threaded reference: the workloads one after another. */
    double t0 = seconds();
    for (int t = 0; t < threads; t++) run(&ref[t]);
    double t1 = seconds();
    /* 2. All workloads at once, one thread each, sharing the model. */
    pthread_t *th = malloc((size_t)threads * sizeof *th);
    if (!th) { fprintf(stderr, "stress_test: out of memory\n"); return 2; }
    for (int t = 0; t < threads; t++)
        if (pthread_create(&th[t], NULL, run, &par[t]) != 0) { fprintf(stderr, "stress_test: pthread_create\n"); return 2; }
    for (int t = 0; t < threads; t++) pthread_join(th[t], NULL);
    double t2 = seconds();

    int failures = 0;
    size_t mismatched = 0, blob_mismatches = 0;
    for (int t = 0; t < threads; t++) {
        if (ref[t].failures) { fprintf(stderr, "stress_test: reference %s\n", ref[t].error); failures++; }
        if (par[t].failures) { fprintf(stderr, "stress_test: threaded %s\n", par[t].error); failures++; }
        for (size_t r = 0; r < requests_per_thread; r++) {
            if (ref[t].hashes[r] != par[t].hashes[r]) {
                if (mismatched++ < 5) fprintf(stderr, "stress_test: thread %d request %zu differs\n", t, r);
            }
        }
        for (int u = 0; u < USERS; u++) {
            if (ref[t].blob_len[u] != par[t].blob_len[u]
                || (ref[t].blobs[u] && par[t].blobs[u] && memcmp(ref[t].blobs[u], par[t].blobs[u], ref[t].blob_len[u]) != 0))
                blob_mismatches++;
        }
    }
    size_t total = (size_t)threads * requests_per_thread;
    printf("stress_test: %d threads x %zu requests (%zu in all, %d users each) on %zu items: "
           "%zu mismatching results, %zu mismatching final states, %d failed workloads "
           "(single-threaded %.2f s, threaded %.2f s)\n",
           threads, requests_per_thread, total, USERS, n_items, mismatched, blob_mismatches, failures, t1 - t0, t2 - t1);

    free_workloads(ref, threads);
    free_workloads(par, threads);
    free(ref);
    free(par);
    free(th);
    free(ids);
    lsrec_model_free(m);
    return failures || mismatched || blob_mismatches ? 1 : 0;
}
