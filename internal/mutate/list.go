//go:build unix

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Edit replaces the one occurrence of Original in File by Replacement.
type Edit struct {
	File        string // relative to the module root, slash-separated
	Original    string
	Replacement string
	Line        int // of the list, for messages
}

// Mutation is one deliberate break of a rule: one edit, or several edits
// given on several lines of the list under the same name and applied
// together; Packages are the packages whose tests must notice it.
type Mutation struct {
	Name     string
	Edits    []Edit
	Packages []string
}

// ParseList reads a mutation list. Each line that is neither blank nor a
// comment (#) is
//
//	name  file  original  replacement  package...
//
// where name and file are words, original and replacement are Go string
// literals ("..." with escapes, or `...` raw) and the packages are go test
// patterns (./systems/). Lines with the same name form one mutation; they
// must follow each other.
func ParseList(r io.Reader) ([]Mutation, error) {
	var out []Mutation
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest := word(line)
		file, rest := word(rest)
		orig, rest, err := quoted(rest)
		if err != nil {
			return nil, fmt.Errorf("line %d: original: %w", n, err)
		}
		repl, rest, err := quoted(rest)
		if err != nil {
			return nil, fmt.Errorf("line %d: replacement: %w", n, err)
		}
		pkgs := strings.Fields(rest)
		switch {
		case name == "" || file == "":
			return nil, fmt.Errorf("line %d: want: name file original replacement package", n)
		case orig == "":
			return nil, fmt.Errorf("line %d: %s: the original text is empty", n, name)
		case orig == repl:
			return nil, fmt.Errorf("line %d: %s: the replacement equals the original", n, name)
		case len(pkgs) == 0:
			return nil, fmt.Errorf("line %d: %s: no package to test", n, name)
		}
		e := Edit{File: file, Original: orig, Replacement: repl, Line: n}
		if k := len(out) - 1; k >= 0 && out[k].Name == name {
			out[k].Edits = append(out[k].Edits, e)
			for _, p := range pkgs {
				if !slices.Contains(out[k].Packages, p) {
					out[k].Packages = append(out[k].Packages, p)
				}
			}
			continue
		}
		if slices.ContainsFunc(out, func(m Mutation) bool { return m.Name == name }) {
			return nil, fmt.Errorf("line %d: %s: the lines of one mutation must follow each other", n, name)
		}
		out = append(out, Mutation{Name: name, Edits: []Edit{e}, Packages: pkgs})
	}
	return out, sc.Err()
}

func word(s string) (string, string) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

func quoted(s string) (string, string, error) {
	s = strings.TrimSpace(s)
	lit, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", "", fmt.Errorf("want a Go string literal (\"...\" or `...`) at %.30q", s)
	}
	v, err := strconv.Unquote(lit)
	if err != nil {
		return "", "", err
	}
	return v, s[len(lit):], nil
}

// Applied is a mutation's files: the original bytes and the mutated ones.
type Applied struct {
	Files []string // in edit order, unique
	Orig  map[string][]byte
	New   map[string][]byte
}

// Prepare computes the mutated files under root without writing anything.
// An edit whose original text does not occur exactly once (after the
// mutation's earlier edits) makes the mutation STALE: the error says how
// often it was found.
func Prepare(root string, m Mutation) (Applied, error) {
	a := Applied{Orig: map[string][]byte{}, New: map[string][]byte{}}
	for _, e := range m.Edits {
		if _, seen := a.New[e.File]; !seen {
			b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(e.File)))
			if err != nil {
				return Applied{}, fmt.Errorf("line %d: %w", e.Line, err)
			}
			a.Files = append(a.Files, e.File)
			a.Orig[e.File], a.New[e.File] = b, b
		}
		cur := a.New[e.File]
		if n := bytes.Count(cur, []byte(e.Original)); n != 1 {
			return Applied{}, fmt.Errorf("line %d: %s: the original text occurs %d times (want exactly once): %q", e.Line, e.File, n, e.Original)
		}
		a.New[e.File] = bytes.Replace(cur, []byte(e.Original), []byte(e.Replacement), 1)
	}
	return a, nil
}
