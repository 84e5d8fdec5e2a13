import XCTest
import LSRecKernels

/// The OpenBLAS kernel advice (Sources/LSRecKernels/blas_core.c): the pure rule on names and CPU
/// levels, and the CPU level against /proc/cpuinfo's flags.
final class BLASCoreTests: XCTestCase {
    func suggest(_ core: String?, _ level: Int32) -> String? {
        let p: UnsafePointer<CChar>? = core.map { $0.withCString { lsk_blas_suggest($0, level) } } ?? lsk_blas_suggest(nil, level)
        return p.map { String(cString: $0) }
    }

    func testPreAVX2CoresGetTheCPUsKernelSet() {
        for core in ["Prescott", "prescott", "Core2", "Nehalem", "Sandybridge", "Barcelona", "Bulldozer"] {
            XCTAssertEqual(suggest(core, 2), "SkylakeX", core)
            XCTAssertEqual(suggest(core, 1), "Haswell", core)
            XCTAssertNil(suggest(core, 0), core)
        }
    }

    func testAVX2CoresAndUnknownNamesAreLeftAlone() {
        for core in ["Haswell", "SkylakeX", "Cooperlake", "Zen", "SapphireRapids", "HASWELL", "unknown", ""] {
            XCTAssertNil(suggest(core, 2), core)
            XCTAssertNil(suggest(core, 1), core)
        }
        XCTAssertNil(suggest(nil, 2))
    }

    func testCPULevelMatchesProcCpuinfo() throws {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else {
            throw XCTSkip("no /proc/cpuinfo")
        }
        let flags = Set(line.split(separator: " ").map(String.init))
        var level: Int32 = 0
        if flags.isSuperset(of: ["avx2", "fma"]) {
            level = flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]) ? 2 : 1
        }
        XCTAssertEqual(lsk_cpu_blas_level(), level)
    }

    func testReportIsConsistent() {
        let core = String(cString: lsk_blas_core())
        XCTAssertFalse(core.isEmpty)
        if let better = lsk_blas_suggested_coretype() {
            XCTAssertEqual(String(cString: better), suggest(core, lsk_cpu_blas_level()))
        }
    }
}
