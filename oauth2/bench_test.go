package oauth2_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// The token benchmarks run beside their baselines in the same invocation
// (go test -bench . ./oauth2/), so ratios are meaningful on a noisy machine:
//
//	BenchmarkBaselineRS256Verify   one crypto/rsa PKCS#1 v1.5 verify
//	BenchmarkBaselineRS256Sign     one crypto/rsa PKCS#1 v1.5 sign
//	BenchmarkMint                  a Tapis access token (claims, JSON, sign)
//	BenchmarkValidateUncached      parse, key lookup, verify, revocation check
//	BenchmarkValidateCached        the verified-token cache hit
//	BenchmarkMiddleware*           a token-protected request through huma

func BenchmarkBaselineRS256Verify(b *testing.B) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("tapis"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaselineRS256Sign(b *testing.B) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("tapis"))
	for b.Loop() {
		if _, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:]); err != nil {
			b.Fatal(err)
		}
	}
}

var userReq = oauth2.MintRequest{TenantID: "dev", Username: "testuser1", AccountType: tenancy.AccountUser}

func BenchmarkMint(b *testing.B) {
	env := testenv.New(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := env.Server.Tokens().Mint(ctx, userReq); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateUncached(b *testing.B) {
	env := testenv.New(b)
	ctx := context.Background()
	raw := env.UserToken(b, "dev", "testuser1")
	ts := env.Server.Tokens()
	for b.Loop() {
		ts.ForgetCachedTokens()
		if _, err := ts.Validate(ctx, raw, "access"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateCached(b *testing.B) {
	env := testenv.New(b)
	ctx := context.Background()
	raw := env.UserToken(b, "dev", "testuser1")
	ts := env.Server.Tokens()
	if _, err := ts.Validate(ctx, raw, "access"); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ts.Validate(ctx, raw, "access"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMiddleware measures GET /v3/sites through huma without a token,
// with a token (cache emptied each time) and with a cached token.
func BenchmarkMiddleware(b *testing.B) {
	env := testenv.New(b)
	raw := env.UserToken(b, "dev", "testuser1")
	run := func(b *testing.B, token string, forget bool) {
		for b.Loop() {
			if forget {
				env.Server.Tokens().ForgetCachedTokens()
			}
			req := httptest.NewRequest(http.MethodGet, "/v3/sites", nil)
			if token != "" {
				req.Header.Set("X-Tapis-Token", token)
			}
			rec := httptest.NewRecorder()
			env.Handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	}
	b.Run("noauth", func(b *testing.B) { run(b, "", false) })
	b.Run("auth", func(b *testing.B) { run(b, raw, true) })
	b.Run("auth-cached", func(b *testing.B) { run(b, raw, false) })
}
