package lsrec_test

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"lsrec"
)

var (
	_ encoding.BinaryMarshaler   = (*lsrec.State)(nil)
	_ encoding.BinaryUnmarshaler = (*lsrec.State)(nil)
)

// The kernel report: the process's OPENBLAS_CORETYPE, when set, is what OpenBLAS runs and is
// not questioned; a suggestion is only ever one of the two kernel sets lsrec.h names.
func TestBLASKernels(t *testing.T) {
	core, better := lsrec.BLASCore(), lsrec.BLASSuggestedCoreType()
	if core == "" {
		t.Fatal("empty BLAS core name")
	}
	if better != "" && better != "SkylakeX" && better != "Haswell" {
		t.Fatalf("suggested core type %q", better)
	}
	if set := os.Getenv("OPENBLAS_CORETYPE"); (set == "SkylakeX" || set == "Haswell") && (core != set || better != "") {
		t.Fatalf("OPENBLAS_CORETYPE=%s, but core %q, suggestion %q", set, core, better)
	}
}

func TestVersionAndModelQueries(t *testing.T) {
	m, _ := loadModel(t)
	if lsrec.Version() != "0.5.0" || lsrec.LibraryABIVersion() != lsrec.ABIVersion {
		t.Fatalf("version %q, ABI %d", lsrec.Version(), lsrec.LibraryABIVersion())
	}
	if m.NItems() != 300 || m.Dim() != 16 {
		t.Fatal(m.NItems(), m.Dim())
	}
	ids, err := m.ItemIDs()
	if err != nil || len(ids) != 300 || ids[0] != 1000 || ids[1] != 1007 {
		t.Fatal(ids[:2], err)
	}
	if v, ok := m.Meta("general.architecture"); !ok || v != "lsrec-v1" {
		t.Fatal(v, ok)
	}
	if _, ok := m.Meta("no.such.key"); ok {
		t.Fatal("absent key found")
	}
	if len(m.Fingerprint()) != 16 {
		t.Fatal(m.Fingerprint())
	}
}

func TestOptionsAndResults(t *testing.T) {
	m, g := loadModel(t)
	s := goldenState(t, m, g)
	all, err := m.Score(s)
	if err != nil || len(all) != 300 {
		t.Fatal(err)
	}
	best := float32(math.Inf(-1))
	for _, x := range all {
		if x > best {
			best = x
		}
	}
	withSeen, err := m.TopK(s, 10, lsrec.IncludeSeen())
	if err != nil || withSeen[0].Score != best {
		t.Fatalf("IncludeSeen: %v %v (best %v)", withSeen, err, best)
	}
	excluded, err := m.TopK(s, 10, lsrec.IncludeSeen(), lsrec.Exclude(withSeen[0].Item, 123456789))
	if err != nil || excluded[0] != withSeen[1] {
		t.Fatalf("Exclude: %v %v", excluded, err)
	}
	// More than the catalogue: fewer results.
	everything, err := m.TopK(s, 1000, lsrec.IncludeSeen())
	if err != nil || len(everything) != 300 {
		t.Fatal(len(everything), err)
	}
	unseen, _ := m.TopK(s, 1000)
	if held := 300 - len(unseen); held < 1 || held > 20 {
		t.Fatalf("%d held items left out", held)
	}
	u, err := m.UserVector(s)
	if err != nil || len(u) != m.Dim() {
		t.Fatal(err)
	}
	parts, err := m.Explain(s, withSeen[0].Item, 50)
	if err != nil || len(parts) == 0 || len(parts) > 20 {
		t.Fatal(parts, err)
	}
	for i := 1; i < len(parts); i++ {
		if parts[i].Weight > parts[i-1].Weight {
			t.Fatal("explanations not sorted")
		}
	}
	lists, err := m.TopKBatch(nil, 5)
	if err != nil || len(lists) != 0 {
		t.Fatal(lists, err)
	}
}

func TestErrorsAreTypedStatuses(t *testing.T) {
	m, _ := loadModel(t)
	s, _ := m.NewState()
	err := s.UpdateUnix(123456789, 1)
	if !errors.Is(err, lsrec.ErrUnknownItem) || errors.Is(err, lsrec.ErrInvalidArgument) {
		t.Fatalf("unknown item: %v", err)
	}
	var e *lsrec.Error
	if !errors.As(err, &e) || e.Status != lsrec.ErrUnknownItem || e.Op != "lsrec_state_update" ||
		e.Message != "lsrec_state_update: item id 123456789 is not in the model" {
		t.Fatalf("%#v", e)
	}
	if lsrec.ErrUnknownItem.String() == "" || !strings.Contains(lsrec.ErrChecksum.Error(), "checksum") {
		t.Fatal(lsrec.ErrUnknownItem.String(), lsrec.ErrChecksum.Error())
	}
	if err := s.UpdateUnix(1000, 2000); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateUnix(1007, 1999); !errors.Is(err, lsrec.ErrOutOfOrder) {
		t.Fatalf("out of order: %v", err)
	}
	if err := s.UpdateUnix(1007, -5); !errors.Is(err, lsrec.ErrInvalidArgument) {
		t.Fatalf("negative time: %v", err)
	}
	if err := s.UpdateManyUnix([]int64{1007, 5}, []int64{3000, 3001}); !errors.Is(err, lsrec.ErrUnknownItem) ||
		!strings.Contains(err.Error(), "items[1]") {
		t.Fatalf("update many: %v", err)
	}
	if err := s.UpdateManyUnix([]int64{1007}, nil); !errors.Is(err, lsrec.ErrInvalidArgument) {
		t.Fatalf("lengths: %v", err)
	}
	if n := s.NEvents(); n != 1 {
		t.Fatalf("failed updates changed the state: %d events", n)
	}
	if _, err := m.TopK(s, 0); !errors.Is(err, lsrec.ErrInvalidArgument) {
		t.Fatal(err)
	}
	if _, err := m.Score(s, lsrec.AtUnix(-7)); !errors.Is(err, lsrec.ErrInvalidArgument) {
		t.Fatal(err)
	}
	if _, err := m.ScoreItems(s, []int64{1000, 5}); !errors.Is(err, lsrec.ErrUnknownItem) {
		t.Fatal(err)
	}
	if _, err := m.Explain(s, 5, 3); !errors.Is(err, lsrec.ErrUnknownItem) {
		t.Fatal(err)
	}
	if _, err := lsrec.Load(filepath.Join(t.TempDir(), "nope.lsrec")); !errors.Is(err, lsrec.ErrIO) {
		t.Fatal(err)
	}
}

func TestDamagedFilesAndBlobs(t *testing.T) {
	m, g := loadModel(t)
	data, err := os.ReadFile(filepath.Join(fixtures, g.Model))
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte("NOPE"), data[4:]...)
	if _, err := lsrec.LoadBytes(bad); !errors.Is(err, lsrec.ErrBadMagic) {
		t.Fatal(err)
	}
	if _, err := lsrec.LoadBytes(data[:len(data)/2]); !errors.Is(err, lsrec.ErrTruncated) {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), data...)
	flipped[len(flipped)/2] ^= 0x10
	if _, err := lsrec.LoadBytes(flipped); !errors.Is(err, lsrec.ErrChecksum) {
		t.Fatal(err)
	}
	if _, err := lsrec.LoadBytes(nil); err == nil {
		t.Fatal("empty model accepted")
	}

	s := goldenState(t, m, g)
	blob, _ := s.MarshalBinary()
	if _, err := m.LoadState(blob[:len(blob)-9]); !errors.Is(err, lsrec.ErrTruncated) {
		t.Fatal(err)
	}
	damaged := append([]byte(nil), blob...)
	damaged[len(damaged)-8] ^= 1
	if _, err := m.LoadState(damaged); !errors.Is(err, lsrec.ErrChecksum) {
		t.Fatal(err)
	}
	// Another model's blob: a different fingerprint (bytes 12..20) with a valid CRC32C.
	other := append([]byte(nil), blob...)
	binary.LittleEndian.PutUint64(other[12:], binary.LittleEndian.Uint64(other[12:])^1)
	binary.LittleEndian.PutUint32(other[len(other)-4:], crc32.Checksum(other[:len(other)-4], crc32.MakeTable(crc32.Castagnoli)))
	if _, err := m.LoadState(other); !errors.Is(err, lsrec.ErrModelMismatch) {
		t.Fatal(err)
	}
	if err := s.UnmarshalBinary(other); !errors.Is(err, lsrec.ErrModelMismatch) {
		t.Fatal(err)
	}
	if s.NEvents() != g.NEvents {
		t.Fatal("a failed UnmarshalBinary changed the state")
	}
	var zero lsrec.State
	if err := zero.UnmarshalBinary(blob); !errors.Is(err, lsrec.ErrInvalidArgument) {
		t.Fatal(err)
	}
}

func TestClose(t *testing.T) {
	_, path := loadGolden(t)
	m, err := lsrec.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := m.NewState()
	s2, _ := m.NewState()
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.TopK(s2, 3); !errors.Is(err, lsrec.ErrClosed) {
		t.Fatal(err)
	}
	m.Close()
	m.Close()
	if _, err := m.NewState(); !errors.Is(err, lsrec.ErrClosed) || !errors.Is(err, lsrec.ErrInvalidArgument) {
		t.Fatal(err)
	}
	if err := s.Update(1000, time.Now()); !errors.Is(err, lsrec.ErrClosed) {
		t.Fatal(err)
	}
	if _, err := m.ItemIDs(); !errors.Is(err, lsrec.ErrClosed) {
		t.Fatal(err)
	}
	s.Close()
}

func TestRebaseAfterTheOldModelIsClosed(t *testing.T) {
	g, path := loadGolden(t)
	old, err := lsrec.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s := goldenState(t, old, g)
	old.Close()
	if _, err := s.MarshalBinary(); err != nil {
		t.Fatal("marshal after the model is closed:", err)
	}
	if c, err := s.Clone(); err != nil || c.NEvents() != g.NEvents {
		t.Fatal("clone after the model is closed:", err)
	}
	if err := s.UpdateUnix(1000, lsrec.TSUnknown); !errors.Is(err, lsrec.ErrClosed) {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	fresh, err := lsrec.LoadBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	moved, skipped, err := fresh.Rebase(s)
	if err != nil || skipped != 0 || moved.Model() != fresh || moved.NEvents() != 20 {
		t.Fatalf("rebase: %v skipped %d", err, skipped)
	}
	if recs, err := fresh.TopK(moved, 10); err != nil || len(recs) != 10 {
		t.Fatal(recs, err)
	}
}

func TestScreenedModelGivesIdenticalTopK(t *testing.T) {
	m, g := loadModel(t)
	_, path := loadGolden(t)
	sm, err := lsrec.LoadWith(path, lsrec.LoadOptions{ScreenItems: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sm.Close()
	if m.ScreensItems() {
		t.Fatal("a default load must not screen")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bm, err := lsrec.LoadBytesWith(data, lsrec.LoadOptions{ScreenItems: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bm.Close()
	if bm.ScreensItems() != sm.ScreensItems() {
		t.Fatal("LoadBytesWith and LoadWith disagree on screening")
	}
	s := goldenState(t, m, g)
	for _, k := range []int{1, 10, 300} {
		for _, opts := range [][]lsrec.Option{nil, {lsrec.IncludeSeen()}} {
			a, err := m.TopK(s, k, opts...)
			if err != nil {
				t.Fatal(err)
			}
			for _, other := range []*lsrec.Model{sm, bm} {
				b, err := other.TopK(s, k, opts...)
				if err != nil {
					t.Fatal(err)
				}
				if len(a) != len(b) {
					t.Fatalf("k=%d: %d vs %d results", k, len(a), len(b))
				}
				for i := range a {
					if a[i].Item != b[i].Item || math.Float32bits(a[i].Score) != math.Float32bits(b[i].Score) {
						t.Fatalf("k=%d rank %d: %+v vs %+v", k, i, a[i], b[i])
					}
				}
			}
		}
	}
}

func TestUpdateTopKIsUpdateThenTopK(t *testing.T) {
	m, g := loadModel(t)
	s := goldenState(t, m, g)
	defer s.Close()
	at := time.Unix(1_900_000_000, 0)
	cases := []struct {
		k    int
		opts []lsrec.Option
	}{
		{10, nil},
		{5, []lsrec.Option{lsrec.IncludeSeen(), lsrec.Exclude(1021, 99)}},
		{400, []lsrec.Option{lsrec.AtUnix(at.Unix() + 9000)}},
	}
	for e, c := range cases {
		ref, err := s.Clone()
		if err != nil {
			t.Fatal(err)
		}
		item := int64(1000 + 7*(11*e+3))
		when := at.Add(time.Duration(e) * time.Minute)
		if err := ref.Update(item, when); err != nil {
			t.Fatal(err)
		}
		want, err := m.TopK(ref, c.k, c.opts...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.UpdateTopK(s, item, when, c.k, c.opts...)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: %v %v, want %v", e, got, err, want)
		}
		a, _ := ref.MarshalBinary()
		b, _ := s.MarshalBinary()
		if !bytes.Equal(a, b) {
			t.Fatalf("case %d: the states differ after the update", e)
		}
		ref.Close()
	}
	// Refused calls change nothing.
	before, _ := s.MarshalBinary()
	if _, err := m.UpdateTopK(s, 1000, at.Add(time.Hour), 0); !errors.Is(err, lsrec.ErrInvalidArgument) {
		t.Fatal(err)
	}
	if _, err := m.UpdateTopKUnix(s, 5, at.Unix()+3600, 3); !errors.Is(err, lsrec.ErrUnknownItem) {
		t.Fatal(err)
	}
	if _, err := m.UpdateTopKUnix(s, 1000, 1, 3); !errors.Is(err, lsrec.ErrOutOfOrder) {
		t.Fatal(err)
	}
	if _, err := m.UpdateTopKUnix(s, 1000, at.Unix()+3600, 3, lsrec.AtUnix(-5)); !errors.Is(err, lsrec.ErrInvalidArgument) {
		t.Fatal(err)
	}
	after, _ := s.MarshalBinary()
	if !bytes.Equal(before, after) {
		t.Fatal("a refused UpdateTopK changed the state")
	}
}
