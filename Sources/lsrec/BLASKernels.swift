import Foundation
import LSRecKernels

/// OpenBLAS's kernel choice for the `lsrec` tool (Sources/LSRecKernels/blas_core.c says why).
///
/// OpenBLAS reads OPENBLAS_CORETYPE only when it is loaded — before `main` — so when it has fallen
/// back to pre-AVX2 kernels on a CPU with AVX2 + FMA, the tool re-runs itself once with the variable
/// set. A value the user set is never overridden (that is also what stops a second re-run).
enum BLASKernels {
    /// Set in the re-run's environment: the kernel set OpenBLAS chose on its own.
    static let detectedVariable = "LSREC_BLAS_DETECTED_CORE"

    static func rerunIfMisdetected() {
        guard getenv("OPENBLAS_CORETYPE") == nil, let better = lsk_blas_suggested_coretype() else { return }
        setenv("OPENBLAS_CORETYPE", better, 1)
        setenv(detectedVariable, lsk_blas_core(), 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only reached when exec failed: carry on with the slow kernels, and say so.
        let message = "lsrec: note: could not re-run with OPENBLAS_CORETYPE=\(String(cString: better)) "
            + "(\(String(cString: strerror(errno)))); OpenBLAS runs its \(String(cString: lsk_blas_core())) kernels\n"
        FileHandle.standardError.write(message.data(using: .utf8)!)
        unsetenv("OPENBLAS_CORETYPE")
        unsetenv(detectedVariable)
    }

    /// "SkylakeX", or "SkylakeX (OPENBLAS_CORETYPE set by lsrec: OpenBLAS chose Prescott)".
    static var description: String {
        let core = String(cString: lsk_blas_core())
        guard let detected = getenv(detectedVariable) else { return core }
        return "\(core) (OPENBLAS_CORETYPE set by lsrec: OpenBLAS chose \(String(cString: detected)))"
    }
}
