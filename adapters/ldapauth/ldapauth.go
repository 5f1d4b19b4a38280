// Package ldapauth checks Tapis users' passwords against a tenant's LDAP
// directory (OpenLDAP, or any LDAPv3 server) and reads their profiles. It
// implements oauth2.Authenticator and oauth2.ProfileProvider with
// github.com/go-ldap/ldap/v3.
//
// Each tenant's directory is the LDAP connection object named by its
// user_ldap_connection_id (see TenancyDirectory); a tenant without one is
// answered with oauth2.ErrNotConfigured, so the authenticator composes with
// the built-in users, which a Server consults after it:
//
//	tapis.Config{Store: st, Authenticators: []oauth2.Authenticator{ldapAuth}}
//
// A password check is a search-then-bind: bind as the connection's bind_dn
// (its password comes from a SecretFunc that resolves bind_credential, the
// name of a secret), search user_dn for (uid=<escaped username>), then bind
// as the entry found with the user's password. An unknown user costs the
// same round trips as a wrong password: the last bind goes to a DN that does
// not exist. Every call opens its own connection and closes it on return
// (no pool): a login costs one TCP (and TLS) handshake more than a pooled
// design, and nothing is shared between tenants or goroutines.
package ldapauth

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// Directory finds the LDAP connection a tenant's users authenticate
// against; ok is false when the tenant has none.
type Directory interface {
	TenantLDAP(ctx context.Context, tenantID string) (conn tenancy.LDAPConnection, ok bool, err error)
}

// DirectoryFunc adapts a function to Directory.
type DirectoryFunc func(ctx context.Context, tenantID string) (tenancy.LDAPConnection, bool, error)

// TenantLDAP calls f.
func (f DirectoryFunc) TenantLDAP(ctx context.Context, tenantID string) (tenancy.LDAPConnection, bool, error) {
	return f(ctx, tenantID)
}

// Registry is where TenancyDirectory reads tenants and LDAP objects: a
// tenancy.Store (the server's store, available before the server is built)
// or a *tenancy.Service.
type Registry interface {
	GetTenant(ctx context.Context, id string) (tenancy.Tenant, error)
	GetLDAP(ctx context.Context, id string) (tenancy.LDAPConnection, error)
}

// TenancyDirectory returns the Directory of a registry: the LDAP object
// named by the tenant's user_ldap_connection_id. An unknown tenant or an
// empty id means not configured.
func TenancyDirectory(reg Registry) Directory {
	return DirectoryFunc(func(ctx context.Context, tenantID string) (tenancy.LDAPConnection, bool, error) {
		t, err := reg.GetTenant(ctx, tenantID)
		if errors.Is(err, tenancy.ErrNotFound) || err == nil && t.UserLDAPConnectionID == "" {
			return tenancy.LDAPConnection{}, false, nil
		}
		if err != nil {
			return tenancy.LDAPConnection{}, false, err
		}
		l, err := reg.GetLDAP(ctx, t.UserLDAPConnectionID)
		if err != nil {
			return tenancy.LDAPConnection{}, false, err
		}
		return l, true, nil
	})
}

// SecretFunc returns the secret stored under name: here the bind password
// an LDAP connection object names in bind_credential.
type SecretFunc func(ctx context.Context, name string) (string, error)

// Options tunes an Authenticator; the zero value is usable.
type Options struct {
	// Timeout bounds the TCP dial plus TLS handshake, and then each LDAP
	// request on the connection. Default 10s.
	Timeout time.Duration
	// TLSConfig is used for ldaps:// URLs and connections with use_ssl.
	// ServerName defaults to the URL's host. nil: the system roots.
	TLSConfig *tls.Config
}

// Authenticator checks passwords and reads profiles in tenants' LDAP
// directories. It is safe for concurrent use.
type Authenticator struct {
	dir     Directory
	secret  SecretFunc
	timeout time.Duration
	tls     *tls.Config
	// dialTCP opens the TCP connection; tests wrap it to count requests.
	dialTCP func(ctx context.Context, network, addr string) (net.Conn, error)
}

var (
	_ oauth2.Authenticator   = (*Authenticator)(nil)
	_ oauth2.ProfileProvider = (*Authenticator)(nil)
)

// New returns an Authenticator that finds each tenant's LDAP connection in
// dir and resolves its bind_credential with bindPassword.
func New(dir Directory, bindPassword SecretFunc, opts Options) (*Authenticator, error) {
	var missing []string
	if dir == nil {
		missing = append(missing, "Directory")
	}
	if bindPassword == nil {
		missing = append(missing, "bind password SecretFunc")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("ldapauth: New: missing %s", strings.Join(missing, ", "))
	}
	a := &Authenticator{dir: dir, secret: bindPassword, timeout: opts.Timeout, tls: opts.TLSConfig}
	if a.timeout <= 0 {
		a.timeout = 10 * time.Second
	}
	d := &net.Dialer{Timeout: a.timeout}
	a.dialTCP = d.DialContext
	return a, nil
}

// profileAttrs are the attributes read for an Identity or a Profile.
var profileAttrs = []string{"uid", "cn", "givenName", "sn", "mail", "telephoneNumber", "mobile", "uidNumber", "createTimestamp"}

// Authenticate implements oauth2.Authenticator: ErrNotConfigured when the
// tenant has no LDAP connection, ErrInvalidCredentials for an empty or wrong
// password and for an unknown user, any other error for a directory that
// cannot be reached or refuses the service bind. The Identity's Username is
// the directory's spelling of the uid, which LDAP matches case-insensitively.
func (a *Authenticator) Authenticate(ctx context.Context, tenantID, username, password string) (oauth2.Identity, error) {
	cfg, err := a.lookup(ctx, tenantID)
	if err != nil {
		return oauth2.Identity{}, err
	}
	// An empty password makes a simple bind "unauthenticated", which LDAP
	// servers answer with success: refuse it before any bind.
	if password == "" || username == "" {
		return oauth2.Identity{}, oauth2.ErrInvalidCredentials
	}
	s, err := a.dial(ctx, cfg)
	if err != nil {
		return oauth2.Identity{}, err
	}
	defer s.close()
	if err := s.serviceBind(); err != nil {
		return oauth2.Identity{}, err
	}
	entry, err := s.findUser(username)
	if err != nil {
		return oauth2.Identity{}, err
	}
	if entry == nil {
		// Unknown user: bind to a DN that does not exist, so that this
		// costs the same round trips as a wrong password. Any answer is a refusal.
		_ = s.conn.Bind("cn=ldapauth-no-such-user,"+s.base, password)
		if err := ctx.Err(); err != nil {
			return oauth2.Identity{}, s.fail("user bind", err)
		}
		return oauth2.Identity{}, oauth2.ErrInvalidCredentials
	}
	err = s.conn.Bind(entry.DN, password)
	switch {
	case err == nil:
		p := s.profile(entry, username)
		return oauth2.Identity{Username: p.Username, Email: p.Email, Name: p.Name}, nil
	case ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) && ctx.Err() == nil:
		return oauth2.Identity{}, oauth2.ErrInvalidCredentials
	default:
		return oauth2.Identity{}, s.fail("user bind", err)
	}
}

// GetProfile implements oauth2.ProfileProvider; an unknown user is
// oauth2.ErrNotFound.
func (a *Authenticator) GetProfile(ctx context.Context, tenantID, username string) (oauth2.Profile, error) {
	s, err := a.open(ctx, tenantID)
	if err != nil {
		return oauth2.Profile{}, err
	}
	defer s.close()
	if err := s.serviceBind(); err != nil {
		return oauth2.Profile{}, err
	}
	var entry *ldap.Entry
	if username != "" {
		if entry, err = s.findUser(username); err != nil {
			return oauth2.Profile{}, err
		}
	}
	if entry == nil {
		return oauth2.Profile{}, tenancy.Errorf(oauth2.ErrNotFound, "No profile found for user %s.", username)
	}
	return s.profile(entry, username), nil
}

// ListProfiles implements oauth2.ProfileProvider: the users under user_dn
// ordered by username, skipping offset and returning at most limit (all
// when limit <= 0). LDAP has no portable server-side ordering, so every
// entry is read (paged, 500 a page) and sorted here; the server's size
// limit for the bind DN caps the total.
func (a *Authenticator) ListProfiles(ctx context.Context, tenantID string, limit, offset int) ([]oauth2.Profile, error) {
	s, err := a.open(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if err := s.serviceBind(); err != nil {
		return nil, err
	}
	req := ldap.NewSearchRequest(s.base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"("+s.attr+"=*)", profileAttrs, nil)
	res, err := s.conn.SearchWithPaging(req, 500)
	if err != nil {
		return nil, s.fail("list users", err)
	}
	out := make([]oauth2.Profile, 0, len(res.Entries))
	for _, e := range res.Entries {
		out = append(out, s.profile(e, ""))
	}
	slices.SortFunc(out, func(x, y oauth2.Profile) int { return cmp.Compare(x.Username, y.Username) })
	out = out[min(max(offset, 0), len(out)):]
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// session is one connection to one tenant's directory.
type session struct {
	ctx    context.Context
	cfg    tenancy.LDAPConnection
	conn   *ldap.Conn
	base   string // search base: user_dn without a ${username} template
	attr   string // naming attribute: "uid", unless user_dn's template names another
	secret SecretFunc
	stop   func() bool
}

// lookup returns the tenant's LDAP connection object, or ErrNotConfigured.
func (a *Authenticator) lookup(ctx context.Context, tenantID string) (tenancy.LDAPConnection, error) {
	if err := ctx.Err(); err != nil {
		return tenancy.LDAPConnection{}, err
	}
	cfg, ok, err := a.dir.TenantLDAP(ctx, tenantID)
	if err != nil {
		return tenancy.LDAPConnection{}, fmt.Errorf("ldapauth: LDAP connection of tenant %s: %w", tenantID, err)
	}
	if !ok {
		return tenancy.LDAPConnection{}, oauth2.ErrNotConfigured
	}
	return cfg, nil
}

// open looks the tenant's connection object up and dials it.
func (a *Authenticator) open(ctx context.Context, tenantID string) (*session, error) {
	cfg, err := a.lookup(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return a.dial(ctx, cfg)
}

// dial connects to cfg's server within the timeout. The connection is
// closed as soon as ctx is done, which aborts the request in flight.
func (a *Authenticator) dial(ctx context.Context, cfg tenancy.LDAPConnection) (*session, error) {
	addr, useTLS, err := address(cfg)
	if err != nil {
		return nil, fmt.Errorf("ldapauth: LDAP %s: %w", cfg.ID, err)
	}
	dctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	raw, err := a.dialTCP(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ldapauth: LDAP %s: dial %s: %w", cfg.ID, addr, cmp.Or(ctx.Err(), err))
	}
	nc := raw
	if useTLS {
		tc := &tls.Config{}
		if a.tls != nil {
			tc = a.tls.Clone()
		}
		if tc.ServerName == "" {
			tc.ServerName, _, _ = net.SplitHostPort(addr)
		}
		tlsConn := tls.Client(raw, tc)
		if err := tlsConn.HandshakeContext(dctx); err != nil {
			_ = raw.Close()
			return nil, fmt.Errorf("ldapauth: LDAP %s: TLS handshake with %s: %w", cfg.ID, addr, cmp.Or(ctx.Err(), err))
		}
		nc = tlsConn
	}
	conn := ldap.NewConn(nc, useTLS)
	conn.Start()
	conn.SetTimeout(a.timeout)
	s := &session{ctx: ctx, cfg: cfg, conn: conn, secret: a.secret,
		stop: context.AfterFunc(ctx, func() { _ = raw.Close() })}
	s.base, s.attr = searchBase(cfg.UserDN)
	return s, nil
}

func (s *session) close() {
	s.stop()
	_ = s.conn.Close()
}

// fail wraps an LDAP error; when ctx ended, that is the cause reported.
func (s *session) fail(op string, err error) error {
	if cerr := s.ctx.Err(); cerr != nil {
		err = cerr
	}
	return fmt.Errorf("ldapauth: LDAP %s: %s: %w", s.cfg.ID, op, err)
}

// serviceBind binds as the connection's bind_dn. Its failure, including
// invalid credentials, is a configuration error, never the user's.
func (s *session) serviceBind() error {
	pw, err := s.secret(s.ctx, s.cfg.BindCredential)
	if err != nil {
		return fmt.Errorf("ldapauth: LDAP %s: bind password %s: %w", s.cfg.ID, s.cfg.BindCredential, err)
	}
	if pw == "" {
		return fmt.Errorf("ldapauth: LDAP %s: bind password %s is empty", s.cfg.ID, s.cfg.BindCredential)
	}
	if err := s.conn.Bind(s.cfg.BindDN, pw); err != nil {
		return s.fail("service bind", err)
	}
	return nil
}

// findUser returns the one entry whose naming attribute equals username,
// or nil when there is none or more than one. username is escaped, so
// filter syntax in it matches literally.
func (s *session) findUser(username string) (*ldap.Entry, error) {
	req := ldap.NewSearchRequest(s.base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, 0, false,
		"("+s.attr+"="+ldap.EscapeFilter(username)+")", profileAttrs, nil)
	res, err := s.conn.Search(req)
	if ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return nil, nil // ambiguous: treated as unknown
	}
	if err != nil {
		return nil, s.fail("search user", err)
	}
	if len(res.Entries) != 1 {
		return nil, nil
	}
	return res.Entries[0], nil
}

// profile maps an entry; asked is the username searched for, which picks
// among several values of the naming attribute (they match case-insensitively).
func (s *session) profile(e *ldap.Entry, asked string) oauth2.Profile {
	name := e.GetAttributeValue(s.attr)
	for _, v := range e.GetAttributeValues(s.attr) {
		if strings.EqualFold(v, asked) {
			name = v
			break
		}
	}
	p := oauth2.Profile{
		Username:    name,
		Email:       e.GetAttributeValue("mail"),
		Name:        e.GetAttributeValue("cn"),
		GivenName:   e.GetAttributeValue("givenName"),
		LastName:    e.GetAttributeValue("sn"),
		Phone:       e.GetAttributeValue("telephoneNumber"),
		MobilePhone: e.GetAttributeValue("mobile"),
		UID:         e.GetAttributeValue("uidNumber"),
		DN:          e.DN,
	}
	if t, err := time.Parse("20060102150405Z0700", e.GetAttributeValue("createTimestamp")); err == nil {
		p.CreateTime = t.UTC()
	}
	return p
}

// address returns host:port and whether to speak TLS from the first byte.
// The URL's own port wins over the object's port; TLS when the scheme is
// ldaps or use_ssl is set (never downgraded).
func address(c tenancy.LDAPConnection) (string, bool, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return "", false, err
	}
	if u.Scheme != "ldap" && u.Scheme != "ldaps" || u.Hostname() == "" {
		return "", false, fmt.Errorf("url %q is not ldap:// or ldaps:// with a host", c.URL)
	}
	useTLS := u.Scheme == "ldaps" || c.UseSSL
	port := u.Port()
	switch {
	case port != "":
	case c.Port > 0:
		port = strconv.Itoa(c.Port)
	case useTLS:
		port = "636"
	default:
		port = "389"
	}
	return net.JoinHostPort(u.Hostname(), port), useTLS, nil
}

// searchBase splits user_dn into the search base and the naming attribute.
// Tapis lets user_dn carry a template, "uid=${username},ou=people,dc=x":
// the base is then what follows it and the attribute the one it names.
func searchBase(userDN string) (base, attr string) {
	const tmpl = "=${username},"
	if i := strings.Index(userDN, tmpl); i > 0 && !strings.ContainsAny(userDN[:i], ",=") {
		return userDN[i+len(tmpl):], strings.TrimSpace(userDN[:i])
	}
	return userDN, "uid"
}
