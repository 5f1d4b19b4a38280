package systems_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/tenancy"
)

// Service-level tests of create, get, PUT and PATCH on the memory store
// (reference/systems.md §3): the outcome, the error kind (errors.Is against
// the sentinels) and the original's message key, and that a refused
// request wrote nothing.

// newSystem is a valid create request of a dynamic LINUX system whose
// rootDir uses ${apiUserId}.
func newSystem(id string) systems.System {
	s := systems.Defaults()
	s.ID, s.SystemType, s.Host, s.DefaultAuthnMethod, s.RootDir = id, systems.TypeLinux, "host.example.org", systems.AuthnPassword, "/home/${apiUserId}"
	return s
}

// execSystem makes s an execution system.
func execSystem(s systems.System) systems.System {
	s.CanExec, s.JobWorkingDir, s.JobRuntimes = true, "/scratch", []systems.JobRuntime{{RuntimeType: "DOCKER"}}
	return s
}

func (h harness) create(t *testing.T, p principal, s systems.System) systems.System {
	t.Helper()
	out, err := h.svc.Create(context.Background(), p, systems.CreateInput{System: s})
	require.NoError(t, err)
	return out
}

// absent asserts that no system id exists in tenant, deleted or not.
func (h harness) absent(t *testing.T, tenant, id string) {
	t.Helper()
	_, err := h.st.GetSystem(context.Background(), tenant, id)
	assert.ErrorIs(t, err, systems.ErrNotFound, "nothing was stored for %s/%s", tenant, id)
}

// stored reads a system from the store as it is.
func (h harness) stored(t *testing.T, tenant, id string) systems.System {
	t.Helper()
	s, err := h.st.GetSystem(context.Background(), tenant, id)
	require.NoError(t, err)
	return s
}

// principal is the identity every operation takes.
type principal = tenancy.Principal

func refusedWith(t *testing.T, err error, kind error, key string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, kind)
	assert.Contains(t, err.Error(), key)
}

func TestCreate(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	in := newSystem("sys")
	in.Tenant, in.Owner = "other", "" // the tenant is the caller's; the owner defaults to the caller
	in.Enabled = false
	s := h.create(t, user("dev", "alice"), in)

	assert.Equal(t, "dev", s.Tenant)
	assert.Equal(t, "alice", s.Owner)
	assert.Equal(t, systems.VarAPIUserID, s.EffectiveUserID, "blank effectiveUserId is dynamic")
	assert.Equal(t, "/home/alice", s.RootDir, "variables resolved at create")
	assert.False(t, s.Enabled, "enabled=false is kept")
	assert.EqualValues(t, 1, s.Version)
	assert.NotEmpty(t, s.UUID)
	assert.Equal(t, s.Created, s.Updated)
	assert.Equal(t, s, h.stored(t, "dev", "sys"))
	h.absent(t, "other", "sys")

	hist, err := h.svc.History(ctx, user("dev", "alice"), "sys")
	require.NoError(t, err)
	require.Len(t, hist, 1)
	assert.Equal(t, systems.OpCreate, hist[0].Operation)
	assert.Equal(t, "alice", hist[0].JWTUser)

	// rootDir of a LINUX system is normalized; variables in the other paths too.
	in = newSystem("norm")
	in.RootDir, in.EffectiveUserID = "/data//${owner}/./x/", "${owner}"
	s = h.create(t, user("dev", "alice"), in)
	assert.Equal(t, "/data/alice/x", s.RootDir)
	assert.Equal(t, "alice", s.EffectiveUserID, "${owner} makes the system static")
}

func TestCreateRefusals(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	alice := user("dev", "alice")
	h.create(t, alice, newSystem("taken"))
	_, err := h.svc.Delete(ctx, alice, "taken")
	require.NoError(t, err)
	h.create(t, user("dev", "carol"), execSystem(newSystem("carols-dtn")))
	dtn := execSystem(newSystem("alices-dtn"))
	dtn.RootDir = "/dtn"
	h.create(t, alice, dtn)

	cases := []struct {
		name string
		edit func(*systems.CreateInput)
		p    principal
		kind error
		keys []string
	}{
		{"a deleted system keeps its id", func(in *systems.CreateInput) { in.System.ID = "taken" }, alice, systems.ErrAlreadyExists, []string{"SYSAPI_SYS_EXISTS"}},
		{"a reserved id", func(in *systems.CreateInput) { in.System.ID = "Perms" }, alice, systems.ErrAlreadyExists, []string{"SYSAPI_CREATE_RESERVED"}},
		{"a required attribute the body left out", func(in *systems.CreateInput) { in.Missing = []string{"canExec"} }, alice, systems.ErrInvalid,
			[]string{"SYSLIB_CREATE_MISSING_ATTR", "canExec"}},
		{"loginUser on a static system", func(in *systems.CreateInput) {
			in.System.EffectiveUserID = "login"
			in.Credential, in.SkipCredentialCheck = &systems.Credential{Password: "pw", LoginUser: "other"}, true
		}, alice, systems.ErrInvalid, []string{"SYSLIB_CRED_INVALID_LOGINUSER"}},
		{"a missing scheduler profile", func(in *systems.CreateInput) { in.System.BatchSchedulerProfile = "nosuch" }, alice, systems.ErrInvalid,
			[]string{"SYSLIB_PRF_NO_PROFILE", `"nosuch"`}},
		{"a missing DTN", func(in *systems.CreateInput) { in.System = execSystem(in.System); in.System.DTNSystemID = "nosuch" }, alice, systems.ErrInvalid,
			[]string{"SYSLIB_DTN_NO_SYSTEM"}},
		{"a deleted DTN", func(in *systems.CreateInput) { in.System = execSystem(in.System); in.System.DTNSystemID = "taken" }, alice, systems.ErrInvalid,
			[]string{"SYSLIB_DTN_NO_SYSTEM"}},
		{"a DTN the caller may not read", func(in *systems.CreateInput) { in.System = execSystem(in.System); in.System.DTNSystemID = "carols-dtn" }, alice,
			systems.ErrInvalid, []string{"SYSLIB_DTN_403"}},
		{"a DTN with another rootDir", func(in *systems.CreateInput) { in.System = execSystem(in.System); in.System.DTNSystemID = "alices-dtn" }, alice,
			systems.ErrInvalid, []string{"SYSLIB_DTN_ROOTDIR_MISMATCH"}},
		{"a system for another owner", func(in *systems.CreateInput) { in.System.Owner = "bob" }, alice, systems.ErrForbidden, []string{"SYSLIB_UNAUTH"}},
		{"every broken rule at once", func(in *systems.CreateInput) {
			in.System = execSystem(in.System)
			in.System.Host, in.System.BatchSchedulerProfile, in.System.DTNSystemID, in.Missing = "", "nosuch", "nosuch", []string{"canExec"}
		}, alice, systems.ErrInvalid, []string{"4 problem(s)", "SYSLIB_CREATE_MISSING_ATTR Missing required attribute(s): host.",
			"SYSLIB_CREATE_MISSING_ATTR Missing required attribute(s): canExec.", "SYSLIB_PRF_NO_PROFILE", "SYSLIB_DTN_NO_SYSTEM"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := systems.CreateInput{System: newSystem("new")}
			c.edit(&in)
			_, err := h.svc.Create(ctx, c.p, in)
			refusedWith(t, err, c.kind, c.keys[0])
			for _, k := range c.keys[1:] {
				assert.Contains(t, err.Error(), k)
			}
			if in.System.ID == "new" {
				h.absent(t, "dev", "new")
			}
		})
	}
	// The passing twins of the reference rules.
	h.create(t, user("dev", "devadmin"), func() systems.System { s := newSystem("for-bob"); s.Owner = "bob"; return s }())
	assert.Equal(t, "bob", h.stored(t, "dev", "for-bob").Owner, "a tenant admin creates for another owner")
	same := execSystem(newSystem("with-dtn"))
	same.DTNSystemID, same.RootDir = "alices-dtn", "/dtn"
	h.create(t, alice, same)
	_, err = h.svc.CreateProfile(ctx, alice, systems.SchedulerProfile{Name: "prof"})
	require.NoError(t, err)
	withProfile := newSystem("with-profile")
	withProfile.BatchSchedulerProfile = "prof"
	h.create(t, alice, withProfile)
}

// TestCreateWithCredential: the credential of a create is checked against
// the host before anything is stored; a refusal, a missing verifier or a
// vault that fails leaves no system behind.
func TestCreateWithCredential(t *testing.T) {
	ctx := context.Background()
	alice := user("dev", "alice")
	static := func(id string) systems.CreateInput {
		s := newSystem(id)
		s.EffectiveUserID = "alice_login"
		return systems.CreateInput{System: s, Credential: &systems.Credential{Password: "s3cret"}}
	}

	t.Run("no verifier", func(t *testing.T) {
		h := newHarness(t)
		_, err := h.svc.Create(ctx, alice, static("sys"))
		refusedWith(t, err, systems.ErrNotConfigured, "SYSAPI_CRED_CHECK_NOT_CONFIGURED")
		h.absent(t, "dev", "sys")
	})
	t.Run("no vault", func(t *testing.T) {
		h := newHarness(t, func(c *systems.Config) { c.Vault = nil })
		in := static("sys")
		in.SkipCredentialCheck = true
		_, err := h.svc.Create(ctx, alice, in)
		refusedWith(t, err, systems.ErrNotConfigured, "SYSAPI_CRED_NOT_CONFIGURED")
		h.absent(t, "dev", "sys")
	})
	t.Run("the host refuses", func(t *testing.T) {
		v := &verifier{err: hostcheck.ErrBadCredential}
		h := newHarness(t, func(c *systems.Config) { c.Verifier = v })
		_, err := h.svc.Create(ctx, alice, static("sys"))
		refusedWith(t, err, systems.ErrCredentialRejected, "SYSAPI_CRED_VALID_FAIL")
		assert.Contains(t, err.Error(), "host.example.org")
		assert.NotContains(t, err.Error(), "s3cret")
		h.absent(t, "dev", "sys")
	})
	t.Run("the host accepts", func(t *testing.T) {
		v := &verifier{}
		h := newHarness(t, func(c *systems.Config) { c.Verifier = v })
		s, err := h.svc.Create(ctx, alice, static("sys"))
		require.NoError(t, err)
		require.Len(t, v.Calls(), 1)
		tgt := v.Calls()[0].Target
		assert.Equal(t, hostcheck.Target{Tenant: "dev", SystemID: "sys", SystemType: "LINUX", AuthnMethod: "PASSWORD",
			Host: "host.example.org", Port: -1, LoginUser: "alice_login", RootDir: "/home/alice"}, tgt)
		c, _, err := h.svc.GetUserCredential(ctx, service("files", "dev"), "sys", s.EffectiveUserID, "")
		require.NoError(t, err)
		assert.Equal(t, "s3cret", c.Password)
		hist, err := h.svc.History(ctx, alice, "sys")
		require.NoError(t, err)
		assert.NotContains(t, string(hist[0].Description), "s3cret", "history never records the secret")
	})
	t.Run("half a key pair", func(t *testing.T) {
		h := newHarness(t, func(c *systems.Config) { c.Verifier = &verifier{} })
		in := static("sys")
		in.Credential = &systems.Credential{PrivateKey: "k"}
		_, err := h.svc.Create(ctx, alice, in)
		refusedWith(t, err, systems.ErrInvalid, "SYSAPI_CRED_SECRET_MISSING")
		h.absent(t, "dev", "sys")
	})
	t.Run("the vault fails after the system was stored", func(t *testing.T) {
		h := newHarness(t, func(c *systems.Config) { c.Vault = failingVault{c.Vault} })
		in := static("sys")
		in.SkipCredentialCheck = true
		_, err := h.svc.Create(ctx, alice, in)
		require.ErrorIs(t, err, errVaultDown)
		h.absent(t, "dev", "sys")
		_, err = h.svc.Create(ctx, alice, systems.CreateInput{System: newSystem("sys")})
		assert.NoError(t, err, "the id is free again")
	})
}

func TestCreateHostEval(t *testing.T) {
	ctx := context.Background()
	alice := user("dev", "alice")
	in := func() systems.CreateInput {
		s := newSystem("sys")
		s.EffectiveUserID, s.RootDir = "alice_login", "HOST_EVAL($SCRATCH)/data"
		return systems.CreateInput{System: s, Credential: &systems.Credential{Password: "pw"}, SkipCredentialCheck: true}
	}
	t.Run("no evaluator", func(t *testing.T) {
		h := newHarness(t)
		_, err := h.svc.Create(ctx, alice, in())
		refusedWith(t, err, systems.ErrNotConfigured, "SYSAPI_HOST_EVAL_NOT_CONFIGURED")
		h.absent(t, "dev", "sys")
	})
	t.Run("resolved on the host as the static user", func(t *testing.T) {
		ev := &evaluator{env: map[string]string{"SCRATCH": "/scratch/alice_login"}}
		h := newHarness(t, func(c *systems.Config) { c.Evaluator = ev })
		s, err := h.svc.Create(ctx, alice, in())
		require.NoError(t, err)
		assert.Equal(t, "/scratch/alice_login/data", s.RootDir)
		require.Len(t, ev.seen, 1)
		assert.Equal(t, "alice_login", ev.seen[0].LoginUser)
	})
	t.Run("the host cannot be reached", func(t *testing.T) {
		h := newHarness(t, func(c *systems.Config) { c.Evaluator = &evaluator{err: hostcheck.ErrUnreachable} })
		_, err := h.svc.Create(ctx, alice, in())
		refusedWith(t, err, systems.ErrCredentialRejected, "SYSAPI_CRED_VALID_FAIL")
		h.absent(t, "dev", "sys")
	})
	t.Run("empty on the host without a default", func(t *testing.T) {
		h := newHarness(t, func(c *systems.Config) { c.Evaluator = &evaluator{env: map[string]string{}} })
		_, err := h.svc.Create(ctx, alice, in())
		refusedWith(t, err, systems.ErrInvalid, "SYSLIB_HOST_EVAL_RESOLVE_EMPTY")
		h.absent(t, "dev", "sys")
	})
}

func TestGet(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	alice, bob := user("dev", "alice"), user("dev", "bob")
	h.create(t, alice, newSystem("sys"))
	h.grant(t, "dev", "sys", "bob", systems.PermRead)

	for name, c := range map[string]struct {
		p  principal
		id string
	}{
		"a missing system":               {alice, "nosuch"},
		"another tenant's system":        {user("other", "alice"), "sys"},
		"an id with a NUL":               {alice, "sys\x00"},
		"an id with a control character": {alice, "sys\n"},
	} {
		_, err := h.svc.Get(ctx, c.p, c.id, systems.GetOptions{})
		refusedWith(t, err, systems.ErrNotFound, "SYSAPI_NOT_FOUND")
		assert.NotErrorIs(t, err, systems.ErrForbidden, name)
	}
	_, err := h.svc.Get(ctx, user("dev", "stranger"), "sys", systems.GetOptions{})
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")
	_, err = h.svc.Get(ctx, alice, "sys", systems.GetOptions{AuthnMethod: "KERBEROS"})
	refusedWith(t, err, systems.ErrInvalid, "SYSAPI_ACCMETHOD_ENUM_ERROR")

	// A dynamic system shows each reader its own login.
	s, err := h.svc.Get(ctx, bob, "sys", systems.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "bob", s.EffectiveUserID)
	assert.True(t, s.DynamicEffectiveUser)
	require.NoError(t, h.st.SetLoginUser(ctx, "dev", "sys", "bob", "bob_on_host"))
	s, err = h.svc.Get(ctx, bob, "sys", systems.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "bob_on_host", s.EffectiveUserID, "the login mapped to bob's credential")
	s, err = h.svc.Get(ctx, bob, "sys", systems.GetOptions{KeepDynamic: true})
	require.NoError(t, err)
	assert.Equal(t, systems.VarAPIUserID, s.EffectiveUserID)

	// Sharing facts are computed on reads.
	assert.False(t, s.IsPublic)
	assert.Empty(t, s.SharedWithUsers)
	h.share(t, "dev", "sys", "alice", "carol", systems.PublicGrantee)
	s, err = h.svc.Get(ctx, alice, "sys", systems.GetOptions{})
	require.NoError(t, err)
	assert.True(t, s.IsPublic)
	assert.Equal(t, []string{"carol"}, s.SharedWithUsers)
	on, err := h.svc.IsEnabled(ctx, bob, "sys")
	require.NoError(t, err)
	assert.True(t, on)
	_, err = h.svc.IsEnabled(ctx, user("dev", "nobody"), "nosuch")
	refusedWith(t, err, systems.ErrNotFound, "SYSAPI_NOT_FOUND")
}

func TestPut(t *testing.T) {
	keys := &hostKeys{}
	h := newHarness(t, func(c *systems.Config) { c.HostKeys = keys })
	ctx := context.Background()
	alice := user("dev", "alice")
	before := h.create(t, alice, newSystem("sys"))

	in := systems.Defaults()
	in.Description, in.Host, in.DefaultAuthnMethod, in.Tags = "replaced", "new.example.org", systems.AuthnPKIKeys, []string{"t"}
	in.Owner, in.SystemType, in.RootDir, in.EffectiveUserID = "mallory", systems.TypeS3, "/elsewhere", "root" // not updatable by PUT
	s, err := h.svc.Put(ctx, alice, "sys", in, nil, false)
	require.NoError(t, err)
	assert.Equal(t, "replaced", s.Description)
	assert.Equal(t, "new.example.org", s.Host)
	assert.Equal(t, systems.AuthnPKIKeys, s.DefaultAuthnMethod)
	assert.Equal(t, []string{"t"}, s.Tags)
	assert.Equal(t, "alice", s.Owner)
	assert.Equal(t, systems.TypeLinux, s.SystemType)
	assert.Equal(t, before.RootDir, s.RootDir)
	assert.Equal(t, systems.VarAPIUserID, s.EffectiveUserID)
	assert.Equal(t, before.UUID, s.UUID)
	assert.EqualValues(t, 2, h.stored(t, "dev", "sys").Version)
	assert.Equal(t, []string{"dev/sys"}, keys.deleted, "a new host forgets the pinned host key")

	in.Description = "again"
	_, err = h.svc.Put(ctx, alice, "sys", in, nil, false)
	require.NoError(t, err)
	assert.Len(t, keys.deleted, 1, "the same host keeps its key")
	hist, err := h.svc.History(ctx, alice, "sys")
	require.NoError(t, err)
	assert.Equal(t, []string{systems.OpCreate, systems.OpModify, systems.OpModify}, ops(hist))

	t.Run("refusals change nothing", func(t *testing.T) {
		h.grant(t, "dev", "sys", "reader", systems.PermRead)
		h.grant(t, "dev", "sys", "modifier", systems.PermModify)
		cur := h.stored(t, "dev", "sys")
		bad := in
		bad.Host = " "
		_, err := h.svc.Put(ctx, alice, "sys", bad, nil, false)
		refusedWith(t, err, systems.ErrInvalid, "SYSLIB_UPDATE_INVALID_ERRORLIST")
		assert.Contains(t, err.Error(), "SYSLIB_CREATE_MISSING_ATTR Missing required attribute(s): host.")
		_, err = h.svc.Put(ctx, user("dev", "reader"), "sys", in, nil, false)
		refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")
		_, err = h.svc.Put(ctx, alice, "nosuch", in, nil, false)
		refusedWith(t, err, systems.ErrNotFound, "SYSAPI_NOT_FOUND")
		_, err = h.svc.Put(ctx, alice, "sys", in, &systems.Credential{Password: "pw"}, true)
		refusedWith(t, err, systems.ErrInvalid, "SYSLIB_CRED_DISALLOWED_INPUT")
		assert.Equal(t, cur, h.stored(t, "dev", "sys"))
		_, err = h.svc.Put(ctx, user("dev", "modifier"), "sys", in, nil, false)
		assert.NoError(t, err, "MODIFY may PUT")
	})
}

// TestPutCredentialGoesToTheVault: a PUT with authnCredential on a static
// system stores it through the credential store, and history records that
// a credential was set, never its value.
func TestPutCredentialGoesToTheVault(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	alice := user("dev", "alice")
	in := newSystem("sys")
	in.EffectiveUserID = "login"
	h.create(t, alice, in)
	_, err := h.svc.Put(ctx, alice, "sys", systems.Defaults(), &systems.Credential{Password: "put-secret"}, false)
	refusedWith(t, err, systems.ErrInvalid, "SYSLIB_CREATE_MISSING_ATTR")
	put := systems.Defaults()
	put.Host, put.DefaultAuthnMethod = "host.example.org", systems.AuthnPassword
	_, err = h.svc.Put(ctx, user("dev", "reader"), "sys", put, &systems.Credential{Password: "put-secret"}, true)
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")
	_, err = h.svc.Put(ctx, alice, "sys", put, &systems.Credential{Password: "put-secret"}, true)
	require.NoError(t, err)
	c, _, err := h.svc.GetUserCredential(ctx, service("jobs", "dev"), "sys", "login", "")
	require.NoError(t, err)
	assert.Equal(t, "put-secret", c.Password)
	hist, err := h.svc.History(ctx, alice, "sys")
	require.NoError(t, err)
	assert.Equal(t, []string{systems.OpCreate, systems.OpModify, systems.OpSetCred}, ops(hist))
	for _, r := range hist {
		assert.NotContains(t, string(r.Description), "put-secret")
	}
}

func ops(hist []systems.HistoryRecord) []string {
	out := make([]string, 0, len(hist))
	for _, r := range hist {
		out = append(out, r.Operation)
	}
	return out
}
