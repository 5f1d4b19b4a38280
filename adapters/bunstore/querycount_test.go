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
}

func (l *queryLog) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (l *queryLog) AfterQuery(_ context.Context, ev *bun.QueryEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queries = append(l.queries, ev.Query)
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
