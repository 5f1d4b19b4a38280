// Package globusauth is a systems.Globus over Globus Auth's native-app flow
// (authorization code with PKCE, refresh tokens) built on
// golang.org/x/oauth2, and the check of a GLOBUS system's credential with
// Globus Transfer (GET endpoint/{id}, then an ls of rootDir).
//
// The scope asked for is Transfer's, with the collection's data_access
// scope as a dependency, as the original Tapis GlobusProxy asks:
//
//	urn:globus:auth:scope:transfer.api.globus.org:all[*https://auth.globus.org/scopes/<collection>/data_access]
//
// Only the client id of a native app registered with Globus is needed (no
// secret). Every endpoint is configurable, for tests and for sites behind
// a proxy; the defaults are the real Globus services.
package globusauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/tenancy"
)

// The real Globus endpoints.
const (
	DefaultAuthURL     = "https://auth.globus.org/v2/oauth2/authorize"
	DefaultTokenURL    = "https://auth.globus.org/v2/oauth2/token"
	DefaultTransferURL = "https://transfer.api.globus.org/v0.10/"
	// DefaultRedirectURL is Globus Auth's page that shows the user the code
	// to paste back (the native-app flow without a local listener).
	DefaultRedirectURL = "https://auth.globus.org/v2/web/auth-code"
	// DefaultTimeout bounds each call to Globus Auth.
	DefaultTimeout = 30 * time.Second

	// TransferScope is the scope of the Globus Transfer API.
	TransferScope = "urn:globus:auth:scope:transfer.api.globus.org:all"
	// transferResourceServer names Transfer's tokens in Globus Auth answers.
	transferResourceServer = "transfer.api.globus.org"
)

// Options configure a Client.
type Options struct {
	// ClientID is the id of the native app registered with Globus Auth.
	// Required.
	ClientID string
	// AuthURL, TokenURL and TransferURL default to the real Globus
	// services; RedirectURL to DefaultRedirectURL. Each must be https (http
	// only for a loopback host, for tests).
	AuthURL, TokenURL, TransferURL, RedirectURL string
	// NoDataAccessScope never asks for the collection's data_access scope
	// (for sites whose GLOBUS systems name guest collections, which have
	// none). By default it is asked for, as the original does.
	NoDataAccessScope bool
	// Policy bounds the Transfer checks (deadlines, per-tenant cap) and its
	// SSRF guard applies to TransferURL's host.
	Policy hostcheck.Policy
	// Timeout bounds each call to Globus Auth; default DefaultTimeout.
	Timeout time.Duration
	// HTTPClient, when set, is used for Globus Auth (its own timeouts
	// apply too); default: a client with dial, TLS and header deadlines.
	HTTPClient *http.Client
	// Now gives the time token expiries count from; default time.Now.
	Now func() time.Time
}

// Client is a systems.Globus over Globus Auth and Globus Transfer.
type Client struct {
	conf      oauth2.Config
	dataScope bool
	timeout   time.Duration
	authHTTP  *http.Client
	transfer  *transfer
	check     *hostcheck.Guarded
	now       func() time.Time
}

var _ systems.Globus = (*Client)(nil)

// New returns a Client; its error names every problem of the options.
func New(o Options) (*Client, error) {
	var problems []string
	if strings.TrimSpace(o.ClientID) == "" || strings.ContainsFunc(o.ClientID, isSpaceOrControl) {
		problems = append(problems, "ClientID must be a Globus client id (no spaces)")
	}
	urls := []struct {
		name string
		val  *string
		def  string
	}{{"AuthURL", &o.AuthURL, DefaultAuthURL}, {"TokenURL", &o.TokenURL, DefaultTokenURL},
		{"TransferURL", &o.TransferURL, DefaultTransferURL}, {"RedirectURL", &o.RedirectURL, DefaultRedirectURL}}
	for _, u := range urls {
		if *u.val == "" {
			*u.val = u.def
		}
		if err := checkURL(*u.val); err != nil {
			problems = append(problems, fmt.Sprintf("%s %q: %v", u.name, *u.val, err))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("globusauth: %s", strings.Join(problems, "; "))
	}
	if !strings.HasSuffix(o.TransferURL, "/") {
		o.TransferURL += "/"
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: o.Timeout, Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: o.Timeout,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          8,
			IdleConnTimeout:       90 * time.Second,
		}}
	}
	c := &Client{
		conf: oauth2.Config{ClientID: o.ClientID, RedirectURL: o.RedirectURL, Endpoint: oauth2.Endpoint{
			AuthURL: o.AuthURL, TokenURL: o.TokenURL, AuthStyle: oauth2.AuthStyleInParams}},
		dataScope: !o.NoDataAccessScope, timeout: o.Timeout, authHTTP: o.HTTPClient, now: o.Now,
	}
	c.transfer = newTransfer(o.TransferURL, o.Policy)
	c.check = o.Policy.GuardService(c.transfer, o.TransferURL)
	return c, nil
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// checkURL accepts absolute https URLs, and http for loopback hosts.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Host == "" || !u.IsAbs():
		return errors.New("not an absolute URL")
	case u.User != nil || u.Fragment != "":
		return errors.New("no user info or fragment allowed")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return errors.New("must be https (http only for a loopback host)")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// isCollectionID reports whether s is a Globus collection (endpoint) id: a
// UUID.
func isCollectionID(s string) bool { return uuidRE.MatchString(s) }

// Scope is the scope asked for a collection: Transfer, with the
// collection's data_access scope as a dependency unless turned off.
func (c *Client) Scope(collectionID string) string {
	if !c.dataScope {
		return TransferScope
	}
	return TransferScope + "[*https://auth.globus.org/scopes/" + strings.ToLower(collectionID) + "/data_access]"
}

// AuthURL implements systems.Globus.
func (c *Client) AuthURL(_ context.Context, collectionID, state, verifier string) (string, error) {
	if !isCollectionID(collectionID) {
		return "", tenancy.Errorf(systems.ErrInvalid, "SYSAPI_GLOBUS_BAD_HOST The host %q of a GLOBUS system must be a Globus collection id (a UUID).", collectionID)
	}
	conf := c.conf
	conf.Scopes = []string{c.Scope(collectionID)}
	return conf.AuthCodeURL(state, oauth2.AccessTypeOffline, oauth2.S256ChallengeOption(verifier)), nil
}

// Exchange implements systems.Globus.
func (c *Client) Exchange(ctx context.Context, code, verifier string) (systems.GlobusTokens, error) {
	ctx, cancel := c.authContext(ctx)
	defer cancel()
	tok, err := c.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return systems.GlobusTokens{}, c.authErr(ctx, err)
	}
	return c.transferTokens(tok)
}

// Refresh implements systems.Globus.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (systems.GlobusTokens, error) {
	ctx, cancel := c.authContext(ctx)
	defer cancel()
	tok, err := c.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return systems.GlobusTokens{}, c.authErr(ctx, err)
	}
	return c.transferTokens(tok)
}

// Verify implements hostcheck.Verifier (and so systems.Globus): the access
// token must open the collection (GET endpoint/{id}) and its rootDir (an
// ls), checked under the policy.
func (c *Client) Verify(ctx context.Context, t hostcheck.Target, cred systems.Credential) error {
	return c.check.Verify(ctx, t, cred)
}

func (c *Client) authContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	return context.WithValue(ctx, oauth2.HTTPClient, c.authHTTP), cancel
}

// transferTokens picks the Transfer tokens of a Globus Auth answer: the
// top-level token, or the one in other_tokens when another resource server
// came first.
func (c *Client) transferTokens(tok *oauth2.Token) (systems.GlobusTokens, error) {
	out := systems.GlobusTokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expires: c.expiry(tok.ExpiresIn)}
	if rs, _ := tok.Extra("resource_server").(string); rs != "" && rs != transferResourceServer {
		out = systems.GlobusTokens{}
		others, _ := tok.Extra("other_tokens").([]any)
		for _, o := range others {
			m, _ := o.(map[string]any)
			if rs, _ := m["resource_server"].(string); rs != transferResourceServer {
				continue
			}
			out.AccessToken, _ = m["access_token"].(string)
			out.RefreshToken, _ = m["refresh_token"].(string)
			if secs, ok := m["expires_in"].(float64); ok {
				out.Expires = c.expiry(int64(secs))
			}
		}
	}
	if out.AccessToken == "" {
		return systems.GlobusTokens{}, tenancy.Errorf(systems.ErrUpstream, "Globus Auth answered without a token for Globus Transfer.")
	}
	return out, nil
}

// expiry is now + secs (zero, unknown, for secs <= 0).
func (c *Client) expiry(secs int64) time.Time {
	if secs <= 0 {
		return time.Time{}
	}
	return c.now().Add(time.Duration(secs) * time.Second).UTC()
}

// errorCode keeps what may be shown of an error code from Globus.
var errorCodeRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func safeCode(code string) string {
	if errorCodeRE.MatchString(code) {
		return code
	}
	return ""
}

// authErr classifies a failed call to Globus Auth. Messages name the
// OAuth2 error code or the network failure, never the body, a token or a
// code.
func (c *Client) authErr(ctx context.Context, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		code := safeCode(re.ErrorCode)
		switch {
		case code == "invalid_client" || code == "unauthorized_client":
			return tenancy.Errorf(systems.ErrUpstream, "Globus Auth does not accept this server's client id (%s): the operator must check the Globus client id.", code)
		case status >= 500 || status == 0:
			return tenancy.Errorf(systems.ErrUpstream, "Globus Auth failed (HTTP %d).", status)
		case code != "":
			return tenancy.Errorf(systems.ErrGlobusRefused, "Globus Auth answered %s", code)
		default:
			return tenancy.Errorf(systems.ErrGlobusRefused, "Globus Auth answered HTTP %d", status)
		}
	}
	var ue *url.Error
	switch {
	case errors.Is(err, context.Canceled) && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return err
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.As(err, &ue) && ue.Timeout():
		return tenancy.Errorf(systems.ErrUpstream, "Globus Auth did not answer within %s.", c.timeout)
	case errors.As(err, &ue):
		return tenancy.Errorf(systems.ErrUpstream, "Globus Auth could not be reached: %v.", ue.Err)
	}
	return tenancy.Errorf(systems.ErrUpstream, "Globus Auth gave an answer this server cannot read.")
}
