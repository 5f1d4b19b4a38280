package interop_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/client/rs"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/tapis-go/tapis/internal/testenv"
)

type nonceKey struct{}

// zitadel/oidc as a relying party: discovery (issuer checked), the code
// flow with PKCE and nonce through our pages, and its token verification
// (subject, issuer, audience, azp, signature, expiry, iat, nonce, at_hash),
// userinfo (same subject), refresh (a new id_token that verifies) and
// revocation; then as a resource server introspecting tokens (RFC 7662)
// with its client credentials.
func TestZitadelRelyingParty(t *testing.T) {
	env, issuer := testenv.Serve(t)
	key := confidentialClient(t, env, "zitadel-rp")
	rsKey := confidentialClient(t, env, "zitadel-rs")
	ctx := context.Background()

	party, err := rp.NewRelyingPartyOIDC(ctx, issuer, "zitadel-rp", key, callback, []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail},
		rp.WithSigningAlgsFromDiscovery(),
		rp.WithVerifierOpts(rp.WithNonce(func(ctx context.Context) string {
			n, _ := ctx.Value(nonceKey{}).(string)
			return n
		}), rp.WithIssuedAtMaxAge(time.Minute)))
	require.NoError(t, err)

	state, nonce, verifier := "zs-"+oauth2.GenerateVerifier()[:8], "zn-"+oauth2.GenerateVerifier()[:12], oauth2.GenerateVerifier()
	sum := sha256.Sum256([]byte(verifier))
	cb := newBrowser(t).authorize(rp.AuthURL(state, party, rp.WithCodeChallenge(base64.RawURLEncoding.EncodeToString(sum[:])),
		rp.AuthURLOpt(rp.WithURLParam("nonce", nonce))))
	require.Equal(t, state, cb.Get("state"))

	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](context.WithValue(ctx, nonceKey{}, nonce), cb.Get("code"), party, rp.WithCodeVerifier(verifier))
	require.NoError(t, err, "every check of zitadel's token verification")
	claims := tokens.IDTokenClaims
	assert.Equal(t, nonce, claims.Nonce)
	assert.Equal(t, issuer, claims.Issuer)
	assert.Equal(t, user+"@dev", claims.Subject)
	assert.Equal(t, []string{"zitadel-rp"}, []string(claims.Audience))
	assert.Equal(t, "zitadel-rp", claims.AuthorizedParty)
	assert.NotEmpty(t, claims.AccessTokenHash)
	assert.Equal(t, user, claims.PreferredUsername)

	// The same exchange with the wrong nonce in the context is refused.
	_, err = rp.VerifyIDToken[*oidc.IDTokenClaims](context.WithValue(ctx, nonceKey{}, "not-"+nonce), tokens.IDToken, party.IDTokenVerifier())
	assert.ErrorIs(t, err, oidc.ErrNonceInvalid)

	info, err := rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, "Bearer", claims.Subject, party)
	require.NoError(t, err, "userinfo answers for the id_token's subject")
	assert.Equal(t, user, info.PreferredUsername)

	// Refresh: a new id_token, verified (without nonce, as OIDC Core §12.2
	// recommends: the verifier's context carries none).
	fresh, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, party, tokens.RefreshToken, "", "")
	require.NoError(t, err)
	require.NotNil(t, fresh.IDTokenClaims, "the refresh answered an id_token")
	assert.Equal(t, claims.Subject, fresh.IDTokenClaims.Subject)
	assert.Equal(t, claims.AuthTime, fresh.IDTokenClaims.AuthTime, "auth_time stays the sign-in's")

	// A resource server introspects with its own client credentials.
	server, err := rs.NewResourceServerClientCredentials(ctx, issuer, "zitadel-rs", rsKey)
	require.NoError(t, err)
	in, err := rs.Introspect[*oidc.IntrospectionResponse](ctx, server, fresh.AccessToken)
	require.NoError(t, err)
	assert.True(t, in.Active)
	assert.Equal(t, user+"@dev", in.Subject)
	assert.Equal(t, "zitadel-rp", in.ClientID)
	assert.Equal(t, user, in.Username)
	assert.Equal(t, oidc.SpaceDelimitedArray{"openid", "profile", "email"}, in.Scope)

	// Revocation through the library; introspection then says inactive.
	require.NoError(t, rp.RevokeToken(ctx, party, fresh.AccessToken, "access_token"))
	in, err = rs.Introspect[*oidc.IntrospectionResponse](ctx, server, fresh.AccessToken)
	require.NoError(t, err)
	assert.False(t, in.Active)
	old, err := rs.Introspect[*oidc.IntrospectionResponse](ctx, server, tokens.AccessToken)
	require.NoError(t, err)
	assert.True(t, old.Active, "the first access token lives on until it expires (refresh rotates the refresh token only)")

	bad, err := rs.NewResourceServerClientCredentials(ctx, issuer, "zitadel-rs", "wrong-secret-value")
	require.NoError(t, err)
	_, err = rs.Introspect[*oidc.IntrospectionResponse](ctx, bad, tokens.AccessToken)
	assert.Error(t, err, "introspection needs the client's real key")
}
