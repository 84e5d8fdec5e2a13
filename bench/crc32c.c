/*
 * crc32c.c — CRC32C (Castagnoli) for the benchmark's Python file writer/reader (bench/lsrec_file.py),
 * built as build/bench/libcrc32c.so. Slicing-by-8 tables: a 2.6 GB synthetic model is checksummed
 * in seconds, where pure Python would take hours. Not part of liblsrec.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static uint32_t table[8][256];
static int ready;

static void init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        table[0][i] = c;
    }
    for (int s = 1; s < 8; s++)
        for (int i = 0; i < 256; i++) table[s][i] = (table[s - 1][i] >> 8) ^ table[0][table[s - 1][i] & 0xFF];
    ready = 1;
}

/* Continues the CRC32C crc (0 to start) over n bytes at p; returns the finished value. */
uint32_t bench_crc32c(uint32_t crc, const void *p, size_t n) {
    if (!ready) init();
    const unsigned char *b = p;
    uint32_t c = ~crc;
    while (n >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, b, 4);
        memcpy(&hi, b + 4, 4);
        lo ^= c;
        c = table[7][lo & 0xFF] ^ table[6][(lo >> 8) & 0xFF] ^ table[5][(lo >> 16) & 0xFF] ^ table[4][lo >> 24]
          ^ table[3][hi & 0xFF] ^ table[2][(hi >> 8) & 0xFF] ^ table[1][(hi >> 16) & 0xFF] ^ table[0][hi >> 24];
        b += 8;
        n -= 8;
    }
    while (n--) c = (c >> 8) ^ table[0][(c ^ *b++) & 0xFF];
    return ~c;
}
