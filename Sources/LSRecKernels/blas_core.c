/* Which OpenBLAS kernel set runs here, and a better one when OpenBLAS's own CPU detection failed.
 *
 * Why: OpenBLAS built with DYNAMIC_ARCH (Debian's and most distributions' packages) picks its
 * kernels from the CPU model when it is loaded. Releases before 0.3.25 (Debian 12 ships 0.3.21)
 * fall back to the SSE3 "Prescott" kernels on Intel models they do not know, with no feature-based
 * fallback — on an Emerald Rapids Xeon with AVX-512, single-core sgemm ran at 30 GFLOP/s with
 * them and at 154 GFLOP/s with OPENBLAS_CORETYPE=SkylakeX (build/bench/floors, 2026-12-07).
 * OpenBLAS reads that variable once, when it is loaded, so a library cannot switch kernels after
 * the fact; it can only say so. Programs (the `lsrec` tool, the benches) re-run themselves with it
 * set; hosts get lsrec_blas_suggested_coretype() and the documentation. */
#include "lsrec_kernels.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

/* Declared by OpenBLAS's cblas.h; declared here so this target needs no BLAS header. The library
 * that links these kernels (LSRecCore) links OpenBLAS. */
extern char *openblas_get_corename(void);
extern char *openblas_get_config(void);

/* OpenBLAS core names older than AVX2 + FMA: a CPU with AVX2 and FMA that runs one of these has
 * been misdetected (or deliberately pinned, which OPENBLAS_CORETYPE being set tells apart). */
static const char *const pre_avx2_cores[] = {
    "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Banias", "Katmai", "Coppermine",
    "Northwood", "Athlon", "Opteron", "Opteron_SSE3", "Barcelona", "Bobcat", "Bulldozer", "Sandybridge",
};

const char *lsk_blas_suggest(const char *core, int cpu_level) {
    if (core == NULL || cpu_level < 1) return NULL;
    for (size_t i = 0; i < sizeof pre_avx2_cores / sizeof pre_avx2_cores[0]; i++)
        if (strcasecmp(core, pre_avx2_cores[i]) == 0)
            /* SkylakeX is OpenBLAS's AVX-512 kernel set (Cooperlake only adds bfloat16 routines,
             * and its sgemm measured slower here: 110 vs 154 GFLOP/s); Haswell its AVX2 + FMA set. */
            return cpu_level >= 2 ? "SkylakeX" : "Haswell";
    return NULL;
}

int lsk_cpu_blas_level(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return 0;
    /* The AVX-512 subsets OpenBLAS's SkylakeX kernels use. */
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("avx512cd"))
        return 2;
    return 1;
#else
    return 0;
#endif
}

const char *lsk_blas_core(void) {
    const char *core = openblas_get_corename();
    return core && core[0] ? core : "unknown";
}

int lsk_blas_dynamic_arch(void) {
    /* "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64" (the word is always upper case) */
    const char *config = openblas_get_config();
    return config != NULL && strstr(config, "DYNAMIC_ARCH") != NULL;
}

const char *lsk_blas_suggested_coretype(void) {
    /* Without DYNAMIC_ARCH the kernels are fixed at build time: the variable would change nothing. */
    if (!lsk_blas_dynamic_arch()) return NULL;
    return lsk_blas_suggest(lsk_blas_core(), lsk_cpu_blas_level());
}
