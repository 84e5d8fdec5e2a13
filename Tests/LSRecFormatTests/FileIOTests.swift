import LSRecFormat
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class FileIOTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        var template = Array("/tmp/lsrec-format-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buf -> Bool in
            guard let base = buf.baseAddress else { return false }
            return mkdtemp(base) != nil
        }
        XCTAssertTrue(made)
        dir = String(cString: template)
    }

    override func tearDown() {
        _ = chmod(dir, 0o755)
        _ = system("rm -rf '\(dir)'")
        super.tearDown()
    }

    private func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    private func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    private func tempName(_ path: String) -> String { "\(path).tmp.\(getpid())" }

    func testWriteThenReadBack() throws {
        let path = dir + "/model.lsrec"
        let bytes = sampleFile()
        try FileIO.writeAtomically(bytes, to: path)
        XCTAssertEqual(try FileIO.readAll(path: path), bytes)
        XCTAssertFalse(exists(tempName(path)))
        XCTAssertEqual(try WeightFile(path: path).tensors.count, 4)
        // Overwrite with other contents.
        try FileIO.writeAtomically([1, 2, 3], to: path)
        XCTAssertEqual(try FileIO.readAll(path: path), [1, 2, 3])
        try FileIO.writeAtomically([], to: path)
        XCTAssertEqual(try FileIO.readAll(path: path), [])
    }

    func testReadLargerThanOneChunk() throws {
        let path = dir + "/big"
        var rng = SplitMix64(seed: 5)
        let bytes = (0 ..< 300_001).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
        try FileIO.writeAtomically(bytes, to: path)
        XCTAssertEqual(try FileIO.readAll(path: path), bytes)
    }

    func testReadMissingFile() {
        let path = dir + "/nope.lsrec"
        assertThrows(.io, contains: "cannot open '\(path)': No such file or directory") { try FileIO.readAll(path: path) }
        assertThrows(.io) { try WeightFile(path: path) }
    }

    func testReadDirectory() {
        assertThrows(.io, contains: dir) { try FileIO.readAll(path: dir) }
    }

    /// A device would be read forever (/dev/zero) or block; only regular files are read.
    func testReadRefusesDevices() {
        for dev in ["/dev/zero", "/dev/null"] {
            assertThrows(.io, contains: "'\(dev)' is not a regular file") { try FileIO.readAll(path: dev) }
            assertThrows(.io) { try WeightFile(path: dev) }
        }
    }

    func testWriteOverDirectoryFailsAndLeavesItIntact() throws {
        let path = dir + "/sub"
        XCTAssertEqual(mkdir(path, 0o755), 0)
        try FileIO.writeAtomically([9], to: path + "/inside")
        assertThrows(.io, contains: path) { try FileIO.writeAtomically([1, 2, 3], to: path) }
        XCTAssertTrue(isDirectory(path))
        XCTAssertEqual(try FileIO.readAll(path: path + "/inside"), [9])
        XCTAssertFalse(exists(tempName(path)), "temporary file left behind")
    }

    func testFailureToCreateTempLeavesOldFileIntact() throws {
        let path = dir + "/model.lsrec"
        try FileIO.writeAtomically([1, 2, 3, 4], to: path)
        // Block the temporary name with a directory: creating it fails even for root.
        XCTAssertEqual(mkdir(tempName(path), 0o755), 0)
        assertThrows(.io, contains: tempName(path)) { try FileIO.writeAtomically([5, 6], to: path) }
        XCTAssertEqual(try FileIO.readAll(path: path), [1, 2, 3, 4])
        XCTAssertTrue(isDirectory(tempName(path)), "must not remove what it did not create")
    }

    func testMissingParentDirectory() {
        let path = dir + "/no/such/dir/model.lsrec"
        assertThrows(.io, contains: "No such file or directory") { try FileIO.writeAtomically([1], to: path) }
        XCTAssertFalse(exists(path))
    }

    func testUnwritableDirectoryLeavesOldFileIntact() throws {
        let sub = dir + "/ro"
        XCTAssertEqual(mkdir(sub, 0o755), 0)
        let path = sub + "/model.lsrec"
        try FileIO.writeAtomically([7, 7, 7], to: path)
        XCTAssertEqual(chmod(sub, 0o555), 0)
        defer { _ = chmod(sub, 0o755) }
        try XCTSkipIf(geteuid() == 0, "root ignores directory permissions (covered by the blocked-temp test)")
        assertThrows(.io, contains: "Permission denied") { try FileIO.writeAtomically([1], to: path) }
        XCTAssertEqual(try FileIO.readAll(path: path), [7, 7, 7])
        XCTAssertFalse(exists(tempName(path)))
    }
}
