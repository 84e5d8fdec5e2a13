#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and crash-safe whole-file writes with Glibc stdio. Errors are
/// `LSRecError(.io, ...)` carrying the path and `strerror(errno)`.
public enum FileIO {
    /// Reads the whole regular file at `path`. Devices, FIFOs and directories are refused (a read of
    /// /dev/zero would never end). Throws `LSRecError(.io, "cannot open '<path>': <strerror>")`,
    /// `"'<path>' is not a regular file"` or `"cannot read '<path>': ..."`.
    public static func readAll(path: String) throws -> [UInt8] {
        guard let f = fopen(path, "rbe") else {
            throw LSRecError(.io, "cannot open '\(path)': \(errnoText(errno))")
        }
        defer { fclose(f) }
        var st = stat()
        var hint = 0
        guard fstat(fileno(f), &st) == 0 else {
            throw LSRecError(.io, "cannot stat '\(path)': \(errnoText(errno))")
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw LSRecError(.io, "'\(path)' is not a regular file")
        }
        if st.st_size > 0, let n = Int(exactly: st.st_size) { hint = n }

        // Read the size announced by fstat straight into the array, then whatever follows
        // (the file may have grown since fstat).
        var out = [UInt8](unsafeUninitializedCapacity: hint) { buf, initialized in
            initialized = hint > 0 ? fread(buf.baseAddress, 1, hint, f) : 0
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while ferror(f) == 0 && feof(f) == 0 {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n > 0 { out.append(contentsOf: chunk[0 ..< n]) }
            if n == 0 { break }
        }
        if ferror(f) != 0 {
            throw LSRecError(.io, "cannot read '\(path)': \(errnoText(errno))")
        }
        return out
    }

    /// Writes `bytes` to "<path>.tmp.<pid>", fsyncs it, and renames it over `path` (then fsyncs
    /// the directory). On any failure the temporary file is removed and an existing file at
    /// `path` is left untouched. Throws `LSRecError(.io, ...)`.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let tmp = "\(path).tmp.\(getpid())"
        guard let f = fopen(tmp, "wbe") else {
            // Nothing was created (fopen failed), so there is nothing to remove.
            throw LSRecError(.io, "cannot create '\(tmp)': \(errnoText(errno))")
        }
        var isOpen = true
        var done = false
        defer {
            if isOpen { fclose(f) }
            if !done { unlink(tmp) }
        }
        let written = bytes.withUnsafeBytes { buf -> Int in
            buf.count == 0 ? 0 : fwrite(buf.baseAddress, 1, buf.count, f)
        }
        if written != bytes.count {
            throw LSRecError(.io, "cannot write '\(tmp)': \(errnoText(errno))")
        }
        if fflush(f) != 0 { throw LSRecError(.io, "cannot write '\(tmp)': \(errnoText(errno))") }
        if fsync(fileno(f)) != 0 { throw LSRecError(.io, "cannot fsync '\(tmp)': \(errnoText(errno))") }
        isOpen = false
        if fclose(f) != 0 { throw LSRecError(.io, "cannot close '\(tmp)': \(errnoText(errno))") }
        if rename(tmp, path) != 0 {
            throw LSRecError(.io, "cannot rename '\(tmp)' to '\(path)': \(errnoText(errno))")
        }
        done = true
        syncDirectory(of: path)
    }

    /// Best-effort fsync of the directory holding `path`, so the rename itself is durable.
    private static func syncDirectory(of path: String) {
        let u = Array(path.utf8)
        let dir: String
        if let slash = u.lastIndex(of: UInt8(ascii: "/")) {
            dir = slash == 0 ? "/" : String(decoding: u[0 ..< slash], as: UTF8.self)
        } else {
            dir = "."
        }
        let fd = open(dir, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }
}

/// `strerror(e)` as a Swift string.
func errnoText(_ e: Int32) -> String {
    guard let p = strerror(e) else { return "errno \(e)" }
    return String(cString: p)
}
