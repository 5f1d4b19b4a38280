package interop_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

const (
	user     = "testuser1"
	callback = "http://localhost:5000/rp-callback"
)

// confidentialClient registers a client of user in dev with the test
// callback and returns its key.
func confidentialClient(t *testing.T, env *testenv.Env, id string) string {
	t.Helper()
	owner := tenancy.Principal{TenantID: "dev", Username: user, AccountType: tenancy.AccountUser, TokenTenantID: "dev", TokenUsername: user}
	_, key, err := env.Server.OAuth2().CreateClient(context.Background(), owner,
		oauth2.NewClient{ClientID: id, CallbackURL: callback, DisplayName: id})
	require.NoError(t, err)
	return key
}

// browser signs a user in through the login and consent pages: an HTTP
// client with cookies that stops at every redirect, as the pages expect a
// browser to follow them.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	url      *url.URL
	code     int
	location *url.URL
	body     string
}

func (b *browser) send(method, raw string, form url.Values) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, raw, body)
	require.NoError(b.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	p := page{url: req.URL, code: resp.StatusCode, body: string(text)}
	if loc := resp.Header.Get("Location"); loc != "" {
		p.location, err = req.URL.Parse(loc)
		require.NoError(b.t, err)
	}
	return p
}

var (
	csrfField    = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	requestField = regexp.MustCompile(`name="request" value="([^"]+)"`)
)

func field(t *testing.T, re *regexp.Regexp, p page) string {
	t.Helper()
	m := re.FindStringSubmatch(p.body)
	require.NotNil(t, m, "no %s in the page at %s: %s", re, p.url, p.body)
	return m[1]
}

// authorize opens an authorization URL built by a relying party, signs in
// when the login page comes, approves on the consent page and returns the
// query the provider sends to the client's callback.
func (b *browser) authorize(authURL string) url.Values {
	b.t.Helper()
	p := b.send("GET", authURL, nil)
	if p.code == http.StatusFound && p.location.Path == "/v3/oauth2/login" {
		login := b.send("GET", p.location.String(), nil)
		require.Equal(b.t, 200, login.code, "login page: %s", login.body)
		p = b.send("POST", p.location.String(), url.Values{"csrf": {field(b.t, csrfField, login)}, "username": {user}, "password": {user}})
		require.Equal(b.t, http.StatusSeeOther, p.code, "sign in: %s", p.body)
		p = b.send("GET", p.location.String(), nil)
	}
	require.Equal(b.t, 200, p.code, "consent page at %s: %s", p.url, p.body)
	p = b.send("POST", p.url.Scheme+"://"+p.url.Host+"/v3/oauth2/authorize", url.Values{"csrf": {field(b.t, csrfField, p)},
		"request": {field(b.t, requestField, p)}, "decision": {"approve"}})
	require.Equal(b.t, http.StatusSeeOther, p.code, "approve: %s", p.body)
	require.Equal(b.t, callback, p.location.Scheme+"://"+p.location.Host+p.location.Path, "sent to the client's callback")
	return p.location.Query()
}
