// Package tapis is the facade of the Tapis v3 core library: sites and
// tenants, per-tenant signed tokens (and, as they land, the OAuth2
// authenticator and the Systems service) behind one Config and one Server.
//
// A Go program embeds it with Server.Register (into its own huma API) or
// Server.Handler (an http.Handler); examples/server runs it alone.
package tapis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/httpapi"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/tenancy"
)

// Stores are the persistence dependencies; every field is required. One
// adapter value (memory.Store, bunstore.Store) usually fills them all.
type Stores struct {
	Tenancy tenancy.Store
	OAuth2  oauth2.Store
	// Auth persists the authenticator's clients, codes and refresh
	// families; when nil, OAuth2 is used if it implements oauth2.AuthStore
	// (memory.Store and bunstore.Store do).
	Auth oauth2.AuthStore
	// Systems persists systems, their history and scheduler profiles; when
	// nil, OAuth2 is used if it implements systems.Store.
	Systems systems.Store
	// Access persists system permissions and shares; when nil, OAuth2 is
	// used if it implements systems.AccessStore. Without one, only owners
	// and tenant admins reach a system and the permission and sharing
	// operations answer 501.
	Access systems.AccessStore
	// GlobusSessions keeps started Globus authorizations (with Config.Globus);
	// when nil, OAuth2 is used if it implements systems.GlobusSessionStore
	// (memory.Store) or provides one sealed with the KEK (bunstore.Store).
	GlobusSessions systems.GlobusSessionStore
}

// Config configures a Server. Dependencies are interface-typed fields; a zero
// duration or empty string means the documented default.
type Config struct {
	Stores Stores
	// KEK is the 32-byte key-encryption key sealing secrets at rest (tenant
	// signing keys). Required. PreviousKEKs still open older values.
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
	// Authenticator checks user passwords for the password grant and the
	// login page. Default: the built-in users (accounts of type user). Use
	// oauth2.FirstConfigured to put LDAP (adapters/ldapauth) or your own in
	// front of them, or oauth2.TenantAuthenticators to route by tenant.
	Authenticator oauth2.Authenticator
	// AccessTokenAudience gives the aud of the access tokens the
	// authenticator issues, by tenant and client (see
	// oauth2.ProviderConfig.AccessTokenAudience). Default: tokens asked
	// with a scope (standard OAuth2/OIDC clients) carry aud = the tenant's
	// issuer (its base URL), the others none, as Tapis.
	AccessTokenAudience func(tenantID, clientID string) []string
	// MaxLoginFailures is how many wrong passwords or client secrets one
	// account may send from one address before each further attempt must
	// wait (429 with Retry-After); the account from every address gets five
	// times as many, one address for every account ten times as many. The
	// wait starts at a second and doubles per failure up to
	// LoginFailureWindow. Defaults 10 and 5 minutes. See oauth2.Limiter.
	MaxLoginFailures   int
	LoginFailureWindow time.Duration
	// Attempts keeps the limiter's counters; default this process's memory.
	// A store shared by several instances makes them count together.
	Attempts oauth2.AttemptStore
	// Vault stores system credentials. Default: the OAuth2 store when it is
	// a credentials.Vault, or provides one sealed with the KEK (bunstore).
	// Every read and write is audited to Auditor (default: the store when
	// it is a credentials.Auditor, else the last 10,000 records in memory).
	Vault   credentials.Vault
	Auditor credentials.Auditor
	// HostVerifier checks credentials against hosts (a hostcheck.Mux of
	// adapters/sshcheck and adapters/s3check under a hostcheck.Policy);
	// HostEvaluator evaluates HOST_EVAL. Without them, credential checks
	// answer 501 unless skipCredentialCheck is set, and HOST_EVAL 501.
	HostVerifier  hostcheck.Verifier
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
	tokens  *oauth2.TokenService
	oauth   *oauth2.Provider
	systems *systems.Service
	sealer  *seal.Sealer
	limiter *oauth2.Limiter
	log     *slog.Logger

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

// New builds a Server. Its error names every missing dependency.
func New(cfg Config) (*Server, error) {
	var problems []error
	if cfg.Stores.Tenancy == nil {
		problems = append(problems, errors.New("tapis: Config.Stores.Tenancy is required"))
	}
	if cfg.Stores.OAuth2 == nil {
		problems = append(problems, errors.New("tapis: Config.Stores.OAuth2 is required"))
	}
	if cfg.Stores.Auth == nil {
		cfg.Stores.Auth, _ = cfg.Stores.OAuth2.(oauth2.AuthStore)
	}
	if cfg.Stores.Auth == nil {
		problems = append(problems, errors.New("tapis: Config.Stores.Auth is required (Stores.OAuth2 does not implement oauth2.AuthStore)"))
	}
	if cfg.Stores.Systems == nil {
		cfg.Stores.Systems, _ = cfg.Stores.OAuth2.(systems.Store)
	}
	if cfg.Stores.Access == nil {
		cfg.Stores.Access, _ = cfg.Stores.OAuth2.(systems.AccessStore)
	}
	if cfg.Stores.Systems == nil {
		problems = append(problems, errors.New("tapis: Config.Stores.Systems is required (Stores.OAuth2 does not implement systems.Store)"))
	}
	if len(cfg.KEK) == 0 {
		problems = append(problems, errors.New("tapis: Config.KEK (32-byte key-encryption key) is required"))
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	sealer, err := seal.New(cfg.KEK, cfg.PreviousKEKs...)
	if err != nil {
		return nil, fmt.Errorf("tapis: Config.KEK: %w", err)
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
	ten, err := tenancy.NewService(tenancy.Config{Store: cfg.Stores.Tenancy, Roles: cfg.Roles, Logger: cfg.Logger, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	limiter := oauth2.NewLimiter(oauth2.LimiterConfig{Store: cfg.Attempts, MaxFailures: cfg.MaxLoginFailures,
		MaxDelay: cfg.LoginFailureWindow, Now: cfg.Now})
	tok, err := oauth2.NewTokenService(oauth2.TokenConfig{Store: cfg.Stores.OAuth2, Tenancy: ten, Sealer: sealer, Limiter: limiter,
		SiteID: cfg.SiteID, DefaultAccessTTL: cfg.AccessTTL, DefaultRefreshTTL: cfg.RefreshTTL,
		MaxAccessTTL: cfg.MaxAccessTTL, MaxRefreshTTL: cfg.MaxRefreshTTL, Leeway: cfg.Leeway,
		PasswordCost: cfg.PasswordCost, Logger: cfg.Logger, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	authn := cfg.Authenticator
	if authn == nil {
		authn = oauth2.UserAuthenticator{Accounts: tok.Accounts}
	}
	prov, err := oauth2.NewProvider(oauth2.ProviderConfig{Tokens: tok, Store: cfg.Stores.Auth, Authenticator: authn,
		Sealer: sealer, Limiter: limiter, AccessTokenAudience: cfg.AccessTokenAudience, Logger: cfg.Logger, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	vault := vaultOf(cfg, sealer)
	sys, err := systems.NewService(systems.Config{Store: cfg.Stores.Systems, Access: cfg.Stores.Access, Tenancy: ten, Authorizer: cfg.SystemsAuthorizer,
		Vault: vault, Verifier: cfg.HostVerifier, Evaluator: cfg.HostEvaluator, HostKeys: hostKeysOf(cfg), Globus: cfg.Globus,
		GlobusSessions: globusSessionsOf(&cfg, sealer), Logger: cfg.Logger, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, tenancy: ten, tokens: tok, oauth: prov, systems: sys, sealer: sealer, limiter: limiter, log: cfg.Logger,
		stop: make(chan struct{}), done: make(chan struct{})}
	go s.housekeeping()
	return s, nil
}

// hostKeysOf is the store's SSH host-key pins, when it keeps them.
func hostKeysOf(cfg Config) hostcheck.HostKeys {
	k, _ := cfg.Stores.OAuth2.(hostcheck.HostKeys)
	return k
}

// globusSessionsOf picks the store of started Globus authorizations and
// records it in cfg (for housekeeping).
func globusSessionsOf(cfg *Config, sealer *seal.Sealer) systems.GlobusSessionStore {
	if cfg.Stores.GlobusSessions == nil {
		switch st := cfg.Stores.OAuth2.(type) {
		case systems.GlobusSessionStore:
			cfg.Stores.GlobusSessions = st
		case interface {
			GlobusSessions(*seal.Sealer) systems.GlobusSessionStore
		}:
			cfg.Stores.GlobusSessions = st.GlobusSessions(sealer)
		}
	}
	return cfg.Stores.GlobusSessions
}

// vaultOf picks the credential vault and wraps it with the audit.
func vaultOf(cfg Config, sealer *seal.Sealer) credentials.Vault {
	v := cfg.Vault
	if v == nil {
		switch st := cfg.Stores.OAuth2.(type) {
		case credentials.Vault:
			v = st
		case interface {
			Vault(*seal.Sealer) credentials.Vault
		}:
			v = st.Vault(sealer)
		}
	}
	if v == nil {
		return nil
	}
	a := cfg.Auditor
	if a == nil {
		a, _ = cfg.Stores.OAuth2.(credentials.Auditor)
	}
	if a == nil {
		a = &credentials.MemoryAuditor{Max: 10000}
	}
	return credentials.Audited(v, a, cfg.Now)
}

// housekeeping forgets, every ten minutes, what expired: revocations of
// expired tokens, authorization and device codes, refresh records.
func (s *Server) housekeeping() {
	defer close(s.done)
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			// Redeemed codes are kept while the tokens they produced may live,
			// so a late replay still revokes them.
			keep := s.cfg.MaxRefreshTTL
			if keep <= 0 {
				keep = 90 * 24 * time.Hour
			}
			now := s.cfg.Now()
			for _, purge := range []struct {
				what string
				fn   func(context.Context, time.Time) (int, error)
				at   time.Time
			}{
				{"revocations", s.cfg.Stores.OAuth2.PurgeRevocations, now.Add(-s.cfg.Leeway)},
				{"authorization codes", s.cfg.Stores.Auth.PurgeAuthCodes, now.Add(-keep)},
				{"device codes", s.cfg.Stores.Auth.PurgeDeviceCodes, now.Add(-time.Hour)},
				{"refresh tokens", s.cfg.Stores.Auth.PurgeRefreshTokens, now.Add(-s.cfg.Leeway)},
				{"rate-limit counters", func(ctx context.Context, _ time.Time) (int, error) { return s.limiter.Purge(ctx) }, now},
				{"Globus sessions", s.purgeGlobusSessions, now},
			} {
				if n, err := purge.fn(ctx, purge.at); err != nil {
					s.log.Error("purging expired "+purge.what+" failed", "err", err)
				} else if n > 0 {
					s.log.Debug("purged expired "+purge.what, "count", n)
				}
			}
			cancel()
		}
	}
}

// purgeGlobusSessions forgets expired Globus authorizations, if any store
// keeps them.
func (s *Server) purgeGlobusSessions(ctx context.Context, before time.Time) (int, error) {
	if s.cfg.Stores.GlobusSessions == nil {
		return 0, nil
	}
	return s.cfg.Stores.GlobusSessions.PurgeGlobusSessions(ctx, before)
}

// Tenancy returns the sites-and-tenants service, for use without HTTP.
func (s *Server) Tenancy() *tenancy.Service { return s.tenancy }

// Tokens returns the token service, for use without HTTP.
func (s *Server) Tokens() *oauth2.TokenService { return s.tokens }

// OAuth2 returns the OAuth2 authenticator (clients, grants, consent), for
// use without HTTP.
func (s *Server) OAuth2() *oauth2.Provider { return s.oauth }

// Systems returns the Systems service, for use without HTTP.
func (s *Server) Systems() *systems.Service { return s.systems }

func (s *Server) services() httpapi.Services {
	return httpapi.Services{Tenancy: s.tenancy, Tokens: s.tokens, OAuth2: s.oauth, Systems: s.systems, Sessions: s.sealer}
}

func (s *Server) options() httpapi.Options {
	return httpapi.Options{SiteID: s.cfg.SiteID, DefaultTenant: s.cfg.DefaultTenant, MaxListLimit: s.cfg.MaxListLimit,
		TrustedProxies: s.cfg.TrustedProxies, Logger: s.log}
}

// Register adds every Tapis operation to the caller's huma API. They answer
// in the Tapis envelope, huma's own validation errors included; the API's
// other operations keep their errors (see package httpapi).
func (s *Server) Register(api huma.API) error {
	return httpapi.Register(api, s.services(), s.options())
}

// Handler returns a stand-alone handler with the OpenAPI document at
// /openapi.json and docs at /docs.
func (s *Server) Handler() http.Handler {
	h, _, err := s.HandlerAPI()
	if err != nil {
		panic(err) // New checked every dependency Register needs
	}
	return h
}

// HandlerAPI is Handler that also returns the huma API (for its OpenAPI).
func (s *Server) HandlerAPI() (http.Handler, huma.API, error) {
	return httpapi.NewHandler(s.services(), s.options())
}

// RewrapSecrets re-seals, under the current KEK, every signing key and
// stored credential an older KEK (Config.PreviousKEKs) still wraps. Run it
// after rotating the KEK; once it returns, the previous KEKs can go. It
// returns how many values changed.
func (s *Server) RewrapSecrets(ctx context.Context) (int, error) {
	reg, err := s.tenancy.Registry(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, t := range reg.Tenants() {
		n, err := s.tokens.RewrapKeys(ctx, t.ID)
		if err != nil {
			return total, fmt.Errorf("tapis: rewrap signing keys of %s: %w", t.ID, err)
		}
		total += n
	}
	if rw, ok := s.cfg.Stores.OAuth2.(interface {
		RewrapCredentials(context.Context, *seal.Sealer) (int, error)
	}); ok {
		n, err := rw.RewrapCredentials(ctx, s.sealer)
		total += n
		if err != nil {
			return total, fmt.Errorf("tapis: rewrap credentials: %w", err)
		}
	}
	return total, nil
}

// Close stops background work. It does not close the stores, which belong
// to the caller.
func (s *Server) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
	return nil
}
