package oauth2

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tapis-go/tapis/tenancy"
)

var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,80}$`)

// NewClient is a client registration request. Empty ClientID or ClientKey
// are generated (the key as 256 random bits); Public registers a client
// without a key, which must use PKCE.
type NewClient struct {
	ClientID    string
	ClientKey   string
	Public      bool
	CallbackURL string
	DisplayName string
	Description string
}

// checkCallback validates a redirect URI strictly, since it ends up in
// redirects and in the consent page's Content-Security-Policy: absolute,
// https except on loopback hosts (native apps and local development), a real
// host name or IP address, no user information, no fragment, and none of the
// characters that could end a header value or a CSP source list (; , quotes,
// spaces, controls, backslashes).
func checkCallback(v *tenancy.ValidationError, raw string) {
	if raw == "" {
		return
	}
	if i := strings.IndexFunc(raw, func(r rune) bool {
		return r <= ' ' || r == 0x7f || strings.ContainsRune(";,'\"\\`<>{}|^", r) || r > unicode.MaxASCII
	}); i >= 0 {
		v.Addf("callback_url must not contain %q (spaces, quotes, ';', ',', control or non-ASCII characters).", raw[i:i+utf8.RuneLen(rune(raw[i]))])
		return
	}
	if len(raw) > 2048 {
		v.Addf("callback_url must be at most 2048 characters.")
		return
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		v.Addf("callback_url must be an absolute URL.")
		return
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		v.Addf("callback_url must not contain a fragment.")
	}
	if u.User != nil || strings.Contains(u.Host, "@") {
		v.Addf("callback_url must not contain user information.")
	}
	host := u.Hostname()
	if !ValidHost(host) {
		v.Addf("callback_url must name a real host (a DNS name or an IP address).")
	}
	if p := u.Port(); p != "" && !validPort(p) {
		v.Addf("callback_url has an invalid port.")
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && loopbackHost(host)) {
		v.Addf("callback_url must use https (http only for localhost).")
	}
}

// loopbackHost reports whether host is a loopback name or address.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// ValidHost reports whether host is an IP address or a DNS name of letters,
// digits and inner hyphens in dot-separated labels of at most 63 characters.
func ValidHost(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	if host == "" || len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n < 65536 && p[0] != '0'
}

// CallbackOrigin is the scheme://host[:port] of a callback URL in a form
// that is safe to place in a Content-Security-Policy source list, or "" when
// the URL does not pass checkCallback (a value stored before the rules were
// strict never adds a directive).
func CallbackOrigin(raw string) string {
	v := &tenancy.ValidationError{}
	checkCallback(v, raw)
	if raw == "" || v.Err() != nil {
		return ""
	}
	u, _ := url.Parse(raw)
	return u.Scheme + "://" + u.Host
}

// CreateClient registers a client owned by the caller in the caller's
// tenant. It returns the client and the key in clear, the only time the key
// is shown.
func (p *Provider) CreateClient(ctx context.Context, pr tenancy.Principal, nc NewClient) (Client, string, error) {
	if !pr.Authenticated() {
		return Client{}, "", tenancy.Errorf(ErrInvalidToken, "A Tapis token is required to register a client.")
	}
	v := &tenancy.ValidationError{Prefix: "Invalid POST data"}
	if nc.ClientID == "" {
		nc.ClientID = randomToken(12)
	} else if !clientIDPattern.MatchString(nc.ClientID) {
		v.Addf("client_id must be 1-80 characters of letters, digits, '.', '_' or '-'.")
	} else if strings.HasSuffix(nc.ClientID, ".CIC.tokenapp") {
		v.Addf("client_id %s is reserved for the Token Web App.", nc.ClientID)
	}
	if nc.Public && nc.ClientKey != "" {
		v.Addf("a public client has no client_key.")
	}
	if nc.ClientKey != "" && len(nc.ClientKey) < 16 {
		v.Addf("client_key must be at least 16 characters (or omitted to have one generated).")
	}
	checkCallback(v, nc.CallbackURL)
	if len(nc.DisplayName) > 50 {
		v.Addf("display_name must be at most 50 characters.")
	}
	if len(nc.Description) > 255 {
		v.Addf("description must be at most 255 characters.")
	}
	if err := v.Err(); err != nil {
		return Client{}, "", err
	}
	key := nc.ClientKey
	if key == "" && !nc.Public {
		key = randomToken(32)
	}
	display := nc.DisplayName
	if display == "" {
		display = nc.ClientID
		if len(display) > 50 {
			display = display[:50]
		}
	}
	now := p.stamp()
	c := Client{TenantID: pr.TenantID, ClientID: nc.ClientID, Owner: pr.Username, CallbackURL: nc.CallbackURL,
		DisplayName: display, Description: nc.Description, Active: true, Created: now, Updated: now}
	if key != "" {
		sum := sha256.Sum256([]byte(key))
		c.KeyHash = sum[:]
	}
	if err := p.store.CreateClient(ctx, c); err != nil {
		if errors.Is(err, ErrAlreadyExists) {
			return Client{}, "", tenancy.Errorf(ErrAlreadyExists, "Invalid POST data; a client with client_id %s already exists.", nc.ClientID)
		}
		return Client{}, "", err
	}
	return c, key, nil
}

// ownClient returns a client of the caller (404 for another owner's, so ids
// do not leak).
func (p *Provider) ownClient(ctx context.Context, pr tenancy.Principal, id string) (Client, error) {
	c, err := p.store.GetClient(ctx, pr.TenantID, id)
	if err == nil && c.Owner != pr.Username {
		err = ErrNotFound
	}
	if errors.Is(err, ErrNotFound) {
		return Client{}, tenancy.Errorf(ErrNotFound, "No client found with id %s.", id)
	}
	return c, err
}

// GetClient returns one of the caller's clients.
func (p *Provider) GetClient(ctx context.Context, pr tenancy.Principal, id string) (Client, error) {
	return p.ownClient(ctx, pr, id)
}

// ListClients returns the caller's clients (inactive ones when asked).
func (p *Provider) ListClients(ctx context.Context, pr tenancy.Principal, includeInactive bool) ([]Client, error) {
	return p.store.ListClients(ctx, pr.TenantID, pr.Username, includeInactive)
}

// ClientUpdate changes the mutable fields of a client; nil keeps a value.
// Immutable names fields the request tried to change.
type ClientUpdate struct {
	CallbackURL *string
	DisplayName *string
	Immutable   []string
}

// UpdateClient changes the callback URL or display name of a client.
func (p *Provider) UpdateClient(ctx context.Context, pr tenancy.Principal, id string, u ClientUpdate) (Client, error) {
	if _, err := p.ownClient(ctx, pr, id); err != nil {
		return Client{}, err
	}
	v := &tenancy.ValidationError{Prefix: "Invalid PUT data"}
	for _, f := range u.Immutable {
		v.Addf("Changing %s not currently supported.", f)
	}
	if u.CallbackURL != nil {
		checkCallback(v, *u.CallbackURL)
	}
	if u.DisplayName != nil && len(*u.DisplayName) > 50 {
		v.Addf("display_name must be at most 50 characters.")
	}
	if err := v.Err(); err != nil {
		return Client{}, err
	}
	return p.store.UpdateClient(ctx, pr.TenantID, id, func(c *Client) error {
		if u.CallbackURL != nil {
			c.CallbackURL = *u.CallbackURL
		}
		if u.DisplayName != nil {
			c.DisplayName = *u.DisplayName
		}
		c.Updated = p.stamp()
		return nil
	})
}

// DeleteClient deactivates a client: it gets no more tokens.
func (p *Provider) DeleteClient(ctx context.Context, pr tenancy.Principal, id string) (Client, error) {
	if _, err := p.ownClient(ctx, pr, id); err != nil {
		return Client{}, err
	}
	return p.store.UpdateClient(ctx, pr.TenantID, id, func(c *Client) error {
		c.Active, c.Updated = false, p.stamp()
		return nil
	})
}
