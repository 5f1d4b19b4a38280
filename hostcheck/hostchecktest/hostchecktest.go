// Package hostchecktest holds test doubles for host checks: an in-memory
// HostKeys that counts pins, a fixed-table Resolver, and a TCP listener
// that accepts connections and never answers (the stalled peer every
// adapter must give up on within its timeout).
package hostchecktest

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/tapis-go/tapis/hostcheck"
)

// HostKeys is an in-memory hostcheck.HostKeys, safe for concurrent use.
type HostKeys struct {
	mu   sync.Mutex
	keys map[[2]string]string
	pins int
}

var _ hostcheck.HostKeys = (*HostKeys)(nil)

// NewHostKeys returns an empty HostKeys.
func NewHostKeys() *HostKeys { return &HostKeys{keys: map[[2]string]string{}} }

// HostKey implements hostcheck.HostKeys.
func (h *HostKeys) HostKey(_ context.Context, tenant, systemID string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.keys[[2]string{tenant, systemID}], nil
}

// PinHostKey implements hostcheck.HostKeys.
func (h *HostKeys) PinHostKey(_ context.Context, tenant, systemID, key string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.keys[[2]string{tenant, systemID}] = key
	h.pins++
	return nil
}

// DeleteHostKey implements hostcheck.HostKeys.
func (h *HostKeys) DeleteHostKey(_ context.Context, tenant, systemID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.keys, [2]string{tenant, systemID})
	return nil
}

// Set pins key without counting it as a pin (a test's precondition).
func (h *HostKeys) Set(tenant, systemID, key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.keys[[2]string{tenant, systemID}] = key
}

// Pins returns how many times PinHostKey was called.
func (h *HostKeys) Pins() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pins
}

// Resolver answers from a fixed table; a name not in it does not exist.
type Resolver map[string][]netip.Addr

var _ hostcheck.Resolver = Resolver(nil)

// LookupNetIP implements hostcheck.Resolver.
func (r Resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := r[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return addrs, nil
}

// ResolverFunc adapts a function to hostcheck.Resolver.
type ResolverFunc func(ctx context.Context, network, host string) ([]netip.Addr, error)

// LookupNetIP implements hostcheck.Resolver.
func (f ResolverFunc) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return f(ctx, network, host)
}

// StalledListener listens on 127.0.0.1, accepts every connection and never
// sends a byte (nor reads one). The listener and its connections close when
// the test ends. It returns the listener's host:port.
func StalledListener(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}
