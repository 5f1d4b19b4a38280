package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// PrimaryClient is an associate site's client of the primary site's
// Tenants API: it reads the registry (tenancy.RegistrySource, for the
// associate's Mirror) and publishes the keys of the associate's tenants
// (oauth2.KeyPublisher). It maps the wire forms of this package to the
// domain types and back, as the handlers do on the server side.
type PrimaryClient struct {
	base   *url.URL
	client *http.Client
}

var (
	_ tenancy.RegistrySource = (*PrimaryClient)(nil)
	_ oauth2.KeyPublisher    = (*PrimaryClient)(nil)
)

// maxPrimaryBody bounds an answer of the primary (a registry listing page).
const maxPrimaryBody = 16 << 20

// NewTransport returns the transport of the calls between sites: bounded
// dial, TLS handshake and wait for response headers, no proxy from the
// environment (the sites name each other directly).
func NewTransport() *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   32,
		ForceAttemptHTTP2:     true,
	}
}

// NewPrimaryClient returns a client of the primary site at baseURL (an
// absolute http or https URL). A nil client uses NewTransport with a 10 s
// limit per call.
func NewPrimaryClient(baseURL string, client *http.Client) (*PrimaryClient, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return nil, fmt.Errorf("httpapi: the primary site's URL %q must be an absolute http or https URL without credentials", baseURL)
	}
	if client == nil {
		client = &http.Client{Transport: NewTransport(), Timeout: 10 * time.Second}
	}
	return &PrimaryClient{base: u, client: client}, nil
}

// URL is the primary's base URL.
func (c *PrimaryClient) URL() string { return c.base.String() }

// call sends one request and decodes the envelope's result into out (when
// not nil). A non-2xx answer is an error carrying the primary's message;
// the token is never part of an error.
func (c *PrimaryClient) call(ctx context.Context, method, path string, query url.Values, headers map[string]string, body, out any) error {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxPrimaryBody+1))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if len(raw) > maxPrimaryBody {
		return fmt.Errorf("%s %s: the answer is larger than %d bytes", method, path, maxPrimaryBody)
	}
	var env struct {
		Status  string          `json:"status"`
		Message string          `json:"message"`
		Result  json.RawMessage `json:"result"`
	}
	decodeErr := json.Unmarshal(raw, &env)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := env.Message
		if decodeErr != nil || msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return fmt.Errorf("%s %s: the primary answered %d: %s", method, path, resp.StatusCode, tenancy.TruncateTo(msg, 300))
	}
	if decodeErr != nil {
		return fmt.Errorf("%s %s: not a Tapis envelope: %w", method, path, decodeErr)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return fmt.Errorf("%s %s: unexpected result: %w", method, path, err)
	}
	return nil
}

// pages reads a whole registry listing, page by page.
func pages[T any](ctx context.Context, c *PrimaryClient, path string, query url.Values) ([]T, error) {
	var all []T
	for offset := 0; ; offset += maxListLimit {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("limit", strconv.Itoa(maxListLimit))
		q.Set("offset", strconv.Itoa(offset))
		var page []T
		if err := c.call(ctx, http.MethodGet, path, q, nil, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < maxListLimit {
			return all, nil
		}
	}
}

// FetchRegistry implements tenancy.RegistrySource: the sites, every tenant
// (drafts and inactive ones too), owners and LDAP objects, from the
// primary's public listings.
func (c *PrimaryClient) FetchRegistry(ctx context.Context) (tenancy.Snapshot, error) {
	var snap tenancy.Snapshot
	sites, err := pages[SiteJSON](ctx, c, "/v3/sites", nil)
	if err != nil {
		return snap, err
	}
	tenants, err := pages[TenantJSON](ctx, c, "/v3/tenants", url.Values{"show_draft": {"true"}, "show_inactive": {"true"}})
	if err != nil {
		return snap, err
	}
	owners, err := pages[OwnerJSON](ctx, c, "/v3/tenants/owners", nil)
	if err != nil {
		return snap, err
	}
	ldaps, err := pages[LDAPJSON](ctx, c, "/v3/tenants/ldaps", nil)
	if err != nil {
		return snap, err
	}
	var problems []error
	for _, s := range sites {
		snap.Sites = append(snap.Sites, tenancy.Site{ID: s.SiteID, BaseURL: s.BaseURL, Primary: s.Primary, Services: s.Services,
			TenantBaseURLTemplate: s.TenantBaseURLTemplate, SiteAdminTenantID: s.SiteAdminTenantID,
			CreateTime: parseTime(registryTime, s.CreateTime, &problems), LastUpdateTime: parseTime(registryTime, s.LastUpdateTime, &problems),
			CreatedBy: s.CreatedBy, LastUpdatedBy: s.LastUpdatedBy})
	}
	for _, t := range tenants {
		snap.Tenants = append(snap.Tenants, tenancy.Tenant{ID: t.TenantID, BaseURL: t.BaseURL, SiteID: t.SiteID,
			TokenService: t.TokenService, SecurityKernel: t.SecurityKernel, Authenticator: t.Authenticator, Owner: t.Owner,
			AdminUser: t.AdminUser, TokenGenServices: t.TokenGenServices, ServiceLDAPConnectionID: t.ServiceLDAPConnectionID,
			UserLDAPConnectionID: t.UserLDAPConnectionID, PublicKey: t.PublicKey, Description: t.Description,
			Status:     tenancy.TenantStatus(strings.ToLower(t.Status)),
			CreateTime: parseTime(registryTime, t.CreateTime, &problems), LastUpdateTime: parseTime(registryTime, t.LastUpdateTime, &problems),
			CreatedBy: t.CreatedBy, LastUpdatedBy: t.LastUpdatedBy})
	}
	for _, o := range owners {
		snap.Owners = append(snap.Owners, tenancy.Owner{Name: o.Name, Email: o.Email, Institution: o.Institution,
			CreateTime: parseTime(http.TimeFormat, o.CreateTime, &problems), LastUpdateTime: parseTime(http.TimeFormat, o.LastUpdateTime, &problems)})
	}
	for _, l := range ldaps {
		snap.LDAPs = append(snap.LDAPs, tenancy.LDAPConnection{ID: l.LDAPID, URL: l.URL, Port: l.Port, UseSSL: l.UseSSL,
			UserDN: l.UserDN, BindDN: l.BindDN, BindCredential: l.BindCredential, AccountType: l.AccountType,
			CreateTime: parseTime(http.TimeFormat, l.CreateTime, &problems), LastUpdateTime: parseTime(http.TimeFormat, l.LastUpdateTime, &problems)})
	}
	if err := errors.Join(problems...); err != nil {
		return tenancy.Snapshot{}, fmt.Errorf("the primary's registry: %w", err)
	}
	return snap, nil
}

func parseTime(layout, v string, problems *[]error) time.Time {
	if v == "" {
		return time.Time{}
	}
	t, err := time.ParseInLocation(layout, v, time.UTC)
	if err != nil {
		*problems = append(*problems, fmt.Errorf("time %q: %w", tenancy.TruncateTo(v, 60), err))
	}
	return t.UTC()
}

// PublishKey implements oauth2.KeyPublisher: PUT /v3/tenants/{id} with the
// public key, as the service the request's token names, acting for itself.
func (c *PrimaryClient) PublishKey(ctx context.Context, req oauth2.PublishRequest) error {
	headers := map[string]string{HeaderToken: req.Token, HeaderTenant: req.AsTenant, HeaderUser: req.AsUser}
	body := map[string]string{"public_key": req.PublicKeyPEM}
	return c.call(ctx, http.MethodPut, "/v3/tenants/"+url.PathEscape(req.TenantID), nil, headers, body, nil)
}
