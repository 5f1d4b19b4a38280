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

// RunSearchTests stores the same rows in a fresh store and checks that
// ListSystems and CountSystems give, for every query of the three search
// syntaxes, orderBy, paging and visibility, exactly the rows and order that
// search.Eval and search.CompareRows give over those rows in memory.
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
	lim := search.DefaultLimits
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
	cases := []struct {
		name string
		f    systems.ListFilter
	}{
		{"everything", systems.ListFilter{}},
		{"deleted too", systems.ListFilter{IncludeDeleted: true}},
		{"eq", systems.ListFilter{Search: q("(owner.eq.alice)")}},
		{"neq and", systems.ListFilter{Search: q("(owner.neq.alice)~(port.gt.100)")}},
		{"int range", systems.ListFilter{Search: q("port.between.20,1000")}},
		{"negative int", systems.ListFilter{Search: sql("jobMaxJobs < -1")}},
		{"in", systems.ListFilter{Search: q("(systemType.in.S3,IRODS)")}},
		{"nin", systems.ListFilter{Search: q("(host.nin.h1.example.org,h2.example.org)")}},
		{"like wildcard", systems.ListFilter{Search: q("(id.like.sys1*)")}},
		{"like single char", systems.ListFilter{Search: q("(id.like.sys!)")}},
		{"nlike", systems.ListFilter{Search: q("(host.nlike.*.example.org)")}},
		{"like is case-sensitive", systems.ListFilter{Search: q("(description.like.*GPU*)")}},
		{"bool", systems.ListFilter{Search: q("(canExec.eq.true)~(enabled.eq.false)")}},
		{"tags contains", systems.ListFilter{Search: q("(tags.contains.gpu)")}},
		{"tags ncontains", systems.ListFilter{Search: q("(tags.ncontains.gpu)")}},
		{"timestamp", systems.ListFilter{Search: q("(created.gt.2024-03-05T00:00:00Z)")}},
		{"timestamp between", systems.ListFilter{Search: q("(updated.between.2024-03-02,2024-03-09)")}},
		{"neq string", systems.ListFilter{Search: q("(description.neq.plain)")}},
		{"query params", systems.ListFilter{Search: p(url.Values{"port.lt": {"500"}, "owner.in": {"alice,bob"}})}},
		{"sql and/or", systems.ListFilter{Search: sql("(owner = 'alice' OR owner = 'carol')", "AND port >= 22")}},
		{"sql like", systems.ListFilter{Search: sql("host LIKE 'h%.example.org'", "AND id <> 'sys3'")}},
		{"sql not between", systems.ListFilter{Search: sql("port NOT BETWEEN '20' AND '500'")}},
		{"sql in", systems.ListFilter{Search: sql("system_type IN ('LINUX', 'IRODS')", "OR port = '9000'")}},
		{"order desc", systems.ListFilter{Order: order("port(desc)")}},
		{"order two keys", systems.ListFilter{Order: order("owner,created(desc)")}},
		{"order bool and ts", systems.ListFilter{Order: order("canExec(desc),updated")}},
		{"page", systems.ListFilter{Order: order("host"), Limit: 4, Skip: 3}},
		{"skip without limit", systems.ListFilter{Skip: 5}},
		{"visible", systems.ListFilter{Visible: &systems.Visibility{Owner: "bob", IDs: []string{"sys1", "sys12", "missing"}}}},
		{"visible ids only", systems.ListFilter{Visible: &systems.Visibility{IDs: []string{"sys2", "sys3"}}}},
		{"visible nothing", systems.ListFilter{Visible: &systems.Visibility{Owner: "nobody"}}},
		{"visible and search", systems.ListFilter{Visible: &systems.Visibility{Owner: "alice", IDs: []string{"sys5"}},
			Search: q("(port.gt.21)"), Order: order("port")}},
		{"owner and parent", systems.ListFilter{Owner: "alice", ParentID: "sys1"}},
		{"startAfter", func() systems.ListFilter {
			o := order("port")
			pg, err := search.ParsePage("3", "", "100", o, 0)
			require.NoError(t, err)
			return systems.ListFilter{Search: search.AndOf(q("(owner.neq.nobody)"), pg.After), Order: o, Limit: pg.Limit}
		}()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := st.ListSystems(ctx, "dev", c.f)
			require.NoError(t, err)
			want := expectRows(rows, c.f)
			assert.Equal(t, idsOf(want), idsOf(got), "store and search.Eval disagree")
			all := c.f
			all.Limit, all.Skip = 0, 0
			n, err := st.CountSystems(ctx, "dev", all)
			require.NoError(t, err)
			assert.Equal(t, len(expectRows(rows, all)), n, "count")
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
	orders := append(slices.Clone(f.Order), systems.ByID)
	slices.SortFunc(out, func(a, b systems.System) int { return search.CompareRows(systems.Row(a), systems.Row(b), orders) })
	out = out[min(f.Skip, len(out)):]
	if f.Limit > 0 && f.Limit < len(out) {
		out = out[:f.Limit]
	}
	return out
}

// searchRows are 16 systems of tenant dev with varied attributes.
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
