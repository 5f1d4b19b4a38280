package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/tapis-go/tapis/tenancy"
)

// measureGrant: the password grant over HTTP as tapipy sends it (no
// client: one access token) at the server's default bcrypt cost, beside
// what it cannot avoid, one bcrypt compare at the same cost and one RS256
// sign, run by as many goroutines as clients, in alternation.
func measureGrant(ctx context.Context, o options, t *table) error {
	dir, err := os.MkdirTemp("", "httpbench-grant-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	in, err := start(ctx, "sqlite", dir)
	if err != nil {
		return err
	}
	defer in.close()
	const conns = 4 // twice the CPUs here: a request's I/O leaves its CPU to another
	// The -dev users are hashed at bcrypt.MinCost: a user of its own, at
	// the server's cost (the default).
	const user, password = "grantbench", "grant-bench-password"
	if err := in.srv.Tokens().Accounts.Set(ctx, "dev", user, tenancy.AccountUser, password); err != nil {
		return err
	}
	r := request{method: http.MethodPost, path: "/v3/oauth2/tokens",
		body:    []byte(`{"grant_type":"password","username":"` + user + `","password":"` + password + `"}`),
		headers: map[string]string{"Content-Type": "application/json"}}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	claims := jwt.MapClaims{"jti": "0a3f7c1e-2b5d-4e8f-9a6b-1c2d3e4f5a6b", "iss": "http://dev.localhost/v3/tokens",
		"sub": "testuser1@dev", "tapis/tenant_id": "dev", "tapis/token_type": "access", "tapis/delegation": false,
		"tapis/delegation_sub": nil, "tapis/username": "testuser1", "tapis/account_type": "user",
		"tapis/client_id": nil, "tapis/grant_type": "password", "exp": time.Now().Add(4 * time.Hour).Unix()}
	baseline := func(d time.Duration) (result, error) {
		var n atomic.Int64
		var wg sync.WaitGroup
		errs := make([]error, conns)
		start := time.Now()
		for w := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Since(start) < d {
					if err := bcrypt.CompareHashAndPassword(hash, []byte(password)); err != nil {
						errs[w] = err
						return
					}
					if _, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key); err != nil {
						errs[w] = err
						return
					}
					n.Add(1)
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return result{}, err
			}
		}
		return result{n: n.Load(), elapsed: time.Since(start)}, nil
	}
	sub, base, err := paired(ctx, func(d time.Duration) (result, error) {
		return load(ctx, in.base, r, conns, d, http.StatusCreated)
	}, baseline, max(o.duration, 2*time.Second), o.rounds)
	if err != nil {
		return err
	}
	t.add(fmt.Sprintf("password grant over HTTP, bcrypt cost %d, c=%d", bcrypt.DefaultCost, conns),
		fmt.Sprintf("%.1f grants/s", sub.rps()), fmt.Sprintf("bcrypt compare + 1 RS256 sign: %.1f/s", base.rps()),
		fmt.Sprintf("%.2fx", sub.rps()/base.rps()), "≥ 1.0x Dex (Dex rows: -dex)")
	return nil
}
