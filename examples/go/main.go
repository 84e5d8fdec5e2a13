// Command recommend is a complete lsrec host in Go, mirroring examples/c/recommend.c: load a
// model, feed a user's events, recommend, explain, and keep the user's state as a blob. It
// prints the same lines as the C example for the same input (main_test.go compares them).
//
// Usage (after `make lib-static`; `make test-go` builds it as build/bin/recommend-go):
//
//	recommend-go [MODEL]                  built-in events (the model's first few items)
//	recommend-go MODEL ITEM[:TIME] ...    events from the command line, oldest first
//	recommend-go MODEL -f HISTORY [-t TITLES]  events from a file ("item_id unix_ts" lines);
//	                                           TITLES: "item_id<TAB>title" lines
//
// MODEL defaults to Tests/Fixtures/tiny-random.lsrec (run from the repository root), or e.g.
// `cd examples/go && go run . ../../Tests/Fixtures/tiny-random.lsrec`.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"

	"lsrec"
)

const (
	defaultModel = "Tests/Fixtures/tiny-random.lsrec"
	topK         = 10
	explainK     = 3
)

type event struct{ item, time int64 }

func parseEvent(arg string) (event, error) {
	itemText, timeText, hasTime := strings.Cut(arg, ":")
	item, err := strconv.ParseInt(itemText, 10, 64)
	ts := lsrec.TSUnknown
	if err == nil && hasTime {
		ts, err = strconv.ParseInt(timeText, 10, 64)
	}
	if err != nil {
		return event{}, fmt.Errorf("'%s' is not ITEM or ITEM:TIME", arg)
	}
	return event{item, ts}, nil
}

func readHistory(path string) ([]event, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	var events []event
	scanner := bufio.NewScanner(r)
	for line := 1; scanner.Scan(); line++ {
		fields := strings.Fields(strings.ReplaceAll(scanner.Text(), ",", " "))
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		e, err := parseEvent(strings.Join(fields, ":"))
		if err != nil || len(fields) > 2 {
			return nil, fmt.Errorf("%s:%d: expected \"item_id unix_ts\"", path, line)
		}
		events = append(events, e)
	}
	return events, scanner.Err()
}

// readTitles reads "item_id<TAB>title" lines (`lsrec recommend --titles-out` writes them).
func readTitles(path string) (map[int64]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	titles := map[int64]string{}
	for _, line := range strings.Split(string(data), "\n") {
		idText, title, ok := strings.Cut(line, "\t")
		if id, err := strconv.ParseInt(idText, 10, 64); ok && err == nil {
			titles[id] = strings.TrimRight(title, "\r")
		}
	}
	return titles, nil
}

// feed applies all events in one call; if one names an unknown item (the call is
// all-or-nothing), it feeds them one at a time and skips the unknown ones.
func feed(s *lsrec.State, items, times []int64, stderr io.Writer) error {
	err := s.UpdateManyUnix(items, times)
	if !errors.Is(err, lsrec.ErrUnknownItem) {
		return err
	}
	for i := range items {
		err := s.UpdateUnix(items[i], times[i])
		if errors.Is(err, lsrec.ErrUnknownItem) {
			fmt.Fprintf(stderr, "recommend-go: skipping event %d: %v\n", i, err)
		} else if err != nil {
			return err
		}
	}
	return nil
}

func run(args []string, stdout, stderr io.Writer) error {
	path := defaultModel
	if len(args) > 0 {
		path = args[0]
	}
	fmt.Fprintf(stdout, "liblsrec %s (ABI %d)\n", lsrec.Version(), lsrec.LibraryABIVersion())

	model, err := lsrec.Load(path)
	if err != nil {
		return err
	}
	defer model.Close()
	arch, _ := model.Meta("general.architecture")
	history, _ := model.Meta("lsrec.history")
	fmt.Fprintf(stdout, "model %s: architecture %s, dim %d, n_items %d, history %s, fingerprint %s\n",
		path, arch, model.Dim(), model.NItems(), history, model.Fingerprint())
	itemIDs, err := model.ItemIDs()
	if err != nil {
		return err
	}

	var events []event
	titles := map[int64]string{}
	switch {
	case len(args) > 2 && args[1] == "-f":
		if events, err = readHistory(args[2]); err != nil {
			return err
		}
		if len(args) > 4 && args[3] == "-t" {
			if titles, err = readTitles(args[4]); err != nil {
				return err
			}
		}
	case len(args) > 1:
		for _, a := range args[1:] {
			e, err := parseEvent(a)
			if err != nil {
				return err
			}
			events = append(events, e)
		}
	default:
		const t0 = 1700000000
		for i, p := range []int{0, 1, 2, 5, 8, 13} {
			events = append(events, event{itemIDs[p%len(itemIDs)], t0 + 3600*int64(i)})
		}
	}
	items := make([]int64, len(events))
	times := make([]int64, len(events))
	for i, e := range events {
		items[i], times[i] = e.item, e.time
	}
	fmt.Fprintf(stdout, "history: %d events\n", len(events))

	state, err := model.NewState()
	if err != nil {
		return err
	}
	defer state.Close()
	if err := feed(state, items, times, stderr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "state: %d events\n", state.NEvents())

	top, err := model.TopK(state, topK)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "top %d (excluding seen):\n", topK)
	for r, rec := range top {
		fmt.Fprintf(stdout, "  %2d. item %-8d score %8.4f  %s\n", r+1, rec.Item, rec.Score, titles[rec.Item])
		why, err := model.Explain(state, rec.Item, explainK)
		if err != nil {
			return err
		}
		if len(why) == 0 {
			continue
		}
		sep := ""
		if len(titles) > 0 {
			sep = " "
		}
		parts := make([]string, len(why))
		for j, c := range why {
			parts[j] = fmt.Sprintf("%d%s%s (%+.3f)", c.Item, sep, titles[c.Item], c.Weight)
		}
		fmt.Fprintf(stdout, "      because you watched: %s\n", strings.Join(parts, ", "))
	}

	blob, err := state.MarshalBinary()
	if err != nil {
		return err
	}
	restored, err := model.LoadState(blob)
	if err != nil {
		return err
	}
	defer restored.Close()
	top2, err := model.TopK(restored, topK)
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(top, top2) {
		return errors.New("the restored state gives another top list")
	}
	fmt.Fprintf(stdout, "state blob: %d bytes; restored state gives the identical top %d\n", len(blob), topK)

	if len(top) > 0 {
		when := lsrec.TSUnknown
		for _, ts := range times {
			if ts >= 0 {
				when = ts + 600
			}
		}
		if err := restored.UpdateUnix(top[0].Item, when); err != nil {
			return err
		}
		top3, err := model.TopK(restored, 3)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "after watching %d, the new top 3:", top[0].Item)
		for _, rec := range top3 {
			fmt.Fprintf(stdout, " %d (%.4f)", rec.Item, rec.Score)
		}
		fmt.Fprintln(stdout)
	}

	u, err := model.UserVector(state)
	if err != nil {
		return err
	}
	norm := 0.0
	for _, x := range u {
		norm += float64(x) * float64(x)
	}
	fmt.Fprintf(stdout, "user vector: |u| = %.4f (d = %d)\n", math.Sqrt(norm), model.Dim())
	fmt.Fprintln(stdout, "recommend-go: ok")
	return nil
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "recommend-go:", err)
		os.Exit(1)
	}
}
