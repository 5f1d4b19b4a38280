package tenancy

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// KeyProvisioner makes the signing keys of a new tenant. The tokens side of
// the library implements it; tenancy only calls it.
type KeyProvisioner interface {
	// PrepareTenantKeys generates (or, when publicKeyPEM is set, adopts as
	// verification-only) the key set of a tenant about to be created. Nothing
	// is stored until the returned commit runs.
	PrepareTenantKeys(ctx context.Context, tenantID, publicKeyPEM string) (PreparedKeys, error)
}

// PreparedKeys is a key set made for a tenant and not yet stored.
type PreparedKeys struct {
	PublicKeyPEM string
	Commit       func(ctx context.Context) error
}

// Notifier tells the other instances sharing the store that something they
// may cache changed, once the write committed, so that they drop it
// (tapis.New wires a cluster.Feed: every instance's subscription then calls
// the Forget methods of its services). kind names the fact (ChangeSites,
// ChangeTenant, oauth2's kinds), tenantID and key narrow it ("" for all).
// Notify reports its own failures (the write stands).
type Notifier interface {
	Notify(ctx context.Context, kind, tenantID, key string)
}

// Kinds of changes the tenancy service notifies.
const (
	// ChangeSites: a site was created or deleted.
	ChangeSites = "sites"
	// ChangeTenant: a tenant was created or changed (its status, its
	// public key, ...); the tenant id is given.
	ChangeTenant = "tenant"
)

// Config configures a Service.
type Config struct {
	Store Store
	Roles Roles
	// Keys provisions signing keys for new tenants; nil creates tenants
	// without keys (their tokens cannot be minted here).
	Keys KeyProvisioner
	// Notifier tells the other instances of registry writes; nil: none.
	Notifier Notifier
	// RegistryTTL bounds how stale the in-memory registry may be when
	// another process writes the same store and its notification is lost
	// (a Notifier normally reaches every instance within a second).
	// Default 10s.
	RegistryTTL time.Duration
	Logger      *slog.Logger
	Now         func() time.Time
}

// Service applies the Tenants API rules on top of a Store.
type Service struct {
	store  Store
	roles  Roles
	keys   KeyProvisioner
	notify Notifier
	ttl    time.Duration
	log    *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	registry *Registry
	loaded   time.Time
	gen      uint64 // counts invalidations, so a load racing one is not kept
}

// NewService returns a Service over cfg.Store.
func NewService(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("tenancy: Config.Store is nil")
	}
	s := &Service{store: cfg.Store, roles: cfg.Roles.withDefaults(), keys: cfg.Keys, notify: cfg.Notifier,
		ttl: cfg.RegistryTTL, log: cfg.Logger, now: cfg.Now}
	if s.ttl <= 0 {
		s.ttl = 10 * time.Second
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Store returns the underlying store.
func (s *Service) Store() Store { return s.store }

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Registry returns a snapshot of sites and tenants no older than the
// configured TTL, fresh after a write through this Service, and reloaded
// after ForgetRegistry (a change another instance notified).
func (s *Service) Registry(ctx context.Context) (*Registry, error) {
	s.mu.Lock()
	r, loaded := s.registry, s.loaded
	s.mu.Unlock()
	if r != nil && s.now().Sub(loaded) < s.ttl {
		return r, nil
	}
	return s.Reload(ctx)
}

// Reload rebuilds the registry snapshot from the store. A snapshot whose
// load raced an invalidation is returned but not kept: it may predate the
// change.
func (s *Service) Reload(ctx context.Context) (*Registry, error) {
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	sites, err := s.store.ListSites(ctx)
	if err != nil {
		return nil, fmt.Errorf("tenancy: load sites: %w", err)
	}
	tenants, err := s.store.ListTenants(ctx, TenantFilter{ShowDraft: true, ShowInactive: true})
	if err != nil {
		return nil, fmt.Errorf("tenancy: load tenants: %w", err)
	}
	r := newRegistry(sites, tenants, s.roles)
	s.mu.Lock()
	if s.gen == gen {
		s.registry, s.loaded = r, s.now()
	}
	s.mu.Unlock()
	return r, nil
}

// ForgetRegistry drops the registry snapshot: the next read reloads it
// (another instance changed a site or tenant).
func (s *Service) ForgetRegistry() {
	s.mu.Lock()
	s.registry = nil
	s.gen++
	s.mu.Unlock()
}

// changed drops the snapshot after a write through this Service and tells
// the other instances.
func (s *Service) changed(ctx context.Context, kind, tenantID string) {
	s.ForgetRegistry()
	if s.notify != nil {
		s.notify.Notify(ctx, kind, tenantID, "")
	}
}

var (
	idPattern      = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)
	siteIDPattern  = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
	servicePattern = regexp.MustCompile(`^[a-zA-Z0-9-]*$`)
	reservedIDs    = []string{"owners", "ldaps", "ready", "hello"}
)

func checkURL(v *ValidationError, field, raw string, schemes ...string) {
	if raw == "" {
		v.Addf("%s is required.", field)
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !slices.Contains(schemes, strings.ToLower(u.Scheme)) {
		v.Addf("%s must be an absolute %s URL; got %q.", field, strings.Join(schemes, " or "), raw)
	}
}

func checkLen(v *ValidationError, field, val string, max int) {
	if len(val) > max {
		v.Addf("%s must be at most %d characters.", field, max)
	}
}

func checkServices(v *ValidationError, field string, svcs []string) {
	for _, name := range svcs {
		if !servicePattern.MatchString(name) || name == "" {
			v.Addf("%s: %q must match ^[a-zA-Z0-9-]+$.", field, name)
		}
	}
}

// ---- Sites ----

// ListSites returns every site, ordered by id, from the registry snapshot:
// fresh after writes through this Service, behind writes by another
// instance until their notification arrives (RegistryTTL at most).
func (s *Service) ListSites(ctx context.Context) ([]Site, error) {
	reg, err := s.Registry(ctx)
	if err != nil {
		return nil, err
	}
	return reg.Sites(), nil
}

// GetSite returns one site from the registry snapshot (as ListSites).
func (s *Service) GetSite(ctx context.Context, id string) (Site, error) {
	reg, err := s.Registry(ctx)
	if err != nil {
		return Site{}, err
	}
	site, ok := reg.Site(id)
	if !ok {
		return Site{}, Errorf(ErrNotFound, "No site found with site_id %s.", id)
	}
	return site, nil
}

// CreateSite validates and stores a new site.
func (s *Service) CreateSite(ctx context.Context, p Principal, site Site) (Site, error) {
	if err := s.authorizeRegistryWrite(ctx, p); err != nil {
		return Site{}, err
	}
	return s.createSite(ctx, p, site)
}

func (s *Service) createSite(ctx context.Context, p Principal, site Site) (Site, error) {
	reg, err := s.Registry(ctx)
	if err != nil {
		return Site{}, err
	}
	v := &ValidationError{Prefix: "Invalid POST data; Invalid site description"}
	if !siteIDPattern.MatchString(site.ID) {
		v.Addf("site_id is required and must match ^[a-zA-Z0-9_-]+$.")
	}
	checkLen(v, "site_id", site.ID, 50)
	checkURL(v, "base_url", site.BaseURL, "http", "https")
	if site.SiteAdminTenantID == "" || !idPattern.MatchString(site.SiteAdminTenantID) {
		v.Addf("site_admin_tenant_id is required and must match ^[a-zA-Z0-9-]+$.")
	}
	checkServices(v, "services", site.Services)
	if site.Primary {
		if _, exists := reg.Primary(); exists {
			v.Addf("a primary site already exists.")
		}
		switch {
		case site.TenantBaseURLTemplate == "":
			v.Addf("tenant_base_url_template is required for primary site.")
		case !strings.Contains(site.TenantBaseURLTemplate, "${tenant_id}"):
			v.Addf("tenant_base_url_template must contain ${tenant_id}.")
		default:
			checkURL(v, "tenant_base_url_template", strings.ReplaceAll(site.TenantBaseURLTemplate, "${tenant_id}", "x"), "http", "https")
		}
	} else if site.TenantBaseURLTemplate != "" {
		v.Addf("the tenant_base_url_template property only applies to primary sites.")
	}
	if err := v.Err(); err != nil {
		return Site{}, err
	}
	site.Services = slices.Clone(site.Services)
	if site.Services == nil {
		site.Services = []string{}
	}
	site.CreateTime = s.stamp()
	site.LastUpdateTime = site.CreateTime
	site.CreatedBy, site.LastUpdatedBy = p.String(), p.String()
	if err := s.store.CreateSite(ctx, site); err != nil {
		if errors.Is(err, ErrAlreadyExists) {
			return Site{}, Errorf(ErrAlreadyExists, "Invalid POST data; This change would violate uniqueness constraints: a site with this site_id, base_url or tenant_base_url_template already exists.")
		}
		return Site{}, err
	}
	s.changed(ctx, ChangeSites, "")
	return site, nil
}

// DeleteSite removes a site that no tenant belongs to.
func (s *Service) DeleteSite(ctx context.Context, p Principal, id string) error {
	if err := s.authorizeRegistryWrite(ctx, p); err != nil {
		return err
	}
	err := s.store.DeleteSite(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return Errorf(ErrNotFound, "No site found with site_id %s.", id)
	case errors.Is(err, ErrInUse):
		return Errorf(ErrInUse, "Site %s still owns tenants; move or deactivate them first.", id)
	case err != nil:
		return err
	}
	s.changed(ctx, ChangeSites, "")
	return nil
}

func (s *Service) authorizeRegistryWrite(ctx context.Context, p Principal) error {
	reg, err := s.Registry(ctx)
	if err != nil {
		return err
	}
	if !reg.MayCreateTenants(p) {
		return Errorf(ErrForbidden, "Not authorized to modify the registry of tenants.")
	}
	return nil
}

// ---- Owners ----

// ListOwners returns every owner, ordered by email.
func (s *Service) ListOwners(ctx context.Context) ([]Owner, error) { return s.store.ListOwners(ctx) }

// GetOwner returns one owner.
func (s *Service) GetOwner(ctx context.Context, email string) (Owner, error) {
	o, err := s.store.GetOwner(ctx, email)
	if errors.Is(err, ErrNotFound) {
		return Owner{}, Errorf(ErrNotFound, "No owner object found with email %s.", email)
	}
	return o, err
}

var emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+$`)

// CreateOwner validates and stores a new owner.
func (s *Service) CreateOwner(ctx context.Context, p Principal, o Owner) (Owner, error) {
	if err := s.authorizeRegistryWrite(ctx, p); err != nil {
		return Owner{}, err
	}
	return s.createOwner(ctx, o)
}

func (s *Service) createOwner(ctx context.Context, o Owner) (Owner, error) {
	v := &ValidationError{Prefix: "Invalid POST data"}
	if strings.TrimSpace(o.Name) == "" {
		v.Addf("name is required.")
	}
	if !emailPattern.MatchString(o.Email) {
		v.Addf("email is required and must be an email address.")
	}
	if strings.TrimSpace(o.Institution) == "" {
		v.Addf("institution is required.")
	}
	checkLen(v, "name", o.Name, 80)
	checkLen(v, "email", o.Email, 120)
	checkLen(v, "institution", o.Institution, 80)
	if err := v.Err(); err != nil {
		return Owner{}, err
	}
	o.CreateTime = s.stamp()
	o.LastUpdateTime = o.CreateTime
	if err := s.store.CreateOwner(ctx, o); err != nil {
		if errors.Is(err, ErrAlreadyExists) {
			return Owner{}, Errorf(ErrAlreadyExists, "Invalid POST data; an owner with email %s already exists.", o.Email)
		}
		return Owner{}, err
	}
	return o, nil
}

// DeleteOwner removes an owner no tenant names.
func (s *Service) DeleteOwner(ctx context.Context, p Principal, email string) (Owner, error) {
	if err := s.authorizeRegistryWrite(ctx, p); err != nil {
		return Owner{}, err
	}
	o, err := s.GetOwner(ctx, email)
	if err != nil {
		return Owner{}, err
	}
	err = s.store.DeleteOwner(ctx, email)
	switch {
	case errors.Is(err, ErrNotFound):
		return Owner{}, Errorf(ErrNotFound, "No owner object found with email %s.", email)
	case errors.Is(err, ErrInUse):
		return Owner{}, Errorf(ErrInUse, "Owner %s is the owner of existing tenants; change their owner first.", email)
	}
	return o, err
}

// ---- LDAP connection objects ----

// ListLDAPs returns every LDAP object, ordered by id.
func (s *Service) ListLDAPs(ctx context.Context) ([]LDAPConnection, error) {
	return s.store.ListLDAPs(ctx)
}

// GetLDAP returns one LDAP object.
func (s *Service) GetLDAP(ctx context.Context, id string) (LDAPConnection, error) {
	l, err := s.store.GetLDAP(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return LDAPConnection{}, Errorf(ErrNotFound, "No LDAP object found with ldap_id %s.", id)
	}
	return l, err
}

// CreateLDAP validates and stores a new LDAP object.
func (s *Service) CreateLDAP(ctx context.Context, p Principal, l LDAPConnection) (LDAPConnection, error) {
	if err := s.authorizeRegistryWrite(ctx, p); err != nil {
		return LDAPConnection{}, err
	}
	return s.createLDAP(ctx, l)
}

func (s *Service) createLDAP(ctx context.Context, l LDAPConnection) (LDAPConnection, error) {
	v := &ValidationError{Prefix: "Invalid POST data"}
	if !siteIDPattern.MatchString(l.ID) {
		v.Addf("ldap_id is required and must match ^[a-zA-Z0-9_.-]+$.")
	}
	checkLen(v, "ldap_id", l.ID, 50)
	checkURL(v, "url", l.URL, "ldap", "ldaps")
	if l.Port < 1 || l.Port > 65535 {
		v.Addf("port must be between 1 and 65535.")
	}
	for field, val := range map[string]string{"user_dn": l.UserDN, "bind_dn": l.BindDN, "bind_credential": l.BindCredential} {
		if strings.TrimSpace(val) == "" {
			v.Addf("%s is required.", field)
		}
	}
	if l.AccountType != "user" && l.AccountType != "service" {
		v.Addf("account_type must be one of user, service.")
	}
	if err := v.Err(); err != nil {
		slices.Sort(v.Problems)
		return LDAPConnection{}, err
	}
	l.CreateTime = s.stamp()
	l.LastUpdateTime = l.CreateTime
	if err := s.store.CreateLDAP(ctx, l); err != nil {
		if errors.Is(err, ErrAlreadyExists) {
			return LDAPConnection{}, Errorf(ErrAlreadyExists, "Invalid POST data; an LDAP object with ldap_id %s already exists.", l.ID)
		}
		return LDAPConnection{}, err
	}
	return l, nil
}

// DeleteLDAP removes an LDAP object no tenant uses.
func (s *Service) DeleteLDAP(ctx context.Context, p Principal, id string) error {
	if err := s.authorizeRegistryWrite(ctx, p); err != nil {
		return err
	}
	err := s.store.DeleteLDAP(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return Errorf(ErrNotFound, "No LDAP object found with ldap_id %s.", id)
	case errors.Is(err, ErrInUse):
		return Errorf(ErrInUse, "This LDAP is in use by existing tenants; delete the tenants first.")
	}
	return err
}

// ParseRSAPublicKey parses a PEM public key (SPKI or PKCS#1) and requires RSA
// of at least 2048 bits.
func ParseRSAPublicKey(pemText string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("not a PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("unexpected PEM type %q", block.Type)
	}
	if err != nil {
		return nil, err
	}
	rk, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	if rk.N.BitLen() < 2048 {
		return nil, errors.New("RSA key shorter than 2048 bits")
	}
	return rk, nil
}
