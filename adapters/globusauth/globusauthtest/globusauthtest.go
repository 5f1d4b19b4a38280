// Package globusauthtest runs an in-process Globus for tests (the real one
// cannot be reached from CI): the Globus Auth endpoints of the native-app
// flow and the Globus Transfer endpoints a credential check calls, speaking
// the documented wire formats and enforcing what the real services enforce
// and a client can get wrong:
//
//   - authorize: the registered client id and redirect URI (exactly), the
//     code response type, an S256 PKCE challenge, the Transfer scope (with
//     an optional data_access dependency per collection), access_type=offline
//     for a refresh token; "consent" answers with a redirect carrying the
//     code and the state;
//   - token (authorization_code): single-use codes that expire, the redirect
//     URI of the authorization, and the PKCE verifier matching the challenge;
//   - token (refresh_token): refresh tokens rotate, and a used one is refused;
//   - Transfer GET endpoint/{id} and operation/endpoint/{id}/ls: a live
//     access token is required, ls on a mapped collection needs the
//     data_access consent for it, and ls knows only the collection's Dirs.
//
// Every token and code starts with SecretPrefix, so a test can look for
// them in logs.
package globusauthtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Defaults of the fake.
const (
	DefaultClientID    = "5c1bd4d6-0b0a-4f0e-9d7c-tapis-test"
	DefaultRedirectURL = "https://auth.globus.org/v2/web/auth-code"
	// SecretPrefix starts every token and code the fake issues.
	SecretPrefix = "globus-fake-secret-"
	// TransferScope is Transfer's scope.
	TransferScope = "urn:globus:auth:scope:transfer.api.globus.org:all"
	codeTTL       = 10 * time.Minute
)

// Collection is a Globus collection the fake knows.
type Collection struct {
	// Mapped collections need the data_access consent for ls.
	Mapped bool
	// Dirs are the paths ls lists (others are ClientError.NotFound).
	Dirs []string
}

// Options configure a Server.
type Options struct {
	ClientID    string        // default DefaultClientID
	RedirectURL string        // default DefaultRedirectURL
	AccessTTL   time.Duration // expires_in of access tokens; default 48h
	// Now is the fake's clock (code and token expiry); default time.Now.
	Now         func() time.Time
	Collections map[string]Collection
	// TransferInOtherTokens answers as Globus does when the top-level token
	// is Globus Auth's own (openid scopes): Transfer's in other_tokens.
	TransferInOtherTokens bool
}

type codeGrant struct {
	challenge, redirect string
	consents            []string // collections with data_access consent
	offline, used       bool
	expires             time.Time
}

type accessGrant struct {
	consents []string
	expires  time.Time
}

type refreshGrant struct {
	consents []string
	used     bool
}

// Server is a running fake Globus; it stops when the test ends.
type Server struct {
	// URL is the base URL (http://127.0.0.1:PORT).
	URL string

	opts Options
	mu   sync.Mutex
	// down answers every Auth request with this status when non-zero.
	down      int
	codes     map[string]*codeGrant
	access    map[string]*accessGrant
	refresh   map[string]*refreshGrant
	exchanges int
	refreshes int
	transfers int
}

// New starts a fake Globus on 127.0.0.1.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.RedirectURL == "" {
		o.RedirectURL = DefaultRedirectURL
	}
	if o.AccessTTL <= 0 {
		o.AccessTTL = 48 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{opts: o, codes: map[string]*codeGrant{}, access: map[string]*accessGrant{}, refresh: map[string]*refreshGrant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/oauth2/authorize", s.authorize)
	mux.HandleFunc("POST /v2/oauth2/token", s.token)
	mux.HandleFunc("GET /v0.10/endpoint/{id}", s.endpoint)
	mux.HandleFunc("GET /v0.10/operation/endpoint/{id}/ls", s.ls)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// AuthURL is the fake's Globus Auth authorize endpoint.
func (s *Server) AuthURL() string { return s.URL + "/v2/oauth2/authorize" }

// TokenURL is the fake's Globus Auth token endpoint.
func (s *Server) TokenURL() string { return s.URL + "/v2/oauth2/token" }

// TransferURL is the base URL of the fake's Globus Transfer API.
func (s *Server) TransferURL() string { return s.URL + "/v0.10/" }

// ClientID is the registered client id.
func (s *Server) ClientID() string { return s.opts.ClientID }

// SetAuthDown makes Globus Auth answer every request with status (0: up
// again).
func (s *Server) SetAuthDown(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = status
}

// Counts returns how many codes were exchanged, refresh tokens used and
// Transfer requests answered (all successfully).
func (s *Server) Counts() (exchanges, refreshes, transfers int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exchanges, s.refreshes, s.transfers
}

// Revoke makes an access or refresh token unusable.
func (s *Server) Revoke(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.access, token)
	if r := s.refresh[token]; r != nil {
		r.used = true
	}
}

// Consent plays the user at the authorize URL: it opens authURL without
// following the redirect and returns the code and state the redirect
// carries. A refused authorization fails the test.
func (s *Server) Consent(t testing.TB, authURL string) (code, state string) {
	t.Helper()
	code, state, err := s.TryConsent(authURL)
	if err != nil {
		t.Fatalf("globusauthtest: consent at %s: %v", authURL, err)
	}
	return code, state
}

// TryConsent is Consent returning the refusal instead of failing.
func (s *Server) TryConsent(authURL string) (code, state string, err error) {
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		var doc map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&doc)
		return "", "", fmt.Errorf("HTTP %d: %v", resp.StatusCode, doc["error_description"])
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return "", "", err
	}
	return loc.Query().Get("code"), loc.Query().Get("state"), nil
}

func newSecret(kind string) string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return SecretPrefix + kind + "-" + base64.RawURLEncoding.EncodeToString(b)
}

var scopeRE = regexp.MustCompile(`^` + regexp.QuoteMeta(TransferScope) +
	`(?:\[\*https://auth\.globus\.org/scopes/([0-9a-f-]{36})/data_access\])?$`)

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// authorize is GET /v2/oauth2/authorize: the user signs in and consents at
// once.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down != 0 {
		oauthError(w, s.down, "server_error", "Globus Auth is down")
		return
	}
	var consents []string
	switch {
	case q.Get("client_id") != s.opts.ClientID:
		oauthError(w, http.StatusBadRequest, "invalid_client", "unknown client_id")
		return
	case q.Get("redirect_uri") != s.opts.RedirectURL:
		oauthError(w, http.StatusBadRequest, "invalid_request", "redirect_uri is not registered")
		return
	case q.Get("response_type") != "code":
		oauthError(w, http.StatusBadRequest, "unsupported_response_type", "response_type must be code")
		return
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43:
		oauthError(w, http.StatusBadRequest, "invalid_request", "a native app must send an S256 code_challenge")
		return
	}
	for _, sc := range strings.Fields(q.Get("scope")) {
		m := scopeRE.FindStringSubmatch(sc)
		if m == nil {
			oauthError(w, http.StatusBadRequest, "invalid_scope", "unknown scope")
			return
		}
		if m[1] != "" {
			consents = append(consents, m[1])
		}
	}
	if len(q.Get("scope")) == 0 {
		oauthError(w, http.StatusBadRequest, "invalid_scope", "no scope")
		return
	}
	code := newSecret("code")
	s.codes[code] = &codeGrant{challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), consents: consents,
		offline: q.Get("access_type") == "offline", expires: s.opts.Now().Add(codeTTL)}
	to, _ := url.Parse(s.opts.RedirectURL)
	v := to.Query()
	v.Set("code", code)
	if st := q.Get("state"); st != "" {
		v.Set("state", st)
	}
	to.RawQuery = v.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound)
}

// token is POST /v2/oauth2/token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	f := r.PostForm
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down != 0 {
		oauthError(w, s.down, "server_error", "Globus Auth is down")
		return
	}
	if f.Get("client_id") != s.opts.ClientID {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client_id")
		return
	}
	now := s.opts.Now()
	var consents []string
	offline := true
	switch f.Get("grant_type") {
	case "authorization_code":
		g := s.codes[f.Get("code")]
		switch {
		case g == nil:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown code")
			return
		case g.used:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "code already used")
			return
		case !now.Before(g.expires):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "code expired")
			return
		case f.Get("redirect_uri") != g.redirect:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization's")
			return
		}
		g.used = true // a code is dead after one attempt, right or wrong
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the challenge")
			return
		}
		consents, offline = g.consents, g.offline
		s.exchanges++
	case "refresh_token":
		g := s.refresh[f.Get("refresh_token")]
		switch {
		case g == nil:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown refresh token")
			return
		case g.used:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "refresh token already used")
			return
		}
		g.used = true
		consents = g.consents
		s.refreshes++
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "unsupported grant_type")
		return
	}
	tok := map[string]any{"access_token": newSecret("access"), "token_type": "Bearer",
		"expires_in": int64(s.opts.AccessTTL / time.Second), "resource_server": "transfer.api.globus.org",
		"scope": TransferScope, "state": "_default"}
	s.access[tok["access_token"].(string)] = &accessGrant{consents: consents, expires: now.Add(s.opts.AccessTTL)}
	if offline {
		rt := newSecret("refresh")
		tok["refresh_token"] = rt
		s.refresh[rt] = &refreshGrant{consents: consents}
	}
	body := tok
	if s.opts.TransferInOtherTokens {
		body = map[string]any{"access_token": newSecret("auth"), "token_type": "Bearer", "expires_in": 172800,
			"resource_server": "auth.globus.org", "scope": "openid", "other_tokens": []any{tok}}
	} else {
		body["other_tokens"] = []any{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(body)
}

func transferError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg, "request_id": "fake"})
}

// bearer returns the live grant of the request's token, or answers 401.
func (s *Server) bearer(w http.ResponseWriter, r *http.Request) *accessGrant {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	g := s.access[tok]
	if !ok || g == nil || !s.opts.Now().Before(g.expires) {
		transferError(w, http.StatusUnauthorized, "AuthenticationFailed", "Token is not active")
		return nil
	}
	return g
}

// endpoint is GET /v0.10/endpoint/{id}.
func (s *Server) endpoint(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bearer(w, r) == nil {
		return
	}
	id := r.PathValue("id")
	c, ok := s.opts.Collections[id]
	if !ok {
		transferError(w, http.StatusNotFound, "EndpointNotFound", "No such endpoint")
		return
	}
	kind := "GCSv5_guest_collection"
	if c.Mapped {
		kind = "GCSv5_mapped_collection"
	}
	s.transfers++
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"DATA_TYPE": "endpoint", "id": id, "display_name": "fake " + id, "entity_type": kind})
}

// ls is GET /v0.10/operation/endpoint/{id}/ls?path=.
func (s *Server) ls(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.bearer(w, r)
	if g == nil {
		return
	}
	id := r.PathValue("id")
	c, ok := s.opts.Collections[id]
	switch {
	case !ok:
		transferError(w, http.StatusNotFound, "EndpointNotFound", "No such endpoint")
		return
	case c.Mapped && !slices.Contains(g.consents, id):
		transferError(w, http.StatusForbidden, "ConsentRequired", "Missing required data_access consent")
		return
	}
	path := r.URL.Query().Get("path")
	if !slices.Contains(c.Dirs, path) {
		transferError(w, http.StatusNotFound, "ClientError.NotFound", "Directory not found")
		return
	}
	s.transfers++
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"DATA_TYPE": "file_list", "path": path, "DATA": []any{}})
}
