package systems

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validLinux() System {
	s := Defaults()
	s.Tenant, s.ID, s.SystemType, s.Host, s.DefaultAuthnMethod = "dev", "s1", TypeLinux, "h.example.org", AuthnPKIKeys
	s.Owner, s.EffectiveUserID, s.RootDir = "alice", VarAPIUserID, "/data"
	return s
}

// Every rule of reference/systems.md §3.2 (except those needing the store,
// tested in service_test.go) with a failing and a passing case.
func TestAttributeRules(t *testing.T) {
	cases := []struct {
		rule        string
		key         string
		creds       bool
		fail, pass  func(*System)
		createsOnly bool
	}{
		{"1 required", "SYSLIB_CREATE_MISSING_ATTR", false, func(s *System) { s.Host = " " }, func(s *System) {}, false},
		{"2 id chars", "SYSLIB_INVALID_STR_ATTR", false, func(s *System) { s.ID = "-bad" }, func(s *System) { s.ID = "9ok-._~x" }, false},
		{"3 rootDir needed", "SYSLIB_NOROOTDIR", false, func(s *System) { s.RootDir = "" }, func(s *System) { s.SystemType, s.BucketName, s.RootDir = TypeS3, "b", "" }, false},
		{"4 rootDir absolute", "SYSLIB_ROOTDIR_NOSLASH", false, func(s *System) { s.RootDir = "data" }, func(s *System) { s.RootDir = "/data" }, false},
		{"5 lengths", "SYSLIB_TOO_LONG_ATTR", false, func(s *System) { s.Description = strings.Repeat("d", 2049) }, func(s *System) { s.Description = strings.Repeat("d", 2048) }, false},
		{"6 canExec LINUX", "SYSLIB_CANEXEC_INVALID_SYSTYPE", false, func(s *System) {
			s.SystemType, s.Port, s.CanExec, s.JobWorkingDir, s.JobRuntimes = TypeIRODS, 1247, true, "w", []JobRuntime{{RuntimeType: "DOCKER"}}
		}, func(s *System) {
			s.CanExec, s.JobWorkingDir, s.JobRuntimes = true, "w", []JobRuntime{{RuntimeType: "DOCKER"}}
		}, false},
		{"7 canExec jobWorkingDir", "SYSLIB_CANEXEC_NO_JOBWORKINGDIR_INPUT", false, func(s *System) { s.CanExec, s.JobRuntimes = true, []JobRuntime{{RuntimeType: "ZIP"}} },
			func(s *System) {
				s.CanExec, s.JobWorkingDir, s.JobRuntimes = true, "w", []JobRuntime{{RuntimeType: "ZIP"}}
			}, false},
		{"8 canExec runtime", "SYSLIB_CANEXEC_NO_JOBRUNTIME_INPUT", false, func(s *System) { s.CanExec, s.JobWorkingDir = true, "w" },
			func(s *System) {
				s.CanExec, s.JobWorkingDir, s.JobRuntimes = true, "w", []JobRuntime{{RuntimeType: "SINGULARITY"}}
			}, false},
		{"9 batch scheduler", "SYSLIB_ISBATCH_NOSCHED", false, func(s *System) {
			s.CanRunBatch, s.BatchLogicalQueues, s.BatchDefaultLogicalQueue = true, []LogicalQueue{{Name: "q", HPCQueueName: "n"}}, "q"
		}, func(s *System) {
			s.CanRunBatch, s.BatchScheduler, s.BatchLogicalQueues, s.BatchDefaultLogicalQueue = true, "SLURM", []LogicalQueue{{Name: "q", HPCQueueName: "n"}}, "q"
		}, false},
		{"10 batch queues", "SYSLIB_ISBATCH_NOQUEUES", false, func(s *System) { s.CanRunBatch, s.BatchScheduler, s.BatchDefaultLogicalQueue = true, "PBS", "q" },
			func(s *System) {
				s.CanRunBatch, s.BatchScheduler, s.BatchLogicalQueues, s.BatchDefaultLogicalQueue = true, "PBS", []LogicalQueue{{Name: "q", HPCQueueName: "n"}}, "q"
			}, false},
		{"11 default queue", "SYSLIB_ISBATCH_NODEFAULTQ", false, func(s *System) {
			s.CanRunBatch, s.BatchScheduler, s.BatchLogicalQueues = true, "PBS", []LogicalQueue{{Name: "q", HPCQueueName: "n"}, {Name: "r", HPCQueueName: "m"}}
		}, func(s *System) {
			s.CanRunBatch, s.BatchScheduler, s.BatchLogicalQueues = true, "PBS", []LogicalQueue{{Name: "q", HPCQueueName: "n"}} // the only queue is the default
		}, false},
		{"12 default queue listed", "SYSLIB_ISBATCH_DEFAULTQ_NOTINLIST", false, func(s *System) {
			s.CanRunBatch, s.BatchScheduler, s.BatchLogicalQueues, s.BatchDefaultLogicalQueue = true, "PBS", []LogicalQueue{{Name: "q", HPCQueueName: "n"}, {Name: "r", HPCQueueName: "m"}}, "z"
		}, func(s *System) {
			s.CanRunBatch, s.BatchScheduler, s.BatchLogicalQueues, s.BatchDefaultLogicalQueue = true, "PBS", []LogicalQueue{{Name: "q", HPCQueueName: "n"}, {Name: "r", HPCQueueName: "m"}}, "r"
		}, false},
		{"13 S3 bucket", "SYSLIB_S3_NOBUCKET_INPUT", false, func(s *System) { s.SystemType = TypeS3 }, func(s *System) { s.SystemType, s.BucketName = TypeS3, "b" }, false},
		{"14 S3 not exec", "SYSLIB_S3_CANEXEC_INPUT", false, func(s *System) {
			s.SystemType, s.BucketName, s.CanExec, s.JobWorkingDir, s.JobRuntimes = TypeS3, "b", true, "w", []JobRuntime{{RuntimeType: "DOCKER"}}
		}, func(s *System) { s.SystemType, s.BucketName = TypeS3, "b" }, false},
		{"15 IRODS port", "SYSLIB_NOPORT", false, func(s *System) { s.SystemType = TypeIRODS }, func(s *System) { s.SystemType, s.Port = TypeIRODS, 1247 }, false},
		{"16 CERT effective user", "SYSLIB_INVALID_EFFECTIVEUSERID_INPUT", false, func(s *System) { s.DefaultAuthnMethod, s.EffectiveUserID = AuthnCert, "bob" },
			func(s *System) { s.DefaultAuthnMethod, s.EffectiveUserID = AuthnCert, "alice" }, false},
		{"17 dynamic without credential", "SYSLIB_CRED_DISALLOWED_INPUT", true, func(s *System) {}, func(s *System) { s.EffectiveUserID = "alice" }, false},
		{"19 DTN needs canExec", "SYSLIB_DTN_CANEXEC_FALSE", false, func(s *System) { s.DTNSystemID = "dtn" }, func(s *System) { s.DTNSystemID = "" }, false},
		{"20 env key", "SYSLIB_ENV_VAR_NO_NAME", false, func(s *System) { s.JobEnvVariables = []KeyValuePair{{Key: " ", Value: "v", InputMode: "FIXED"}} },
			func(s *System) { s.JobEnvVariables = []KeyValuePair{{Key: "K", Value: "v", InputMode: "FIXED"}} }, false},
		{"21 FIXED needs value", "SYSLIB_ENV_VAR_FIXED_UNSET", false, func(s *System) { s.JobEnvVariables = []KeyValuePair{{Key: "K", Value: EnvNotSet, InputMode: "FIXED"}} },
			func(s *System) { s.JobEnvVariables = []KeyValuePair{{Key: "K", Value: "", InputMode: "FIXED"}} }, false},
		{"22 REQUIRED has no value", "SYSLIB_ENV_VAR_REQUIRED_SET", false, func(s *System) { s.JobEnvVariables = []KeyValuePair{{Key: "K", Value: "x", InputMode: "REQUIRED"}} },
			func(s *System) {
				s.JobEnvVariables = []KeyValuePair{{Key: "K", Value: EnvNotSet, InputMode: "REQUIRED"}}
			}, false},
		{"23 env prefix", "SYSLIB_ENV_VAR_INVALID_PREFIX", false, func(s *System) { s.JobEnvVariables = []KeyValuePair{{Key: "_tapisX", InputMode: "INCLUDE_BY_DEFAULT"}} },
			func(s *System) { s.JobEnvVariables = []KeyValuePair{{Key: "tapisX", InputMode: "INCLUDE_BY_DEFAULT"}} }, false},
		{"24 control characters", "SYSLIB_CTL_CHR_ATTR", false, func(s *System) { s.Tags = []string{"a\x07b"} }, func(s *System) { s.Tags = []string{"a b"} }, false},
		{"25 HOST_EVAL LINUX only", "SYSLIB_ROOT_HOST_EVAL_SYSTYPE", true, func(s *System) {
			s.SystemType, s.Port, s.RootDir, s.EffectiveUserID = TypeIRODS, 1247, "HOST_EVAL($HOME)", "alice"
		}, func(s *System) { s.RootDir, s.EffectiveUserID = "HOST_EVAL($HOME)", "alice" }, true},
		{"26 HOST_EVAL needs credentials", "SYSLIB_ROOT_HOST_EVAL_CREDS", false, func(s *System) { s.RootDir, s.EffectiveUserID = "HOST_EVAL($HOME)", "alice" },
			func(s *System) { s.RootDir, s.EffectiveUserID = "/home", "alice" }, true},
		{"27 HOST_EVAL first", "SYSLIB_ROOT_HOST_EVAL_ERR", true, func(s *System) { s.RootDir, s.EffectiveUserID = "/a/HOST_EVAL($X)", "alice" },
			func(s *System) { s.RootDir, s.EffectiveUserID = "/HOST_EVAL($X)/a", "alice" }, true},
		{"28 HOST_EVAL once", "SYSLIB_ROOT_HOST_EVAL_MULTIPLE", true, func(s *System) { s.RootDir, s.EffectiveUserID = "HOST_EVAL($X)/HOST_EVAL($Y)", "alice" },
			func(s *System) { s.RootDir, s.EffectiveUserID = "HOST_EVAL($X)/y", "alice" }, true},
		{"29 HOST_EVAL static user", "SYSLIB_ROOT_HOST_EVAL_EFFUSR", true, func(s *System) { s.RootDir = "HOST_EVAL($X)" },
			func(s *System) { s.RootDir, s.EffectiveUserID = "HOST_EVAL($X)", "alice" }, true},
		{"HOST_EVAL syntax", "SYSLIB_HOST_EVAL_INVALID_ENV_VAR", true, func(s *System) { s.RootDir, s.EffectiveUserID = "HOST_EVAL($0SCRATCH)/a", "alice" },
			func(s *System) { s.RootDir, s.EffectiveUserID = "HOST_EVAL($SCRATCH, /tmp)/a", "alice" }, true},
		{"enum systemType", "SYSLIB_INVALID_ENUM", false, func(s *System) { s.SystemType = "WINDOWS" }, func(s *System) {}, false},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			bad := validLinux()
			c.fail(&bad)
			applyDefaults(&bad)
			p := checkAttributes(&bad, c.creds, true)
			assert.Contains(t, strings.Join(p, "\n"), c.key, "failing case")
			good := validLinux()
			c.pass(&good)
			applyDefaults(&good)
			p = checkAttributes(&good, c.creds, true)
			assert.Empty(t, p, "passing case")
			if c.createsOnly {
				assert.NotContains(t, strings.Join(checkAttributes(&bad, c.creds, false), "\n"), c.key, "a create-only rule")
			}
		})
	}
}

func TestFiveBrokenRulesAreAllNamed(t *testing.T) {
	s := validLinux()
	s.ID, s.RootDir, s.SystemType = "bad id", "", TypeIRODS
	s.CanExec, s.Tags = true, []string{strings.Repeat("t", 129)}
	err := checkAttributes(&s, false, true).err("CREATE")
	require.Error(t, err)
	for _, key := range []string{"SYSLIB_INVALID_STR_ATTR", "SYSLIB_NOROOTDIR", "SYSLIB_NOPORT", "SYSLIB_CANEXEC_INVALID_SYSTYPE", "SYSLIB_INVALID_TAG"} {
		assert.Contains(t, err.Error(), key)
	}
	assert.ErrorIs(t, err, ErrInvalid)
}

func TestResolveCreateVariables(t *testing.T) {
	// The example of reference/systems.md §4.1.
	s := System{Owner: VarAPIUserID, EffectiveUserID: VarOwner, BucketName: "bucket8-${tenant}-${apiUserId}",
		RootDir: "/root8/${tenant}", JobWorkingDir: "jobWorkDir8/${owner}/${tenant}/${apiUserId}"}
	resolveCreate(&s, "dev", "owner1")
	assert.Equal(t, "owner1", s.Owner)
	assert.Equal(t, "owner1", s.EffectiveUserID, "${owner} makes the system static")
	assert.Equal(t, "bucket8-dev-owner1", s.BucketName)
	assert.Equal(t, "/root8/dev", s.RootDir)
	assert.Equal(t, "jobWorkDir8/owner1/dev/owner1", s.JobWorkingDir)
	d := System{Owner: "bob"}
	resolveCreate(&d, "dev", "alice")
	assert.Equal(t, VarAPIUserID, d.EffectiveUserID, "blank means dynamic")
	assert.Equal(t, "bob", d.Owner)
}

func TestRootDirNormalization(t *testing.T) {
	for in, want := range map[string]string{"/a//b/./c/": "/a/b/c", "a/b": "/a/b", "/../x": "/x", "/": "/", "/a/b/../../..": "/"} {
		assert.Equal(t, want, normalizeRootDir(in), in)
	}
}

func TestHostEval(t *testing.T) {
	for _, c := range []struct{ root, value, want string }{
		{"HOST_EVAL($HOME)/test/owner1", "/home/testuser3", "/home/testuser3/test/owner1"},
		{"/HOST_EVAL(HOME)/test/owner1", "/home/testuser3", "/home/testuser3/test/owner1"},
		{"/HOST_EVAL($MY_MISSING_VAR, tmp)/test", "", "/tmp/test"},
		{"/HOST_EVAL($MY_MISSING_VAR, /tmp)/test", "", "/tmp/test"},
		{"HOST_EVAL($X)/a(b)/c", "/s", "/s/a(b)/c"},
		{"HOST_EVAL($HOME)", "Welcome to the cluster\n/home/u", "/home/u"},
	} {
		he, err := ParseHostEval(c.root)
		require.NoError(t, err, c.root)
		got, err := he.Resolve(c.value)
		require.NoError(t, err, c.root)
		assert.Equal(t, c.want, got, c.root)
	}
	he, err := ParseHostEval("HOST_EVAL($MY_MISSING_VAR)")
	require.NoError(t, err)
	_, err = he.Resolve("  ")
	assert.ErrorContains(t, err, "SYSLIB_HOST_EVAL_RESOLVE_EMPTY")
	for root, key := range map[string]string{"HOST_EVAL($SCRATCH/a/b": "SYSLIB_HOST_EVAL_NO_MATCHES", "HOST_EVAL()/a/b": "SYSLIB_HOST_EVAL_NO_ENV_VAR",
		"HOST_EVAL($0SCRATCH)/a/b": "SYSLIB_HOST_EVAL_INVALID_ENV_VAR"} {
		_, err := ParseHostEval(root)
		assert.ErrorContains(t, err, key, root)
	}
}
