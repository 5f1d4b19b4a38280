// Package tapis is the Tapis v3 core as an embeddable library: sites and
// tenants, per-tenant RS256 tokens, the OAuth2/OpenID Connect
// authenticator and the Systems service, behind one Config and one Server.
//
// New wires every dependency in one direction from Config: each store is a
// named field of Stores (or comes from one adapter through Config.Store),
// and a missing part is named in New's error. A Go program embeds the
// Server with Server.Register (into its own huma API) or Server.Handler (an
// http.Handler); examples/server runs it alone, and package devseed holds
// the development fixtures.
package tapis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/tapis-go/tapis/cluster"
	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/tenancy"
)

// CredentialVault stores the credentials of systems (the design card's
// name for credentials.Vault; adapters/vaultkv, or an adapter's Vault).
type CredentialVault = credentials.Vault

// HostVerifier checks that a credential opens a host (the design card's
// name for hostcheck.Verifier; adapters/sshcheck, adapters/s3check).
type HostVerifier = hostcheck.Verifier

// CredentialRewrapper re-seals, under sealer's current KEK, every stored
// credential an older KEK still wraps, and returns how many changed (see
// Server.RewrapSecrets).
type CredentialRewrapper interface {
	RewrapCredentials(ctx context.Context, sealer *seal.Sealer) (int, error)
}

// NothingSealed is the CredentialRewrapper of a vault that seals nothing
// with the KEK (adapters/vaultkv keeps its secrets in HashiCorp Vault).
type NothingSealed struct{}

// RewrapCredentials implements CredentialRewrapper: nothing to re-seal.
func (NothingSealed) RewrapCredentials(context.Context, *seal.Sealer) (int, error) { return 0, nil }

// Store is every part one complete adapter provides (adapters/memory,
// adapters/bunstore); Config.Store fills the unset fields of Config.Stores
// from it. The parts whose secrets the adapter seals with the KEK are
// methods taking the Server's sealer.
type Store interface {
	tenancy.Store
	oauth2.Store
	oauth2.AuthStore
	oauth2.AttemptStore
	systems.Store
	systems.AccessStore
	hostcheck.HostKeys
	credentials.Auditor
	CredentialRewrapper
	Optimizer
	cluster.Feed
	cluster.Locker
	cluster.CanaryStore
	// Vault returns the credential vault, sealing each credential with sealer.
	Vault(sealer *seal.Sealer) credentials.Vault
	// GlobusSessions returns the started Globus authorizations, sealing each
	// PKCE verifier with sealer.
	GlobusSessions(sealer *seal.Sealer) systems.GlobusSessionStore
}

// Stores are the persistence parts, each named. Every field is required
// (GlobusSessions only with Config.Globus); New fills the unset ones from
// Config.Store, and its error names every part still missing.
type Stores struct {
	Tenancy tenancy.Store // sites, tenants, owners, LDAP objects, history
	Tokens  oauth2.Store  // signing keys, revocations, password accounts
	// Auth keeps the authenticator's clients, codes, refresh families and
	// tenant configurations.
	Auth oauth2.AuthStore
	// Attempts keeps the password limiter's counters; one shared by several
	// instances makes them count together (oauth2.MemoryAttempts: this
	// process only).
	Attempts oauth2.AttemptStore
	Systems  systems.Store       // systems, their history, scheduler profiles
	Access   systems.AccessStore // permissions and shares
	HostKeys hostcheck.HostKeys  // SSH host keys pinned on first use
	// Vault stores credentials; every read and write is recorded to Audit
	// (credentials.MemoryAuditor keeps the last records in memory).
	Vault CredentialVault
	Audit credentials.Auditor
	// Rewrap re-seals Vault's credentials after a KEK rotation
	// (NothingSealed for a vault that does not seal with the KEK).
	Rewrap CredentialRewrapper
	// GlobusSessions keeps started Globus authorizations.
	GlobusSessions systems.GlobusSessionStore
	// Optimizer refreshes the store's query-planner statistics during
	// housekeeping; optional (nil: nothing to refresh).
	Optimizer Optimizer
	// Changes carries change notifications between the instances sharing
	// the store: each publishes what it changed (revocations, key
	// rotations, registry writes) and drops what it caches of what the
	// others changed (cluster.MemoryFeed: this process only).
	Changes cluster.Feed
	// Locks are named locks across the instances sharing the store: one
	// instance at a time runs housekeeping (cluster.MemoryLocker: this
	// process only).
	Locks cluster.Locker
	// Canary keeps the KEK canary Server.CheckKEK checks and writes
	// (cluster.MemoryCanary: this process only).
	Canary cluster.CanaryStore
}

// Optimizer is a store that keeps query-planner statistics fresh (bunstore:
// SQLite's ANALYZE, bounded; memory: nothing to do).
type Optimizer interface {
	Optimize(ctx context.Context) error
}

// fill sets every nil part from st, sealing with sealer (the sealed parts
// are left nil without one).
func (s *Stores) fill(st Store, sealer *seal.Sealer) {
	if s.Tenancy == nil {
		s.Tenancy = st
	}
	if s.Tokens == nil {
		s.Tokens = st
	}
	if s.Auth == nil {
		s.Auth = st
	}
	if s.Attempts == nil {
		s.Attempts = st
	}
	if s.Systems == nil {
		s.Systems = st
	}
	if s.Access == nil {
		s.Access = st
	}
	if s.HostKeys == nil {
		s.HostKeys = st
	}
	if s.Vault == nil && sealer != nil {
		s.Vault = st.Vault(sealer)
	}
	if s.Audit == nil {
		s.Audit = st
	}
	if s.Rewrap == nil {
		s.Rewrap = st
	}
	if s.GlobusSessions == nil && sealer != nil {
		s.GlobusSessions = st.GlobusSessions(sealer)
	}
	if s.Optimizer == nil {
		s.Optimizer = st
	}
	if s.Changes == nil {
		s.Changes = st
	}
	if s.Locks == nil {
		s.Locks = st
	}
	if s.Canary == nil {
		s.Canary = st
	}
}

// missing names every required part that is nil; with sealedLater, the
// sealed parts are not (a Config.Store fills them once the KEK is usable).
func (s *Stores) missing(globus, sealedLater bool) []error {
	var out []error
	for _, p := range []struct {
		name  string
		unset bool
	}{
		{"Tenancy", s.Tenancy == nil}, {"Tokens", s.Tokens == nil}, {"Auth", s.Auth == nil},
		{"Attempts", s.Attempts == nil}, {"Systems", s.Systems == nil}, {"Access", s.Access == nil},
		{"HostKeys", s.HostKeys == nil}, {"Vault", s.Vault == nil && !sealedLater}, {"Audit", s.Audit == nil},
		{"Rewrap", s.Rewrap == nil}, {"Changes", s.Changes == nil}, {"Locks", s.Locks == nil}, {"Canary", s.Canary == nil},
		{"GlobusSessions (needed with Config.Globus)", globus && s.GlobusSessions == nil && !sealedLater},
	} {
		if p.unset {
			out = append(out, fmt.Errorf("tapis: Config.Stores.%s is required (or set Config.Store)", p.name))
		}
	}
	return out
}

// Config configures a Server. Dependencies are interface-typed fields; a zero
// duration or empty string means the documented default.
type Config struct {
	// Store, when set, fills every unset field of Stores.
	Store  Store
	Stores Stores
	// KEK is the 32-byte key-encryption key sealing secrets at rest (signing
	// keys, credentials, client secrets). Required. PreviousKEKs still open
	// older values (see Server.RewrapSecrets).
	KEK          []byte
	PreviousKEKs [][]byte
	// SiteID is the site this server runs as; default: the primary site.
	SiteID string
	// DefaultTenant is the tenant of requests whose Host matches no tenant's
	// base URL. Default "dev".
	DefaultTenant string
	// Roles names the services that may change the registry.
	Roles tenancy.Roles
	// Token lifetimes: defaults 300s / 600s (as Tapis), maxima 24h / 90 days.
	AccessTTL, RefreshTTL       time.Duration
	MaxAccessTTL, MaxRefreshTTL time.Duration
	// Leeway is the clock leeway on token expiry; default 5s.
	Leeway time.Duration
	// PasswordCost is the bcrypt cost of account passwords; default 10.
	PasswordCost int
	// Authenticators check user passwords (password grant, login page) in
	// order, before the built-in users (accounts of type user), which answer
	// last. Each passes a tenant it does not serve by returning
	// oauth2.ErrNotConfigured: adapters/ldapauth for tenants with an LDAP
	// connection, oauth2.TenantAuthenticators to route by tenant, or your own.
	Authenticators []oauth2.Authenticator
	// AccessTokenAudience gives the aud of the access tokens the
	// authenticator issues, by tenant and client (see
	// oauth2.ProviderConfig.AccessTokenAudience). Default: tokens asked
	// with a scope (standard OAuth2/OIDC clients) carry aud = the tenant's
	// issuer (its base URL), the others none, as Tapis.
	AccessTokenAudience func(tenantID, clientID string) []string
	// Grants are the grant types of the token endpoint (see
	// oauth2.ProviderConfig.Grants); default oauth2.DefaultGrants(). Add
	// your own with append(oauth2.DefaultGrants(), yours).
	Grants []oauth2.Grant
	// MaxLoginFailures is how many wrong passwords or client secrets one
	// account may send from one address before each further attempt must
	// wait (429 with Retry-After); the account from every address gets five
	// times as many, one address for every account ten times as many. The
	// wait starts at a second and doubles per failure up to
	// LoginFailureWindow. Defaults 10 and 5 minutes. See oauth2.Limiter.
	MaxLoginFailures   int
	LoginFailureWindow time.Duration
	// HostVerifier checks credentials against hosts (a hostcheck.Mux of
	// adapters/sshcheck and adapters/s3check under a hostcheck.Policy);
	// HostEvaluator evaluates HOST_EVAL. Without them, credential checks
	// answer 501 unless skipCredentialCheck is set, and HOST_EVAL 501.
	HostVerifier  HostVerifier
	HostEvaluator hostcheck.Evaluator
	// Globus, when set, serves the Globus credential endpoints (else 501),
	// refreshes stored Globus tokens when a service reads them and checks
	// them with Globus Transfer (adapters/globusauth).
	Globus systems.Globus
	// TrustedProxies are reverse proxies whose X-Forwarded-For names the
	// client address the password rate limits count by.
	TrustedProxies []netip.Prefix
	// MaxListLimit caps a page of systems (limit <= 0 asks for the cap);
	// default 1000.
	MaxListLimit int
	// SystemsAuthorizer decides who may do what to a system; default
	// systems.AccessPolicy (owners, tenant admins, permissions, shares).
	SystemsAuthorizer systems.Authorizer
	Logger            *slog.Logger
	Now               func() time.Time
}

// Server is a configured library instance.
type Server struct {
	cfg     Config
	tenancy *tenancy.Service
	keys    *oauth2.KeyManager
	tokens  *oauth2.TokenService
	oauth   *oauth2.Provider
	systems *systems.Service
	sealer  *seal.Sealer
	limiter *oauth2.Limiter
	log     *slog.Logger

	stop        chan struct{}
	stopOnce    sync.Once
	done        chan struct{}
	stopChanges func()
}

// New builds a Server. Its error names every missing dependency. The
// services are built in one direction: the signing-key manager first, then
// the tenancy service (which provisions new tenants' keys through it), the
// token service, the authenticator and the Systems service. Each publishes
// what it changed to Stores.Changes, and the Server subscribes to it, so
// that every instance sharing the store drops what it cached of a change
// (see Server.ApplyChange). Call CheckKEK before serving.
func New(cfg Config) (*Server, error) {
	var problems []error
	var sealer *seal.Sealer
	if len(cfg.KEK) == 0 {
		problems = append(problems, errors.New("tapis: Config.KEK (32-byte key-encryption key) is required"))
	} else {
		var err error
		if sealer, err = seal.New(cfg.KEK, cfg.PreviousKEKs...); err != nil {
			problems = append(problems, fmt.Errorf("tapis: Config.KEK: %w", err))
		}
	}
	if cfg.Store != nil {
		cfg.Stores.fill(cfg.Store, sealer)
	}
	problems = append(problems, cfg.Stores.missing(cfg.Globus != nil, cfg.Store != nil && sealer == nil)...)
	for i, a := range cfg.Authenticators {
		if a == nil {
			problems = append(problems, fmt.Errorf("tapis: Config.Authenticators[%d] is nil", i))
		}
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DefaultTenant == "" {
		cfg.DefaultTenant = "dev"
	}
	st := cfg.Stores
	notify := relay{feed: st.Changes, log: cfg.Logger}
	limiter := oauth2.NewLimiter(oauth2.LimiterConfig{Store: st.Attempts, MaxFailures: cfg.MaxLoginFailures,
		MaxDelay: cfg.LoginFailureWindow, Now: cfg.Now})
	tcfg := oauth2.TokenConfig{Store: st.Tokens, Limiter: limiter, SiteID: cfg.SiteID,
		DefaultAccessTTL: cfg.AccessTTL, DefaultRefreshTTL: cfg.RefreshTTL, MaxAccessTTL: cfg.MaxAccessTTL,
		MaxRefreshTTL: cfg.MaxRefreshTTL, Leeway: cfg.Leeway, PasswordCost: cfg.PasswordCost, Notifier: notify,
		Logger: cfg.Logger, Now: cfg.Now}
	keys, err := oauth2.NewKeyManager(oauth2.KeyConfig{Store: st.Tokens, Sealer: sealer, Overlap: tcfg.KeyOverlap(),
		Notifier: notify, Logger: cfg.Logger, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	ten, err := tenancy.NewService(tenancy.Config{Store: st.Tenancy, Roles: cfg.Roles, Keys: keys, Notifier: notify,
		Logger: cfg.Logger, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	tcfg.Tenancy, tcfg.Keys = ten, keys
	tok, err := oauth2.NewTokenService(tcfg)
	if err != nil {
		return nil, err
	}
	authn := oauth2.FirstConfigured(append(slices.Clip(cfg.Authenticators), oauth2.UserAuthenticator{Accounts: tok.Accounts}))
	prov, err := oauth2.NewProvider(oauth2.ProviderConfig{Tokens: tok, Store: st.Auth, Authenticator: authn,
		Sealer: sealer, Limiter: limiter, AccessTokenAudience: cfg.AccessTokenAudience, Grants: cfg.Grants, Logger: cfg.Logger, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	sys, err := systems.NewService(systems.Config{Store: st.Systems, Access: st.Access, Tenancy: ten,
		Authorizer: cfg.SystemsAuthorizer, Vault: credentials.Audited(st.Vault, st.Audit, cfg.Now),
		Verifier: cfg.HostVerifier, Evaluator: cfg.HostEvaluator, HostKeys: st.HostKeys, Globus: cfg.Globus,
		GlobusSessions: st.GlobusSessions, Logger: cfg.Logger, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, tenancy: ten, keys: keys, tokens: tok, oauth: prov, systems: sys, sealer: sealer,
		limiter: limiter, log: cfg.Logger, stop: make(chan struct{}), done: make(chan struct{})}
	s.stopChanges = st.Changes.SubscribeChanges(s.ApplyChange)
	go s.housekeeping()
	return s, nil
}
