package lsrec_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"lsrec"
)

// loadEncoder opens the MiniLM encoder file that `make test` converts and names in
// LSREC_ENCODER (build/encoder/minilm.lsrec); the tests skip when run without it.
func loadEncoder(t *testing.T) *lsrec.Encoder {
	t.Helper()
	path := os.Getenv("LSREC_ENCODER")
	if path == "" {
		t.Skip("LSREC_ENCODER is not set (make test sets it; run `make encoder`)")
	}
	e, err := lsrec.LoadEncoder(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func dot(a, b []float32) float64 {
	s := 0.0
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func TestEncoderSemantics(t *testing.T) {
	e := loadEncoder(t)
	if e.Dim() != 384 || e.MaxTokens() != 128 {
		t.Fatal(e.Dim(), e.MaxTokens())
	}
	toy, err := e.Encode("Toy Story (1995) Animation|Children's")
	if err != nil {
		t.Fatal(err)
	}
	toy2, _ := e.Encode("Toy Story 2 (1999)")
	schindler, _ := e.Encode("Schindler's List (1993)")
	for _, v := range [][]float32{toy, toy2, schindler} {
		if len(v) != 384 || math.Abs(dot(v, v)-1) > 1e-5 {
			t.Fatalf("not a unit vector of 384: len %d, norm² %v", len(v), dot(v, v))
		}
	}
	near, far := dot(toy, toy2), dot(toy, schindler)
	if !(near > far+0.1) {
		t.Fatalf("cos(Toy Story, Toy Story 2) = %.4f is not clearly above cos(Toy Story, Schindler's List) = %.4f", near, far)
	}
}

func TestEncoderBatchEqualsSingle(t *testing.T) {
	e := loadEncoder(t)
	texts := []string{"Heat (1995) Action|Crime|Thriller", "", "naïve café", "東京タワー",
		strings.Repeat("a long title ", 80)}
	rows, err := e.EncodeBatch(texts)
	if err != nil || len(rows) != len(texts) {
		t.Fatal(len(rows), err)
	}
	for i, text := range texts {
		one, err := e.Encode(text)
		if err != nil {
			t.Fatal(err)
		}
		for j := range one {
			if math.Abs(float64(one[j]-rows[i][j])) > 1e-5 {
				t.Fatalf("text %d, dim %d: batch %v, single %v", i, j, rows[i][j], one[j])
			}
		}
	}
	if empty, err := e.EncodeBatch(nil); err != nil || len(empty) != 0 {
		t.Fatal(empty, err)
	}
}

func TestEncoderTokenize(t *testing.T) {
	e := loadEncoder(t)
	ids, err := e.Tokenize("")
	if err != nil || len(ids) != 2 {
		t.Fatal(ids, err)
	}
	cls, sep := ids[0], ids[1]
	ids, _ = e.Tokenize("Hello, WORLD!")
	if len(ids) != 6 || ids[0] != cls || ids[5] != sep {
		t.Fatal(ids)
	}
	// Case and accents are folded.
	ids2, _ := e.Tokenize("héllo, world!")
	if len(ids2) != len(ids) || ids2[1] != ids[1] || ids2[3] != ids[3] {
		t.Fatal(ids, ids2)
	}
	long, _ := e.Tokenize(strings.Repeat("cat ", 500))
	if len(long) != e.MaxTokens() || long[len(long)-1] != sep {
		t.Fatal(len(long))
	}
}

func TestEncoderErrors(t *testing.T) {
	if _, err := lsrec.LoadEncoder("/nonexistent/encoder.lsrec"); !errors.Is(err, lsrec.ErrIO) {
		t.Fatal(err)
	}
	// A recommender model is not an encoder.
	_, err := lsrec.LoadEncoder(filepath.Join(fixtures, "tiny-random.lsrec"))
	if !errors.Is(err, lsrec.ErrFormat) || !strings.Contains(err.Error(), "recommender model") {
		t.Fatal(err)
	}
	e := loadEncoder(t)
	for _, bad := range []string{"ab\xff", "\xc0\xaf", "a\x00b"} {
		if _, err := e.Encode(bad); !errors.Is(err, lsrec.ErrInvalidArgument) {
			t.Fatalf("%q: %v", bad, err)
		}
		if _, err := e.Tokenize(bad); !errors.Is(err, lsrec.ErrInvalidArgument) {
			t.Fatalf("%q: %v", bad, err)
		}
		if _, err := e.EncodeBatch([]string{"fine", bad}); !errors.Is(err, lsrec.ErrInvalidArgument) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
	e.Close()
	e.Close()
	if _, err := e.Encode("x"); !errors.Is(err, lsrec.ErrClosed) {
		t.Fatal(err)
	}
	if _, err := e.EncodeBatch([]string{"x"}); !errors.Is(err, lsrec.ErrClosed) {
		t.Fatal(err)
	}
}

func TestEncoderConcurrent(t *testing.T) {
	e := loadEncoder(t)
	texts := []string{"Babe (1995)", "GoldenEye (1995)", "Casino (1995)", "Sabrina (1995)"}
	want, err := e.EncodeBatch(texts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for r := 0; r < 3; r++ {
				i := (g + r) % len(texts)
				v, err := e.Encode(texts[i])
				if err != nil || math.Abs(dot(v, want[i])-1) > 1e-5 {
					errs <- texts[i]
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Errorf("concurrent Encode(%q) differs", s)
	}
}
