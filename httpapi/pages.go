package httpapi

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/oauth2"
)

// The authenticator's HTML pages (login, consent, device, logout, token web
// app) share this plumbing: a sealed session cookie, a CSRF token on every
// form, and headers that forbid framing, inline script and referrer leaks.

//go:embed templates/*.html
var templateFS embed.FS

var pageTemplates = template.Must(template.New("pages").Funcs(template.FuncMap{
	// with_title sets a webPage's default title.
	"with_title": func(data map[string]any, title string) map[string]any {
		if _, set := data["Title"]; !set {
			data["Title"] = title
		}
		return data
	},
}).ParseFS(templateFS, "templates/*.html"))

const (
	sessionCookie = "tapis_oauth2_session"
	sessionPath   = "/v3/oauth2"
	sessionTTL    = 8 * time.Hour
	maxFormBytes  = 16 << 10
)

var sessionAAD = []byte("tapis-oauth2-session-v1")

// session is the browser state of the pages, sealed (AES-GCM) in a cookie:
// who signed in, the CSRF token, and the flow in progress.
type session struct {
	Tenant   string                   `json:"t"`
	Username string                   `json:"u,omitempty"`
	AuthTime int64                    `json:"at,omitempty"` // when Username signed in (Unix seconds)
	CSRF     string                   `json:"c"`
	Expires  int64                    `json:"e"`
	Pending  *oauth2.AuthorizeRequest `json:"p,omitempty"` // authorization awaiting login or consent
	// PendingID names Pending; the consent form carries it back, so a
	// request swapped in by another tab or site is never approved blindly.
	PendingID string `json:"pi,omitempty"`
	Next      string `json:"n,omitempty"` // where login returns: authorize, device, webapp
	UserCode  string `json:"d,omitempty"` // device code entered, awaiting consent
	// Token Web App: its PKCE verifier and state while the code flow runs,
	// then the token it shows.
	WebState    string `json:"ws,omitempty"`
	WebVerifier string `json:"wv,omitempty"`
	WebToken    string `json:"wt,omitempty"`
	WebTokenExp int64  `json:"wx,omitempty"`
}

// signedIn is the session after a successful login: a new CSRF token (no
// session fixation), the user and when they signed in, and the flow that
// was in progress — the pending authorization and the Token Web App's
// state and PKCE verifier, without which its callback could not finish.
// Nothing that belonged to a previous user (a shown token, a device code)
// is kept.
func (s session) signedIn(username string, now time.Time) session {
	return session{Tenant: s.Tenant, Username: username, AuthTime: now.Unix(), CSRF: randomString(32),
		Expires: now.Add(sessionTTL).Unix(), Pending: s.Pending, PendingID: s.PendingID,
		WebState: s.WebState, WebVerifier: s.WebVerifier}
}

// authTime is when the user signed in; zero when unknown.
func (s session) authTime() time.Time {
	if s.AuthTime == 0 {
		return time.Time{}
	}
	return time.Unix(s.AuthTime, 0)
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("httpapi: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// webPage is one request to a webPage handler.
type webPage struct {
	h      *handlers
	ctx    huma.Context
	tenant string
	sess   session
	nonce  string
	secure bool // the cookie is Secure: TLS here, or an https tenant (TLS ends at a proxy)
}

// newPage resolves the tenant and opens the session cookie; a missing,
// expired, forged or other-tenant cookie gives a fresh anonymous session.
func (h *handlers) newPage(ctx huma.Context) (*webPage, error) {
	tenant, err := h.requestTenantOf(ctx)
	if err != nil {
		return nil, err
	}
	pg := &webPage{h: h, ctx: ctx, tenant: tenant, nonce: randomString(16), secure: ctx.TLS() != nil}
	if base, err := h.tenantBase(ctx.Context(), tenant); err == nil && strings.HasPrefix(base, "https://") {
		pg.secure = true
	}
	now := time.Now()
	if cookies, err := http.ParseCookie(ctx.Header("Cookie")); err == nil {
		for _, c := range cookies {
			if c.Name != sessionCookie {
				continue
			}
			raw, err := base64.RawURLEncoding.DecodeString(c.Value)
			if err != nil {
				break
			}
			plain, err := h.svc.Sessions.Open(raw, sessionAAD)
			if err != nil {
				break
			}
			var s session
			if json.Unmarshal(plain, &s) == nil && s.Tenant == tenant && now.Unix() < s.Expires {
				pg.sess = s
			}
			break
		}
	}
	if pg.sess.CSRF == "" {
		pg.sess = session{Tenant: tenant, CSRF: randomString(32), Expires: now.Add(sessionTTL).Unix()}
	}
	return pg, nil
}

// save writes the session cookie.
func (pg *webPage) save() error {
	plain, err := json.Marshal(pg.sess)
	if err != nil {
		return err
	}
	sealed, err := pg.h.svc.Sessions.Seal(plain, sessionAAD)
	if err != nil {
		return err
	}
	c := &http.Cookie{Name: sessionCookie, Value: base64.RawURLEncoding.EncodeToString(sealed), Path: sessionPath,
		Expires: time.Unix(pg.sess.Expires, 0), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: pg.secure}
	pg.ctx.AppendHeader("Set-Cookie", c.String())
	return nil
}

// clear ends the session: an expired cookie replaces it.
func (pg *webPage) clear() {
	c := &http.Cookie{Name: sessionCookie, Value: "", Path: sessionPath, MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: pg.secure}
	pg.ctx.AppendHeader("Set-Cookie", c.String())
	pg.sess = session{Tenant: pg.tenant, CSRF: randomString(32), Expires: time.Now().Add(sessionTTL).Unix()}
}

// form reads a POSTed form (bounded) and checks its CSRF token against the
// session's in constant time.
func (pg *webPage) form() (url.Values, bool) {
	v, err := readForm(pg.ctx, maxFormBytes)
	if err != nil {
		return nil, false
	}
	got := v.Get("csrf")
	return v, got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(pg.sess.CSRF)) == 1
}

// securityHeaders forbid framing, scripts, foreign styles and referrers;
// formTargets are the callback URLs a form may end up at after consent: each
// adds its origin to form-action only when it passes the callback rules
// (oauth2.CallbackOrigin), so no stored value can add a directive.
func (pg *webPage) securityHeaders(formTargets ...string) {
	formAction := "'self'"
	for _, t := range formTargets {
		if origin := oauth2.CallbackOrigin(t); origin != "" {
			formAction += " " + origin
		}
	}
	pg.ctx.SetHeader("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+pg.nonce+"'; img-src 'self' data:; "+
		"form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	pg.ctx.SetHeader("X-Frame-Options", "DENY")
	pg.ctx.SetHeader("X-Content-Type-Options", "nosniff")
	pg.ctx.SetHeader("Referrer-Policy", "no-referrer")
	pg.ctx.SetHeader("Cache-Control", "no-store")
}

// render writes a webPage with the session saved first.
func (pg *webPage) render(status int, name string, data map[string]any, formTargets ...string) {
	if data == nil {
		data = map[string]any{}
	}
	data["CSRF"], data["Nonce"], data["Tenant"], data["Username"] = pg.sess.CSRF, pg.nonce, pg.tenant, pg.sess.Username
	if err := pg.save(); err != nil {
		pg.h.log.ErrorContext(pg.ctx.Context(), "sealing the session failed", "err", err)
		status, name = http.StatusInternalServerError, "message.html"
		data["Title"], data["Message"] = "Error", "An internal error occurred."
	}
	pg.securityHeaders(formTargets...)
	pg.ctx.SetHeader("Content-Type", "text/html; charset=utf-8")
	pg.ctx.SetStatus(status)
	if err := pageTemplates.ExecuteTemplate(pg.ctx.BodyWriter(), name, data); err != nil {
		pg.h.log.ErrorContext(pg.ctx.Context(), "rendering a webPage failed", "webPage", name, "err", err)
	}
}

// message renders a webPage with a title and one message.
func (pg *webPage) message(status int, title, msg string) {
	pg.render(status, "message.html", map[string]any{"Title": title, "Message": msg})
}

// redirect saves the session and sends the browser on (303 after a POST so
// the browser follows with GET).
func (pg *webPage) redirect(to string) {
	if err := pg.save(); err != nil {
		pg.message(http.StatusInternalServerError, "Error", "An internal error occurred.")
		return
	}
	pg.securityHeaders()
	pg.ctx.SetHeader("Location", to)
	if pg.ctx.Method() == http.MethodPost {
		pg.ctx.SetStatus(http.StatusSeeOther)
		return
	}
	pg.ctx.SetStatus(http.StatusFound)
}

// pageHandler adapts a webPage function, answering a plain error webPage when the
// tenant cannot be resolved.
func (h *handlers) pageHandler(fn func(*webPage)) func(huma.Context) {
	return func(ctx huma.Context) {
		pg, err := h.newPage(ctx)
		if err != nil {
			h.log.ErrorContext(ctx.Context(), "resolving the tenant of a webPage failed", "err", err)
			ctx.SetHeader("Content-Type", "text/plain; charset=utf-8")
			ctx.SetStatus(http.StatusInternalServerError)
			_, _ = io.WriteString(ctx.BodyWriter(), "An internal error occurred.\n")
			return
		}
		fn(pg)
	}
}
