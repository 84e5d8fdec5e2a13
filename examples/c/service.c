/*
 * service.c — a tiny multi-threaded lsrec "service": worker threads serve a stream of requests
 * ("user U watched item I at time T; what next?"), keeping every user's state in a hash map.
 * On exit the states are serialised to a file; on start they are restored from it, so users
 * pick up where they left off. Shows the state-blob workflow of include/lsrec.h.
 *
 * Usage
 *   service [MODEL [STATE_FILE [REQUESTS]]]
 *
 *   MODEL       a .lsrec file (default: Tests/Fixtures/tiny-random.lsrec)
 *   STATE_FILE  where user states are kept between runs (default: service-states.bin)
 *   REQUESTS    how many simulated requests to serve (default: 2000); Ctrl-C stops early and
 *               still saves
 *
 * Build (the Makefile does this: `make examples`, binary in build/bin/service)
 *   cc -std=c11 -Iinclude examples/c/service.c -Lbuild/static -llsrec \
 *      -Wl,-rpath,$PWD/build/static -lpthread -o service
 *   or against an installed copy: cc examples/c/service.c $(pkg-config --cflags --libs lsrec) -lpthread
 *
 * Threads: one lsrec_model is shared by all workers without locks (it is immutable). A state is
 * used by one thread at a time: each hash-map stripe has a mutex held while its users' states
 * are read or changed. lsrec_last_error() is per thread, so each worker reports its own errors.
 *
 * State file (little-endian): "LSRSVC01", u64 user count, then per user: u64 user id, u64 last
 * event time, u32 blob length, blob (lsrec_state_serialize). Written to STATE_FILE.tmp, then
 * renamed over STATE_FILE, so a crash never leaves a half-written file.
 */
#define _POSIX_C_SOURCE 200809L

#include "lsrec.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MODEL "Tests/Fixtures/tiny-random.lsrec"
#define DEFAULT_STATE_FILE "service-states.bin"
#define N_WORKERS 4
#define N_USERS 64          /* simulated users */
#define N_STRIPES 16        /* hash-map locks */
#define N_BUCKETS 256
#define FILE_MAGIC "LSRSVC01"

/* ---- The user map: chained hash buckets, one mutex per stripe of buckets ---------------------- */

typedef struct user {
    uint64_t id;
    lsrec_state *state;
    int64_t last_time; /* of the user's last event, to keep times increasing */
    struct user *next;
} user;

static user *buckets[N_BUCKETS];
static pthread_mutex_t stripes[N_STRIPES];

static size_t bucket_of(uint64_t id) { return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 56) % N_BUCKETS; }
static pthread_mutex_t *stripe_of(uint64_t id) { return &stripes[bucket_of(id) % N_STRIPES]; }

/* The user's entry, created with a new state if absent. Call with the user's stripe locked. */
static user *find_or_add(const lsrec_model *m, uint64_t id, lsrec_status *st) {
    size_t b = bucket_of(id);
    for (user *u = buckets[b]; u; u = u->next)
        if (u->id == id) return u;
    user *u = calloc(1, sizeof *u);
    if (!u) { *st = LSREC_E_OUT_OF_MEMORY; return NULL; }
    if ((*st = lsrec_state_new(m, &u->state)) != LSREC_OK) { free(u); return NULL; }
    u->id = id;
    u->last_time = LSREC_TS_UNKNOWN;
    u->next = buckets[b];
    buckets[b] = u;
    return u;
}

/* ---- Saving and restoring ------------------------------------------------------------------ */

static int put_u64(FILE *f, uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    return fwrite(b, 1, 8, f) == 8;
}
static int put_u32(FILE *f, uint32_t v) {
    unsigned char b[4];
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
    return fwrite(b, 1, 4, f) == 4;
}
static int get_u64(FILE *f, uint64_t *v) {
    unsigned char b[8];
    if (fread(b, 1, 8, f) != 8) return 0;
    *v = 0;
    for (int i = 0; i < 8; i++) *v |= (uint64_t)b[i] << (8 * i);
    return 1;
}
static int get_u32(FILE *f, uint32_t *v) {
    unsigned char b[4];
    if (fread(b, 1, 4, f) != 4) return 0;
    *v = 0;
    for (int i = 0; i < 4; i++) *v |= (uint32_t)b[i] << (8 * i);
    return 1;
}

/* Writes every user's state; returns the number of users, or -1 on error. (All workers have
 * stopped, so no locks are needed.) */
static long save_states(const char *path, int64_t *events) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) { perror(tmp); return -1; }
    uint64_t count = 0;
    for (size_t b = 0; b < N_BUCKETS; b++)
        for (user *u = buckets[b]; u; u = u->next) count++;
    int ok = fwrite(FILE_MAGIC, 1, 8, f) == 8 && put_u64(f, count);
    *events = 0;
    for (size_t b = 0; ok && b < N_BUCKETS; b++) {
        for (user *u = buckets[b]; ok && u; u = u->next) {
            size_t len = 0;
            if (lsrec_state_serialize(u->state, NULL, 0, &len) != LSREC_OK) { ok = 0; break; }
            unsigned char *blob = malloc(len);
            ok = blob && lsrec_state_serialize(u->state, blob, len, &len) == LSREC_OK && put_u64(f, u->id) &&
                 put_u64(f, (uint64_t)u->last_time) && put_u32(f, (uint32_t)len) && fwrite(blob, 1, len, f) == len;
            free(blob);
            *events += lsrec_state_n_events(u->state);
        }
    }
    if (fclose(f) != 0) ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "service: cannot write %s: %s\n", path, lsrec_last_error());
        remove(tmp);
        return -1;
    }
    return (long)count;
}

/* Restores the users of a state file (a missing file is a first start: 0 users). */
static long restore_states(const lsrec_model *m, const char *path, int64_t *events) {
    *events = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char magic[8];
    uint64_t count = 0;
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, FILE_MAGIC, 8) != 0 || !get_u64(f, &count)) {
        fprintf(stderr, "service: %s is not a state file\n", path);
        fclose(f);
        return -1;
    }
    long restored = 0;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t id, last;
        uint32_t len;
        if (!get_u64(f, &id) || !get_u64(f, &last) || !get_u32(f, &len) || len > (1u << 26)) goto truncated;
        unsigned char *blob = malloc(len ? len : 1);
        if (!blob || fread(blob, 1, len, f) != len) { free(blob); goto truncated; }
        lsrec_state *s = NULL;
        lsrec_status st = lsrec_state_deserialize(m, blob, len, &s);
        free(blob);
        if (st != LSREC_OK) {
            /* e.g. LSREC_E_MODEL_MISMATCH after a model update: that user starts afresh. */
            fprintf(stderr, "service: user %" PRIu64 " not restored: %s\n", id, lsrec_last_error());
            continue;
        }
        user *u = calloc(1, sizeof *u);
        if (!u) { lsrec_state_free(s); break; }
        *u = (user){.id = id, .state = s, .last_time = (int64_t)last, .next = buckets[bucket_of(id)]};
        buckets[bucket_of(id)] = u;
        *events += lsrec_state_n_events(s);
        restored++;
    }
    fclose(f);
    return restored;
truncated:
    fprintf(stderr, "service: %s is truncated; restored %ld users\n", path, restored);
    fclose(f);
    return restored;
}

/* ---- Workers ------------------------------------------------------------------------------- */

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) { (void)sig; stop_requested = 1; }

typedef struct {
    const lsrec_model *model;
    const int64_t *item_ids;
    int64_t n_items;
    long first, step, requests; /* this worker serves requests first, first + step, ... */
    long served, failed;
    int64_t checksum;           /* of the recommended ids, to show work was done */
} worker_arg;

static uint64_t mix(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull; x ^= x >> 33;
    return x;
}

static void *worker(void *p) {
    worker_arg *a = p;
    for (long r = a->first; r < a->requests && !stop_requested; r += a->step) {
        /* A simulated request: a user, the item they just watched, how long after their last. */
        uint64_t h = mix((uint64_t)r + 1);
        uint64_t uid = 1 + h % N_USERS;
        int64_t item = a->item_ids[(h >> 16) % (uint64_t)a->n_items];
        int64_t gap = (int64_t)((h >> 40) % 7200);

        pthread_mutex_t *lock = stripe_of(uid);
        pthread_mutex_lock(lock);
        lsrec_status st = LSREC_OK;
        user *u = find_or_add(a->model, uid, &st);
        int64_t now = 0;
        if (u) {
            now = (u->last_time >= 0 ? u->last_time : 1700000000) + gap;
            st = lsrec_state_update(a->model, u->state, item, now);
        }
        int64_t top[5];
        size_t n_top = 0;
        if (st == LSREC_OK) {
            u->last_time = now;
            st = lsrec_topk(a->model, u->state, LSREC_NOW_LAST_EVENT, 5, LSREC_EXCLUDE_SEEN, NULL, 0, top, NULL,
                            &n_top);
        }
        pthread_mutex_unlock(lock);

        if (st != LSREC_OK) {
            fprintf(stderr, "service: request %ld for user %" PRIu64 ": %s\n", r, uid, lsrec_last_error());
            a->failed++;
            continue;
        }
        for (size_t i = 0; i < n_top; i++) a->checksum += top[i];
        a->served++;
    }
    return NULL;
}

int main(int argc, char **argv) {
    const char *model_path = argc > 1 ? argv[1] : DEFAULT_MODEL;
    const char *state_path = argc > 2 ? argv[2] : DEFAULT_STATE_FILE;
    long requests = argc > 3 ? strtol(argv[3], NULL, 10) : 2000;
    if (lsrec_abi_version() != LSREC_ABI_VERSION) {
        fprintf(stderr, "service: liblsrec ABI %u, header ABI %u\n", lsrec_abi_version(), LSREC_ABI_VERSION);
        return 1;
    }
    /* OpenBLAS may have picked slow kernels for this CPU (lsrec.h, "BLAS kernels"); only a restart
     * with OPENBLAS_CORETYPE set can change that, so tell the operator. */
    const char *better = lsrec_blas_suggested_coretype();
    if (better)
        fprintf(stderr, "service: note: OpenBLAS runs its %s kernels on this CPU; start with OPENBLAS_CORETYPE=%s "
                        "for faster updates and scoring\n", lsrec_blas_core(), better);

    lsrec_model *model = NULL;
    if (lsrec_model_load(model_path, &model) != LSREC_OK) {
        fprintf(stderr, "service: %s\n", lsrec_last_error());
        return 1;
    }
    int64_t n_items = lsrec_model_n_items(model);
    int64_t *item_ids = malloc((size_t)n_items * sizeof *item_ids);
    if (!item_ids || lsrec_model_item_ids(model, item_ids, (size_t)n_items) != LSREC_OK) return 1;
    for (int i = 0; i < N_STRIPES; i++) pthread_mutex_init(&stripes[i], NULL);

    /* 1. Start: restore the users of the previous run. */
    int64_t events = 0;
    long users = restore_states(model, state_path, &events);
    if (users < 0) return 1;
    printf("service: restored %ld users (%" PRId64 " events) from %s\n", users, events, state_path);

    /* 2. Serve: N_WORKERS threads share the model and the user map. */
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    pthread_t threads[N_WORKERS];
    worker_arg args[N_WORKERS];
    for (int t = 0; t < N_WORKERS; t++) {
        args[t] = (worker_arg){.model = model, .item_ids = item_ids, .n_items = n_items, .first = t,
                               .step = N_WORKERS, .requests = requests};
        if (pthread_create(&threads[t], NULL, worker, &args[t]) != 0) { perror("pthread_create"); return 1; }
    }
    long served = 0, failed = 0;
    int64_t checksum = 0;
    for (int t = 0; t < N_WORKERS; t++) {
        pthread_join(threads[t], NULL);
        served += args[t].served;
        failed += args[t].failed;
        checksum += args[t].checksum;
    }
    printf("service: served %ld requests on %d threads (%ld failed; checksum %" PRId64 ")\n", served, N_WORKERS,
           failed, checksum);

    /* 3. Exit: save every user's state. */
    users = save_states(state_path, &events);
    if (users < 0) return 1;
    printf("service: saved %ld users (%" PRId64 " events) to %s\n", users, events, state_path);

    for (size_t b = 0; b < N_BUCKETS; b++) {
        for (user *u = buckets[b], *next; u; u = next) {
            next = u->next;
            lsrec_state_free(u->state);
            free(u);
        }
    }
    for (int i = 0; i < N_STRIPES; i++) pthread_mutex_destroy(&stripes[i]);
    free(item_ids);
    lsrec_model_free(model);
    return failed ? 1 : 0;
}
