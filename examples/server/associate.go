package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/httpapi"
	"github.com/tapis-go/tapis/tenancy"
)

// associateOptions are the flags of an associate site (-primary): its
// registry is a copy of the primary's, and it signs its own tenants'
// tokens with its own keys (sealed by its KEK): the only credential it
// needs is that key, whose public half the primary learns once, when its
// operator registers the associate's admin tenant with it.
type associateOptions struct {
	primary    string
	syncEvery  time.Duration
	staleAfter time.Duration
}

func (a *associateOptions) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&a.primary, "primary", "", "base URL of the primary site: run as the associate site -site of that primary (registry mirrored from it, writes and services this site does not run forwarded to it)")
	fs.DurationVar(&a.syncEvery, "primary-sync", time.Minute, "interval of the registry sync with the primary (-primary)")
	fs.DurationVar(&a.staleAfter, "mirror-stale-after", 10*time.Minute, "age past which readiness (GET /v3/tokens/ready) reports the registry mirror stale (-primary)")
}

// check names every flag that does not go with -primary.
func (a *associateOptions) check(o *options) error {
	if a.primary == "" {
		return nil
	}
	var problems []error
	if o.site == "" {
		problems = append(problems, errors.New("-primary needs -site, the id of this associate site"))
	}
	if o.dev {
		problems = append(problems, errors.New("-dev cannot be used with -primary: the registry is the primary's"))
	}
	if a.syncEvery <= 0 || a.staleAfter <= 0 {
		problems = append(problems, errors.New("-primary-sync and -mirror-stale-after must be positive"))
	}
	return errors.Join(problems...)
}

// config is the tapis.PrimaryConfig of the flags (nil without -primary).
func (a *associateOptions) config() *tapis.PrimaryConfig {
	if a.primary == "" {
		return nil
	}
	return &tapis.PrimaryConfig{URL: a.primary, SyncEvery: a.syncEvery, StaleAfter: a.staleAfter}
}

// associateDefaultTenant is the default tenant of an associate site: its
// admin tenant, from the saved copy of the registry or, at a first start,
// from the primary.
func associateDefaultTenant(ctx context.Context, st tenancy.SnapshotStore, o *options) error {
	if o.defaultTenant != "" {
		return nil
	}
	snap, err := st.LoadRegistrySnapshot(ctx)
	if errors.Is(err, tenancy.ErrNotFound) {
		client, cerr := httpapi.NewPrimaryClient(o.associate.primary, nil)
		if cerr != nil {
			return fmt.Errorf("-primary: %w", cerr)
		}
		snap, err = client.FetchRegistry(ctx)
	}
	if err != nil {
		return fmt.Errorf("-primary: no copy of the registry yet and the primary did not answer: %w", err)
	}
	for _, s := range snap.Sites {
		if s.ID == o.site {
			o.defaultTenant = s.SiteAdminTenantID
			return nil
		}
	}
	return fmt.Errorf("-site %s: the primary site's registry has no such site; create it there first (POST /v3/sites)", o.site)
}

// syncAssociate reads the registry from the primary at start and prints
// what the primary's operator must register: the public key of each
// tenant of this site the primary does not have yet (the site-admin
// tenant's first key; the others follow with that tenant's tokens).
//
// Each such key is also written to <data>/<tenant>.public.pem, to paste
// into the tenant's registration.
func syncAssociate(ctx context.Context, srv *tapis.Server, data string, stdout io.Writer, log *slog.Logger) {
	own, err := srv.SyncPrimary(ctx)
	if err != nil {
		log.Warn("syncing with the primary site failed; serving the saved copy of the registry", "err", err)
	}
	for _, k := range own {
		if k.Published {
			continue
		}
		log.Warn("a public key of this site is not at the primary yet", "tenant", k.TenantID, "reason", k.Err)
		pem := strings.TrimRight(k.PublicKeyPEM, "\n") + "\n"
		file := filepath.Join(data, k.TenantID+".public.pem")
		werr := os.MkdirAll(data, 0o700)
		if werr == nil {
			werr = os.WriteFile(file, []byte(pem), 0o644)
		}
		if werr != nil {
			log.Warn("writing the public key to a file failed", "file", file, "err", werr)
			file = "(not written)"
		}
		fmt.Fprintf(stdout, "Public key of tenant %s (not at the primary yet: %v), also in %s:\n%s", k.TenantID, k.Err, file, pem)
	}
}
