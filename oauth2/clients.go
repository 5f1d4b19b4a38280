package oauth2

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/url"
	"regexp"
	"strings"

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

// checkCallback validates a redirect URI: absolute, no fragment, https except
// on loopback hosts (native apps and local development).
func checkCallback(v *tenancy.ValidationError, raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		v.Addf("callback_url must be an absolute URL.")
		return
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		v.Addf("callback_url must not contain a fragment.")
	}
	if u.User != nil {
		v.Addf("callback_url must not contain user information.")
	}
	host := u.Hostname()
	loopback := host == "localhost" || host == "127.0.0.1" || host == "::1"
	if u.Scheme != "https" && !(u.Scheme == "http" && loopback) {
		v.Addf("callback_url must use https (http only for localhost).")
	}
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
