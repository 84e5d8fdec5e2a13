/*
 * engine.c — lsrec from C on the harness's request stream (bench/compare.py runs it).
 *
 *   engine MODEL.lsrec [REQUESTS] [REPEATS] [USERS] [BATCHES]
 *
 * The stream is the one compare.py feeds the Python engines (same formulas, see stream_* below):
 * USERS users (default 256), each first fed 300 events (a full L = 200 window); then request i of
 * run r is "user i % USERS gets event (item_at(r, i), time_at(r, i)), then top-10 over all items at
 * the time of that event". One run = REQUESTS requests (default 4000); a warm-up run, then REPEATS
 * timed runs (default 7); medians are printed as key=value lines (µs per call):
 *   request_us       lsrec_state_update + lsrec_topk(k = 10) per request
 *   update_us        lsrec_state_update alone (same events, on clones)
 *   topk_us          lsrec_topk alone (k = 10, same users)
 *   batch_user_us    lsrec_topk_batch over all USERS at once, per user (BATCHES calls per run)
 * and memory: rss_before_load_kb, rss_after_load_kb, peak_rss_load_kb (VmHWM right after the load), file_bytes, load_s, state_blob_bytes
 * (after 300 events), state_mem_bytes (RSS growth per state over 4000 restored full states),
 * plus checksum=... (a digest of every top-10 id and score bit of the last run), batch_checksum=...
 * (the same of the last batch's lists) and screens_items.
 * LSREC_BENCH_SCREEN=1 in the environment loads the model with LSREC_MODEL_SCREEN_ITEMS;
 * LSREC_BENCH_REQUESTS_ONLY=1 stops after request_us and checksum (to profile requests alone).
 */
#define _POSIX_C_SOURCE 199309L
#include <lsrec.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "bench_util.h"




/* A /proc/self/status field in KiB: "VmRSS:" (resident now) or "VmHWM:" (peak resident). */
static long status_kb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t len = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, len) == 0) kb = strtol(line + len, NULL, 10);
    if (f) fclose(f);
    return kb;
}

static long rss_kb(void) { return status_kb("VmRSS:"); }

#define CHECK(call) do { lsrec_status st_ = (call); if (st_ != LSREC_OK) { \
    fprintf(stderr, "%s failed: %s\n", #call, lsrec_last_error()); exit(1); } } while (0)

/* The stream (must match compare.py): warm-up event e of user u, then request i of run r. */
static const int64_t T0 = 1000000000;
enum { WARM_EVENTS = 300, K = 10, MAX_REPEATS = 64 };
static int64_t warm_item(int64_t n, int u, int e) { return ((int64_t)u * 131 + (int64_t)e * 17) % n; }
static int64_t warm_time(int e) { return T0 + (int64_t)e * 60; }
static int64_t item_at(int64_t n, int r, int i) { return ((int64_t)i * 7919 + (int64_t)r * 104729 + 1) % n; }
static int64_t time_at(int r, int i, int requests) { return T0 + WARM_EVENTS * 60 + ((int64_t)r * requests + i) * 30; }

/* FNV-1a over n ids and score bits: every id and score bit of a list counts. */
static uint64_t fold(uint64_t digest, const int64_t *ids, const float *sc, int n) {
    for (int j = 0; j < n; j++) {
        uint32_t bits;
        memcpy(&bits, &sc[j], sizeof bits);
        digest = (digest ^ (uint64_t)ids[j]) * 1099511628211ull;
        digest = (digest ^ bits) * 1099511628211ull;
    }
    return digest;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s MODEL.lsrec [REQUESTS] [REPEATS] [USERS] [BATCHES]\n", argv[0]); return 2; }
    int requests = argc > 2 ? atoi(argv[2]) : 4000;
    int repeats = argc > 3 ? atoi(argv[3]) : 7;
    int users = argc > 4 ? atoi(argv[4]) : 256;
    int batches = argc > 5 ? atoi(argv[5]) : 10;
    if (requests < 1 || repeats < 1 || repeats > MAX_REPEATS || users < 1 || batches < 1) { fprintf(stderr, "bad arguments\n"); return 2; }

    struct stat stt;
    if (stat(argv[1], &stt) != 0) { perror(argv[1]); return 1; }
    long rss0 = rss_kb();
    double t = now_s();
    /* LSREC_BENCH_SCREEN=1: load with LSREC_MODEL_SCREEN_ITEMS (the int8 or binary16 screen for top-K). */
    const char *screen_env = getenv("LSREC_BENCH_SCREEN");
    lsrec_model_params params = lsrec_model_default_params();
    if (screen_env && strcmp(screen_env, "1") == 0) params.flags |= LSREC_MODEL_SCREEN_ITEMS;
    lsrec_model *m;
    CHECK(lsrec_model_load_ex(argv[1], &params, &m));
    double load_s = now_s() - t;
    long rss1 = rss_kb(), peak = status_kb("VmHWM:");
    printf("file_bytes=%lld\nload_s=%.3f\nrss_before_load_kb=%ld\nrss_after_load_kb=%ld\npeak_rss_load_kb=%ld\n",
           (long long)stt.st_size, load_s, rss0, rss1, peak);
    /* A second load of the same file: what each further model costs, without the one-time
     * start-up of the runtime and OpenBLAS that the first load pays. */
    lsrec_model *m2;
    long rss4 = rss_kb();
    CHECK(lsrec_model_load_ex(argv[1], &params, &m2));
    printf("rss_second_model_kb=%ld\nscreens_items=%d\n", rss_kb() - rss4, lsrec_model_screens_items(m2));
    lsrec_model_free(m2);
    /* Return its pages to the system: the states below would otherwise reuse them without
     * growing the RSS, and their bytes per state would read too low. */
    malloc_trim(0);

    int64_t n = lsrec_model_n_items(m);
    int64_t *ids = malloc(sizeof(int64_t) * n);
    CHECK(lsrec_model_item_ids(m, ids, n));

    lsrec_state **st = malloc(sizeof *st * users);
    for (int u = 0; u < users; u++) {
        CHECK(lsrec_state_new(m, &st[u]));
        for (int e = 0; e < WARM_EVENTS; e++) CHECK(lsrec_state_update(m, st[u], ids[warm_item(n, u, e)], warm_time(e)));
    }
    /* Memory per state: RSS growth over MEM_STATES states restored from a full state's blob
     * (deserialising allocates fresh storage; clones could share it copy-on-write). */
    size_t blob;
    CHECK(lsrec_state_serialize(st[0], NULL, 0, &blob));
    unsigned char *bytes = malloc(blob);
    CHECK(lsrec_state_serialize(st[0], bytes, blob, &blob));
    enum { MEM_STATES = 4000 };
    lsrec_state **extra = malloc(sizeof *extra * MEM_STATES);
    long rss2 = rss_kb();
    for (int i = 0; i < MEM_STATES; i++) CHECK(lsrec_state_deserialize(m, bytes, blob, &extra[i]));
    long rss3 = rss_kb();
    for (int i = 0; i < MEM_STATES; i++) lsrec_state_free(extra[i]);
    free(extra);
    free(bytes);
    printf("state_blob_bytes=%zu\nstate_mem_bytes=%.0f\n", blob, (rss3 - rss2) * 1024.0 / MEM_STATES);

    double runs[MAX_REPEATS], upd[MAX_REPEATS], top[MAX_REPEATS], bat[MAX_REPEATS];
    int64_t out_ids[K];
    float out_sc[K];
    uint64_t digest = 0;
    /* Requests: run 0 is the warm-up. The stream continues across runs (times keep increasing). */
    for (int r = 0; r <= repeats; r++) {
        digest = 1469598103934665603ull;
        double a = now_s();
        for (int i = 0; i < requests; i++) {
            lsrec_state *s = st[i % users];
            CHECK(lsrec_state_update(m, s, ids[item_at(n, r, i)], time_at(r, i, requests)));
            CHECK(lsrec_topk(m, s, LSREC_NOW_LAST_EVENT, K, 0, NULL, 0, out_ids, out_sc, NULL));
            digest = fold(digest, out_ids, out_sc, K);  /* screened runs must match */
        }
        if (r > 0) runs[r - 1] = (now_s() - a) / requests * 1e6;
    }
    printf("request_us=%.3f\nchecksum=%016llx\n", median(runs, repeats), (unsigned long long)digest);
    /* LSREC_BENCH_REQUESTS_ONLY=1: stop after the request stream (a profile of requests alone). */
    const char *only_env = getenv("LSREC_BENCH_REQUESTS_ONLY");
    if (only_env && strcmp(only_env, "1") == 0) {
        for (int u = 0; u < users; u++) lsrec_state_free(st[u]);
        free(st); free(ids);
        lsrec_model_free(m);
        return 0;
    }

    /* The two halves alone: updates on clones (so the users' states stay as they are), top-k on users. */
    lsrec_state **cl = malloc(sizeof *cl * users);
    for (int u = 0; u < users; u++) CHECK(lsrec_state_clone(st[u], &cl[u]));
    int64_t tlast = time_at(repeats + 1, 0, requests);
    for (int r = 0; r <= repeats; r++) {
        double a = now_s();
        for (int i = 0; i < requests; i++)
            CHECK(lsrec_state_update(m, cl[i % users], ids[item_at(n, r, i)], tlast + ((int64_t)r * requests + i) * 30));
        if (r > 0) upd[r - 1] = (now_s() - a) / requests * 1e6;
        a = now_s();
        for (int i = 0; i < requests; i++)
            CHECK(lsrec_topk(m, st[i % users], LSREC_NOW_LAST_EVENT, K, 0, NULL, 0, out_ids, out_sc, NULL));
        if (r > 0) top[r - 1] = (now_s() - a) / requests * 1e6;
    }
    printf("update_us=%.3f\ntopk_us=%.3f\n", median(upd, repeats), median(top, repeats));

    int64_t *b_ids = malloc(sizeof(int64_t) * users * K);
    float *b_sc = malloc(sizeof(float) * users * K);
    for (int r = 0; r <= repeats; r++) {
        double a = now_s();
        for (int b = 0; b < batches; b++)
            CHECK(lsrec_topk_batch(m, (const lsrec_state *const *)st, users, LSREC_NOW_LAST_EVENT, K, 0, b_ids, b_sc));
        if (r > 0) bat[r - 1] = (now_s() - a) / ((double)batches * users) * 1e6;
    }
    printf("batch_user_us=%.3f\nbatch_users=%d\n", median(bat, repeats), users);
    printf("batch_checksum=%016llx\n", (unsigned long long)fold(1469598103934665603ull, b_ids, b_sc, users * K));
    printf("rss_end_kb=%ld\n", rss_kb());

    for (int u = 0; u < users; u++) { lsrec_state_free(st[u]); lsrec_state_free(cl[u]); }
    free(st); free(cl); free(ids); free(b_ids); free(b_sc);
    lsrec_model_free(m);
    return 0;
}
