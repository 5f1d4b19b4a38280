package systems_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/systems"
)

// Scheduler profiles (reference/systems.md §8): owned by their creator,
// managed by the owner or a tenant admin, every broken rule named.

func TestCreateProfile(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	alice := user("dev", "alice")

	sp, err := h.svc.CreateProfile(ctx, alice, systems.SchedulerProfile{Name: " tacc ", Description: "d", HiddenOptions: []string{"MEM"},
		ModuleLoads: []systems.ModuleLoad{{ModuleLoadCommand: "module load", ModulesToLoad: []string{"gcc"}}}})
	require.NoError(t, err)
	assert.Equal(t, "tacc", sp.Name)
	assert.Equal(t, "alice", sp.Owner, "the owner defaults to the caller")
	assert.Equal(t, "dev", sp.Tenant)
	assert.NotEmpty(t, sp.UUID)
	got, err := h.svc.GetProfile(ctx, user("dev", "bob"), "tacc")
	require.NoError(t, err, "any user of the tenant reads a profile")
	assert.Equal(t, sp, got)

	sp, err = h.svc.CreateProfile(ctx, alice, systems.SchedulerProfile{Name: "mine", Owner: "${apiUserId}"})
	require.NoError(t, err)
	assert.Equal(t, "alice", sp.Owner)
	assert.Equal(t, []systems.ModuleLoad{}, sp.ModuleLoads)
	assert.Equal(t, []string{}, sp.HiddenOptions)

	_, err = h.svc.CreateProfile(ctx, user("dev", "bob"), systems.SchedulerProfile{Name: "tacc"})
	refusedWith(t, err, systems.ErrAlreadyExists, "SYSAPI_PRF_EXISTS")
	_, err = h.svc.CreateProfile(ctx, alice, systems.SchedulerProfile{Name: "for-bob", Owner: "bob"})
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_PRF_UNAUTH")
	_, err = h.svc.CreateProfile(ctx, service("jobs", "dev"), systems.SchedulerProfile{Name: "for-bob", Owner: "bob"})
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_PRF_UNAUTH") // a service is no tenant admin
	sp, err = h.svc.CreateProfile(ctx, user("dev", "devadmin"), systems.SchedulerProfile{Name: "for-bob", Owner: "bob"})
	require.NoError(t, err, "a tenant admin creates for another owner")
	assert.Equal(t, "bob", sp.Owner)

	_, err = h.svc.CreateProfile(ctx, alice, systems.SchedulerProfile{Name: "-bad", Description: strings.Repeat("d", 2049),
		Owner: "al\x01ice", HiddenOptions: []string{"MEM", "GPU"},
		ModuleLoads: []systems.ModuleLoad{{ModulesToLoad: []string{"a", ""}}}})
	refusedWith(t, err, systems.ErrInvalid, "SYSLIB_PRF_CREATE_INVALID_ERRORLIST 6 problem(s)")
	for _, key := range []string{"SYSLIB_INVALID_STR_ATTR name \"-bad\"", "SYSLIB_CTL_CHR_ATTR", "SYSLIB_TOO_LONG_ATTR description",
		"moduleLoads[0].moduleLoadCommand is required", "moduleLoads[0].modulesToLoad has an empty name", `SYSLIB_INVALID_ENUM hiddenOptions "GPU"`} {
		assert.Contains(t, err.Error(), key)
	}
	for name, key := range map[string]string{"": "SYSLIB_CREATE_MISSING_ATTR", strings.Repeat("n", 81): "SYSLIB_TOO_LONG_ATTR"} {
		_, err = h.svc.CreateProfile(ctx, alice, systems.SchedulerProfile{Name: name})
		refusedWith(t, err, systems.ErrInvalid, key)
	}
	_, err = h.svc.CreateProfile(ctx, alice, systems.SchedulerProfile{Name: "long-owner", Owner: strings.Repeat("o", 61)})
	refusedWith(t, err, systems.ErrInvalid, "SYSLIB_TOO_LONG_ATTR owner")

	list, err := h.svc.ListProfiles(ctx, alice)
	require.NoError(t, err)
	var names []string
	for _, p := range list {
		names = append(names, p.Name)
	}
	assert.Equal(t, []string{"for-bob", "mine", "tacc"}, names, "ordered by name, nothing refused stored")
	list, err = h.svc.ListProfiles(ctx, user("other", "alice"))
	require.NoError(t, err)
	assert.Empty(t, list, "profiles are per tenant")
}

func TestGetAndDeleteProfile(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	alice := user("dev", "alice")
	for _, name := range []string{"p1", "p2"} {
		_, err := h.svc.CreateProfile(ctx, alice, systems.SchedulerProfile{Name: name})
		require.NoError(t, err)
	}
	for _, c := range []struct {
		p    principal
		name string
	}{{alice, "nosuch"}, {alice, "p1\x00"}, {user("other", "alice"), "p1"}} {
		_, err := h.svc.GetProfile(ctx, c.p, c.name)
		refusedWith(t, err, systems.ErrNotFound, "SYSAPI_PRF_NOT_FOUND")
		_, err = h.svc.DeleteProfile(ctx, c.p, c.name)
		refusedWith(t, err, systems.ErrNotFound, "SYSAPI_PRF_NOT_FOUND")
	}
	_, err := h.svc.DeleteProfile(ctx, user("dev", "bob"), "p1")
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_PRF_UNAUTH")
	n, err := h.svc.DeleteProfile(ctx, alice, "p1")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = h.svc.GetProfile(ctx, alice, "p1")
	refusedWith(t, err, systems.ErrNotFound, "SYSAPI_PRF_NOT_FOUND")
	n, err = h.svc.DeleteProfile(ctx, user("dev", "devadmin"), "p2")
	require.NoError(t, err, "a tenant admin deletes another's profile")
	assert.Equal(t, 1, n)
}
