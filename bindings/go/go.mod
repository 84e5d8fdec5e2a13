module lsrec

go 1.19
