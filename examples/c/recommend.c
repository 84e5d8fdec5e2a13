/*
 * recommend.c — a complete lsrec host in C: load a model, feed a user's events, recommend,
 * explain, and keep the user's state as a blob. Copy what you need.
 *
 * Usage
 *   recommend [MODEL]                      built-in events (the model's first few items)
 *   recommend MODEL ITEM[:TIME] ...        events from the command line, oldest first
 *   recommend MODEL -f HISTORY [-t TITLES] events from a file, oldest first; optional item titles
 *
 *   MODEL    a .lsrec file (default: Tests/Fixtures/tiny-random.lsrec)
 *   ITEM     an external item id (e.g. a MovieLens movie id); TIME is unix seconds, or -1 / left
 *            out for "unknown"
 *   HISTORY  lines "item_id unix_ts" ("-" reads stdin; blank lines and lines starting with '#'
 *            are skipped). Items the model does not know are skipped with a warning, so the
 *            history of a real user can be replayed against a trained model.
 *   TITLES   lines "item_id<TAB>title" used to print titles next to ids (`lsrec recommend
 *            --titles-out` writes one).
 *
 * Build (the Makefile does this: `make examples`, binary in build/bin/recommend)
 *   cc -std=c11 -Iinclude examples/c/recommend.c -Lbuild/static -llsrec \
 *      -Wl,-rpath,$PWD/build/static -lpthread -o recommend
 *
 * Besides the demo, the program is the link test of the C API: it calls every function declared
 * in include/lsrec.h at least once (except the catalogue's lsrec_catalog_*, which
 * Tests/capi/catalog_test.c calls) and exits non-zero if any call does not behave.
 */
#define _POSIX_C_SOURCE 200809L

#define EXAMPLE_NAME "recommend"
#include "example_util.h" /* CHECK, REQUIRE, events, read_history, feed, titles */
#include "lsrec.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MODEL "Tests/Fixtures/tiny-random.lsrec"
#define TOP_K 10       /* recommendations shown */
#define EXPLAIN_K 3    /* "because you watched" items per recommendation */

/* ---- Small helpers around the API --------------------------------------------------------- */

/* A metadata value as a malloc'd string ("" when absent). Shows the length-query idiom. */
static char *meta(const lsrec_model *m, const char *key) {
    int32_t len = lsrec_model_meta(m, key, NULL, 0); /* length query */
    if (len < 0) {
        char *empty = xmalloc(1);
        empty[0] = '\0';
        return empty;
    }
    char *value = xmalloc((size_t)len + 1);
    REQUIRE(lsrec_model_meta(m, key, value, (size_t)len + 1) == len);
    return value;
}

/* The state as a malloc'd blob: a size query, then the real call. */
static unsigned char *serialize(const lsrec_state *s, size_t *len) {
    size_t needed = 0;
    CHECK(lsrec_state_serialize(s, NULL, 0, &needed));
    unsigned char *blob = xmalloc(needed);
    CHECK(lsrec_state_serialize(s, blob, needed, len));
    return blob;
}

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    size_t cap = 1 << 16, n = 0, got;
    unsigned char *buf = xmalloc(cap);
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *bigger = realloc(buf, cap *= 2);
            if (!bigger) die("out of memory");
            buf = bigger;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Prints the top-k list with a "because you watched" line per item (lsrec_explain). */
static void print_recommendations(const lsrec_model *m, const lsrec_state *s, const int64_t *ids,
                                  const float *scores, size_t n) {
    for (size_t r = 0; r < n; r++) {
        printf("  %2zu. item %-8" PRId64 " score %8.4f  %s\n", r + 1, ids[r], scores[r], title_of(ids[r]));
        int64_t why[EXPLAIN_K];
        float weight[EXPLAIN_K];
        size_t n_why = 0;
        CHECK(lsrec_explain(m, s, ids[r], EXPLAIN_K, why, weight, &n_why));
        if (n_why == 0) continue; /* no history (or an LSTM-only model): nothing to explain */
        printf("      because you watched:");
        for (size_t j = 0; j < n_why; j++)
            printf("%s %" PRId64 "%s%s (%+.3f)", j ? "," : "", why[j], titles.n ? " " : "", title_of(why[j]), weight[j]);
        printf("\n");
    }
}

/* ---- Main --------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : DEFAULT_MODEL;

    /* 1. The library we run with must match the header we compiled with. */
    if (lsrec_abi_version() != LSREC_ABI_VERSION) {
        fprintf(stderr, "recommend: liblsrec ABI %u, header ABI %u\n", lsrec_abi_version(), LSREC_ABI_VERSION);
        return 1;
    }
    printf("liblsrec %s (ABI %u)\n", lsrec_version_string(), lsrec_abi_version());

    /* 2. Load the model (immutable; one per process, shared by all threads). */
    lsrec_model *model = NULL;
    CHECK(lsrec_model_load(path, &model));
    int64_t n_items = lsrec_model_n_items(model);
    int32_t dim = lsrec_model_dim(model);
    char *arch = meta(model, "general.architecture"), *fingerprint = meta(model, "general.fingerprint");
    char *history_len = meta(model, "lsrec.history");
    printf("model %s: architecture %s, dim %" PRId32 ", n_items %" PRId64 ", history %s, fingerprint %s\n", path,
           arch, dim, n_items, history_len, fingerprint);
    REQUIRE(n_items > 0 && dim > 0);

    /* The catalogue, in the model's internal order (the order of lsrec_score's output). */
    int64_t *item_ids = xmalloc((size_t)n_items * sizeof *item_ids);
    CHECK(lsrec_model_item_ids(model, item_ids, (size_t)n_items));

    /* 3. The user's events: from argv, a file, or built in. */
    events ev = {0};
    if (argc > 3 && strcmp(argv[2], "-f") == 0) {
        read_history(argv[3], &ev);
        if (argc > 5 && strcmp(argv[4], "-t") == 0) read_titles(argv[5]);
    } else if (argc > 2) {
        for (int i = 2; i < argc; i++) parse_event_arg(argv[i], &ev);
    } else {
        /* A few of the model's own items, an hour apart (any model knows these). */
        const int64_t t0 = 1700000000; /* 2023-11-14 22:13:20 UTC */
        const size_t picks[] = {0, 1, 2, 5, 8, 13};
        for (size_t i = 0; i < sizeof picks / sizeof picks[0]; i++)
            events_add(&ev, item_ids[picks[i] % (size_t)n_items], t0 + 3600 * (int64_t)i);
    }
    printf("history: %zu events\n", ev.n);

    /* 4. A new user state, fed with the history. */
    lsrec_state *state = NULL;
    CHECK(lsrec_state_new(model, &state));
    feed(model, state, &ev);
    printf("state: %" PRId64 " events\n", lsrec_state_n_events(state));

    /* 5. Top-10, leaving out items the user has just seen, as of the last event. */
    int64_t top[TOP_K];
    float top_scores[TOP_K];
    size_t n_top = 0;
    CHECK(lsrec_topk(model, state, LSREC_NOW_LAST_EVENT, TOP_K, LSREC_EXCLUDE_SEEN, NULL, 0, top, top_scores, &n_top));
    printf("top %d (excluding seen):\n", TOP_K);
    print_recommendations(model, state, top, top_scores, n_top);

    /* 6. Persist the state between requests: serialise to a blob, restore, compare. */
    size_t blob_len = 0;
    unsigned char *blob = serialize(state, &blob_len);
    lsrec_state *restored = NULL;
    CHECK(lsrec_state_deserialize(model, blob, blob_len, &restored));
    int64_t top2[TOP_K];
    float top2_scores[TOP_K];
    size_t n_top2 = 0;
    CHECK(lsrec_topk(model, restored, LSREC_NOW_LAST_EVENT, TOP_K, LSREC_EXCLUDE_SEEN, NULL, 0, top2, top2_scores,
                     &n_top2));
    REQUIRE(n_top2 == n_top && memcmp(top, top2, sizeof top) == 0 && memcmp(top_scores, top2_scores, sizeof top_scores) == 0);
    REQUIRE(lsrec_state_n_events(restored) == lsrec_state_n_events(state));
    printf("state blob: %zu bytes; restored state gives the identical top %d\n", blob_len, TOP_K);

    /* 7. A live event: the user takes the first recommendation ten minutes after the last event. */
    if (n_top > 0) {
        int64_t last_time = LSREC_TS_UNKNOWN;
        for (size_t i = 0; i < ev.n; i++) if (ev.times[i] >= 0) last_time = ev.times[i];
        int64_t when = last_time >= 0 ? last_time + 600 : LSREC_TS_UNKNOWN;
        size_t n3 = 0;
        int64_t top3[3];
        float top3_scores[3];
        /* The event and the new list in one call (= lsrec_state_update, then lsrec_topk). */
        CHECK(lsrec_state_update_topk(model, restored, top[0], when, LSREC_NOW_LAST_EVENT, 3, LSREC_EXCLUDE_SEEN,
                                      NULL, 0, top3, top3_scores, &n3));
        printf("after watching %" PRId64 ", the new top 3:", top[0]);
        for (size_t r = 0; r < n3; r++) printf(" %" PRId64 " (%.4f)", top3[r], top3_scores[r]);
        printf("\n");
    }

    /* ---- 8. Link test: every remaining function of lsrec.h, with light self-checks. ---- */

    /* Status texts and the thread-local error message. */
    for (lsrec_status st = LSREC_OK; st <= LSREC_E_OUT_OF_ORDER; st++) REQUIRE(lsrec_status_str(st)[0] != '\0');
    REQUIRE(lsrec_status_str(1000) != NULL);
    REQUIRE(lsrec_state_update(model, state, -12345, LSREC_TS_UNKNOWN) == LSREC_E_UNKNOWN_ITEM);
    REQUIRE(strstr(lsrec_last_error(), "-12345") != NULL);
    REQUIRE(lsrec_model_meta(model, "no.such.key", NULL, 0) == -1);

    /* A model from memory (e.g. embedded or fetched): the bytes are copied, free them after. */
    size_t file_len = 0;
    unsigned char *file = read_file(path, &file_len);
    lsrec_model *model2 = NULL;
    CHECK(lsrec_model_load_memory(file, file_len, &model2));
    free(file);
    REQUIRE(lsrec_model_n_items(model2) == n_items && lsrec_model_dim(model2) == dim);
    char *fingerprint2 = meta(model2, "general.fingerprint");
    REQUIRE(strcmp(fingerprint, fingerprint2) == 0);
    free(fingerprint2);

    /* Hot-swapping weights: move the user onto the other model handle (a retrained model in a
     * real service) without losing context; the held events are replayed into it. */
    lsrec_state *moved = NULL;
    size_t skipped = 0;
    CHECK(lsrec_state_rebase(model2, state, &moved, &skipped));
    REQUIRE(skipped == 0);
    lsrec_state_free(moved);
    lsrec_model_free(model2);

    /* A clone evolves independently. */
    lsrec_state *clone = NULL;
    CHECK(lsrec_state_clone(state, &clone));
    REQUIRE(lsrec_state_n_events(clone) == lsrec_state_n_events(state));
    CHECK(lsrec_state_update(model, clone, item_ids[0], LSREC_TS_UNKNOWN));
    REQUIRE(lsrec_state_n_events(clone) == lsrec_state_n_events(state) + 1);

    /* All N scores (model order), a few by id; they agree. */
    float *scores = xmalloc((size_t)n_items * sizeof *scores);
    CHECK(lsrec_score(model, state, LSREC_NOW_LAST_EVENT, scores, (size_t)n_items));
    int64_t some[2] = {item_ids[n_items - 1], item_ids[0]};
    float some_scores[2];
    CHECK(lsrec_score_items(model, state, LSREC_NOW_LAST_EVENT, some, 2, some_scores));
    REQUIRE(fabsf(some_scores[0] - scores[n_items - 1]) <= 1e-5f && fabsf(some_scores[1] - scores[0]) <= 1e-5f);

    /* Top-k without exclusions, and with an explicit exclude list (here: the previous winner). */
    int64_t all_top[TOP_K], excl_top[TOP_K];
    float all_scores[TOP_K];
    size_t n_all = 0, n_excl = 0;
    CHECK(lsrec_topk(model, state, LSREC_NOW_LAST_EVENT, TOP_K, 0, NULL, 0, all_top, all_scores, &n_all));
    float best = scores[0];
    for (int64_t i = 1; i < n_items; i++) if (scores[i] > best) best = scores[i];
    REQUIRE(n_all > 0 && all_scores[0] == best); /* the best of all items */
    CHECK(lsrec_topk(model, state, LSREC_NOW_LAST_EVENT, TOP_K, 0, all_top, 1, excl_top, NULL, &n_excl));
    REQUIRE(n_excl == 0 || excl_top[0] != all_top[0]);

    /* Many users at once (one matrix product): user b's list is at b * k. */
    const lsrec_state *users[2] = {state, clone};
    int64_t batch_ids[2 * TOP_K];
    float batch_scores[2 * TOP_K];
    CHECK(lsrec_topk_batch(model, users, 2, LSREC_NOW_LAST_EVENT, TOP_K, LSREC_EXCLUDE_SEEN, batch_ids, batch_scores));
    REQUIRE(memcmp(batch_ids, top, n_top * sizeof top[0]) == 0);

    /* The user vector u (d floats), e.g. for an ANN index of item vectors. */
    float *u = xmalloc((size_t)dim * sizeof *u);
    CHECK(lsrec_user_vector(model, state, LSREC_NOW_LAST_EVENT, u, (size_t)dim));
    double norm = 0;
    for (int32_t j = 0; j < dim; j++) norm += (double)u[j] * u[j];
    printf("user vector: |u| = %.4f (d = %" PRId32 ")\n", sqrt(norm), dim);

    /* Clean up: every constructor has its _free (NULL is a no-op). */
    free(u);
    free(scores);
    free(blob);
    free(item_ids);
    titles_free();
    events_free(&ev);
    free(arch);
    free(fingerprint);
    free(history_len);
    lsrec_state_free(clone);
    lsrec_state_free(restored);
    lsrec_state_free(state);
    lsrec_state_free(NULL);
    lsrec_model_free(model);
    lsrec_model_free(NULL);
    printf("recommend: ok (every lsrec.h function called)\n");
    return 0;
}
