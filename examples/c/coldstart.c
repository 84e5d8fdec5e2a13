/*
 * coldstart.c — recommend a movie the model has never seen: embed its title with the text
 * encoder, add it to a catalogue, and rank it for a user, with the "because you watched"
 * explanation. Then the same for a second (contrast) history, to show the new item's rank follows
 * the user's taste rather than being pinned to the top.
 *
 * Usage
 *   coldstart MODEL ENCODER NEW_ID NEW_TEXT HISTORY [CONTRAST] [-t TITLES]
 *
 *   MODEL     a .lsrec model with a text projection (`lsrec train --text-encoder ENCODER`)
 *   ENCODER   the encoder file the model was trained with (`make encoder`:
 *             build/encoder/minilm.lsrec)
 *   NEW_ID    an id the model does not have, e.g. 78499
 *   NEW_TEXT  its text, written like the training text (ML-1M: "Title (year) Genre|Genre"), e.g.
 *             "Toy Story 3 (2010) Animation|Children's|Comedy"
 *   HISTORY   a user's events, oldest first: a file of "item_id unix_ts" lines (as recommend.c
 *             reads), or, if no such file exists, a comma-separated list ITEM[:TIME],... (a list
 *             with no time at all is taken as one event an hour; ITEM:-1 is an unknown time);
 *             items the model does not know are skipped
 *   CONTRAST  a second history, ranked the same way for comparison
 *   TITLES    "item_id<TAB>title" lines for printing names (`lsrec recommend --titles-out`)
 *
 * Build (the Makefile does this: `make examples`, binary in build/bin/coldstart)
 *   cc -std=c11 -Iinclude examples/c/coldstart.c -Lbuild/static -llsrec \
 *      -Wl,-rpath,$PWD/build/static -lpthread -lm -o coldstart
 *
 * The program checks what it prints: the new item's score equals u . e + b computed here in
 * double from lsrec_user_vector and lsrec_catalog_item_vector, and its explanation weights are
 * finite. It exits non-zero if either fails.
 */
#define _POSIX_C_SOURCE 200809L

#define EXAMPLE_NAME "coldstart"
#include "example_util.h" /* CHECK, REQUIRE, events, read_history, feed, titles */
#include "lsrec.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TOP_K 10     /* recommendations shown */
#define EXPLAIN_K 5  /* "because you watched" items for the new item */
#define SHOW_HISTORY 8 /* most recent history items printed */

/* A file if one exists at arg, else a comma-separated ITEM[:TIME] list. A list without any time
 * gets times an hour apart: models trained on timed data (ML-1M) have rarely seen an "unknown"
 * gap, and rank much worse when every gap is unknown. */
static void read_history_arg(const char *arg, events *ev) {
    struct stat st;
    if (stat(arg, &st) == 0 || strcmp(arg, "-") == 0) {
        read_history(arg, ev);
        return;
    }
    char *copy = strdup(arg);
    if (!copy) die("out of memory");
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) parse_event_arg(tok, ev);
    free(copy);
    if (ev->n == 0) {
        fprintf(stderr, "coldstart: '%s' is neither a history file nor a list of item ids\n", arg);
        exit(2);
    }
    int any_time = 0;
    for (size_t i = 0; i < ev->n; i++) any_time |= ev->times[i] != LSREC_TS_UNKNOWN;
    const int64_t t0 = 1700000000; /* 2023-11-14 22:13:20 UTC; only the gaps matter */
    if (!any_time) for (size_t i = 0; i < ev->n; i++) ev->times[i] = t0 + 3600 * (int64_t)i;
}

/* The model's lsrec.text_dim (0 when absent or unreadable). */
static long text_dim_of(const lsrec_model *m) {
    char buf[32];
    if (lsrec_model_meta(m, "lsrec.text_dim", buf, sizeof buf) < 0) return 0;
    return strtol(buf, NULL, 10);
}

/* What one history gives for the new item. */
typedef struct {
    size_t rank;   /* 1-based rank among the recommendable items (seen ones left out) */
    size_t n_rank; /* how many items were ranked */
    float score;
} placement;

static placement rank_new_item(const lsrec_catalog *cat, const lsrec_model *model, const lsrec_state *s,
                               int64_t new_id, const char *label) {
    placement p = {0, 0, 0};

    /* Top 10, as a service would show them, leaving out what the user has just seen. */
    int64_t top[TOP_K];
    float top_scores[TOP_K];
    size_t n_top = 0;
    CHECK(lsrec_catalog_topk(cat, s, LSREC_NOW_LAST_EVENT, TOP_K, LSREC_EXCLUDE_SEEN, NULL, 0, top, top_scores, &n_top));
    printf("top %d for the %s history (seen items left out):\n", TOP_K, label);
    for (size_t r = 0; r < n_top; r++)
        printf("  %2zu. %-8" PRId64 " %8.4f  %s%s\n", r + 1, top[r], top_scores[r], title_of(top[r]),
               top[r] == new_id ? "   <-- NEW (not in training)" : "");

    /* The new item's rank among all of them: the same call with k = the catalogue's size, so
     * exclusions and ties are exactly those of the top 10 above. */
    int64_t n_cat = lsrec_catalog_n_items(cat);
    REQUIRE(n_cat > 0);
    int64_t *all = xmalloc((size_t)n_cat * sizeof *all);
    float *all_scores = xmalloc((size_t)n_cat * sizeof *all_scores);
    CHECK(lsrec_catalog_topk(cat, s, LSREC_NOW_LAST_EVENT, (size_t)n_cat, LSREC_EXCLUDE_SEEN, NULL, 0, all, all_scores,
                             &p.n_rank));
    for (size_t r = 0; r < p.n_rank; r++)
        if (all[r] == new_id) { p.rank = r + 1; p.score = all_scores[r]; }
    REQUIRE(p.rank > 0);
    free(all);
    free(all_scores);
    printf("new item %" PRId64 ": rank %zu of %zu (score %.4f)%s\n", new_id, p.rank, p.n_rank, p.score,
           p.rank <= TOP_K ? ", in the top 10" : "");

    /* Check the score independently: s = u . e + b in double, from the user vector and the
     * item vector the catalogue built from the text (e = P . t, b = median trained bias). */
    int32_t d = lsrec_model_dim(model);
    float *u = xmalloc((size_t)d * sizeof *u), *e = xmalloc((size_t)d * sizeof *e), b = 0;
    CHECK(lsrec_user_vector(model, s, LSREC_NOW_LAST_EVENT, u, (size_t)d));
    CHECK(lsrec_catalog_item_vector(cat, new_id, e, (size_t)d, &b));
    double ref = b;
    for (int32_t j = 0; j < d; j++) ref += (double)u[j] * e[j];
    REQUIRE(fabs(ref - p.score) <= 1e-4 * (1 + fabs(ref)));
    free(u);
    free(e);

    /* Why: the history items whose long-term attention contributed most to the new item's score. */
    int64_t why[EXPLAIN_K];
    float weight[EXPLAIN_K];
    size_t n_why = 0;
    CHECK(lsrec_catalog_explain(cat, s, new_id, EXPLAIN_K, why, weight, &n_why));
    if (n_why > 0) printf("  because you watched:\n");
    for (size_t j = 0; j < n_why; j++) {
        REQUIRE(isfinite(weight[j]));
        printf("    %-8" PRId64 " %+.4f  %s\n", why[j], weight[j], title_of(why[j]));
    }
    return p;
}

static lsrec_state *user_from(const lsrec_model *model, const char *arg, const char *label) {
    events ev = {0};
    read_history_arg(arg, &ev);
    lsrec_state *s = NULL;
    CHECK(lsrec_state_new(model, &s));
    feed(model, s, &ev);
    printf("\n== %s history: %" PRId64 " events; the most recent:\n", label, lsrec_state_n_events(s));
    for (size_t i = ev.n > SHOW_HISTORY ? ev.n - SHOW_HISTORY : 0; i < ev.n; i++)
        printf("  %-8" PRId64 " %s\n", ev.items[i], title_of(ev.items[i]));
    events_free(&ev);
    return s;
}

static void usage(void) {
    fprintf(stderr, "usage: coldstart MODEL ENCODER NEW_ID NEW_TEXT HISTORY [CONTRAST] [-t TITLES]\n");
    exit(2);
}

int main(int argc, char **argv) {
    /* Arguments: positional ones, and -t TITLES anywhere after them. */
    const char *pos[6] = {0};
    int n_pos = 0;
    const char *titles_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) titles_path = argv[++i];
        else if (n_pos < 6) pos[n_pos++] = argv[i];
        else usage();
    }
    if (n_pos < 5) usage();
    const char *model_path = pos[0], *encoder_path = pos[1], *new_text = pos[3];
    char *end;
    int64_t new_id;
    if (!parse_int64(pos[2], &end, &new_id) || *end != '\0') usage();

    if (lsrec_abi_version() != LSREC_ABI_VERSION) {
        fprintf(stderr, "coldstart: liblsrec ABI %u, header ABI %u\n", lsrec_abi_version(), LSREC_ABI_VERSION);
        return 1;
    }
    if (titles_path) read_titles(titles_path);

    /* 1. The model and the encoder that made its item text. */
    lsrec_model *model = NULL;
    CHECK(lsrec_model_load(model_path, &model));
    lsrec_encoder *enc = NULL;
    CHECK(lsrec_encoder_load(encoder_path, &enc));
    long k = text_dim_of(model);
    int32_t enc_dim = lsrec_encoder_dim(enc);
    printf("model %s: %" PRId64 " items, dim %" PRId32 ", text_dim %ld; encoder %s: dim %" PRId32 "\n", model_path,
           lsrec_model_n_items(model), lsrec_model_dim(model), k, encoder_path, enc_dim);
    if (k != enc_dim) {
        fprintf(stderr, "coldstart: the model's text width (%ld) is not the encoder's (%" PRId32 "): train it with "
                        "`lsrec train --text-encoder %s`\n", k, enc_dim, encoder_path);
        return 1;
    }

    /* 2. A catalogue over the model, and the new item in it: its text embedded by the encoder.
     *    No retraining; the model itself is not changed. */
    lsrec_catalog *cat = NULL;
    CHECK(lsrec_catalog_new(model, &cat));
    float *vec = xmalloc((size_t)enc_dim * sizeof *vec);
    CHECK(lsrec_encode_text(enc, new_text, vec, (size_t)enc_dim));
    CHECK(lsrec_catalog_add_item(cat, new_id, vec, (size_t)enc_dim));
    free(vec);
    titles_add(new_id, new_text);
    printf("added item %" PRId64 " \"%s\": the catalogue now has %" PRId64 " items\n", new_id, new_text,
           lsrec_catalog_n_items(cat));

    /* 3. The user, and (optionally) a contrast user, ranked over the catalogue. */
    lsrec_state *user = user_from(model, pos[4], "user's");
    placement p = rank_new_item(cat, model, user, new_id, "user's");
    if (n_pos > 5) {
        lsrec_state *other = user_from(model, pos[5], "contrast");
        placement q = rank_new_item(cat, model, other, new_id, "contrast");
        printf("\nsummary: item %" PRId64 " \"%s\" ranks %zu of %zu for the user's history and %zu of %zu for the "
               "contrast history\n", new_id, new_text, p.rank, p.n_rank, q.rank, q.n_rank);
        lsrec_state_free(other);
    }

    lsrec_state_free(user);
    lsrec_catalog_free(cat);
    lsrec_encoder_free(enc);
    lsrec_model_free(model);
    titles_free();
    return 0;
}
