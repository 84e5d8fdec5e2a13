import CZlib
#if canImport(Glibc)
import Glibc
#endif

/// Streams the lines of a file, gzip-compressed or plain (zlib's `gzread` passes plain files
/// through unchanged), without materialising the file or building a `String` per line.
///
/// `body` receives each line's bytes without the `\n` (a trailing `\r` is also removed) and its
/// 1-based line number. The pointer is valid only during the call.
func forEachLine(path: String,
                 _ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
    guard let file = gzopen(path, "rb") else { throw DataLoadError.cannotOpen(path: path) }
    defer { gzclose(file) }
    gzbuffer(file, 1 << 18)

    var capacity = 1 << 20
    var buf = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    defer { buf.deallocate() }
    var filled = 0          // bytes in buf[0..<filled]; buf[0] starts an unfinished line
    var lineNo = 0
    var eof = false

    func emit(_ start: Int, _ end: Int) throws {
        var e = end
        if e > start && buf[e - 1] == 13 { e -= 1 } // CRLF files
        lineNo += 1
        try body(UnsafeBufferPointer(start: buf + start, count: e - start), lineNo)
    }

    while !eof {
        if filled == capacity { // one line longer than the buffer: grow
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
            bigger.update(from: buf, count: filled)
            buf.deallocate()
            buf = bigger
            capacity *= 2
        }
        let want = Int32(clamping: capacity - filled)
        let got = gzread(file, buf + filled, UInt32(want))
        if got <= 0 {
            // 0 is end of input; a truncated or corrupt gzip stream also sets an error here.
            var errnum: Int32 = 0
            let msg = gzerror(file, &errnum).map { String(cString: $0) } ?? "unknown zlib error"
            if got < 0 || errnum != Z_OK {
                throw DataLoadError.readFailed(path: path, message: msg)
            }
            eof = true
        }
        let end = filled + Int(got)
        var start = 0
        var scan = filled
        while scan < end {
            guard let nl = memchrIndex(buf, from: scan, to: end) else { break }
            try emit(start, nl)
            start = nl + 1
            scan = start
        }
        if eof {
            if start < end { try emit(start, end) } // last line without '\n'
            filled = 0
        } else {
            filled = end - start
            if start > 0 && filled > 0 { memmove(buf, buf + start, filled) } // may overlap
        }
    }
}

/// Index of the first `\n` in `p[from..<to]`, using libc `memchr` (vectorised).
@inline(__always)
private func memchrIndex(_ p: UnsafeMutablePointer<UInt8>, from: Int, to: Int) -> Int? {
    guard let hit = memchr(p + from, 10, to - from) else { return nil }
    return hit.assumingMemoryBound(to: UInt8.self) - p
}
