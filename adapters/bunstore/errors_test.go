package bunstore

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/tapis-go/tapis/tenancy"
)

// TestDriverErrors provokes real constraint violations, bypassing the
// explicit checks of the store methods, and checks their translation.
func TestDriverErrors(t *testing.T) {
	ctx := context.Background()
	dsns := map[string]string{"sqlite": "sqlite:" + filepath.Join(t.TempDir(), "e.db")}
	if pg := os.Getenv("TAPIS_TEST_POSTGRES_DSN"); pg != "" {
		admin, err := Open(ctx, pg)
		require.NoError(t, err)
		defer admin.Close()
		schema := fmt.Sprintf("bunstore_errors_%d_%d", os.Getpid(), time.Now().UnixNano())
		_, err = admin.DB().ExecContext(ctx, "CREATE SCHEMA ?", bun.Ident(schema))
		require.NoError(t, err)
		defer func() { _, _ = admin.DB().ExecContext(ctx, "DROP SCHEMA ? CASCADE", bun.Ident(schema)) }()
		u, err := url.Parse(pg)
		require.NoError(t, err)
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		dsns["postgres"] = u.String()
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			st, err := Open(ctx, dsn)
			require.NoError(t, err)
			defer st.Close()
			require.NoError(t, st.Migrate(ctx))
			db := st.DB()
			now := time.Now()

			site := &siteRow{ID: "s1", BaseURL: "https://s1", Services: "[]", CreateTime: now, LastUpdateTime: now}
			_, err = db.NewInsert().Model(site).Exec(ctx)
			require.NoError(t, err)
			_, err = db.NewInsert().Model(site).Exec(ctx)
			assert.Equal(t, uniqueViolation, classify(err), "duplicate primary key: %v", err)
			assert.ErrorIs(t, writeErr(err, "x"), tenancy.ErrAlreadyExists)

			tn := &tenantRow{ID: "t1", BaseURL: "https://t1", SiteID: "nosite", Owner: "nobody", TokenGenServices: "[]",
				Status: "active", CreateTime: now, LastUpdateTime: now}
			_, err = db.NewInsert().Model(tn).Exec(ctx)
			assert.Equal(t, foreignKeyViolation, classify(err), "missing site: %v", err)
			assert.ErrorIs(t, writeErr(err, "x"), tenancy.ErrNotFound)
			assert.NotContains(t, writeErr(err, "x").Error(), "nosite", "no driver text in sentinel errors")

			_, err = db.NewInsert().Model(&ownerRow{Email: "o", CreateTime: now, LastUpdateTime: now}).Exec(ctx)
			require.NoError(t, err)
			tn.SiteID, tn.Owner = "s1", "o"
			_, err = db.NewInsert().Model(tn).Exec(ctx)
			require.NoError(t, err)
			_, err = db.NewDelete().Model((*siteRow)(nil)).Where("id = ?", "s1").Exec(ctx)
			assert.Equal(t, foreignKeyViolation, classify(err), "referenced site: %v", err)
			assert.ErrorIs(t, deleteErr(err, "x"), tenancy.ErrInUse)
		})
	}
}
