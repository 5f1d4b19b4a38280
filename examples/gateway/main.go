// Command gateway shows how to embed Tapis in a research gateway that already
// has a chi router with its own routes: the Tapis operations are registered
// into the same router, and the gateway's own user table checks passwords.
//
//	go run ./examples/gateway                 # http://127.0.0.1:8081
//	go run ./examples/gateway -addr 127.0.0.1:9000
//
// Everything lives in memory and is gone when the process ends.
package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"maps"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/devseed"
	"github.com/tapis-go/tapis/httpapi"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/seal"
)

// tenant is the Tapis tenant the gateway's users belong to. Requests whose
// Host matches no tenant's base URL act in the default tenant, "dev".
const tenant = "dev"

// gatewayUsers is the gateway's own user table: username -> password. A
// real gateway keeps slow hashes (bcrypt, argon2id) in its database.
var gatewayUsers = map[string]string{
	"alice": "alice-gateway-pw",
	"bob":   "bob-gateway-pw",
}

// checkPassword is the custom authenticator. Its contract: the same error,
// oauth2.ErrInvalidCredentials, for an unknown user and a wrong password, at
// the same cost. Comparing SHA-256 digests in constant time does not reveal
// how much of the password matched, nor its length.
func checkPassword(users map[string]string) oauth2.AuthenticatorFunc {
	return func(ctx context.Context, _, username, password string) (oauth2.Identity, error) {
		if err := ctx.Err(); err != nil {
			return oauth2.Identity{}, err
		}
		stored, known := users[username] // "" for an unknown user: same work below
		want, got := sha256.Sum256([]byte(stored)), sha256.Sum256([]byte(password))
		if subtle.ConstantTimeCompare(want[:], got[:]) != 1 || !known {
			return oauth2.Identity{}, oauth2.ErrInvalidCredentials
		}
		return oauth2.Identity{Username: username}, nil
	}
}

// newGateway builds the gateway: its own routes, then Tapis registered into
// the same router. host is the host the seeded tenants' base URLs use. Close
// the returned Server when done.
func newGateway(ctx context.Context, host string) (http.Handler, *tapis.Server, error) {
	srv, err := tapis.New(tapis.Config{
		Store: memory.New(),  // every store; or adapters/bunstore on SQLite or PostgreSQL
		KEK:   seal.NewKey(), // seals the tenants' signing keys; keep it with the data for a real store
		// The gateway's users log in to its tenant; for every other tenant
		// the router answers "not configured" and the built-in users (none
		// here) answer after it. /v3/oauth2/userinfo reports the username;
		// an authenticator that also implements oauth2.ProfileProvider can
		// give names and e-mails.
		Authenticators: []oauth2.Authenticator{oauth2.TenantAuthenticators{tenant: checkPassword(gatewayUsers)}},
	})
	if err != nil {
		return nil, nil, err
	}
	// The registry: site "local", tenants "admin" and "dev" with fresh
	// signing keys. Its built-in accounts are dropped: users come from the
	// gateway's table, and this gateway mints no service tokens.
	seed := devseed.Dev(host, map[string]string{})
	seed.Accounts = nil
	if err := devseed.Apply(ctx, srv, seed); err != nil {
		_ = srv.Close()
		return nil, nil, err
	}

	r := chi.NewRouter()
	r.Get("/gateway/status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok", "tenant": tenant})
	})
	r.Get("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>Research gateway</title><h1>Research gateway</h1>
<p><a href="/gateway/status">status</a> · <a href="/docs">Tapis API docs</a> · <a href="/v3/tenants">tenants</a></p>`)
	})

	// The Tapis operations answer in the Tapis envelope, huma's own
	// validation errors included; the gateway's own huma operations, if it
	// had any, would keep huma's errors.
	api := httpapi.NewAPI(r, "Research gateway", "1.0.0")
	if err := srv.Register(api); err != nil {
		_ = srv.Close()
		return nil, nil, err
	}
	return r, srv, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	flag.Parse()
	_, port, err := net.SplitHostPort(*addr)
	if err != nil {
		log.Fatal(err)
	}
	// Tenant base URLs: http://dev.localhost:PORT, http://admin.localhost:PORT.
	handler, srv, err := newGateway(context.Background(), "localhost:"+port)
	if err != nil {
		log.Fatal(err)
	}

	base := "http://" + *addr
	fmt.Printf("Research gateway on %s\n  %s/gateway/status\n  %s/docs\n  %s/v3/tenants\n", base, base, base, base)
	fmt.Printf("Users of tenant %s (username / password):\n", tenant)
	for _, name := range slices.Sorted(maps.Keys(gatewayUsers)) {
		fmt.Printf("  %s / %s\n", name, gatewayUsers[name])
	}
	fmt.Printf("A token:\n  curl -s -H 'Content-Type: application/json' -d '{\"grant_type\":\"password\",\"username\":\"alice\",\"password\":\"%s\"}' %s/v3/oauth2/tokens\n",
		gatewayUsers["alice"], base)

	hs := &http.Server{Addr: *addr, Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	err = hs.ListenAndServe()
	_ = srv.Close() // stops the library's background work; the stores are the caller's
	log.Fatal(err)
}
