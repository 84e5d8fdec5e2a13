//go:build lsrec_pkgconfig

package lsrec

// Build against an installed copy (`make install PREFIX=...`), found by pkg-config: set
// PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig and build with `-tags lsrec_pkgconfig`.

/*
#cgo pkg-config: lsrec
*/
import "C"
