//go:build unix

// Command mutate is the project's mutation check (scripts/mutate runs it
// from the module root). It reads a list of small deliberate breaks of
// security rules (scripts/mutations.txt), applies one at a time, runs the
// tests of the packages the list names for it, restores the files, and
// reports which breaks no test noticed:
//
//	killed    a test failed: the rule is guarded
//	SURVIVED  every test passed: the rule is not guarded (write a test)
//	STALE     an original text no longer occurs exactly once (the code
//	          moved: update the list; nothing is run)
//	BROKEN    the mutated tree does not build (fix the replacement)
//
// It prints "N killed, M survived" and exits non-zero unless every
// mutation was killed. The tree is always restored: after each run, on
// Ctrl-C or SIGTERM, and (from the .mutate-orig copies it leaves) at the
// start of the next run if the process was killed outright.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
)

// backupSuffix names the copy of a file's original bytes kept while it is
// mutated, so that an interrupted run can be undone.
const backupSuffix = ".mutate-orig"

type options struct {
	list     string
	only     *regexp.Regexp
	timeout  time.Duration
	check    bool
	baseline bool
	verbose  bool
	restore  bool
}

func main() {
	var o options
	var only string
	flag.StringVar(&o.list, "list", "scripts/mutations.txt", "the mutation list, relative to the module root")
	flag.StringVar(&only, "only", "", "run only the mutations whose name matches this regular expression")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "go test -timeout for each run")
	flag.BoolVar(&o.check, "check", false, "only check that every mutation still applies (no tests)")
	flag.BoolVar(&o.baseline, "baseline", true, "first run the tests on the unmutated tree (they must pass)")
	flag.BoolVar(&o.verbose, "v", false, "print the test output of every run")
	flag.BoolVar(&o.restore, "restore", false, "only restore the files an interrupted run left mutated")
	flag.Parse()
	if only != "" {
		re, err := regexp.Compile(only)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mutate: -only:", err)
			os.Exit(2)
		}
		o.only = re
	}
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(2)
	}
	os.Exit(run(root, o, os.Stdout))
}

// moduleRoot is the directory of the go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func run(root string, o options, out io.Writer) int {
	f, err := os.Open(filepath.Join(root, o.list))
	if err != nil {
		fmt.Fprintln(out, "mutate:", err)
		return 2
	}
	list, err := ParseList(f)
	_ = f.Close()
	if err != nil {
		fmt.Fprintf(out, "mutate: %s: %v\n", o.list, err)
		return 2
	}
	unlock, err := lock(root)
	if err != nil {
		fmt.Fprintln(out, "mutate:", err)
		return 2
	}
	defer unlock()
	if err := recoverInterrupted(root, list, out); err != nil {
		fmt.Fprintln(out, "mutate:", err)
		return 2
	}
	if o.restore {
		return 0
	}
	if o.only != nil {
		list = slices.DeleteFunc(list, func(m Mutation) bool { return !o.only.MatchString(m.Name) })
	}
	if len(list) == 0 {
		fmt.Fprintln(out, "mutate: no mutation selected")
		return 2
	}

	// Every mutation must still apply before anything runs: a refactor
	// must not silently drop one.
	prepared := make([]Applied, len(list))
	stale := 0
	for i, m := range list {
		a, err := Prepare(root, m)
		if err != nil {
			stale++
			fmt.Fprintf(out, "STALE     %s: %v\n", m.Name, err)
			continue
		}
		prepared[i] = a
	}
	if stale > 0 {
		fmt.Fprintf(out, "%d of %d mutations are STALE: update %s\n", stale, len(list), o.list)
		return 1
	}
	if o.check {
		fmt.Fprintf(out, "%d mutations apply\n", len(list))
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	if o.baseline {
		var pkgs []string
		for _, m := range list {
			for _, p := range m.Packages {
				if !slices.Contains(pkgs, p) {
					pkgs = append(pkgs, p)
				}
			}
		}
		fmt.Fprintf(out, "baseline: the tests of %s on the unmutated tree\n", strings.Join(pkgs, " "))
		res := goTest(ctx, root, pkgs, o.timeout)
		if ctx.Err() != nil {
			fmt.Fprintln(out, "mutate: interrupted")
			return 130
		}
		if res.err != nil {
			fmt.Fprintf(out, "the unmutated tree fails its tests (%v); nothing was mutated:\n%s", res.err, tail(res.output, 60))
			return 2
		}
	}

	var killed, survived, broken []string
	for i, m := range list {
		start := time.Now()
		res, err := runOne(ctx, root, prepared[i], m.Packages, o.timeout)
		if err != nil {
			fmt.Fprintf(out, "mutate: %s: %v\n", m.Name, err)
			return 2
		}
		if ctx.Err() != nil {
			fmt.Fprintln(out, "mutate: interrupted; the tree is restored")
			return 130
		}
		took := time.Since(start).Round(time.Second)
		prefix := fmt.Sprintf("[%2d/%d] ", i+1, len(list))
		switch {
		case res.err == nil:
			survived = append(survived, m.Name)
			fmt.Fprintf(out, "%sSURVIVED  %-36s %s (%s)\n", prefix, m.Name, strings.Join(m.Packages, " "), took)
		case buildFailed(res.output):
			broken = append(broken, m.Name)
			fmt.Fprintf(out, "%sBROKEN    %-36s the mutated tree does not build:\n%s", prefix, m.Name, tail(res.output, 20))
		default:
			killed = append(killed, m.Name)
			fmt.Fprintf(out, "%skilled    %-36s by %s (%s)\n", prefix, m.Name, failedTests(res.output), took)
		}
		if o.verbose {
			fmt.Fprintf(out, "%s\n", res.output)
		}
	}
	fmt.Fprintf(out, "%d killed, %d survived\n", len(killed), len(survived))
	if len(survived) > 0 {
		fmt.Fprintf(out, "survived: %s\n", strings.Join(survived, ", "))
	}
	if len(broken) > 0 {
		fmt.Fprintf(out, "broken (fix the list): %s\n", strings.Join(broken, ", "))
	}
	if len(survived) > 0 || len(broken) > 0 {
		return 1
	}
	return 0
}

// runOne writes the mutated files, runs the tests and restores the files,
// whatever happens (a panic included).
func runOne(ctx context.Context, root string, a Applied, pkgs []string, timeout time.Duration) (res result, err error) {
	defer func() {
		if rerr := restore(root, a); rerr != nil && err == nil {
			err = rerr
		}
	}()
	for _, file := range a.Files {
		path := filepath.Join(root, filepath.FromSlash(file))
		if err := writeKeepMode(path+backupSuffix, a.Orig[file], path); err != nil {
			return result{}, err
		}
		if err := writeKeepMode(path, a.New[file], path); err != nil {
			return result{}, err
		}
	}
	return goTest(ctx, root, pkgs, timeout), nil
}

// restore writes back the original bytes and removes the backups.
func restore(root string, a Applied) error {
	var errs []error
	for _, file := range a.Files {
		path := filepath.Join(root, filepath.FromSlash(file))
		if err := writeKeepMode(path, a.Orig[file], path); err != nil {
			errs = append(errs, fmt.Errorf("restoring %s failed (its original is in %s): %w", file, file+backupSuffix, err))
			continue
		}
		if err := os.Remove(path + backupSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// recoverInterrupted restores the files a killed run left mutated.
func recoverInterrupted(root string, list []Mutation, out io.Writer) error {
	seen := map[string]bool{}
	for _, m := range list {
		for _, e := range m.Edits {
			if seen[e.File] {
				continue
			}
			seen[e.File] = true
			path := filepath.Join(root, filepath.FromSlash(e.File))
			orig, err := os.ReadFile(path + backupSuffix)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			if err := writeKeepMode(path, orig, path); err != nil {
				return err
			}
			if err := os.Remove(path + backupSuffix); err != nil {
				return err
			}
			fmt.Fprintf(out, "restored %s, left mutated by an interrupted run\n", e.File)
		}
	}
	return nil
}

// writeKeepMode writes data to path with the permissions of like.
func writeKeepMode(path string, data []byte, like string) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(like); err == nil {
		mode = fi.Mode().Perm()
	}
	return os.WriteFile(path, data, mode)
}

// lock makes sure one run at a time mutates a tree.
func lock(root string) (func(), error) {
	sum := sha256.Sum256([]byte(root))
	path := filepath.Join(os.TempDir(), "tapis-mutate-"+hex.EncodeToString(sum[:8])+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("another mutation run is using %s", root)
	}
	return func() { _ = f.Close() }, nil
}

type result struct {
	output []byte
	err    error
}

// goTest runs go test (no -race, no cache, stop at the first failure) in
// its own process group, killed as a whole when ctx ends.
func goTest(ctx context.Context, root string, pkgs []string, timeout time.Duration) result {
	args := append([]string{"test", "-count=1", "-failfast", "-timeout", timeout.String()}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOFLAGS=") // no -race or -count from the caller's GOFLAGS
	cmd.SysProcAttr = testProcAttr()
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		return result{err: err}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// A hung build or test binary still ends: go test's own -timeout
	// stops the tests, this bounds the rest.
	limit := time.NewTimer(timeout + 5*time.Minute)
	defer limit.Stop()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = <-done
	case <-limit.C:
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = fmt.Errorf("go test did not end within %s", timeout+5*time.Minute)
		<-done
	}
	return result{output: buf.Bytes(), err: err}
}

var (
	buildFailedRE = regexp.MustCompile(`(?m)\[(build|setup) failed\]$`)
	failRE        = regexp.MustCompile(`(?m)^--- FAIL: (\S+)`)
	panicRE       = regexp.MustCompile(`(?m)^panic: `)
	timeoutRE     = regexp.MustCompile(`(?m)^panic: test timed out`)
)

func buildFailed(out []byte) bool { return buildFailedRE.Match(out) }

// failedTests names the top-level tests that failed (at most three).
func failedTests(out []byte) string {
	var names []string
	for _, m := range failRE.FindAllSubmatch(out, -1) {
		if n := string(m[1]); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	switch {
	case len(names) > 3:
		return strings.Join(names[:3], ", ") + fmt.Sprintf(" and %d more", len(names)-3)
	case len(names) > 0:
		return strings.Join(names, ", ")
	case timeoutRE.Match(out):
		return "a test timeout"
	case panicRE.Match(out):
		return "a panic"
	}
	return "a failing test run"
}

// tail returns the last n lines of out.
func tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n") + "\n"
}
