package lsrec_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The "Use from Go" snippet of README.md, built verbatim as its own module (with the README's
// go.mod commands) and run from the repository root.
func TestReadmeSnippet(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := strings.SplitN(string(readme), "## Use from Go", 2)
	if len(section) != 2 {
		t.Fatal("README.md has no \"## Use from Go\" section")
	}
	code := strings.SplitN(strings.SplitN(section[1], "```go\n", 2)[1], "```", 2)[0]
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	env := append(os.Environ(), "GOPROXY=off", "GOFLAGS=")
	for _, args := range [][]string{
		{"mod", "init", "app"},
		{"mod", "edit", "-require=lsrec@v0.0.0", "-replace=lsrec=" + filepath.Join(repo, "bindings", "go")},
		{"vet", "."},
		{"build", "-o", "app", "."},
	} {
		cmd := exec.Command(goTool, args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s\n--- main.go\n%s", strings.Join(args, " "), err, out, code)
		}
	}
	if out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "gofmt"), "-l", dir).Output(); err == nil && len(out) > 0 {
		t.Errorf("the README snippet is not gofmt-formatted: %s", out)
	}
	cmd := exec.Command(filepath.Join(dir, "app"))
	cmd.Dir = repo
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("running the snippet: %v", err)
	}
	if !bytes.HasPrefix(out, []byte("[{")) || !bytes.HasSuffix(out, []byte("}] <nil>\n")) || bytes.Count(out, []byte("{")) != 10 {
		t.Fatalf("unexpected output: %s", out)
	}
}
