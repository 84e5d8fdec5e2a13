/*
 * callcount.c — a fixed stream of one C API call, for counting instructions with callgrind
 * (load-independent, unlike wall time on a shared machine):
 *
 *   cc -std=c11 -O2 -Iinclude -o build/bin/callcount bench/callcount.c -Lbuild/static -llsrec \
 *      -Wl,-rpath,$PWD/build/static
 *   OPENBLAS_NUM_THREADS=1 valgrind --tool=callgrind --toggle-collect=lsrec_topk \
 *      build/bin/callcount MODEL.lsrec topk 500          # instructions / 500 = per call
 *
 * WHAT is update (lsrec_state_update), topk, topkx (exclude seen) or batch (lsrec_topk_batch,
 * 32 users). The 32 users' histories are fed with lsrec_state_update_many, so collecting
 * lsrec_state_update counts only the measured calls.
 */
#include <lsrec.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call) do { if ((call) != LSREC_OK) { fprintf(stderr, "%s: %s\n", #call, lsrec_last_error()); return 1; } } while (0)

enum { USERS = 32, EVENTS = 210 };

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s MODEL.lsrec update|topk|topkx|batch CALLS\n", argv[0]); return 2; }
    lsrec_model *m;
    CHECK(lsrec_model_load(argv[1], &m));
    const char *what = argv[2];
    int calls = atoi(argv[3]);
    int64_t n = lsrec_model_n_items(m);
    int64_t *ids = malloc(sizeof(int64_t) * n);
    CHECK(lsrec_model_item_ids(m, ids, n));
    lsrec_state *users[USERS];
    int64_t items[EVENTS], times[EVENTS], t0 = 1000000000;
    for (int u = 0; u < USERS; u++) {
        CHECK(lsrec_state_new(m, &users[u]));
        for (int e = 0; e < EVENTS; e++) { items[e] = ids[(u * 131 + e * 17) % n]; times[e] = t0 + e * 60; }
        CHECK(lsrec_state_update_many(m, users[u], items, times, EVENTS));
    }
    int64_t out_ids[10 * USERS]; float out_sc[10 * USERS]; size_t got;
    int64_t t = t0 + 300 * 60;
    for (int i = 0; i < calls; i++) {
        if (!strcmp(what, "update")) CHECK(lsrec_state_update(m, users[i % USERS], ids[(i * 7) % n], t += 30));
        else if (!strcmp(what, "topk")) CHECK(lsrec_topk(m, users[i % USERS], LSREC_NOW_LAST_EVENT, 10, 0, NULL, 0, out_ids, out_sc, &got));
        else if (!strcmp(what, "topkx")) CHECK(lsrec_topk(m, users[i % USERS], LSREC_NOW_LAST_EVENT, 10, LSREC_EXCLUDE_SEEN, NULL, 0, out_ids, out_sc, &got));
        else if (!strcmp(what, "batch")) CHECK(lsrec_topk_batch(m, (const lsrec_state *const *)users, USERS, LSREC_NOW_LAST_EVENT, 10, 0, out_ids, out_sc));
        else { fprintf(stderr, "unknown call %s\n", what); return 2; }
    }
    printf("%s x %d: first id %lld\n", what, calls, (long long)out_ids[0]);
    for (int u = 0; u < USERS; u++) lsrec_state_free(users[u]);
    lsrec_model_free(m);
    free(ids);
    return 0;
}
