package systemstest

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/search"
	"github.com/tapis-go/tapis/systems"
)

// RunSearchTests stores the rows of searchRows (tabled there) in a fresh
// store and checks that ListSystems and CountSystems give, for queries of
// the three search syntaxes, orderBy, paging and visibility, the rows and
// order worked out by hand from that table. The answers are written out,
// not computed with search.Eval, because the memory store filters with
// search.Eval: an oracle built on it could not catch its mistakes. Each
// answer is also required of search.Eval and search.CompareRows over the
// rows in memory.
func RunSearchTests(t *testing.T, newStore func(t *testing.T) systems.Store) {
	ctx := context.Background()
	st := newStore(t)
	rows := searchRows()
	for _, s := range rows {
		require.NoError(t, st.CreateSystem(ctx, s, History(s.Tenant, s.ID, systems.OpCreate, `{}`)))
	}
	// Another tenant with the same ids: never part of a result.
	for _, s := range rows[:5] {
		o := s.Clone()
		o.Tenant, o.Owner = "other", "intruder"
		require.NoError(t, st.CreateSystem(ctx, o, History("other", o.ID, systems.OpCreate, `{}`)))
	}
	lim := search.DefaultLimits()
	q := func(s string) search.Node {
		n, err := search.ParseQuery(s, systems.SearchSchema, lim)
		require.NoError(t, err, s)
		return n
	}
	p := func(v url.Values) search.Node {
		n, err := search.ParseParams(v, systems.SearchSchema, nil, lim)
		require.NoError(t, err, v.Encode())
		return n
	}
	sql := func(parts ...string) search.Node {
		n, err := search.ParseSQL(parts, systems.SearchSchema, lim)
		require.NoError(t, err, parts)
		return n
	}
	order := func(s string) []search.Order {
		o, err := search.ParseOrderBy(s, systems.SearchSchema)
		require.NoError(t, err, s)
		return o
	}
	// ids lists the answer; its length is the count unless count is set
	// (paged cases).
	type ids = []string
	cases := []struct {
		name  string
		f     systems.ListFilter
		want  ids
		count int
	}{
		{name: "everything", f: systems.ListFilter{},
			want: ids{"sys0", "sys1", "sys10", "sys12", "sys13", "sys14", "sys15", "sys2", "sys3", "sys4", "sys5", "sys6", "sys7", "sys8", "sys9"}},
		{name: "deleted too", f: systems.ListFilter{IncludeDeleted: true},
			want: ids{"sys0", "sys1", "sys10", "sys11", "sys12", "sys13", "sys14", "sys15", "sys2", "sys3", "sys4", "sys5", "sys6", "sys7", "sys8", "sys9"}},
		{name: "eq", f: systems.ListFilter{Search: q("(owner.eq.alice)")},
			want: ids{"sys0", "sys12", "sys15", "sys3", "sys4", "sys7", "sys8"}},
		{name: "neq and", f: systems.ListFilter{Search: q("(owner.neq.alice)~(port.gt.100)")},
			want: ids{"sys1", "sys14", "sys6", "sys9"}},
		{name: "int range", f: systems.ListFilter{Search: q("port.between.20,1000")},
			want: ids{"sys0", "sys12", "sys13", "sys14", "sys4", "sys5", "sys6", "sys8"}},
		{name: "negative int", f: systems.ListFilter{Search: sql("jobMaxJobs < -1")},
			want: ids{"sys1", "sys10", "sys13", "sys4", "sys7"}},
		{name: "in", f: systems.ListFilter{Search: q("(systemType.in.S3,IRODS)")},
			want: ids{"sys1", "sys10", "sys13", "sys14", "sys2", "sys5", "sys6", "sys9"}},
		{name: "nin", f: systems.ListFilter{Search: q("(host.nin.h1.example.org,h2.example.org)")},
			want: ids{"sys0", "sys10", "sys13", "sys14", "sys15", "sys3", "sys4", "sys5", "sys7", "sys8", "sys9"}},
		{name: "like wildcard", f: systems.ListFilter{Search: q("(id.like.sys1*)")},
			want: ids{"sys1", "sys10", "sys12", "sys13", "sys14", "sys15"}},
		{name: "like single char", f: systems.ListFilter{Search: q("(id.like.sys!)")},
			want: ids{"sys0", "sys1", "sys2", "sys3", "sys4", "sys5", "sys6", "sys7", "sys8", "sys9"}},
		{name: "nlike", f: systems.ListFilter{Search: q("(host.nlike.*.example.org)")},
			want: ids{"sys0", "sys14", "sys7"}},
		{name: "like is case-sensitive", f: systems.ListFilter{Search: q("(description.like.*GPU*)")},
			want: ids{"sys1", "sys6"}},
		{name: "bool", f: systems.ListFilter{Search: q("(canExec.eq.true)~(enabled.eq.false)")},
			want: ids{"sys9"}},
		{name: "tags contains", f: systems.ListFilter{Search: q("(tags.contains.gpu)")},
			want: ids{"sys0", "sys10", "sys13", "sys15", "sys3", "sys5", "sys8"}},
		{name: "tags ncontains", f: systems.ListFilter{Search: q("(tags.ncontains.gpu)")},
			want: ids{"sys1", "sys12", "sys14", "sys2", "sys4", "sys6", "sys7", "sys9"}},
		{name: "timestamp", f: systems.ListFilter{Search: q("(created.gt.2024-03-05T00:00:00Z)")},
			want: ids{"sys14", "sys15", "sys4", "sys5", "sys6", "sys7", "sys8", "sys9"}},
		{name: "timestamp between", f: systems.ListFilter{Search: q("(updated.between.2024-03-02,2024-03-09)")},
			want: ids{"sys1", "sys12", "sys13", "sys14", "sys15", "sys2", "sys3", "sys4", "sys5", "sys6", "sys7"}},
		{name: "neq string", f: systems.ListFilter{Search: q("(description.neq.plain)")},
			want: ids{"sys0", "sys1", "sys10", "sys12", "sys14", "sys15", "sys2", "sys4", "sys5", "sys6", "sys7", "sys9"}},
		{name: "query params", f: systems.ListFilter{Search: p(url.Values{"port.lt": {"500"}, "owner.in": {"alice,bob"}})},
			want: ids{"sys0", "sys12", "sys13", "sys4", "sys5", "sys8"}},
		{name: "sql and/or", f: systems.ListFilter{Search: sql("(owner = 'alice' OR owner = 'carol')", "AND port >= 22")},
			want: ids{"sys0", "sys12", "sys14", "sys15", "sys3", "sys4", "sys6", "sys7", "sys8"}},
		{name: "sql like", f: systems.ListFilter{Search: sql("host LIKE 'h%.example.org'", "AND id <> 'sys3'")},
			want: ids{"sys1", "sys10", "sys12", "sys13", "sys15", "sys2", "sys4", "sys5", "sys6", "sys8", "sys9"}},
		{name: "sql not between", f: systems.ListFilter{Search: sql("port NOT BETWEEN '20' AND '500'")},
			want: ids{"sys1", "sys10", "sys15", "sys2", "sys3", "sys7", "sys9"}},
		{name: "sql in", f: systems.ListFilter{Search: sql("system_type IN ('LINUX', 'IRODS')", "OR port = '9000'")},
			want: ids{"sys0", "sys10", "sys12", "sys14", "sys15", "sys2", "sys3", "sys4", "sys6", "sys7", "sys8"}},
		{name: "order desc", f: systems.ListFilter{Order: order("port(desc)")},
			want: ids{"sys15", "sys7", "sys1", "sys9", "sys3", "sys14", "sys6", "sys12", "sys4", "sys0", "sys13", "sys5", "sys8", "sys10", "sys2"}},
		{name: "order two keys", f: systems.ListFilter{Order: order("owner,created(desc)")},
			want: ids{"sys8", "sys7", "sys15", "sys4", "sys3", "sys12", "sys0", "sys9", "sys5", "sys13", "sys1", "sys6", "sys14", "sys2", "sys10"}},
		{name: "order bool and ts", f: systems.ListFilter{Order: order("canExec(desc),updated")},
			want: ids{"sys0", "sys12", "sys3", "sys15", "sys6", "sys9", "sys10", "sys1", "sys2", "sys13", "sys4", "sys14", "sys5", "sys7", "sys8"}},
		{name: "page", f: systems.ListFilter{Order: order("host"), Limit: 4, Skip: 3},
			want: ids{"sys1", "sys6", "sys12", "sys2"}, count: 15},
		{name: "skip without limit", f: systems.ListFilter{Skip: 5},
			want: ids{"sys14", "sys15", "sys2", "sys3", "sys4", "sys5", "sys6", "sys7", "sys8", "sys9"}, count: 15},
		{name: "visible", f: systems.ListFilter{Visible: &systems.Visibility{Owner: "bob", IDs: []string{"sys1", "sys12", "missing"}}},
			want: ids{"sys1", "sys12", "sys13", "sys5", "sys9"}},
		{name: "visible ids only", f: systems.ListFilter{Visible: &systems.Visibility{IDs: []string{"sys2", "sys3"}}},
			want: ids{"sys2", "sys3"}},
		{name: "visible nothing", f: systems.ListFilter{Visible: &systems.Visibility{Owner: "nobody"}},
			want: ids{}},
		{name: "visible and search", f: systems.ListFilter{Visible: &systems.Visibility{Owner: "alice", IDs: []string{"sys5"}},
			Search: q("(port.gt.21)"), Order: order("port")},
			want: ids{"sys0", "sys5", "sys8", "sys12", "sys4", "sys3", "sys15", "sys7"}},
		{name: "owner and parent", f: systems.ListFilter{Owner: "alice", ParentID: "sys1"},
			want: ids{"sys15"}},
		{name: "startAfter", f: func() systems.ListFilter {
			o := order("port")
			pg, err := search.ParsePage("3", "", "100", o, 0)
			require.NoError(t, err)
			return systems.ListFilter{Search: search.AndOf(q("(owner.neq.nobody)"), pg.After), Order: o, Limit: pg.Limit}
		}(), want: ids{"sys14", "sys6", "sys3"}, count: 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			count := c.count
			if count == 0 {
				count = len(c.want)
			}
			got, err := st.ListSystems(ctx, "dev", c.f)
			require.NoError(t, err)
			assert.Equal(t, c.want, idsOf(got), "the store's answer")
			n, err := st.CountSystems(ctx, "dev", c.f)
			require.NoError(t, err)
			assert.Equal(t, count, n, "the store's count (CountSystems ignores Limit and Skip)")
			all := c.f
			all.Limit, all.Skip = 0, 0
			assert.Equal(t, c.want, idsOf(expectRows(rows, c.f)), "search.Eval's answer")
			assert.Len(t, expectRows(rows, all), count, "search.Eval's count")
		})
	}
}

func idsOf(list []systems.System) []string {
	out := []string{}
	for _, s := range list {
		out = append(out, s.ID)
	}
	return out
}

// expectRows is ListSystems computed in memory with the search package.
func expectRows(rows []systems.System, f systems.ListFilter) []systems.System {
	var out []systems.System
	for _, s := range rows {
		switch {
		case s.Deleted && !f.IncludeDeleted,
			f.Owner != "" && s.Owner != f.Owner,
			f.ParentID != "" && s.ParentID != f.ParentID,
			f.IDs != nil && !slices.Contains(f.IDs, s.ID),
			f.Visible != nil && s.Owner != f.Visible.Owner && !slices.Contains(f.Visible.IDs, s.ID),
			f.Search != nil && !search.Eval(f.Search, systems.Row(s)):
			continue
		}
		out = append(out, s)
	}
	orders := append(slices.Clone(f.Order), systems.ByID())
	slices.SortFunc(out, func(a, b systems.System) int { return search.CompareRows(systems.Row(a), systems.Row(b), orders) })
	out = out[min(f.Skip, len(out)):]
	if f.Limit > 0 && f.Limit < len(out) {
		out = out[:f.Limit]
	}
	return out
}

// searchRows are 16 systems of tenant dev with varied attributes (the
// other fields are those of Bare); RunSearchTests' answers are worked out
// from this table:
//
//	id    owner type  port host              tags     description canExec enabled jobMaxJobs created (2024-03, 12:MM) updated        parent
//	sys0  alice LINUX   22 host0.other.net   gpu,ml   ""          true    true    -1  01 12:00  01 12:00
//	sys1  bob   S3    2222 h1.example.org    -        GPU nodes   false   false   -5  02 12:01  02 13:01
//	sys2  carol IRODS   -1 h2.example.org    ml       gpu nodes   false   true    10  03 12:02  03 14:02
//	sys3  alice LINUX 1247 h3.example.org    gpu      plain       true    true    -1  04 12:03  04 15:03
//	sys4  alice LINUX  100 h4.example.org    storage  Data mover  false   true    -5  05 12:04  05 16:04
//	sys5  bob   S3      22 h0.example.org    gpu,ml   ""          false   false   10  06 12:05  06 17:05
//	sys6  carol IRODS  500 h1.example.org    -        GPU nodes   true    true    -1  07 12:06  07 18:06
//	sys7  alice LINUX 9000 host7.other.net   ml       gpu nodes   false   true    -5  08 12:07  08 19:07
//	sys8  alice LINUX   22 h3.example.org    gpu      plain       false   true    10  09 12:08  09 20:08
//	sys9  bob   S3    2222 h4.example.org    storage  Data mover  true    false   -1  10 12:09  10 21:09
//	sys10 carol IRODS   -1 h0.example.org    gpu,ml   ""          false   true    -5  01 12:10  01 22:10
//	sys11 alice LINUX 1247 h1.example.org    -        GPU nodes   false   true    10  02 12:11  02 23:11  (deleted)
//	sys12 alice LINUX  100 h2.example.org    ml       gpu nodes   true    true    -1  03 12:12  04 00:12
//	sys13 bob   S3      22 h3.example.org    gpu      plain       false   false   -5  04 12:13  05 01:13
//	sys14 carol IRODS  500 host14.other.net  storage  Data mover  false   true    10  05 12:14  06 02:14  sys1
//	sys15 alice LINUX 9000 h0.example.org    gpu,ml   ""          true    true    -1  06 12:15  07 03:15  sys1
//
// Created times also carry i microseconds; ids sort in byte order (sys0,
// sys1, sys10, ..., sys15, sys2, ..., sys9).
func searchRows() []systems.System {
	owners := []string{"alice", "bob", "carol", "alice"}
	types := []systems.SystemType{systems.TypeLinux, systems.TypeS3, systems.TypeIRODS, systems.TypeLinux}
	ports := []int{22, 2222, -1, 1247, 100, 22, 500, 9000}
	tagSets := [][]string{{"gpu", "ml"}, {}, {"ml"}, {"gpu"}, {"storage"}}
	descs := []string{"", "GPU nodes", "gpu nodes", "plain", "Data mover"}
	var out []systems.System
	for i := range 16 {
		s := Bare("dev", fmt.Sprintf("sys%d", i))
		s.Owner = owners[i%len(owners)]
		s.SystemType = types[i%len(types)]
		s.Port = ports[i%len(ports)]
		s.Host = fmt.Sprintf("h%d.example.org", i%5)
		if i%7 == 0 {
			s.Host = fmt.Sprintf("host%d.other.net", i)
		}
		s.Tags = tagSets[i%len(tagSets)]
		s.Description = descs[i%len(descs)]
		s.CanExec = i%3 == 0
		s.Enabled = i%4 != 1
		s.Deleted = i == 11
		s.JobMaxJobs = []int{-1, -5, 10}[i%3]
		s.Created = time.Date(2024, 3, 1+i%10, 12, i, 0, i*1000, time.UTC)
		s.Updated = s.Created.Add(time.Duration(i) * time.Hour)
		if i == 14 || i == 15 {
			s.ParentID = "sys1"
		}
		out = append(out, s)
	}
	return out
}
