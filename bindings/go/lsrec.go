// Package lsrec is the Go binding of liblsrec, the lsrec recommender's C library
// (include/lsrec.h): load a .lsrec model once, keep one State per user, feed it events and ask
// for the top-k items, with explanations.
//
//	m, err := lsrec.Load("model.lsrec")
//	if err != nil { ... }
//	defer m.Close()
//	s, _ := m.NewState()
//	_ = s.Update(1000, time.Unix(1700000000, 0))
//	recs, _ := m.TopK(s, 10) // best first, seen items left out
//
// A Model is immutable and safe for concurrent use by any number of goroutines. A State is one
// user's mutable state; calls on the same State are serialised by a mutex, calls on different
// States run in parallel. Close frees the C objects early; finalizers free them otherwise.
//
// Errors are *Error values wrapping a Status, so errors.Is(err, lsrec.ErrUnknownItem) works; the
// message is the library's lsrec_last_error text, read on the same OS thread as the failed call.
//
// Building: by default cgo uses the checkout's include/ and build/static/liblsrec.so (run
// `make lib-static` first), with an rpath to it. With `-tags lsrec_pkgconfig` it uses the copy
// installed by `make install PREFIX=...` through pkg-config.
package lsrec

/*
#include <stdlib.h>
#include <lsrec.h>
*/
import "C"

import (
	"runtime"
	"sort"
	"sync"
	"time"
	"unsafe"
)

// TSUnknown is the unix time of an event whose time is unknown (LSREC_TS_UNKNOWN); a zero
// time.Time means the same.
const TSUnknown int64 = -1

// NowLastEvent as a request time means "at the user's last event" (LSREC_NOW_LAST_EVENT); it is
// the default of every request.
const NowLastEvent int64 = -1

// ABIVersion is the C ABI these bindings are written for (LSREC_ABI_VERSION).
const ABIVersion = uint32(C.LSREC_ABI_VERSION)

// Version is the loaded library's version string, e.g. "0.5.0".
func Version() string { return C.GoString(C.lsrec_version_string()) }

// LibraryABIVersion is the ABI version of the loaded library (compare with ABIVersion).
func LibraryABIVersion() uint32 { return uint32(C.lsrec_abi_version()) }

// BLASCore is the kernel set the loaded OpenBLAS uses, e.g. "SkylakeX" or "Prescott".
func BLASCore() string { return C.GoString(C.lsrec_blas_core()) }

// BLASSuggestedCoreType is "" when OpenBLAS's kernels suit this CPU. Otherwise OpenBLAS (before
// 0.3.25) fell back to pre-AVX2 kernels on a CPU model it does not know, and updates and scoring
// run several times slower: start the program with OPENBLAS_CORETYPE set to the returned value
// ("SkylakeX" or "Haswell"). It must be in the environment when the process starts; setting it
// from Go is too late, because OpenBLAS reads it when it is loaded.
func BLASSuggestedCoreType() string {
	if p := C.lsrec_blas_suggested_coretype(); p != nil {
		return C.GoString(p)
	}
	return ""
}

// String is the library's short description of the status ("checksum mismatch").
func (s Status) String() string { return C.GoString(C.lsrec_status_str(C.lsrec_status(s))) }

// call runs one C call and turns a non-OK status into an *Error. The OS thread is locked for
// the call and the read of the thread-local lsrec_last_error, so the message is the call's own.
func call(op string, f func() C.lsrec_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	st := f()
	if st == C.LSREC_OK {
		return nil
	}
	return &Error{Status: Status(st), Op: op, Message: C.GoString(C.lsrec_last_error())}
}

func unix(t time.Time) C.int64_t {
	if t.IsZero() {
		return C.int64_t(TSUnknown)
	}
	return C.int64_t(t.Unix())
}

func int64Ptr(a []int64) *C.int64_t {
	if len(a) == 0 {
		return nil
	}
	return (*C.int64_t)(unsafe.Pointer(&a[0]))
}

func floatPtr(a []float32) *C.float {
	if len(a) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(&a[0]))
}

// ---- Model ---------------------------------------------------------------------------------------

// Model is a loaded, immutable .lsrec model. Safe for concurrent use.
type Model struct {
	mu     sync.RWMutex // read-held by every call, write-held by Close
	ptr    *C.lsrec_model
	nItems int
	dim    int
}

func checkABI() error {
	if v := LibraryABIVersion(); v != ABIVersion {
		return invalid("liblsrec has ABI version %d, these bindings need %d", v, ABIVersion)
	}
	return nil
}

func newModel(ptr *C.lsrec_model) *Model {
	m := &Model{ptr: ptr, nItems: int(C.lsrec_model_n_items(ptr)), dim: int(C.lsrec_model_dim(ptr))}
	runtime.SetFinalizer(m, (*Model).Close)
	return m
}

// LoadOptions are the options of LoadWith and LoadBytesWith (lsrec_model_params); the zero
// value is the default.
type LoadOptions struct {
	// ScreenItems keeps a compact copy of the item matrix that TopK and UpdateTopK scan first
	// (LSREC_MODEL_SCREEN_ITEMS): the same results, bit for bit, usually faster, for N·(d+4)
	// more bytes (int8, on a CPU with AVX2 + FMA + F16C) or N·d·2 (binary16, there for d > 1040).
	// Model.ScreensItems says whether this CPU allowed it.
	ScreenItems bool
}

func (o LoadOptions) params() C.lsrec_model_params {
	p := C.lsrec_model_default_params()
	if o.ScreenItems {
		p.flags |= C.LSREC_MODEL_SCREEN_ITEMS
	}
	return p
}

// Load reads a .lsrec file, verifying every checksum.
func Load(path string) (*Model, error) { return LoadWith(path, LoadOptions{}) }

// LoadWith is Load with options.
func LoadWith(path string, opts LoadOptions) (*Model, error) {
	if err := checkABI(); err != nil {
		return nil, err
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	params := opts.params()
	var ptr *C.lsrec_model
	if err := call("lsrec_model_load_ex", func() C.lsrec_status { return C.lsrec_model_load_ex(cpath, &params, &ptr) }); err != nil {
		return nil, err
	}
	return newModel(ptr), nil
}

// LoadBytes loads a model from the bytes of a .lsrec file (the library copies them).
func LoadBytes(data []byte) (*Model, error) { return LoadBytesWith(data, LoadOptions{}) }

// LoadBytesWith is LoadBytes with options.
func LoadBytesWith(data []byte, opts LoadOptions) (*Model, error) {
	if err := checkABI(); err != nil {
		return nil, err
	}
	var ptr *C.lsrec_model
	var p unsafe.Pointer
	if len(data) > 0 {
		p = unsafe.Pointer(&data[0])
	}
	params := opts.params()
	err := call("lsrec_model_load_memory_ex", func() C.lsrec_status {
		return C.lsrec_model_load_memory_ex(p, C.size_t(len(data)), &params, &ptr)
	})
	if err != nil {
		return nil, err
	}
	return newModel(ptr), nil
}

// ScreensItems reports whether TopK scans the compact copy of the item matrix
// (LoadOptions.ScreenItems, on a CPU that allows it). False for a closed model.
func (m *Model) ScreensItems() bool {
	mp, err := m.use()
	if err != nil {
		return false
	}
	defer m.mu.RUnlock()
	return C.lsrec_model_screens_items(mp) == 1
}

// Close frees the model handle; later calls on it, and updates and requests with its states,
// return an error matching ErrClosed. Its states can still be marshalled, cloned and rebased
// onto another model (the library keeps their weights alive). Close waits for calls in
// progress; closing twice is fine.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ptr != nil {
		C.lsrec_model_free(m.ptr)
		m.ptr = nil
		runtime.SetFinalizer(m, nil)
	}
	return nil
}

// use read-locks the model for one call; the caller must call m.mu.RUnlock.
func (m *Model) use() (*C.lsrec_model, error) {
	m.mu.RLock()
	if m.ptr == nil {
		m.mu.RUnlock()
		return nil, closedErr("model")
	}
	return m.ptr, nil
}

// NItems is the number of items N in the catalogue.
func (m *Model) NItems() int { return m.nItems }

// Dim is the model width d (the length of a user vector).
func (m *Model) Dim() int { return m.dim }

// ItemIDs returns the N external item ids in the model's order (the order of Score's result).
func (m *Model) ItemIDs() ([]int64, error) {
	mp, err := m.use()
	if err != nil {
		return nil, err
	}
	defer m.mu.RUnlock()
	ids := make([]int64, m.nItems)
	err = call("lsrec_model_item_ids", func() C.lsrec_status {
		return C.lsrec_model_item_ids(mp, int64Ptr(ids), C.size_t(len(ids)))
	})
	return ids, err
}

// Meta returns a metadata value as text ("general.fingerprint", "lsrec.history", "train.*" ...;
// docs/FORMAT.md) and whether the key is present (false also on a closed model).
func (m *Model) Meta(key string) (string, bool) {
	mp, err := m.use()
	if err != nil {
		return "", false
	}
	defer m.mu.RUnlock()
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	n := C.lsrec_model_meta(mp, ckey, nil, 0)
	if n < 0 {
		return "", false
	}
	buf := make([]byte, int(n)+1)
	C.lsrec_model_meta(mp, ckey, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	return string(buf[:n]), true
}

// Fingerprint is the weights' fingerprint (16 hex digits), carried by every state blob.
func (m *Model) Fingerprint() string {
	v, _ := m.Meta("general.fingerprint")
	return v
}

// ---- States --------------------------------------------------------------------------------------

// State is one user's interest state (LSTM state and the last L events). Calls on one State are
// serialised; it belongs to the Model that made it. MarshalBinary gives a portable blob (~2 KB).
type State struct {
	mu  sync.Mutex
	m   *Model
	ptr *C.lsrec_state
}

func newState(m *Model, ptr *C.lsrec_state) *State {
	s := &State{m: m, ptr: ptr}
	runtime.SetFinalizer(s, (*State).Close)
	return s
}

// NewState returns a new, empty state for this model.
func (m *Model) NewState() (*State, error) {
	mp, err := m.use()
	if err != nil {
		return nil, err
	}
	defer m.mu.RUnlock()
	var ptr *C.lsrec_state
	if err := call("lsrec_state_new", func() C.lsrec_status { return C.lsrec_state_new(mp, &ptr) }); err != nil {
		return nil, err
	}
	return newState(m, ptr), nil
}

// LoadState restores a state from a blob written by (*State).MarshalBinary. A blob of another
// model gives ErrModelMismatch; damaged ones ErrChecksum, ErrTruncated, ErrBadMagic, ...
func (m *Model) LoadState(blob []byte) (*State, error) {
	mp, err := m.use()
	if err != nil {
		return nil, err
	}
	defer m.mu.RUnlock()
	ptr, err := deserialize(mp, blob)
	if err != nil {
		return nil, err
	}
	return newState(m, ptr), nil
}

func deserialize(mp *C.lsrec_model, blob []byte) (*C.lsrec_state, error) {
	var ptr *C.lsrec_state
	var p unsafe.Pointer
	if len(blob) > 0 {
		p = unsafe.Pointer(&blob[0])
	}
	err := call("lsrec_state_deserialize", func() C.lsrec_status {
		return C.lsrec_state_deserialize(mp, p, C.size_t(len(blob)), &ptr)
	})
	return ptr, err
}

// Rebase moves a user onto model m (e.g. a newly trained one) without losing context: the
// events s holds (its last L) are replayed into a new state of m. It returns the new state and
// how many events were skipped because m does not know their item. s is unchanged; its own
// model may already be closed.
func (m *Model) Rebase(s *State) (*State, int, error) {
	mp, err := m.use()
	if err != nil {
		return nil, 0, err
	}
	defer m.mu.RUnlock()
	sp, err := s.lockOwn()
	if err != nil {
		return nil, 0, err
	}
	defer s.mu.Unlock()
	var ptr *C.lsrec_state
	var skipped C.size_t
	if err := call("lsrec_state_rebase", func() C.lsrec_status {
		return C.lsrec_state_rebase(mp, sp, &ptr, &skipped)
	}); err != nil {
		return nil, 0, err
	}
	return newState(m, ptr), int(skipped), nil
}

// Model is the model this state belongs to.
func (s *State) Model() *Model { return s.m }

// Close frees the state now (a finalizer does it otherwise). Closing twice is fine.
func (s *State) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ptr != nil {
		C.lsrec_state_free(s.ptr)
		s.ptr = nil
		runtime.SetFinalizer(s, nil)
	}
	return nil
}

// lock locks the state and read-locks its own model for one call; release with unlock.
func (s *State) lock() (*C.lsrec_model, *C.lsrec_state, error) {
	if s == nil || s.m == nil {
		return nil, nil, invalid("the state was not made by Model.NewState or Model.LoadState")
	}
	return s.lockFor(s.m)
}

func (s *State) unlock() { s.unlockFor(s.m) }

// lockOwn locks only the state, for calls that do not need its model: the library keeps a
// state's weights alive, so these work after the model is closed. Release with s.mu.Unlock.
func (s *State) lockOwn() (*C.lsrec_state, error) {
	if s == nil || s.m == nil {
		return nil, invalid("the state was not made by Model.NewState or Model.LoadState")
	}
	s.mu.Lock()
	if s.ptr == nil {
		s.mu.Unlock()
		return nil, closedErr("state")
	}
	return s.ptr, nil
}

// lockFor locks the state and read-locks model m for one request. A state of another Model is
// passed on as it is: the library accepts it only if both hold the same weights
// (ErrModelMismatch otherwise). Release with unlockFor(m).
func (s *State) lockFor(m *Model) (*C.lsrec_model, *C.lsrec_state, error) {
	if s == nil || s.m == nil {
		return nil, nil, invalid("the state was not made by Model.NewState or Model.LoadState")
	}
	mp, err := m.use()
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	if s.ptr == nil {
		s.mu.Unlock()
		m.mu.RUnlock()
		return nil, nil, closedErr("state")
	}
	return mp, s.ptr, nil
}

func (s *State) unlockFor(m *Model) {
	s.mu.Unlock()
	m.mu.RUnlock()
}

// NEvents is the number of events ever fed (including those the window has dropped).
func (s *State) NEvents() int64 {
	sp, err := s.lockOwn()
	if err != nil {
		return -1
	}
	defer s.mu.Unlock()
	return int64(C.lsrec_state_n_events(sp))
}

// Update feeds one event: an item id and its time (the zero time.Time for an unknown time).
// Times must not decrease (ErrOutOfOrder); an unknown item gives ErrUnknownItem. On error the
// state is unchanged.
func (s *State) Update(item int64, ts time.Time) error {
	return s.UpdateUnix(item, int64(unix(ts)))
}

// UpdateUnix is Update with the time in unix seconds (TSUnknown for an unknown time).
func (s *State) UpdateUnix(item int64, unixTS int64) error {
	mp, sp, err := s.lock()
	if err != nil {
		return err
	}
	defer s.unlock()
	return call("lsrec_state_update", func() C.lsrec_status {
		return C.lsrec_state_update(mp, sp, C.int64_t(item), C.int64_t(unixTS))
	})
}

// UpdateMany feeds events in order (zero times are unknown). All events are checked first; on
// any error nothing is applied.
func (s *State) UpdateMany(items []int64, ts []time.Time) error {
	if len(items) != len(ts) {
		return invalid("%d items but %d times", len(items), len(ts))
	}
	times := make([]int64, len(ts))
	for i, t := range ts {
		times[i] = int64(unix(t))
	}
	return s.UpdateManyUnix(items, times)
}

// UpdateManyUnix is UpdateMany with times in unix seconds (TSUnknown for unknown).
func (s *State) UpdateManyUnix(items []int64, unixTS []int64) error {
	if len(items) != len(unixTS) {
		return invalid("%d items but %d times", len(items), len(unixTS))
	}
	mp, sp, err := s.lock()
	if err != nil {
		return err
	}
	defer s.unlock()
	return call("lsrec_state_update_many", func() C.lsrec_status {
		return C.lsrec_state_update_many(mp, sp, int64Ptr(items), int64Ptr(unixTS), C.size_t(len(items)))
	})
}

// Clone returns an independent copy of the state.
func (s *State) Clone() (*State, error) {
	sp, err := s.lockOwn()
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var ptr *C.lsrec_state
	if err := call("lsrec_state_clone", func() C.lsrec_status { return C.lsrec_state_clone(sp, &ptr) }); err != nil {
		return nil, err
	}
	return newState(s.m, ptr), nil
}

// MarshalBinary serialises the state to a portable blob (encoding.BinaryMarshaler).
func (s *State) MarshalBinary() ([]byte, error) {
	sp, err := s.lockOwn()
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var needed C.size_t
	if err := call("lsrec_state_serialize", func() C.lsrec_status {
		return C.lsrec_state_serialize(sp, nil, 0, &needed)
	}); err != nil {
		return nil, err
	}
	blob := make([]byte, int(needed))
	err = call("lsrec_state_serialize", func() C.lsrec_status {
		return C.lsrec_state_serialize(sp, unsafe.Pointer(&blob[0]), C.size_t(len(blob)), &needed)
	})
	return blob[:int(needed)], err
}

// UnmarshalBinary replaces the state with one restored from a blob (encoding.BinaryUnmarshaler).
// The State must come from its model (Model.NewState or Model.LoadState), which must also be
// the blob's model; to make a new State from a blob use Model.LoadState.
func (s *State) UnmarshalBinary(blob []byte) error {
	mp, sp, err := s.lock()
	if err != nil {
		return err
	}
	defer s.unlock()
	ptr, err := deserialize(mp, blob)
	if err != nil {
		return err
	}
	s.ptr = ptr
	C.lsrec_state_free(sp)
	return nil
}

// ---- Requests ------------------------------------------------------------------------------------

// Option adjusts a request (TopK, TopKBatch, Score, ScoreItems, UserVector); options that do
// not apply to a request are ignored.
type Option func(*options)

type options struct {
	now         int64
	includeSeen bool
	exclude     []int64
}

func collect(opts []Option) options {
	o := options{now: NowLastEvent}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// At sets the request time (default: the time of the user's last event).
func At(t time.Time) Option { return func(o *options) { o.now = t.Unix() } }

// AtUnix sets the request time in unix seconds (NowLastEvent: the default).
func AtUnix(sec int64) Option { return func(o *options) { o.now = sec } }

// IncludeSeen keeps items among the state's held events in TopK results (left out by default).
func IncludeSeen() Option { return func(o *options) { o.includeSeen = true } }

// Exclude leaves further item ids out of TopK results (ids the model does not know are ignored).
func Exclude(ids ...int64) Option {
	return func(o *options) { o.exclude = append(o.exclude, ids...) }
}

func (o options) flags() C.uint32_t {
	if o.includeSeen {
		return 0
	}
	return C.LSREC_EXCLUDE_SEEN
}

// Recommendation is one recommended item.
type Recommendation struct {
	Item  int64
	Score float32
}

// Contribution is one history item's share of a recommendation's score (Explain).
type Contribution struct {
	Item   int64
	Weight float32
}

// Score returns the scores of all N items (in ItemIDs order; higher is better).
func (m *Model) Score(s *State, opts ...Option) ([]float32, error) {
	o := collect(opts)
	mp, sp, err := s.lockFor(m)
	if err != nil {
		return nil, err
	}
	defer s.unlockFor(m)
	out := make([]float32, m.nItems)
	err = call("lsrec_score", func() C.lsrec_status {
		return C.lsrec_score(mp, sp, C.int64_t(o.now), floatPtr(out), C.size_t(len(out)))
	})
	return out, err
}

// ScoreItems returns the scores of the given items; an unknown id gives ErrUnknownItem.
func (m *Model) ScoreItems(s *State, items []int64, opts ...Option) ([]float32, error) {
	o := collect(opts)
	mp, sp, err := s.lockFor(m)
	if err != nil {
		return nil, err
	}
	defer s.unlockFor(m)
	out := make([]float32, len(items))
	err = call("lsrec_score_items", func() C.lsrec_status {
		return C.lsrec_score_items(mp, sp, C.int64_t(o.now), int64Ptr(items), C.size_t(len(items)), floatPtr(out))
	})
	return out, err
}

// TopK returns the k best items, best first (fewer only when the catalogue, after exclusions,
// is smaller). By default items among the user's held events are left out (IncludeSeen keeps
// them) and the request is at the last event (At changes it).
func (m *Model) TopK(s *State, k int, opts ...Option) ([]Recommendation, error) {
	return m.topKOn(s, k, opts, "lsrec_topk", func(mp *C.lsrec_model, sp *C.lsrec_state, o options,
		ids *C.int64_t, scores *C.float, n *C.size_t) C.lsrec_status {
		return C.lsrec_topk(mp, sp, C.int64_t(o.now), C.size_t(k), o.flags(), int64Ptr(o.exclude),
			C.size_t(len(o.exclude)), ids, scores, n)
	})
}

// topKOn checks k, collects the options, locks s for m and runs one top-k call into fresh buffers.
func (m *Model) topKOn(s *State, k int, opts []Option, op string, f func(mp *C.lsrec_model, sp *C.lsrec_state,
	o options, ids *C.int64_t, scores *C.float, n *C.size_t) C.lsrec_status) ([]Recommendation, error) {
	if k < 1 {
		return nil, invalid("k = %d, must be >= 1", k)
	}
	o := collect(opts)
	mp, sp, err := s.lockFor(m)
	if err != nil {
		return nil, err
	}
	defer s.unlockFor(m)
	return topKCall(op, k, func(ids *C.int64_t, scores *C.float, n *C.size_t) C.lsrec_status {
		return f(mp, sp, o, ids, scores, n)
	})
}

// UpdateTopK feeds one event to s (as State.Update) and returns TopK for the updated state, in
// one library call: the per-click path of a service. Every argument is checked first: on any
// error s is unchanged.
func (m *Model) UpdateTopK(s *State, item int64, ts time.Time, k int, opts ...Option) ([]Recommendation, error) {
	return m.UpdateTopKUnix(s, item, int64(unix(ts)), k, opts...)
}

// UpdateTopKUnix is UpdateTopK with the event time in unix seconds (TSUnknown for unknown).
func (m *Model) UpdateTopKUnix(s *State, item int64, unixTS int64, k int, opts ...Option) ([]Recommendation, error) {
	return m.topKOn(s, k, opts, "lsrec_state_update_topk", func(mp *C.lsrec_model, sp *C.lsrec_state, o options,
		ids *C.int64_t, scores *C.float, n *C.size_t) C.lsrec_status {
		return C.lsrec_state_update_topk(mp, sp, C.int64_t(item), C.int64_t(unixTS), C.int64_t(o.now), C.size_t(k),
			o.flags(), int64Ptr(o.exclude), C.size_t(len(o.exclude)), ids, scores, n)
	})
}

func ranked(ids []int64, scores []float32, n int) []Recommendation {
	out := make([]Recommendation, 0, n)
	for i := 0; i < n && ids[i] >= 0; i++ {
		out = append(out, Recommendation{Item: ids[i], Score: scores[i]})
	}
	return out
}

// TopKBatch returns TopK for many users with one matrix product (faster than a call per user);
// result b is states[b]'s list. Exclude is ignored here.
func (m *Model) TopKBatch(states []*State, k int, opts ...Option) ([][]Recommendation, error) {
	if k < 1 {
		return nil, invalid("k = %d, must be >= 1", k)
	}
	o := collect(opts)
	mp, err := m.use()
	if err != nil {
		return nil, err
	}
	defer m.mu.RUnlock()
	if len(states) == 0 {
		return [][]Recommendation{}, nil
	}
	// Lock each distinct state once, in a fixed order (no deadlock with another batch).
	unique := make([]*State, 0, len(states))
	seen := make(map[*State]bool, len(states))
	for _, s := range states {
		if s == nil || s.m == nil {
			return nil, invalid("TopKBatch: a state was not made by Model.NewState or Model.LoadState")
		}
		if !seen[s] {
			seen[s] = true
			unique = append(unique, s)
		}
	}
	sort.Slice(unique, func(i, j int) bool { return uintptr(unsafe.Pointer(unique[i])) < uintptr(unsafe.Pointer(unique[j])) })
	for _, s := range unique {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	// The array of state handles lives in C memory (Go memory may not hold pointers passed to C).
	handles := unsafe.Slice((**C.lsrec_state)(C.malloc(C.size_t(len(states))*C.size_t(unsafe.Sizeof(uintptr(0))))), len(states))
	defer C.free(unsafe.Pointer(&handles[0]))
	for i, s := range states {
		if s.ptr == nil {
			return nil, closedErr("state")
		}
		handles[i] = s.ptr
	}
	ids := make([]int64, len(states)*k)
	scores := make([]float32, len(states)*k)
	err = call("lsrec_topk_batch", func() C.lsrec_status {
		return C.lsrec_topk_batch(mp, &handles[0], C.size_t(len(states)), C.int64_t(o.now), C.size_t(k), o.flags(),
			int64Ptr(ids), floatPtr(scores))
	})
	if err != nil {
		return nil, err
	}
	out := make([][]Recommendation, len(states))
	for b := range states {
		out[b] = ranked(ids[b*k:(b+1)*k], scores[b*k:(b+1)*k], k)
	}
	return out, nil
}

// Explain returns the history items that contributed most to item's score ("because you
// watched ..."), largest first, at most k, at the time of the last event.
func (m *Model) Explain(s *State, item int64, k int) ([]Contribution, error) {
	if k < 1 {
		return nil, invalid("k = %d, must be >= 1", k)
	}
	mp, sp, err := s.lockFor(m)
	if err != nil {
		return nil, err
	}
	defer s.unlockFor(m)
	return explainCall("lsrec_explain", k, func(ids *C.int64_t, weights *C.float, n *C.size_t) C.lsrec_status {
		return C.lsrec_explain(mp, sp, C.int64_t(item), C.size_t(k), ids, weights, n)
	})
}

// UserVector returns the user vector u (Dim floats); scores are u·e_i + b_i (+ β on held items
// for a model with the repeat term, docs/MODEL.md).
func (m *Model) UserVector(s *State, opts ...Option) ([]float32, error) {
	o := collect(opts)
	mp, sp, err := s.lockFor(m)
	if err != nil {
		return nil, err
	}
	defer s.unlockFor(m)
	out := make([]float32, m.dim)
	err = call("lsrec_user_vector", func() C.lsrec_status {
		return C.lsrec_user_vector(mp, sp, C.int64_t(o.now), floatPtr(out), C.size_t(len(out)))
	})
	return out, err
}
