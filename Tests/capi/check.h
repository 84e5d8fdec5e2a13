/*
 * check.h — the small check framework the C ABI tests share (capi_test, catalog_test,
 * encoder_test): counters, CHECK, EXPECT / OK and the "message comes from that very call" check.
 *
 * The including file defines CHECK_NAME (its file name, e.g. "capi_test.c") before including
 * this header; failures print as "CHECK_NAME:LINE: ...". Counters are atomic because the tests
 * check from several threads. Functions are static inline so a test that does not use one
 * still builds with -Wall -Werror.
 */
#ifndef LSREC_TESTS_CHECK_H
#define LSREC_TESTS_CHECK_H

#ifndef CHECK_NAME
#error "define CHECK_NAME (the test's file name) before including check.h"
#endif

#include "lsrec.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static atomic_int n_checks, n_failures;

static inline void check_(int ok, const char *what, int line) {
    atomic_fetch_add(&n_checks, 1);
    if (!ok) {
        atomic_fetch_add(&n_failures, 1);
        fprintf(stderr, CHECK_NAME ":%d: check failed: %s\n", line, what);
    }
}
#define CHECK(cond) check_(!!(cond), #cond, __LINE__)

/* A failed call must leave a message that comes from that very call: the library writes
 * "<function>: <what went wrong>", so a stale message from an earlier failure is caught. */
static inline void check_message_(const char *fn, const char *call, int line) {
    const char *msg = lsrec_last_error();
    size_t n = strlen(fn);
    int ok = msg != NULL && strncmp(msg, fn, n) == 0 && msg[n] == ':' && strlen(msg) > n + 2;
    check_(ok, call, line);
    if (!ok) fprintf(stderr, "    last error \"%s\" does not come from %s\n", msg ? msg : "(NULL)", fn);
}

static inline void expect_(lsrec_status got, lsrec_status want, const char *fn, const char *call, int line) {
    atomic_fetch_add(&n_checks, 1);
    if (got != want) {
        atomic_fetch_add(&n_failures, 1);
        fprintf(stderr, CHECK_NAME ":%d: %s\n    returned %d (%s), expected %d (%s); last error: %s\n", line, call,
                (int)got, lsrec_status_str(got), (int)want, lsrec_status_str(want), lsrec_last_error());
        return;
    }
    if (want != LSREC_OK) check_message_(fn, call, line);
}
/* EXPECT(status, function, args...): the call returns status (and, on failure, sets its message). */
#define EXPECT(want, fn, ...) expect_(fn(__VA_ARGS__), (want), #fn, #fn "(" #__VA_ARGS__ ")", __LINE__)
#define OK(fn, ...) EXPECT(LSREC_OK, fn, __VA_ARGS__)

/* CRC32C (Castagnoli, reflected 0x82F63B78), as in docs/FORMAT.md: tests re-seal edited files
 * and blobs with it so that the structural checks behind the checksum are reached. */
static inline uint32_t crc32c(const unsigned char *p, size_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

#endif
