package lsrec_test

import (
	"errors"
	"math"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"

	"lsrec"
)

const textDim = 8 // lsrec.text_dim of Tests/Fixtures/tiny-random.lsrec

func text(seed int) []float32 {
	v := make([]float32, textDim)
	for j := range v {
		v[j] = float32(math.Sin(float64(seed*31+j)*1.37 + 0.2))
	}
	return v
}

// tinyModel is the fixture with text embeddings (the golden model has none).
func tinyModel(t testing.TB) *lsrec.Model {
	t.Helper()
	m, err := lsrec.Load(filepath.Join(fixtures, "tiny-random.lsrec"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func tinyUser(t testing.TB, m *lsrec.Model) *lsrec.State {
	t.Helper()
	s, err := m.NewState()
	if err != nil {
		t.Fatal(err)
	}
	for e, i := range []int64{3, 50, 77, 120, 3, 250} {
		if err := s.UpdateUnix(1000+7*i, 1_700_000_000+60*int64(e)); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestCatalogTopKMatchesBruteForce(t *testing.T) {
	m := tinyModel(t)
	s := tinyUser(t, m)
	c, err := lsrec.NewCatalog(m)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Len() != 300 || c.TextDim() != textDim {
		t.Fatal(c.Len(), c.TextDim())
	}
	for a := 0; a < 15; a++ {
		if err := c.AddItem(int64(900+a), text(a)); err != nil {
			t.Fatal(err)
		}
	}
	removed := []int64{1000, 1070, 1140, 905}
	for _, id := range removed {
		if err := c.RemoveItem(id); err != nil {
			t.Fatal(err)
		}
	}
	// float64 brute force: u·e + b from the user vector and the catalogue's item vectors
	u, err := m.UserVector(s)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := c.ItemIDs()
	if err != nil || len(ids) != 300+15-4 {
		t.Fatal(len(ids), err)
	}
	ref := map[int64]float64{}
	for _, id := range ids {
		e, b, err := c.ItemVector(id)
		if err != nil {
			t.Fatal(err)
		}
		x := float64(b)
		for j := range e {
			x += float64(u[j]) * float64(e[j])
		}
		ref[id] = x
	}
	want := append([]int64(nil), ids...)
	sort.SliceStable(want, func(i, j int) bool { return ref[want[i]] > ref[want[j]] })
	got, err := c.TopK(s, len(ids)+3, lsrec.IncludeSeen())
	if err != nil || len(got) != len(ids) {
		t.Fatal(len(got), err)
	}
	for i, r := range got {
		if math.Abs(float64(r.Score)-ref[r.Item]) > 1e-4 || math.Abs(ref[want[i]]-ref[r.Item]) > 1e-4 {
			t.Fatalf("rank %d: %d scored %v, reference %v (reference rank holds %d)", i, r.Item, r.Score, ref[r.Item], want[i])
		}
		for _, x := range removed {
			if r.Item == x {
				t.Fatalf("removed item %d returned", x)
			}
		}
	}
	sc, err := c.ScoreItems(s, []int64{903, 1035})
	if err != nil || math.Abs(float64(sc[0])-ref[903]) > 1e-4 || math.Abs(float64(sc[1])-ref[1035]) > 1e-4 {
		t.Fatal(sc, err)
	}
	parts, err := c.Explain(s, 903, 10)
	if err != nil || len(parts) == 0 || len(parts) > 5 {
		t.Fatal(parts, err)
	}
	viaCat, err1 := c.Explain(s, 1035, 4)
	direct, err2 := m.Explain(s, 1035, 4)
	if err1 != nil || err2 != nil || len(viaCat) != len(direct) {
		t.Fatal(err1, err2)
	}
	for i := range direct {
		if viaCat[i] != direct[i] {
			t.Fatal(viaCat, direct)
		}
	}
}

func TestCatalogErrors(t *testing.T) {
	m := tinyModel(t)
	s := tinyUser(t, m)
	c, err := lsrec.NewCatalog(m)
	if err != nil {
		t.Fatal(err)
	}
	expect := func(err error, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("got %v, want %v", err, want)
		}
	}
	expect(c.AddItem(1, text(0)[:textDim-1]), lsrec.ErrInvalidArgument)
	expect(c.AddItem(1, nil), lsrec.ErrInvalidArgument)
	expect(c.AddItem(1000, text(0)), lsrec.ErrInvalidArgument) // a model id
	nan := text(0)
	nan[1] = float32(math.NaN())
	expect(c.AddItem(1, nan), lsrec.ErrNonFinite)
	if err := c.AddItem(1, text(0)); err != nil {
		t.Fatal(err)
	}
	expect(c.AddItem(1, text(1)), lsrec.ErrInvalidArgument) // no silent replacement
	expect(c.RemoveItem(2), lsrec.ErrUnknownItem)
	if err := c.RemoveItem(1007); err != nil {
		t.Fatal(err)
	}
	if c.Contains(1007) || !c.Contains(1) {
		t.Fatal("contains")
	}
	expect(c.RemoveItem(1007), lsrec.ErrUnknownItem)
	_, err = c.ScoreItems(s, []int64{1007})
	expect(err, lsrec.ErrUnknownItem)
	if err := c.RestoreItem(1007); err != nil {
		t.Fatal(err)
	}
	expect(c.RestoreItem(1007), lsrec.ErrInvalidArgument)
	// events: model items go in; unknown ids are refused, state unchanged (added items:
	// TestCatalogEventsOnAddedItems)
	n := s.NEvents()
	expect(c.UpdateUnix(s, 424242, 1_800_000_000), lsrec.ErrUnknownItem)
	if s.NEvents() != n {
		t.Fatal("state changed")
	}
	if err := c.UpdateUnix(s, 1007, 1_800_000_000); err != nil || s.NEvents() != n+1 {
		t.Fatal(err)
	}
	// a model without text projection; a state of another model
	golden, _ := loadModel(t)
	plain, err := lsrec.NewCatalog(golden)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	expect(plain.AddItem(1, text(0)), lsrec.ErrInvalidArgument)
	_, err = plain.TopK(s, 3)
	expect(err, lsrec.ErrModelMismatch)
	c.Close()
	expect(c.AddItem(2, text(0)), lsrec.ErrClosed)
	if c.Len() != -1 {
		t.Fatal("closed Len")
	}
}

func has(items []int64, id int64) bool {
	for _, x := range items {
		if x == id {
			return true
		}
	}
	return false
}

// An event on an added item goes into the state with the item's vector (state blob version 2).
func TestCatalogEventsOnAddedItems(t *testing.T) {
	m := tinyModel(t)
	s := tinyUser(t, m)
	c, err := lsrec.NewCatalog(m)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const added, other = 5_000_000, 5_000_001
	if err := c.AddItem(added, text(3)); err != nil {
		t.Fatal(err)
	}
	if err := c.AddItem(other, text(4)); err != nil {
		t.Fatal(err)
	}
	before, _ := s.MarshalBinary()
	if before[4] != 1 {
		t.Fatalf("a state of model items is blob version %d", before[4])
	}
	n := s.NEvents()
	if err := c.UpdateUnix(s, added, 1_800_000_000); err != nil || s.NEvents() != n+1 {
		t.Fatal(err, s.NEvents())
	}
	blob, err := s.MarshalBinary()
	if err != nil || blob[4] != 2 || len(blob) < len(before)+4+8+4*m.Dim() {
		t.Fatal(err, len(blob), len(before))
	}
	ids := func(r []lsrec.Recommendation) (out []int64) {
		for _, x := range r {
			out = append(out, x.Item)
		}
		return
	}
	// seen items are excluded, the held added item included; the other added item stays
	all, err := c.TopK(s, c.Len(), lsrec.IncludeSeen())
	if err != nil || !has(ids(all), added) {
		t.Fatal(err)
	}
	unseen, err := c.TopK(s, c.Len())
	if err != nil || has(ids(unseen), added) || !has(ids(unseen), other) {
		t.Fatal(err)
	}
	// explanations name the added item, through the catalogue and the bare model
	for _, explain := range []func(*lsrec.State, int64, int) ([]lsrec.Contribution, error){c.Explain, m.Explain} {
		parts, err := explain(s, 1000+7*17, 10)
		var hist []int64
		for _, p := range parts {
			hist = append(hist, p.Item)
		}
		if err != nil || !has(hist, added) {
			t.Fatal(err, hist)
		}
	}
	// the bare model refuses the id but works on the state
	if err := s.UpdateUnix(added, 1_800_000_100); !errors.Is(err, lsrec.ErrUnknownItem) {
		t.Fatal(err)
	}
	if top, err := m.TopK(s, 10); err != nil || len(top) != 10 || has(ids(top), added) {
		t.Fatal(err, top)
	}
	// blob round trip: same bytes, same scores
	back, err := m.LoadState(blob)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	again, _ := back.MarshalBinary()
	s1, err1 := c.ScoreItems(s, []int64{added, other})
	s2, err2 := c.ScoreItems(back, []int64{added, other})
	if string(again) != string(blob) || err1 != nil || err2 != nil || s1[0] != s2[0] || s1[1] != s2[1] {
		t.Fatal("round trip", err1, err2, s1, s2)
	}
	// removing the item later: the state keeps its copy; new events on it are refused
	if err := c.RemoveItem(added); err != nil {
		t.Fatal(err)
	}
	if now, _ := s.MarshalBinary(); string(now) != string(blob) {
		t.Fatal("removal changed the state")
	}
	if err := c.UpdateUnix(s, added, 1_800_000_200); !errors.Is(err, lsrec.ErrUnknownItem) || s.NEvents() != n+1 {
		t.Fatal(err)
	}
	moved, skipped, err := m.Rebase(s)
	if err != nil || skipped != 1 {
		t.Fatal(err, skipped)
	}
	moved.Close()
}

func TestCatalogReadersAndWriters(t *testing.T) {
	m := tinyModel(t)
	c, err := lsrec.NewCatalog(m)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var upto [2]atomic.Int64 // per writer: ids below base+upto may have been added
	base := func(w int) int64 { return int64(10_000_000 * (w + 1)) }
	plausible := func(id int64) bool {
		if id >= 1000 && id < 1000+7*300 && (id-1000)%7 == 0 {
			return true
		}
		for w := range upto {
			if id >= base(w) && id < base(w)+upto[w].Load() {
				return true
			}
		}
		return false
	}
	var wg sync.WaitGroup
	var writersDone atomic.Int32
	var bad atomic.Int64
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			defer writersDone.Add(1)
			for r := 0; r < 200; r++ {
				upto[w].Store(int64(r + 1))
				if err := c.AddItem(base(w)+int64(r), text(w*1000+r)); err != nil {
					bad.Add(1)
				}
				if r%3 == 0 && c.RemoveItem(base(w)+int64(r)) != nil {
					bad.Add(1)
				}
			}
		}(w)
	}
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			s := tinyUser(t, m)
			for writersDone.Load() < 2 {
				recs, err := c.TopK(s, 400)
				if err != nil {
					bad.Add(1)
					continue
				}
				for i, r := range recs {
					if !plausible(r.Item) || (i > 0 && recs[i-1].Score < r.Score) {
						bad.Add(1)
					}
				}
			}
		}(g)
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d bad results or errors", bad.Load())
	}
	if c.Len() != 300+2*(200-67) {
		t.Fatal(c.Len())
	}
}
