package systemstest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/search"
	"github.com/tapis-go/tapis/systems"
)

// RunRandomSearchTests is a differential property over a store: it stores
// random systems in tenant dev (and decoys in tenant other, some with the
// same ids and attributes), then builds rounds random filters — search trees
// of And, Or and Cond nodes with every operator each attribute type of
// systems.SearchSchema allows, values drawn partly from the rows so that
// conditions match, LIKE patterns with wildcards and with the wildcard and
// escape characters as data, 0 to 2 sort keys, limit, skip, startAfter-like
// conditions and the other ListFilter fields — and requires that
// ListSystems and CountSystems give exactly what search.Eval,
// search.CompareRows and systems.ByID() give over the same rows in memory.
//
// search.Eval is an independent oracle for the SQL stores only: a store
// that filters with search.Eval itself (the memory store) runs
// RunRandomSearchTestsAgainst with an SQL store as its oracle instead.
//
// The same seed gives the same rows and filters, so a failure is reproduced
// by running the seed it prints again. newStore must return a fresh, empty
// store.
func RunRandomSearchTests(t *testing.T, newStore func(t *testing.T) systems.Store, seed int64, rounds int) {
	t.Helper()
	g := newRandGen(seed)
	st := newStore(t)
	rows := g.load(t, seed, st)
	runRandom(t, g, st, seed, rounds, "search.Eval", func(_ context.Context, f systems.ListFilter) ([]string, int, error) {
		all := f
		all.Limit, all.Skip = 0, 0
		return idsOf(expectRows(rows, f)), len(expectRows(rows, all)), nil
	})
}

// RunRandomSearchTestsAgainst is RunRandomSearchTests with another store
// as the oracle: both get the same rows, and every random filter must give
// the same ids, in the same order, and the same count on both.
func RunRandomSearchTestsAgainst(t *testing.T, newStore, newOracle func(t *testing.T) systems.Store, seed int64, rounds int) {
	t.Helper()
	g := newRandGen(seed)
	st, oracle := newStore(t), newOracle(t)
	g.load(t, seed, st, oracle)
	runRandom(t, g, st, seed, rounds, "the oracle store", func(ctx context.Context, f systems.ListFilter) ([]string, int, error) {
		list, err := oracle.ListSystems(ctx, "dev", f)
		if err != nil {
			return nil, 0, err
		}
		n, err := oracle.CountSystems(ctx, "dev", f)
		return idsOf(list), n, err
	})
}

// oracleFunc answers a filter as ListSystems (ids) and CountSystems would.
type oracleFunc func(ctx context.Context, f systems.ListFilter) (ids []string, count int, err error)

// load makes the random rows of tenant dev and the decoys of tenant other
// and stores them in every store; it returns (and keeps in g) dev's rows.
func (g *randGen) load(t *testing.T, seed int64, stores ...systems.Store) []systems.System {
	t.Helper()
	ctx := context.Background()
	rows := g.systems("dev", "", 120)
	all := slices.Clone(rows)
	// Decoys: dev's systems copied into another tenant (same ids, same
	// attributes, so a filter that leaks across tenants shows twice), and
	// systems of their own.
	for _, s := range rows[:30] {
		d := s.Clone()
		d.Tenant = "other"
		all = append(all, d)
	}
	all = append(all, g.systems("other", "decoy-", 20)...)
	for _, st := range stores {
		for _, s := range all {
			require.NoError(t, st.CreateSystem(ctx, s, History(s.Tenant, s.ID, systems.OpCreate, `{}`)), "seed %d", seed)
		}
	}
	g.rows = rows
	return rows
}

// runRandom compares st with the oracle on rounds random filters.
func runRandom(t *testing.T, g *randGen, st systems.Store, seed int64, rounds int, oracleName string, oracle oracleFunc) {
	t.Helper()
	ctx := context.Background()
	rows := g.rows
	failures, nonEmpty, returned := 0, 0, 0
	for round := range rounds {
		f := g.filter(rows)
		got, err := st.ListSystems(ctx, "dev", f)
		require.NoError(t, err, "seed %d round %d: %s", seed, round, describeFilter(f))
		// CountSystems ignores Limit and Skip: it gets them anyway.
		n, err := st.CountSystems(ctx, "dev", f)
		require.NoError(t, err, "seed %d round %d: %s", seed, round, describeFilter(f))
		wantIDs, wantCount, err := oracle(ctx, f)
		require.NoError(t, err, "seed %d round %d: %s: %s", seed, round, oracleName, describeFilter(f))

		gotIDs := idsOf(got)
		if !slices.Equal(gotIDs, wantIDs) || n != wantCount {
			failures++
			t.Errorf("seed %d round %d: the store and %s disagree\n%s\nstore:  %d rows %v\noracle: %d rows %v\ncount: store %d, oracle %d%s",
				seed, round, oracleName, describeFilter(f), len(gotIDs), gotIDs, len(wantIDs), wantIDs, n, wantCount,
				diagnoseLeaves(ctx, st, rows, f.Search, oracle))
			if failures >= 3 {
				t.Fatalf("seed %d: stopping after %d disagreements", seed, failures)
			}
		}
		if len(wantIDs) > 0 {
			nonEmpty++
		}
		returned += len(wantIDs)
	}
	t.Logf("seed %d: %d random filters over %d systems, checked against %s; %d returned rows (%d rows in all), %d returned none",
		seed, rounds, len(rows), oracleName, nonEmpty, returned, rounds-nonEmpty)
}

// describeFilter shows a filter in full: the search tree (with the SQL the
// bun store would send on each dialect) and the other fields.
func describeFilter(f systems.ListFilter) string {
	var b strings.Builder
	fmt.Fprintf(&b, "search: %v\n", f.Search)
	if f.Search != nil {
		for _, d := range []struct {
			name string
			d    search.Dialect
		}{{"SQLite", search.SQLite}, {"PostgreSQL", search.Postgres}} {
			where, args := search.ToSQL(f.Search, d.d)
			fmt.Fprintf(&b, "  %s: %s %#v\n", d.name, where, args)
		}
	}
	fmt.Fprintf(&b, "order: %v limit: %d skip: %d includeDeleted: %t", f.Order, f.Limit, f.Skip, f.IncludeDeleted)
	if f.Owner != "" {
		fmt.Fprintf(&b, " owner: %q", f.Owner)
	}
	if f.ParentID != "" {
		fmt.Fprintf(&b, " parentId: %q", f.ParentID)
	}
	if f.IDs != nil {
		fmt.Fprintf(&b, " ids: %q", f.IDs)
	}
	if f.Visible != nil {
		fmt.Fprintf(&b, " visible: owner %q or ids %q", f.Visible.Owner, f.Visible.IDs)
	}
	return b.String()
}

// diagnoseLeaves runs each condition of a failing tree on its own (deleted
// systems included, no order or paging) and lists those on which the store
// and the oracle disagree: usually the culprit.
func diagnoseLeaves(ctx context.Context, st systems.Store, rows []systems.System, n search.Node, oracle oracleFunc) string {
	var leaves []search.Cond
	var walk func(search.Node)
	walk = func(n search.Node) {
		switch n := n.(type) {
		case search.And:
			for _, c := range n {
				walk(c)
			}
		case search.Or:
			for _, c := range n {
				walk(c)
			}
		case search.Cond:
			leaves = append(leaves, n)
		}
	}
	walk(n)
	var b strings.Builder
	for _, c := range leaves {
		f := systems.ListFilter{Search: c, IncludeDeleted: true}
		got, err := st.ListSystems(ctx, "dev", f)
		if err != nil {
			fmt.Fprintf(&b, "\n  leaf %v alone: error %v", c, err)
			continue
		}
		want, _, err := oracle(ctx, f)
		if err != nil {
			fmt.Fprintf(&b, "\n  leaf %v alone: the oracle's error %v", c, err)
			continue
		}
		if g := idsOf(got); !slices.Equal(g, want) {
			fmt.Fprintf(&b, "\n  leaf %v alone disagrees:\n    store only:  %v\n    oracle only: %v", c, minus(g, want), minus(want, g))
			for _, id := range append(minus(g, want), minus(want, g)...) {
				i := slices.IndexFunc(rows, func(s systems.System) bool { return s.ID == id })
				if i >= 0 && c.Attr != nil {
					fmt.Fprintf(&b, "\n    %s.%s = %#v", id, c.Attr.Name, systems.Row(rows[i]).Field(c.Attr.Name))
				}
			}
		}
	}
	if b.Len() == 0 {
		return "\n(each condition alone agrees: the combination, the order or the paging differs)"
	}
	return b.String()
}

// minus returns the elements of a that are not in b.
func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// Pools of values: the wildcard and escape characters of both syntaxes
// (% _ * ! \), quotes, commas, parentheses and ~ (the separators of the
// query syntax), case variants, multi-byte characters (one, and two runes
// for é) and a character outside the BMP.
var (
	randOwners = []string{"alice", "bob", "carol", "Carol", "d_ave", "e%ve"}
	randHosts  = []string{"node1.example.org", "node12.example.org", "Node1.example.org", "node_1.example.org",
		"node%1.example.org", "nodeX1.example.org", "s3.amazonaws.com", "login*.hpc.edu", "login!.hpc.edu",
		"é.example", "h", "[v]", "v", "q?", "qq", "login?.hpc.edu"}
	randWords = []string{"GPU", "gpu", "Gpu", "50%", "100%%", "a_b", "a__b", "*star*", "bang!", "!", `back\slash`,
		`\\`, `\%`, `\_`, "it's", "'", "a,b", ",", "(paren)", "(", ")", "~tilde", "~", "é", "É", "[x]", "q?",
		"data mover", "Data Mover", "node1", "x", "q!", "qq", "a%", "a%%", "😀", "e\u0301"}
	// randTricky are pattern bases that differ from values of the rows only
	// in a character that is a wildcard in some syntax.
	randTricky = []string{"login*.hpc.edu", "login?.hpc.edu", "login!.hpc.edu", "[v]", "q?", "q!", "[x]",
		"*star*", "50%", "a%", "a_b", `back\slash`, "node_1.example.org", "node%1.example.org", "e%ve", "d_ave"}
	randTags = []string{"gpu", "GPU", "ml", "a b", "x,y", "50%", "é", "it's", `\`, "*", "(t)", "😀"}
	randStrs = []string{"", "", "", "x", "X", "/home/${apiUserId}", "${apiUserId}", "a%b", "a_b", "a*b", "a!b",
		`a\b`, "it's", "(x)", "~", "mpirun -n 4", "é", "Z", "zz", " lead", "trail "}
	randInts    = []int64{-2147483648, -1000, -5, -1, 0, 1, 22, 999, 1000, 1001, 2222, 65535, 2147483647}
	randIntArgs = []int64{math.MinInt64, -(1 << 40), 1 << 40, math.MaxInt64}
	randFracs   = []int{0, 0, 100000, 120000, 123000, 123456, 500000, 999999, 1, 10}
	// randFocus are the attributes most conditions are about (the others
	// are mostly empty strings, false and -1).
	randFocus = []string{"id", "owner", "host", "description", "port", "tags", "systemType", "enabled",
		"deleted", "created", "updated", "canExec", "batchScheduler", "jobMaxJobs", "parentId", "effectiveUserId"}
)

type randGen struct {
	r        *rand.Rand
	rows     []systems.System // tenant dev's, once loaded
	times    []time.Time
	attrs    []*search.Attr
	focus    []*search.Attr
	sortable []*search.Attr
}

func newRandGen(seed int64) *randGen {
	g := &randGen{r: rand.New(rand.NewPCG(uint64(seed), 0x5ea2c4))}
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for range 16 {
		sec := time.Duration(g.r.IntN(10*86400)) * time.Second
		g.times = append(g.times, base.Add(sec+time.Duration(pick(g.r, randFracs))*time.Microsecond))
	}
	g.times = append(g.times,
		time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	g.attrs = systems.SearchSchema.Attrs()
	for _, a := range g.attrs {
		if slices.Contains(randFocus, a.Name) {
			g.focus = append(g.focus, a)
		}
		if a.Type != search.Tags {
			g.sortable = append(g.sortable, a)
		}
	}
	return g
}

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

func (g *randGen) chance(n int) bool { return g.r.IntN(n) == 0 }

// str is a random string for an attribute without a pool of its own.
func (g *randGen) str() string {
	if g.chance(3) {
		return pick(g.r, randWords)
	}
	return pick(g.r, randStrs)
}

func (g *randGen) int() int {
	if g.chance(3) {
		return g.r.IntN(140001) - 70000
	}
	return int(pick(g.r, randInts))
}

// time is an instant of the pool, often shifted by a microsecond, in UTC or
// another zone (stores keep the instant in UTC).
func (g *randGen) time() time.Time {
	t := pick(g.r, g.times)
	switch g.r.IntN(6) {
	case 0:
		t = t.Add(time.Microsecond)
	case 1:
		t = t.Add(-time.Microsecond)
	}
	if g.chance(4) {
		t = t.In(time.FixedZone("", -5*3600-30*60))
	}
	return t
}

// systems returns count random systems of tenant; ids are prefix (random
// case and separators when empty) and a number, so that byte order is not
// numeric order.
func (g *randGen) systems(tenant, prefix string, count int) []systems.System {
	out := make([]systems.System, 0, count)
	for i := range count {
		p := prefix
		if p == "" {
			p = pick(g.r, []string{"sys-", "Sys-", "sys_", "SYS.", "sys~", "s"})
		}
		s := Bare(tenant, fmt.Sprintf("%s%d", p, i))
		s.Owner = pick(g.r, randOwners)
		s.SystemType = pick(g.r, systems.SystemTypes())
		s.Host = pick(g.r, randHosts)
		var words []string
		for range g.r.IntN(4) {
			words = append(words, pick(g.r, randWords))
		}
		s.Description = strings.Join(words, pick(g.r, []string{" ", "", "-"}))
		s.Enabled = g.chance(2)
		s.EffectiveUserID = pick(g.r, []string{"${apiUserId}", "alice", "Alice", "svc_1", ""})
		s.DefaultAuthnMethod = pick(g.r, systems.AuthnMethods())
		s.BucketName, s.RootDir, s.ProxyHost, s.DTNSystemID = g.str(), g.str(), g.str(), g.str()
		s.MPICmd, s.JobWorkingDir, s.BatchDefaultLogicalQueue = g.str(), g.str(), g.str()
		s.BatchSchedulerProfile, s.ImportRefID, s.UUID = g.str(), g.str(), g.str()
		s.Port, s.ProxyPort, s.JobMaxJobs, s.JobMaxJobsPerUser = g.int(), g.int(), g.int(), g.int()
		s.UseProxy, s.CanExec, s.CanRunBatch = g.chance(2), g.chance(2), g.chance(2)
		s.EnableCmdPrefix, s.AllowChildren = g.chance(2), g.chance(2)
		s.Deleted = g.chance(5)
		if !g.chance(4) {
			s.BatchScheduler = pick(g.r, systems.Schedulers())
		}
		if g.chance(4) && i > 0 {
			s.ParentID = out[g.r.IntN(len(out))].ID
		}
		switch g.r.IntN(4) {
		case 0: // nil
		case 1:
			s.Tags = []string{}
		default:
			for _, tag := range randTags {
				if g.chance(3) {
					s.Tags = append(s.Tags, tag)
				}
			}
		}
		s.Created = g.time()
		switch g.r.IntN(3) {
		case 0:
			s.Updated = s.Created
		case 1:
			s.Updated = s.Created.Add(time.Duration(pick(g.r, []int64{1, 1000, 1000000, 3600000000})) * time.Microsecond)
		default:
			s.Updated = g.time()
		}
		out = append(out, s)
	}
	return out
}

// filter is a random ListFilter over rows. Four in ten are one condition
// alone over every row (no paging, deleted systems included): the most
// sensitive test of each operator's translation; two of them are LIKE
// probes. The others are trees up
// to three levels deep with random order, paging, startAfter and the other
// fields of ListFilter.
func (g *randGen) filter(rows []systems.System) systems.ListFilter {
	var f systems.ListFilter
	kind := g.r.IntN(10)
	if kind < 4 {
		f.Search = g.cond(rows)
		if kind < 2 {
			f.Search = g.likeProbe(rows)
		}
		f.IncludeDeleted = true
		if g.chance(2) {
			f.Order = []search.Order{{Attr: pick(g.r, g.sortable), Desc: g.chance(2)}}
		}
		return f
	}
	switch {
	case g.chance(10):
	case kind < 8:
		f.Search = g.node(rows, 1+g.r.IntN(2))
	default:
		f.Search = g.node(rows, 3)
	}
	for range g.r.IntN(3) {
		f.Order = append(f.Order, search.Order{Attr: pick(g.r, g.sortable), Desc: g.chance(2)})
	}
	if g.chance(2) {
		f.Limit = pick(g.r, []int{1, 3, 10, 50})
	}
	if g.chance(3) {
		f.Skip = pick(g.r, []int{1, 2, 5, 20})
	}
	if len(f.Order) > 0 && g.chance(4) {
		// What startAfter becomes (search.ParsePage): the first key beyond
		// a value, ANDed with the search.
		first := f.Order[0]
		op := search.Gt
		if first.Desc {
			op = search.Lt
		}
		f.Search = search.AndOf(f.Search, search.Cond{Attr: first.Attr, Op: op,
			Values: []any{g.value(first.Attr, systems.Row(pick(g.r, rows)))}})
		f.Skip = 0
	}
	f.IncludeDeleted = g.chance(2)
	switch g.r.IntN(20) {
	case 0:
		f.Owner = pick(g.r, randOwners)
	case 1:
		f.ParentID = pick(g.r, rows).ID
	case 2:
		f.IDs = []string{}
		for range g.r.IntN(6) {
			f.IDs = append(f.IDs, pick(g.r, rows).ID)
		}
		if g.chance(2) {
			f.IDs = append(f.IDs, "missing")
		}
	case 3, 4:
		f.Visible = &systems.Visibility{Owner: pick(g.r, randOwners)}
		for range g.r.IntN(5) {
			f.Visible.IDs = append(f.Visible.IDs, pick(g.r, rows).ID)
		}
	}
	return f
}

// node is a random tree at most depth levels deep.
func (g *randGen) node(rows []systems.System, depth int) search.Node {
	if depth == 0 || g.chance(3) {
		return g.cond(rows)
	}
	children := make([]search.Node, 2+g.r.IntN(2))
	for i := range children {
		children[i] = g.node(rows, depth-1)
	}
	if g.chance(2) {
		return search.And(children)
	}
	return search.Or(children)
}

// typeOps are the operators each attribute type allows (search.Type).
var typeOps = map[search.Type][]search.Op{
	search.String:    {search.Eq, search.Neq, search.Lt, search.Lte, search.Gt, search.Gte, search.Like, search.Nlike, search.Between, search.Nbetween, search.In, search.Nin},
	search.Enum:      {search.Eq, search.Neq, search.Lt, search.Lte, search.Gt, search.Gte, search.Like, search.Nlike, search.Between, search.Nbetween, search.In, search.Nin},
	search.Int:       {search.Eq, search.Neq, search.Lt, search.Lte, search.Gt, search.Gte, search.Between, search.Nbetween, search.In, search.Nin},
	search.Bool:      {search.Eq, search.Neq},
	search.Timestamp: {search.Eq, search.Neq, search.Lt, search.Lte, search.Gt, search.Gte, search.Between, search.Nbetween},
	search.Tags:      {search.Contains, search.Ncontains, search.In, search.Nin},
}

// cond is a random condition as a parser would build it: a valid operator
// for the attribute's type and values of the type's Go type.
func (g *randGen) cond(rows []systems.System) search.Cond {
	a := pick(g.r, g.attrs)
	if !g.chance(3) {
		a = pick(g.r, g.focus)
	}
	op := pick(g.r, typeOps[a.Type])
	if (a.Type == search.String || a.Type == search.Enum) && g.chance(3) {
		op = pick(g.r, []search.Op{search.Like, search.Nlike})
	}
	row := func() search.Row { return systems.Row(pick(g.r, rows)) }
	c := search.Cond{Attr: a, Op: op}
	switch op {
	case search.Like, search.Nlike:
		c.Values = []any{g.pattern(a, row(), false)}
	case search.Between, search.Nbetween:
		lo, hi := g.value(a, row()), g.value(a, row())
		c.Values = []any{lo, hi}
	case search.In, search.Nin, search.Contains, search.Ncontains:
		for range 1 + g.r.IntN(4) {
			c.Values = append(c.Values, g.value(a, row()))
		}
	default:
		c.Values = []any{g.value(a, row())}
	}
	return c
}

// value is a value of a's type, half the time taken from row (or next to
// it), never blank (the parsers refuse blank values).
func (g *randGen) value(a *search.Attr, row search.Row) any {
	fromRow := g.chance(2)
	switch a.Type {
	case search.String:
		if v, ok := row.Field(a.Name).(string); ok && fromRow && strings.TrimSpace(v) != "" {
			return v
		}
		for {
			v := pick(g.r, [][]string{randOwners, randHosts, randWords, randStrs, randTags})
			s := pick(g.r, v)
			if g.chance(4) {
				s = flipCase(g.r, s)
			}
			if strings.TrimSpace(s) != "" {
				return s
			}
		}
	case search.Enum:
		if v, ok := row.Field(a.Name).(string); ok && fromRow && slices.Contains(a.Enum, v) {
			return v
		}
		return pick(g.r, a.Enum)
	case search.Int:
		if v, ok := row.Field(a.Name).(int64); ok && fromRow {
			return v + pick(g.r, []int64{-1, 0, 0, 1})
		}
		if g.chance(5) {
			return pick(g.r, randIntArgs)
		}
		return int64(g.int())
	case search.Bool:
		return g.chance(2)
	case search.Timestamp:
		t := g.time()
		if v, ok := row.Field(a.Name).(time.Time); ok && fromRow {
			t = v.Add(time.Duration(pick(g.r, []int64{-1, 0, 0, 0, 1, 1000000})) * time.Microsecond)
		}
		return t.UTC().Truncate(time.Microsecond)
	case search.Tags:
		if v, ok := row.Field(a.Name).([]string); ok && fromRow && len(v) > 0 {
			return pick(g.r, v)
		}
		return pick(g.r, append([]string{"GpU", "none"}, randTags...))
	}
	panic(fmt.Sprintf("systemstest: attribute %s has type %v", a.Name, a.Type))
}

// pattern is a LIKE pattern that often matches a's value in row, or nearly:
// characters become wildcards, letters change case, the wildcard and escape
// characters of the data mostly stay literal. Unless keepBase, the base is
// sometimes another value of the pools.
func (g *randGen) pattern(a *search.Attr, row search.Row, keepBase bool) search.Pattern {
	for {
		base, _ := row.Field(a.Name).(string)
		switch {
		case keepBase && base != "":
		case g.chance(3):
			base = pick(g.r, randTricky)
		case base == "" || g.chance(4):
			base = pick(g.r, pick(g.r, [][]string{randWords, randHosts, randOwners}))
		}
		var p search.Pattern
		lit := func(s string) {
			if n := len(p); n > 0 && p[n-1].Wild == 0 {
				p[n-1].Lit += s
				return
			}
			p = append(p, search.Segment{Lit: s})
		}
		wild := func(w byte) {
			if n := len(p); w == '%' && n > 0 && p[n-1].Wild == '%' {
				return
			}
			p = append(p, search.Segment{Wild: w})
		}
		if g.chance(3) {
			wild('%')
		}
		exact := g.chance(3) // the value itself, all literal
		for _, c := range base {
			n := g.r.IntN(40)
			if exact {
				n = 39
			}
			if strings.ContainsRune(`%_*!?[\`, c) && n < 30 {
				lit(string(c)) // a wildcard of some syntax, as data
				continue
			}
			switch {
			case n < 4:
				wild('_')
			case n < 7:
				wild('%')
			case n < 8: // dropped: the pattern nearly matches
			case n < 12 && c < unicode.MaxASCII && unicode.IsLetter(c):
				lit(flipCase(g.r, string(c)))
			default:
				lit(string(c))
			}
		}
		if g.chance(3) {
			wild('%')
		}
		blank := true
		for _, s := range p {
			if s.Wild != 0 || strings.TrimSpace(s.Lit) != "" {
				blank = false
			}
		}
		if !blank {
			return p
		}
	}
}

// likeProbe is a LIKE or NOT LIKE on a text attribute whose pattern is
// mostly a stored value with a wildcard character of some syntax in it
// (% _ * ! ? [ \) taken as data: the rows hold values that differ from it
// only in that character, so a pattern that lets the character act as a
// wildcard is caught.
func (g *randGen) likeProbe(rows []systems.System) search.Cond {
	var text []*search.Attr
	for _, a := range g.attrs {
		if a.Type == search.String {
			text = append(text, a)
		}
	}
	a := pick(g.r, text)
	var tricky []systems.System
	for _, s := range rows {
		if v, _ := systems.Row(s).Field(a.Name).(string); strings.ContainsAny(v, `%_*!?[\`) {
			tricky = append(tricky, s)
		}
	}
	row := pick(g.r, rows)
	if len(tricky) > 0 && !g.chance(4) {
		row = pick(g.r, tricky)
	}
	op := search.Like
	if g.chance(3) {
		op = search.Nlike
	}
	return search.Cond{Attr: a, Op: op, Values: []any{g.pattern(a, systems.Row(row), true)}}
}

// flipCase swaps the case of some ASCII letters of s.
func flipCase(r *rand.Rand, s string) string {
	out := []rune(s)
	for i, c := range out {
		if c < unicode.MaxASCII && r.IntN(2) == 0 {
			if unicode.IsUpper(c) {
				out[i] = unicode.ToLower(c)
			} else {
				out[i] = unicode.ToUpper(c)
			}
		}
	}
	return string(out)
}
