/*
 * catalog_test.c — tests of the catalogue section of the C ABI (lsrec_catalog_*) through the
 * real liblsrec.so: every error path, results against a brute force computed here in double from
 * the user vector and the catalogue's item vectors, and a reader/writer stress test.
 *
 *   catalog_test MODEL TEXTLESS_MODEL [STRESS_ROUNDS]
 *
 * MODEL is Tests/Fixtures/tiny-random.lsrec (300 items, ids 1000 + 7*i, d = 16, text_dim 8);
 * TEXTLESS_MODEL is a model with lsrec.text_dim = 0 (Tests/Fixtures/golden-trained.lsrec).
 * Prints one line per failed check and "catalog_test: N checks, F failures"; exits 1 on failure.
 */
#define _POSIX_C_SOURCE 200809L

#include "lsrec.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_NAME "catalog_test.c"
#include "check.h"


#define N_MODEL 300
#define DIM 16
#define TEXT_DIM 8
#define ID(i) ((int64_t)(1000 + 7 * (i)))
#define T0 ((int64_t)1700000000)

static void section(const char *name) { printf("-- %s\n", name); }

/* A deterministic text embedding per seed, values in [-1, 1]. */
static void text_of(int seed, float *t) {
    for (int j = 0; j < TEXT_DIM; j++) t[j] = (float)sin((double)(seed * 31 + j) * 1.37 + 0.2);
}

static lsrec_state *user(const lsrec_model *m, int seed, int events) {
    lsrec_state *s = NULL;
    if (lsrec_state_new(m, &s) != LSREC_OK) return NULL;
    for (int e = 0; e < events; e++)
        if (lsrec_state_update(m, s, ID((seed * 37 + e * 11) % N_MODEL), T0 + 60 * e) != LSREC_OK) return NULL;
    return s;
}

/* ---- Errors: NULLs, wrong handles, bad arguments; nothing changes ------------------------- */

static void test_errors(lsrec_model *m, lsrec_model *textless) {
    section("errors");
    lsrec_catalog *cat = (lsrec_catalog *)&cat, *c2 = NULL;
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_new, NULL, &cat);
    CHECK(cat == NULL); /* *out is NULLed on failure */
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_new, m, NULL);
    lsrec_state *s = user(m, 1, 5);
    CHECK(s != NULL);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_new, (const lsrec_model *)s, &c2); /* wrong handle kind */
    OK(lsrec_catalog_new, m, &cat);
    CHECK(lsrec_catalog_n_items(NULL) == -1);
    CHECK(lsrec_catalog_n_items((const lsrec_catalog *)m) == -1);
    CHECK(lsrec_catalog_contains(NULL, ID(0)) == -1);
    CHECK(lsrec_catalog_n_items(cat) == N_MODEL);
    CHECK(lsrec_catalog_contains(cat, ID(0)) == 1 && lsrec_catalog_contains(cat, 5) == 0);

    float t[TEXT_DIM], bad[TEXT_DIM];
    text_of(1, t);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_add_item, NULL, 1, t, TEXT_DIM);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_add_item, (lsrec_catalog *)m, 1, t, TEXT_DIM);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_add_item, cat, 1, NULL, TEXT_DIM);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_add_item, cat, 1, t, TEXT_DIM - 1);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_add_item, cat, 1, t, TEXT_DIM + 1);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_add_item, cat, 1, t, 0);
    CHECK(strstr(lsrec_last_error(), "text_dim") != NULL);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_add_item, cat, 1, t, SIZE_MAX);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_add_item, cat, ID(3), t, TEXT_DIM); /* a model id */
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_add_item, cat, -1, t, TEXT_DIM);    /* the padding id */
    memcpy(bad, t, sizeof bad);
    bad[2] = NAN;
    EXPECT(LSREC_E_NONFINITE, lsrec_catalog_add_item, cat, 1, bad, TEXT_DIM);
    bad[2] = INFINITY;
    EXPECT(LSREC_E_NONFINITE, lsrec_catalog_add_item, cat, 1, bad, TEXT_DIM);
    for (int j = 0; j < TEXT_DIM; j++) bad[j] = 1e37f; /* finite, but its scores could overflow */
    EXPECT(LSREC_E_NONFINITE, lsrec_catalog_add_item, cat, 1, bad, TEXT_DIM);
    CHECK(lsrec_catalog_n_items(cat) == N_MODEL && lsrec_catalog_contains(cat, 1) == 0);
    OK(lsrec_catalog_add_item, cat, 1, t, TEXT_DIM);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_add_item, cat, 1, t, TEXT_DIM); /* no silent replace */
    CHECK(strstr(lsrec_last_error(), "already") != NULL);
    CHECK(lsrec_catalog_n_items(cat) == N_MODEL + 1);

    /* Model without text projection: a clear error; removal still works. */
    lsrec_catalog *plain = NULL;
    OK(lsrec_catalog_new, textless, &plain);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_add_item, plain, 1, t, TEXT_DIM);
    CHECK(strstr(lsrec_last_error(), "no text projection") != NULL);
    int64_t first;
    size_t n_ids = 0;
    EXPECT(LSREC_E_BUFFER_TOO_SMALL, lsrec_catalog_item_ids, plain, &first, 1, &n_ids);
    CHECK(n_ids == (size_t)lsrec_model_n_items(textless)); /* count reported though short */
    int64_t *ids = malloc(n_ids * sizeof *ids);
    OK(lsrec_catalog_item_ids, plain, ids, n_ids, NULL);
    OK(lsrec_catalog_remove_item, plain, ids[0]);
    CHECK(lsrec_catalog_n_items(plain) == (int64_t)n_ids - 1);
    free(ids);

    /* remove / restore */
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_remove_item, NULL, ID(0));
    EXPECT(LSREC_E_UNKNOWN_ITEM, lsrec_catalog_remove_item, cat, 424242);
    OK(lsrec_catalog_remove_item, cat, ID(0));
    EXPECT(LSREC_E_UNKNOWN_ITEM, lsrec_catalog_remove_item, cat, ID(0)); /* twice */
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_add_item, cat, ID(0), t, TEXT_DIM);
    CHECK(strstr(lsrec_last_error(), "restore") != NULL);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_restore_item, NULL, ID(0));
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_restore_item, cat, ID(1)); /* not removed */
    EXPECT(LSREC_E_UNKNOWN_ITEM, lsrec_catalog_restore_item, cat, 1);        /* an added item */
    EXPECT(LSREC_E_UNKNOWN_ITEM, lsrec_catalog_restore_item, cat, 424242);
    CHECK(lsrec_catalog_contains(cat, ID(0)) == 0);
    OK(lsrec_catalog_restore_item, cat, ID(0));
    CHECK(lsrec_catalog_contains(cat, ID(0)) == 1);

    /* item_ids / item_vector */
    int64_t few[4];
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_item_ids, NULL, few, 4, NULL);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_item_ids, cat, NULL, 400, NULL);
    EXPECT(LSREC_E_BUFFER_TOO_SMALL, lsrec_catalog_item_ids, cat, few, 4, NULL);
    float v[DIM], b;
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_item_vector, NULL, 1, v, DIM, &b);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_item_vector, cat, 1, NULL, DIM, &b);
    EXPECT(LSREC_E_BUFFER_TOO_SMALL, lsrec_catalog_item_vector, cat, 1, v, DIM - 1, &b);
    EXPECT(LSREC_E_UNKNOWN_ITEM, lsrec_catalog_item_vector, cat, 2, v, DIM, &b);
    OK(lsrec_catalog_item_vector, cat, 1, v, DIM, NULL);

    /* scoring, top-k, explain */
    lsrec_state *other = user(textless, 0, 0);
    CHECK(other != NULL);
    int64_t items[2] = {1, ID(5)};
    float sc[2] = {-7, -7};
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_score_items, NULL, s, -1, items, 2, sc);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_score_items, cat, NULL, -1, items, 2, sc);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_score_items, cat, s, -1, NULL, 2, sc);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_score_items, cat, s, -1, items, 2, NULL);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_score_items, cat, s, -5, items, 2, sc);
    EXPECT(LSREC_E_MODEL_MISMATCH, lsrec_catalog_score_items, cat, other, -1, items, 2, sc);
    int64_t unknown[2] = {ID(5), 2};
    EXPECT(LSREC_E_UNKNOWN_ITEM, lsrec_catalog_score_items, cat, s, -1, unknown, 2, sc);
    CHECK(strstr(lsrec_last_error(), "items[1]") != NULL);
    CHECK(sc[0] == -7 && sc[1] == -7); /* nothing written */
    OK(lsrec_catalog_score_items, cat, s, -1, NULL, 0, NULL);

    int64_t top[3], ex[1] = {1};
    float tsc[3];
    size_t n_out = 99;
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_topk, NULL, s, -1, 3, 0, NULL, 0, top, tsc, &n_out);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_topk, cat, NULL, -1, 3, 0, NULL, 0, top, tsc, &n_out);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_topk, cat, s, -1, 0, 0, NULL, 0, top, tsc, &n_out);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_topk, cat, s, -1, 3, 2u, NULL, 0, top, tsc, &n_out);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_topk, cat, s, -1, 3, 0, NULL, 1, top, tsc, &n_out);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_topk, cat, s, -1, 3, 0, ex, 1, NULL, tsc, &n_out);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_topk, cat, s, -9, 3, 0, ex, 1, top, tsc, &n_out);
    EXPECT(LSREC_E_MODEL_MISMATCH, lsrec_catalog_topk, cat, other, -1, 3, 0, NULL, 0, top, tsc, &n_out);
    CHECK(n_out == 99);
    OK(lsrec_catalog_topk, cat, s, -1, 3, LSREC_EXCLUDE_SEEN, ex, 1, top, NULL, NULL); /* optional outputs */

    int64_t hist[3];
    float w[3];
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_explain, NULL, s, 1, 3, hist, w, NULL);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_explain, cat, NULL, 1, 3, hist, w, NULL);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_explain, cat, s, 1, 0, hist, w, NULL);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_explain, cat, s, 1, 3, NULL, w, NULL);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_explain, cat, s, 1, 3, hist, NULL, NULL);
    EXPECT(LSREC_E_UNKNOWN_ITEM, lsrec_catalog_explain, cat, s, 2, 3, hist, w, NULL);
    EXPECT(LSREC_E_MODEL_MISMATCH, lsrec_catalog_explain, cat, other, 1, 3, hist, w, NULL);

    /* events: model items (removed ones too) go in, unknown ids are refused, state unchanged
     * (events on added items: test_added_events) */
    int64_t before = lsrec_state_n_events(s);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_state_update, NULL, s, ID(1), T0 + 10000);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_state_update, cat, NULL, ID(1), T0 + 10000);
    EXPECT(LSREC_E_UNKNOWN_ITEM, lsrec_catalog_state_update, cat, s, 424242, T0 + 10000);
    CHECK(strstr(lsrec_last_error(), "not in the catalogue") != NULL);
    EXPECT(LSREC_E_OUT_OF_ORDER, lsrec_catalog_state_update, cat, s, ID(1), T0 - 10);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_catalog_state_update, cat, s, ID(1), -7);
    EXPECT(LSREC_E_MODEL_MISMATCH, lsrec_catalog_state_update, cat, other, ID(1), T0);
    CHECK(lsrec_state_n_events(s) == before);
    OK(lsrec_catalog_remove_item, cat, ID(2));
    OK(lsrec_catalog_state_update, cat, s, ID(2), T0 + 10000);
    OK(lsrec_catalog_state_update, cat, s, ID(3), LSREC_TS_UNKNOWN);
    CHECK(lsrec_state_n_events(s) == before + 2);
    /* the same events through the model give the same state (bytes of the blob) */
    lsrec_state *direct = user(m, 1, 5);
    OK(lsrec_state_update, m, direct, ID(2), T0 + 10000);
    OK(lsrec_state_update, m, direct, ID(3), LSREC_TS_UNKNOWN);
    unsigned char b1[4096], b2[4096];
    size_t l1 = 0, l2 = 0;
    OK(lsrec_state_serialize, s, b1, sizeof b1, &l1);
    OK(lsrec_state_serialize, direct, b2, sizeof b2, &l2);
    CHECK(l1 == l2 && memcmp(b1, b2, l1) == 0);

    lsrec_catalog_free(NULL);
    lsrec_catalog_free(plain);
    lsrec_catalog_free(cat);
    lsrec_state_free(direct);
    lsrec_state_free(other);
    lsrec_state_free(s);
}

/* ---- Events on added items: the state keeps the item's id and vector ----------------------- */

/* Re-seals an edited blob (its CRC32C), so the decoder's structural checks are reached. */
static void reseal(unsigned char *b, size_t len) {
    uint32_t crc = crc32c(b, len - 4);
    for (int i = 0; i < 4; i++) b[len - 4 + i] = (unsigned char)(crc >> (8 * i));
}

static int contains_id(const int64_t *ids, size_t n, int64_t id) {
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id) return 1;
    return 0;
}

static void test_added_events(const lsrec_model *m) {
    section("events on added items (state-blob version 2)");
    const int64_t A = 5100000, B = 5100001;
    lsrec_catalog *cat = NULL;
    OK(lsrec_catalog_new, m, &cat);
    float t[TEXT_DIM];
    text_of(11, t);
    OK(lsrec_catalog_add_item, cat, A, t, TEXT_DIM);
    text_of(12, t);
    OK(lsrec_catalog_add_item, cat, B, t, TEXT_DIM);
    lsrec_state *s = user(m, 2, 8), *plain = NULL;
    CHECK(s != NULL);
    OK(lsrec_state_clone, s, &plain);
    unsigned char b0[4096], b1[4096], b2[4096];
    size_t l0 = 0, l1 = 0, l2 = 0;
    OK(lsrec_state_serialize, s, b0, sizeof b0, &l0);
    CHECK(b0[4] == 1); /* model items only: version 1, as before */

    /* the event goes in and changes the state like any event */
    OK(lsrec_catalog_state_update, cat, s, A, T0 + 5000);
    CHECK(lsrec_state_n_events(s) == 9);
    OK(lsrec_state_serialize, s, b1, sizeof b1, &l1);
    CHECK(b1[4] == 2);
    CHECK(l1 >= l0 + 4 + 8 + 4 * DIM); /* the table: count, id, d floats */
    float u0[DIM], u1[DIM];
    OK(lsrec_user_vector, m, plain, LSREC_NOW_LAST_EVENT, u0, DIM);
    OK(lsrec_user_vector, m, s, LSREC_NOW_LAST_EVENT, u1, DIM);
    CHECK(memcmp(u0, u1, sizeof u0) != 0);

    /* the bare model: refuses the id, but every state_* / scoring call works on the state */
    EXPECT(LSREC_E_UNKNOWN_ITEM, lsrec_state_update, m, s, A, T0 + 6000);
    int64_t many[2] = {ID(1), A}, times[2] = {T0 + 6000, T0 + 6001};
    EXPECT(LSREC_E_UNKNOWN_ITEM, lsrec_state_update_many, m, s, many, times, 2);
    OK(lsrec_state_serialize, s, b2, sizeof b2, &l2);
    CHECK(l2 == l1 && memcmp(b1, b2, l1) == 0); /* unchanged */
    int64_t top[N_MODEL + 8];
    float sc[N_MODEL + 8];
    size_t n_out = 0;
    OK(lsrec_topk, m, s, LSREC_NOW_LAST_EVENT, 10, LSREC_EXCLUDE_SEEN, NULL, 0, top, sc, &n_out);
    CHECK(n_out == 10 && !contains_id(top, n_out, A));
    static float all[N_MODEL];
    OK(lsrec_score, m, s, LSREC_NOW_LAST_EVENT, all, N_MODEL);
    const lsrec_state *pair[2] = {s, plain};
    int64_t btop[20];
    OK(lsrec_topk_batch, m, pair, 2, LSREC_NOW_LAST_EVENT, 10, LSREC_EXCLUDE_SEEN, btop, NULL);
    CHECK(memcmp(btop, top, 10 * sizeof *top) == 0);
    int64_t hist[32];
    float w[32];
    OK(lsrec_explain, m, s, ID(7), 32, hist, w, &n_out);
    CHECK(contains_id(hist, n_out, A)); /* the bare model names the added item by its id */
    OK(lsrec_catalog_explain, cat, s, ID(7), 32, hist, w, &n_out);
    CHECK(contains_id(hist, n_out, A));

    /* catalogue: exclusion of seen items covers the added item, the other added one stays */
    size_t n_cat = (size_t)lsrec_catalog_n_items(cat);
    OK(lsrec_catalog_topk, cat, s, LSREC_NOW_LAST_EVENT, n_cat, 0, NULL, 0, top, sc, &n_out);
    CHECK(n_out == n_cat && contains_id(top, n_out, A));
    OK(lsrec_catalog_topk, cat, s, LSREC_NOW_LAST_EVENT, n_cat, LSREC_EXCLUDE_SEEN, NULL, 0, top, sc, &n_out);
    CHECK(!contains_id(top, n_out, A) && contains_id(top, n_out, B));

    /* the blob round trip is exact: same bytes, same scores */
    lsrec_state *back = NULL;
    OK(lsrec_state_deserialize, m, b1, l1, &back);
    OK(lsrec_state_serialize, back, b2, sizeof b2, &l2);
    CHECK(l2 == l1 && memcmp(b1, b2, l1) == 0);
    int64_t ask[3] = {A, B, ID(9)};
    float s1[3], s2[3];
    OK(lsrec_catalog_score_items, cat, s, LSREC_NOW_LAST_EVENT, ask, 3, s1);
    OK(lsrec_catalog_score_items, cat, back, LSREC_NOW_LAST_EVENT, ask, 3, s2);
    CHECK(memcmp(s1, s2, sizeof s1) == 0);

    /* removing the item afterwards: the state keeps its copy; new events on it are refused */
    OK(lsrec_catalog_remove_item, cat, A);
    OK(lsrec_state_serialize, s, b2, sizeof b2, &l2);
    CHECK(l2 == l1 && memcmp(b1, b2, l1) == 0);
    OK(lsrec_catalog_explain, cat, s, ID(7), 32, hist, w, &n_out);
    CHECK(contains_id(hist, n_out, A));
    OK(lsrec_catalog_topk, cat, s, LSREC_NOW_LAST_EVENT, n_cat, 0, NULL, 0, top, sc, &n_out);
    CHECK(n_out == n_cat - 1 && !contains_id(top, n_out, A));
    EXPECT(LSREC_E_UNKNOWN_ITEM, lsrec_catalog_state_update, cat, s, A, T0 + 7000);
    CHECK(lsrec_state_n_events(s) == 9);

    /* rebase onto a model without the id skips the event */
    lsrec_state *moved = NULL;
    size_t skipped = 99;
    OK(lsrec_state_rebase, m, s, &moved, &skipped);
    CHECK(skipped == 1);
    lsrec_state_free(moved);

    /* hostile version-2 blobs: every truncation and every bit flip refused; resealed edits of
     * the table get LSREC_E_FORMAT (header 56 bytes + h, c; then u32 count, i64 id, d f32) */
    lsrec_state *o = NULL;
    unsigned char bad[4096];
    int refused = 1;
    for (size_t cut = 0; cut < l1; cut++) refused &= lsrec_state_deserialize(m, b1, cut, &o) != LSREC_OK && o == NULL;
    for (size_t i = 0; i < l1; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(bad, b1, l1);
            bad[i] ^= (unsigned char)(1u << bit);
            refused &= lsrec_state_deserialize(m, bad, l1, &o) != LSREC_OK && o == NULL;
        }
    CHECK(refused);
    const size_t table = 56 + 8 * DIM;
    CHECK(b1[table] == 1 && b1[table + 1] == 0);
    memcpy(bad, b1, l1);
    for (int i = 0; i < 8; i++) bad[table + 4 + i] = (unsigned char)((uint64_t)ID(4) >> (8 * i)); /* a model id */
    reseal(bad, l1);
    EXPECT(LSREC_E_FORMAT, lsrec_state_deserialize, m, bad, l1, &o);
    memcpy(bad, b1, l1);
    memset(bad + table + 4, 0xFF, 8); /* id -1 */
    reseal(bad, l1);
    EXPECT(LSREC_E_FORMAT, lsrec_state_deserialize, m, bad, l1, &o);
    memcpy(bad, b1, l1);
    const unsigned char nan_bits[4] = {0x00, 0x00, 0xC0, 0x7F};
    memcpy(bad + table + 12, nan_bits, 4); /* NaN in the vector */
    reseal(bad, l1);
    EXPECT(LSREC_E_FORMAT, lsrec_state_deserialize, m, bad, l1, &o);
    memcpy(bad, b1, l1);
    bad[table] = 0xFF; /* more entries than held events */
    reseal(bad, l1);
    EXPECT(LSREC_E_FORMAT, lsrec_state_deserialize, m, bad, l1, &o);
    CHECK(o == NULL);

    /* L = 20 more model events push the added one out of the window: version 1 again */
    for (int e = 0; e < 20; e++) OK(lsrec_catalog_state_update, cat, s, ID(e), T0 + 8000 + e);
    OK(lsrec_state_serialize, s, b2, sizeof b2, &l2);
    CHECK(b2[4] == 1);

    lsrec_state_free(back);
    lsrec_state_free(plain);
    lsrec_state_free(s);
    lsrec_catalog_free(cat);
}

/* An emptied catalogue: no ids, top-k all padding; restoring one item brings it back. */
static void test_empty(const lsrec_model *m) {
    section("empty catalogue");
    lsrec_catalog *cat = NULL;
    OK(lsrec_catalog_new, m, &cat);
    for (int i = 0; i < N_MODEL; i++) OK(lsrec_catalog_remove_item, cat, ID(i));
    CHECK(lsrec_catalog_n_items(cat) == 0);
    size_t n = 99;
    OK(lsrec_catalog_item_ids, cat, NULL, 0, &n);
    CHECK(n == 0);
    lsrec_state *s = user(m, 2, 3);
    int64_t top[3];
    float sc[3];
    OK(lsrec_catalog_topk, cat, s, LSREC_NOW_LAST_EVENT, 3, 0, NULL, 0, top, sc, &n);
    CHECK(n == 0 && top[0] == -1 && top[2] == -1 && sc[1] == -INFINITY);
    OK(lsrec_catalog_restore_item, cat, ID(7));
    OK(lsrec_catalog_topk, cat, s, LSREC_NOW_LAST_EVENT, 3, 0, NULL, 0, top, sc, &n);
    CHECK(n == 1 && top[0] == ID(7) && top[1] == -1);
    lsrec_state_free(s);
    lsrec_catalog_free(cat);
}

/* ---- Results against a brute force in double ------------------------------------------------ */

typedef struct {
    int64_t id;
    double score;
} scored;

static int by_score_desc(const void *a, const void *b) {
    double x = ((const scored *)a)->score, y = ((const scored *)b)->score;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Every catalogue item's score u . e + b in double, from lsrec_user_vector and the catalogue's
 * item vectors; returns the count (sorted, best first). */
static size_t brute_force(const lsrec_catalog *cat, const lsrec_model *m, const lsrec_state *s, scored *out, size_t cap) {
    float u[DIM], e[DIM], b;
    int64_t ids[512];
    size_t n = 0;
    if (lsrec_user_vector(m, s, LSREC_NOW_LAST_EVENT, u, DIM) != LSREC_OK) return 0;
    if (lsrec_catalog_item_ids(cat, ids, 512, &n) != LSREC_OK || n > cap) return 0;
    for (size_t i = 0; i < n; i++) {
        if (lsrec_catalog_item_vector(cat, ids[i], e, DIM, &b) != LSREC_OK) return 0;
        double x = b;
        for (int j = 0; j < DIM; j++) x += (double)u[j] * e[j];
        out[i] = (scored){ids[i], x};
    }
    qsort(out, n, sizeof *out, by_score_desc);
    return n;
}

static double score_of(const scored *ref, size_t n, int64_t id) {
    for (size_t i = 0; i < n; i++)
        if (ref[i].id == id) return ref[i].score;
    return NAN;
}

static void test_results(lsrec_model *m) {
    section("results == brute force; removed never appear; explain; lifetime");
    lsrec_catalog *cat = NULL;
    OK(lsrec_catalog_new, m, &cat);
    float t[TEXT_DIM];
    for (int a = 0; a < 20; a++) {
        text_of(a, t);
        OK(lsrec_catalog_add_item, cat, 5000000 + a, t, TEXT_DIM);
    }
    for (int i = 0; i < 30; i++) OK(lsrec_catalog_remove_item, cat, ID(i * 10));
    OK(lsrec_catalog_remove_item, cat, 5000007);
    const size_t n_cat = N_MODEL + 20 - 31;
    CHECK(lsrec_catalog_n_items(cat) == (int64_t)n_cat);
    lsrec_state *s = user(m, 3, 12);
    CHECK(s != NULL);

    static scored ref[512];
    size_t n = brute_force(cat, m, s, ref, 512);
    CHECK(n == n_cat);
    const size_t k = n_cat + 4;
    int64_t top[N_MODEL + 40];
    float sc[N_MODEL + 40];
    size_t n_out = 0;
    OK(lsrec_catalog_topk, cat, s, LSREC_NOW_LAST_EVENT, k, 0, NULL, 0, top, sc, &n_out);
    CHECK(n_out == n_cat);
    int added_seen = 0, order_ok = 1, scores_ok = 1, removed_seen = 0;
    for (size_t i = 0; i < n_out; i++) {
        double r = score_of(ref, n, top[i]);
        scores_ok &= fabs(r - sc[i]) <= 1e-4 * fmax(1, fabs(r));
        /* rank i in float must agree with the double ranking up to near-ties */
        order_ok &= fabs(ref[i].score - r) <= 1e-4 * fmax(1, fabs(r));
        if (i > 0) order_ok &= sc[i - 1] >= sc[i];
        added_seen += top[i] >= 5000000;
        removed_seen += top[i] == 5000007 || (top[i] >= 1000 && top[i] < 3100 && (top[i] - 1000) % 70 == 0);
    }
    CHECK(scores_ok);
    CHECK(order_ok);
    CHECK(added_seen == 19);
    CHECK(removed_seen == 0);
    for (size_t i = n_out; i < k; i++) CHECK(top[i] == -1 && sc[i] == -INFINITY);

    /* score_items of an added and a model item == u . e + b */
    int64_t items[2] = {5000003, ID(11)};
    float got[2];
    OK(lsrec_catalog_score_items, cat, s, LSREC_NOW_LAST_EVENT, items, 2, got);
    for (int i = 0; i < 2; i++) CHECK(fabs(got[i] - score_of(ref, n, items[i])) <= 1e-4);
    float plain_score;
    OK(lsrec_score_items, m, s, LSREC_NOW_LAST_EVENT, &items[1], 1, &plain_score);
    CHECK(plain_score == got[1]);

    /* exclusions: EXCLUDE_SEEN drops held model items; exclude drops named ones */
    int64_t ex[2] = {top[0], top[1]};
    int64_t top2[5];
    OK(lsrec_catalog_topk, cat, s, LSREC_NOW_LAST_EVENT, 5, 0, ex, 2, top2, NULL, &n_out);
    CHECK(n_out == 5 && top2[0] == top[2] && top2[1] == top[3]);

    /* explain: a model item via the catalogue == lsrec_explain; an added item names history items */
    int64_t h1[4], h2[4];
    float w1[4], w2[4];
    size_t n1 = 0, n2 = 0;
    OK(lsrec_catalog_explain, cat, s, ID(11), 4, h1, w1, &n1);
    OK(lsrec_explain, m, s, ID(11), 4, h2, w2, &n2);
    CHECK(n1 == n2 && memcmp(h1, h2, sizeof h1) == 0 && memcmp(w1, w2, sizeof w1) == 0);
    OK(lsrec_catalog_explain, cat, s, 5000003, 4, h1, w1, &n1);
    CHECK(n1 > 0 && n1 <= 4);
    for (size_t i = 0; i < n1; i++) CHECK(h1[i] >= 1000 && h1[i] < ID(N_MODEL) && (h1[i] - 1000) % 7 == 0);
    for (size_t i = 1; i < n1; i++) CHECK(w1[i - 1] >= w1[i]);
    for (size_t i = n1; i < 4; i++) CHECK(h1[i] == -1 && w1[i] == 0);

    /* the catalogue (and the state) keep the model alive after lsrec_model_free */
    lsrec_model_free(m);
    OK(lsrec_catalog_topk, cat, s, LSREC_NOW_LAST_EVENT, 5, 0, NULL, 0, top2, NULL, &n_out);
    CHECK(n_out == 5 && top2[0] == top[0]);
    text_of(99, t);
    OK(lsrec_catalog_add_item, cat, 6000000, t, TEXT_DIM);
    lsrec_state_free(s);
    lsrec_catalog_free(cat);
}

/* ---- Readers and writers on one catalogue --------------------------------------------------- */

#define N_READERS 4
#define N_WRITERS 2
#define WRITER_BASE(w) ((int64_t)10000000 * ((w) + 1))

typedef struct {
    lsrec_catalog *cat;
    const lsrec_model *model;
    int index, rounds;
    atomic_long *added_upto; /* per writer: ids below WRITER_BASE + value may have been added */
    atomic_int *writers_done;
    int bad, errors, reads, added_hits; /* added_hits: results holding an added item */
    int64_t min_n, max_n;               /* catalogue sizes a reader saw */
} thread_arg;

static int plausible(const thread_arg *a, int64_t id) {
    if (id >= 1000 && id < ID(N_MODEL) && (id - 1000) % 7 == 0) return 1;
    for (int w = 0; w < N_WRITERS; w++)
        if (id >= WRITER_BASE(w) && id < WRITER_BASE(w) + atomic_load(&a->added_upto[w])) return 1;
    return 0;
}

static void *reader(void *p) {
    thread_arg *a = p;
    lsrec_state *s = user(a->model, a->index, 8);
    if (!s) { a->errors++; return NULL; }
    /* k above the model's 300 items: every result also ranks added items (when there are any) */
    enum { K = 400 };
    int64_t top[K];
    float sc[K];
    for (int r = 0; r < a->rounds || atomic_load(a->writers_done) < N_WRITERS; r++) {
        size_t n = 0;
        if (lsrec_catalog_topk(a->cat, s, LSREC_NOW_LAST_EVENT, K, LSREC_EXCLUDE_SEEN, NULL, 0, top, sc, &n) != LSREC_OK) {
            a->errors++;
            continue;
        }
        a->reads++;
        if (n == 0) { a->bad++; continue; } /* the model's items minus at most 2 hidden ones */
        int hit = 0;
        for (size_t i = 0; i < n; i++) hit |= top[i] >= WRITER_BASE(0);
        a->added_hits += hit;
        for (size_t i = 0; i < K; i++) {
            if (i < n) a->bad += !plausible(a, top[i]) || (i > 0 && sc[i - 1] < sc[i]);
            else a->bad += top[i] != -1;
        }
        /* a concurrent remove may make an id unknown; any other failure is a bug */
        float x;
        lsrec_status st = lsrec_catalog_score_items(a->cat, s, LSREC_NOW_LAST_EVENT, &top[(size_t)r % n], 1, &x);
        a->errors += st != LSREC_OK && st != LSREC_E_UNKNOWN_ITEM;
        int64_t h[3];
        float w[3];
        st = lsrec_catalog_explain(a->cat, s, top[(size_t)(r * 13 + 1) % n], 3, h, w, NULL);
        a->errors += st != LSREC_OK && st != LSREC_E_UNKNOWN_ITEM;
        int64_t count = lsrec_catalog_n_items(a->cat);
        a->bad += count < 0;
        if (count < a->min_n) a->min_n = count;
        if (count > a->max_n) a->max_n = count;
    }
    lsrec_state_free(s);
    return NULL;
}

static void *writer(void *p) {
    thread_arg *a = p;
    const int w = a->index;
    float t[TEXT_DIM];
    for (int r = 0; r < a->rounds; r++) {
        int64_t id = WRITER_BASE(w) + r;
        text_of(w * 100000 + r, t);
        atomic_store(&a->added_upto[w], (long)r + 1); /* before: a reader may see it right away */
        a->errors += lsrec_catalog_add_item(a->cat, id, t, TEXT_DIM) != LSREC_OK;
        if (r % 3 == 0) a->errors += lsrec_catalog_remove_item(a->cat, id) != LSREC_OK;
        /* hide and restore model items too (writer w owns items with index % 2 == w) */
        int64_t model_id = ID((r * 2 + w) % N_MODEL);
        if (r % 2 == 0) {
            a->errors += lsrec_catalog_remove_item(a->cat, model_id) != LSREC_OK;
            a->errors += lsrec_catalog_restore_item(a->cat, model_id) != LSREC_OK;
        }
    }
    atomic_fetch_add(a->writers_done, 1);
    return NULL;
}

static void test_stress(const lsrec_model *m, int rounds) {
    section("4 readers (top-k, score, explain) while 2 writers add/remove");
    lsrec_catalog *cat = NULL;
    OK(lsrec_catalog_new, m, &cat);
    atomic_long added_upto[N_WRITERS];
    atomic_int writers_done = 0;
    for (int w = 0; w < N_WRITERS; w++) atomic_init(&added_upto[w], 0);
    pthread_t th[N_READERS + N_WRITERS];
    thread_arg args[N_READERS + N_WRITERS];
    for (int i = 0; i < N_READERS + N_WRITERS; i++) {
        int is_writer = i >= N_READERS;
        args[i] = (thread_arg){.cat = cat, .model = m, .index = is_writer ? i - N_READERS : i, .rounds = rounds,
                               .added_upto = added_upto, .writers_done = &writers_done,
                               .min_n = INT64_MAX, .max_n = 0};
        CHECK(pthread_create(&th[i], NULL, is_writer ? writer : reader, &args[i]) == 0);
    }
    int bad = 0, errors = 0, reads = 0, hits = 0;
    int64_t min_n = INT64_MAX, max_n = 0;
    for (int i = 0; i < N_READERS + N_WRITERS; i++) {
        pthread_join(th[i], NULL);
        bad += args[i].bad;
        errors += args[i].errors;
        reads += args[i].reads;
        if (i < N_READERS) {
            hits += args[i].added_hits;
            if (args[i].min_n < min_n) min_n = args[i].min_n;
            if (args[i].max_n > max_n) max_n = args[i].max_n;
        }
    }
    CHECK(bad == 0);
    CHECK(errors == 0);
    CHECK(reads >= N_READERS * rounds);
    /* Informational (timing-dependent): how much the readers overlapped the writers. */
    printf("   %d reads (%d with an added item), catalogue sizes seen %lld..%lld, %d rounds per writer\n", reads,
           hits, (long long)min_n, (long long)max_n, rounds);
    if (bad || errors) fprintf(stderr, "    %d implausible results, %d unexpected errors\n", bad, errors);
    /* the end state is exactly what the writers left: rounds - ceil(rounds/3) added items each */
    int64_t expected = N_MODEL + N_WRITERS * (rounds - (rounds + 2) / 3);
    CHECK(lsrec_catalog_n_items(cat) == expected);
    lsrec_catalog_free(cat);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: catalog_test MODEL TEXTLESS_MODEL [STRESS_ROUNDS]\n");
        return 2;
    }
    int rounds = argc > 3 ? atoi(argv[3]) : 300;
    lsrec_model *m = NULL, *textless = NULL;
    if (lsrec_model_load(argv[1], &m) != LSREC_OK || lsrec_model_load(argv[2], &textless) != LSREC_OK) {
        fprintf(stderr, "catalog_test: cannot load the models: %s\n", lsrec_last_error());
        return 1;
    }
    char buf[16];
    CHECK(lsrec_model_meta(m, "lsrec.text_dim", buf, sizeof buf) > 0 && atoi(buf) == TEXT_DIM);
    CHECK(lsrec_model_meta(textless, "lsrec.text_dim", buf, sizeof buf) > 0 && atoi(buf) == 0);
    CHECK(lsrec_model_n_items(m) == N_MODEL && lsrec_model_dim(m) == DIM);

    test_errors(m, textless);
    test_empty(m);
    test_added_events(m);
    test_stress(m, rounds);
    test_results(m); /* frees m: it checks the catalogue outlives the model handle */
    lsrec_model_free(textless);

    printf("catalog_test: %d checks, %d failures\n", atomic_load(&n_checks), atomic_load(&n_failures));
    return atomic_load(&n_failures) ? 1 : 0;
}
