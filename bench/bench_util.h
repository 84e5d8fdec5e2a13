/* bench_util.h — timing helpers shared by the C benchmark programs in bench/ (not part of the
 * library). Needs _POSIX_C_SOURCE >= 199309L before the first system header (clock_gettime). */
#ifndef LSREC_BENCH_UTIL_H
#define LSREC_BENCH_UTIL_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds on the wall clock, or with BENCH_CLOCK=cpu on this process's CPU time: on a machine
 * shared with other jobs, time-slicing then no longer inflates the figures (cache and memory
 * contention still do). */
static double now_s(void) {
    static int cpu = -1;
    if (cpu < 0) {
        const char *c = getenv("BENCH_CLOCK");
        cpu = c && strcmp(c, "cpu") == 0;
    }
    struct timespec ts;
    clock_gettime(cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n values (sorts v). */
static inline double median(double *v, int n) {
    qsort(v, n, sizeof(double), cmp_double);
    return v[n / 2];
}

/* One Markdown row: median and p90 per call in µs of `repeats` runs of `calls_per_run` calls,
 * the name padded to `width` (sorts runs). */
static inline void report_row(const char *name, int width, double *runs, int repeats, int calls_per_run) {
    qsort(runs, repeats, sizeof(double), cmp_double);
    double med = runs[repeats / 2] / calls_per_run * 1e6;
    double p90 = runs[(repeats * 9) / 10 < repeats ? (repeats * 9) / 10 : repeats - 1] / calls_per_run * 1e6;
    printf("| %-*s | %10.2f | %10.2f |\n", width, name, med, p90);
}

#ifdef LSREC_H
/* Exit with the library's message when an lsrec call fails. */
#define CHECK(call) do { lsrec_status st_ = (call); if (st_ != LSREC_OK) { \
    fprintf(stderr, "%s failed: %s\n", #call, lsrec_last_error()); exit(1); } } while (0)
#endif
#endif
