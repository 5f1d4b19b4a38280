package testenv

import (
	"net"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/adapters/memory"
)

// Serve starts a seeded instance on a loopback listener whose address is
// the dev tenant's base URL, as examples/server -dev seeds it: the dev
// tenant's issuer, discovery documents and Token Web App all use
// http://127.0.0.1:PORT, which any client on the machine reaches without a
// resolver rule. It returns the instance and that base URL; the server
// stops at cleanup.
func Serve(t testing.TB, opts ...func(*tapis.Config)) (*Env, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	st := memory.New()
	env := newEnv(t, st, st, base, opts)
	srv := httptest.NewUnstartedServer(env.Handler)
	_ = srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return env, base
}
