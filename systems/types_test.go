package systems

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSystemTypesAreTheSpecsInItsOrder(t *testing.T) {
	assert.Equal(t, []SystemType{"LINUX", "S3", "IRODS", "GLOBUS"}, SystemTypes())
	got := SystemTypes()
	got[0] = "WINDOWS"
	assert.Equal(t, TypeLinux, SystemTypes()[0], "a fresh slice: nobody changes the table through it")

	a, ok := SearchSchema.Lookup("systemType")
	require.True(t, ok)
	assert.Equal(t, []string{"LINUX", "S3", "IRODS", "GLOBUS"}, a.Enum, "search knows exactly the table's types")

	for _, typ := range SystemTypes() {
		tt, ok := TraitsOf(typ)
		assert.True(t, ok, typ)
		assert.Equal(t, typ, tt.Type)
	}
	tt, ok := TraitsOf("WINDOWS")
	assert.False(t, ok)
	assert.Equal(t, TypeTraits{}, tt, "an unknown type has every trait off")
}

// TestTypeRulesKeepTheirMessages pins, per system type, the rules that
// depend on it and their exact messages (reference/systems.md §3.2 rules
// 3, 4, 6, 13, 14, 15, 25), now read from the type table.
func TestTypeRulesKeepTheirMessages(t *testing.T) {
	cases := []struct {
		name string
		edit func(*System)
		want []string // every problem, in order
	}{
		{"LINUX without rootDir", func(s *System) { s.RootDir = "" },
			[]string{"SYSLIB_NOROOTDIR rootDir is required for system type LINUX."}},
		{"IRODS without rootDir or port", func(s *System) { s.SystemType, s.RootDir = TypeIRODS, "" },
			[]string{"SYSLIB_NOROOTDIR rootDir is required for system type IRODS.",
				"SYSLIB_NOPORT system type IRODS needs a port from 1 to 65535, not -1."}},
		{"IRODS relative rootDir", func(s *System) { s.SystemType, s.Port, s.RootDir = TypeIRODS, 70000, "data" },
			[]string{`SYSLIB_ROOTDIR_NOSLASH rootDir "data" must begin with / (or HOST_EVAL().`,
				"SYSLIB_NOPORT system type IRODS needs a port from 1 to 65535, not 70000.",
				"SYSLIB_INVALID_PORT port and proxyPort must be at most 65535."}},
		{"S3 without bucket, executing", func(s *System) {
			s.SystemType, s.RootDir, s.CanExec, s.JobWorkingDir, s.JobRuntimes = TypeS3, "", true, "w", []JobRuntime{{RuntimeType: "DOCKER"}}
		}, []string{"SYSLIB_CANEXEC_INVALID_SYSTYPE canExec=true needs system type LINUX, not S3.",
			"SYSLIB_S3_NOBUCKET_INPUT system type S3 needs bucketName.",
			"SYSLIB_S3_CANEXEC_INPUT system type S3 cannot have canExec=true."}},
		{"GLOBUS needs neither rootDir nor port nor bucket", func(s *System) { s.SystemType, s.RootDir = TypeGlobus, "" }, nil},
		{"GLOBUS executing", func(s *System) {
			s.SystemType, s.CanExec, s.JobWorkingDir, s.JobRuntimes = TypeGlobus, true, "w", []JobRuntime{{RuntimeType: "DOCKER"}}
		}, []string{"SYSLIB_CANEXEC_INVALID_SYSTYPE canExec=true needs system type LINUX, not GLOBUS."}},
		{"HOST_EVAL on IRODS", func(s *System) { s.SystemType, s.Port, s.RootDir = TypeIRODS, 1247, "HOST_EVAL($HOME)" }, []string{"SYSLIB_ROOT_HOST_EVAL_SYSTYPE HOST_EVAL in rootDir needs system type LINUX."}},
		{"HOST_EVAL on LINUX", func(s *System) { s.RootDir = "HOST_EVAL($HOME)" }, nil},
		{"unknown type", func(s *System) {
			s.SystemType, s.CanExec, s.JobWorkingDir, s.JobRuntimes = "FTP", true, "w", []JobRuntime{{RuntimeType: "ZIP"}}
		}, []string{`SYSLIB_INVALID_ENUM systemType "FTP" is not one of [LINUX S3 IRODS GLOBUS].`,
			"SYSLIB_CANEXEC_INVALID_SYSTYPE canExec=true needs system type LINUX, not FTP."}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := validLinux()
			s.EffectiveUserID = "alice" // static, so a credential may come along (HOST_EVAL needs one)
			c.edit(&s)
			applyDefaults(&s)
			assert.Equal(t, c.want, []string(checkAttributes(&s, true, true)))
		})
	}
}

func TestGlobusEndpointsNameTheGlobusType(t *testing.T) {
	s := validLinux()
	assert.EqualError(t, isGlobus(s), "SYSAPI_GLOBUS_NOT_GLOBUS System s1 is of type LINUX, not GLOBUS.")
	assert.ErrorIs(t, isGlobus(s), ErrInvalid)
	s.SystemType = TypeGlobus
	assert.NoError(t, isGlobus(s))
}
