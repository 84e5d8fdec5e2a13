package lsrec_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"lsrec"
)

// Many goroutines share one Model, each with its own states; every result is the golden one.
func TestGoroutinesShareOneModel(t *testing.T) {
	m, g := loadModel(t)
	const workers, rounds = 8, 20
	var wg sync.WaitGroup
	failures := make(chan string, workers*rounds)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				s, err := m.NewState()
				if err != nil {
					failures <- err.Error()
					return
				}
				if (w+r)%2 == 0 {
					err = s.UpdateManyUnix(g.Events.Items, g.Events.Times)
				} else {
					for i := range g.Events.Items {
						if err = s.UpdateUnix(g.Events.Items[i], g.Events.Times[i]); err != nil {
							break
						}
					}
				}
				if err != nil {
					failures <- err.Error()
					continue
				}
				if diff := checkGolden(m, s, g); diff != "" {
					failures <- fmt.Sprintf("worker %d round %d: %s", w, r, diff)
				}
				s.Close()
			}
		}(w)
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
}

// Each goroutine's error carries its own message (lsrec_last_error is per OS thread; the
// binding reads it on the thread that made the call).
func TestGoroutineErrorsCarryTheirOwnMessage(t *testing.T) {
	m, _ := loadModel(t)
	const workers, rounds = 8, 200
	var wg sync.WaitGroup
	bad := make(chan string, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s, _ := m.NewState()
			defer s.Close()
			id := int64(770000000 + w)
			for r := 0; r < rounds; r++ {
				err := s.UpdateUnix(id, 1)
				var e *lsrec.Error
				if !errors.As(err, &e) || !strings.Contains(e.Message, fmt.Sprint(id)) {
					bad <- fmt.Sprintf("worker %d: %v", w, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(bad)
	for b := range bad {
		t.Error(b)
	}
}

// One State used by several goroutines: the binding serialises the calls, nothing is lost.
func TestOneStateFromManyGoroutines(t *testing.T) {
	m, _ := loadModel(t)
	ids, _ := m.ItemIDs()
	s, _ := m.NewState()
	const workers, n = 4, 100
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < n; i++ {
				if err := s.UpdateUnix(ids[(w*n+i)%len(ids)], lsrec.TSUnknown); err != nil {
					t.Error(err)
					return
				}
				if _, err := m.TopKBatch([]*lsrec.State{s, s}, 5); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	if got := s.NEvents(); got != workers*n {
		t.Fatalf("%d events, want %d", got, workers*n)
	}
}

// Close waits for calls in progress; later calls fail with ErrClosed, never crash.
func TestCloseWhileInUse(t *testing.T) {
	_, path := loadGolden(t)
	m, err := lsrec.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < 200; i++ {
				s, err := m.NewState()
				if err != nil {
					if !errors.Is(err, lsrec.ErrClosed) {
						t.Error(err)
					}
					return
				}
				if _, err := m.TopK(s, 5); err != nil && !errors.Is(err, lsrec.ErrClosed) {
					t.Error(err)
				}
			}
		}()
	}
	close(start)
	m.Close()
	wg.Wait()
}
