/*
 * encoder_test.c — tests of the text-encoder section of the C ABI (lsrec_encoder_*, lsrec_encode_*)
 * through the real liblsrec.so, on the real all-MiniLM-L6-v2 converted by `make encoder`.
 *
 *   encoder_test ENCODER MODEL [ENCODER_F16] [VOCAB_TXT]
 *
 * ENCODER: build/encoder/minilm.lsrec; MODEL: a recommender .lsrec (the C tests' fixture), which
 * lsrec_encoder_load must refuse; ENCODER_F16: build/encoder/minilm-f16.lsrec (compared with the
 * f32 encoder); VOCAB_TXT: the model's vocab.txt (token ids checked against its line numbers).
 * Prints failed checks and "encoder_test: N checks, F failures"; exits 1 if any check failed.
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

#define CHECK_NAME "encoder_test.c"
#include "check.h"


static void section(const char *name) { printf("  %s\n", name); fflush(stdout); }

#define SENTINEL 12345.0f
#define MAXDIM 4096

static double dot(const float *a, const float *b, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static int all_sentinel(const float *p, size_t n) {
    for (size_t i = 0; i < n; i++) if (p[i] != SENTINEL) return 0;
    return 1;
}

static void fill(float *p, size_t n) { for (size_t i = 0; i < n; i++) p[i] = SENTINEL; }

/* Line number (0-based) of token in vocab.txt, or -1. */
static int vocab_id(const char *vocab_path, const char *token) {
    FILE *f = fopen(vocab_path, "r");
    if (!f) return -1;
    char line[512];
    int id = 0, found = -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strcmp(line, token) == 0) { found = id; break; }
        id++;
    }
    fclose(f);
    return found;
}

/* ---- Load ---------------------------------------------------------------------------------- */

static void test_load(const char *encoder_path, const char *model_path) {
    section("load: errors");
    lsrec_encoder *e = (lsrec_encoder *)&e; /* garbage: must be reset to NULL */
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_encoder_load, NULL, &e);
    CHECK(e == NULL);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_encoder_load, encoder_path, NULL);
    e = (lsrec_encoder *)&e;
    EXPECT(LSREC_E_IO, lsrec_encoder_load, "/nonexistent/encoder.lsrec", &e);
    CHECK(e == NULL);
    EXPECT(LSREC_E_IO, lsrec_encoder_load, "/dev/null", &e);
    EXPECT(LSREC_E_IO, lsrec_encoder_load, "/tmp", &e);
    e = (lsrec_encoder *)&e;
    EXPECT(LSREC_E_FORMAT, lsrec_encoder_load, model_path, &e);
    CHECK(e == NULL);
    CHECK(strstr(lsrec_last_error(), "recommender model") != NULL);
    /* And the other way round: an encoder file is not a model. */
    lsrec_model *m = NULL;
    EXPECT(LSREC_E_FORMAT, lsrec_model_load, encoder_path, &m);
    CHECK(m == NULL);

    /* A file that is not an lsrec file at all. */
    char tmp[] = "/tmp/encoder_test_XXXXXX";
    int fd = mkstemp(tmp);
    CHECK(fd >= 0);
    if (fd >= 0) {
        FILE *f = fdopen(fd, "wb");
        for (int i = 0; i < 200; i++) fputc('x', f);
        fclose(f);
        EXPECT(LSREC_E_BAD_MAGIC, lsrec_encoder_load, tmp, &e);
        CHECK(e == NULL);
        remove(tmp);
    }

    section("handles: NULL and wrong kinds");
    CHECK(lsrec_encoder_dim(NULL) == -1);
    CHECK(lsrec_encoder_max_tokens(NULL) == -1);
    lsrec_encoder_free(NULL);
    OK(lsrec_model_load, model_path, &m);
    /* A model handle where an encoder is expected: refused by the handle tag. */
    CHECK(lsrec_encoder_dim((const lsrec_encoder *)m) == -1);
    float out[MAXDIM];
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_encode_text, (const lsrec_encoder *)m, "x", out, MAXDIM);
    lsrec_encoder_free((lsrec_encoder *)m); /* ignored: not an encoder */
    CHECK(lsrec_model_n_items(m) > 0);      /* the model is intact */
    lsrec_model_free(m);
}

/* ---- Tokenize ------------------------------------------------------------------------------ */

static void test_tokenize(const lsrec_encoder *enc, const char *vocab_path) {
    section("tokenize");
    int32_t ids[512];
    size_t n = 999;
    int max_tokens = lsrec_encoder_max_tokens(enc);
    CHECK(max_tokens == 128);

    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_encoder_tokenize, NULL, "a", ids, 512, &n);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_encoder_tokenize, enc, NULL, ids, 512, &n);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_encoder_tokenize, enc, "a", ids, 512, NULL);
    CHECK(n == 999);
    /* Invalid UTF-8: a lone continuation byte, an overlong '/', a UTF-16 surrogate, a truncated sequence. */
    const char *bad[] = {"ab\x80", "\xc0\xaf", "\xed\xa0\x80", "caf\xc3"};
    for (int i = 0; i < 4; i++) {
        EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_encoder_tokenize, enc, bad[i], ids, 512, &n);
        CHECK(strstr(lsrec_last_error(), "UTF-8") != NULL);
    }
    CHECK(n == 999);

    /* The empty string: [CLS] [SEP]. */
    OK(lsrec_encoder_tokenize, enc, "", ids, 512, &n);
    CHECK(n == 2);
    int cls = ids[0], sep = ids[1];

    /* Size query, then too small, then exact. */
    const char *text = "Hello, World!";
    for (int i = 0; i < 8; i++) ids[i] = -7;
    EXPECT(LSREC_E_BUFFER_TOO_SMALL, lsrec_encoder_tokenize, enc, text, NULL, 0, &n);
    size_t needed = n;
    CHECK(needed == 6); /* [CLS] hello , world ! [SEP] */
    EXPECT(LSREC_E_BUFFER_TOO_SMALL, lsrec_encoder_tokenize, enc, text, ids, needed - 1, &n);
    CHECK(n == needed);
    CHECK(ids[0] == -7); /* nothing written */
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_encoder_tokenize, enc, text, NULL, needed, &n);
    OK(lsrec_encoder_tokenize, enc, text, ids, needed, &n);
    CHECK(n == needed && ids[0] == cls && ids[n - 1] == sep);
    /* Case and accents do not matter (lowercase + strip accents). */
    int32_t ids2[16];
    size_t n2 = 0;
    OK(lsrec_encoder_tokenize, enc, "HÉLLO ,wörld!", ids2, 16, &n2);
    CHECK(n2 == n && memcmp(ids, ids2, n * sizeof ids[0]) == 0);
    if (vocab_path) {
        CHECK(cls == vocab_id(vocab_path, "[CLS]") && sep == vocab_id(vocab_path, "[SEP]"));
        CHECK(ids[1] == vocab_id(vocab_path, "hello") && ids[2] == vocab_id(vocab_path, ","));
        CHECK(ids[3] == vocab_id(vocab_path, "world") && ids[4] == vocab_id(vocab_path, "!"));
    }

    /* Truncation: 300 words -> max_tokens ids ending in [SEP]. */
    char long_text[300 * 4 + 1];
    for (int i = 0; i < 300; i++) memcpy(long_text + 4 * i, "cat ", 4);
    long_text[300 * 4] = 0;
    OK(lsrec_encoder_tokenize, enc, long_text, ids, 512, &n);
    CHECK(n == (size_t)max_tokens && ids[0] == cls && ids[n - 1] == sep && ids[1] == ids[n - 2]);
}

/* ---- Encode -------------------------------------------------------------------------------- */

static void test_encode(const lsrec_encoder *enc) {
    section("encode_text");
    int dim = lsrec_encoder_dim(enc);
    CHECK(dim == 384);
    if (dim <= 0 || dim > MAXDIM) return;
    float a[MAXDIM], b[MAXDIM], c[MAXDIM];

    fill(a, MAXDIM);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_encode_text, NULL, "x", a, (size_t)dim);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_encode_text, enc, NULL, a, (size_t)dim);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_encode_text, enc, "x", NULL, (size_t)dim);
    EXPECT(LSREC_E_BUFFER_TOO_SMALL, lsrec_encode_text, enc, "x", a, (size_t)dim - 1);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_encode_text, enc, "\xff", a, (size_t)dim);
    CHECK(all_sentinel(a, MAXDIM));

    OK(lsrec_encode_text, enc, "", a, (size_t)dim);
    CHECK(fabs(dot(a, a, dim) - 1) < 1e-5);
    CHECK(a[dim] == SENTINEL); /* exactly dim floats written */

    /* Semantics: the Toy Story titles are closer to each other than to Schindler's List. */
    OK(lsrec_encode_text, enc, "Toy Story (1995) Animation|Children's", a, (size_t)dim);
    OK(lsrec_encode_text, enc, "Toy Story 2 (1999)", b, (size_t)dim);
    OK(lsrec_encode_text, enc, "Schindler's List (1993)", c, (size_t)dim);
    CHECK(fabs(dot(a, a, dim) - 1) < 1e-5 && fabs(dot(b, b, dim) - 1) < 1e-5 && fabs(dot(c, c, dim) - 1) < 1e-5);
    double near = dot(a, b, dim), far = dot(a, c, dim);
    printf("    cos(Toy Story, Toy Story 2) = %.4f, cos(Toy Story, Schindler's List) = %.4f\n", near, far);
    CHECK(near > far + 0.1);
    /* Deterministic: the same text twice gives the same bits. */
    OK(lsrec_encode_text, enc, "Toy Story 2 (1999)", c, (size_t)dim);
    CHECK(memcmp(b, c, (size_t)dim * sizeof(float)) == 0);

    section("encode_batch");
    const char *texts[] = {"Toy Story (1995) Animation|Children's", "", "Schindler's List (1993)",
                           "東京タワー", "a much longer text with many words to make the batch ragged, and punctuation!"};
    enum { NT = 5 };
    static float out[NT * MAXDIM + 8];
    fill(out, NT * MAXDIM + 8);
    size_t cap = (size_t)NT * (size_t)dim;
    OK(lsrec_encode_batch, enc, NULL, 0, NULL, 0);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_encode_batch, NULL, texts, NT, out, cap);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_encode_batch, enc, NULL, NT, out, cap);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_encode_batch, enc, texts, NT, NULL, cap);
    EXPECT(LSREC_E_BUFFER_TOO_SMALL, lsrec_encode_batch, enc, texts, NT, out, cap - 1);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_encode_batch, enc, texts, SIZE_MAX / 2, out, cap);
    const char *with_null[] = {"a", "b", NULL, "d"};
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_encode_batch, enc, with_null, 4, out, cap);
    CHECK(strstr(lsrec_last_error(), "texts[2]") != NULL);
    const char *with_bad[] = {"a", "b", "c", "\xc3\x28"};
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_encode_batch, enc, with_bad, 4, out, cap);
    CHECK(strstr(lsrec_last_error(), "texts[3]") != NULL);
    CHECK(all_sentinel(out, NT * MAXDIM + 8));

    OK(lsrec_encode_batch, enc, texts, NT, out, cap);
    CHECK(out[cap] == SENTINEL);
    for (int i = 0; i < NT; i++) {
        OK(lsrec_encode_text, enc, texts[i], a, (size_t)dim);
        double maxdiff = 0;
        for (int j = 0; j < dim; j++) maxdiff = fmax(maxdiff, fabs(a[j] - out[i * dim + j]));
        CHECK(maxdiff < 1e-5);
    }
}

/* ---- Threads ------------------------------------------------------------------------------- */

typedef struct {
    const lsrec_encoder *enc;
    const char *text;
    const float *expected;
    int dim, rounds, mismatches;
} thread_arg;

static void *worker(void *p) {
    thread_arg *t = p;
    float v[MAXDIM];
    for (int r = 0; r < t->rounds; r++) {
        if (lsrec_encode_text(t->enc, t->text, v, (size_t)t->dim) != LSREC_OK) { t->mismatches++; continue; }
        for (int j = 0; j < t->dim; j++) if (fabsf(v[j] - t->expected[j]) > 1e-6f) { t->mismatches++; break; }
    }
    return NULL;
}

static void test_threads(const lsrec_encoder *enc) {
    section("threads: 4 x 5 encodes on one encoder == single-threaded");
    int dim = lsrec_encoder_dim(enc);
    const char *texts[4] = {"Heat (1995) Action|Crime|Thriller", "Babe (1995) Children's|Comedy|Drama",
                            "GoldenEye (1995) Action|Adventure|Thriller", "Casino (1995) Drama|Thriller"};
    static float expected[4][MAXDIM];
    thread_arg args[4];
    pthread_t th[4];
    for (int t = 0; t < 4; t++) {
        OK(lsrec_encode_text, enc, texts[t], expected[t], (size_t)dim);
        args[t] = (thread_arg){enc, texts[t], expected[t], dim, 5, 0};
    }
    for (int t = 0; t < 4; t++) CHECK(pthread_create(&th[t], NULL, worker, &args[t]) == 0);
    for (int t = 0; t < 4; t++) { pthread_join(th[t], NULL); CHECK(args[t].mismatches == 0); }
}

/* ---- f16 ----------------------------------------------------------------------------------- */

static void test_f16(const lsrec_encoder *enc, const char *f16_path) {
    section("f16 encoder file vs f32");
    lsrec_encoder *h = NULL;
    OK(lsrec_encoder_load, f16_path, &h);
    if (!h) return;
    CHECK(lsrec_encoder_dim(h) == lsrec_encoder_dim(enc));
    int dim = lsrec_encoder_dim(enc);
    const char *texts[] = {"Toy Story (1995)", "", "naïve café", "Crouching Tiger, Hidden Dragon (Wo hu cang long) (2000)"};
    float a[MAXDIM], b[MAXDIM];
    for (int i = 0; i < 4; i++) {
        OK(lsrec_encode_text, enc, texts[i], a, (size_t)dim);
        OK(lsrec_encode_text, h, texts[i], b, (size_t)dim);
        double c = dot(a, b, dim);
        printf("    cos(f32, f16) = %.6f  %s\n", c, texts[i]);
        CHECK(c > 0.999);
    }
    lsrec_encoder_free(h);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: encoder_test ENCODER MODEL [ENCODER_F16] [VOCAB_TXT]\n");
        return 2;
    }
    const char *encoder_path = argv[1], *model_path = argv[2];
    const char *f16_path = argc > 3 && argv[3][0] ? argv[3] : NULL;
    const char *vocab_path = argc > 4 && argv[4][0] ? argv[4] : NULL;
    printf("encoder_test %s\n", encoder_path);
    test_load(encoder_path, model_path);
    lsrec_encoder *enc = NULL;
    OK(lsrec_encoder_load, encoder_path, &enc);
    if (enc) {
        test_tokenize(enc, vocab_path);
        test_encode(enc);
        test_threads(enc);
        if (f16_path) test_f16(enc, f16_path);
        lsrec_encoder_free(enc);
    }
    printf("encoder_test: %d checks, %d failures\n", atomic_load(&n_checks), atomic_load(&n_failures));
    return atomic_load(&n_failures) ? 1 : 0;
}
