package systems_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/systems"
)

// Credentials checked against a host (a fake verifier on top of the memory
// vault): what is checked, as which login, when a check is skipped or
// impossible, how a dynamic system maps a user to a login, and what a
// reader gets back (reference/systems.md §5). Who may manage a credential
// is TestWhoManagesACredential's.

func TestSetUserCredentialChecksTheHost(t *testing.T) {
	v := &verifier{}
	h := newHarness(t, func(c *systems.Config) { c.Verifier = v })
	ctx := context.Background()
	alice, bob := user("dev", "alice"), user("dev", "bob")
	h.create(t, alice, newSystem("sys"))
	h.grant(t, "dev", "sys", "bob", systems.PermRead)
	loginOf := func() string {
		s, err := h.svc.Get(ctx, bob, "sys", systems.GetOptions{})
		require.NoError(t, err)
		return s.EffectiveUserID
	}

	require.NoError(t, h.svc.SetUserCredential(ctx, bob, "sys", "bob", systems.Credential{Password: "pw1"}, false))
	require.Len(t, v.Calls(), 1)
	assert.Equal(t, hostcheck.Target{Tenant: "dev", SystemID: "sys", SystemType: "LINUX", AuthnMethod: "PASSWORD", Host: "host.example.org",
		Port: -1, LoginUser: "bob", RootDir: "/home/alice"}, v.Calls()[0].Target, "a dynamic system is checked as the user")
	assert.Equal(t, "pw1", v.Calls()[0].Cred.Password)

	// A login user maps bob to a host account; later writes keep it.
	require.NoError(t, h.svc.SetUserCredential(ctx, bob, "sys", "bob", systems.Credential{Password: "pw2", LoginUser: "bob_host"}, false))
	assert.Equal(t, "bob_host", v.Calls()[1].Target.LoginUser)
	assert.Equal(t, "bob_host", loginOf())
	require.NoError(t, h.svc.SetUserCredential(ctx, bob, "sys", "bob", systems.Credential{Password: "pw3"}, false))
	assert.Equal(t, "bob_host", v.Calls()[2].Target.LoginUser, "checked as the mapped login")
	assert.Equal(t, "bob_host", loginOf())
	require.NoError(t, h.svc.SetUserCredential(ctx, bob, "sys", "bob", systems.Credential{Password: "pw4", LoginUser: "bob"}, false))
	assert.Equal(t, "bob", loginOf(), "a login equal to the user is no mapping")

	// The host refuses: a 400 naming the reason; the stored one stays.
	v.err = hostcheck.ErrBadCredential
	err := h.svc.SetUserCredential(ctx, bob, "sys", "bob", systems.Credential{Password: "wrong"}, false)
	refusedWith(t, err, systems.ErrCredentialRejected, "SYSAPI_CRED_VALID_FAIL")
	assert.NotContains(t, err.Error(), "wrong")
	assert.Equal(t, "pw4", h.readCred(t, "sys", "bob").Password)

	// Skipped: no call, stored.
	calls := len(v.Calls())
	require.NoError(t, h.svc.SetUserCredential(ctx, bob, "sys", "bob", systems.Credential{Password: "pw5"}, true))
	assert.Len(t, v.Calls(), calls)
	assert.Equal(t, "pw5", h.readCred(t, "sys", "bob").Password)

	err = h.svc.SetUserCredential(ctx, bob, "sys", "bob", systems.Credential{AccessKey: "k"}, true)
	refusedWith(t, err, systems.ErrInvalid, "SYSAPI_CRED_SECRET_MISSING")
	assert.Contains(t, err.Error(), "accessKey and accessSecret")

	require.NoError(t, h.svc.SetUserCredential(ctx, bob, "sys", "bob", systems.Credential{Password: "pw6", LoginUser: "bob_host"}, true))
	require.NoError(t, h.svc.RemoveUserCredential(ctx, bob, "sys", "bob"))
	assert.Equal(t, "bob", loginOf(), "removing the credential removes the mapping")
	_, _, err = h.svc.GetUserCredential(ctx, service("files", "dev"), "sys", "bob", "")
	refusedWith(t, err, systems.ErrNotFound, "SYSAPI_CRED_NOT_FOUND")

	hist, err := h.svc.History(ctx, alice, "sys")
	require.NoError(t, err)
	assert.Equal(t, systems.OpRemoveCred, hist[len(hist)-1].Operation)
	assert.Equal(t, systems.OpSetCred, hist[len(hist)-2].Operation)
	for _, r := range hist {
		assert.NotContains(t, string(r.Description), "pw", "history never records a secret")
	}
}

// readCred reads a credential the way the jobs service does.
func (h harness) readCred(t *testing.T, id, user string) systems.Credential {
	t.Helper()
	c, _, err := h.svc.GetUserCredential(context.Background(), service("jobs", "dev"), id, user, "")
	require.NoError(t, err)
	return c
}

// TestWhichCredentialsAreChecked: LINUX and S3 credentials are checked;
// IRODS and GLOBUS (without a Globus client) cannot be and are stored as
// given; without a verifier a check that should run is a 501.
func TestWhichCredentialsAreChecked(t *testing.T) {
	ctx := context.Background()
	alice := user("dev", "alice")
	irods := newSystem("irods")
	irods.SystemType, irods.Port = systems.TypeIRODS, 1247
	s3 := newSystem("s3")
	s3.SystemType, s3.BucketName, s3.RootDir, s3.DefaultAuthnMethod = systems.TypeS3, "b", "", systems.AuthnAccessKey
	gl := newSystem("globus")
	gl.SystemType, gl.RootDir, gl.DefaultAuthnMethod = systems.TypeGlobus, "/", systems.AuthnToken

	v := &verifier{}
	h := newHarness(t, func(c *systems.Config) { c.Verifier = v })
	for _, s := range []systems.System{irods, s3, gl} {
		h.create(t, alice, s)
	}
	require.NoError(t, h.svc.SetUserCredential(ctx, alice, "irods", "alice", systems.Credential{Password: "pw"}, false))
	require.NoError(t, h.svc.SetUserCredential(ctx, alice, "globus", "alice", systems.Credential{AccessToken: "a", RefreshToken: "r"}, false))
	assert.Empty(t, v.Calls(), "IRODS and GLOBUS are not checked")
	require.NoError(t, h.svc.SetUserCredential(ctx, alice, "s3", "alice", systems.Credential{AccessKey: "k", AccessSecret: "s"}, false))
	require.Len(t, v.Calls(), 1)
	assert.Equal(t, "S3", v.Calls()[0].Target.SystemType)
	assert.Equal(t, "b", v.Calls()[0].Target.BucketName)

	bare := newHarness(t)
	bare.create(t, alice, newSystem("sys"))
	err := bare.svc.SetUserCredential(ctx, alice, "sys", "alice", systems.Credential{Password: "pw"}, false)
	refusedWith(t, err, systems.ErrNotConfigured, "SYSAPI_CRED_CHECK_NOT_CONFIGURED")
	require.NoError(t, bare.svc.SetUserCredential(ctx, alice, "sys", "alice", systems.Credential{Password: "pw"}, true))
	err = bare.svc.CheckUserCredential(ctx, alice, "sys", "alice", "")
	refusedWith(t, err, systems.ErrNotConfigured, "SYSAPI_CRED_CHECK_NOT_CONFIGURED")

	novault := newHarness(t, func(c *systems.Config) { c.Vault = nil })
	novault.create(t, alice, newSystem("sys"))
	for name, err := range map[string]error{
		"set":    novault.svc.SetUserCredential(ctx, alice, "sys", "alice", systems.Credential{Password: "pw"}, true),
		"remove": novault.svc.RemoveUserCredential(ctx, alice, "sys", "alice"),
		"check":  novault.svc.CheckUserCredential(ctx, alice, "sys", "alice", ""),
	} {
		assert.ErrorIs(t, err, systems.ErrNotConfigured, name)
		assert.ErrorContains(t, err, "SYSAPI_CRED_NOT_CONFIGURED", name)
	}
}

func TestCheckUserCredential(t *testing.T) {
	v := &verifier{}
	h := newHarness(t, func(c *systems.Config) { c.Verifier = v })
	ctx := context.Background()
	alice := user("dev", "alice")
	h.create(t, alice, newSystem("sys"))
	err := h.svc.CheckUserCredential(ctx, alice, "sys", "alice", "")
	refusedWith(t, err, systems.ErrNotFound, "SYSAPI_CRED_NOT_FOUND")
	require.NoError(t, h.svc.SetUserCredential(ctx, alice, "sys", "alice", systems.Credential{Password: "pw", PrivateKey: "k", PublicKey: "p"}, true))

	require.NoError(t, h.svc.CheckUserCredential(ctx, alice, "sys", "alice", ""))
	require.NoError(t, h.svc.CheckUserCredential(ctx, alice, "sys", "alice", systems.AuthnPKIKeys))
	require.Len(t, v.Calls(), 2)
	assert.Equal(t, "PASSWORD", v.Calls()[0].Target.AuthnMethod)
	assert.Equal(t, "pw", v.Calls()[0].Cred.Password, "the stored credential is checked")
	assert.Equal(t, "PKI_KEYS", v.Calls()[1].Target.AuthnMethod, "as the method asked for")

	err = h.svc.CheckUserCredential(ctx, alice, "sys", "alice", "SMOKE_SIGNALS")
	refusedWith(t, err, systems.ErrInvalid, "SYSAPI_ACCMETHOD_ENUM_ERROR")
	err = h.svc.CheckUserCredential(ctx, user("dev", "stranger"), "sys", "alice", "")
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")
	v.err = hostcheck.ErrTimeout
	err = h.svc.CheckUserCredential(ctx, alice, "sys", "alice", "")
	refusedWith(t, err, systems.ErrCredentialRejected, "SYSAPI_CRED_VALID_FAIL")
	v.err = context.Canceled
	err = h.svc.CheckUserCredential(ctx, alice, "sys", "alice", "")
	assert.ErrorIs(t, err, context.Canceled, "a cancelled check is not the host's refusal")
	assert.NotErrorIs(t, err, systems.ErrCredentialRejected)
}

// TestReadersGetOneMethodsSecrets: files and jobs get the secrets of one
// authentication method (the system's default, or the one asked for), and
// the login they open.
func TestReadersGetOneMethodsSecrets(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	alice := user("dev", "alice")
	h.create(t, alice, newSystem("sys"))
	all := systems.Credential{Password: "pw", PrivateKey: "priv", PublicKey: "pub", AccessKey: "ak", AccessSecret: "as",
		AccessToken: "at", RefreshToken: "rt", LoginUser: "alice_host"}
	require.NoError(t, h.svc.SetUserCredential(ctx, alice, "sys", "alice", all, true))
	files := service("files", "dev")

	for _, c := range []struct {
		method systems.AuthnMethod
		want   systems.Credential
	}{
		{"", systems.Credential{Password: "pw"}},
		{systems.AuthnPKIKeys, systems.Credential{PrivateKey: "priv", PublicKey: "pub"}},
		{systems.AuthnTMSKeys, systems.Credential{PrivateKey: "priv", PublicKey: "pub"}},
		{systems.AuthnAccessKey, systems.Credential{AccessKey: "ak", AccessSecret: "as"}},
		{systems.AuthnToken, systems.Credential{AccessToken: "at", RefreshToken: "rt"}},
		{systems.AuthnCert, systems.Credential{}},
	} {
		got, method, err := h.svc.GetUserCredential(ctx, files, "sys", "alice", c.method)
		require.NoError(t, err, c.method)
		if c.method == "" {
			assert.Equal(t, systems.AuthnPassword, method, "the system's default method")
		}
		c.want.LoginUser, c.want.Updated = "alice_host", got.Updated
		assert.Equal(t, c.want, got, c.method)
	}
	_, _, err := h.svc.GetUserCredential(ctx, files, "sys", "alice", "PIGEON")
	refusedWith(t, err, systems.ErrInvalid, "SYSAPI_ACCMETHOD_ENUM_ERROR")
	_, _, err = h.svc.GetUserCredential(ctx, files, "sys", "", "")
	refusedWith(t, err, systems.ErrInvalid, "SYSLIB_INVALID_STR_ATTR")
	_, _, err = h.svc.GetUserCredential(ctx, files, "nosuch", "alice", "")
	refusedWith(t, err, systems.ErrNotFound, "SYSAPI_NOT_FOUND")

	// returnCredentials: the requesting user's credential on a dynamic
	// system, none when it has none.
	s, err := h.svc.Get(ctx, obo("jobs", "dev", "alice"), "sys", systems.GetOptions{ReturnCredentials: true, AuthnMethod: systems.AuthnAccessKey})
	require.NoError(t, err)
	require.NotNil(t, s.AuthnCredential)
	assert.Equal(t, "ak", s.AuthnCredential.AccessKey)
	assert.Empty(t, s.AuthnCredential.Password)
	h.grant(t, "dev", "sys", "bob", systems.PermRead)
	s, err = h.svc.Get(ctx, obo("jobs", "dev", "bob"), "sys", systems.GetOptions{ReturnCredentials: true})
	require.NoError(t, err)
	assert.Nil(t, s.AuthnCredential, "bob has no credential (and never gets alice's)")
}
