/*
 * bench.c — latency of the lsrec C API on one model, single caller thread.
 *
 *   bench MODEL.lsrec [REPEATS]
 *
 * Prints a markdown table: median and p90 over REPEATS runs (default 7) of the per-call time of
 * lsrec_state_update, lsrec_user_vector, lsrec_score, lsrec_topk (k=10; also on the model loaded with
 * LSREC_MODEL_SCREEN_ITEMS), lsrec_topk_batch (256 users, per user),
 * lsrec_explain, state serialise/deserialise. Each run times a loop of calls after a warm-up.
 * Timing only; correctness is what the test suite checks.
 */
#define _POSIX_C_SOURCE 199309L
#include <lsrec.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench_util.h"




enum { MAX_REPEATS = 64, USERS = 256 };

static void report(const char *name, double *runs, int repeats, int calls_per_run) {
    report_row(name, 34, runs, repeats, calls_per_run);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s MODEL.lsrec [REPEATS]\n", argv[0]); return 2; }
    int repeats = argc > 2 ? atoi(argv[2]) : 7;
    if (repeats < 1 || repeats > MAX_REPEATS) repeats = 7;
    lsrec_model *m;
    CHECK(lsrec_model_load(argv[1], &m));
    int64_t n = lsrec_model_n_items(m);
    int64_t *ids = malloc(sizeof(int64_t) * n);
    float *scores = malloc(sizeof(float) * n);
    CHECK(lsrec_model_item_ids(m, ids, n));
    char hist[32] = "?";
    lsrec_model_meta(m, "lsrec.history", hist, sizeof hist);
    printf("model %s: %lld items, d=%d, L=%s\n\n", argv[1], (long long)n, lsrec_model_dim(m), hist);
    printf("| %-34s | %10s | %10s |\n|---|---:|---:|\n", "call (per call)", "median µs", "p90 µs");

    /* Users with a full history window. */
    lsrec_state *users[USERS];
    int64_t t0 = 1000000000;
    for (int u = 0; u < USERS; u++) {
        CHECK(lsrec_state_new(m, &users[u]));
        for (int e = 0; e < 300; e++)
            CHECK(lsrec_state_update(m, users[u], ids[(u * 131 + e * 17) % n], t0 + e * 60));
    }
    double runs[MAX_REPEATS];
    int64_t out_ids[10]; float out_sc[10]; size_t got;

    const int updates = 20000;
    lsrec_state *s; CHECK(lsrec_state_clone(users[0], &s));
    int64_t t = t0 + 300 * 60;
    for (int r = 0; r < repeats; r++) {
        double a = now_s();
        for (int i = 0; i < updates; i++) CHECK(lsrec_state_update(m, s, ids[(i * 7) % n], t += 30));
        runs[r] = now_s() - a;
    }
    report("lsrec_state_update", runs, repeats, updates);

    const int calls = 2000;
    /* The user vector alone (LSTM read-out, attention over the window, gate): the part of a
     * top-K that does not depend on the catalogue size. */
    float uvec[4096];
    for (int r = 0; r < repeats; r++) {
        double a = now_s();
        for (int i = 0; i < calls; i++)
            CHECK(lsrec_user_vector(m, users[i % USERS], LSREC_NOW_LAST_EVENT, uvec, sizeof uvec / sizeof uvec[0]));
        runs[r] = now_s() - a;
    }
    report("lsrec_user_vector", runs, repeats, calls);

    for (int r = 0; r < repeats; r++) {
        double a = now_s();
        for (int i = 0; i < calls; i++) CHECK(lsrec_score(m, users[i % USERS], LSREC_NOW_LAST_EVENT, scores, n));
        runs[r] = now_s() - a;
    }
    report("lsrec_score (all items)", runs, repeats, calls);

    for (int r = 0; r < repeats; r++) {
        double a = now_s();
        for (int i = 0; i < calls; i++)
            CHECK(lsrec_topk(m, users[i % USERS], LSREC_NOW_LAST_EVENT, 10, 0, NULL, 0, out_ids, out_sc, &got));
        runs[r] = now_s() - a;
    }
    report("lsrec_topk k=10", runs, repeats, calls);

    for (int r = 0; r < repeats; r++) {
        double a = now_s();
        for (int i = 0; i < calls; i++)
            CHECK(lsrec_topk(m, users[i % USERS], LSREC_NOW_LAST_EVENT, 10, LSREC_EXCLUDE_SEEN, NULL, 0, out_ids, out_sc, &got));
        runs[r] = now_s() - a;
    }
    report("lsrec_topk k=10 exclude seen", runs, repeats, calls);

    /* The same weights loaded with LSREC_MODEL_SCREEN_ITEMS (int8 or binary16 screen; identical results).
     * The states above belong to it too (same fingerprint). */
    lsrec_model_params params = lsrec_model_default_params();
    params.flags |= LSREC_MODEL_SCREEN_ITEMS;
    lsrec_model *ms;
    CHECK(lsrec_model_load_ex(argv[1], &params, &ms));
    for (uint32_t flags = 0; flags <= LSREC_EXCLUDE_SEEN; flags++) {
        for (int r = 0; r < repeats; r++) {
            double a = now_s();
            for (int i = 0; i < calls; i++)
                CHECK(lsrec_topk(ms, users[i % USERS], LSREC_NOW_LAST_EVENT, 10, flags, NULL, 0, out_ids, out_sc, &got));
            runs[r] = now_s() - a;
        }
        report(flags ? "lsrec_topk k=10 excl. seen, screened" : "lsrec_topk k=10, screened model", runs, repeats, calls);
    }
    if (lsrec_model_screens_items(ms) != 1) printf("(the screen is not available on this CPU: the rows above are the plain scan)\n");
    lsrec_model_free(ms);

    int64_t *batch_ids = malloc(sizeof(int64_t) * USERS * 10);
    float *batch_sc = malloc(sizeof(float) * USERS * 10);
    const int batches = 20;
    for (int r = 0; r < repeats; r++) {
        double a = now_s();
        for (int i = 0; i < batches; i++)
            CHECK(lsrec_topk_batch(m, (const lsrec_state *const *)users, USERS, LSREC_NOW_LAST_EVENT, 10, 0, batch_ids, batch_sc));
        runs[r] = now_s() - a;
    }
    report("lsrec_topk_batch 256 users (per user)", runs, repeats, batches * USERS);

    for (int r = 0; r < repeats; r++) {
        double a = now_s();
        for (int i = 0; i < calls; i++)
            CHECK(lsrec_explain(m, users[i % USERS], ids[i % n], 3, out_ids, out_sc, &got));
        runs[r] = now_s() - a;
    }
    report("lsrec_explain k=3", runs, repeats, calls);

    unsigned char blob[65536]; size_t need;
    for (int r = 0; r < repeats; r++) {
        double a = now_s();
        for (int i = 0; i < calls; i++) {
            CHECK(lsrec_state_serialize(users[i % USERS], blob, sizeof blob, &need));
            lsrec_state *back; CHECK(lsrec_state_deserialize(m, blob, need, &back)); lsrec_state_free(back);
        }
        runs[r] = now_s() - a;
    }
    report("serialize + deserialize", runs, repeats, calls);
    printf("\nstate blob: %zu bytes after 300 events\n", need);

    for (int u = 0; u < USERS; u++) lsrec_state_free(users[u]);
    lsrec_state_free(s);
    lsrec_model_free(m);
    free(ids); free(scores); free(batch_ids); free(batch_sc);
    return 0;
}
