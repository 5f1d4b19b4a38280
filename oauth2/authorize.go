package oauth2

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"
)

// Authorization (browser) flow of RFC 6749 §4.1 and §4.2 with the Tapis
// messages: the request is checked before the user is asked anything, a
// code is created only on approval, and a refusal goes back to the client
// as error=access_denied.
const authCodeTTL = 10 * time.Minute

// Response types of GET /v3/oauth2/authorize.
const (
	ResponseCode  = "code"
	ResponseToken = "token" // implicit grant
)

// AuthorizeRequest is the query of GET /v3/oauth2/authorize, kept in the
// browser session while the user logs in and consents.
type AuthorizeRequest struct {
	TenantID            string `json:"t"`
	ClientID            string `json:"c"`
	RedirectURI         string `json:"r"`
	ResponseType        string `json:"rt"`
	State               string `json:"s,omitempty"`
	CodeChallenge       string `json:"cc,omitempty"`
	CodeChallengeMethod string `json:"ccm,omitempty"`
	// Scope and Nonce of an OpenID Connect request: scope=openid makes the
	// code grant return an id_token carrying the nonce.
	Scope string `json:"sc,omitempty"`
	Nonce string `json:"n,omitempty"`
}

// CheckAuthorize validates an authorization request before any page is
// shown: the client exists and is active, the response type is known and
// allowed for the tenant, the redirect URI equals the registered callback
// exactly (no prefix, case or trailing-slash leniency), and PKCE is S256
// when given and required for public clients. On error the caller must
// not redirect (the redirect URI is not trusted yet): it shows the message.
func (p *Provider) CheckAuthorize(ctx context.Context, req AuthorizeRequest) (Client, error) {
	if req.ClientID == "" {
		return Client{}, grantErr("invalid_request", "Required query parameter client_id missing.")
	}
	cfg, err := p.TenantConfig(ctx, req.TenantID)
	if err != nil {
		return Client{}, err
	}
	c, err := p.store.GetClient(ctx, req.TenantID, req.ClientID)
	if errors.Is(err, ErrNotFound) || (err == nil && !c.Active) {
		return Client{}, grantErr("invalid_client", "Invalid client.")
	}
	if err != nil {
		return Client{}, err
	}
	switch req.ResponseType {
	case ResponseCode:
		if !p.offers(cfg, GrantAuthorizationCode) {
			return Client{}, grantErr("unsupported_response_type", "The authorization_code grant type is not allowed for this tenant. Allowable grant types: %v", cfg.AllowableGrantTypes)
		}
	case ResponseToken:
		if !cfg.allows(GrantImplicit) {
			return Client{}, grantErr("unsupported_response_type", "The implicit grant type is not allowed for this tenant. Allowable grant types: %v", cfg.AllowableGrantTypes)
		}
	default:
		return Client{}, grantErr("unsupported_response_type", "Required query parameter response_type missing or not supported.")
	}
	if req.RedirectURI == "" || c.CallbackURL == "" || req.RedirectURI != c.CallbackURL {
		return Client{}, grantErr("invalid_request", "redirect_uri query parameter does not match the registered callback_url for the client.")
	}
	switch {
	case req.CodeChallengeMethod != "" && req.CodeChallengeMethod != "S256":
		return Client{}, grantErr("invalid_request", "code_challenge_method must be S256.")
	case req.CodeChallengeMethod != "" && req.CodeChallenge == "":
		return Client{}, grantErr("invalid_request", "code_challenge_method given without code_challenge.")
	case req.CodeChallenge != "" && (len(req.CodeChallenge) != 43 || req.ResponseType != ResponseCode):
		return Client{}, grantErr("invalid_request", "code_challenge must be the 43-character base64url S256 hash of the verifier, with response_type=code.")
	case req.CodeChallenge != "" && req.CodeChallengeMethod == "":
		return Client{}, grantErr("invalid_request", "code_challenge_method=S256 is required with code_challenge.")
	case c.Public() && req.ResponseType == ResponseCode && req.CodeChallenge == "":
		return Client{}, grantErr("invalid_request", "This client has no key: PKCE (code_challenge with code_challenge_method=S256) is required.")
	case c.Public() && req.ResponseType == ResponseToken:
		return Client{}, grantErr("unauthorized_client", "A client without a key cannot use the implicit grant.")
	case len(req.Scope) > maxScopeLen:
		return Client{}, grantErr("invalid_scope", "scope must be at most %d characters.", maxScopeLen)
	case len(req.Nonce) > maxNonceLen:
		return Client{}, grantErr("invalid_request", "nonce must be at most %d characters.", maxNonceLen)
	}
	return c, nil
}

// Approve completes an authorization the signed-in user consented to and
// returns where to send the browser: the callback with a single-use code,
// or (implicit grant) with an access token in the fragment only. authTime
// is when the user signed in (the id_token's auth_time).
func (p *Provider) Approve(ctx context.Context, req AuthorizeRequest, username string, authTime time.Time) (string, error) {
	client, err := p.CheckAuthorize(ctx, req)
	if err != nil {
		return "", err
	}
	if req.ResponseType == ResponseToken {
		cfg, err := p.TenantConfig(ctx, req.TenantID)
		if err != nil {
			return "", err
		}
		pair, _, err := p.issue(ctx, cfg, issue{tenantID: req.TenantID, username: username, client: &client, grant: GrantImplicit,
			scope: GrantedScope(req.Scope), authTime: authTime})
		if err != nil {
			return "", err
		}
		v := url.Values{"access_token": {pair.Access.Raw}, "token_type": {"Bearer"},
			"expires_in": {strconv.FormatInt(pair.Access.ExpiresIn, 10)}}
		if req.State != "" {
			v.Set("state", req.State)
		}
		if pair.Scope != "" {
			v.Set("scope", pair.Scope)
		}
		return withFragment(client.CallbackURL, v), nil
	}
	var details codeDetails
	if scope := GrantedScope(req.Scope); scope != "" {
		details = codeDetails{Scope: scope, Nonce: req.Nonce}
		if !authTime.IsZero() {
			details.AuthTime = authTime.Unix()
		}
	}
	code, err := p.newCode(req.TenantID, details)
	if err != nil {
		return "", err
	}
	now := p.stamp()
	err = p.store.CreateAuthCode(ctx, AuthCode{TenantID: req.TenantID, CodeHash: hashSecret(code), ClientID: client.ClientID,
		Username: username, RedirectURI: client.CallbackURL, CodeChallenge: req.CodeChallenge,
		CodeChallengeMethod: req.CodeChallengeMethod, Created: now, Expires: now.Add(authCodeTTL)})
	if err != nil {
		return "", err
	}
	v := url.Values{"code": {code}}
	if req.State != "" {
		v.Set("state", req.State)
	}
	return withQuery(client.CallbackURL, v), nil
}

// Deny returns where to send the browser when the user refuses: the
// registered callback with error=access_denied (RFC 6749 §4.1.2.1), in the
// fragment for the implicit grant. The request is checked first, so a
// forged request cannot turn the server into an open redirector.
func (p *Provider) Deny(ctx context.Context, req AuthorizeRequest) (string, error) {
	client, err := p.CheckAuthorize(ctx, req)
	if err != nil {
		return "", err
	}
	v := url.Values{"error": {"access_denied"}, "error_description": {"The user denied the request."}}
	if req.State != "" {
		v.Set("state", req.State)
	}
	if req.ResponseType == ResponseToken {
		return withFragment(client.CallbackURL, v), nil
	}
	return withQuery(client.CallbackURL, v), nil
}

// withQuery adds v to the query of a registered callback URL, keeping the
// callback's own parameters; every value is URL-encoded.
func withQuery(callback string, v url.Values) string {
	u, err := url.Parse(callback)
	if err != nil {
		return callback
	}
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// withFragment puts v in the fragment of the callback (implicit grant):
// fragments are not sent to servers or written to their logs.
func withFragment(callback string, v url.Values) string {
	u, err := url.Parse(callback)
	if err != nil {
		return callback
	}
	u.Fragment = ""
	u.RawFragment = ""
	return u.String() + "#" + v.Encode()
}
