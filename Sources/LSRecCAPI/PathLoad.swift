import LSRecFormat
#if canImport(Glibc)
import Glibc
#endif

/// The shared steps of the `lsrec_*_load(path, out)` entry points: `out` is checked and cleared
/// first (so it is NULL after any failure), then `path`; only regular files are read, since a
/// device or FIFO may never end (/dev/zero would exhaust the host's memory) or block. `make`
/// reads the file and returns the handle's box, which is retained into `*out`.
/// `notRegularHint` is appended to the "is not a regular file" message.
func loadHandle(path: UnsafePointer<CChar>?, into out: UnsafeMutablePointer<OpaquePointer?>?,
                notRegularHint: String = "", _ make: (String) throws -> AnyObject) throws {
    guard let out else { throw nullArgument("out") }
    out.pointee = nil
    guard let path else { throw nullArgument("path") }
    let name = String(cString: path)
    var info = stat()
    if stat(name, &info) == 0 && info.st_mode & S_IFMT != S_IFREG {
        throw LSRecError(.io, "'\(name)' is not a regular file\(notRegularHint)")
    }
    out.pointee = retainHandle(try make(name))
    returnFreedMemory()
}

/// Hands memory freed during a load back to the system. A load holds the file's bytes and
/// temporary tensors next to the arrays it keeps (peak ≈ 2× the file); glibc keeps such freed
/// heap pages resident, which made a process's RSS grow by several times the file per model.
/// glibc's malloc_trim is not in Swift's Glibc module; it is looked up once (absent, e.g. on musl:
/// nothing to do).
func returnFreedMemory() {
    _ = mallocTrim?(0)
}

private typealias MallocTrim = @convention(c) (Int) -> Int32
private let mallocTrim: MallocTrim? = {
    #if canImport(Glibc)
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
    return unsafeBitCast(symbol, to: MallocTrim.self)
    #else
    return nil
    #endif
}()
