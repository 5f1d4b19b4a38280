package ldapauth

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
	"github.com/tapis-go/tapis/tenancy/tenancytest"
)

// The directory scripts/ldap-start.sh seeds.
const (
	testBase    = "dc=tapis,dc=test"
	testUserDN  = "ou=tenants.dev," + testBase
	testAdminDN = "cn=admin," + testBase
	testAdminPW = "admin-pw"
)

// ldapURL returns TAPIS_TEST_LDAP_URL or skips the test.
func ldapURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("TAPIS_TEST_LDAP_URL")
	if u == "" {
		t.Skip("TAPIS_TEST_LDAP_URL not set: LDAP tests skipped (start slapd with scripts/ldap-start.sh)")
	}
	return u
}

// devConn is the dev tenant's LDAP object pointing at url.
func devConn(url string) tenancy.LDAPConnection {
	return tenancy.LDAPConnection{ID: "dev-ldap", URL: url, UserDN: testUserDN, BindDN: testAdminDN,
		BindCredential: "ldap.dev", AccountType: "user"}
}

// secrets resolves the one bind credential the fixtures name.
func secrets(_ context.Context, name string) (string, error) {
	if name == "ldap.dev" {
		return testAdminPW, nil
	}
	return "", errors.New("no secret " + name)
}

// newAuth serves tenant "dev" with conn; every other tenant is not configured.
func newAuth(t *testing.T, conn tenancy.LDAPConnection, opts Options) *Authenticator {
	t.Helper()
	dir := DirectoryFunc(func(_ context.Context, tenantID string) (tenancy.LDAPConnection, bool, error) {
		return conn, tenantID == "dev", nil
	})
	a, err := New(dir, secrets, opts)
	require.NoError(t, err)
	return a
}

// counter wraps the dialer to count connections and LDAP requests (go-ldap
// writes one request per Write).
type counter struct{ dials, writes atomic.Int32 }

type countingConn struct {
	net.Conn
	c *counter
}

func (cc countingConn) Write(b []byte) (int, error) {
	cc.c.writes.Add(1)
	return cc.Conn.Write(b)
}

func (c *counter) wrap(a *Authenticator) {
	dial := a.dialTCP
	a.dialTCP = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c.dials.Add(1)
		nc, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{nc, c}, nil
	}
}

// stallingServer accepts TCP connections and never answers on them.
func stallingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
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
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// returnsWithin runs f and fails the test when f has not returned after d,
// so that a hang is reported rather than waited for.
func returnsWithin(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("still running after %s", d)
	}
}

func TestNewNamesMissingDependencies(t *testing.T) {
	_, err := New(nil, nil, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Directory")
	assert.Contains(t, err.Error(), "SecretFunc")
}

func TestAddress(t *testing.T) {
	for _, tc := range []struct {
		url     string
		port    int
		useSSL  bool
		addr    string
		wantTLS bool
	}{
		{"ldap://ldap.test", 389, false, "ldap.test:389", false},
		{"ldap://ldap.test", 0, false, "ldap.test:389", false},
		{"ldaps://ldap.test", 0, false, "ldap.test:636", true},
		{"ldaps://ldap.test", 1636, true, "ldap.test:1636", true},
		{"ldap://ldap.test:3389", 389, false, "ldap.test:3389", false},
		{"ldap://ldap.test", 636, true, "ldap.test:636", true},
		{"ldap://[::1]:3389", 0, false, "[::1]:3389", false},
	} {
		addr, useTLS, err := address(tenancy.LDAPConnection{URL: tc.url, Port: tc.port, UseSSL: tc.useSSL})
		require.NoError(t, err, tc.url)
		assert.Equal(t, tc.addr, addr, tc.url)
		assert.Equal(t, tc.wantTLS, useTLS, tc.url)
	}
	for _, bad := range []string{"http://ldap.test", "ldap://", "ldapi:///run/slapd", "://x"} {
		_, _, err := address(tenancy.LDAPConnection{URL: bad})
		assert.Error(t, err, bad)
	}
}

func TestSearchBase(t *testing.T) {
	for _, tc := range []struct{ userDN, base, attr string }{
		{"ou=tenants.dev,dc=tapis", "ou=tenants.dev,dc=tapis", "uid"},
		{"uid=${username},ou=tenants.dev,dc=tapis", "ou=tenants.dev,dc=tapis", "uid"},
		{"cn=${username},ou=people,dc=x", "ou=people,dc=x", "cn"},
		{"ou=a,uid=${username},dc=x", "ou=a,uid=${username},dc=x", "uid"}, // not a leading template
	} {
		base, attr := searchBase(tc.userDN)
		assert.Equal(t, tc.base, base, tc.userDN)
		assert.Equal(t, tc.attr, attr, tc.userDN)
	}
}

func TestTenancyDirectory(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	require.NoError(t, st.CreateSite(ctx, tenancytest.Site("s1", true)))
	require.NoError(t, st.CreateOwner(ctx, tenancytest.Owner("o@x.test")))
	require.NoError(t, st.CreateLDAP(ctx, tenancytest.LDAP("l1")))
	withLDAP := tenancytest.Tenant("dev", "s1", "o@x.test")
	withLDAP.UserLDAPConnectionID = "l1"
	require.NoError(t, st.CreateTenant(ctx, withLDAP))
	require.NoError(t, st.CreateTenant(ctx, tenancytest.Tenant("other", "s1", "o@x.test")))
	svc, err := tenancy.NewService(tenancy.Config{Store: st})
	require.NoError(t, err)
	for name, reg := range map[string]Registry{"store": st, "service": svc} {
		dir := TenancyDirectory(reg)
		got, ok, err := dir.TenantLDAP(ctx, "dev")
		require.NoError(t, err, name)
		assert.True(t, ok, name)
		assert.Equal(t, "l1", got.ID, name)
		assert.Equal(t, "ldap.l1", got.BindCredential, name)
		for _, id := range []string{"other", "nosuch"} {
			_, ok, err = dir.TenantLDAP(ctx, id)
			require.NoError(t, err, name+" "+id)
			assert.False(t, ok, name+" "+id)
		}
	}
	broken := TenancyDirectory(failingRegistry{})
	_, _, err = broken.TenantLDAP(ctx, "dev")
	assert.ErrorContains(t, err, "registry down", "a failing registry is an error, not 'not configured'")
}

// failingRegistry cannot be read.
type failingRegistry struct{}

func (failingRegistry) GetTenant(context.Context, string) (tenancy.Tenant, error) {
	return tenancy.Tenant{}, errors.New("registry down")
}

func (failingRegistry) GetLDAP(context.Context, string) (tenancy.LDAPConnection, error) {
	return tenancy.LDAPConnection{}, errors.New("registry down")
}

func TestNotConfigured(t *testing.T) {
	// No server is needed: an unconfigured tenant never dials.
	a := newAuth(t, devConn("ldap://127.0.0.1:1"), Options{})
	var c counter
	c.wrap(a)
	ctx := context.Background()
	_, err := a.Authenticate(ctx, "other", "testuser1", "testuser1")
	assert.ErrorIs(t, err, oauth2.ErrNotConfigured)
	_, err = a.GetProfile(ctx, "other", "testuser1")
	assert.ErrorIs(t, err, oauth2.ErrNotConfigured)
	_, err = a.ListProfiles(ctx, "other", 10, 0)
	assert.ErrorIs(t, err, oauth2.ErrNotConfigured)
	assert.Zero(t, c.dials.Load())

	// FirstConfigured then asks the next authenticator.
	builtin := oauth2.AuthenticatorFunc(func(context.Context, string, string, string) (oauth2.Identity, error) {
		return oauth2.Identity{Username: "builtin"}, nil
	})
	id, err := oauth2.FirstConfigured{a, builtin}.Authenticate(ctx, "other", "u", "p")
	require.NoError(t, err)
	assert.Equal(t, "builtin", id.Username)
}

func TestDirectoryError(t *testing.T) {
	boom := errors.New("store down")
	a, err := New(DirectoryFunc(func(context.Context, string) (tenancy.LDAPConnection, bool, error) {
		return tenancy.LDAPConnection{}, false, boom
	}), secrets, Options{})
	require.NoError(t, err)
	_, err = a.Authenticate(context.Background(), "dev", "testuser1", "testuser1")
	assert.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, oauth2.ErrInvalidCredentials)
}

func TestAuthenticate(t *testing.T) {
	url := ldapURL(t)
	a := newAuth(t, devConn(url), Options{Timeout: 5 * time.Second})
	ctx := context.Background()

	t.Run("good login", func(t *testing.T) {
		id, err := a.Authenticate(ctx, "dev", "testuser1", "testuser1")
		require.NoError(t, err)
		assert.Equal(t, oauth2.Identity{Username: "testuser1", Email: "testuser1@test.tapis.io", Name: "Test User1"}, id)
		id, err = a.Authenticate(ctx, "dev", "testadmin", "testadmin")
		require.NoError(t, err)
		assert.Equal(t, "testadmin", id.Username)
	})
	t.Run("username is the directory's spelling", func(t *testing.T) {
		// uid matches case-insensitively; the identity carries the stored value.
		id, err := a.Authenticate(ctx, "dev", "TestUser2", "testuser2")
		require.NoError(t, err)
		assert.Equal(t, "testuser2", id.Username)
	})
	t.Run("wrong password", func(t *testing.T) {
		_, err := a.Authenticate(ctx, "dev", "testuser1", "testuser2")
		assert.ErrorIs(t, err, oauth2.ErrInvalidCredentials)
	})
	t.Run("unknown user", func(t *testing.T) {
		_, err := a.Authenticate(ctx, "dev", "nosuchuser", "nosuchuser")
		assert.ErrorIs(t, err, oauth2.ErrInvalidCredentials)
	})
	t.Run("empty password is refused before any dial", func(t *testing.T) {
		b := newAuth(t, devConn(url), Options{})
		var c counter
		c.wrap(b)
		for _, user := range []string{"testuser1", "nosuchuser", ""} {
			_, err := b.Authenticate(ctx, "dev", user, "")
			assert.ErrorIs(t, err, oauth2.ErrInvalidCredentials, user)
		}
		assert.Zero(t, c.dials.Load())
	})
	t.Run("filter injection matches literally", func(t *testing.T) {
		for _, user := range []string{"*", "testuser*", ")(uid=*", "testuser1)(uid=*", "*)(|(uid=*", "testuser1)", `\2a`} {
			for _, pw := range []string{"testuser1", "x"} {
				_, err := a.Authenticate(ctx, "dev", user, pw)
				assert.ErrorIs(t, err, oauth2.ErrInvalidCredentials, "%q/%q", user, pw)
			}
			_, err := a.GetProfile(ctx, "dev", user)
			assert.ErrorIs(t, err, oauth2.ErrNotFound, user)
		}
	})
	t.Run("user_dn template", func(t *testing.T) {
		conn := devConn(url)
		conn.UserDN = "uid=${username}," + testUserDN
		id, err := newAuth(t, conn, Options{}).Authenticate(ctx, "dev", "testuser3", "testuser3")
		require.NoError(t, err)
		assert.Equal(t, "testuser3", id.Username)
	})
}

// An unknown user and a wrong password cost the same: one connection and
// the same three requests (service bind, search, bind).
func TestUnknownUserCostsLikeWrongPassword(t *testing.T) {
	url := ldapURL(t)
	ctx := context.Background()
	count := func(user, pw string) (int32, int32) {
		a := newAuth(t, devConn(url), Options{})
		var c counter
		c.wrap(a)
		_, err := a.Authenticate(ctx, "dev", user, pw)
		require.ErrorIs(t, err, oauth2.ErrInvalidCredentials)
		return c.dials.Load(), c.writes.Load()
	}
	dWrong, wWrong := count("testuser1", "wrong")
	dUnknown, wUnknown := count("nosuchuser", "wrong")
	assert.Equal(t, int32(1), dWrong)
	assert.Equal(t, int32(3), wWrong)
	assert.Equal(t, dWrong, dUnknown)
	assert.Equal(t, wWrong, wUnknown)
}

func TestConfigurationProblemsAreNotTheUsers(t *testing.T) {
	url := ldapURL(t)
	ctx := context.Background()
	wrongPW, err := New(DirectoryFunc(func(context.Context, string) (tenancy.LDAPConnection, bool, error) {
		return devConn(url), true, nil
	}), func(context.Context, string) (string, error) { return "not-the-admin-pw", nil }, Options{})
	require.NoError(t, err)
	_, err = wrongPW.Authenticate(ctx, "dev", "testuser1", "testuser1")
	require.Error(t, err)
	assert.NotErrorIs(t, err, oauth2.ErrInvalidCredentials)
	assert.Contains(t, err.Error(), "service bind")
	assert.NotContains(t, err.Error(), "not-the-admin-pw")

	conn := devConn(url)
	conn.BindCredential = "ldap.missing"
	_, err = newAuth(t, conn, Options{}).Authenticate(ctx, "dev", "testuser1", "testuser1")
	require.Error(t, err)
	assert.NotErrorIs(t, err, oauth2.ErrInvalidCredentials)
	assert.Contains(t, err.Error(), "ldap.missing")

	conn = devConn(url)
	conn.UserDN = "ou=missing," + testBase
	_, err = newAuth(t, conn, Options{}).Authenticate(ctx, "dev", "testuser1", "testuser1")
	require.Error(t, err)
	assert.NotErrorIs(t, err, oauth2.ErrInvalidCredentials)
	assert.Contains(t, err.Error(), "No Such Object")
}

// Two entries with the same uid under user_dn: the login is refused rather
// than bound to whichever came first, at the usual cost.
func TestAmbiguousUserIsRefused(t *testing.T) {
	url := ldapURL(t)
	admin, err := ldap.DialURL(url)
	require.NoError(t, err)
	defer func() { _ = admin.Close() }()
	require.NoError(t, admin.Bind(testAdminDN, testAdminPW))
	ou, dup := "ou=dup,"+testBase, "uid=testuser1,ou=dup,"+testBase
	cleanup := func() { _ = admin.Del(ldap.NewDelRequest(dup, nil)); _ = admin.Del(ldap.NewDelRequest(ou, nil)) }
	cleanup()
	t.Cleanup(cleanup)
	add := ldap.NewAddRequest(ou, nil)
	add.Attribute("objectClass", []string{"organizationalUnit"})
	add.Attribute("ou", []string{"dup"})
	require.NoError(t, admin.Add(add))
	add = ldap.NewAddRequest(dup, nil)
	add.Attribute("objectClass", []string{"inetOrgPerson"})
	for k, v := range map[string]string{"uid": "testuser1", "cn": "Dup", "sn": "Dup", "userPassword": "testuser1"} {
		add.Attribute(k, []string{v})
	}
	require.NoError(t, admin.Add(add))

	conn := devConn(url)
	conn.UserDN = testBase // both entries are below it
	a := newAuth(t, conn, Options{})
	var c counter
	c.wrap(a)
	_, err = a.Authenticate(context.Background(), "dev", "testuser1", "testuser1")
	assert.ErrorIs(t, err, oauth2.ErrInvalidCredentials)
	assert.Equal(t, int32(3), c.writes.Load())
	_, err = a.GetProfile(context.Background(), "dev", "testuser1")
	assert.ErrorIs(t, err, oauth2.ErrNotFound)
}

func TestGetProfile(t *testing.T) {
	a := newAuth(t, devConn(ldapURL(t)), Options{})
	ctx := context.Background()
	p, err := a.GetProfile(ctx, "dev", "testuser1")
	require.NoError(t, err)
	assert.False(t, p.CreateTime.IsZero(), "createTimestamp read")
	assert.Equal(t, time.UTC, p.CreateTime.Location())
	assert.WithinDuration(t, time.Now(), p.CreateTime, 24*time.Hour)
	p.CreateTime = time.Time{}
	assert.Equal(t, oauth2.Profile{
		Username: "testuser1", Email: "testuser1@test.tapis.io", Name: "Test User1",
		GivenName: "Test", LastName: "User1", Phone: "+1 512 555 0101", MobilePhone: "+1 512 555 0102",
		UID: "10001", DN: "uid=testuser1," + testUserDN,
	}, p)

	for _, user := range []string{"nosuchuser", ""} {
		_, err = a.GetProfile(ctx, "dev", user)
		assert.ErrorIs(t, err, oauth2.ErrNotFound, user)
	}
	_, err = a.GetProfile(ctx, "dev", "nosuchuser")
	assert.EqualError(t, err, "No profile found for user nosuchuser.")
}

func TestListProfiles(t *testing.T) {
	a := newAuth(t, devConn(ldapURL(t)), Options{})
	ctx := context.Background()
	names := func(limit, offset int) []string {
		t.Helper()
		ps, err := a.ListProfiles(ctx, "dev", limit, offset)
		require.NoError(t, err)
		require.NotNil(t, ps)
		out := []string{}
		for _, p := range ps {
			out = append(out, p.Username)
		}
		return out
	}
	all := []string{"testadmin", "testuser1", "testuser2", "testuser3"}
	assert.Equal(t, all, names(0, 0))
	assert.Equal(t, all, names(100, 0))
	assert.Equal(t, all[:2], names(2, 0))
	assert.Equal(t, all[1:3], names(2, 1))
	assert.Equal(t, all[3:], names(2, 3))
	assert.Equal(t, []string{}, names(2, 4))
	assert.Equal(t, []string{}, names(2, 99))
	assert.Equal(t, all[:1], names(1, -5))

	ps, err := a.ListProfiles(ctx, "dev", 1, 1)
	require.NoError(t, err)
	require.Len(t, ps, 1)
	assert.Equal(t, "Test User1", ps[0].Name)
	assert.Equal(t, "10001", ps[0].UID)
}

// A server that accepts the connection and never answers must not hold a
// login longer than the timeout, in plain LDAP or at the TLS handshake.
func TestStalledServerTimesOut(t *testing.T) {
	addr := stallingServer(t)
	for _, scheme := range []string{"ldap", "ldaps"} {
		t.Run(scheme, func(t *testing.T) {
			a := newAuth(t, devConn(scheme+"://"+addr), Options{Timeout: 300 * time.Millisecond})
			var err error
			returnsWithin(t, 2*time.Second, func() {
				_, err = a.Authenticate(context.Background(), "dev", "testuser1", "testuser1")
			})
			require.Error(t, err)
			assert.NotErrorIs(t, err, oauth2.ErrInvalidCredentials)
		})
	}
}

func TestContextCancel(t *testing.T) {
	t.Run("cancel while the server stalls", func(t *testing.T) {
		a := newAuth(t, devConn("ldap://"+stallingServer(t)), Options{Timeout: time.Minute})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		var err error
		returnsWithin(t, 2*time.Second, func() { _, err = a.Authenticate(ctx, "dev", "testuser1", "testuser1") })
		assert.ErrorIs(t, err, context.Canceled)

		ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		returnsWithin(t, 2*time.Second, func() { _, err = a.ListProfiles(ctx, "dev", 10, 0) })
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("cancelled before the call", func(t *testing.T) {
		a := newAuth(t, devConn("ldap://127.0.0.1:1"), Options{})
		var c counter
		c.wrap(a)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := a.Authenticate(ctx, "dev", "testuser1", "testuser1")
		assert.ErrorIs(t, err, context.Canceled)
		_, err = a.GetProfile(ctx, "dev", "testuser1")
		assert.ErrorIs(t, err, context.Canceled)
		assert.Zero(t, c.dials.Load())
	})
	t.Run("against slapd", func(t *testing.T) {
		a := newAuth(t, devConn(ldapURL(t)), Options{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := a.Authenticate(ctx, "dev", "testuser1", "testuser1")
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestUnreachableServerIsNotInvalidCredentials(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now: connection refused
	a := newAuth(t, devConn("ldap://"+addr), Options{Timeout: time.Second})
	_, err = a.Authenticate(context.Background(), "dev", "testuser1", "testuser1")
	require.Error(t, err)
	assert.NotErrorIs(t, err, oauth2.ErrInvalidCredentials)
	assert.Contains(t, err.Error(), "dial")
}
