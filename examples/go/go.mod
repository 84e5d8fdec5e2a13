module lsrec-example

go 1.19

require lsrec v0.0.0

// The binding lives in this repository; point the module at it.
replace lsrec => ../../bindings/go
