package bunstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/systems/systemstest"
	"github.com/tapis-go/tapis/tenancy"
)

// queryLog is a bun query hook recording every query a store runs.
type queryLog struct {
	mu      sync.Mutex
	queries []string
	args    [][]any
}

// lastArgs returns the arguments of the last query.
func (l *queryLog) lastArgs() []any {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.args) == 0 {
		return nil
	}
	return l.args[len(l.args)-1]
}

func (l *queryLog) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (l *queryLog) AfterQuery(_ context.Context, ev *bun.QueryEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queries = append(l.queries, ev.Query)
	l.args = append(l.args, ev.QueryArgs)
}

// during returns the queries run by fn.
func (l *queryLog) during(t *testing.T, fn func() error) []string {
	t.Helper()
	l.mu.Lock()
	start := len(l.queries)
	l.mu.Unlock()
	require.NoError(t, fn())
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.queries[start:]...)
}

func TestQueryCountSQLiteFile(t *testing.T) { runQueryCount(t, sqliteFile) }

// TestQueryCountPostgres skips unless TAPIS_TEST_POSTGRES_DSN is set.
func TestQueryCountPostgres(t *testing.T) { runQueryCount(t, postgres(t)) }

// runQueryCount: a page of systems costs the same number of queries
// whatever its size (the rows, one query for the login mappings of the
// page, one for its shares: no query per row), and a GET of one system
// reads only what the response shows. Every answer is checked too, so
// that a query saved at the expense of a wrong answer fails.
func runQueryCount(t *testing.T, open backend) {
	ctx := context.Background()
	st := open(t)
	log := &queryLog{}
	st.AddQueryHook(log)
	ten, err := tenancy.NewService(tenancy.Config{Store: st})
	require.NoError(t, err)
	svc, err := systems.NewService(systems.Config{Store: st, Access: st, Tenancy: ten})
	require.NoError(t, err)
	owner := tenancy.Principal{TenantID: "dev", Username: "testuser1", AccountType: tenancy.AccountUser,
		TokenTenantID: "dev", TokenUsername: "testuser1"}

	const n = 120
	for i := range n {
		s := systemstest.System("dev", fmt.Sprintf("sys-%03d", i)) // dynamic: effectiveUserId ${apiUserId}
		require.True(t, s.IsDynamic())
		require.NoError(t, st.CreateSystem(ctx, s, systems.HistoryRecord{Tenant: "dev", SystemID: s.ID, Operation: "create"}))
		if i%3 == 0 {
			require.NoError(t, st.SetLoginUser(ctx, "dev", s.ID, "testuser1", fmt.Sprintf("login%03d", i)))
		}
		if i%4 == 0 {
			require.NoError(t, st.AddShares(ctx, "dev", s.ID, "testuser1", []string{"testuser2", systems.PublicGrantee}))
		}
	}

	page := func(limit int) []string {
		return log.during(t, func() error {
			list, _, err := svc.List(ctx, owner, systems.ListQuery{ListType: systems.ListOwned, Limit: limit, WithShares: true})
			if err != nil {
				return err
			}
			require.Len(t, list, limit)
			for i, s := range list {
				want := "testuser1"
				if i%3 == 0 {
					want = fmt.Sprintf("login%03d", i)
				}
				assert.Equal(t, want, s.EffectiveUserID, s.ID)
				assert.Equal(t, i%4 == 0, s.IsPublic, s.ID)
				if i%4 == 0 {
					assert.Equal(t, []string{"testuser2"}, s.SharedWithUsers, s.ID)
				} else {
					assert.Empty(t, s.SharedWithUsers, s.ID)
				}
			}
			return nil
		})
	}
	small, large := page(10), page(100)
	assert.Len(t, small, 3, "rows, login mappings, shares: %q", small)
	assert.Len(t, large, len(small), "a page of 100 costs what a page of 10 does: %q", large)

	get := func(fields []string) []string {
		return log.during(t, func() error {
			s, err := svc.Get(ctx, owner, "sys-003", systems.GetOptions{Fields: fields})
			if err != nil {
				return err
			}
			assert.Equal(t, "sys-003", s.ID)
			if fields == nil {
				assert.Equal(t, "login003", s.EffectiveUserID)
				assert.False(t, s.IsPublic)
				assert.Empty(t, s.SharedWithUsers)
			}
			return nil
		})
	}
	assert.Len(t, get(nil), 3, "allAttributes: the row, its shares and the caller's login mapping")
	assert.Len(t, get([]string{"id", "host"}), 1, "select=host reads the row only")
	assert.Len(t, get([]string{"id", "effectiveUserId"}), 2, "effectiveUserId adds the login mapping, not the shares")
	assert.Len(t, get([]string{"id", "isPublic"}), 2, "isPublic adds the shares, not the login mapping")
}

var _ bun.QueryHook = (*queryLog)(nil)

func TestListFieldsSQLiteFile(t *testing.T) { runListFields(t, sqliteFile) }

// TestListFieldsPostgres skips unless TAPIS_TEST_POSTGRES_DSN is set.
func TestListFieldsPostgres(t *testing.T) { runListFields(t, postgres(t)) }

// runListFields: a listing that names its fields reads only their columns,
// and each named attribute comes back as the full listing has it (the
// always-read ones too); without fields everything is read.
func runListFields(t *testing.T, open backend) {
	ctx := context.Background()
	st := open(t)
	log := &queryLog{}
	st.AddQueryHook(log)
	s := systemstest.System("dev", "s1")
	require.NoError(t, st.CreateSystem(ctx, s, systems.HistoryRecord{Tenant: "dev", SystemID: s.ID, Operation: "create"}))
	full, err := st.ListSystems(ctx, "dev", systems.ListFilter{})
	require.NoError(t, err)
	require.Len(t, full, 1)
	attrs := map[string]func(systems.System) any{
		"host": func(s systems.System) any { return s.Host }, "owner": func(s systems.System) any { return s.Owner },
		"notes": func(s systems.System) any { return s.Notes }, "tags": func(s systems.System) any { return s.Tags },
		"jobRuntimes": func(s systems.System) any { return s.JobRuntimes },
		"created":     func(s systems.System) any { return s.Created }, "canExec": func(s systems.System) any { return s.CanExec },
		"effectiveUserId": func(s systems.System) any { return s.EffectiveUserID },
	}
	for name, get := range attrs {
		queries := log.during(t, func() error {
			part, err := st.ListSystems(ctx, "dev", systems.ListFilter{Fields: []string{"id", name}})
			if err == nil {
				require.Len(t, part, 1)
				assert.Equal(t, get(full[0]), get(part[0]), name)
				assert.Equal(t, "s1", part[0].ID)
				assert.Equal(t, "dev", part[0].Tenant)
				assert.Equal(t, full[0].EffectiveUserID, part[0].EffectiveUserID, "always read")
			}
			return err
		})
		require.Len(t, queries, 1)
		assert.NotContains(t, queries[0], `"description"`, "%s: only the named columns are read", name)
	}
	// Every searchable attribute, read alone, is what the full listing has.
	for _, a := range systems.SearchSchema.Attrs() {
		queries := log.during(t, func() error {
			part, err := st.ListSystems(ctx, "dev", systems.ListFilter{Fields: []string{a.Name}})
			if err == nil {
				require.Len(t, part, 1)
				assert.Equal(t, systems.Row(full[0]).Field(a.Name), systems.Row(part[0]).Field(a.Name), a.Name)
			}
			return err
		})
		require.Len(t, queries, 1)
		if a.Name != "description" {
			assert.NotContains(t, queries[0], `"description"`, "%s: only the named columns are read", a.Name)
		}
	}
	summary, err := st.ListSystems(ctx, "dev", systems.ListFilter{Fields: systems.SummaryAttributes()})
	require.NoError(t, err)
	assert.Empty(t, summary[0].Description, "not asked for")
	assert.Equal(t, s.Host, summary[0].Host)
}
