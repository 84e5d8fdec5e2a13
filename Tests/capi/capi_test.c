/*
 * capi_test.c — tests of the C ABI (include/lsrec.h) through the real liblsrec.so.
 *
 *   capi_test [MODEL]        MODEL defaults to Tests/Fixtures/tiny-random.lsrec
 *
 * The fixture has 300 items with external ids 1000 + 7*i, d = 16, L = 20, random weights.
 * Prints one line per failed check and a summary "capi_test: N checks, F failures";
 * exits 1 if any check failed. Built and run by `make test-c`.
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

#define CHECK_NAME "capi_test.c"
#include "check.h"

/* lsrec_model_meta returns a length, -1 on failure. */
#define EXPECT_META_FAILS(...)                                                            \
    do {                                                                                  \
        check_(lsrec_model_meta(__VA_ARGS__) == -1, "lsrec_model_meta(" #__VA_ARGS__ ") == -1", __LINE__); \
        check_message_("lsrec_model_meta", "message of lsrec_model_meta(" #__VA_ARGS__ ")", __LINE__); \
    } while (0)

/* Prints each section's name, and the number of checks the previous section made. */
static int section_start = -1;
static void section_end(void) {
    if (section_start >= 0) printf("    (%d checks)\n", atomic_load(&n_checks) - section_start);
}
static void section(const char *name) {
    section_end();
    section_start = atomic_load(&n_checks);
    printf("  %s\n", name);
    fflush(stdout);
}

/* ---- Helpers ------------------------------------------------------------------------------- */

#define N_ITEMS 300
#define DIM 16
#define HISTORY 20
#define ID(i) ((int64_t)1000 + 7 * (int64_t)(i)) /* external id of internal index i */
#define T0 ((int64_t)1700000000)

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) { fprintf(stderr, "capi_test: out of memory\n"); exit(2); }
    return p;
}

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = xmalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf) { fprintf(stderr, "capi_test: out of memory\n"); exit(2); }
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static void put_u32le(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32le(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64le(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_u64le(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* ---- Editing a weight file in place, then resealing it (docs/FORMAT.md) --------------------
 * The Swift writer refuses NaN and Inf, so hostile files are made by patching the fixture's
 * bytes and recomputing what the reader checks: the tensor's CRC32C in the directory, the
 * fingerprint (FNV-1a 64 over the directory, stored as 16 hex digits in general.fingerprint),
 * the header CRC (bytes 0..59) and the file CRC in the trailer. */

typedef struct {
    size_t entry;       /* offset of the directory entry */
    size_t crc_at;      /* offset of its crc32c field */
    size_t dims_at;     /* offset of dim 0 */
    uint32_t ndim;
    uint64_t offset, byte_length;
} tensor_entry;

/* Finds tensor `name` in the directory; 1 if found. */
static int find_tensor(const unsigned char *f, const char *name, tensor_entry *t) {
    uint32_t count = get_u32le(f + 44);
    size_t at = (size_t)get_u64le(f + 48);
    for (uint32_t i = 0; i < count; i++) {
        t->entry = at;
        uint32_t name_len = get_u32le(f + at);
        int match = name_len == strlen(name) && memcmp(f + at + 4, name, name_len) == 0;
        at += 4 + name_len + 4; /* name, dtype */
        t->ndim = get_u32le(f + at);
        at += 4;
        t->dims_at = at;
        at += 8 * (size_t)t->ndim;
        t->offset = get_u64le(f + at);
        t->byte_length = get_u64le(f + at + 8);
        t->crc_at = at + 16;
        at += 20;
        if (match) return 1;
    }
    return 0;
}

/* Offset of the value of metadata `key` (after its u32 type); 0 if absent. */
static size_t find_meta(const unsigned char *f, const char *key) {
    uint32_t count = get_u32le(f + 40);
    size_t at = 64;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t key_len = get_u32le(f + at);
        int match = key_len == strlen(key) && memcmp(f + at + 4, key, key_len) == 0;
        at += 4 + key_len;
        uint32_t type = get_u32le(f + at);
        at += 4;
        if (match) return at;
        at += type == 3 ? 4 + (size_t)get_u32le(f + at) : 8;
    }
    return 0;
}

/* Recomputes every tensor CRC, the fingerprint, the header CRC and the file CRC. */
static void reseal(unsigned char *f, size_t len) {
    uint32_t count = get_u32le(f + 44);
    size_t at = (size_t)get_u64le(f + 48);
    uint64_t h = 0xcbf29ce484222325ull;
#define FNV_BYTE(b) (h = (h ^ (uint64_t)(b)) * 0x100000001b3ull)
    for (uint32_t i = 0; i < count; i++) {
        uint32_t name_len = get_u32le(f + at);
        for (uint32_t k = 0; k < name_len; k++) FNV_BYTE(f[at + 4 + k]);
        FNV_BYTE(0);
        at += 4 + name_len;
        for (int k = 0; k < 4; k++) FNV_BYTE(f[at + k]); /* dtype */
        uint32_t ndim = get_u32le(f + at + 4);
        at += 8;
        for (size_t k = 0; k < 8 * (size_t)ndim; k++) FNV_BYTE(f[at + k]);
        at += 8 * (size_t)ndim;
        uint64_t offset = get_u64le(f + at), length = get_u64le(f + at + 8);
        if (offset <= len && length <= len - offset) put_u32le(f + at + 16, crc32c(f + offset, (size_t)length));
        for (int k = 0; k < 4; k++) FNV_BYTE(f[at + 16 + k]);
        at += 20;
    }
#undef FNV_BYTE
    size_t fp = find_meta(f, "general.fingerprint");
    if (fp && get_u32le(f + fp) == 16) {
        static const char hex[] = "0123456789abcdef";
        for (int k = 0; k < 16; k++) f[fp + 4 + k] = (unsigned char)hex[(h >> (60 - 4 * k)) & 0xF];
    }
    put_u32le(f + 60, crc32c(f, 60));
    put_u32le(f + len - 8, crc32c(f, len - 16));
}

/* Sets element `index` of f32 tensor `name` to the float with bit pattern `bits`, then reseals. */
static void patch_f32(unsigned char *f, size_t len, const char *name, size_t index, uint32_t bits) {
    tensor_entry t;
    if (!find_tensor(f, name, &t) || 4 * (index + 1) > t.byte_length) {
        fprintf(stderr, "capi_test: the fixture has no f32 element %s[%zu]\n", name, index);
        exit(2);
    }
    put_u32le(f + t.offset + 4 * index, bits);
    reseal(f, len);
}

static uint32_t bits_of(float x) {
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

/* The serialised bytes of a state (malloc'd). */
static unsigned char *blob_of(const lsrec_state *s, size_t *len) {
    size_t needed = 0;
    if (lsrec_state_serialize(s, NULL, 0, &needed) != LSREC_OK || needed == 0) {
        fprintf(stderr, "capi_test: size query failed: %s\n", lsrec_last_error());
        exit(2);
    }
    unsigned char *b = xmalloc(needed);
    if (lsrec_state_serialize(s, b, needed, len) != LSREC_OK || *len != needed) {
        fprintf(stderr, "capi_test: serialize failed: %s\n", lsrec_last_error());
        exit(2);
    }
    return b;
}

/* 1 if the state still serialises to exactly `blob`. */
static int state_is(const lsrec_state *s, const unsigned char *blob, size_t len) {
    size_t n;
    unsigned char *now = blob_of(s, &n);
    int same = n == len && memcmp(now, blob, len) == 0;
    free(now);
    return same;
}

/* A deterministic event sequence: `n` events over internal indices, increasing times
 * (some repeated, some unknown), seeded by `seed`. */
static void make_events(unsigned seed, size_t n, int64_t *items, int64_t *ts) {
    uint32_t x = 2463534242u ^ (seed * 2654435761u);
    int64_t t = T0 + (int64_t)seed * 1000;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        items[i] = ID(x % N_ITEMS);
        switch ((x >> 9) % 5) {
        case 0: ts[i] = LSREC_TS_UNKNOWN; break;   /* unknown time */
        case 1: ts[i] = t; break;                  /* same second as the previous known event */
        default: t += 1 + (int64_t)((x >> 12) % 100000); ts[i] = t; break;
        }
    }
}

static lsrec_state *state_with(const lsrec_model *m, unsigned seed, size_t n) {
    lsrec_state *s = NULL;
    int64_t items[256], ts[256];
    if (n > 256) n = 256;
    make_events(seed, n, items, ts);
    if (lsrec_state_new(m, &s) != LSREC_OK || lsrec_state_update_many(m, s, items, ts, n) != LSREC_OK) {
        fprintf(stderr, "capi_test: state_with(%u, %zu): %s\n", seed, n, lsrec_last_error());
        exit(2);
    }
    return s;
}

/* Reference ranking: score descending, ties by lower internal index. */
typedef struct { int index; float score; } ranked;
static int by_rank(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* The top k of all N scores (indices with excluded[i] set left out); returns the count. */
static size_t reference_topk(const float *scores, const unsigned char *excluded, size_t k, int64_t *ids, float *out) {
    ranked all[N_ITEMS];
    size_t n = 0;
    for (int i = 0; i < N_ITEMS; i++)
        if (!excluded || !excluded[i]) all[n++] = (ranked){i, scores[i]};
    qsort(all, n, sizeof all[0], by_rank);
    size_t real = n < k ? n : k;
    for (size_t r = 0; r < k; r++) {
        ids[r] = r < real ? ID(all[r].index) : -1;
        out[r] = r < real ? all[r].score : -INFINITY;
    }
    return real;
}

static int index_of_id(int64_t id) {
    if (id < 1000 || (id - 1000) % 7 != 0 || (id - 1000) / 7 >= N_ITEMS) return -1;
    return (int)((id - 1000) / 7);
}

static int is_neg_inf(float x) { return isinf(x) && x < 0; }

/* ---- Tests --------------------------------------------------------------------------------- */

static void test_versions_and_statuses(void) {
    section("versions, status strings");
    CHECK(lsrec_abi_version() == LSREC_ABI_VERSION);
    CHECK(lsrec_version_string() != NULL && strcmp(lsrec_version_string(), LSREC_VERSION_STRING) == 0);
    for (lsrec_status s = LSREC_OK; s <= LSREC_E_OUT_OF_ORDER; s++) {
        const char *text = lsrec_status_str(s);
        CHECK(text != NULL && text[0] != '\0');
        for (lsrec_status t = LSREC_OK; t < s; t++) CHECK(strcmp(text, lsrec_status_str(t)) != 0);
    }
    CHECK(lsrec_status_str(-1) != NULL && lsrec_status_str(-1)[0] != '\0');
    /* The BLAS kernel report: a name, and a suggestion only of a kernel set lsrec.h names, never the one
     * already running. */
    const char *core = lsrec_blas_core(), *better = lsrec_blas_suggested_coretype();
    CHECK(core != NULL && core[0] != '\0');
    CHECK(better == NULL || strcmp(better, "SkylakeX") == 0 || strcmp(better, "Haswell") == 0);
    CHECK(better == NULL || strcmp(better, core) != 0);
    CHECK(lsrec_status_str(16) != NULL && lsrec_status_str(INT32_MAX) != NULL);
    CHECK(lsrec_last_error() != NULL);
}

static void test_model_files(const char *path, const unsigned char *file, size_t len) {
    section("model files: missing, truncated, damaged");
    lsrec_model *m = (lsrec_model *)&m; /* not NULL: a failed load must reset it */

    EXPECT(LSREC_E_IO, lsrec_model_load, "/nonexistent/dir/model.lsrec", &m);
    CHECK(m == NULL);
    EXPECT(LSREC_E_IO, lsrec_model_load, "/", &m); /* a directory */
    CHECK(m == NULL);

    OK(lsrec_model_load, path, &m);
    CHECK(m != NULL);
    lsrec_model_free(m);
    OK(lsrec_model_load_memory, file, len, &m);
    CHECK(lsrec_model_n_items(m) == N_ITEMS);
    lsrec_model_free(m);

    unsigned char *copy = xmalloc(len + 1);
    /* zero-length and truncated copies */
    m = (lsrec_model *)&m;
    EXPECT(LSREC_E_TRUNCATED, lsrec_model_load_memory, NULL, 0, &m);
    CHECK(m == NULL);
    EXPECT(LSREC_E_TRUNCATED, lsrec_model_load_memory, file, 0, &m);
    size_t cuts[] = {1, 10, 63, 64, 79, 80, 1000, len / 2, len - 16, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        memcpy(copy, file, cuts[i]);
        m = (lsrec_model *)&m;
        EXPECT(LSREC_E_TRUNCATED, lsrec_model_load_memory, copy, cuts[i], &m);
        CHECK(m == NULL);
    }
    /* one extra byte after the trailer */
    memcpy(copy, file, len);
    copy[len] = 0;
    EXPECT(LSREC_E_FORMAT, lsrec_model_load_memory, copy, len + 1, &m);
    /* a flipped bit in the middle (tensor data) */
    memcpy(copy, file, len);
    copy[len / 2] ^= 0x10;
    EXPECT(LSREC_E_CHECKSUM, lsrec_model_load_memory, copy, len, &m);
    CHECK(m == NULL);
    /* a flipped bit in the trailer's file CRC, and in the header CRC */
    memcpy(copy, file, len);
    copy[len - 8] ^= 0x01;
    EXPECT(LSREC_E_CHECKSUM, lsrec_model_load_memory, copy, len, &m);
    memcpy(copy, file, len);
    copy[60] ^= 0x80;
    EXPECT(LSREC_E_CHECKSUM, lsrec_model_load_memory, copy, len, &m);
    /* bad magic */
    memcpy(copy, file, len);
    copy[0] = 'X';
    EXPECT(LSREC_E_BAD_MAGIC, lsrec_model_load_memory, copy, len, &m);
    CHECK(m == NULL);
    /* big-endian byte-order mark, unsupported version (FORMAT.md's order of checks) */
    memcpy(copy, file, len);
    copy[12] = 1; copy[13] = 2; copy[14] = 3; copy[15] = 4;
    EXPECT(LSREC_E_BYTE_ORDER, lsrec_model_load_memory, copy, len, &m);
    memcpy(copy, file, len);
    copy[8] = 2;
    EXPECT(LSREC_E_VERSION, lsrec_model_load_memory, copy, len, &m);
    free(copy);
}

/* NaN/Inf and overflowing weights, oversized and non-file inputs, sampled bit flips; and a real
 * second model (one weight changed) whose states and blobs this model must refuse. */
static void test_hostile_files(const lsrec_model *m, const unsigned char *file, size_t len) {
    section("hostile files: NaN/Inf weights, overflow, oversized, not a file, bit flips, another model");
    unsigned char *f = xmalloc(len + (1u << 20));
    lsrec_model *o = (lsrec_model *)&o;

    /* A resealed copy with no change loads: the patch helpers are right. */
    memcpy(f, file, len);
    reseal(f, len);
    CHECK(memcmp(f, file, len) == 0);

    /* NaN, signalling NaN, negative NaN, +Inf, -Inf in five tensors: LSREC_E_NONFINITE naming the tensor. */
    const uint32_t bad_bits[] = {0x7FC00000u, 0x7F800001u, 0xFFC00000u, 0x7F800000u, 0xFF800000u};
    const struct { const char *name; size_t index; } where[] = {
        {"item.embedding", 300 * 16 - 1}, {"item.bias", 0}, {"lstm.w_h", 5}, {"time.event_gap", 0}, {"out.w_h", 255},
    };
    int nonfinite_cases = 0;
    for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
        for (size_t b = 0; b < sizeof bad_bits / sizeof bad_bits[0]; b++) {
            memcpy(f, file, len);
            patch_f32(f, len, where[w].name, where[w].index, bad_bits[b]);
            o = (lsrec_model *)&o;
            EXPECT(LSREC_E_NONFINITE, lsrec_model_load_memory, f, len, &o);
            CHECK(o == NULL);
            CHECK(strstr(lsrec_last_error(), where[w].name) != NULL);
            nonfinite_cases++;
        }
    }
    CHECK(nonfinite_cases == 25);
    /* ... and without resealing, the checksum catches the same bytes first. */
    memcpy(f, file, len);
    patch_f32(f, len, "lstm.w_h", 5, 0x7FC00000u);
    put_u32le(f + len - 8, get_u32le(file + len - 8));
    EXPECT(LSREC_E_CHECKSUM, lsrec_model_load_memory, f, len, &o);

    /* Finite weights so large that inference would overflow to Inf/NaN (found by fuzzing):
     * refused at load, not turned into NaN states later. */
    const struct { const char *name; size_t index; float value; } huge[] = {
        {"lstm.w_h", 0, 3e38f}, {"lstm.w_x", 3, -3e38f}, {"time.event_gap", 1, 3e38f}, {"item.bias", 7, 3e38f},
        {"attn.w_k", 0, 1e38f}, {"gate.w", 2, -3e38f},
    };
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        memcpy(f, file, len);
        patch_f32(f, len, huge[i].name, huge[i].index, bits_of(huge[i].value));
        EXPECT(LSREC_E_NONFINITE, lsrec_model_load_memory, f, len, &o);
        CHECK(o == NULL && strstr(lsrec_last_error(), "too large") != NULL);
    }
    memcpy(f, file, len);
    patch_f32(f, len, "lstm.w_h", 0, bits_of(1e30f)); /* large, but cannot overflow: loads */
    OK(lsrec_model_load_memory, f, len, &o);
    lsrec_model_free(o);

    /* Oversized: a header that claims far more bytes than there are; 1 MiB of junk appended;
     * a tensor shape whose byte size overflows; n_items beyond the file. */
    memcpy(f, file, len);
    put_u64le(f + 16, (uint64_t)1 << 40);
    reseal(f, len);
    EXPECT(LSREC_E_TRUNCATED, lsrec_model_load_memory, f, len, &o);
    memcpy(f, file, len);
    memset(f + len, 0x5A, 1u << 20);
    EXPECT(LSREC_E_FORMAT, lsrec_model_load_memory, f, len + (1u << 20), &o);
    put_u64le(f + 16, (uint64_t)len + (1u << 20)); /* ... even when file_size agrees */
    reseal(f, len + (1u << 20));
    o = (lsrec_model *)&o;
    lsrec_status st = lsrec_model_load_memory(f, len + (1u << 20), &o);
    CHECK(st == LSREC_E_FORMAT || st == LSREC_E_CHECKSUM);
    CHECK(o == NULL);
    tensor_entry t;
    memcpy(f, file, len);
    CHECK(find_tensor(f, "item.bias", &t) && t.ndim == 1);
    put_u64le(f + t.dims_at, (uint64_t)1 << 62);
    reseal(f, len);
    EXPECT(LSREC_E_FORMAT, lsrec_model_load_memory, f, len, &o);
    CHECK(strstr(lsrec_last_error(), "item.bias") != NULL);
    memcpy(f, file, len);
    size_t n_at = find_meta(f, "lsrec.n_items");
    CHECK(n_at != 0);
    put_u64le(f + n_at, (uint64_t)1 << 40);
    reseal(f, len);
    EXPECT(LSREC_E_FORMAT, lsrec_model_load_memory, f, len, &o);
    CHECK(strstr(lsrec_last_error(), "lsrec.n_items") != NULL);

    /* Paths that are not regular files: refused at once (reading /dev/zero would never end). */
    EXPECT(LSREC_E_IO, lsrec_model_load, "/dev/zero", &o);
    CHECK(o == NULL && strstr(lsrec_last_error(), "regular file") != NULL);
    EXPECT(LSREC_E_IO, lsrec_model_load, "/dev/null", &o);
    EXPECT(LSREC_E_IO, lsrec_model_load, "", &o);

    /* Bit flips: every bit of the first 4 KiB (header, metadata, directory, start of the data),
     * then one bit in every 61 bytes of the rest. All refused, each with a specific status. */
    size_t flips = 0, accepted = 0, unspecific = 0;
    for (size_t bit = 0; bit < 8 * len; bit += bit < 8 * 4096 ? 1 : 8 * 61 + 1) {
        memcpy(f, file, len);
        f[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        st = lsrec_model_load_memory(f, len, &o);
        flips++;
        if (st == LSREC_OK) { accepted++; lsrec_model_free(o); }
        else if (st == LSREC_E_INTERNAL || st == LSREC_E_INVALID_ARGUMENT) unspecific++;
    }
    printf("    %zu single-bit flips of the fixture: %zu accepted, %zu without a specific status\n", flips, accepted, unspecific);
    CHECK(flips > 4096 * 8 && accepted == 0 && unspecific == 0);

    /* Another model: the fixture with one weight changed loads, with its own fingerprint. Its
     * states and blobs are refused by this model (and vice versa), nothing changes. */
    memcpy(f, file, len);
    patch_f32(f, len, "lstm.w_h", 0, bits_of(0.125f));
    lsrec_model *other = NULL;
    OK(lsrec_model_load_memory, f, len, &other);
    if (other) {
        char fp1[32], fp2[32];
        CHECK(lsrec_model_meta(m, "general.fingerprint", fp1, sizeof fp1) == 16);
        CHECK(lsrec_model_meta(other, "general.fingerprint", fp2, sizeof fp2) == 16 && strcmp(fp1, fp2) != 0);
        lsrec_state *theirs = state_with(other, 21, 30), *mine = state_with(m, 21, 30), *r = (lsrec_state *)&r;
        size_t blen, mlen;
        unsigned char *blob = blob_of(theirs, &blen), *mblob = blob_of(mine, &mlen);
        EXPECT(LSREC_E_MODEL_MISMATCH, lsrec_state_deserialize, m, blob, blen, &r);
        CHECK(r == NULL && strstr(lsrec_last_error(), fp2) != NULL);
        EXPECT(LSREC_E_MODEL_MISMATCH, lsrec_state_deserialize, other, mblob, mlen, &r);
        float sc[N_ITEMS];
        int64_t top[4];
        size_t n_out = 99;
        EXPECT(LSREC_E_MODEL_MISMATCH, lsrec_state_update, m, theirs, ID(3), LSREC_TS_UNKNOWN);
        EXPECT(LSREC_E_MODEL_MISMATCH, lsrec_score, m, theirs, LSREC_NOW_LAST_EVENT, sc, N_ITEMS);
        EXPECT(LSREC_E_MODEL_MISMATCH, lsrec_topk, other, mine, LSREC_NOW_LAST_EVENT, 4, 0, NULL, 0, top, NULL, &n_out);
        EXPECT(LSREC_E_MODEL_MISMATCH, lsrec_state_update_topk, other, mine, ID(3), LSREC_TS_UNKNOWN,
               LSREC_NOW_LAST_EVENT, 4, 0, NULL, 0, top, NULL, &n_out);
        CHECK(n_out == 99);
        CHECK(state_is(theirs, blob, blen) && state_is(mine, mblob, mlen)); /* nothing changed */
        /* moving a user between them is what lsrec_state_rebase is for */
        OK(lsrec_state_rebase, m, theirs, &r, NULL);
        lsrec_state_free(r);
        free(blob);
        free(mblob);
        lsrec_state_free(theirs);
        lsrec_state_free(mine);
        lsrec_model_free(other);
    }
    free(f);
}

static void test_model_queries(const lsrec_model *m) {
    section("model queries and metadata");
    CHECK(lsrec_model_n_items(m) == N_ITEMS);
    CHECK(lsrec_model_dim(m) == DIM);

    int64_t ids[N_ITEMS + 1];
    ids[N_ITEMS - 1] = 42;
    EXPECT(LSREC_E_BUFFER_TOO_SMALL, lsrec_model_item_ids, m, ids, N_ITEMS - 1);
    CHECK(strstr(lsrec_last_error(), "300") != NULL);
    CHECK(ids[N_ITEMS - 1] == 42);
    EXPECT(LSREC_E_BUFFER_TOO_SMALL, lsrec_model_item_ids, m, ids, 0);
    ids[N_ITEMS] = 4242;
    OK(lsrec_model_item_ids, m, ids, N_ITEMS + 1);
    int ids_ok = 1;
    for (int i = 0; i < N_ITEMS; i++) ids_ok &= ids[i] == ID(i);
    CHECK(ids_ok);
    CHECK(ids[N_ITEMS] == 4242); /* only N entries written */

    char buf[64];
    CHECK(lsrec_model_meta(m, "general.architecture", buf, sizeof buf) == 8 && strcmp(buf, "lsrec-v1") == 0);
    CHECK(lsrec_model_meta(m, "general.architecture", NULL, 0) == 8); /* a length query */
    memset(buf, '#', sizeof buf);
    CHECK(lsrec_model_meta(m, "general.architecture", buf, 4) == 8);
    CHECK(strcmp(buf, "lsr") == 0 && buf[4] == '#'); /* NUL-terminated, nothing beyond cap */
    memset(buf, '#', sizeof buf);
    CHECK(lsrec_model_meta(m, "general.architecture", buf, 1) == 8 && buf[0] == '\0' && buf[1] == '#');
    memset(buf, '#', sizeof buf);
    CHECK(lsrec_model_meta(m, "general.architecture", buf, 8) == 8 && strcmp(buf, "lsrec-v") == 0);
    CHECK(lsrec_model_meta(m, "general.architecture", buf, 9) == 8 && strcmp(buf, "lsrec-v1") == 0);
    memset(buf, '#', sizeof buf);
    CHECK(lsrec_model_meta(m, "general.architecture", buf, 0) == 8 && buf[0] == '#'); /* cap 0 writes nothing */
    CHECK(lsrec_model_meta(m, "lsrec.dim", buf, sizeof buf) == 2 && strcmp(buf, "16") == 0);
    CHECK(lsrec_model_meta(m, "lsrec.history", buf, sizeof buf) == 2 && strcmp(buf, "20") == 0);
    CHECK(lsrec_model_meta(m, "lsrec.n_items", buf, sizeof buf) == 3 && strcmp(buf, "300") == 0);
    CHECK(lsrec_model_meta(m, "general.fingerprint", buf, sizeof buf) == 16 && strspn(buf, "0123456789abcdef") == 16);
    EXPECT_META_FAILS(m, "no.such.key", buf, sizeof buf);
    CHECK(strstr(lsrec_last_error(), "no.such.key") != NULL);
    EXPECT_META_FAILS(m, "no.such.key", NULL, 0);
    EXPECT_META_FAILS(m, "", buf, sizeof buf);
}

/* Every pointer argument of every function, NULL in turn: LSREC_E_INVALID_ARGUMENT, never a crash. */
static void test_null_arguments(const lsrec_model *m, const char *path, const unsigned char *file, size_t len) {
    section("NULL arguments");
    lsrec_model *mo = NULL;
    lsrec_state *s = NULL, *so = NULL;
    OK(lsrec_state_new, m, &s);
    OK(lsrec_state_update, m, s, ID(1), T0);
    int64_t items[3] = {ID(1), ID(2), ID(3)}, ts[3] = {T0, T0, T0};
    int64_t ids[8];
    float f[N_ITEMS];
    size_t n = 77;
    unsigned char blob[4096];
    size_t blob_len;

    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_model_load, NULL, &mo);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_model_load, path, NULL);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_model_load_memory, NULL, len, &mo);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_model_load_memory, file, len, NULL);
    lsrec_model_free(NULL);
    CHECK(lsrec_model_n_items(NULL) == -1);
    CHECK(lsrec_model_dim(NULL) == -1);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_model_item_ids, NULL, ids, 8);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_model_item_ids, m, NULL, N_ITEMS);
    EXPECT_META_FAILS(NULL, "lsrec.dim", (char *)blob, sizeof blob);
    EXPECT_META_FAILS(m, NULL, (char *)blob, sizeof blob);
    EXPECT_META_FAILS(m, "lsrec.dim", NULL, 8);

    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_new, NULL, &so);
    CHECK(so == NULL);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_new, m, NULL);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_clone, NULL, &so);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_clone, s, NULL);
    lsrec_state_free(NULL);
    CHECK(lsrec_state_n_events(NULL) == -1);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update, NULL, s, ID(1), T0);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update, m, NULL, ID(1), T0);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update_many, NULL, s, items, ts, 3);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update_many, m, NULL, items, ts, 3);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update_many, m, s, NULL, ts, 3);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update_many, m, s, items, NULL, 3);
    OK(lsrec_state_update_many, m, s, NULL, NULL, 0); /* n = 0: nothing to read */
    CHECK(lsrec_state_n_events(s) == 1);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_serialize, NULL, blob, sizeof blob, &blob_len);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_serialize, s, NULL, sizeof blob, &blob_len);
    OK(lsrec_state_serialize, s, NULL, 0, NULL);             /* size query without *needed */
    OK(lsrec_state_serialize, s, blob, sizeof blob, NULL);   /* needed may be NULL */
    OK(lsrec_state_serialize, s, blob, sizeof blob, &blob_len);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_deserialize, NULL, blob, blob_len, &so);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_deserialize, m, NULL, blob_len, &so);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_deserialize, m, blob, blob_len, NULL);
    CHECK(so == NULL);

    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_score, NULL, s, LSREC_NOW_LAST_EVENT, f, N_ITEMS);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_score, m, NULL, LSREC_NOW_LAST_EVENT, f, N_ITEMS);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_score, m, s, LSREC_NOW_LAST_EVENT, NULL, N_ITEMS);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_score_items, NULL, s, LSREC_NOW_LAST_EVENT, items, 3, f);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_score_items, m, NULL, LSREC_NOW_LAST_EVENT, items, 3, f);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_score_items, m, s, LSREC_NOW_LAST_EVENT, NULL, 3, f);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_score_items, m, s, LSREC_NOW_LAST_EVENT, items, 3, NULL);
    OK(lsrec_score_items, m, s, LSREC_NOW_LAST_EVENT, NULL, 0, NULL); /* n = 0 */

    ids[0] = 123;
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_topk, NULL, s, LSREC_NOW_LAST_EVENT, 8, 0, NULL, 0, ids, f, &n);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_topk, m, NULL, LSREC_NOW_LAST_EVENT, 8, 0, NULL, 0, ids, f, &n);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_topk, m, s, LSREC_NOW_LAST_EVENT, 8, 0, NULL, 2, ids, f, &n);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_topk, m, s, LSREC_NOW_LAST_EVENT, 8, 0, NULL, 0, NULL, f, &n);
    CHECK(ids[0] == 123 && n == 77); /* failures write nothing */
    OK(lsrec_topk, m, s, LSREC_NOW_LAST_EVENT, 8, 0, NULL, 0, ids, NULL, NULL); /* optional outputs */
    CHECK(ids[0] != 123);

    const lsrec_state *one[1] = {s}, *with_null[2] = {s, NULL};
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_topk_batch, NULL, one, 1, LSREC_NOW_LAST_EVENT, 8, 0, ids, f);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_topk_batch, m, NULL, 1, LSREC_NOW_LAST_EVENT, 8, 0, ids, f);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_topk_batch, m, with_null, 2, LSREC_NOW_LAST_EVENT, 4, 0, ids, f);
    CHECK(strstr(lsrec_last_error(), "states[1]") != NULL);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_topk_batch, m, one, 1, LSREC_NOW_LAST_EVENT, 8, 0, NULL, f);
    OK(lsrec_topk_batch, m, one, 1, LSREC_NOW_LAST_EVENT, 8, 0, ids, NULL);
    OK(lsrec_topk_batch, m, NULL, 0, LSREC_NOW_LAST_EVENT, 8, 0, NULL, NULL); /* no users */

    float w[8];
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_explain, NULL, s, ID(5), 3, ids, w, &n);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_explain, m, NULL, ID(5), 3, ids, w, &n);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_explain, m, s, ID(5), 3, NULL, w, &n);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_explain, m, s, ID(5), 3, ids, NULL, &n);
    OK(lsrec_explain, m, s, ID(5), 3, ids, w, NULL);

    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_user_vector, NULL, s, LSREC_NOW_LAST_EVENT, f, DIM);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_user_vector, m, NULL, LSREC_NOW_LAST_EVENT, f, DIM);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_user_vector, m, s, LSREC_NOW_LAST_EVENT, NULL, DIM);

    /* A handle of the wrong kind is refused too (the library tags its handles). */
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update, (const lsrec_model *)s, s, ID(1), T0);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_score, m, (const lsrec_state *)m, LSREC_NOW_LAST_EVENT, f, N_ITEMS);
    CHECK(lsrec_model_n_items((const lsrec_model *)s) == -1);
    CHECK(lsrec_state_n_events((const lsrec_state *)m) == -1);
    lsrec_state_free((lsrec_state *)m); /* ignored: not a state */
    lsrec_model_free((lsrec_model *)s); /* ignored: not a model */
    CHECK(lsrec_model_n_items(m) == N_ITEMS && lsrec_state_n_events(s) == 1);

    /* Other invalid values. */
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_score, m, s, -2, f, N_ITEMS);   /* now < -1 */
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_topk, m, s, INT64_MIN, 8, 0, NULL, 0, ids, f, &n);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_topk, m, s, LSREC_NOW_LAST_EVENT, 8, 2u, NULL, 0, ids, f, &n); /* flag */
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_topk_batch, m, one, 1, LSREC_NOW_LAST_EVENT, 8, 0x80u, ids, f);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_user_vector, m, s, -3, f, DIM);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_topk, m, s, LSREC_NOW_LAST_EVENT, SIZE_MAX, 0, NULL, 0, ids, f, &n);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_topk_batch, m, one, SIZE_MAX / 2, LSREC_NOW_LAST_EVENT, 4, 0, ids, f);
    lsrec_state_free(s);
}

static void test_k_and_buffers(const lsrec_model *m) {
    section("k = 0, k > N, buffers too small");
    lsrec_state *s = state_with(m, 1, 5), *fresh = NULL;
    OK(lsrec_state_new, m, &fresh);
    int64_t ids[N_ITEMS + 8];
    float f[N_ITEMS + 8], w[8];
    size_t n = 99;

    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_topk, m, s, LSREC_NOW_LAST_EVENT, 0, 0, NULL, 0, ids, f, &n);
    CHECK(n == 99);
    const lsrec_state *one[1] = {s};
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_topk_batch, m, one, 1, LSREC_NOW_LAST_EVENT, 0, 0, ids, f);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_explain, m, s, ID(1), 0, ids, w, &n);

    /* k > N: N real results, then id -1 and -INFINITY */
    const size_t k = N_ITEMS + 5;
    OK(lsrec_topk, m, s, LSREC_NOW_LAST_EVENT, k, 0, NULL, 0, ids, f, &n);
    CHECK(n == N_ITEMS);
    int pad_ok = 1;
    for (size_t r = N_ITEMS; r < k; r++) pad_ok &= ids[r] == -1 && is_neg_inf(f[r]);
    CHECK(pad_ok);
    int real_ok = 1;
    for (size_t r = 0; r < N_ITEMS; r++) real_ok &= index_of_id(ids[r]) >= 0 && isfinite(f[r]);
    CHECK(real_ok);
    /* every item exactly once */
    unsigned char seen[N_ITEMS] = {0};
    int once = 1;
    for (size_t r = 0; r < N_ITEMS; r++) { int i = index_of_id(ids[r]); once &= i >= 0 && !seen[i]; if (i >= 0) seen[i] = 1; }
    CHECK(once);
    OK(lsrec_topk_batch, m, one, 1, LSREC_NOW_LAST_EVENT, k, 0, ids, f);
    CHECK(ids[N_ITEMS] == -1 && ids[k - 1] == -1 && is_neg_inf(f[k - 1]));

    /* buffers too small: the message (and *needed) names the size */
    f[N_ITEMS - 2] = 7.0f;
    EXPECT(LSREC_E_BUFFER_TOO_SMALL, lsrec_score, m, s, LSREC_NOW_LAST_EVENT, f, N_ITEMS - 1);
    CHECK(strstr(lsrec_last_error(), "300") != NULL);
    CHECK(f[N_ITEMS - 2] == 7.0f);
    EXPECT(LSREC_E_BUFFER_TOO_SMALL, lsrec_score, m, s, LSREC_NOW_LAST_EVENT, f, 0);
    EXPECT(LSREC_E_BUFFER_TOO_SMALL, lsrec_user_vector, m, s, LSREC_NOW_LAST_EVENT, f, DIM - 1);
    CHECK(strstr(lsrec_last_error(), "16") != NULL);
    CHECK(f[N_ITEMS - 2] == 7.0f);
    OK(lsrec_user_vector, m, s, LSREC_NOW_LAST_EVENT, f, DIM);

    size_t needed = 0, needed2 = 0;
    OK(lsrec_state_serialize, s, NULL, 0, &needed);
    CHECK(needed > 60 && needed < 4096);
    unsigned char *buf = xmalloc(needed + 16);
    memset(buf, 0xAB, needed + 16);
    EXPECT(LSREC_E_BUFFER_TOO_SMALL, lsrec_state_serialize, s, buf, needed - 1, &needed2);
    CHECK(needed2 == needed);
    char size_text[32];
    snprintf(size_text, sizeof size_text, "%zu", needed);
    CHECK(strstr(lsrec_last_error(), size_text) != NULL);
    int untouched = 1;
    for (size_t i = 0; i < needed + 16; i++) untouched &= buf[i] == 0xAB;
    CHECK(untouched);
    EXPECT(LSREC_E_BUFFER_TOO_SMALL, lsrec_state_serialize, s, buf, 0, &needed2); /* dst given, cap 0 */
    OK(lsrec_state_serialize, s, buf, needed + 16, &needed2);
    CHECK(needed2 == needed && buf[needed] == 0xAB); /* exactly `needed` bytes written */

    /* explain with k larger than the distinct history: padded with id -1 and weight 0 */
    int64_t e_ids[8];
    float e_w[8];
    OK(lsrec_explain, m, fresh, ID(3), 8, e_ids, e_w, &n);
    CHECK(n == 0 && e_ids[0] == -1 && e_w[0] == 0.0f && e_ids[7] == -1 && e_w[7] == 0.0f);
    free(buf);
    lsrec_state_free(s);
    lsrec_state_free(fresh);
}

static void test_unknown_items_and_times(const lsrec_model *m) {
    section("unknown items, timestamps, update_many all-or-nothing");
    lsrec_state *s = NULL;
    OK(lsrec_state_new, m, &s);
    OK(lsrec_state_update, m, s, ID(10), T0);
    OK(lsrec_state_update, m, s, ID(11), T0 + 100);
    size_t len;
    unsigned char *before = blob_of(s, &len);

    /* unknown ids: nothing changes, nothing written */
    EXPECT(LSREC_E_UNKNOWN_ITEM, lsrec_state_update, m, s, 1001, T0 + 200); /* not 1000 + 7i */
    CHECK(strstr(lsrec_last_error(), "1001") != NULL);
    EXPECT(LSREC_E_UNKNOWN_ITEM, lsrec_state_update, m, s, -1, T0 + 200);
    EXPECT(LSREC_E_UNKNOWN_ITEM, lsrec_state_update, m, s, ID(N_ITEMS), T0 + 200);
    CHECK(state_is(s, before, len) && lsrec_state_n_events(s) == 2);

    int64_t items[3] = {ID(1), 999, ID(2)};
    float out[3] = {5, 5, 5};
    EXPECT(LSREC_E_UNKNOWN_ITEM, lsrec_score_items, m, s, LSREC_NOW_LAST_EVENT, items, 3, out);
    CHECK(strstr(lsrec_last_error(), "999") != NULL);
    CHECK(out[0] == 5 && out[1] == 5 && out[2] == 5);
    int64_t e_ids[3] = {7, 7, 7};
    float e_w[3] = {5, 5, 5};
    size_t n = 42;
    EXPECT(LSREC_E_UNKNOWN_ITEM, lsrec_explain, m, s, 999, 3, e_ids, e_w, &n);
    CHECK(e_ids[0] == 7 && e_w[0] == 5 && n == 42);

    /* times */
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update, m, s, ID(12), -2);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update, m, s, ID(12), INT64_MIN);
    EXPECT(LSREC_E_OUT_OF_ORDER, lsrec_state_update, m, s, ID(12), T0 + 99);
    EXPECT(LSREC_E_OUT_OF_ORDER, lsrec_state_update, m, s, ID(12), 0);
    CHECK(state_is(s, before, len));
    OK(lsrec_state_update, m, s, ID(12), T0 + 100);           /* equal time: fine */
    OK(lsrec_state_update, m, s, ID(13), LSREC_TS_UNKNOWN);   /* unknown: always fine */
    CHECK(lsrec_state_n_events(s) == 4);
    EXPECT(LSREC_E_OUT_OF_ORDER, lsrec_state_update, m, s, ID(14), T0 + 99); /* the clock did not move back */
    OK(lsrec_state_update, m, s, ID(14), T0 + 101);
    OK(lsrec_state_update, m, s, ID(15), INT64_MAX);           /* far future, still ordered */
    OK(lsrec_state_update, m, s, ID(16), INT64_MAX);
    EXPECT(LSREC_E_OUT_OF_ORDER, lsrec_state_update, m, s, ID(16), INT64_MAX - 1);
    float f[N_ITEMS];
    OK(lsrec_score, m, s, 0, f, N_ITEMS);                     /* a request before the last event */
    OK(lsrec_score, m, s, INT64_MAX, f, N_ITEMS);
    int finite = 1;
    for (int i = 0; i < N_ITEMS; i++) finite &= isfinite(f[i]);
    CHECK(finite);
    free(before);
    lsrec_state_free(s);

    /* zero is a valid unix time (1970-01-01): as a first event, repeated, and before unknowns */
    OK(lsrec_state_new, m, &s);
    OK(lsrec_state_update, m, s, ID(30), 0);
    OK(lsrec_state_update, m, s, ID(31), 0);
    OK(lsrec_state_update, m, s, ID(32), LSREC_TS_UNKNOWN);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update, m, s, ID(33), -2);
    int64_t zi[3] = {ID(34), ID(35), ID(36)}, zt[3] = {0, LSREC_TS_UNKNOWN, 0};
    OK(lsrec_state_update_many, m, s, zi, zt, 3);
    CHECK(lsrec_state_n_events(s) == 6);
    OK(lsrec_score, m, s, 0, f, N_ITEMS);
    lsrec_state_free(s);

    /* update_many: the 3rd event is bad in different ways -> error, state unchanged */
    OK(lsrec_state_new, m, &s);
    OK(lsrec_state_update, m, s, ID(20), T0 + 50);
    before = blob_of(s, &len);
    struct { int64_t item3, ts3; lsrec_status want; } bad[] = {
        {999, T0 + 300, LSREC_E_UNKNOWN_ITEM},
        {ID(3), -7, LSREC_E_INVALID_ARGUMENT},
        {ID(3), T0 + 150, LSREC_E_OUT_OF_ORDER}, /* earlier than event 2 of the batch */
        {ID(3), T0 + 10, LSREC_E_OUT_OF_ORDER},  /* earlier than the state's last event */
    };
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        int64_t it[5] = {ID(1), ID(2), bad[b].item3, ID(4), ID(5)};
        int64_t t[5] = {T0 + 100, T0 + 200, bad[b].ts3, T0 + 400, T0 + 500};
        EXPECT(bad[b].want, lsrec_state_update_many, m, s, it, t, 5);
        CHECK(strstr(lsrec_last_error(), "event 2") || strstr(lsrec_last_error(), "items[2]")); /* names it */
        CHECK(state_is(s, before, len));
        CHECK(lsrec_state_n_events(s) == 1);
    }
    free(before);

    /* update_many == the same events one by one (bit-identical state) */
    lsrec_state *a = NULL, *b = NULL;
    int64_t it[40], t[40];
    make_events(7, 40, it, t);
    OK(lsrec_state_new, m, &a);
    OK(lsrec_state_new, m, &b);
    OK(lsrec_state_update_many, m, a, it, t, 40);
    for (int i = 0; i < 40; i++) OK(lsrec_state_update, m, b, it[i], t[i]);
    unsigned char *ba = blob_of(a, &len);
    CHECK(state_is(b, ba, len));
    CHECK(lsrec_state_n_events(a) == 40);
    free(ba);
    lsrec_state_free(a);
    lsrec_state_free(b);
    lsrec_state_free(s);
}

/* topk against a full sort of lsrec_score; score_items against lsrec_score; topk_batch against topk. */
static void test_ranking(const lsrec_model *m) {
    section("topk == sorted lsrec_score, score_items, topk_batch, explain");
    enum { N_STATES = 6 };
    const size_t n_events[N_STATES] = {0, 1, 3, 19, 20, 57}; /* below, at and beyond L = 20 */
    lsrec_state *st[N_STATES];
    int64_t ev_items[N_STATES][64], ev_ts[N_STATES][64];
    for (int u = 0; u < N_STATES; u++) {
        make_events(100 + u, n_events[u], ev_items[u], ev_ts[u]);
        OK(lsrec_state_new, m, &st[u]);
        OK(lsrec_state_update_many, m, st[u], ev_items[u], ev_ts[u], n_events[u]);
    }
    const int64_t nows[] = {LSREC_NOW_LAST_EVENT, 0, T0 + 5000000, INT64_MAX};
    static float scores[N_ITEMS];
    static int64_t got_ids[N_ITEMS + 10], want_ids[N_ITEMS + 10];
    static float got[N_ITEMS + 10], want[N_ITEMS + 10];

    for (int u = 0; u < N_STATES; u++) {
        for (size_t q = 0; q < sizeof nows / sizeof nows[0]; q++) {
            int64_t now = nows[q];
            OK(lsrec_score, m, st[u], now, scores, N_ITEMS);
            /* seen = the held events: the last min(n, L) */
            unsigned char seen[N_ITEMS] = {0};
            size_t first = n_events[u] > HISTORY ? n_events[u] - HISTORY : 0;
            for (size_t e = first; e < n_events[u]; e++) seen[index_of_id(ev_items[u][e])] = 1;
            const size_t ks[] = {1, 10, N_ITEMS, N_ITEMS + 10};
            for (size_t kk = 0; kk < 4; kk++) {
                size_t k = ks[kk], n_out = 0;
                for (int flags = 0; flags <= 1; flags++) {
                    size_t want_n = reference_topk(scores, flags ? seen : NULL, k, want_ids, want);
                    OK(lsrec_topk, m, st[u], now, k, (uint32_t)flags, NULL, 0, got_ids, got, &n_out);
                    CHECK(n_out == want_n);
                    CHECK(memcmp(got_ids, want_ids, k * sizeof got_ids[0]) == 0);
                    CHECK(memcmp(got, want, k * sizeof got[0]) == 0);
                }
                /* an exclude list (with an unknown id, ignored) on top of EXCLUDE_SEEN */
                int64_t excl[4] = {want_ids[0], 5, ID(299), ID(0)};
                unsigned char both[N_ITEMS];
                memcpy(both, seen, sizeof both);
                for (int e = 0; e < 4; e++) if (index_of_id(excl[e]) >= 0) both[index_of_id(excl[e])] = 1;
                size_t want_n = reference_topk(scores, both, k, want_ids, want);
                OK(lsrec_topk, m, st[u], now, k, LSREC_EXCLUDE_SEEN, excl, 4, got_ids, got, &n_out);
                CHECK(n_out == want_n);
                CHECK(memcmp(got_ids, want_ids, k * sizeof got_ids[0]) == 0);
            }
            /* score_items: any order, repeats */
            int64_t pick[6] = {ID(299), ID(0), ID(17), ID(17), ID(150), ID(1)};
            float some[6];
            OK(lsrec_score_items, m, st[u], now, pick, 6, some);
            int close = 1;
            for (int i = 0; i < 6; i++) close &= fabsf(some[i] - scores[index_of_id(pick[i])]) <= 1e-5f;
            CHECK(close);
        }
    }

    /* topk_batch == per-user topk */
    const lsrec_state *users[N_STATES];
    for (int u = 0; u < N_STATES; u++) users[u] = st[u];
    const size_t ks[] = {1, 10, N_ITEMS + 3};
    for (size_t kk = 0; kk < 3; kk++) {
        size_t k = ks[kk];
        for (int flags = 0; flags <= 1; flags++) {
            int64_t *b_ids = xmalloc(N_STATES * k * sizeof *b_ids);
            float *b_scores = xmalloc(N_STATES * k * sizeof *b_scores);
            OK(lsrec_topk_batch, m, users, N_STATES, T0 + 1234567, k, (uint32_t)flags, b_ids, b_scores);
            for (int u = 0; u < N_STATES; u++) {
                size_t n_out;
                OK(lsrec_topk, m, st[u], T0 + 1234567, k, (uint32_t)flags, NULL, 0, got_ids, got, &n_out);
                CHECK(memcmp(b_ids + u * k, got_ids, k * sizeof got_ids[0]) == 0);
                int close = 1;
                for (size_t r = 0; r < k; r++)
                    close &= r < n_out ? fabsf(b_scores[u * k + r] - got[r]) <= 1e-5f : is_neg_inf(b_scores[u * k + r]);
                CHECK(close);
            }
            free(b_ids);
            free(b_scores);
        }
    }

    /* explain: at most k, largest first, only held items, padded */
    for (int u = 0; u < N_STATES; u++) {
        int64_t e_ids[5];
        float e_w[5];
        size_t n_out = 99;
        OK(lsrec_explain, m, st[u], ID(42), 5, e_ids, e_w, &n_out);
        size_t first = n_events[u] > HISTORY ? n_events[u] - HISTORY : 0;
        unsigned char seen[N_ITEMS] = {0};
        size_t distinct = 0;
        for (size_t e = first; e < n_events[u]; e++) {
            int i = index_of_id(ev_items[u][e]);
            if (!seen[i]) { seen[i] = 1; distinct++; }
        }
        CHECK(n_out == (distinct < 5 ? distinct : 5));
        int ok = 1;
        for (size_t r = 0; r < 5; r++) {
            if (r < n_out) {
                int i = index_of_id(e_ids[r]);
                ok &= i >= 0 && seen[i] && isfinite(e_w[r]) && (r == 0 || e_w[r] <= e_w[r - 1]);
            } else {
                ok &= e_ids[r] == -1 && e_w[r] == 0.0f;
            }
        }
        CHECK(ok);
    }

    /* a new user: u = 0, scores are the biases (popularity) */
    float u_vec[DIM];
    OK(lsrec_user_vector, m, st[0], LSREC_NOW_LAST_EVENT, u_vec, DIM);
    int zero = 1;
    for (int j = 0; j < DIM; j++) zero &= u_vec[j] == 0.0f;
    CHECK(zero);
    OK(lsrec_user_vector, m, st[5], T0, u_vec, DIM);
    int nonzero = 0;
    for (int j = 0; j < DIM; j++) nonzero |= u_vec[j] != 0.0f && isfinite(u_vec[j]);
    CHECK(nonzero);

    for (int u = 0; u < N_STATES; u++) lsrec_state_free(st[u]);
}

/* lsrec_state_update_topk against lsrec_state_update then lsrec_topk on a clone, on the plain and
 * the screened model: the same ids and score bits, the same state after (blob bytes); every
 * refused call leaves the state, the buffers and *n_out as they were. */
static void expect_update_topk_equal(const lsrec_model *m, lsrec_state *s, int64_t item, int64_t ts, int64_t now,
                                     size_t k, uint32_t flags, const int64_t *ex, size_t n_ex) {
    lsrec_state *ref = NULL;
    OK(lsrec_state_clone, s, &ref);
    int64_t a_ids[N_ITEMS + 4], b_ids[N_ITEMS + 4];
    float a_sc[N_ITEMS + 4], b_sc[N_ITEMS + 4];
    size_t a_n = 0, b_n = 1;
    OK(lsrec_state_update, m, ref, item, ts);
    OK(lsrec_topk, m, ref, now, k, flags, ex, n_ex, a_ids, a_sc, &a_n);
    OK(lsrec_state_update_topk, m, s, item, ts, now, k, flags, ex, n_ex, b_ids, b_sc, &b_n);
    CHECK(a_n == b_n);
    CHECK(memcmp(a_ids, b_ids, k * sizeof a_ids[0]) == 0 && memcmp(a_sc, b_sc, k * sizeof a_sc[0]) == 0);
    size_t len;
    unsigned char *blob = blob_of(ref, &len);
    CHECK(state_is(s, blob, len));
    free(blob);
    lsrec_state_free(ref);
}

static void test_update_topk(const char *path, const lsrec_model *plain) {
    section("lsrec_state_update_topk = update + topk; refused calls change nothing");
    lsrec_model_params p = lsrec_model_default_params();
    p.flags = LSREC_MODEL_SCREEN_ITEMS;
    lsrec_model *screened = NULL;
    OK(lsrec_model_load_ex, path, &p, &screened);
    const lsrec_model *models[2] = {plain, screened};
    int64_t ex[3] = {ID(4), ID(9), 424242 /* unknown: ignored */};
    for (int mi = 0; mi < 2; mi++) {
        const lsrec_model *m = models[mi];
        lsrec_state *s = state_with(m, 11, 30), *fresh = NULL;
        OK(lsrec_state_new, m, &fresh);
        int64_t t = T0 + 86400 * 400;
        for (int e = 0; e < 6; e++) {
            t += 90;
            expect_update_topk_equal(m, s, ID(3 * e + 1), t, LSREC_NOW_LAST_EVENT, 10, 0, NULL, 0);
            t += 60;
            expect_update_topk_equal(m, s, ID(5 * e + 2), t, t + 3600, 7, LSREC_EXCLUDE_SEEN, ex, 3);
        }
        expect_update_topk_equal(m, s, ID(17), LSREC_TS_UNKNOWN, LSREC_NOW_LAST_EVENT, 3, 0, ex, 2);
        expect_update_topk_equal(m, s, ID(18), t, LSREC_NOW_LAST_EVENT, N_ITEMS + 3, 0, NULL, 0); /* k > N */
        expect_update_topk_equal(m, fresh, ID(1), T0, LSREC_NOW_LAST_EVENT, 5, LSREC_EXCLUDE_SEEN, NULL, 0);

        /* Refused: the state (blob bytes), out_items, out_scores and *n_out stay as they were. */
        size_t lb;
        unsigned char *before = blob_of(s, &lb);
        int64_t ids[8] = {123, 123, 123, 123, 123, 123, 123, 123};
        float sc[8] = {5, 5, 5, 5, 5, 5, 5, 5};
        size_t n = 77;
        EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update_topk, NULL, s, ID(2), t + 1, -1, 8, 0, NULL, 0, ids, sc, &n);
        EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update_topk, m, NULL, ID(2), t + 1, -1, 8, 0, NULL, 0, ids, sc, &n);
        EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update_topk, m, s, ID(2), t + 1, -1, 0, 0, NULL, 0, ids, sc, &n);
        EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update_topk, m, s, ID(2), t + 1, -1, SIZE_MAX, 0, NULL, 0, ids, sc, &n);
        EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update_topk, m, s, ID(2), t + 1, -1, 8, 2u, NULL, 0, ids, sc, &n);
        EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update_topk, m, s, ID(2), t + 1, -5, 8, 0, NULL, 0, ids, sc, &n);
        EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update_topk, m, s, ID(2), t + 1, -1, 8, 0, NULL, 2, ids, sc, &n);
        EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update_topk, m, s, ID(2), t + 1, -1, 8, 0, NULL, 0, NULL, sc, &n);
        CHECK(strstr(lsrec_last_error(), "lsrec_state_update_topk") != NULL && strstr(lsrec_last_error(), "out_items") != NULL);
        EXPECT(LSREC_E_UNKNOWN_ITEM, lsrec_state_update_topk, m, s, 424242, t + 1, -1, 8, 0, NULL, 0, ids, sc, &n);
        EXPECT(LSREC_E_OUT_OF_ORDER, lsrec_state_update_topk, m, s, ID(2), t - 1, -1, 8, 0, NULL, 0, ids, sc, &n);
        EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update_topk, m, s, ID(2), -7, -1, 8, 0, NULL, 0, ids, sc, &n);
        EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update_topk, m, (lsrec_state *)m, ID(2), t + 1, -1, 8, 0, NULL, 0, ids, sc, &n);
        CHECK(state_is(s, before, lb));
        free(before);
        int untouched = n == 77;
        for (int i = 0; i < 8; i++) untouched &= ids[i] == 123 && sc[i] == 5.0f;
        CHECK(untouched);
        /* out_scores and n_out are optional (a state of another model: "hostile files"). */
        OK(lsrec_state_update_topk, m, fresh, ID(2), T0 + 5, -1, 8, 0, NULL, 0, ids, NULL, NULL);
        CHECK(ids[0] != 123 && sc[0] == 5.0f && lsrec_state_n_events(fresh) == 2);
        lsrec_state_free(s);
        lsrec_state_free(fresh);
    }
    lsrec_model_free(screened);
}

static void test_model_params(const char *path, const unsigned char *file, size_t len) {
    section("lsrec_model_params: defaults, validation, the screen");
    lsrec_model_params p = lsrec_model_default_params();
    CHECK(p.size == sizeof(lsrec_model_params) && p.flags == 0);
    lsrec_model *m = (lsrec_model *)&m;
    /* NULL params: the defaults. */
    OK(lsrec_model_load_ex, path, NULL, &m);
    CHECK(lsrec_model_screens_items(m) == 0);
    lsrec_model_free(m);
    OK(lsrec_model_load_ex, path, &p, &m);
    CHECK(lsrec_model_screens_items(m) == 0);
    lsrec_model_free(m);
    CHECK(lsrec_model_screens_items(NULL) == -1);

    /* Bad params change nothing and leave *out NULL. */
    lsrec_model_params bad = p;
    bad.flags = 0x80u;
    m = (lsrec_model *)&m;
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_model_load_ex, path, &bad, &m);
    CHECK(m == NULL && strstr(lsrec_last_error(), "unknown bits") != NULL);
    m = (lsrec_model *)&m;
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_model_load_memory_ex, file, len, &bad, &m);
    CHECK(m == NULL);
    bad = p;
    bad.size = 4;
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_model_load_ex, path, &bad, &m);
    CHECK(m == NULL && strstr(lsrec_last_error(), "size is 4") != NULL);
    bad.size = 1u << 20;
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_model_load_ex, path, &bad, &m);
    /* A struct from a newer header: accepted when its extra fields are zero, refused otherwise. */
    struct { lsrec_model_params p; uint32_t later[2]; } newer = {p, {0, 0}};
    newer.p.size = sizeof newer;
    OK(lsrec_model_load_ex, path, &newer.p, &m);
    lsrec_model_free(m);
    newer.later[1] = 7;
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_model_load_ex, path, &newer.p, &m);
    CHECK(m == NULL && strstr(lsrec_last_error(), "does not know") != NULL);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_model_load_ex, NULL, &p, &m);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_model_load_ex, path, &p, NULL);
    EXPECT(LSREC_E_IO, lsrec_model_load_ex, "/nonexistent/model.lsrec", &p, &m);
    CHECK(m == NULL);

    /* The screen: top-K must equal the sorted exact scores, ids and bits (test_ranking), from
     * a file and from memory; a state of the plain model works with the screened one (same
     * weights, same fingerprint). */
    p.flags = LSREC_MODEL_SCREEN_ITEMS;
    lsrec_model *screened = NULL, *from_memory = NULL;
    OK(lsrec_model_load_ex, path, &p, &screened);
    OK(lsrec_model_load_memory_ex, file, len, &p, &from_memory);
    CHECK(lsrec_model_screens_items(screened) == lsrec_model_screens_items(from_memory));
    printf("    (screen %s on this CPU)\n", lsrec_model_screens_items(screened) == 1 ? "active" : "not available");
    test_ranking(screened);
    test_ranking(from_memory);
    lsrec_model_free(screened);
    lsrec_model_free(from_memory);
}

static void test_state_blobs(const lsrec_model *m) {
    section("state blobs: round trip, clone, damage");
    lsrec_state *s = state_with(m, 9, 45), *r = NULL, *c = NULL;
    size_t len;
    unsigned char *blob = blob_of(s, &len);
    CHECK(memcmp(blob, "LSRS", 4) == 0);

    /* round trip: bit-identical scores, identical bytes, same event count */
    OK(lsrec_state_deserialize, m, blob, len, &r);
    static float a[N_ITEMS], b[N_ITEMS];
    OK(lsrec_score, m, s, T0 + 99999999, a, N_ITEMS);
    OK(lsrec_score, m, r, T0 + 99999999, b, N_ITEMS);
    CHECK(memcmp(a, b, sizeof a) == 0);
    OK(lsrec_score, m, r, LSREC_NOW_LAST_EVENT, b, N_ITEMS);
    OK(lsrec_score, m, s, LSREC_NOW_LAST_EVENT, a, N_ITEMS);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(state_is(r, blob, len));
    CHECK(lsrec_state_n_events(r) == 45);
    /* ... and it evolves identically */
    OK(lsrec_state_update, m, s, ID(77), LSREC_TS_UNKNOWN);
    OK(lsrec_state_update, m, r, ID(77), LSREC_TS_UNKNOWN);
    OK(lsrec_score, m, s, LSREC_NOW_LAST_EVENT, a, N_ITEMS);
    OK(lsrec_score, m, r, LSREC_NOW_LAST_EVENT, b, N_ITEMS);
    CHECK(memcmp(a, b, sizeof a) == 0);

    /* clone: identical, then independent */
    OK(lsrec_state_clone, s, &c);
    size_t len2;
    unsigned char *blob2 = blob_of(s, &len2);
    CHECK(state_is(c, blob2, len2));
    OK(lsrec_state_update, m, c, ID(78), LSREC_TS_UNKNOWN);
    CHECK(state_is(s, blob2, len2) && !state_is(c, blob2, len2));
    CHECK(lsrec_state_n_events(c) == 47 && lsrec_state_n_events(s) == 46);
    free(blob2);

    /* an empty state round-trips too */
    lsrec_state *e = NULL, *e2 = NULL;
    OK(lsrec_state_new, m, &e);
    size_t elen;
    unsigned char *eblob = blob_of(e, &elen);
    OK(lsrec_state_deserialize, m, eblob, elen, &e2);
    CHECK(lsrec_state_n_events(e2) == 0 && state_is(e2, eblob, elen));
    free(eblob);
    lsrec_state_free(e);
    lsrec_state_free(e2);

    /* the blob carries the model fingerprint (bytes 12..19, little-endian) */
    char fp_text[32];
    CHECK(lsrec_model_meta(m, "general.fingerprint", fp_text, sizeof fp_text) == 16);
    uint64_t fp = strtoull(fp_text, NULL, 16), in_blob = 0;
    for (int i = 0; i < 8; i++) in_blob |= (uint64_t)blob[12 + i] << (8 * i);
    CHECK(fp == in_blob);

    /* damaged blobs: specific statuses, *out reset to NULL */
    unsigned char *bad = xmalloc(len + 1);
    lsrec_state *o = (lsrec_state *)&o;
    EXPECT(LSREC_E_TRUNCATED, lsrec_state_deserialize, m, blob, 0, &o);
    CHECK(o == NULL);
    EXPECT(LSREC_E_TRUNCATED, lsrec_state_deserialize, m, NULL, 0, &o);
    int all_truncated = 1;
    for (size_t cut = 1; cut < len; cut++) {
        memcpy(bad, blob, cut);
        all_truncated &= lsrec_state_deserialize(m, bad, cut, &o) == LSREC_E_TRUNCATED && o == NULL;
    }
    CHECK(all_truncated);
    memcpy(bad, blob, len);
    bad[len] = 0;
    EXPECT(LSREC_E_FORMAT, lsrec_state_deserialize, m, bad, len + 1, &o); /* trailing byte */
    memcpy(bad, blob, len);
    bad[len / 2 + 7] ^= 0x04;
    EXPECT(LSREC_E_CHECKSUM, lsrec_state_deserialize, m, bad, len, &o);
    memcpy(bad, blob, len);
    bad[len - 1] ^= 0x80; /* the CRC itself */
    EXPECT(LSREC_E_CHECKSUM, lsrec_state_deserialize, m, bad, len, &o);
    memcpy(bad, blob, len);
    bad[0] = 'X';
    EXPECT(LSREC_E_BAD_MAGIC, lsrec_state_deserialize, m, bad, len, &o);
    memcpy(bad, blob, len);
    bad[4] = 99;
    EXPECT(LSREC_E_VERSION, lsrec_state_deserialize, m, bad, len, &o);
    put_u32le(bad + len - 4, crc32c(bad, len - 4)); /* ... with a CRC that matches too */
    EXPECT(LSREC_E_VERSION, lsrec_state_deserialize, m, bad, len, &o);
    memcpy(bad, blob, len);
    bad[4] = 0;
    put_u32le(bad + len - 4, crc32c(bad, len - 4));
    EXPECT(LSREC_E_VERSION, lsrec_state_deserialize, m, bad, len, &o);
    CHECK(o == NULL);
    memcpy(bad, blob, len);
    bad[12] ^= 0x01; /* fingerprint damaged: the CRC catches it first */
    EXPECT(LSREC_E_CHECKSUM, lsrec_state_deserialize, m, bad, len, &o);
    /* ... and with a CRC that matches, it reads as a blob of another model */
    put_u32le(bad + len - 4, crc32c(bad, len - 4));
    EXPECT(LSREC_E_MODEL_MISMATCH, lsrec_state_deserialize, m, bad, len, &o);
    CHECK(o == NULL);
    /* a well-formed blob whose d disagrees with the model: FORMAT */
    memcpy(bad, blob, len);
    bad[20] ^= 0x01;
    put_u32le(bad + len - 4, crc32c(bad, len - 4));
    EXPECT(LSREC_E_FORMAT, lsrec_state_deserialize, m, bad, len, &o);
    /* an event count of 2^64 - 1 with a matching CRC (found by fuzzing: it was accepted and the
     * next lsrec_state_update trapped on the overflow, killing the host) */
    memcpy(bad, blob, len);
    memset(bad + 28, 0xFF, 8);
    put_u32le(bad + len - 4, crc32c(bad, len - 4));
    EXPECT(LSREC_E_FORMAT, lsrec_state_deserialize, m, bad, len, &o);
    CHECK(o == NULL && strstr(lsrec_last_error(), "event count") != NULL);

    /* every single-bit flip is refused */
    int refused = 1;
    for (size_t bit = 0; bit < 8 * len; bit++) {
        memcpy(bad, blob, len);
        bad[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        lsrec_status st = lsrec_state_deserialize(m, bad, len, &o);
        if (st == LSREC_OK) { refused = 0; lsrec_state_free(o); fprintf(stderr, "    bit %zu flip accepted\n", bit); }
    }
    CHECK(refused);
    CHECK(lsrec_last_error()[0] != '\0');

    free(bad);
    free(blob);
    lsrec_state_free(c);
    lsrec_state_free(r);
    lsrec_state_free(s);
}

/* ---- Threads ------------------------------------------------------------------------------- */

enum { N_THREADS = 4, THREAD_EVENTS = 60, ROUNDS = 25, TOPK = 10 };

typedef struct {
    int64_t ids[TOPK];
    float top_scores[TOPK];
    float scores[N_ITEMS];
    unsigned char blob[4096];
    size_t blob_len;
} result;

/* Everything one user's request produces, from a fresh state. */
static int compute(const lsrec_model *m, unsigned seed, result *out) {
    int64_t items[THREAD_EVENTS], ts[THREAD_EVENTS];
    make_events(seed, THREAD_EVENTS, items, ts);
    lsrec_state *s = NULL;
    size_t n_out;
    memset(out, 0, sizeof *out);
    int ok = lsrec_state_new(m, &s) == LSREC_OK
          && lsrec_state_update_many(m, s, items, ts, THREAD_EVENTS / 2) == LSREC_OK;
    for (size_t i = THREAD_EVENTS / 2; ok && i < THREAD_EVENTS; i++)
        ok = lsrec_state_update(m, s, items[i], ts[i]) == LSREC_OK;
    ok = ok && lsrec_topk(m, s, LSREC_NOW_LAST_EVENT, TOPK, LSREC_EXCLUDE_SEEN, NULL, 0, out->ids, out->top_scores, &n_out) == LSREC_OK
            && lsrec_score(m, s, T0 + 86400 * 365, out->scores, N_ITEMS) == LSREC_OK
            && lsrec_state_serialize(s, out->blob, sizeof out->blob, &out->blob_len) == LSREC_OK;
    lsrec_state_free(s);
    return ok;
}

typedef struct {
    const lsrec_model *model;
    int thread;
    const result *expected; /* N_THREADS results, computed on the main thread */
    pthread_barrier_t *barrier;
    int mismatches;
    int error_ok; /* the per-thread last error behaved */
} worker_arg;

static void *worker(void *p) {
    worker_arg *a = p;
    result r;
    a->mismatches = 0;
    /* 1. Shared model, own states: results equal the single-threaded ones. */
    for (int round = 0; round < ROUNDS; round++) {
        unsigned seed = (unsigned)((a->thread + round) % N_THREADS);
        const result *want = &a->expected[seed];
        if (!compute(a->model, 1000 + seed, &r) || memcmp(r.ids, want->ids, sizeof r.ids) != 0
            || memcmp(r.top_scores, want->top_scores, sizeof r.top_scores) != 0
            || memcmp(r.scores, want->scores, sizeof r.scores) != 0 || r.blob_len != want->blob_len
            || memcmp(r.blob, want->blob, r.blob_len) != 0)
            a->mismatches++;
    }
    /* 2. lsrec_last_error is per thread. All threads start from a successful history. */
    pthread_barrier_wait(a->barrier);
    int ok = lsrec_last_error()[0] == '\0'; /* this thread has not failed yet */
    char mine[32];
    snprintf(mine, sizeof mine, "%d", 770000001 + a->thread);
    if (a->thread == 0) {
        lsrec_state *s = NULL;
        ok &= lsrec_state_new(a->model, &s) == LSREC_OK;
        ok &= lsrec_state_update(a->model, s, 770000001, T0) == LSREC_E_UNKNOWN_ITEM; /* thread 0 fails */
        ok &= strstr(lsrec_last_error(), mine) != NULL;
        lsrec_state_free(s);
    }
    pthread_barrier_wait(a->barrier); /* thread 0's error is set; the others must not see it */
    if (a->thread != 0) ok &= lsrec_last_error()[0] == '\0';
    /* now every thread fails with its own id, concurrently */
    lsrec_state *s = NULL;
    ok &= lsrec_state_new(a->model, &s) == LSREC_OK;
    for (int i = 0; i < 200; i++) {
        ok &= lsrec_state_update(a->model, s, 770000001 + a->thread, T0) == LSREC_E_UNKNOWN_ITEM;
        ok &= strstr(lsrec_last_error(), mine) != NULL;
        size_t n;
        int64_t id;
        ok &= lsrec_topk(a->model, s, LSREC_NOW_LAST_EVENT, 1, 0, NULL, 0, &id, NULL, &n) == LSREC_OK;
    }
    pthread_barrier_wait(a->barrier);
    ok &= strstr(lsrec_last_error(), mine) != NULL; /* still mine after the others failed */
    lsrec_state_free(s);
    a->error_ok = ok;
    return NULL;
}

static void test_threads(const lsrec_model *m) {
    section("4 threads sharing one model; per-thread last error");
    static result expected[N_THREADS];
    for (int t = 0; t < N_THREADS; t++) CHECK(compute(m, 1000 + (unsigned)t, &expected[t]));
    for (int t = 1; t < N_THREADS; t++) CHECK(memcmp(expected[t].ids, expected[0].ids, sizeof expected[0].ids) != 0);

    /* The threads start with no error of their own; the main thread's error stays here. */
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_update, m, NULL, ID(1), T0);
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, N_THREADS);
    pthread_t th[N_THREADS];
    worker_arg args[N_THREADS];
    for (int t = 0; t < N_THREADS; t++) {
        args[t] = (worker_arg){.model = m, .thread = t, .expected = expected, .barrier = &barrier};
        CHECK(pthread_create(&th[t], NULL, worker, &args[t]) == 0);
    }
    for (int t = 0; t < N_THREADS; t++) {
        pthread_join(th[t], NULL);
        CHECK(args[t].mismatches == 0);
        CHECK(args[t].error_ok);
        if (args[t].mismatches) fprintf(stderr, "    thread %d: %d mismatching rounds\n", t, args[t].mismatches);
    }
    pthread_barrier_destroy(&barrier);
    CHECK(strcmp(lsrec_last_error(), "lsrec_state_update: state is NULL") == 0);
}

/* lsrec_state_rebase, and states outliving lsrec_model_free (they keep the weights alive). */
static void test_rebase_and_lifetime(const lsrec_model *m, const unsigned char *file, size_t len) {
    section("rebase and model lifetime");
    lsrec_model *m2 = NULL;
    OK(lsrec_model_load_memory, file, len, &m2);
    if (!m2) return;

    /* Fewer than L events: the rebased state is the same state, byte for byte. */
    lsrec_state *few = state_with(m, 11, 15), *moved = NULL;
    size_t skipped = 99;
    OK(lsrec_state_rebase, m2, few, &moved, &skipped);
    CHECK(skipped == 0);
    size_t a_len, b_len;
    unsigned char *a = blob_of(few, &a_len), *b = blob_of(moved, &b_len);
    CHECK(a_len == b_len && memcmp(a, b, a_len) == 0);
    free(a); free(b);
    lsrec_state_free(moved);

    /* More than L events: equals feeding the last L events to a new state from scratch. */
    int64_t items[60], ts[60];
    make_events(12, 60, items, ts);
    lsrec_state *many = NULL, *scratch = NULL;
    OK(lsrec_state_new, m, &many);
    OK(lsrec_state_update_many, m, many, items, ts, 60);
    OK(lsrec_state_rebase, m2, many, &moved, NULL);
    OK(lsrec_state_new, m2, &scratch);
    OK(lsrec_state_update_many, m2, scratch, items + 60 - HISTORY, ts + 60 - HISTORY, HISTORY);
    float sa[N_ITEMS], sb[N_ITEMS];
    OK(lsrec_score, m2, moved, LSREC_NOW_LAST_EVENT, sa, N_ITEMS);
    OK(lsrec_score, m2, scratch, LSREC_NOW_LAST_EVENT, sb, N_ITEMS);
    CHECK(memcmp(sa, sb, sizeof sa) == 0);
    CHECK(lsrec_state_n_events(moved) == HISTORY);
    lsrec_state_free(scratch);
    lsrec_state_free(moved);

    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_rebase, NULL, many, &moved, NULL);
    CHECK(moved == NULL);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_rebase, m2, NULL, &moved, NULL);
    EXPECT(LSREC_E_INVALID_ARGUMENT, lsrec_state_rebase, m2, many, NULL, NULL);

    /* Free the model first: its states stay usable for serialise, rebase and free. */
    lsrec_state *orphan = NULL;
    OK(lsrec_state_new, m2, &orphan);
    OK(lsrec_state_update_many, m2, orphan, items, ts, 10);
    lsrec_model_free(m2);
    size_t need = 0;
    OK(lsrec_state_serialize, orphan, NULL, 0, &need);
    CHECK(need > 0);
    OK(lsrec_state_rebase, m, orphan, &moved, &skipped);
    CHECK(skipped == 0 && lsrec_state_n_events(moved) == 10);
    lsrec_state_free(moved);
    lsrec_state_free(orphan);
    lsrec_state_free(many);
    lsrec_state_free(few);
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "Tests/Fixtures/tiny-random.lsrec";
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("capi_test: liblsrec %s (ABI %u, OpenBLAS kernels %s), model %s\n", lsrec_version_string(),
           lsrec_abi_version(), lsrec_blas_core(), path);

    size_t len;
    unsigned char *file = read_file(path, &len);
    lsrec_model *m = NULL;
    if (lsrec_model_load(path, &m) != LSREC_OK) {
        fprintf(stderr, "capi_test: cannot load %s: %s\n", path, lsrec_last_error());
        return 1;
    }
    if (lsrec_model_n_items(m) != N_ITEMS || lsrec_model_dim(m) != DIM) {
        fprintf(stderr, "capi_test: %s is not the fixture (300 items, d = 16)\n", path);
        return 1;
    }

    test_versions_and_statuses();
    test_model_files(path, file, len);
    test_hostile_files(m, file, len);
    test_model_queries(m);
    test_null_arguments(m, path, file, len);
    test_k_and_buffers(m);
    test_unknown_items_and_times(m);
    test_ranking(m);
    test_model_params(path, file, len);
    test_update_topk(path, m);
    test_state_blobs(m);
    test_threads(m);
    test_rebase_and_lifetime(m, file, len);

    section_end();
    lsrec_model_free(m);
    free(file);
    int checks = atomic_load(&n_checks), failures = atomic_load(&n_failures);
    printf("capi_test: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
