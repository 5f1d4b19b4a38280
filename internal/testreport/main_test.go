package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A run as `go test -json` reports it: one package passes with a skipped
// test and a skipped subtest, one fails a test, one does not build.
const sampleRun = `{"Action":"start","Package":"example.org/a"}
{"Action":"run","Package":"example.org/a","Test":"TestOK"}
{"Action":"output","Package":"example.org/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"output","Package":"example.org/a","Test":"TestOK","Output":"--- PASS: TestOK (0.00s)\n"}
{"Action":"pass","Package":"example.org/a","Test":"TestOK"}
{"Action":"run","Package":"example.org/a","Test":"TestPostgres"}
{"Action":"output","Package":"example.org/a","Test":"TestPostgres","Output":"=== RUN   TestPostgres\n"}
{"Action":"output","Package":"example.org/a","Test":"TestPostgres","Output":"    store_test.go:42: TAPIS_TEST_POSTGRES_DSN not set: PostgreSQL tests skipped\n"}
{"Action":"output","Package":"example.org/a","Test":"TestPostgres","Output":"--- SKIP: TestPostgres (0.00s)\n"}
{"Action":"skip","Package":"example.org/a","Test":"TestPostgres"}
{"Action":"run","Package":"example.org/a","Test":"TestMatrix/slow"}
{"Action":"output","Package":"example.org/a","Test":"TestMatrix/slow","Output":"    --- SKIP: TestMatrix/slow (0.00s)\n"}
{"Action":"output","Package":"example.org/a","Test":"TestMatrix/slow","Output":"        matrix_test.go:7: not in -short mode\n"}
{"Action":"skip","Package":"example.org/a","Test":"TestMatrix/slow"}
{"Action":"output","Package":"example.org/a","Output":"PASS\n"}
{"Action":"output","Package":"example.org/a","Output":"ok  \texample.org/a\t0.01s\n"}
{"Action":"pass","Package":"example.org/a"}
{"Action":"run","Package":"example.org/b","Test":"TestBroken"}
{"Action":"output","Package":"example.org/b","Test":"TestBroken","Output":"=== RUN   TestBroken\n"}
{"Action":"output","Package":"example.org/b","Test":"TestBroken","Output":"    b_test.go:9: want 1, got 2\n"}
{"Action":"output","Package":"example.org/b","Test":"TestBroken","Output":"--- FAIL: TestBroken (0.00s)\n"}
{"Action":"fail","Package":"example.org/b","Test":"TestBroken"}
{"Action":"output","Package":"example.org/b","Output":"FAIL\texample.org/b\t0.01s\n"}
{"Action":"fail","Package":"example.org/b"}
{"ImportPath":"example.org/c [example.org/c.test]","Action":"build-output","Output":"c/c.go:3:1: syntax error\n"}
{"ImportPath":"example.org/c [example.org/c.test]","Action":"build-fail"}
`

func TestReportShowsFailuresAndListsSkips(t *testing.T) {
	var out bytes.Buffer
	r := newReport(&out)
	for _, line := range strings.Split(strings.TrimSpace(sampleRun), "\n") {
		var e event
		require.NoError(t, json.Unmarshal([]byte(line), &e))
		r.add(e)
	}
	text := out.String()
	assert.Contains(t, text, "ok  \texample.org/a\t0.01s\n", "package lines are shown")
	assert.Contains(t, text, "b_test.go:9: want 1, got 2", "a failing test's output is shown")
	assert.Contains(t, text, "FAIL\texample.org/b")
	assert.Contains(t, text, "c/c.go:3:1: syntax error", "build errors are shown")
	assert.NotContains(t, text, "TestOK", "a passing test stays quiet")
	assert.NotContains(t, text, "TAPIS_TEST_POSTGRES_DSN", "skips are listed at the end, not inline")
	assert.True(t, r.failed)

	var skips bytes.Buffer
	require.NoError(t, writeSkips(&skips, r.skips))
	assert.Equal(t, "example.org/a TestMatrix/slow: not in -short mode\n"+
		"example.org/a TestPostgres: TAPIS_TEST_POSTGRES_DSN not set: PostgreSQL tests skipped\n", skips.String())
}

func TestReportPassingRun(t *testing.T) {
	var out bytes.Buffer
	r := newReport(&out)
	r.add(event{Action: "output", Package: "p", Output: "ok  \tp\t0.1s\n"})
	r.add(event{Action: "pass", Package: "p"})
	assert.False(t, r.failed)
	assert.Empty(t, r.skips)
}

func TestReportShowsFiguresOfPassingTests(t *testing.T) {
	var out bytes.Buffer
	r := newReport(&out)
	for _, o := range []string{"=== RUN   TestLoad/sub\n", "    load_test.go:12: figures: p50 3ms max 9ms\n",
		"    load_test.go:13: some other log\n", "    load_test.go:14: not figures: here\n", "--- PASS: TestLoad/sub (1.00s)\n"} {
		r.add(event{Action: "output", Package: "p", Test: "TestLoad/sub", Output: o})
	}
	r.add(event{Action: "pass", Package: "p", Test: "TestLoad/sub"})
	assert.Equal(t, "p TestLoad/sub: figures: p50 3ms max 9ms\n", out.String(), "only the figures lines, with the test's name")
	assert.False(t, r.failed)
}
