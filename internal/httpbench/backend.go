package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/tapis-go/tapis/systems"
)

// searchQuery is the three-condition search: benchUser's LINUX
// systems that are enabled on a node1* host (listType OWNED, the default).
const (
	searchQuery = "(systemType.eq.LINUX)~(enabled.eq.true)~(host.like.node1*)"
	searchLimit = 100
)

// rawSearch is searchQuery as a developer would write it by hand, every
// column scanned, as the store reads them: the baseline of the search rows.
var rawSearch = map[string]string{
	"sqlite":   "SELECT * FROM systems WHERE tenant = ? AND deleted = ? AND owner = ? AND system_type = ? AND enabled = ? AND host GLOB ? ORDER BY id LIMIT 100",
	"postgres": "SELECT * FROM systems WHERE tenant = $1 AND deleted = $2 AND owner = $3 AND system_type = $4 AND enabled = $5 AND host LIKE $6 ORDER BY id LIMIT 100",
}

var rawSearchArgs = map[string][]any{
	"sqlite":   {"dev", false, benchUser, "LINUX", true, "node1*"},
	"postgres": {"dev", false, benchUser, "LINUX", true, "node1%"},
}

// measureBackend runs every row of one store.
func measureBackend(ctx context.Context, backend string, o options, t *table) error {
	dir, err := os.MkdirTemp("", "httpbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(t.out, "%s: starting, loading %d systems\n", backend, o.systems)
	in, err := start(ctx, backend, dir)
	if err != nil {
		return err
	}
	defer in.close()
	began := time.Now()
	if err := in.loadSystems(ctx, o.systems-1); err != nil { // the template is one
		return err
	}
	fmt.Fprintf(t.out, "%s: %d systems loaded in %v\n", backend, in.loaded+1, time.Since(began).Round(time.Millisecond))
	n := label(o.systems)

	profile := ""
	if o.cpuProfile != "" {
		profile = o.cpuProfile + "." + backend
	}
	get8, err := in.getRow(ctx, t, o, 8, n, profile)
	if err != nil {
		return err
	}
	if _, err := in.getRow(ctx, t, o, 32, n, ""); err != nil {
		return err
	}
	for _, path := range []string{"/v3/sites", "/v3/tenants/dev"} {
		if err := in.registryRow(ctx, t, o, path); err != nil {
			return err
		}
	}
	searchProfile := ""
	if o.cpuProfile != "" {
		searchProfile = o.cpuProfile + ".search." + backend
	}
	small, err := in.searchRow(ctx, t, o, n, searchProfile)
	if err != nil {
		return err
	}
	if o.large == 0 {
		return nil
	}

	began = time.Now()
	if err := in.loadSystems(ctx, o.large-o.systems); err != nil {
		return err
	}
	fmt.Fprintf(t.out, "%s: %d systems loaded in %v\n", backend, in.loaded+1, time.Since(began).Round(time.Millisecond))
	nl := label(o.large)
	getL, err := in.getRow(ctx, t, o, 8, nl, "")
	if err != nil {
		return err
	}
	large, err := in.searchRow(ctx, t, o, nl, "")
	if err != nil {
		return err
	}
	t.add(fmt.Sprintf("cost growth %s → %s, %s", n, nl, backend),
		fmt.Sprintf("search p95 x%.2f; GET rps x%.2f (its ratio to bare x%.2f)",
			float64(large.p95)/float64(small.p95), getL.sub.rps()/get8.sub.rps(), getL.ratio()/get8.ratio()),
		fmt.Sprintf("raw SQL p95 x%.2f", float64(large.rawP95)/float64(small.rawP95)), "", "≤ x1.2")
	return in.heapRow(ctx, t, o, backend)
}

func label(n int) string {
	if n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// pair is a subject measured beside its baseline.
type pair struct{ sub, base result }

func (p pair) ratio() float64 { return p.sub.rps() / p.base.rps() }

// versus loads the server and a bare handler serving the bytes of the
// server's first answer, in alternation.
func (in *instance) versus(ctx context.Context, o options, r request, conns int, profile string) (pair, error) {
	status, ctype, body, err := fetch(ctx, in.base, request{method: r.method, path: pathOf(r), headers: r.headers})
	if err != nil {
		return pair{}, err
	}
	if status != http.StatusOK {
		return pair{}, fmt.Errorf("GET %s: %d %s", pathOf(r), status, body)
	}
	bareBase, stop, err := bare(ctype, body)
	if err != nil {
		return pair{}, err
	}
	defer stop()
	var prof func()
	sub, base, err := paired(ctx, func(d time.Duration) (result, error) {
		if profile != "" && prof == nil {
			if prof, err = startProfile(profile); err != nil {
				return result{}, err
			}
		}
		return load(ctx, in.base, r, conns, d, http.StatusOK)
	}, func(d time.Duration) (result, error) {
		return load(ctx, bareBase, request{method: r.method, path: "/"}, conns, d, http.StatusOK)
	}, o.duration, o.rounds)
	if prof != nil {
		prof()
	}
	return pair{sub, base}, err
}

func pathOf(r request) string {
	if r.next != nil {
		return r.next(0)
	}
	return r.path
}

// getRow: authenticated GET /v3/systems/{id} of benchUser's systems in turn
// (allAttributes, the effectiveUserId resolved) at conns clients.
func (in *instance) getRow(ctx context.Context, t *table, o options, conns int, n, profile string) (pair, error) {
	ids := in.owned[:min(len(in.owned), 256)]
	r := request{method: http.MethodGet, headers: in.auth(), next: func(i int) string { return "/v3/systems/" + ids[i%len(ids)] }}
	p, err := in.versus(ctx, o, r, conns, profile)
	if err != nil {
		return p, err
	}
	t.add(fmt.Sprintf("authenticated GET /v3/systems/{id}, c=%d, %s, %s", conns, in.backend, n),
		rate(p.sub), rate(p.base), fmt.Sprintf("%.2fx", p.ratio()), "≥ 0.35x")
	return p, nil
}

// registryRow: an anonymous GET of a registry path at 8 clients.
func (in *instance) registryRow(ctx context.Context, t *table, o options, path string) error {
	p, err := in.versus(ctx, o, request{method: http.MethodGet, path: path}, 8, "")
	if err != nil {
		return err
	}
	t.add(fmt.Sprintf("GET %s, c=8, %s", path, in.backend), rate(p.sub), rate(p.base), fmt.Sprintf("%.2fx", p.ratio()), "≥ 0.5x")
	return nil
}

// searchFigures are one search row's latencies.
type searchFigures struct{ p50, p95, rawP50, rawP95 time.Duration }

// searchRow: the three-condition search over HTTP, one call at a time,
// beside the raw SQL query on the store's own pool, in alternation.
func (in *instance) searchRow(ctx context.Context, t *table, o options, n, profile string) (searchFigures, error) {
	path := fmt.Sprintf("/v3/systems?search=%s&limit=%d", searchQuery, searchLimit)
	status, _, body, err := fetch(ctx, in.base, request{method: http.MethodGet, path: path, headers: in.auth()})
	if err != nil {
		return searchFigures{}, err
	}
	var env struct {
		Result []map[string]any `json:"result"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &env) != nil {
		return searchFigures{}, fmt.Errorf("GET %s: %d %.300s", path, status, body)
	}
	db := in.store.DB().DB
	raw := func() (int, error) {
		rows, err := db.QueryContext(ctx, rawSearch[in.backend], rawSearchArgs[in.backend]...)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		for i := range vals {
			vals[i] = new(any)
		}
		count := 0
		for rows.Next() {
			if err := rows.Scan(vals...); err != nil {
				return 0, err
			}
			count++
		}
		return count, rows.Err()
	}
	rawN, err := raw()
	if err != nil {
		return searchFigures{}, fmt.Errorf("raw search: %w", err)
	}
	if rawN != len(env.Result) {
		return searchFigures{}, fmt.Errorf("the search answered %d systems, the raw SQL %d", len(env.Result), rawN)
	}
	c := client(1)
	defer c.CloseIdleConnections()
	r := request{method: http.MethodGet, path: path, headers: in.auth()}
	var prof func()
	defer func() {
		if prof != nil {
			prof()
		}
	}()
	sub, base, err := paired(ctx, func(d time.Duration) (result, error) {
		if profile != "" && prof == nil {
			var err error
			if prof, err = startProfile(profile); err != nil {
				return result{}, err
			}
		}
		return timed(d, func() error { return do(ctx, c, in.base, r, 0, http.StatusOK) })
	}, func(d time.Duration) (result, error) {
		return timed(d, func() error { _, err := raw(); return err })
	}, o.duration, o.rounds)
	if err != nil {
		return searchFigures{}, err
	}
	f := searchFigures{sub.quantile(0.5), sub.quantile(0.95), base.quantile(0.5), base.quantile(0.95)}
	t.add(fmt.Sprintf("3-condition search, limit %d (%d found), over HTTP, %s, %s", searchLimit, rawN, n, in.backend),
		fmt.Sprintf("p50 %s, p95 %s", ms(f.p50), ms(f.p95)),
		fmt.Sprintf("raw SQL p50 %s, p95 %s", ms(f.rawP50), ms(f.rawP95)),
		fmt.Sprintf("p95 %.1fx raw", float64(f.p95)/float64(f.rawP95)), "p95 ≤ 5 ms")
	return f, nil
}

// heapRow: the live heap of this process (server, store and load
// generator) after the large load and the rows run on it, per 10k systems
// the store holds; beside it, the heap that 1000 systems read through the
// store (every attribute) take while held, scaled to 10k, and what one
// HTTP page of 1000 (allAttributes) allocates in all.
func (in *instance) heapRow(ctx context.Context, t *table, o options, backend string) error {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	live := float64(m.HeapAlloc)
	list, err := in.store.ListSystems(ctx, "dev", systems.ListFilter{Limit: 1000})
	if err != nil {
		return err
	}
	runtime.GC()
	var held runtime.MemStats
	runtime.ReadMemStats(&held)
	heldBytes := float64(held.HeapAlloc) - live
	runtime.KeepAlive(list)
	path := "/v3/systems?limit=1000&select=allAttributes"
	before := held.TotalAlloc
	if status, _, body, err := fetch(ctx, in.base, request{method: http.MethodGet, path: path, headers: in.auth()}); err != nil || status != http.StatusOK {
		return fmt.Errorf("GET %s: %d %v %.200s", path, status, err, body)
	}
	runtime.ReadMemStats(&m)
	page := float64(m.TotalAlloc - before)
	per := float64(o.large) / 10000
	t.add(fmt.Sprintf("heap per 10k systems after the %s load, %s", label(o.large), backend),
		fmt.Sprintf("%.2f MiB live (%.1f MiB in all)", live/per/(1<<20), live/(1<<20)),
		fmt.Sprintf("%d systems held: %.1f MiB (x10: %.1f MiB); an HTTP page of 1000 allocates %.1f MiB", len(list),
			heldBytes/(1<<20), 10*heldBytes/(1<<20), page/(1<<20)), "", "≤ 20 MiB")
	return nil
}
