/*
 * example_util.h — small helpers shared by the C examples (recommend.c, coldstart.c): error
 * reporting for lsrec calls, a user's events read from a file or the command line, feeding them
 * into a state, and optional item titles. Header-only (static inline), so each example still
 * builds from one .c file:
 *
 *   cc -std=c11 -Iinclude examples/c/recommend.c -Lbuild/static -llsrec ...
 *
 * Define EXAMPLE_NAME (the program name used in messages) before including this file.
 */
#ifndef LSREC_EXAMPLE_UTIL_H
#define LSREC_EXAMPLE_UTIL_H

#include "lsrec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef EXAMPLE_NAME
#error "define EXAMPLE_NAME before including example_util.h"
#endif

/* ---- Error handling: every lsrec call returns a status; on failure, say which and why. ---- */

static inline void die(const char *what) {
    fprintf(stderr, EXAMPLE_NAME ": %s\n", what);
    exit(1);
}

/* Reports a failed lsrec call: the status text and the calling thread's message, then exits. */
static inline void fail(const char *call, lsrec_status st) {
    fprintf(stderr, EXAMPLE_NAME ": %s failed: %s (%d): %s\n", call, lsrec_status_str(st), (int)st,
            lsrec_last_error());
    exit(1);
}

/* Checks the status of an lsrec call. */
#define CHECK(call)                                \
    do {                                           \
        lsrec_status st_ = (call);                 \
        if (st_ != LSREC_OK) fail(#call, st_);     \
    } while (0)

/* A condition the example relies on (its self-checks). */
#define REQUIRE(cond)                                                                                \
    do {                                                                                             \
        if (!(cond)) {                                                                               \
            fprintf(stderr, EXAMPLE_NAME ": %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                                 \
        }                                                                                            \
    } while (0)

static inline void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory");
    return p;
}

/* ---- Events ----------------------------------------------------------------------------- */

typedef struct {
    int64_t *items;
    int64_t *times;
    size_t n, cap;
} events;

static inline void events_add(events *ev, int64_t item, int64_t time) {
    if (ev->n == ev->cap) {
        ev->cap = ev->cap ? 2 * ev->cap : 64;
        int64_t *items = realloc(ev->items, ev->cap * sizeof *items);
        if (!items) die("out of memory");
        ev->items = items;
        int64_t *times = realloc(ev->times, ev->cap * sizeof *times);
        if (!times) die("out of memory");
        ev->times = times;
    }
    ev->items[ev->n] = item;
    ev->times[ev->n] = time;
    ev->n++;
}

static inline void events_free(events *ev) {
    free(ev->items);
    free(ev->times);
    *ev = (events){0};
}

/* Parses a decimal int64 at s (strtoll rules); returns 0 if there is none or it overflows. */
static inline int parse_int64(const char *s, char **end, int64_t *out) {
    errno = 0;
    long long v = strtoll(s, end, 10);
    if (*end == s || errno != 0) return 0;
    *out = (int64_t)v;
    return 1;
}

/* "ITEM" or "ITEM:TIME" (a missing time is unknown). */
static inline void parse_event_arg(const char *arg, events *ev) {
    char *end;
    int64_t item, time = LSREC_TS_UNKNOWN;
    if (!parse_int64(arg, &end, &item) || (*end != '\0' && *end != ':')) goto bad;
    if (*end == ':' && (!parse_int64(end + 1, &end, &time) || *end != '\0')) goto bad;
    events_add(ev, item, time);
    return;
bad:
    fprintf(stderr, EXAMPLE_NAME ": '%s' is not ITEM or ITEM:TIME\n", arg);
    exit(2);
}

/* Lines "item_id unix_ts" (the time may be left out: unknown); "-" reads stdin; blank lines and
 * lines starting with '#' are skipped. */
static inline void read_history(const char *path, events *ev) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) { perror(path); exit(2); }
    char line[256];
    int line_no = 0;
    while (fgets(line, sizeof line, f)) {
        line_no++;
        char *p = line, *end;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0') continue;
        int64_t item, time = LSREC_TS_UNKNOWN;
        if (!parse_int64(p, &end, &item)) goto bad;
        p = end;
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (*p != '\n' && *p != '\r' && *p != '\0') {
            if (!parse_int64(p, &end, &time)) goto bad;
            p = end;
        }
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
        if (*p != '\0') goto bad;
        events_add(ev, item, time);
        continue;
    bad:
        fprintf(stderr, EXAMPLE_NAME ": %s:%d: expected \"item_id unix_ts\"\n", path, line_no);
        exit(2);
    }
    if (f != stdin) fclose(f);
}

/* Feeds the events. lsrec_state_update_many is all-or-nothing: if the batch names an item the
 * model does not know, fall back to one event at a time and skip the unknown ones. */
static inline void feed(const lsrec_model *m, lsrec_state *s, const events *ev) {
    lsrec_status st = lsrec_state_update_many(m, s, ev->items, ev->times, ev->n);
    if (st == LSREC_OK) return;
    if (st != LSREC_E_UNKNOWN_ITEM) fail("lsrec_state_update_many", st);
    for (size_t i = 0; i < ev->n; i++) {
        st = lsrec_state_update(m, s, ev->items[i], ev->times[i]);
        if (st == LSREC_E_UNKNOWN_ITEM)
            fprintf(stderr, EXAMPLE_NAME ": skipping event %zu: %s\n", i, lsrec_last_error());
        else if (st != LSREC_OK)
            fail("lsrec_state_update", st);
    }
}

/* ---- Item titles -------------------------------------------------------------------------- */

/* Optional item titles ("item_id<TAB>title" lines, as `lsrec recommend --titles-out` writes),
 * looked up linearly: a demo, not a service. */
static struct { int64_t *ids; char **text; size_t n; } titles;

static inline void titles_add(int64_t id, const char *text) {
    int64_t *ids = realloc(titles.ids, (titles.n + 1) * sizeof *titles.ids);
    if (!ids) die("out of memory");
    titles.ids = ids;
    char **texts = realloc(titles.text, (titles.n + 1) * sizeof *titles.text);
    if (!texts) die("out of memory");
    titles.text = texts;
    titles.ids[titles.n] = id;
    if (!(titles.text[titles.n] = strdup(text))) die("out of memory");
    titles.n++;
}

static inline void read_titles(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, EXAMPLE_NAME ": cannot open %s: %s\n", path, strerror(errno)); exit(1); }
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        char *tab = strchr(line, '\t'), *end;
        if (!tab) continue;
        int64_t id = strtoll(line, &end, 10);
        if (end != tab) continue;
        tab[strcspn(tab, "\r\n")] = '\0';
        titles_add(id, tab + 1);
    }
    free(line);
    fclose(f);
}

static inline const char *title_of(int64_t id) {
    for (size_t i = 0; i < titles.n; i++) if (titles.ids[i] == id) return titles.text[i];
    return "";
}

static inline void titles_free(void) {
    for (size_t i = 0; i < titles.n; i++) free(titles.text[i]);
    free(titles.ids);
    free(titles.text);
    titles.ids = NULL;
    titles.text = NULL;
    titles.n = 0;
}

#endif /* LSREC_EXAMPLE_UTIL_H */
