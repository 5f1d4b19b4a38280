package memory_test

import (
	"testing"

	"github.com/tapis-go/tapis/adapters/memory"
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

func TestSnapshotStore(t *testing.T) {
	tenancytest.RunSnapshotStoreTests(t, func(*testing.T) tenancy.SnapshotStore { return memory.New() })
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
