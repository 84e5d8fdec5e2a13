import LSRecFormat
#if canImport(Glibc)
import Glibc
#endif

/// Thread-local last error message: one malloc'd C string per thread, freed at thread exit.
enum LastError {
    static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()

    static func set(_ message: String) {
        let old = pthread_getspecific(key)
        let copy = strdup(message)
        pthread_setspecific(key, copy)
        free(old)
    }

    static var current: UnsafePointer<CChar>? {
        pthread_getspecific(key).map { UnsafePointer($0.assumingMemoryBound(to: CChar.self)) }
    }
}

/// The catch-all around every exported function: runs `body`, turns thrown errors into a status
/// code plus the thread-local message. Traps cannot be caught, so bodies validate before indexing.
@inline(__always)
func guarded(_ function: StaticString, _ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return LSRecStatus.ok.rawValue
    } catch let error as LSRecError {
        LastError.set("\(function): \(error.message)")
        return error.status.rawValue
    } catch {
        LastError.set("\(function): \(error)")
        return LSRecStatus.internal.rawValue
    }
}

/// Shorthand for a NULL-argument error.
func nullArgument(_ name: String) -> LSRecError {
    LSRecError(.invalidArgument, "\(name) is NULL")
}
