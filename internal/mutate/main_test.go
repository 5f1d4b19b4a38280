//go:build unix

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTheListStillApplies runs with every go test ./...: a refactor that
// moves a rule fails here at once, not only when someone runs the slow
// mutation check (TAPIS_MUTATE=1).
func TestTheListStillApplies(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	f, err := os.Open(filepath.Join(root, "scripts", "mutations.txt"))
	require.NoError(t, err)
	defer f.Close()
	list, err := ParseList(f)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(list), 40, "the list keeps the rules the team decided to guard")
	for _, m := range list {
		_, err := Prepare(root, m)
		assert.NoError(t, err, "%s is STALE: move its line in scripts/mutations.txt with the code it breaks", m.Name)
		for _, p := range m.Packages {
			fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(p)))
			if assert.NoError(t, err, "%s: package %s", m.Name, p) {
				assert.True(t, fi.IsDir(), "%s: package %s", m.Name, p)
			}
		}
	}
}

func TestParseList(t *testing.T) {
	list, err := ParseList(strings.NewReader("# comment\n\n" +
		"one  a/b.go  `x || y`  `x`  ./a/ ./b/\n" +
		"two  a/b.go  \"p\\n\\tq\"  \"r\"  ./a/\n" +
		"two  a/c.go  `s`  ``  ./c/ ./a/\n"))
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, Mutation{Name: "one", Edits: []Edit{{File: "a/b.go", Original: "x || y", Replacement: "x", Line: 3}},
		Packages: []string{"./a/", "./b/"}}, list[0])
	assert.Equal(t, []Edit{{File: "a/b.go", Original: "p\n\tq", Replacement: "r", Line: 4}, {File: "a/c.go", Original: "s", Replacement: "", Line: 5}}, list[1].Edits)
	assert.Equal(t, []string{"./a/", "./c/"}, list[1].Packages)

	for name, text := range map[string]string{
		"unquoted original":    "n f x `y` ./p/",
		"no packages":          "n f `x` `y`",
		"empty original":       "n f `` `y` ./p/",
		"no change":            "n f `x` `x` ./p/",
		"split mutation":       "n f `x` `y` ./p/\nm f `x` `y` ./p/\nn f `z` `w` ./p/",
		"unterminated literal": "n f `x ./p/",
	} {
		_, err := ParseList(strings.NewReader(text))
		assert.Error(t, err, name)
	}
}

func TestPrepareNeedsExactlyOneOccurrence(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "f.go"), []byte("a := 1\nb := 1\nc := 2\n"), 0o644))
	m := func(orig, repl string) Mutation {
		return Mutation{Name: "m", Edits: []Edit{{File: "f.go", Original: orig, Replacement: repl}}, Packages: []string{"./"}}
	}
	a, err := Prepare(root, m("c := 2", "c := 3"))
	require.NoError(t, err)
	assert.Equal(t, "a := 1\nb := 1\nc := 3\n", string(a.New["f.go"]))
	assert.Equal(t, "a := 1\nb := 1\nc := 2\n", string(a.Orig["f.go"]))
	_, err = Prepare(root, m(":= 1", ":= 0"))
	assert.ErrorContains(t, err, "occurs 2 times")
	_, err = Prepare(root, m("d := 4", "d := 5"))
	assert.ErrorContains(t, err, "occurs 0 times")
	// Edits of one mutation apply in order, each to the result of the last.
	two := Mutation{Name: "m", Edits: []Edit{{File: "f.go", Original: "c := 2", Replacement: "c := 9"}, {File: "f.go", Original: "c := 9", Replacement: "c := 8"}}}
	a, err = Prepare(root, two)
	require.NoError(t, err)
	assert.Equal(t, "a := 1\nb := 1\nc := 8\n", string(a.New["f.go"]))
	assert.Equal(t, []string{"f.go"}, a.Files)
}

// TestRunOnAModule runs the whole check on a tiny module: a guarded rule
// is killed, an unguarded one survives, a stale line fails before anything
// runs, a mutation that does not build is BROKEN, and the tree is restored
// byte for byte every time (also from the copy an interrupted run left).
func TestRunOnAModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module with go test")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	root := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, name), []byte(text), 0o644))
	}
	write("go.mod", "module example.test/m\n\ngo 1.22\n")
	rule := "package rule\n\n// Allowed is the rule under test.\nfunc Allowed(user string) bool { return user == \"owner\" }\n\n// Unguarded has no test.\nfunc Unguarded() int { return 1 }\n"
	write("rule/rule.go", rule)
	write("rule/rule_test.go", "package rule\n\nimport \"testing\"\n\nfunc TestAllowed(t *testing.T) {\n\tif Allowed(\"stranger\") {\n\t\tt.Fatal(\"a stranger is allowed\")\n\t}\n}\n")
	list := func(text string) options {
		write("mutations.txt", text)
		return options{list: "mutations.txt", timeout: 2 * time.Minute, baseline: true}
	}
	restored := func() {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(root, "rule/rule.go"))
		require.NoError(t, err)
		assert.Equal(t, rule, string(b), "the tree is restored")
		_, err = os.Stat(filepath.Join(root, "rule/rule.go"+backupSuffix))
		assert.True(t, os.IsNotExist(err), "no copy is left behind")
	}

	var out bytes.Buffer
	code := run(root, list("guarded rule/rule.go `user == \"owner\"` `true` ./rule/\n"+
		"unguarded rule/rule.go `return 1` `return 2` ./rule/\n"+
		"broken rule/rule.go `return 1` `return \"x\"` ./rule/\n"), &out)
	assert.Equal(t, 1, code, out.String())
	assert.Contains(t, out.String(), "killed    guarded")
	assert.Contains(t, out.String(), "by TestAllowed")
	assert.Contains(t, out.String(), "SURVIVED  unguarded")
	assert.Contains(t, out.String(), "BROKEN    broken")
	assert.Contains(t, out.String(), "1 killed, 1 survived\nsurvived: unguarded\n")
	restored()

	out.Reset()
	code = run(root, list("guarded rule/rule.go `user == \"owner\"` `true` ./rule/\n"), &out)
	assert.Equal(t, 0, code, out.String())
	assert.Contains(t, out.String(), "1 killed, 0 survived\n")
	restored()

	out.Reset()
	code = run(root, list("guarded rule/rule.go `user == \"owner\"` `true` ./rule/\nmoved rule/rule.go `user == \"admin\"` `true` ./rule/\n"), &out)
	assert.Equal(t, 1, code)
	assert.Contains(t, out.String(), "STALE     moved")
	assert.NotContains(t, out.String(), "killed", "nothing runs while the list is stale")
	restored()

	// A run killed outright left the file mutated and its copy beside it.
	write("rule/rule.go", strings.Replace(rule, `user == "owner"`, "true", 1))
	write("rule/rule.go"+backupSuffix, rule)
	out.Reset()
	code = run(root, options{list: "mutations.txt", restore: true}, &out)
	assert.Equal(t, 0, code)
	assert.Contains(t, out.String(), "restored rule/rule.go")
	restored()
}
