// Command testreport reads `go test -json` from stdin and prints what a
// plain `go test` would (each package's ok/FAIL line, build errors, the
// output of every failing test), then keeps the list of skipped tests with
// their messages, so that scripts/test can show at the end which tests did
// not run and why. A passing test stays quiet except for the lines it logs
// starting with "figures:" (t.Logf("figures: ...")), which are shown with
// the test's name: the measurements a test makes beside its assertions.
//
//	go test -json ./... | go run ./internal/testreport -skips skipped.txt
//
// It exits 1 when a test, a package or a build failed.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string `json:"Action"`
	Package    string `json:"Package"`
	ImportPath string `json:"ImportPath"` // build-output and build-fail
	Test       string `json:"Test"`
	Output     string `json:"Output"`
}

// skip is a test that did not run and its message.
type skip struct {
	Package, Test, Message string
}

// report follows a test run.
type report struct {
	out     io.Writer
	outputs map[string][]string // package + test -> its output so far
	skips   []skip
	failed  bool
}

func newReport(out io.Writer) *report {
	return &report{out: out, outputs: map[string][]string{}}
}

// add handles one event.
func (r *report) add(e event) {
	key := e.Package + "\x00" + e.Test
	switch e.Action {
	case "build-output":
		fmt.Fprint(r.out, e.Output)
	case "build-fail":
		r.failed = true
	case "output":
		if e.Test == "" {
			// Package lines: ok, FAIL, "? pkg [no test files]", panics
			// outside a test, TestMain's own output.
			if !strings.HasPrefix(e.Output, "=== ") && !strings.HasPrefix(e.Output, "PASS\n") {
				fmt.Fprint(r.out, e.Output)
			}
			return
		}
		r.outputs[key] = append(r.outputs[key], e.Output)
	case "fail":
		r.failed = true
		if e.Test != "" {
			fmt.Fprint(r.out, strings.Join(r.outputs[key], ""))
		}
		delete(r.outputs, key)
	case "skip":
		if e.Test != "" {
			r.skips = append(r.skips, skip{Package: e.Package, Test: e.Test, Message: skipMessage(r.outputs[key])})
		}
		delete(r.outputs, key)
	case "pass":
		if e.Test != "" {
			for _, f := range figures(r.outputs[key]) {
				fmt.Fprintf(r.out, "%s %s: %s\n", e.Package, e.Test, f)
			}
		}
		delete(r.outputs, key)
	}
}

// figures are the lines of a test's output that log "figures: ...",
// without the file:line prefix.
func figures(lines []string) []string {
	var out []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if i := strings.Index(t, ": figures: "); i > 0 && strings.Contains(t[:i], ".go:") && !strings.Contains(t[:i], " ") {
			out = append(out, t[i+2:])
		}
	}
	return out
}

// skipMessage is what a skipped test logged, without the framing lines
// (=== RUN, --- SKIP) and the file:line prefix of t.Skip.
func skipMessage(lines []string) string {
	var msg []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		if i := strings.Index(t, ".go:"); i > 0 && !strings.Contains(t[:i], " ") {
			if j := strings.Index(t[i:], ": "); j > 0 {
				t = t[i+j+2:]
			}
		}
		msg = append(msg, t)
	}
	return strings.Join(msg, " ")
}

// writeSkips writes the skipped tests, one a line, sorted.
func writeSkips(w io.Writer, skips []skip) error {
	sort.Slice(skips, func(i, j int) bool {
		if skips[i].Package != skips[j].Package {
			return skips[i].Package < skips[j].Package
		}
		return skips[i].Test < skips[j].Test
	})
	for _, s := range skips {
		if _, err := fmt.Fprintf(w, "%s %s: %s\n", s.Package, s.Test, s.Message); err != nil {
			return err
		}
	}
	return nil
}

func main() {
	skipsFile := flag.String("skips", "", "write the skipped tests and their messages to this file")
	flag.Parse()
	r := newReport(os.Stdout)
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// go test writes some errors (e.g. of go vet or the build of a
			// package list) as plain text even with -json.
			fmt.Println(sc.Text())
			continue
		}
		r.add(e)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(1)
	}
	if *skipsFile != "" {
		f, err := os.Create(*skipsFile)
		if err == nil {
			err = writeSkips(f, r.skips)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(1)
		}
	}
	if r.failed {
		os.Exit(1)
	}
}
