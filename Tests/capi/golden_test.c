/*
 * golden_test.c — the C ABI against Tests/Fixtures/golden.json, the golden case that the Swift
 * core (Tests/LSRecCoreTests/GoldenTests.swift), Python and Go tests check too.
 *
 *   golden_test [GOLDEN_JSON]      default Tests/Fixtures/golden.json; the model named in the
 *                                  file is read from the same folder
 *
 * Feeds the file's events to a new state (one at a time, and again with update_many), then
 * checks top-10 ids (exactly) and scores, the user vector and the explanation against the file
 * (absolute tolerance from the file, 1e-5). Also checks that score, score_items, topk_batch and
 * a serialised + restored state agree with it. Prints "golden_test: N checks, F failures" and
 * exits 1 on any failure. Built and run by `make test-c`.
 *
 * The JSON is read with the small parser below (objects, arrays, numbers, strings, true, false,
 * null; enough for golden.json, not a general-purpose JSON library).
 */
#define _POSIX_C_SOURCE 200809L

#include "lsrec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Checks -------------------------------------------------------------------------------- */

static int n_checks, n_failures;

static int check_(int ok, const char *what, int line) {
    n_checks++;
    if (!ok) {
        n_failures++;
        fprintf(stderr, "golden_test.c:%d: check failed: %s\n", line, what);
    }
    return ok;
}
#define CHECK(cond) check_(!!(cond), #cond, __LINE__)
#define OK(call)                                                                              \
    do {                                                                                      \
        lsrec_status st_ = (call);                                                            \
        if (!check_(st_ == LSREC_OK, #call, __LINE__))                                        \
            fprintf(stderr, "    status %d (%s): %s\n", (int)st_, lsrec_status_str(st_), lsrec_last_error()); \
    } while (0)

static void die(const char *what, const char *detail) {
    fprintf(stderr, "golden_test: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) die("out of memory", NULL);
    return p;
}

/* ---- A minimal JSON reader ------------------------------------------------------------------ */

typedef enum { J_NULL, J_BOOL, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT } json_type;

typedef struct json {
    json_type type;
    double number;       /* J_NUMBER, J_BOOL (0/1) */
    char *string;        /* J_STRING (escapes other than \" \\ \/ kept as written) */
    size_t n;            /* J_ARRAY, J_OBJECT: number of children */
    struct json *items;  /* children */
    char **keys;         /* J_OBJECT: the children's keys */
} json;

typedef struct { const char *p, *end; } json_reader;

static void json_skip_space(json_reader *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static void json_expect(json_reader *r, char c) {
    json_skip_space(r);
    if (r->p >= r->end || *r->p != c) {
        char msg[64];
        snprintf(msg, sizeof msg, "expected '%c' before \"%.20s\"", c, r->p < r->end ? r->p : "");
        die("golden.json is malformed", msg);
    }
    r->p++;
}

static char *json_read_string(json_reader *r) {
    json_expect(r, '"');
    char *out = xcalloc((size_t)(r->end - r->p) + 1, 1);
    size_t n = 0;
    while (r->p < r->end && *r->p != '"') {
        if (*r->p == '\\' && r->p + 1 < r->end) {
            r->p++;
            if (*r->p != '"' && *r->p != '\\' && *r->p != '/') out[n++] = '\\';
        }
        out[n++] = *r->p++;
    }
    json_expect(r, '"');
    return out;
}

static void json_parse(json_reader *r, json *v);

static void json_push(json *v, const json *child, char *key) {
    v->items = realloc(v->items, (v->n + 1) * sizeof *v->items);
    v->keys = realloc(v->keys, (v->n + 1) * sizeof *v->keys);
    if (!v->items || !v->keys) die("out of memory", NULL);
    v->items[v->n] = *child;
    v->keys[v->n] = key;
    v->n++;
}

static void json_parse(json_reader *r, json *v) {
    memset(v, 0, sizeof *v);
    json_skip_space(r);
    if (r->p >= r->end) die("golden.json is malformed", "unexpected end");
    char c = *r->p;
    if (c == '{' || c == '[') {
        v->type = c == '{' ? J_OBJECT : J_ARRAY;
        r->p++;
        json_skip_space(r);
        if (r->p < r->end && *r->p == (c == '{' ? '}' : ']')) { r->p++; return; }
        for (;;) {
            char *key = NULL;
            if (c == '{') { key = json_read_string(r); json_expect(r, ':'); }
            json child;
            json_parse(r, &child);
            json_push(v, &child, key);
            json_skip_space(r);
            if (r->p < r->end && *r->p == ',') { r->p++; continue; }
            json_expect(r, c == '{' ? '}' : ']');
            return;
        }
    } else if (c == '"') {
        v->type = J_STRING;
        v->string = json_read_string(r);
    } else if (strncmp(r->p, "true", 4) == 0 || strncmp(r->p, "false", 5) == 0) {
        v->type = J_BOOL;
        v->number = *r->p == 't';
        r->p += *r->p == 't' ? 4 : 5;
    } else if (strncmp(r->p, "null", 4) == 0) {
        v->type = J_NULL;
        r->p += 4;
    } else {
        char *end;
        v->type = J_NUMBER;
        v->number = strtod(r->p, &end);
        if (end == r->p) die("golden.json is malformed", r->p);
        r->p = end;
    }
}

static void json_free(json *v) {
    for (size_t i = 0; i < v->n; i++) {
        json_free(&v->items[i]);
        free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
}

/* The member `key` of an object (exits if absent or of another type). */
static const json *get(const json *obj, const char *key, json_type type) {
    if (obj->type == J_OBJECT)
        for (size_t i = 0; i < obj->n; i++)
            if (strcmp(obj->keys[i], key) == 0) {
                if (obj->items[i].type != type) die("golden.json: wrong type for key", key);
                return &obj->items[i];
            }
    die("golden.json: missing key", key);
    return NULL;
}

static double num(const json *obj, const char *key) { return get(obj, key, J_NUMBER)->number; }

/* An array of numbers as malloc'd int64 / double arrays. */
static int64_t *int64s(const json *obj, const char *key, size_t *n) {
    const json *a = get(obj, key, J_ARRAY);
    int64_t *out = xcalloc(a->n, sizeof *out);
    for (size_t i = 0; i < a->n; i++) {
        if (a->items[i].type != J_NUMBER) die("golden.json: not a number in", key);
        out[i] = (int64_t)a->items[i].number;
    }
    *n = a->n;
    return out;
}

static double *doubles(const json *obj, const char *key, size_t *n) {
    const json *a = get(obj, key, J_ARRAY);
    double *out = xcalloc(a->n, sizeof *out);
    for (size_t i = 0; i < a->n; i++) {
        if (a->items[i].type != J_NUMBER) die("golden.json: not a number in", key);
        out[i] = a->items[i].number;
    }
    *n = a->n;
    return out;
}

static char *read_text(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    size_t cap = 1 << 14, n = 0, got;
    char *buf = xcalloc(cap, 1);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n == cap - 1) {
            buf = realloc(buf, cap *= 2);
            if (!buf) die("out of memory", NULL);
        }
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* ---- The golden checks --------------------------------------------------------------------- */

static double tolerance;

/* got[i] within tolerance of want[i] for all i < n; reports the first few differences. */
static void check_close_(const float *got, const double *want, size_t n, const char *what, int line) {
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(fabs((double)got[i] - want[i]) <= tolerance)) {
            if (bad++ < 3) fprintf(stderr, "    %s[%zu] = %.9g, expected %.9g\n", what, i, (double)got[i], want[i]);
        }
    }
    check_(bad == 0, what, line);
}
#define CHECK_CLOSE(got, want, n, what) check_close_((got), (want), (n), (what), __LINE__)

static int same_ids(const int64_t *a, const int64_t *b, size_t n) { return memcmp(a, b, n * sizeof *a) == 0; }

/* Checks one state against every expectation of the golden file. */
static void check_state(const lsrec_model *m, const lsrec_state *s, const json *g, const char *label) {
    printf("  %s\n", label);
    CHECK(lsrec_state_n_events(s) == (int64_t)num(g, "n_events"));
    size_t k = (size_t)num(g, "k");
    int64_t *ids = xcalloc(k, sizeof *ids);
    float *scores = xcalloc(k, sizeof *scores);

    const json *cases = get(g, "topk", J_ARRAY);
    CHECK(cases->n >= 2);
    for (size_t c = 0; c < cases->n; c++) {
        const json *tc = &cases->items[c];
        int64_t now = (int64_t)num(tc, "now");
        uint32_t flags = get(tc, "exclude_seen", J_BOOL)->number ? LSREC_EXCLUDE_SEEN : 0;
        size_t n_ids, n_scores, n_out = 0;
        int64_t *want_ids = int64s(tc, "ids", &n_ids);
        double *want_scores = doubles(tc, "scores", &n_scores);
        CHECK(n_ids == k && n_scores == k);

        OK(lsrec_topk(m, s, now, k, flags, NULL, 0, ids, scores, &n_out));
        CHECK(n_out == k);
        if (!CHECK(same_ids(ids, want_ids, k))) {
            fprintf(stderr, "    now = %lld: got", (long long)now);
            for (size_t i = 0; i < k; i++) fprintf(stderr, " %lld", (long long)ids[i]);
            fprintf(stderr, "\n");
        }
        CHECK_CLOSE(scores, want_scores, k, "topk scores");

        /* The same numbers through score_items and the full score vector. */
        float *by_id = xcalloc(k, sizeof *by_id);
        OK(lsrec_score_items(m, s, now, want_ids, k, by_id));
        CHECK_CLOSE(by_id, want_scores, k, "score_items");
        int64_t n_items = lsrec_model_n_items(m);
        float *all = xcalloc((size_t)n_items, sizeof *all);
        int64_t *catalogue = xcalloc((size_t)n_items, sizeof *catalogue);
        OK(lsrec_score(m, s, now, all, (size_t)n_items));
        OK(lsrec_model_item_ids(m, catalogue, (size_t)n_items));
        for (size_t r = 0; r < k; r++)
            for (int64_t i = 0; i < n_items; i++)
                if (catalogue[i] == want_ids[r]) by_id[r] = all[i];
        CHECK_CLOSE(by_id, want_scores, k, "score (full vector)");
        free(catalogue);
        free(all);
        free(by_id);
        free(want_ids);
        free(want_scores);
    }

    const json *uv = get(g, "user_vector", J_OBJECT);
    size_t d;
    double *want_u = doubles(uv, "values", &d);
    CHECK((int32_t)d == lsrec_model_dim(m));
    float *u = xcalloc(d, sizeof *u);
    OK(lsrec_user_vector(m, s, (int64_t)num(uv, "now"), u, d));
    CHECK_CLOSE(u, want_u, d, "user vector");

    const json *ex = get(g, "explain", J_OBJECT);
    size_t ek = (size_t)num(ex, "k"), n_items_want, n_weights, n_out = 0;
    int64_t *want_items = int64s(ex, "history_items", &n_items_want);
    double *want_weights = doubles(ex, "weights", &n_weights);
    int64_t *why = xcalloc(ek, sizeof *why);
    float *weights = xcalloc(ek, sizeof *weights);
    OK(lsrec_explain(m, s, (int64_t)num(ex, "item"), ek, why, weights, &n_out));
    CHECK(n_out == n_items_want && n_weights == n_items_want);
    CHECK(same_ids(why, want_items, n_items_want));
    CHECK_CLOSE(weights, want_weights, n_weights, "explain weights");

    free(why);
    free(weights);
    free(want_items);
    free(want_weights);
    free(u);
    free(want_u);
    free(ids);
    free(scores);
}

int main(int argc, char **argv) {
    const char *json_path = argc > 1 ? argv[1] : "Tests/Fixtures/golden.json";
    size_t len;
    char *text = read_text(json_path, &len);
    json_reader reader = {text, text + len};
    json g;
    json_parse(&reader, &g);
    if (g.type != J_OBJECT) die("golden.json is not an object", NULL);
    tolerance = num(&g, "tolerance");

    /* The model sits next to the JSON. */
    const char *model_name = get(&g, "model", J_STRING)->string;
    const char *slash = strrchr(json_path, '/');
    size_t dir_len = slash ? (size_t)(slash - json_path + 1) : 0;
    char *model_path = xcalloc(dir_len + strlen(model_name) + 1, 1);
    memcpy(model_path, json_path, dir_len);
    strcpy(model_path + dir_len, model_name);
    printf("golden_test: %s on %s\n", json_path, model_path);

    lsrec_model *m = NULL;
    lsrec_status st = lsrec_model_load(model_path, &m);
    if (st != LSREC_OK) die("cannot load the golden model", lsrec_last_error());

    /* The file was written for this very model. */
    char fingerprint[64];
    CHECK(lsrec_model_meta(m, "general.fingerprint", fingerprint, sizeof fingerprint) > 0);
    CHECK(strcmp(fingerprint, get(&g, "fingerprint", J_STRING)->string) == 0);
    CHECK(lsrec_model_n_items(m) == (int64_t)num(&g, "n_items"));
    CHECK(lsrec_model_dim(m) == (int32_t)num(&g, "dim"));

    const json *events = get(&g, "events", J_OBJECT);
    size_t n_events, n_times;
    int64_t *items = int64s(events, "items", &n_events);
    int64_t *times = int64s(events, "times", &n_times);
    CHECK(n_events == n_times && n_events > 0);
    int has_unknown = 0;
    for (size_t i = 0; i < n_times; i++) has_unknown |= times[i] == LSREC_TS_UNKNOWN;
    CHECK(has_unknown);

    /* 1. One event at a time. */
    lsrec_state *one = NULL;
    OK(lsrec_state_new(m, &one));
    for (size_t i = 0; i < n_events; i++) OK(lsrec_state_update(m, one, items[i], times[i]));
    check_state(m, one, &g, "events one at a time (lsrec_state_update)");

    /* 2. All at once. */
    lsrec_state *many = NULL;
    OK(lsrec_state_new(m, &many));
    OK(lsrec_state_update_many(m, many, items, times, n_events));
    check_state(m, many, &g, "events at once (lsrec_state_update_many)");

    /* 3. A serialised and restored state. */
    size_t blob_len = 0;
    OK(lsrec_state_serialize(one, NULL, 0, &blob_len));
    unsigned char *blob = xcalloc(blob_len, 1);
    OK(lsrec_state_serialize(one, blob, blob_len, &blob_len));
    lsrec_state *restored = NULL;
    OK(lsrec_state_deserialize(m, blob, blob_len, &restored));
    if (restored) check_state(m, restored, &g, "serialised and restored state");

    /* 4. topk_batch: every user's list is the golden one (cases with exclude_seen only). */
    printf("  lsrec_topk_batch over the three states\n");
    const lsrec_state *users[3] = {one, many, restored};
    size_t k = (size_t)num(&g, "k");
    int64_t *batch_ids = xcalloc(3 * k, sizeof *batch_ids);
    float *batch_scores = xcalloc(3 * k, sizeof *batch_scores);
    const json *cases = get(&g, "topk", J_ARRAY);
    for (size_t c = 0; c < cases->n; c++) {
        const json *tc = &cases->items[c];
        uint32_t flags = get(tc, "exclude_seen", J_BOOL)->number ? LSREC_EXCLUDE_SEEN : 0;
        size_t n_ids, n_scores;
        int64_t *want_ids = int64s(tc, "ids", &n_ids);
        double *want_scores = doubles(tc, "scores", &n_scores);
        OK(lsrec_topk_batch(m, users, restored ? 3 : 2, (int64_t)num(tc, "now"), k, flags, batch_ids, batch_scores));
        for (size_t b = 0; b < (restored ? 3u : 2u); b++) {
            CHECK(same_ids(batch_ids + b * k, want_ids, k));
            CHECK_CLOSE(batch_scores + b * k, want_scores, k, "topk_batch scores");
        }
        free(want_ids);
        free(want_scores);
    }

    free(batch_ids);
    free(batch_scores);
    free(blob);
    lsrec_state_free(restored);
    lsrec_state_free(many);
    lsrec_state_free(one);
    lsrec_model_free(m);
    free(items);
    free(times);
    free(model_path);
    json_free(&g);
    free(text);

    printf("golden_test: %d checks, %d failures\n", n_checks, n_failures);
    return n_failures ? 1 : 0;
}
