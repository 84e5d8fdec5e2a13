//go:build !lsrec_pkgconfig

package lsrec

// Build against this checkout: the header in include/ and the library that `make lib-static`
// writes to build/static, found at run time through an rpath (no LD_LIBRARY_PATH needed).
// Build with `-tags lsrec_pkgconfig` to use an installed copy instead (cgo_pkgconfig.go).

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/../../build/static -llsrec -Wl,-rpath,${SRCDIR}/../../build/static
*/
import "C"
