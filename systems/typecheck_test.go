package systems_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/systems"
)

// checkLog records which checker saw which system type.
type checkLog []string

type recordingChecker struct {
	name string
	log  *checkLog
}

func (r recordingChecker) Verify(_ context.Context, t hostcheck.Target, _ credentials.Credential) error {
	*r.log = append(*r.log, r.name+":"+t.SystemType)
	return nil
}

// recordingGlobus is a Globus client whose only working part is the check.
type recordingGlobus struct{ recordingChecker }

func (recordingGlobus) AuthURL(context.Context, string, string, string) (string, error) {
	return "", errors.New("not in this test")
}
func (recordingGlobus) Exchange(context.Context, string, string) (systems.GlobusTokens, error) {
	return systems.GlobusTokens{}, errors.New("not in this test")
}
func (recordingGlobus) Refresh(context.Context, string) (systems.GlobusTokens, error) {
	return systems.GlobusTokens{}, errors.New("not in this test")
}

var _ systems.Globus = recordingGlobus{}

// typedSystems stores one dynamic system of each type, owned by alice.
func typedSystems(t *testing.T, h harness) {
	for _, typ := range systems.SystemTypes() {
		s := linux("dev", "sys-"+string(typ), "alice", false)
		s.SystemType = typ
		h.put(t, s)
	}
}

// TestCredentialChecksFollowTheTypeTable: which checker a credential of
// each system type goes to, on write and on an explicit check, with and
// without a Globus client and a Verifier (TypeTraits.Check).
func TestCredentialChecksFollowTheTypeTable(t *testing.T) {
	ctx := context.Background()
	alice := user("dev", "alice")
	cred := systems.Credential{Password: "pw"}
	var log checkLog
	mux := hostcheck.Mux{"LINUX": recordingChecker{"ssh", &log}, "S3": recordingChecker{"s3", &log}}
	service := func(t *testing.T, h harness, verifier hostcheck.Verifier, gl systems.Globus) *systems.Service {
		svc, err := systems.NewService(systems.Config{Store: h.st, Access: h.st, Vault: h.st, Tenancy: h.ten, Verifier: verifier, Globus: gl})
		require.NoError(t, err)
		return svc
	}

	t.Run("with a Globus client", func(t *testing.T) {
		h := newHarness(t)
		typedSystems(t, h)
		svc := service(t, h, mux, recordingGlobus{recordingChecker{"globus", &log}})
		for typ, want := range map[systems.SystemType][]string{
			systems.TypeLinux: {"ssh:LINUX"}, systems.TypeS3: {"s3:S3"}, systems.TypeGlobus: {"globus:GLOBUS"},
			systems.TypeIRODS: nil, // stored as given
		} {
			log = nil
			require.NoError(t, svc.SetUserCredential(ctx, alice, "sys-"+string(typ), "alice", cred, false), typ)
			assert.Equal(t, checkLog(want), log, "set %s", typ)
			log = nil
			err := svc.CheckUserCredential(ctx, alice, "sys-"+string(typ), "alice", "")
			if typ == systems.TypeIRODS {
				assert.ErrorIs(t, err, systems.ErrCredentialRejected, "an explicit check asks the Mux, which has no IRODS checker")
				assert.ErrorContains(t, err, "no check for system type IRODS")
				continue
			}
			require.NoError(t, err, typ)
			assert.Equal(t, checkLog(want), log, "check %s", typ)
		}
	})
	t.Run("without a Globus client", func(t *testing.T) {
		h := newHarness(t)
		typedSystems(t, h)
		svc := service(t, h, mux, nil)
		log = nil
		require.NoError(t, svc.SetUserCredential(ctx, alice, "sys-GLOBUS", "alice", cred, false))
		assert.Empty(t, log, "stored as given")
		err := svc.CheckUserCredential(ctx, alice, "sys-GLOBUS", "alice", "")
		assert.ErrorContains(t, err, "no check for system type GLOBUS")
	})
	t.Run("without a Verifier", func(t *testing.T) {
		h := newHarness(t)
		typedSystems(t, h)
		svc := service(t, h, nil, nil)
		for _, typ := range []systems.SystemType{systems.TypeLinux, systems.TypeS3} {
			err := svc.SetUserCredential(ctx, alice, "sys-"+string(typ), "alice", cred, false)
			assert.ErrorIs(t, err, systems.ErrNotConfigured, typ)
			assert.ErrorContains(t, err, "SYSAPI_CRED_CHECK_NOT_CONFIGURED")
			require.NoError(t, svc.SetUserCredential(ctx, alice, "sys-"+string(typ), "alice", cred, true), "skipCredentialCheck")
		}
		for _, typ := range []systems.SystemType{systems.TypeIRODS, systems.TypeGlobus} {
			require.NoError(t, svc.SetUserCredential(ctx, alice, "sys-"+string(typ), "alice", cred, false), typ)
		}
	})
}
