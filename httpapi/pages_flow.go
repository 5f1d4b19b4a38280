package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

const pathOAuth2 = "/v3/oauth2"

func (h *handlers) registerPages(api huma.API) {
	for _, r := range []struct {
		method, path string
		fn           func(*webPage)
	}{
		{http.MethodGet, "/authorize", h.authorizeGet},
		{http.MethodPost, "/authorize", h.authorizePost},
		{http.MethodGet, "/login", h.loginGet},
		{http.MethodPost, "/login", h.loginPost},
		{http.MethodGet, "/logout", h.logoutGet},
		{http.MethodPost, "/logout", h.logoutPost},
		{http.MethodGet, "/device", h.deviceGet},
		{http.MethodPost, "/device", h.devicePost},
		{http.MethodGet, "/webapp", h.webapp},
		{http.MethodGet, "/webapp/callback", h.webappCallback},
		{http.MethodPost, "/webapp/logout", h.webappLogout},
	} {
		h.rawHandler(api, r.method, pathOAuth2+r.path, h.pageHandler(r.fn))
	}
}

// pageError shows a domain error on a webPage: its message for a client's
// mistake, a generic one (logged) otherwise.
func (pg *webPage) pageError(err error) {
	status := StatusOf(err)
	if status >= http.StatusInternalServerError {
		pg.h.log.ErrorContext(pg.ctx.Context(), "webPage failed", "err", err)
		pg.message(http.StatusInternalServerError, "Error", "An internal error occurred.")
		return
	}
	pg.message(status, "The request cannot be completed", err.Error())
}

// authorizeGet checks an authorization request and, once the user is signed
// in, asks for consent. Without query it resumes the request in progress.
func (h *handlers) authorizeGet(pg *webPage) {
	q := pageQuery(pg.ctx)
	if q.Get("client_id") != "" || q.Get("response_type") != "" {
		req := oauth2.AuthorizeRequest{TenantID: pg.tenant, ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"),
			ResponseType: q.Get("response_type"), State: q.Get("state"), CodeChallenge: q.Get("code_challenge"),
			CodeChallengeMethod: q.Get("code_challenge_method"), Scope: q.Get("scope"), Nonce: q.Get("nonce")}
		pg.sess.Pending, pg.sess.PendingID = &req, randomString(16)
	}
	if pg.sess.Pending == nil {
		pg.message(http.StatusBadRequest, "No authorization request", "Required query parameter client_id missing.")
		return
	}
	client, err := h.svc.OAuth2.CheckAuthorize(pg.ctx.Context(), *pg.sess.Pending)
	if err != nil {
		pg.sess.Pending = nil
		pg.pageError(err)
		return
	}
	if pg.sess.Username == "" {
		pg.sess.Next = "authorize"
		pg.redirect(pathOAuth2 + "/login")
		return
	}
	pg.render(http.StatusOK, "consent.html", map[string]any{"Client": client.DisplayName, "ClientID": client.ClientID,
		"Implicit": pg.sess.Pending.ResponseType == oauth2.ResponseToken, "Request": pg.sess.PendingID}, client.CallbackURL)
}

// authorizePost records the user's decision on the request in the session
// (never on form fields a webPage could forge) and redirects to the client.
func (h *handlers) authorizePost(pg *webPage) {
	form, valid := pg.form()
	if !valid {
		pg.message(http.StatusForbidden, "Request refused", "The form has expired or did not come from this site; please try again.")
		return
	}
	if pg.sess.Pending == nil {
		pg.message(http.StatusBadRequest, "No authorization request", "There is no authorization request in progress.")
		return
	}
	if pg.sess.Username == "" {
		pg.sess.Next = "authorize"
		pg.redirect(pathOAuth2 + "/login")
		return
	}
	req := *pg.sess.Pending
	if got := form.Get("request"); got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(pg.sess.PendingID)) != 1 {
		// The pending request is not the one this form showed: show the
		// current one again instead of deciding on it.
		pg.redirect(pathOAuth2 + "/authorize")
		return
	}
	var to string
	var err error
	switch form.Get("decision") {
	case "approve":
		to, err = h.svc.OAuth2.Approve(pg.ctx.Context(), req, pg.sess.Username, pg.sess.authTime())
	case "deny":
		to, err = h.svc.OAuth2.Deny(pg.ctx.Context(), req)
	default:
		client, cerr := h.svc.OAuth2.CheckAuthorize(pg.ctx.Context(), req)
		if cerr != nil {
			pg.pageError(cerr)
			return
		}
		pg.render(http.StatusOK, "consent.html", map[string]any{"Client": client.DisplayName, "ClientID": client.ClientID,
			"Request": pg.sess.PendingID,
			"Error":   "To proceed with authorization application " + client.DisplayName + ", you must approve the request."},
			client.CallbackURL)
		return
	}
	pg.sess.Pending, pg.sess.PendingID = nil, ""
	if err != nil {
		pg.pageError(err)
		return
	}
	pg.redirect(to)
}

func (h *handlers) loginGet(pg *webPage) {
	pg.render(http.StatusOK, "login.html", nil)
}

// loginPost checks the password (rate limited) and starts a fresh session
// (new CSRF token: no session fixation) that keeps the flow in progress,
// then resumes it.
func (h *handlers) loginPost(pg *webPage) {
	form, valid := pg.form()
	if !valid {
		pg.message(http.StatusForbidden, "Request refused", "The form has expired or did not come from this site; please try again.")
		return
	}
	user, pass := strings.TrimSpace(form.Get("username")), form.Get("password")
	switch {
	case user == "":
		pg.render(http.StatusOK, "login.html", map[string]any{"Error": "Username is required."})
		return
	case pass == "":
		pg.render(http.StatusOK, "login.html", map[string]any{"Error": "Password is required.", "Login": user})
		return
	}
	id, err := h.svc.OAuth2.CheckPassword(pg.ctx.Context(), pg.tenant, user, pass, h.clientAddr(pg.ctx))
	if err != nil {
		status := StatusOf(err)
		if status >= http.StatusInternalServerError {
			pg.pageError(err)
			return
		}
		if status == http.StatusBadRequest {
			status = http.StatusOK // the form again, with the message
		}
		if wait, limited := retryAfter(err); limited {
			pg.ctx.SetHeader("Retry-After", wait)
		}
		pg.render(status, "login.html", map[string]any{"Error": err.Error(), "Login": user})
		return
	}
	next := pg.sess.Next
	pg.sess = pg.sess.signedIn(id.Username, time.Now())
	switch next {
	case "authorize":
		pg.redirect(pathOAuth2 + "/authorize")
	case "device":
		pg.redirect(pathOAuth2 + "/device")
	default:
		pg.redirect(pathOAuth2 + "/webapp")
	}
}

func (h *handlers) logoutGet(pg *webPage) {
	pg.render(http.StatusOK, "logout.html", nil)
}

func (h *handlers) logoutPost(pg *webPage) {
	if _, valid := pg.form(); !valid {
		pg.message(http.StatusForbidden, "Request refused", "The form has expired or did not come from this site; please try again.")
		return
	}
	pg.clear()
	pg.securityHeaders()
	pg.message(http.StatusOK, "Signed out", "You are signed out.")
}

// deviceGet shows the user-code form (after login).
func (h *handlers) deviceGet(pg *webPage) {
	if pg.sess.Username == "" {
		pg.sess.Next = "device"
		pg.redirect(pathOAuth2 + "/login")
		return
	}
	pg.render(http.StatusOK, "device.html", map[string]any{"UserCode": pageQuery(pg.ctx).Get("user_code")})
}

// devicePost takes the user code, then the consent (approve with a TTL in
// days, or deny). The device gets tokens only after approval.
func (h *handlers) devicePost(pg *webPage) {
	form, valid := pg.form()
	if !valid {
		pg.message(http.StatusForbidden, "Request refused", "The form has expired or did not come from this site; please try again.")
		return
	}
	if pg.sess.Username == "" {
		pg.sess.Next = "device"
		pg.redirect(pathOAuth2 + "/login")
		return
	}
	ctx := pg.ctx.Context()
	decision := form.Get("decision")
	if decision == "" {
		code := oauth2.NormalizeUserCode(form.Get("user_code"))
		d, err := h.svc.OAuth2.EnterUserCode(ctx, pg.tenant, pg.sess.Username, code)
		if err != nil {
			if StatusOf(err) >= http.StatusInternalServerError {
				pg.pageError(err)
				return
			}
			pg.render(http.StatusOK, "device.html", map[string]any{"Error": err.Error(), "UserCode": form.Get("user_code")})
			return
		}
		pg.sess.UserCode = d.UserCode
		pg.render(http.StatusOK, "device_consent.html", map[string]any{"ClientID": d.ClientID, "TTL": 30})
		return
	}
	if pg.sess.UserCode == "" {
		pg.message(http.StatusBadRequest, "No device request", "Enter the code shown on your device first.")
		return
	}
	days := 30
	if raw := strings.TrimSpace(form.Get("ttl")); raw != "" && decision == "approve" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 365 {
			pg.render(http.StatusOK, "device_consent.html", map[string]any{"Error": "Please enter an integer from 1 to 365.", "TTL": raw})
			return
		}
		days = n
	}
	code := pg.sess.UserCode
	pg.sess.UserCode = ""
	if err := h.svc.OAuth2.DecideDevice(ctx, pg.tenant, pg.sess.Username, code, decision == "approve", time.Duration(days)*24*time.Hour); err != nil {
		pg.pageError(err)
		return
	}
	if decision == "approve" {
		pg.message(http.StatusOK, "Device approved", "You may now return to your device.")
		return
	}
	pg.message(http.StatusOK, "Device denied", "The device will not receive a token.")
}

// webapp shows the signed-in user a token obtained through the code flow
// with PKCE by the tenant's Token Web App client.
func (h *handlers) webapp(pg *webPage) {
	ctx := pg.ctx.Context()
	cfg, err := h.svc.OAuth2.TenantConfig(ctx, pg.tenant)
	if err != nil {
		pg.pageError(err)
		return
	}
	if !cfg.UseTokenWebapp {
		pg.message(http.StatusNotFound, "Not available", "The Token Web App is not enabled for this tenant.")
		return
	}
	if pg.toBaseHost(pathOAuth2 + "/webapp") {
		return
	}
	if pg.sess.WebToken != "" && time.Now().Unix() < pg.sess.WebTokenExp {
		pg.render(http.StatusOK, "webapp.html", map[string]any{"Token": pg.sess.WebToken,
			"Expires": time.Unix(pg.sess.WebTokenExp, 0).UTC().Format(time.RFC3339)})
		return
	}
	client, callback, err := h.webappClient(ctx, pg.tenant)
	if err != nil {
		pg.pageError(err)
		return
	}
	pg.sess.WebState, pg.sess.WebVerifier = randomString(24), randomString(32)
	sum := sha256.Sum256([]byte(pg.sess.WebVerifier))
	q := url.Values{"client_id": {client.ClientID}, "redirect_uri": {callback}, "response_type": {"code"},
		"state": {pg.sess.WebState}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}}
	pg.redirect(pathOAuth2 + "/authorize?" + q.Encode())
}

// toBaseHost sends a browser that opened a flow on another name of the
// listener (localhost for 127.0.0.1, or any address that falls back to the
// default tenant) to the same page at the tenant's base URL, and reports
// whether it did. The flow's callback is the base URL, and the session
// cookie goes only to the host that set it, so the whole flow must run
// there. The target comes from the registry, never from the request; a
// marker stops a proxy that rewrites Host from causing a loop.
func (pg *webPage) toBaseHost(path string) bool {
	const marker = "on_base_host"
	base, err := pg.h.tenantBase(pg.ctx.Context(), pg.tenant)
	if err != nil {
		return false
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || tenancy.NormalizeHost(u.Host) == tenancy.NormalizeHost(pg.ctx.Host()) ||
		pageQuery(pg.ctx).Get(marker) != "" {
		return false
	}
	pg.redirect(base + path + "?" + marker + "=1")
	return true
}

func (h *handlers) webappClient(ctx context.Context, tenantID string) (oauth2.Client, string, error) {
	base, err := h.tenantBase(ctx, tenantID)
	if err != nil {
		return oauth2.Client{}, "", err
	}
	callback := base + pathOAuth2 + "/webapp/callback"
	c, err := h.svc.OAuth2.EnsureWebappClient(ctx, tenantID, callback)
	return c, callback, err
}

// webappCallback checks the state, redeems the code with the PKCE verifier
// and keeps the token in the session.
func (h *handlers) webappCallback(pg *webPage) {
	q := pageQuery(pg.ctx)
	state, verifier := pg.sess.WebState, pg.sess.WebVerifier
	pg.sess.WebState, pg.sess.WebVerifier = "", ""
	if state == "" || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
		pg.message(http.StatusBadRequest, "Request refused", "Unauthorized access attempt: state mismatch.")
		return
	}
	if e := q.Get("error"); e != "" {
		pg.message(http.StatusOK, "No token", "The authorization was not granted ("+e+").")
		return
	}
	ctx := pg.ctx.Context()
	client, callback, err := h.webappClient(ctx, pg.tenant)
	if err != nil {
		pg.pageError(err)
		return
	}
	pair, err := h.svc.OAuth2.Token(ctx, oauth2.TokenRequest{TenantID: pg.tenant, GrantType: oauth2.GrantAuthorizationCode,
		ClientID: client.ClientID, RedirectURI: callback, Code: q.Get("code"), CodeVerifier: verifier,
		RemoteAddr: h.clientAddr(pg.ctx)})
	if err != nil {
		var ge *oauth2.GrantError
		if errors.As(err, &ge) {
			pg.message(http.StatusBadRequest, "No token", ge.Description)
			return
		}
		pg.pageError(err)
		return
	}
	pg.sess.WebToken, pg.sess.WebTokenExp = pair.Access.Raw, pair.Access.ExpiresAt.Unix()
	pg.redirect(pathOAuth2 + "/webapp")
}

// webappLogout forgets the web app's token (the sign-in stays).
func (h *handlers) webappLogout(pg *webPage) {
	if _, valid := pg.form(); !valid {
		pg.message(http.StatusForbidden, "Request refused", "The form has expired or did not come from this site; please try again.")
		return
	}
	pg.sess.WebToken, pg.sess.WebTokenExp = "", 0
	pg.message(http.StatusOK, "Token removed", "The token is no longer shown. It stays valid until it expires unless you revoke it.")
}

func pageQuery(ctx huma.Context) url.Values {
	u := ctx.URL()
	return u.Query()
}
