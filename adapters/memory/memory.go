// Package memory implements every store of the library in process memory:
// one *Store is a tapis.Store (tenancy, tokens, authenticator, limiter
// counters, systems, permissions and shares, pinned host keys, the
// credential vault and its audit, Globus sessions, and the cluster parts of
// one process: change notifications, locks, the KEK canary). It is the default store
// of unit tests and of embedders that need no persistence. Values are copied
// in and out, so callers never share slices or maps with the store.
package memory

import (
	"context"
	"sync"

	"github.com/tapis-go/tapis/cluster"
	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/tenancy"
)

// Store holds everything in maps guarded by one mutex.
type Store struct {
	mu          sync.Mutex
	sites       map[string]tenancy.Site
	tenants     map[string]tenancy.Tenant
	history     map[string][]tenancy.TenantHistory
	owners      map[string]tenancy.Owner
	ldaps       map[string]tenancy.LDAPConnection
	keys        map[string][]oauth2.SigningKey // by tenant, newest first
	revocations map[tenantKey]revocation
	accounts    map[tenantKey]oauth2.Account
	authm       *authMaps
	sysm        *sysMaps
	credm       *credMaps
	accm        *accessMaps
	glSessions  map[tenantKey]systems.GlobusSession
	attempts    oauth2.MemoryAttempts
	audit       credentials.MemoryAuditor
	changes     cluster.MemoryFeed
	locker      cluster.MemoryLocker
	canary      cluster.MemoryCanary
}

type tenantKey struct{ tenant, id string }

type revocation struct{ expires int64 }

var (
	_ tenancy.Store = (*Store)(nil)
	_ oauth2.Store  = (*Store)(nil)
)

// New returns an empty Store.
func New() *Store {
	return &Store{
		sites:       map[string]tenancy.Site{},
		tenants:     map[string]tenancy.Tenant{},
		history:     map[string][]tenancy.TenantHistory{},
		owners:      map[string]tenancy.Owner{},
		ldaps:       map[string]tenancy.LDAPConnection{},
		keys:        map[string][]oauth2.SigningKey{},
		revocations: map[tenantKey]revocation{},
		accounts:    map[tenantKey]oauth2.Account{},
	}
}

// Optimize has nothing to do in memory (tapis.Optimizer).
func (s *Store) Optimize(context.Context) error { return nil }
