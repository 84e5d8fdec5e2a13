#if canImport(Glibc)
import Glibc
#endif

/// Seconds on the monotonic clock: `Network` sums the time of its loss/scoring part with it, so a
/// benchmark can divide that part's FLOPs by the time it took (bench/compare.py).
func monotonicSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
