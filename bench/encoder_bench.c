/*
 * encoder_bench.c — throughput of the text encoder (lsrec_encode_text / lsrec_encode_batch) on
 * the MovieLens-1M titles, one caller thread.
 *
 *   encoder_bench ENCODER.lsrec [ENCODER_F16.lsrec] MOVIES.DAT [LIMIT]
 *
 * movies.dat lines are "id::Title (year)::Genre|Genre" in latin-1; titles are converted to UTF-8.
 * For each encoder file prints a markdown table of titles/s at batch sizes 1, 8, 32, 128 over
 * the first LIMIT titles (default: all), by wall time and by the process's CPU time. Run with OPENBLAS_NUM_THREADS=1 for the one-core figure
 * (`make bench-encoder` does). Timing only; correctness is what the test suite checks.
 */
#define _POSIX_C_SOURCE 199309L
#include <lsrec.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU time of the process: on a shared machine this is the figure to compare (wall time also
 * counts the time other processes held the core). */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define CHECK(call) do { lsrec_status st_ = (call); if (st_ != LSREC_OK) { \
    fprintf(stderr, "%s failed: %s\n", #call, lsrec_last_error()); exit(1); } } while (0)

enum { MAX_TITLES = 10000 };

/* Reads the titles of movies.dat, latin-1 -> UTF-8. */
static size_t read_titles(const char *path, char **titles) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    char line[1024];
    size_t n = 0;
    while (n < MAX_TITLES && fgets(line, sizeof line, f)) {
        char *a = strstr(line, "::");
        if (!a) continue;
        a += 2;
        char *b = strstr(a, "::");
        if (!b) continue;
        size_t len = (size_t)(b - a);
        char *t = malloc(2 * len + 1), *o = t;
        if (!t) exit(2);
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)a[i];
            if (c < 0x80) *o++ = (char)c;
            else { *o++ = (char)(0xC0 | (c >> 6)); *o++ = (char)(0x80 | (c & 0x3F)); }
        }
        *o = 0;
        titles[n++] = t;
    }
    fclose(f);
    return n;
}

static void bench(const char *path, char **titles, size_t n) {
    double t0 = now_s();
    lsrec_encoder *enc = NULL;
    CHECK(lsrec_encoder_load(path, &enc));
    double load = now_s() - t0;
    int dim = lsrec_encoder_dim(enc);
    size_t tokens = 0;
    int32_t ids[512];
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        CHECK(lsrec_encoder_tokenize(enc, titles[i], ids, 512, &k));
        tokens += k;
    }
    printf("\n%s: load %.2f s, %zu titles, %.1f tokens per title (with [CLS], [SEP])\n\n", path, load, n,
           (double)tokens / (double)n);
    printf("| batch | wall s | CPU s | titles/s (wall) | titles/CPU-s |\n|---:|---:|---:|---:|---:|\n");
    float *out = malloc(sizeof(float) * (size_t)dim * 128);
    static const size_t batches[] = {1, 8, 32, 128};
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
        size_t bs = batches[b];
        CHECK(lsrec_encode_batch(enc, (const char *const *)titles, bs < n ? bs : n, out, (size_t)dim * 128)); /* warm-up */
        double s = now_s(), c = cpu_s();
        for (size_t i = 0; i < n; i += bs) {
            size_t m = n - i < bs ? n - i : bs;
            if (bs == 1) CHECK(lsrec_encode_text(enc, titles[i], out, (size_t)dim));
            else CHECK(lsrec_encode_batch(enc, (const char *const *)titles + i, m, out, (size_t)dim * 128));
        }
        double el = now_s() - s, cel = cpu_s() - c;
        printf("| %5zu | %6.2f | %6.2f | %8.0f | %8.0f |\n", bs, el, cel, (double)n / el, (double)n / cel);
    }
    free(out);
    lsrec_encoder_free(enc);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: encoder_bench ENCODER.lsrec [ENCODER_F16.lsrec] MOVIES.DAT [LIMIT]\n");
        return 2;
    }
    /* The last argument that names an existing non-.lsrec file is movies.dat. */
    const char *encoders[2] = {argv[1], NULL};
    const char *movies;
    int next;
    if (argc >= 4 && strstr(argv[2], ".lsrec")) { encoders[1] = argv[2]; movies = argv[3]; next = 4; }
    else { movies = argv[2]; next = 3; }
    static char *titles[MAX_TITLES];
    size_t n = read_titles(movies, titles);
    if (argc > next) { size_t lim = (size_t)strtoul(argv[next], NULL, 10); if (lim > 0 && lim < n) n = lim; }
    printf("encoder_bench: %s, OPENBLAS_NUM_THREADS=%s\n", movies,
           getenv("OPENBLAS_NUM_THREADS") ? getenv("OPENBLAS_NUM_THREADS") : "(unset)");
    for (int e = 0; e < 2; e++) if (encoders[e]) bench(encoders[e], titles, n);
    return 0;
}
