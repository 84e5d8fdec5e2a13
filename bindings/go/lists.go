package lsrec

/*
#include <lsrec.h>
*/
import "C"

// The list-returning C calls (lsrec_topk, lsrec_catalog_topk, lsrec_explain,
// lsrec_catalog_explain) share one shape: k ids and k floats in, the count written in n. These
// run such a call (f, given the buffers, on the caller's already locked handles) and convert
// what it wrote, so Model and Catalog differ only in the C function.

// topKCall returns the ranked list a top-k call wrote (at most k entries, best first).
func topKCall(op string, k int, f func(ids *C.int64_t, scores *C.float, n *C.size_t) C.lsrec_status) ([]Recommendation, error) {
	ids := make([]int64, k)
	scores := make([]float32, k)
	var n C.size_t
	if err := call(op, func() C.lsrec_status { return f(int64Ptr(ids), floatPtr(scores), &n) }); err != nil {
		return nil, err
	}
	return ranked(ids, scores, int(n)), nil
}

// explainCall returns the contributions an explain call wrote (at most k, largest first).
func explainCall(op string, k int, f func(ids *C.int64_t, weights *C.float, n *C.size_t) C.lsrec_status) ([]Contribution, error) {
	ids := make([]int64, k)
	weights := make([]float32, k)
	var n C.size_t
	if err := call(op, func() C.lsrec_status { return f(int64Ptr(ids), floatPtr(weights), &n) }); err != nil {
		return nil, err
	}
	out := make([]Contribution, int(n))
	for i := range out {
		out[i] = Contribution{Item: ids[i], Weight: weights[i]}
	}
	return out, nil
}
