package oauth2

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"time"
)

// codeSkew tolerates clock differences on code expiry, as Tapis does.
const codeSkew = 6 * time.Second

// AuthorizationCodeGrant redeems a code of the authorization flow once,
// atomically; a second redemption fails and revokes what the first
// produced. The code is bound to its client and redirect URI; PKCE (S256)
// is verified, and a verifier for a code issued without a challenge is
// refused (no downgrade).
type AuthorizationCodeGrant struct{}

var _ Grant = AuthorizationCodeGrant{}

// Type implements Grant.
func (AuthorizationCodeGrant) Type() string { return GrantAuthorizationCode }

// Token implements Grant.
func (AuthorizationCodeGrant) Token(ctx context.Context, g GrantContext, req TokenRequest) (TokenPair, error) {
	p := g.provider() // the codes are the provider's own
	if req.ClientID == "" {
		return TokenPair{}, grantErr("invalid_client", "Invalid client credentials.")
	}
	client, err := g.AuthenticateClient(ctx, req.ClientID, req.ClientKey)
	if err != nil {
		return TokenPair{}, err
	}
	if req.RedirectURI == "" {
		return TokenPair{}, grantErr("invalid_request", "Required redirect_uri parameter missing.")
	}
	if req.Code == "" {
		return TokenPair{}, grantErr("invalid_request", "Required authorization_code parameter missing.")
	}
	hash := hashSecret(req.Code)
	code, err := p.store.RedeemAuthCode(ctx, req.TenantID, hash, p.stamp())
	switch {
	case errors.Is(err, ErrNotFound):
		return TokenPair{}, grantErr("invalid_grant", "authorization code not valid.")
	case errors.Is(err, ErrCodeUsed):
		p.log.WarnContext(ctx, "authorization code reused; revoking the tokens it produced", "tenant", req.TenantID, "client", req.ClientID)
		if rerr := p.revokeCodeTokens(ctx, code); rerr != nil {
			return TokenPair{}, rerr
		}
		return TokenPair{}, grantErr("invalid_grant", "authorization code not valid.")
	case err != nil:
		return TokenPair{}, err
	}
	switch {
	case code.ClientID != client.ClientID:
		return TokenPair{}, grantErr("invalid_grant", "authorization code not valid.")
	case p.now().After(code.Expires.Add(codeSkew)):
		return TokenPair{}, grantErr("invalid_grant", "authorization code has expired.")
	case req.RedirectURI != code.RedirectURI:
		return TokenPair{}, grantErr("invalid_grant", "Invalid redirect_uri parameter: does not match callback URL registered with client.")
	}
	if err := checkPKCE(code, req.CodeVerifier); err != nil {
		return TokenPair{}, err
	}
	d := p.detailsOf(req.TenantID, req.Code)
	var authTime time.Time
	if d.AuthTime > 0 {
		authTime = time.Unix(d.AuthTime, 0).UTC()
	}
	pair, family, err := p.issue(ctx, g.Config(), issue{tenantID: req.TenantID, username: code.Username, client: &client,
		grant: GrantAuthorizationCode, redirectURI: code.RedirectURI, refresh: true,
		scope: d.Scope, nonce: d.Nonce, authTime: authTime, idToken: true})
	if err != nil {
		return TokenPair{}, err
	}
	reused, err := p.store.RecordCodeTokens(ctx, req.TenantID, hash, pair.Access.JTI, pair.Access.ExpiresAt, family)
	if err != nil {
		return TokenPair{}, err
	}
	if reused {
		// A replay came in while we minted: it could not revoke what did
		// not exist yet, so we do. This redemption still succeeded (it was
		// the one), but its tokens are already dead.
		code.AccessJTI, code.AccessExp, code.RefreshFam = pair.Access.JTI, pair.Access.ExpiresAt, family
		if err := p.revokeCodeTokens(ctx, code); err != nil {
			return TokenPair{}, err
		}
	}
	return pair, nil
}

func (p *Provider) revokeCodeTokens(ctx context.Context, code AuthCode) error {
	if code.AccessJTI != "" {
		if err := p.tokens.store.RevokeToken(ctx, code.TenantID, code.AccessJTI, code.AccessExp); err != nil {
			return err
		}
		p.tokens.revoked(ctx, code.TenantID, code.AccessJTI)
	}
	if code.RefreshFam != "" {
		return p.revokeFamily(ctx, code.TenantID, code.RefreshFam)
	}
	return nil
}

// checkPKCE verifies an S256 code_verifier (RFC 7636).
func checkPKCE(code AuthCode, verifier string) error {
	if code.CodeChallenge == "" {
		if verifier != "" {
			return grantErr("invalid_grant", "code_verifier given, but the authorization request had no code_challenge.")
		}
		return nil
	}
	if verifier == "" {
		return grantErr("invalid_grant", "code_verifier is required: the authorization request used PKCE.")
	}
	if len(verifier) < 43 || len(verifier) > 128 {
		return grantErr("invalid_grant", "code_verifier must be 43 to 128 characters.")
	}
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(want), []byte(code.CodeChallenge)) != 1 {
		return grantErr("invalid_grant", "code_verifier does not match the code_challenge.")
	}
	return nil
}
