package lsrec_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"lsrec"
)

// golden is Tests/Fixtures/golden.json (written by Tests/LSRecCoreTests/GoldenTests.swift).
type golden struct {
	Model       string  `json:"model"`
	Fingerprint string  `json:"fingerprint"`
	NItems      int     `json:"n_items"`
	Dim         int     `json:"dim"`
	Tolerance   float64 `json:"tolerance"`
	Events      struct {
		Items []int64 `json:"items"`
		Times []int64 `json:"times"`
	} `json:"events"`
	NEvents int64 `json:"n_events"`
	K       int   `json:"k"`
	TopK    []struct {
		Now         int64     `json:"now"`
		ExcludeSeen bool      `json:"exclude_seen"`
		IDs         []int64   `json:"ids"`
		Scores      []float64 `json:"scores"`
	} `json:"topk"`
	UserVector struct {
		Now    int64     `json:"now"`
		Values []float64 `json:"values"`
	} `json:"user_vector"`
	Explain struct {
		Item         int64     `json:"item"`
		K            int       `json:"k"`
		HistoryItems []int64   `json:"history_items"`
		Weights      []float64 `json:"weights"`
	} `json:"explain"`
}

var fixtures = filepath.Join("..", "..", "Tests", "Fixtures")

func loadGolden(t testing.TB) (*golden, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	return &g, filepath.Join(fixtures, g.Model)
}

func loadModel(t testing.TB) (*lsrec.Model, *golden) {
	t.Helper()
	g, path := loadGolden(t)
	m, err := lsrec.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, g
}

func goldenState(t testing.TB, m *lsrec.Model, g *golden) *lsrec.State {
	t.Helper()
	s, err := m.NewState()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateManyUnix(g.Events.Items, g.Events.Times); err != nil {
		t.Fatal(err)
	}
	return s
}

func close32(got []float32, want []float64, tol float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !(math.Abs(float64(got[i])-want[i]) <= tol) {
			return false
		}
	}
	return true
}

func recIDs(recs []lsrec.Recommendation) ([]int64, []float32) {
	ids := make([]int64, len(recs))
	scores := make([]float32, len(recs))
	for i, r := range recs {
		ids[i], scores[i] = r.Item, r.Score
	}
	return ids, scores
}

// checkGolden returns "" when the state gives the golden results, else what differs.
func checkGolden(m *lsrec.Model, s *lsrec.State, g *golden) string {
	if n := s.NEvents(); n != g.NEvents {
		return "n_events"
	}
	for _, c := range g.TopK {
		opts := []lsrec.Option{lsrec.AtUnix(c.Now)}
		if !c.ExcludeSeen {
			opts = append(opts, lsrec.IncludeSeen())
		}
		recs, err := m.TopK(s, g.K, opts...)
		if err != nil {
			return err.Error()
		}
		ids, scores := recIDs(recs)
		if !reflect.DeepEqual(ids, c.IDs) {
			return "topk ids"
		}
		if !close32(scores, c.Scores, g.Tolerance) {
			return "topk scores"
		}
		byID, err := m.ScoreItems(s, c.IDs, lsrec.AtUnix(c.Now))
		if err != nil || !close32(byID, c.Scores, g.Tolerance) {
			return "score_items"
		}
	}
	u, err := m.UserVector(s, lsrec.AtUnix(g.UserVector.Now))
	if err != nil || !close32(u, g.UserVector.Values, g.Tolerance) {
		return "user vector"
	}
	parts, err := m.Explain(s, g.Explain.Item, g.Explain.K)
	if err != nil {
		return err.Error()
	}
	items := make([]int64, len(parts))
	weights := make([]float32, len(parts))
	for i, p := range parts {
		items[i], weights[i] = p.Item, p.Weight
	}
	if !reflect.DeepEqual(items, g.Explain.HistoryItems) || !close32(weights, g.Explain.Weights, g.Tolerance) {
		return "explain"
	}
	return ""
}

func TestGoldenFileMatchesTheModel(t *testing.T) {
	m, g := loadModel(t)
	if m.Fingerprint() != g.Fingerprint || m.NItems() != g.NItems || m.Dim() != g.Dim {
		t.Fatalf("golden.json was written for another model: %s %d %d", m.Fingerprint(), m.NItems(), m.Dim())
	}
	if g.Tolerance != 1e-5 || len(g.TopK) < 2 || g.TopK[0].Now != lsrec.NowLastEvent {
		t.Fatalf("unexpected golden file: tolerance %g, %d cases", g.Tolerance, len(g.TopK))
	}
	unknown := false
	for _, ts := range g.Events.Times {
		unknown = unknown || ts == lsrec.TSUnknown
	}
	if !unknown {
		t.Fatal("the golden events should include an unknown time")
	}
}

func TestGoldenOneEventAtATime(t *testing.T) {
	m, g := loadModel(t)
	s, err := m.NewState()
	if err != nil {
		t.Fatal(err)
	}
	for i, item := range g.Events.Items {
		ts := time.Time{} // unknown
		if g.Events.Times[i] != lsrec.TSUnknown {
			ts = time.Unix(g.Events.Times[i], 0)
		}
		if err := s.Update(item, ts); err != nil {
			t.Fatal(err)
		}
	}
	if diff := checkGolden(m, s, g); diff != "" {
		t.Fatal(diff)
	}
}

func TestGoldenUpdateManyAndTimes(t *testing.T) {
	m, g := loadModel(t)
	s, err := m.NewState()
	if err != nil {
		t.Fatal(err)
	}
	times := make([]time.Time, len(g.Events.Times))
	for i, ts := range g.Events.Times {
		if ts != lsrec.TSUnknown {
			times[i] = time.Unix(ts, 0)
		}
	}
	if err := s.UpdateMany(g.Events.Items, times); err != nil {
		t.Fatal(err)
	}
	if diff := checkGolden(m, s, g); diff != "" {
		t.Fatal(diff)
	}
	// At(time.Time) is AtUnix.
	recs, err := m.TopK(s, g.K, lsrec.At(time.Unix(g.TopK[1].Now, 0)))
	if ids, _ := recIDs(recs); err != nil || !reflect.DeepEqual(ids, g.TopK[1].IDs) {
		t.Fatalf("At: %v %v", ids, err)
	}
}

func TestGoldenRestoredClonedAndFromBytes(t *testing.T) {
	m, g := loadModel(t)
	s := goldenState(t, m, g)
	blob, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	restored, err := m.LoadState(blob)
	if err != nil {
		t.Fatal(err)
	}
	if diff := checkGolden(m, restored, g); diff != "" {
		t.Fatal("restored:", diff)
	}
	clone, err := s.Clone()
	if err != nil {
		t.Fatal(err)
	}
	if diff := checkGolden(m, clone, g); diff != "" {
		t.Fatal("clone:", diff)
	}
	// UnmarshalBinary into an existing state of the model.
	other, _ := m.NewState()
	if err := other.UnmarshalBinary(blob); err != nil {
		t.Fatal(err)
	}
	if diff := checkGolden(m, other, g); diff != "" {
		t.Fatal("unmarshalled:", diff)
	}
	data, err := os.ReadFile(filepath.Join(fixtures, g.Model))
	if err != nil {
		t.Fatal(err)
	}
	m2, err := lsrec.LoadBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if diff := checkGolden(m2, goldenState(t, m2, g), g); diff != "" {
		t.Fatal("LoadBytes:", diff)
	}
}

func TestGoldenTopKBatch(t *testing.T) {
	m, g := loadModel(t)
	s := goldenState(t, m, g)
	empty, _ := m.NewState()
	for _, c := range g.TopK {
		lists, err := m.TopKBatch([]*lsrec.State{s, empty, s}, g.K, lsrec.AtUnix(c.Now))
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range []int{0, 2} {
			ids, scores := recIDs(lists[b])
			if !reflect.DeepEqual(ids, c.IDs) || !close32(scores, c.Scores, g.Tolerance) {
				t.Fatalf("batch row %d at now=%d: %v", b, c.Now, ids)
			}
		}
		if len(lists[1]) != g.K {
			t.Fatalf("empty state: %d results", len(lists[1]))
		}
	}
}
