package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var (
	fixtures   = filepath.Join("..", "..", "Tests", "Fixtures")
	model      = filepath.Join(fixtures, "tiny-random.lsrec")
	cRecommend = filepath.Join("..", "..", "build", "bin", "recommend")
)

// compare runs this example and the C example with the same arguments: every line but the
// last ("... ok") must be the same.
func compare(t *testing.T, args ...string) []string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(args, &out, &errOut); err != nil {
		t.Fatalf("run %v: %v\n%s", args, err, errOut.String())
	}
	goLines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if goLines[len(goLines)-1] != "recommend-go: ok" {
		t.Fatalf("last line %q", goLines[len(goLines)-1])
	}
	if _, err := os.Stat(cRecommend); err != nil {
		t.Skipf("%s is not built (`make examples`); checked the Go example alone", cRecommend)
	}
	c, err := exec.Command(cRecommend, args...).Output()
	if err != nil {
		t.Fatalf("C example: %v", err)
	}
	cLines := strings.Split(strings.TrimRight(string(c), "\n"), "\n")
	// Trailing blanks aside (the C example pads the title column), the lines are the same.
	if trimmed(goLines[:len(goLines)-1]) != trimmed(cLines[:len(cLines)-1]) {
		t.Fatalf("Go and C examples differ:\n--- go\n%s\n--- c\n%s", out.String(), c)
	}
	return goLines
}

func trimmed(lines []string) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(out, "\n")
}

func TestDefaultEvents(t *testing.T) {
	lines := compare(t, model)
	if !strings.HasPrefix(lines[0], "liblsrec 0.5.0") {
		t.Fatal(lines[0])
	}
}

// goldenEvents returns the golden case's model path, events and expected top-10 ids.
func goldenEvents(t *testing.T) (string, []int64, []int64, []int64) {
	data, err := os.ReadFile(filepath.Join(fixtures, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Model  string
		Events struct{ Items, Times []int64 }
		TopK   []struct{ IDs []int64 } `json:"topk"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(fixtures, g.Model), g.Events.Items, g.Events.Times, g.TopK[0].IDs
}

func TestGoldenEventsOnTheCommandLine(t *testing.T) {
	goldenModel, items, times, want := goldenEvents(t)
	args := []string{goldenModel}
	for i := range items {
		if times[i] == -1 {
			args = append(args, fmt.Sprint(items[i]))
		} else {
			args = append(args, fmt.Sprintf("%d:%d", items[i], times[i]))
		}
	}
	lines := compare(t, args...)
	var got []string
	for _, l := range lines {
		var rank int
		var id string
		if n, _ := fmt.Sscanf(l, " %d. item %s ", &rank, &id); n == 2 {
			got = append(got, id)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) { // both print as [1651 1518 ...]
		t.Fatalf("top 10 %v, golden %v", got, want)
	}
}

func TestHistoryFileWithAnUnknownItem(t *testing.T) {
	_, items, times, _ := goldenEvents(t)
	var b strings.Builder
	b.WriteString("# item unix_ts\n")
	for i := range items {
		if i == 5 {
			b.WriteString("999999 1700000000\n") // not in the model: skipped with a warning
		}
		fmt.Fprintf(&b, "%d %d\n", items[i], times[i])
	}
	path := filepath.Join(t.TempDir(), "history.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	compare(t, model, "-f", path)
}

func TestHistoryFileWithTitles(t *testing.T) {
	_, items, times, _ := goldenEvents(t)
	dir := t.TempDir()
	var history, titles strings.Builder
	for i := range items {
		fmt.Fprintf(&history, "%d %d\n", items[i], times[i])
	}
	for i := 0; i < 300; i += 2 {
		fmt.Fprintf(&titles, "%d\tMovie number %d (19%02d)\n", 1000+7*i, i, i%100)
	}
	historyPath, titlesPath := filepath.Join(dir, "history.txt"), filepath.Join(dir, "titles.tsv")
	if os.WriteFile(historyPath, []byte(history.String()), 0o644) != nil ||
		os.WriteFile(titlesPath, []byte(titles.String()), 0o644) != nil {
		t.Fatal("cannot write the inputs")
	}
	lines := compare(t, model, "-f", historyPath, "-t", titlesPath)
	if !strings.Contains(strings.Join(lines, "\n"), "Movie number") {
		t.Fatal("no titles printed")
	}
}
