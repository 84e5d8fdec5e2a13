import LSRecKernels

// Which OpenBLAS kernels the process runs (blas_core.c says why a host may need to know): a host
// cannot fix a misdetection from inside the library, only by setting OPENBLAS_CORETYPE before
// OpenBLAS is loaded, so the library reports it and the host decides.

@_cdecl("lsrec_blas_core")
public func lsrec_blas_core() -> UnsafePointer<CChar> { lsk_blas_core() }

@_cdecl("lsrec_blas_suggested_coretype")
public func lsrec_blas_suggested_coretype() -> UnsafePointer<CChar>? { lsk_blas_suggested_coretype() }
