package hostcheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tapis-go/tapis/credentials"
)

// Defaults of a Policy's zero fields.
const (
	DefaultConnectTimeout   = 5 * time.Second
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultCheckTimeout     = 30 * time.Second
	DefaultMaxPerTenant     = 4
)

// Resolver looks up the addresses of a host name; *net.Resolver implements
// it (net.DefaultResolver is the default). Tests give a fixed table.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Policy is what every host check runs under. Host checks connect to hosts
// and ports that users name, so they are an SSRF surface: a Policy refuses
// addresses inside the server's own network and bounds the time and the
// number of checks a tenant can hold.
//
// The zero Policy is usable: zero durations and a zero MaxPerTenant take the
// Default* values, private addresses are refused, and names are resolved by
// net.DefaultResolver.
type Policy struct {
	// ConnectTimeout bounds the TCP connect (all of a name's addresses
	// together).
	ConnectTimeout time.Duration
	// HandshakeTimeout bounds each protocol exchange after the connect: for
	// SSH the greeting, key exchange and login; then the SFTP start and stat
	// (or the HOST_EVAL command). A peer that accepts TCP and then stays
	// silent fails after this long.
	HandshakeTimeout time.Duration
	// CheckTimeout bounds a whole check, waiting for a concurrency slot
	// included: a caller gets an answer within it, whatever the host does.
	CheckTimeout time.Duration
	// AllowPrivate lets checks reach loopback, private (RFC 1918, fc00::/7)
	// and carrier-grade NAT (100.64.0.0/10) addresses, for deployments whose
	// hosts live on a private network. Link-local, cloud metadata,
	// unspecified, broadcast and multicast addresses are refused regardless.
	AllowPrivate bool
	// MaxPerTenant caps the checks one tenant runs at a time (per Guard).
	// A check over the cap waits for a slot until its CheckTimeout and then
	// fails with ErrTimeout; it does not fail fast, so a burst of checks
	// queues instead of erroring. 0 means DefaultMaxPerTenant; a negative
	// value means no cap.
	MaxPerTenant int
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
}

// WithDefaults returns p with its zero fields set to the defaults.
func (p Policy) WithDefaults() Policy {
	if p.ConnectTimeout <= 0 {
		p.ConnectTimeout = DefaultConnectTimeout
	}
	if p.HandshakeTimeout <= 0 {
		p.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if p.CheckTimeout <= 0 {
		p.CheckTimeout = DefaultCheckTimeout
	}
	if p.MaxPerTenant == 0 {
		p.MaxPerTenant = DefaultMaxPerTenant
	}
	if p.Resolver == nil {
		p.Resolver = net.DefaultResolver
	}
	return p
}

// metadataAddrs are the instance-metadata endpoints of the cloud providers:
// credentials of the machine the server runs on live behind them.
var metadataAddrs = map[netip.Addr]bool{
	netip.MustParseAddr("169.254.169.254"): true, // AWS, GCP, Azure, OpenStack, Oracle
	netip.MustParseAddr("169.254.170.2"):   true, // AWS ECS task metadata
	netip.MustParseAddr("fd00:ec2::254"):   true, // AWS IPv6
	netip.MustParseAddr("100.100.100.200"): true, // Alibaba Cloud
}

var (
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")     // "this host": 0.x reaches local services on Linux
	broadcast   = netip.MustParseAddr("255.255.255.255") // limited broadcast
	v4Reserved  = netip.MustParsePrefix("240.0.0.0/4")   // reserved, never a real host
	nat64       = netip.MustParsePrefix("64:ff9b::/96")  // RFC 6052: an IPv4 address inside IPv6
	sharedCGNAT = netip.MustParsePrefix("100.64.0.0/10") // RFC 6598 carrier-grade NAT
	benchmark   = netip.MustParsePrefix("198.18.0.0/15") // RFC 2544, used inside data centres
	siteLocal   = netip.MustParsePrefix("fec0::/10")     // deprecated IPv6 site-local
)

// addrClass names why an address is refused ("" = allowed); private tells
// whether AllowPrivate lifts the refusal.
func addrClass(ip netip.Addr) (class string, private bool) {
	ip = ip.WithZone("").Unmap()
	switch {
	case !ip.IsValid():
		return "not a valid address", false
	case metadataAddrs[ip]:
		return "a cloud metadata address", false
	case ip.IsUnspecified(), thisNetwork.Contains(ip):
		return "an unspecified (this-host) address", false
	case ip == broadcast:
		return "the broadcast address", false
	case ip.IsMulticast():
		return "a multicast address", false
	case ip.IsLinkLocalUnicast():
		return "a link-local address", false
	case nat64.Contains(ip):
		b := ip.As16()
		inner := netip.AddrFrom4([4]byte(b[12:16]))
		if c, p := addrClass(inner); c != "" {
			return c + " (inside the NAT64 address " + ip.String() + ")", p
		}
		return "", false
	case v4Reserved.Contains(ip):
		return "a reserved address", false
	case ip.IsLoopback():
		return "a loopback address", true
	case ip.IsPrivate(), siteLocal.Contains(ip):
		return "a private address", true
	case sharedCGNAT.Contains(ip):
		return "a carrier-grade NAT (shared) address", true
	case benchmark.Contains(ip):
		return "a private (benchmarking) address", true
	}
	return "", false
}

// CheckAddr reports whether a check may connect to ip: nil, or an error
// wrapping ErrForbiddenAddress that says why.
func (p Policy) CheckAddr(ip netip.Addr) error {
	return p.checkAddr("", ip)
}

// checkAddr is CheckAddr naming the host name that resolved to ip.
func (p Policy) checkAddr(name string, ip netip.Addr) error {
	class, private := addrClass(ip)
	if class == "" || private && p.AllowPrivate {
		return nil
	}
	what := ip.String() + " is"
	if name != "" && name != ip.String() {
		what = fmt.Sprintf("host %q resolves to %s, which is", name, ip)
	}
	if private {
		return fmt.Errorf("%w: %s %s; host checks reach private addresses only when the server's operator allows them", ErrForbiddenAddress, what, class)
	}
	return fmt.Errorf("%w: %s %s; host checks never connect there", ErrForbiddenAddress, what, class)
}

// HostName returns the name or address to resolve in a system's host, which
// may be a bare name or address, host:port, [v6]:port, or (S3) a URL.
func HostName(host string) string {
	host = strings.TrimSpace(host)
	if strings.Contains(host, "://") {
		if u, err := url.Parse(host); err == nil {
			return u.Hostname()
		}
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// Resolve returns the addresses of host (a name or a literal address),
// every one of them allowed by CheckAddr. Within a check run by a Guard,
// the Guard's resolution of the target's host is reused, so a check
// resolves its host once. A name with any forbidden address
// is refused as a whole: a record mixing a public address with the metadata
// address is an attack, not a misconfiguration.
func (p Policy) Resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	p = p.WithDefaults()
	name := HostName(host)
	if name == "" {
		return nil, fmt.Errorf("%w: the system has no host", ErrUnreachable)
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(name); err == nil {
		addrs = []netip.Addr{ip}
	} else if r, ok := ctx.Value(resolvedKey{}).(resolved); ok && r.host == name {
		addrs = r.addrs // this check's resolution (a Guard made it)
	} else {
		addrs, err = p.Resolver.LookupNetIP(ctx, "ip", name)
		if err != nil {
			return nil, resolveError(ctx, name, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("%w: the host name %q has no address", ErrUnreachable, name)
		}
	}
	for _, ip := range addrs {
		if err := p.checkAddr(name, ip); err != nil {
			return nil, err
		}
	}
	return addrs, nil
}

func resolveError(ctx context.Context, name string, err error) error {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return ctx.Err()
	case ctx.Err() != nil, errors.As(err, &dnsErr) && dnsErr.IsTimeout:
		return fmt.Errorf("%w: resolving the host name %q took too long", ErrTimeout, name)
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Errorf("%w: the host name %q does not exist (check the system's host)", ErrUnreachable, name)
	default:
		return fmt.Errorf("%w: the host name %q could not be resolved: %v", ErrUnreachable, name, err)
	}
}

type resolvedKey struct{}

type resolved struct {
	host  string
	addrs []netip.Addr
}

// Dial connects to addr ("host:port") for a check: it resolves the host once
// (or reuses the resolution a Guard made for this check), refuses it unless
// every address passes CheckAddr, and dials those very addresses, so a DNS
// answer that changes between the check and the connect (DNS rebinding)
// cannot slip a forbidden address in. The connect is bounded by
// ConnectTimeout and ctx. Errors wrap ErrForbiddenAddress, ErrUnreachable or
// ErrTimeout with a message naming the address. Adapters pass p.Dial where a
// library takes a DialContext function.
func (p Policy) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	p = p.WithDefaults()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not host:port", ErrUnreachable, addr)
	}
	addrs, err := p.Resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, p.ConnectTimeout)
	defer cancel()
	d := net.Dialer{
		// Defence in depth: the address the kernel is about to connect to.
		ControlContext: func(_ context.Context, _, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: cannot parse %q", ErrForbiddenAddress, address)
			}
			return p.CheckAddr(ap.Addr())
		},
	}
	var first error
	for _, ip := range addrs {
		if err := p.checkAddr(host, ip); err != nil {
			return nil, err
		}
		conn, err := d.DialContext(cctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
		if cctx.Err() != nil {
			break
		}
	}
	return nil, p.dialError(ctx, cctx, addr, first)
}

func (p Policy) dialError(ctx, cctx context.Context, addr string, err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, ErrForbiddenAddress):
		return err
	case errors.Is(ctx.Err(), context.Canceled):
		return ctx.Err()
	case ctx.Err() != nil:
		return fmt.Errorf("%w: connecting to %s took longer than the check allows", ErrTimeout, addr)
	case cctx.Err() != nil, errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w: could not connect to %s within %s (is a firewall dropping the connection?)", ErrTimeout, addr, p.ConnectTimeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: %s refused the connection (is the service listening on that port?)", ErrUnreachable, addr)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Errorf("%w: no route to %s", ErrUnreachable, addr)
	default:
		return fmt.Errorf("%w: could not connect to %s: %v", ErrUnreachable, addr, err)
	}
}

// Guarded runs a Verifier (and an Evaluator) under a Policy. One Guarded
// holds one per-tenant concurrency cap, shared by Verify and EvalEnv.
type Guarded struct {
	p   Policy
	v   Verifier
	e   Evaluator
	lim *limiter
	// service, when set, is the one host every check reaches (GuardService).
	service string
}

var (
	_ Verifier  = (*Guarded)(nil)
	_ Evaluator = (*Guarded)(nil)
)

// Guard returns v running under the policy: each check is bounded by
// CheckTimeout, waits for one of the tenant's MaxPerTenant slots, and is
// refused with ErrForbiddenAddress before v runs when the target's host
// resolves to an address CheckAddr refuses. The resolution is handed to v
// through the context, so an adapter dialling with p.Dial connects to the
// addresses checked here without resolving again. The result's EvalEnv
// answers ErrUnsupported (GuardBoth guards an Evaluator too).
func (p Policy) Guard(v Verifier) *Guarded {
	return p.guard(v, nil)
}

// GuardEvaluator is Guard for an Evaluator; the result's Verify answers
// ErrUnsupported.
func (p Policy) GuardEvaluator(e Evaluator) *Guarded {
	return p.guard(nil, e)
}

// GuardBoth guards v's Verify and e's EvalEnv (often one value, such as an
// adapters/sshcheck login) under one per-tenant concurrency cap.
func (p Policy) GuardBoth(v Verifier, e Evaluator) *Guarded {
	return p.guard(v, e)
}

// GuardService is Guard for a verifier that talks to one fixed service the
// operator configured (a URL or host[:port], such as the Globus Transfer API)
// instead of connecting to the system's host, which then need not be a
// network name at all (a Globus collection id). The SSRF guard resolves and
// checks the service's host, never the target's; the deadlines and the
// per-tenant cap are those of Guard. The verifier dials with p.Dial, which
// reuses that resolution.
func (p Policy) GuardService(v Verifier, service string) *Guarded {
	g := p.guard(v, nil)
	g.service = service
	return g
}

func (p Policy) guard(v Verifier, e Evaluator) *Guarded {
	p = p.WithDefaults()
	return &Guarded{p: p, v: v, e: e, lim: &limiter{max: p.MaxPerTenant, slots: map[string]*slot{}}}
}

// Verify implements Verifier.
func (g *Guarded) Verify(ctx context.Context, t Target, c credentials.Credential) error {
	if g.v == nil {
		return fmt.Errorf("%w: no verifier for system type %s", ErrUnsupported, t.SystemType)
	}
	return g.run(ctx, t, func(ctx context.Context) error { return g.v.Verify(ctx, t, c) })
}

// EvalEnv implements Evaluator.
func (g *Guarded) EvalEnv(ctx context.Context, t Target, c credentials.Credential, name string) (string, error) {
	if g.e == nil {
		return "", fmt.Errorf("%w: HOST_EVAL is not available for system type %s", ErrUnsupported, t.SystemType)
	}
	var out string
	err := g.run(ctx, t, func(ctx context.Context) error {
		var err error
		out, err = g.e.EvalEnv(ctx, t, c, name)
		return err
	})
	return out, err
}

func (g *Guarded) run(ctx context.Context, t Target, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, g.p.CheckTimeout)
	defer cancel()
	release, err := g.lim.acquire(ctx, t.Tenant)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%w: %d checks were already running for tenant %q and none finished within %s; try again later", ErrTimeout, g.lim.max, t.Tenant, g.p.CheckTimeout)
		}
		return err
	}
	defer release()
	host := t.Host
	if g.service != "" {
		host = g.service
	}
	addrs, err := g.p.Resolve(ctx, host)
	if err != nil {
		return err
	}
	err = check(context.WithValue(ctx, resolvedKey{}, resolved{host: HostName(host), addrs: addrs}))
	if err != nil && !classified(err) && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("%w: the check of %s did not finish within %s: %w", ErrTimeout, t.Host, g.p.CheckTimeout, err)
	}
	return err
}

func classified(err error) bool {
	for _, s := range []error{ErrBadCredential, ErrHostKeyMismatch, ErrUnreachable, ErrTimeout, ErrRootDirMissing, ErrForbiddenAddress, ErrUnsupported} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// limiter is a counting semaphore per tenant; a tenant's entry lives only
// while someone holds or waits for one of its slots.
type limiter struct {
	max   int
	mu    sync.Mutex
	slots map[string]*slot
}

type slot struct {
	ch   chan struct{}
	refs int
}

func (l *limiter) acquire(ctx context.Context, tenant string) (release func(), err error) {
	if l.max < 0 {
		return func() {}, nil
	}
	l.mu.Lock()
	s := l.slots[tenant]
	if s == nil {
		s = &slot{ch: make(chan struct{}, l.max)}
		l.slots[tenant] = s
	}
	s.refs++
	l.mu.Unlock()
	select {
	case s.ch <- struct{}{}:
		var once sync.Once
		return func() {
			once.Do(func() {
				<-s.ch
				l.unref(tenant, s)
			})
		}, nil
	case <-ctx.Done():
		l.unref(tenant, s)
		return nil, ctx.Err()
	}
}

func (l *limiter) unref(tenant string, s *slot) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.refs--; s.refs == 0 {
		delete(l.slots, tenant)
	}
}
