package tapis

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/httpapi"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/tenancy"
)

// housekeepingEvery is the period of housekeeping; changeRetention is how
// long published changes are kept (a subscription reads them within a
// second; an instance that could not read for longer gets a Resync).
const (
	housekeepingEvery = 10 * time.Minute
	changeRetention   = time.Hour
)

// housekeeping forgets, every ten minutes, what expired: revocations of
// expired tokens, authorization and device codes, refresh records, old
// change notifications. One instance of those sharing the store does each
// round (the one that takes the lock "housekeeping"; the others skip it).
func (s *Server) housekeeping() {
	defer close(s.done)
	t := time.NewTicker(housekeepingEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.HousekeepOnce(context.Background())
		}
	}
}

// HousekeepOnce runs one round of housekeeping now, unless another instance
// sharing the store is running one (it then returns false at once).
func (s *Server) HousekeepOnce(ctx context.Context) (ran bool) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	unlock, held, err := s.cfg.Stores.Locks.TryLock(ctx, "housekeeping")
	if err != nil {
		s.log.Error("housekeeping: taking its lock failed; skipped", "err", err)
		return false
	}
	if !held {
		s.log.Debug("housekeeping: another instance is running it; skipped")
		return false
	}
	defer unlock()
	s.housekeep(ctx)
	return true
}

// housekeep is one round of housekeeping, under the lock.
func (s *Server) housekeep(ctx context.Context) {
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
		{"revocations", s.cfg.Stores.Tokens.PurgeRevocations, now.Add(-s.cfg.Leeway)},
		{"authorization codes", s.cfg.Stores.Auth.PurgeAuthCodes, now.Add(-keep)},
		{"device codes", s.cfg.Stores.Auth.PurgeDeviceCodes, now.Add(-time.Hour)},
		{"refresh tokens", s.cfg.Stores.Auth.PurgeRefreshTokens, now.Add(-s.cfg.Leeway)},
		{"rate-limit counters", func(ctx context.Context, _ time.Time) (int, error) { return s.limiter.Purge(ctx) }, now},
		{"Globus sessions", s.purgeGlobusSessions, now},
		{"change notifications", s.cfg.Stores.Changes.PurgeChanges, time.Now().Add(-changeRetention)}, // stamped by the store's clock
	} {
		if n, err := purge.fn(ctx, purge.at); err != nil {
			s.log.Error("purging expired "+purge.what+" failed", "err", err)
		} else if n > 0 {
			s.log.Debug("purged expired "+purge.what, "count", n)
		}
	}
	if s.cfg.Stores.Optimizer != nil {
		if err := s.cfg.Stores.Optimizer.Optimize(ctx); err != nil {
			s.log.Error("refreshing the planner statistics failed", "err", err)
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
	o := httpapi.Options{SiteID: s.cfg.SiteID, DefaultTenant: s.cfg.DefaultTenant, MaxListLimit: s.cfg.MaxListLimit,
		TrustedProxies: s.cfg.TrustedProxies, Health: s.health, Logger: s.log}
	if s.metrics != nil { // never a nil *Metrics in the interface
		o.Observer = s.metrics
	}
	if s.site != nil {
		o.Forward, o.Ready = s.site.forward, s.MirrorFresh
	}
	return o
}

// ReadyChecks returns the conditions GET /readyz requires, in order: the
// Server's own ("database" when the store can be pinged), then
// Config.ReadyChecks.
func (s *Server) ReadyChecks() []ReadyCheck { return slices.Clone(s.ready) }

// Livez is the liveness probe Handler serves at /livez: 200 while the
// process answers. A program embedding the Server with Register mounts it
// (and Readyz) where its orchestrator asks.
func (s *Server) Livez() http.Handler { return s.health.Livez() }

// Readyz is the readiness probe Handler serves at /readyz: 200
// {"status":"ok","checks":{...}} while every ReadyCheck passes, else 503
// naming the failing ones (their errors are logged, never answered).
func (s *Server) Readyz() http.Handler { return s.health.Readyz() }

// Register adds every Tapis operation to the caller's huma API. They answer
// in the Tapis envelope, huma's own validation errors included; the API's
// other operations keep their errors (see package httpapi). With
// Config.Metrics they are counted; the probes (Livez, Readyz), the
// OpenAPI documents and the pages of the stand-alone Handler are not
// added.
func (s *Server) Register(api huma.API) error {
	return httpapi.Register(api, s.services(), s.options())
}

// Handler returns a stand-alone handler with the OpenAPI document at
// /openapi.json, docs at /docs, and the probes /livez and /readyz (outside
// the Tapis envelope: plain JSON, Cache-Control: no-store).
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

// RewrapSecrets re-seals, under the current KEK, every signing key, tenant
// authenticator configuration secret and stored credential an older KEK
// (Config.PreviousKEKs) still wraps, and the KEK canary last. Run it
// after rotating the KEK; once it returns, the previous KEKs can go. It
// returns how many values changed.
func (s *Server) RewrapSecrets(ctx context.Context) (int, error) {
	reg, err := s.tenancy.Registry(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, t := range reg.Tenants() {
		n, err := s.keys.RewrapKeys(ctx, t.ID)
		if err != nil {
			return total, fmt.Errorf("tapis: rewrap signing keys of %s: %w", t.ID, err)
		}
		total += n
		changed, err := s.oauth.RewrapConfigSecrets(ctx, t.ID)
		if err != nil {
			return total, fmt.Errorf("tapis: rewrap the authenticator configuration of %s: %w", t.ID, err)
		}
		if changed {
			total++
		}
	}
	n, err := s.cfg.Stores.Rewrap.RewrapCredentials(ctx, s.sealer)
	total += n
	if err != nil {
		return total, fmt.Errorf("tapis: rewrap credentials: %w", err)
	}
	// The canary last: once it is under the new KEK, an instance with only
	// the old one refuses to start.
	canary, err := s.cfg.Stores.Canary.KEKCanary(ctx)
	if err != nil || canary == nil || !s.sealer.NeedsRewrap(canary) {
		return total, err
	}
	re, err := s.sealer.Rewrap(canary)
	if err != nil {
		return total, s.wrongKEK(canary, "its KEK canary")
	}
	if _, err := s.cfg.Stores.Canary.SwapKEKCanary(ctx, canary, re); err != nil {
		return total, fmt.Errorf("tapis: rewrap the KEK canary: %w", err)
	}
	return total + 1, nil
}

// Close stops background work. It does not close the stores, which belong
// to the caller.
func (s *Server) Close() error {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.stopChanges()
		if s.metrics != nil { // a new Server may take the registry
			s.metrics.Unregister(s.cfg.Metrics)
		}
	})
	<-s.done
	<-s.siteDone
	return nil
}
