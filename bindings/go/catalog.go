package lsrec

/*
#include <stdlib.h>
#include <lsrec.h>
*/
import "C"

import (
	"runtime"
	"sync"
	"time"
)

// Catalog is the set of items to recommend from: a model's items, minus removed ones, plus items
// added after training from a text embedding (scored as e = P·t with the median trained bias,
// docs/MODEL.md). The model is never changed; the catalogue keeps its weights alive.
//
// A Catalog is safe for concurrent use by any number of goroutines, readers (TopK, ScoreItems,
// Explain) and writers (AddItem, RemoveItem, RestoreItem) alike: each read sees one consistent
// catalogue (the library guards it with a writer-preferring read-write lock).
//
// Events on added items are fed with Update: the State keeps the item's id and vector with the
// event, so removing the item later does not change the State.
type Catalog struct {
	mu      sync.RWMutex // read-held by every call (the C catalogue does its own locking), write-held by Close
	ptr     *C.lsrec_catalog
	m       *Model
	textDim int
}

// NewCatalog makes a catalogue holding exactly m's items.
func NewCatalog(m *Model) (*Catalog, error) {
	mp, err := m.use()
	if err != nil {
		return nil, err
	}
	defer m.mu.RUnlock()
	var ptr *C.lsrec_catalog
	if err := call("lsrec_catalog_new", func() C.lsrec_status { return C.lsrec_catalog_new(mp, &ptr) }); err != nil {
		return nil, err
	}
	c := &Catalog{ptr: ptr, m: m}
	if v, ok := m.Meta("lsrec.text_dim"); ok {
		for _, ch := range v {
			c.textDim = c.textDim*10 + int(ch-'0')
		}
	}
	runtime.SetFinalizer(c, (*Catalog).Close)
	return c, nil
}

// Close frees the catalogue; later calls return an error matching ErrClosed. Close waits for
// calls in progress; closing twice is fine.
func (c *Catalog) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr != nil {
		C.lsrec_catalog_free(c.ptr)
		c.ptr = nil
		runtime.SetFinalizer(c, nil)
	}
	return nil
}

// use read-locks the catalogue for one call; the caller must call c.mu.RUnlock.
func (c *Catalog) use() (*C.lsrec_catalog, error) {
	if c == nil {
		return nil, invalid("the catalog was not made by NewCatalog")
	}
	c.mu.RLock()
	if c.ptr == nil {
		c.mu.RUnlock()
		return nil, closedErr("catalog")
	}
	return c.ptr, nil
}

// lockState read-locks the catalogue and locks the state for one request; release with done().
func (c *Catalog) lockState(s *State) (*C.lsrec_catalog, *C.lsrec_state, func(), error) {
	cp, err := c.use()
	if err != nil {
		return nil, nil, nil, err
	}
	sp, err := s.lockOwn()
	if err != nil {
		c.mu.RUnlock()
		return nil, nil, nil, err
	}
	return cp, sp, func() { s.mu.Unlock(); c.mu.RUnlock() }, nil
}

// Model is the catalogue's model.
func (c *Catalog) Model() *Model { return c.m }

// TextDim is the length of the text embedding AddItem takes (0: the model cannot take items).
func (c *Catalog) TextDim() int { return c.textDim }

// Len is the number of items a recommendation can return now (-1 if the catalogue is closed).
func (c *Catalog) Len() int {
	cp, err := c.use()
	if err != nil {
		return -1
	}
	defer c.mu.RUnlock()
	return int(C.lsrec_catalog_n_items(cp))
}

// Contains reports whether item is in the catalogue now.
func (c *Catalog) Contains(item int64) bool {
	cp, err := c.use()
	if err != nil {
		return false
	}
	defer c.mu.RUnlock()
	return C.lsrec_catalog_contains(cp, C.int64_t(item)) == 1
}

// ItemIDs returns the catalogue's item ids in catalogue order: the model's items in the model's
// order, then added items in the order they were added.
func (c *Catalog) ItemIDs() ([]int64, error) {
	cp, err := c.use()
	if err != nil {
		return nil, err
	}
	defer c.mu.RUnlock()
	for {
		ids := make([]int64, int(C.lsrec_catalog_n_items(cp))+1) // +1: never a zero-length buffer
		var n C.size_t
		err := call("lsrec_catalog_item_ids", func() C.lsrec_status {
			return C.lsrec_catalog_item_ids(cp, int64Ptr(ids), C.size_t(len(ids)), &n)
		})
		if e, ok := err.(*Error); ok && e.Status == ErrBufferTooSmall {
			continue // another goroutine added items meanwhile
		}
		if err != nil {
			return nil, err
		}
		return ids[:int(n)], nil
	}
}

// AddItem adds an item from its text embedding (TextDim values). Errors: ErrInvalidArgument for
// an id already in the catalogue or belonging to the model (restore a removed model item with
// RestoreItem), -1, a wrong length or a model without text projection; ErrNonFinite for NaN/Inf
// or an embedding so large that scores could overflow.
func (c *Catalog) AddItem(item int64, text []float32) error {
	cp, err := c.use()
	if err != nil {
		return err
	}
	defer c.mu.RUnlock()
	return call("lsrec_catalog_add_item", func() C.lsrec_status {
		return C.lsrec_catalog_add_item(cp, C.int64_t(item), floatPtr(text), C.size_t(len(text)))
	})
}

// RemoveItem removes an item: a model item is hidden (RestoreItem brings it back), an added one
// is dropped. ErrUnknownItem if it is not in the catalogue.
func (c *Catalog) RemoveItem(item int64) error {
	cp, err := c.use()
	if err != nil {
		return err
	}
	defer c.mu.RUnlock()
	return call("lsrec_catalog_remove_item", func() C.lsrec_status { return C.lsrec_catalog_remove_item(cp, C.int64_t(item)) })
}

// RestoreItem makes a removed model item recommendable again.
func (c *Catalog) RestoreItem(item int64) error {
	cp, err := c.use()
	if err != nil {
		return err
	}
	defer c.mu.RUnlock()
	return call("lsrec_catalog_restore_item", func() C.lsrec_status { return C.lsrec_catalog_restore_item(cp, C.int64_t(item)) })
}

// ItemVector returns a catalogue item's vector e (Dim floats) and bias b: its score for user
// vector u (Model.UserVector) is u·e + b (+ the repeat term's β when the state holds the item and
// the model has the term, docs/MODEL.md).
func (c *Catalog) ItemVector(item int64) ([]float32, float32, error) {
	cp, err := c.use()
	if err != nil {
		return nil, 0, err
	}
	defer c.mu.RUnlock()
	out := make([]float32, c.m.dim)
	var b C.float
	err = call("lsrec_catalog_item_vector", func() C.lsrec_status {
		return C.lsrec_catalog_item_vector(cp, C.int64_t(item), floatPtr(out), C.size_t(len(out)), &b)
	})
	return out, float32(b), err
}

// ScoreItems returns the scores of catalogue items; an id not in the catalogue (removed ones
// included) gives ErrUnknownItem.
func (c *Catalog) ScoreItems(s *State, items []int64, opts ...Option) ([]float32, error) {
	o := collect(opts)
	cp, sp, done, err := c.lockState(s)
	if err != nil {
		return nil, err
	}
	defer done()
	out := make([]float32, len(items))
	err = call("lsrec_catalog_score_items", func() C.lsrec_status {
		return C.lsrec_catalog_score_items(cp, sp, C.int64_t(o.now), int64Ptr(items), C.size_t(len(items)), floatPtr(out))
	})
	return out, err
}

// TopK returns the k best catalogue items, best first; removed items never appear and ties rank
// in catalogue order. Options as Model.TopK (seen items are left out unless IncludeSeen).
func (c *Catalog) TopK(s *State, k int, opts ...Option) ([]Recommendation, error) {
	if k < 1 {
		return nil, invalid("k = %d, must be >= 1", k)
	}
	o := collect(opts)
	cp, sp, done, err := c.lockState(s)
	if err != nil {
		return nil, err
	}
	defer done()
	return topKCall("lsrec_catalog_topk", k, func(ids *C.int64_t, scores *C.float, n *C.size_t) C.lsrec_status {
		return C.lsrec_catalog_topk(cp, sp, C.int64_t(o.now), C.size_t(k), o.flags(), int64Ptr(o.exclude),
			C.size_t(len(o.exclude)), ids, scores, n)
	})
}

// Explain returns the history items that contributed most to a catalogue item's score (model
// or added item), largest first, at most k, at the time of the last event.
func (c *Catalog) Explain(s *State, item int64, k int) ([]Contribution, error) {
	if k < 1 {
		return nil, invalid("k = %d, must be >= 1", k)
	}
	cp, sp, done, err := c.lockState(s)
	if err != nil {
		return nil, err
	}
	defer done()
	return explainCall("lsrec_catalog_explain", k, func(ids *C.int64_t, weights *C.float, n *C.size_t) C.lsrec_status {
		return C.lsrec_catalog_explain(cp, sp, C.int64_t(item), C.size_t(k), ids, weights, n)
	})
}

// Update feeds one event to s: a model item (removed ones included) or an item added to the
// catalogue and still in it (s keeps its id and vector). Other ids give ErrUnknownItem. On error
// the state is unchanged.
func (c *Catalog) Update(s *State, item int64, ts time.Time) error {
	return c.UpdateUnix(s, item, int64(unix(ts)))
}

// UpdateUnix is Update with the time in unix seconds (TSUnknown for an unknown time).
func (c *Catalog) UpdateUnix(s *State, item int64, unixTS int64) error {
	cp, sp, done, err := c.lockState(s)
	if err != nil {
		return err
	}
	defer done()
	return call("lsrec_catalog_state_update", func() C.lsrec_status {
		return C.lsrec_catalog_state_update(cp, sp, C.int64_t(item), C.int64_t(unixTS))
	})
}
