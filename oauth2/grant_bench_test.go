package oauth2_test

import (
	"context"
	"crypto/rsa"
	"maps"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// The grant benchmarks put the token endpoint beside what it cannot avoid,
// in the same function so the ratio holds on a noisy machine:
//
//	BenchmarkPasswordGrant/grant                  Provider.Token, password grant with a confidential client
//	BenchmarkPasswordGrant/baseline_hash+2sign    one bcrypt compare + two RS256 signs (golang-jwt)
//	BenchmarkRefreshGrant/grant                   Provider.Token, refresh_token grant, rotating
//	BenchmarkRefreshGrant/baseline_2sign+verify   two RS256 signs + one RS256 verify
//
// The accounts of testenv are hashed at bcrypt.MinCost (4), so the baseline
// compares at MinCost too; at the production default (10) the hash would
// dominate both figures.

const benchCost = bcrypt.MinCost // testenv's tapis.Config.PasswordCost

// grantBench is a seeded instance with a confidential client of testuser1@dev.
type grantBench struct {
	env       *testenv.Env
	prov      *oauth2.Provider
	clientID  string
	clientKey string
}

func newGrantBench(b *testing.B) grantBench {
	b.Helper()
	env := testenv.New(b)
	prov := env.Server.OAuth2()
	owner := tenancy.Principal{TenantID: "dev", Username: "testuser1", AccountType: tenancy.AccountUser,
		TokenTenantID: "dev", TokenUsername: "testuser1"}
	c, key, err := prov.CreateClient(context.Background(), owner, oauth2.NewClient{ClientID: "bench-client"})
	if err != nil {
		b.Fatal(err)
	}
	if key == "" {
		b.Fatal("a confidential client must have a key")
	}
	return grantBench{env: env, prov: prov, clientID: c.ClientID, clientKey: key}
}

func (g grantBench) password(ctx context.Context, b *testing.B) oauth2.TokenPair {
	pair, err := g.prov.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantPassword,
		ClientID: g.clientID, ClientKey: g.clientKey, Username: "testuser1", Password: "testuser1", RemoteAddr: "192.0.2.1"})
	if err != nil {
		b.Fatal(err)
	}
	if pair.Refresh == nil {
		b.Fatal("a password grant with a client must return a refresh token")
	}
	return pair
}

// baselineClaims returns claims of the shape and size the authenticator
// signs: an access token and a refresh token nesting its claims.
func baselineClaims(now time.Time) (access, refresh jwt.MapClaims) {
	access = jwt.MapClaims{
		"jti": uuid.NewString(), "iss": "http://dev.tapis.test/v3/tokens", "sub": "testuser1@dev",
		"tapis/tenant_id": "dev", "tapis/token_type": "access", "tapis/delegation": false,
		"tapis/delegation_sub": nil, "tapis/username": "testuser1", "tapis/account_type": "user",
		"tapis/client_id": "bench-client", "tapis/grant_type": "password", "tapis/refresh_count": 0,
		"exp": now.Add(300 * time.Second).Unix(),
	}
	nested := maps.Clone(access)
	delete(nested, "exp")
	nested["ttl"] = int64(300)
	refresh = jwt.MapClaims{
		"jti": uuid.NewString(), "iss": "http://dev.tapis.test/v3/tokens", "sub": "testuser1@dev",
		"tapis/initial_ttl": int64(600), "tapis/tenant_id": "dev", "tapis/token_type": "refresh",
		"exp": now.Add(600 * time.Second).Unix(), "tapis/access_token": nested,
	}
	return access, refresh
}

// signBoth signs both tokens with golang-jwt as the token service does.
func signBoth(b *testing.B, key *rsa.PrivateKey, kid string) string {
	access, refresh := baselineClaims(time.Now())
	var raw string
	for _, c := range []jwt.MapClaims{access, refresh} {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		tok.Header["kid"] = kid
		var err error
		if raw, err = tok.SignedString(key); err != nil {
			b.Fatal(err)
		}
	}
	return raw // the refresh token
}

func BenchmarkPasswordGrant(b *testing.B) {
	g := newGrantBench(b)
	ctx := context.Background()
	b.Run("grant", func(b *testing.B) {
		for b.Loop() {
			g.password(ctx, b)
		}
	})
	b.Run("baseline_hash+2sign", func(b *testing.B) {
		key, kid := g.env.SigningKey(b, "dev")
		hash, err := bcrypt.GenerateFromPassword([]byte("testuser1"), benchCost)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if err := bcrypt.CompareHashAndPassword(hash, []byte("testuser1")); err != nil {
				b.Fatal(err)
			}
			signBoth(b, key, kid)
		}
	})
}

func BenchmarkRefreshGrant(b *testing.B) {
	g := newGrantBench(b)
	ctx := context.Background()
	b.Run("grant", func(b *testing.B) {
		refresh := g.password(ctx, b).Refresh.Raw
		for b.Loop() {
			pair, err := g.prov.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantRefreshToken,
				ClientID: g.clientID, ClientKey: g.clientKey, RefreshToken: refresh, RemoteAddr: "192.0.2.1"})
			if err != nil {
				b.Fatal(err)
			}
			refresh = pair.Refresh.Raw // rotation: the previous one is spent
		}
	})
	b.Run("baseline_2sign+verify", func(b *testing.B) {
		key, kid := g.env.SigningKey(b, "dev")
		parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired())
		keyFunc := func(*jwt.Token) (any, error) { return &key.PublicKey, nil }
		refresh := signBoth(b, key, kid)
		for b.Loop() {
			if _, err := parser.Parse(refresh, keyFunc); err != nil {
				b.Fatal(err)
			}
			refresh = signBoth(b, key, kid)
		}
	})
}
