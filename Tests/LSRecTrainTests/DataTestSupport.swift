import Foundation
import CZlib

/// Temporary directory for loader tests, removed by `cleanup()`.
struct TempDir {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "lsrec-data-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> String { path + "/" + name }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }

    /// Writes raw bytes (no encoding applied).
    @discardableResult
    func write(_ name: String, bytes: [UInt8]) -> String {
        let p = file(name)
        precondition(FileManager.default.createFile(atPath: p, contents: Data(bytes)), "cannot write \(p)")
        return p
    }

    @discardableResult
    func write(_ name: String, _ text: String) -> String { write(name, bytes: Array(text.utf8)) }

    /// Writes `text` gzip-compressed through zlib's gzopen/gzwrite.
    @discardableResult
    func writeGz(_ name: String, _ text: String) -> String {
        let p = file(name)
        let f = gzopen(p, "wb")!
        var bytes = Array(text.utf8)
        let n = bytes.withUnsafeMutableBytes { gzwrite(f, $0.baseAddress, UInt32($0.count)) }
        precondition(n == Int32(bytes.count))
        gzclose(f)
        return p
    }
}
