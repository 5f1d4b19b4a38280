package tapis

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/tapis-go/tapis/httpapi"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// PrimaryConfig makes a Server an associate site of the primary site at
// URL (Config.Primary). The associate:
//
//   - mirrors the primary's registry of sites, tenants, owners and LDAP
//     objects into its own store (Stores.Mirror) at start, every SyncEvery,
//     and at once when a token names a tenant or key it does not know; it
//     serves its registry reads from that copy, also after a restart and
//     while the primary is down;
//   - forwards to the primary every registry write and every request for a
//     service its site record does not list (reverse proxy);
//   - signs the tokens of its own tenants only, and publishes their public
//     keys to the primary with a service token of its site-admin tenant
//     (service PublishAs) that it signs itself: the primary must know the
//     admin tenant's key first (create that tenant there with the
//     public_key the associate reports, Server.SiteKeys).
type PrimaryConfig struct {
	// URL is the primary site's base URL (http or https). Required.
	URL string
	// Client makes the calls to the primary (registry reads, key
	// publications); default: bounded dial and TLS handshake, 10 s a call.
	Client *http.Client
	// SyncEvery is the interval of the registry sync; default 1 minute.
	SyncEvery time.Duration
	// StaleAfter is the age past which MirrorFresh (readiness) reports the
	// copy stale; default 10 minutes.
	StaleAfter time.Duration
	// MinRefresh is the least time between two on-demand syncs (tokens of
	// unknown tenants or keys); default 5 s.
	MinRefresh time.Duration
	// PublishAs is the service of this site's admin tenant that publishes
	// keys; it must be one of the primary's Roles.TenantUpdaters. Default
	// "tokens".
	PublishAs string
}

// site is the associate-site machinery of a Server (nil on the primary).
type site struct {
	// mu makes one sync at a time: the start-up sync and the periodic one
	// would otherwise both give a tenant without a key a first key.
	mu      sync.Mutex
	cfg     PrimaryConfig
	mirror  *tenancy.Mirror
	client  *httpapi.PrimaryClient
	forward *httpapi.Forwarder
}

// newSite checks cfg.Primary and builds the mirror and the client of the
// primary; the tenancy service then reads the mirror as its store.
func newSite(cfg *Config) (*site, error) {
	p := *cfg.Primary
	var problems []error
	if cfg.SiteID == "" {
		problems = append(problems, errors.New("tapis: Config.SiteID is required with Config.Primary (the associate site's id)"))
	}
	if cfg.Stores.Mirror == nil {
		problems = append(problems, errors.New("tapis: Config.Stores.Mirror is required with Config.Primary (or a Config.Store that keeps a registry snapshot)"))
	}
	client, err := httpapi.NewPrimaryClient(p.URL, p.Client)
	if err != nil {
		problems = append(problems, fmt.Errorf("tapis: Config.Primary.URL: %w", err))
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	if p.SyncEvery <= 0 {
		p.SyncEvery = time.Minute
	}
	mirror, err := tenancy.NewMirror(tenancy.MirrorConfig{Source: client, Store: cfg.Stores.Mirror, StaleAfter: p.StaleAfter,
		MinRefresh: p.MinRefresh, Logger: cfg.Logger, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	return &site{cfg: p, mirror: mirror, client: client}, nil
}

// route builds the forwarder of the requests this site does not serve;
// it checks their tokens here first (this site's revocations hold for
// them too).
func (a *site) route(cfg Config, ten *tenancy.Service, tok *oauth2.TokenService) error {
	validate := func(ctx context.Context, raw string) error {
		_, err := tok.Validate(ctx, raw, "access")
		return err
	}
	f, err := httpapi.NewForwarder(httpapi.ForwardConfig{Primary: a.client.URL(), Site: cfg.SiteID, Registry: ten,
		Validate: validate, Logger: cfg.Logger})
	a.forward = f
	return err
}

// SyncPrimary reads the registry from the primary site into the mirror,
// adopts the public keys of the other sites' tenants, and gives this
// site's tenants signing keys, publishing each one the primary does not
// have. It returns the state of this site's keys (see SiteKeys). On the
// primary site it does nothing.
func (s *Server) SyncPrimary(ctx context.Context) ([]oauth2.OwnKey, error) {
	if s.site == nil {
		return nil, nil
	}
	s.site.mu.Lock()
	defer s.site.mu.Unlock()
	if _, err := s.site.mirror.Sync(ctx); err != nil {
		return nil, err
	}
	return s.afterSync(ctx)
}

// afterSync takes a changed mirror into use.
func (s *Server) afterSync(ctx context.Context) ([]oauth2.OwnKey, error) {
	if _, err := s.tenancy.Reload(ctx); err != nil {
		return nil, err
	}
	adopted, err := s.tokens.AdoptSiteKeys(ctx)
	if len(adopted) > 0 {
		s.log.InfoContext(ctx, "verification keys of other sites' tenants adopted", "tenants", adopted)
	}
	own, perr := s.tokens.ProvisionSiteKeys(ctx)
	return own, errors.Join(err, perr)
}

// SiteKeys returns the state of the keys of this associate site's
// tenants: each one's current public key and whether the primary has it.
// The site-admin tenant's first key reaches the primary out of band (its
// operator creates the tenant with that public_key); the others are
// published with a token of that tenant. Nil on the primary.
func (s *Server) SiteKeys(ctx context.Context) ([]oauth2.OwnKey, error) {
	if s.site == nil {
		return nil, nil
	}
	s.site.mu.Lock()
	defer s.site.mu.Unlock()
	return s.tokens.ProvisionSiteKeys(ctx)
}

// MirrorFresh is the readiness check of an associate site: nil while its
// copy of the primary's registry is younger than Primary.StaleAfter, else
// an error saying how old it is. Always nil on the primary.
func (s *Server) MirrorFresh(ctx context.Context) error {
	if s.site == nil {
		return nil
	}
	return s.site.mirror.Fresh(ctx)
}

// siteSync syncs the mirror every SyncEvery until Close.
func (s *Server) siteSync() {
	defer close(s.siteDone)
	t := time.NewTicker(s.site.cfg.SyncEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), s.site.cfg.SyncEvery)
			if _, err := s.SyncPrimary(ctx); err != nil {
				s.log.WarnContext(ctx, "syncing with the primary site failed; serving the previous copy of the registry",
					"primary", s.site.client.URL(), "err", err)
			}
			cancel()
		}
	}
}

// Forward returns h behind this associate site's forwarder: the requests
// the site does not serve (registry writes, services its record does not
// list) go to the primary, the rest to h. Handler does this itself; an
// embedder that mounts the operations with Register wraps its router with
// it. On the primary it returns h.
func (s *Server) Forward(h http.Handler) http.Handler {
	if s.site == nil {
		return h
	}
	return s.site.forward.Wrap(h)
}
