package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/cluster"
	"github.com/tapis-go/tapis/cluster/clustertest"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/oauth2/oauth2test"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/systems/systemstest"
	"github.com/tapis-go/tapis/tenancy"
	"github.com/tapis-go/tapis/tenancy/tenancytest"
)

func TestTenancyStore(t *testing.T) {
	tenancytest.RunStoreTests(t, func(*testing.T) tenancy.Store { return memory.New() })
}

func TestOAuth2Store(t *testing.T) {
	oauth2test.RunStoreTests(t, func(*testing.T) oauth2.Store { return memory.New() })
}

func TestAuthStore(t *testing.T) {
	oauth2test.RunAuthStoreTests(t, func(*testing.T) oauth2.AuthStore { return memory.New() })
}

func TestAttemptStore(t *testing.T) {
	oauth2test.RunAttemptStoreTests(t, func(*testing.T) oauth2.AttemptStore { return memory.New() })
}

func TestSystemsStore(t *testing.T) {
	systemstest.RunStoreTests(t, func(*testing.T) systems.Store { return memory.New() })
	t.Run("search", func(t *testing.T) {
		systemstest.RunSearchTests(t, func(*testing.T) systems.Store { return memory.New() })
	})
}

func TestAccessStore(t *testing.T) {
	systemstest.RunAccessStoreTests(t, func(t *testing.T) systems.AccessStore { return memory.New() })
}

func TestGlobusSessionStore(t *testing.T) {
	systemstest.RunGlobusSessionTests(t, func(*testing.T) systems.GlobusSessionStore { return memory.New() })
}

// One process: the two instances of a pair are one store.

func TestClusterFeed(t *testing.T) {
	clustertest.RunFeedTests(t, func(*testing.T) (cluster.Feed, cluster.Feed) { st := memory.New(); return st, st })
}

func TestClusterLocker(t *testing.T) {
	clustertest.RunLockerTests(t, func(*testing.T) (cluster.Locker, cluster.Locker) { st := memory.New(); return st, st })
}

func TestClusterCanary(t *testing.T) {
	clustertest.RunCanaryTests(t, func(*testing.T) cluster.CanaryStore { return memory.New() })
}

func TestHoldsSealedDataSeesSealedSigningKeys(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	require.NoError(t, st.RotateSigningKey(ctx, oauth2.SigningKey{TenantID: "dev", KID: "public", PublicKeyPEM: "pem",
		Created: when}, when.Add(time.Hour)))
	holds, err := st.HoldsSealedData(ctx)
	require.NoError(t, err)
	assert.False(t, holds, "a verification-only key is not sealed")
	require.NoError(t, st.RotateSigningKey(ctx, oauth2.SigningKey{TenantID: "dev", KID: "sealed", PublicKeyPEM: "pem",
		SealedPrivateKey: []byte("sealed"), Created: when.Add(time.Second)}, when.Add(time.Hour)))
	holds, err = st.HoldsSealedData(ctx)
	require.NoError(t, err)
	assert.True(t, holds)
}
