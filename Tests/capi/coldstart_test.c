/*
 * coldstart_test.c — the cold-start flow of examples/c/coldstart.c, with assertions, on a small
 * model trained at test time by `lsrec train --text-encoder` on synthetic data
 * (Tests/capi/coldstart_test.sh makes it):
 *
 *   coldstart_test MODEL ENCODER ITEM_TEXT
 *
 * ITEM_TEXT is the `lsrec synth --item-text` file: "id<TAB>item ID cluster C word word". For every
 * cluster C a new item "item NEW cluster C word word" (C's text with an id the model never saw) is
 * embedded with the encoder and added to a catalogue; a user whose history is C's items, and users
 * of the other clusters, rank it. Checks:
 *   - taste: the new item of cluster C ranks better for C's user than for the median other user,
 *     for most clusters, and on average in the top quarter for its own cluster's user;
 *   - it ranks among its cluster: for C's user it beats most items of other clusters;
 *   - scores: the catalogue's score is u . e + b computed here in double, b is the median trained
 *     bias, and e is linear in the text vector (e = P . t: the sum of two texts gives e1 + e2);
 *   - explanation (lsrec_catalog_explain with k >= the history): one entry per distinct history
 *     item, all history items, finite, largest first; the weights are linear in the text vector;
 *     with lsrec.fusion = long they sum to u . e (MODEL.md: the long-term part of the score is
 *     split exactly over the history, and with fusion long u is that part).
 * Prints one line per failed check and a summary; exits 1 on failure.
 */
#define _POSIX_C_SOURCE 200809L

#include "lsrec.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_checks, n_failures;

static void check_(int ok, const char *what, int line) {
    n_checks++;
    if (!ok) {
        n_failures++;
        fprintf(stderr, "coldstart_test.c:%d: check failed: %s\n", line, what);
    }
}
#define CHECK(cond) check_(!!(cond), #cond, __LINE__)

static void must_(lsrec_status st, const char *call, int line) {
    if (st != LSREC_OK) {
        fprintf(stderr, "coldstart_test.c:%d: %s: %s: %s\n", line, call, lsrec_status_str(st), lsrec_last_error());
        exit(1);
    }
}
#define MUST(call) must_((call), #call, __LINE__)

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    if (!p) { fprintf(stderr, "coldstart_test: out of memory\n"); exit(1); }
    return p;
}

#define MAX_CLUSTERS 64
#define HISTORY 10             /* events per test user */
#define NEW_ID(c) ((int64_t)900000 + (c))
#define SUM_ID ((int64_t)990000)
#define T0 ((int64_t)1700000000)

/* The synthetic item text: ids, texts and clusters. */
typedef struct {
    int64_t id;
    int cluster;
    char text[160];
} item_text;

static size_t read_items(const char *path, item_text **out) {
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(1); }
    size_t n = 0, cap = 256;
    item_text *items = xcalloc(cap, sizeof *items);
    char line[256];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        long long id, same;
        int cluster;
        if (n == 0 && strncmp(line, "item_id\t", 8) == 0) continue; /* the header */
        if (sscanf(line, "%lld", &id) != 1 || sscanf(tab + 1, "item %lld cluster %d", &same, &cluster) != 2 ||
            same != id || cluster < 0 || cluster >= MAX_CLUSTERS) {
            fprintf(stderr, "coldstart_test: %s: unexpected line \"%s\"\n", path, line);
            exit(1);
        }
        if (n == cap) {
            item_text *bigger = realloc(items, 2 * cap * sizeof *items);
            if (!bigger) { fprintf(stderr, "coldstart_test: out of memory\n"); exit(1); }
            items = bigger;
            cap *= 2;
        }
        items[n].id = id;
        items[n].cluster = cluster;
        snprintf(items[n].text, sizeof items[n].text, "%s", tab + 1);
        n++;
    }
    fclose(f);
    *out = items;
    return n;
}

static double dot(const float *a, const float *b, int n) {
    double s = 0;
    for (int j = 0; j < n; j++) s += (double)a[j] * b[j];
    return s;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Rank (1-based) of id among the catalogue's items for s, seen items left out, as lsrec_catalog_topk
 * orders them; 0 if absent. */
static size_t rank_of(const lsrec_catalog *cat, const lsrec_state *s, int64_t id, int64_t *buf_ids, float *buf_scores,
                      size_t n_cat, size_t *n_ranked) {
    MUST(lsrec_catalog_topk(cat, s, LSREC_NOW_LAST_EVENT, n_cat, LSREC_EXCLUDE_SEEN, NULL, 0, buf_ids, buf_scores,
                            n_ranked));
    for (size_t r = 0; r < *n_ranked; r++) if (buf_ids[r] == id) return r + 1;
    return 0;
}

/* Sum of a full explanation (k large enough for every held item) of id; also checks its shape. */
static double explain_sum(const lsrec_catalog *cat, const lsrec_state *s, int64_t id, const int64_t *history,
                          size_t n_history, size_t n_distinct) {
    int64_t why[2 * HISTORY];
    float w[2 * HISTORY];
    size_t n = 0;
    MUST(lsrec_catalog_explain(cat, s, id, 2 * HISTORY, why, w, &n));
    CHECK(n == n_distinct);
    double sum = 0;
    for (size_t j = 0; j < n; j++) {
        CHECK(isfinite(w[j]));
        if (j > 0) CHECK(w[j] <= w[j - 1]);
        int in_history = 0;
        for (size_t i = 0; i < n_history; i++) in_history |= history[i] == why[j];
        CHECK(in_history);
        sum += w[j];
    }
    for (size_t j = n; j < 2 * HISTORY; j++) CHECK(why[j] == -1 && w[j] == 0);
    return sum;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: coldstart_test MODEL ENCODER ITEM_TEXT\n");
        return 2;
    }
    item_text *items = NULL;
    size_t n_items = read_items(argv[3], &items);

    lsrec_model *model = NULL;
    MUST(lsrec_model_load(argv[1], &model));
    lsrec_encoder *enc = NULL;
    MUST(lsrec_encoder_load(argv[2], &enc));
    const int d = lsrec_model_dim(model), k = lsrec_encoder_dim(enc);
    char buf[64];
    CHECK(lsrec_model_meta(model, "lsrec.text_dim", buf, sizeof buf) > 0 && atoi(buf) == k);
    char fusion[32] = "";
    lsrec_model_meta(model, "lsrec.fusion", fusion, sizeof fusion);
    const int fusion_long = strcmp(fusion, "long") == 0;
    printf("coldstart_test: model %s (d %d, fusion %s), %zu item texts\n", argv[1], d, fusion, n_items);

    lsrec_catalog *cat = NULL;
    MUST(lsrec_catalog_new(model, &cat));
    const int64_t n_model = lsrec_model_n_items(model);

    /* Clusters with at least HISTORY items the model knows: each gets a user and a new item. */
    int n_clusters = 0, members[MAX_CLUSTERS] = {0};
    int64_t hist[MAX_CLUSTERS][HISTORY];
    for (size_t i = 0; i < n_items; i++) {
        int c = items[i].cluster;
        if (members[c] < HISTORY && lsrec_catalog_contains(cat, items[i].id) == 1) hist[c][members[c]++] = items[i].id;
        if (c + 1 > n_clusters) n_clusters = c + 1;
    }
    int use[MAX_CLUSTERS], n_use = 0;
    for (int c = 0; c < n_clusters; c++) if (members[c] == HISTORY) use[n_use++] = c;
    CHECK(n_use >= 3);

    /* New items: a cluster member's text with the new id in place of the member's id. */
    float *t = xcalloc((size_t)k, sizeof *t), *t_sum = xcalloc((size_t)k, sizeof *t_sum);
    for (int a = 0; a < n_use; a++) {
        int c = use[a];
        const char *rest = NULL;
        for (size_t i = 0; i < n_items && !rest; i++)
            if (items[i].cluster == c) rest = strstr(items[i].text, " cluster ");
        char text[200];
        snprintf(text, sizeof text, "item %lld%s", (long long)NEW_ID(c), rest);
        MUST(lsrec_encode_text(enc, text, t, (size_t)k));
        MUST(lsrec_catalog_add_item(cat, NEW_ID(c), t, (size_t)k));
        if (a < 2) for (int j = 0; j < k; j++) t_sum[j] += t[j];
    }
    /* e = P . t is linear in t: an item whose text vector is the sum of two others' has e1 + e2. */
    MUST(lsrec_catalog_add_item(cat, SUM_ID, t_sum, (size_t)k));
    float *e0 = xcalloc((size_t)d, sizeof *e0), *e1 = xcalloc((size_t)d, sizeof *e1), *es = xcalloc((size_t)d, sizeof *es);
    float b0, b1, bs;
    MUST(lsrec_catalog_item_vector(cat, NEW_ID(use[0]), e0, (size_t)d, &b0));
    MUST(lsrec_catalog_item_vector(cat, NEW_ID(use[1]), e1, (size_t)d, &b1));
    MUST(lsrec_catalog_item_vector(cat, SUM_ID, es, (size_t)d, &bs));
    double scale = sqrt(dot(e0, e0, d)) + sqrt(dot(e1, e1, d));
    for (int j = 0; j < d; j++) CHECK(fabs((double)es[j] - e0[j] - e1[j]) <= 1e-4 * (1 + scale));

    /* b = the median of the trained biases, for every added item. */
    int64_t *ids = xcalloc((size_t)n_model, sizeof *ids);
    float *biases = xcalloc((size_t)n_model, sizeof *biases);
    MUST(lsrec_model_item_ids(model, ids, (size_t)n_model));
    for (int64_t i = 0; i < n_model; i++) MUST(lsrec_catalog_item_vector(cat, ids[i], e1, (size_t)d, &biases[i]));
    qsort(biases, (size_t)n_model, sizeof *biases, cmp_float);
    double median = n_model % 2 ? biases[n_model / 2] : 0.5 * ((double)biases[n_model / 2 - 1] + biases[n_model / 2]);
    CHECK(fabs(b0 - median) <= 1e-6 * (1 + fabs(median)) && b1 == b0 && bs == b0);

    /* Users: one per cluster, their cluster's first HISTORY items an hour apart. */
    lsrec_state *users[MAX_CLUSTERS];
    for (int a = 0; a < n_use; a++) {
        MUST(lsrec_state_new(model, &users[a]));
        for (int e = 0; e < HISTORY; e++) MUST(lsrec_catalog_state_update(cat, users[a], hist[use[a]][e], T0 + 3600 * e));
    }

    /* Ranks: rank[a][b] = rank of cluster use[a]'s new item for cluster use[b]'s user. */
    size_t n_cat = (size_t)lsrec_catalog_n_items(cat), n_ranked = 0;
    int64_t *top = xcalloc(n_cat, sizeof *top);
    float *top_scores = xcalloc(n_cat, sizeof *top_scores);
    static size_t rank[MAX_CLUSTERS][MAX_CLUSTERS];
    int own_better = 0;
    double own_pct = 0, other_pct = 0;
    float *u = xcalloc((size_t)d, sizeof *u);
    for (int b = 0; b < n_use; b++) {
        MUST(lsrec_user_vector(model, users[b], LSREC_NOW_LAST_EVENT, u, (size_t)d));
        for (int a = 0; a < n_use; a++) {
            rank[a][b] = rank_of(cat, users[b], NEW_ID(use[a]), top, top_scores, n_cat, &n_ranked);
            CHECK(rank[a][b] > 0);
            /* The catalogue's score of the new item is u . e + b. */
            float s, e_b;
            MUST(lsrec_catalog_score_items(cat, users[b], LSREC_NOW_LAST_EVENT, &(int64_t){NEW_ID(use[a])}, 1, &s));
            MUST(lsrec_catalog_item_vector(cat, NEW_ID(use[a]), e0, (size_t)d, &e_b));
            double ref = dot(u, e0, d) + e_b;
            CHECK(fabs(s - ref) <= 1e-4 * (1 + fabs(ref)));
            if (rank[a][b] > 0) CHECK(fabs(top_scores[rank[a][b] - 1] - s) <= 1e-5 * (1 + fabs(s)));

            /* The explanation: every held item once, largest first; linear in e (so in the text);
             * with fusion long its sum is the whole of u . e. */
            double sum = explain_sum(cat, users[b], NEW_ID(use[a]), hist[use[b]], HISTORY, HISTORY);
            if (fusion_long) CHECK(fabs(sum - dot(u, e0, d)) <= 1e-4 * (1 + fabs(sum)));
            if (a < 2 && b == 0) {
                static double first_two;
                first_two += sum;
                if (a == 1) {
                    double sum_both = explain_sum(cat, users[b], SUM_ID, hist[use[b]], HISTORY, HISTORY);
                    CHECK(fabs(sum_both - first_two) <= 1e-4 * (1 + fabs(first_two)));
                }
            }
        }
    }
    printf("rank of each cluster's new item (rows) for each cluster's user (columns), of %zu:\n", n_ranked);
    for (int a = 0; a < n_use; a++) {
        size_t others[MAX_CLUSTERS];
        int n_others = 0;
        printf("  cluster %2d:", use[a]);
        for (int b = 0; b < n_use; b++) {
            printf(" %5zu%s", rank[a][b], a == b ? "*" : " ");
            if (b != a) others[n_others++] = rank[a][b];
        }
        printf("\n");
        /* median rank among the other clusters' users */
        for (int i = 1; i < n_others; i++)
            for (int j = i; j > 0 && others[j] < others[j - 1]; j--) {
                size_t tmp = others[j]; others[j] = others[j - 1]; others[j - 1] = tmp;
            }
        size_t other_median = others[n_others / 2];
        own_better += rank[a][a] < other_median;
        own_pct += (double)rank[a][a] / (double)n_ranked;
        for (int i = 0; i < n_others; i++) other_pct += (double)others[i] / (double)n_ranked / n_others;
    }
    own_pct /= n_use;
    other_pct /= n_use;
    printf("own cluster's user: mean rank percentile %.3f; other users: %.3f; better than the median other user "
           "for %d of %d clusters\n", own_pct, other_pct, own_better, n_use);
    CHECK(own_better * 4 >= n_use * 3); /* at least 3 in 4 clusters */
    CHECK(own_pct <= 0.25);
    CHECK(own_pct + 0.2 <= other_pct);

    /* Among its cluster: for the cluster's own user the new item beats most items of other
     * clusters (it is scored from text alone, against items with learned embeddings). */
    int beats_most = 0;
    for (int a = 0; a < n_use; a++) {
        int c = use[a];
        size_t r_new = rank_of(cat, users[a], NEW_ID(c), top, top_scores, n_cat, &n_ranked);
        size_t worse = 0, others = 0;
        for (size_t r = 0; r < n_ranked; r++) {
            int64_t id = top[r];
            int cl = -1;
            for (size_t i = 0; i < n_items; i++) if (items[i].id == id) cl = items[i].cluster;
            if (cl < 0 || cl == c) continue; /* added items and the own cluster */
            others++;
            worse += r + 1 > r_new;
        }
        beats_most += worse * 4 >= others * 3;
    }
    printf("own cluster's user: the new item beats 3/4 of the other clusters' items for %d of %d clusters\n",
           beats_most, n_use);
    CHECK(beats_most * 4 >= n_use * 3);

    for (int a = 0; a < n_use; a++) lsrec_state_free(users[a]);
    free(u); free(top); free(top_scores); free(ids); free(biases);
    free(e0); free(e1); free(es); free(t); free(t_sum); free(items);
    lsrec_catalog_free(cat);
    lsrec_encoder_free(enc);
    lsrec_model_free(model);
    printf("coldstart_test: %d checks, %d failures\n", n_checks, n_failures);
    return n_failures ? 1 : 0;
}
