// Command httpbench measures the server over loopback HTTP, each figure
// beside a baseline measured in the same run (issue 16): authenticated
// GET /v3/systems/{id} and the registry reads against a bare net/http
// handler serving the very same bytes, a three-condition search against the
// same predicate as raw SQL, how both grow from N to the large N, the heap
// per 10k systems, the cold start of examples/server -dev against a plain
// start, and the password grant against one bcrypt compare and two RS256
// signs.
//
//	go run ./internal/httpbench -backend sqlite,postgres -systems 10000 -large 100000 -duration 5s
//	go run ./internal/httpbench -brief     # what scripts/test runs: 10k, 1s per row
//
// Only the ratios mean something on a shared machine: absolute figures move
// with whatever else runs. Nothing here fails on a figure; it fails only
// when a call does (a status other than the expected one).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"
)

type options struct {
	backends   []string
	systems    int
	large      int
	duration   time.Duration
	rounds     int
	coldStart  bool
	startReps  int
	grant      bool
	cpuProfile string
	dex        string
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "httpbench:", err)
		}
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("httpbench", flag.ContinueOnError)
	backends := fs.String("backend", "sqlite,postgres", "stores to measure, comma separated: sqlite, postgres (postgres needs TAPIS_TEST_POSTGRES_DSN; skipped without it)")
	o := options{}
	fs.IntVar(&o.systems, "systems", 10000, "systems loaded before the first rows")
	fs.IntVar(&o.large, "large", 100000, "systems loaded (in total) before the growth rows; 0 skips them")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "time per row (subject and baseline together)")
	fs.IntVar(&o.rounds, "rounds", 2, "alternations of subject and baseline per row")
	fs.BoolVar(&o.coldStart, "coldstart", true, "build examples/server and time its starts")
	fs.IntVar(&o.startReps, "start-reps", 3, "starts per cold-start figure (the median is shown)")
	fs.BoolVar(&o.grant, "grant", true, "measure the password grant beside bcrypt + 2 signs")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write CPU profiles of the authenticated GET row (c=8, first N) to FILE.BACKEND and of the search row to FILE.search.BACKEND")
	fs.StringVar(&o.dex, "dex", os.Getenv("TAPIS_BENCH_DEX"), "a Dex binary: measure the password and refresh grants beside it [$TAPIS_BENCH_DEX]")
	brief := fs.Bool("brief", false, "a short run for CI: -systems 10000 -large 0 -duration 1s -rounds 1")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *brief {
		o.systems, o.large, o.duration, o.rounds, o.startReps = 10000, 0, time.Second, 1, 1
	}
	for _, b := range strings.Split(*backends, ",") {
		if b = strings.TrimSpace(b); b != "" {
			o.backends = append(o.backends, b)
		}
	}
	if o.large != 0 && o.large <= o.systems {
		return fmt.Errorf("-large (%d) must exceed -systems (%d), or be 0", o.large, o.systems)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	t := &table{out: out}
	fmt.Fprintf(out, "httpbench: %d systems (growth to %d), %v per row, %d round(s), GOMAXPROCS=%d, %s\n",
		o.systems, o.large, o.duration, o.rounds, runtime.GOMAXPROCS(0), runtime.Version())
	for _, b := range o.backends {
		if b == "postgres" && os.Getenv("TAPIS_TEST_POSTGRES_DSN") == "" {
			fmt.Fprintln(out, "postgres: skipped, TAPIS_TEST_POSTGRES_DSN not set")
			continue
		}
		if err := measureBackend(ctx, b, o, t); err != nil {
			return fmt.Errorf("%s: %w", b, err)
		}
	}
	if o.grant {
		if err := measureGrant(ctx, o, t); err != nil {
			return fmt.Errorf("password grant: %w", err)
		}
	}
	if o.grant && o.dex != "" {
		if err := measureDex(ctx, o, t, o.dex); err != nil {
			return fmt.Errorf("grants beside Dex: %w", err)
		}
	} else if o.grant {
		fmt.Fprintln(out, "grants beside Dex: skipped, -dex / TAPIS_BENCH_DEX not set (the module proxy serves no current Dex)")
	}
	if o.coldStart {
		if err := measureColdStart(ctx, t, max(1, o.startReps)); err != nil {
			return fmt.Errorf("cold start: %w", err)
		}
	}
	t.print()
	return nil
}

// table collects the rows and prints them as Markdown.
type table struct {
	out  io.Writer
	rows [][5]string
}

func (t *table) add(measurement, figure, baseline, ratio, target string) {
	t.rows = append(t.rows, [5]string{measurement, figure, baseline, ratio, target})
	fmt.Fprintf(t.out, "  %s: %s | baseline %s | %s\n", measurement, figure, baseline, ratio)
}

func (t *table) print() {
	fmt.Fprintln(t.out)
	fmt.Fprintln(t.out, "| measurement | figure | baseline | ratio | target |")
	fmt.Fprintln(t.out, "|---|---|---|---|---|")
	for _, r := range t.rows {
		fmt.Fprintf(t.out, "| %s | %s | %s | %s | %s |\n", r[0], r[1], r[2], r[3], r[4])
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func rate(r result) string { return fmt.Sprintf("%.0f rps", r.rps()) }

// startProfile starts a CPU profile when asked; the returned func stops it.
func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}
