package systems

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/tapis-go/tapis/tenancy"
)

// Validation of a system definition (reference/systems.md §3.2). Every
// broken rule is collected; the message names each one with the original's
// key, so one request breaking five rules hears about all five.

var idPattern = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9]|[-._~])*$`)

// reservedIDs may not be system ids: they are path segments of the API.
var reservedIDs = []string{"HEALTHCHECK", "READYCHECK", "SEARCH", "SCHEDULERPROFILE", "SHARE", "UNSHARE",
	"SHARE_PUBLIC", "UNSHARE_PUBLIC", "PERMS", "CREDENTIAL", "MATCH"}

// IsReservedID reports whether id is a reserved word (case-insensitive).
func IsReservedID(id string) bool { return slices.Contains(reservedIDs, strings.ToUpper(id)) }

var (
	runtimeTypes = []string{"DOCKER", "SINGULARITY", "ZIP"}
	inputModes   = []string{"REQUIRED", "FIXED", "INCLUDE_ON_DEMAND", "INCLUDE_BY_DEFAULT"}
	capCats      = []string{"SCHEDULER", "OS", "HARDWARE", "SOFTWARE", "JOB", "CONTAINER", "MISC", "CUSTOM"}
	capTypes     = []string{"STRING", "INTEGER", "BOOLEAN", "NUMBER", "TIMESTAMP"}
)

// problems collects broken rules.
type problems []string

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, key+" "+fmt.Sprintf(format, tenancy.Bound(args)...))
}

// err returns the 400 naming every problem, or nil.
func (p problems) err(op string) error {
	if len(p) == 0 {
		return nil
	}
	return tenancy.Message(ErrInvalid, fmt.Sprintf("SYSLIB_%s_INVALID_ERRORLIST %d problem(s) in the system definition:\n%s", op, len(p), strings.Join(p, "\n")))
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) }) >= 0
}

// checkAttributes applies the attribute rules to a system whose defaults
// and variables are in place. credentials says an authnCredential came with
// the request; create adds the create-only HOST_EVAL rules.
func checkAttributes(s *System, credentials, create bool) problems {
	var p problems
	missing := []string{}
	for _, f := range []struct{ name, v string }{{"id", s.ID}, {"systemType", string(s.SystemType)},
		{"host", s.Host}, {"defaultAuthnMethod", string(s.DefaultAuthnMethod)}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		p.add("SYSLIB_CREATE_MISSING_ATTR", "Missing required attribute(s): %s.", strings.Join(missing, ", "))
	}
	if s.ID != "" && !idPattern.MatchString(s.ID) {
		p.add("SYSLIB_INVALID_STR_ATTR", "id %q: letters, digits and -._~ only, starting with a letter or digit.", s.ID)
	}
	traits, known := TraitsOf(s.SystemType)
	if s.SystemType != "" && !known {
		p.add("SYSLIB_INVALID_ENUM", "systemType %q is not one of %v.", s.SystemType, SystemTypes())
	}
	if s.DefaultAuthnMethod != "" && !slices.Contains(authnMethods, s.DefaultAuthnMethod) {
		p.add("SYSLIB_INVALID_ENUM", "defaultAuthnMethod %q is not one of %v.", s.DefaultAuthnMethod, authnMethods)
	}
	if traits.POSIXPaths {
		if strings.TrimSpace(s.RootDir) == "" {
			p.add("SYSLIB_NOROOTDIR", "rootDir is required for system type %s.", s.SystemType)
		} else if !strings.HasPrefix(s.RootDir, "/") && !strings.HasPrefix(s.RootDir, hostEvalMarker) {
			p.add("SYSLIB_ROOTDIR_NOSLASH", "rootDir %q must begin with / (or HOST_EVAL().", s.RootDir)
		}
	}
	for _, l := range []struct {
		name string
		v    string
		max  int
	}{{"id", s.ID, 80}, {"dtnSystemId", s.DTNSystemID, 80}, {"description", s.Description, 2048},
		{"owner", s.Owner, 60}, {"effectiveUserId", s.EffectiveUserID, 60}, {"bucketName", s.BucketName, 63},
		{"rootDir", s.RootDir, 4096}, {"jobWorkingDir", s.JobWorkingDir, 4096}, {"host", s.Host, 256},
		{"proxyHost", s.ProxyHost, 256}, {"mpiCmd", s.MPICmd, 126}, {"batchDefaultLogicalQueue", s.BatchDefaultLogicalQueue, 128},
		{"batchSchedulerProfile", s.BatchSchedulerProfile, 80}, {"importRefId", s.ImportRefID, 2048}} {
		if len(l.v) > l.max {
			p.add("SYSLIB_TOO_LONG_ATTR", "%s is longer than %d characters.", l.name, l.max)
		}
	}
	if s.CanExec {
		if !traits.CanExec {
			p.add("SYSLIB_CANEXEC_INVALID_SYSTYPE", "canExec=true needs system type %s, not %s.", typesWith(func(t TypeTraits) bool { return t.CanExec }), s.SystemType)
		}
		if strings.TrimSpace(s.JobWorkingDir) == "" {
			p.add("SYSLIB_CANEXEC_NO_JOBWORKINGDIR_INPUT", "canExec=true needs jobWorkingDir.")
		}
		if len(s.JobRuntimes) == 0 {
			p.add("SYSLIB_CANEXEC_NO_JOBRUNTIME_INPUT", "canExec=true needs at least one jobRuntimes entry.")
		}
	}
	if s.CanRunBatch {
		if s.BatchScheduler == "" {
			p.add("SYSLIB_ISBATCH_NOSCHED", "canRunBatch=true needs batchScheduler.")
		}
		if len(s.BatchLogicalQueues) == 0 {
			p.add("SYSLIB_ISBATCH_NOQUEUES", "canRunBatch=true needs at least one batchLogicalQueues entry.")
		}
		switch {
		case strings.TrimSpace(s.BatchDefaultLogicalQueue) == "":
			p.add("SYSLIB_ISBATCH_NODEFAULTQ", "canRunBatch=true needs batchDefaultLogicalQueue.")
		case !slices.ContainsFunc(s.BatchLogicalQueues, func(q LogicalQueue) bool { return q.Name == s.BatchDefaultLogicalQueue }):
			p.add("SYSLIB_ISBATCH_DEFAULTQ_NOTINLIST", "batchDefaultLogicalQueue %q is not the name of one of batchLogicalQueues.", s.BatchDefaultLogicalQueue)
		}
	}
	if s.BatchScheduler != "" && !slices.Contains(schedulers, s.BatchScheduler) {
		p.add("SYSLIB_INVALID_ENUM", "batchScheduler %q is not one of %v.", s.BatchScheduler, schedulers)
	}
	if traits.Bucket {
		if strings.TrimSpace(s.BucketName) == "" {
			p.add("SYSLIB_S3_NOBUCKET_INPUT", "system type %s needs bucketName.", s.SystemType)
		}
		if s.CanExec {
			p.add("SYSLIB_S3_CANEXEC_INPUT", "system type %s cannot have canExec=true.", s.SystemType)
		}
	}
	if traits.NeedsPort && (s.Port < 1 || s.Port > 65535) {
		p.add("SYSLIB_NOPORT", "system type %s needs a port from 1 to 65535, not %d.", s.SystemType, s.Port)
	}
	if s.Port > 65535 || s.ProxyPort > 65535 {
		p.add("SYSLIB_INVALID_PORT", "port and proxyPort must be at most 65535.")
	}
	if s.DefaultAuthnMethod == AuthnCert && s.EffectiveUserID != VarAPIUserID && s.EffectiveUserID != VarOwner && s.EffectiveUserID != s.Owner {
		p.add("SYSLIB_INVALID_EFFECTIVEUSERID_INPUT", "defaultAuthnMethod CERT needs effectiveUserId ${apiUserId}, ${owner} or the owner.")
	}
	if credentials && s.IsDynamic() {
		p.add("SYSLIB_CRED_DISALLOWED_INPUT", "authnCredential cannot be given with a dynamic effectiveUserId (${apiUserId}): each user stores their own.")
	}
	if !s.CanExec && s.DTNSystemID != "" {
		p.add("SYSLIB_DTN_CANEXEC_FALSE", "dtnSystemId is only allowed when canExec=true.")
	}
	checkNested(&p, s)
	checkControlChars(&p, s)
	checkNumbers(&p, s)
	if create && strings.Contains(s.RootDir, hostEvalMarker) {
		checkHostEval(&p, s, credentials)
	}
	return p
}

func checkNested(p *problems, s *System) {
	for i, rt := range s.JobRuntimes {
		if !slices.Contains(runtimeTypes, rt.RuntimeType) {
			p.add("SYSLIB_INVALID_ENUM", "jobRuntimes[%d].runtimeType %q is not one of %v.", i, rt.RuntimeType, runtimeTypes)
		}
	}
	for i, kv := range s.JobEnvVariables {
		switch {
		case strings.TrimSpace(kv.Key) == "":
			p.add("SYSLIB_ENV_VAR_NO_NAME", "jobEnvVariables[%d] has no key.", i)
		case strings.HasPrefix(kv.Key, "_tapis"):
			p.add("SYSLIB_ENV_VAR_INVALID_PREFIX", "jobEnvVariables key %q: names starting with _tapis are reserved.", kv.Key)
		}
		if !slices.Contains(inputModes, kv.InputMode) {
			p.add("SYSLIB_INVALID_ENUM", "jobEnvVariables[%d].inputMode %q is not one of %v.", i, kv.InputMode, inputModes)
		}
		if kv.InputMode == "FIXED" && kv.Value == EnvNotSet {
			p.add("SYSLIB_ENV_VAR_FIXED_UNSET", "jobEnvVariables %q: a FIXED variable needs a value.", kv.Key)
		}
		if kv.InputMode == "REQUIRED" && kv.Value != EnvNotSet {
			p.add("SYSLIB_ENV_VAR_REQUIRED_SET", "jobEnvVariables %q: a REQUIRED variable must not have a value (the user supplies it).", kv.Key)
		}
		if len(kv.Description) > 2048 {
			p.add("SYSLIB_TOO_LONG_ATTR", "jobEnvVariables %q: description is longer than 2048 characters.", kv.Key)
		}
	}
	for i, q := range s.BatchLogicalQueues {
		if q.Name == "" || q.HPCQueueName == "" || len(q.Name) > 128 || len(q.HPCQueueName) > 128 {
			p.add("SYSLIB_INVALID_QUEUE", "batchLogicalQueues[%d] needs name and hpcQueueName of 1 to 128 characters.", i)
		}
	}
	for i, c := range s.JobCapabilities {
		if !slices.Contains(capCats, c.Category) || !slices.Contains(capTypes, c.Datatype) || c.Name == "" || len(c.Name) > 128 {
			p.add("SYSLIB_INVALID_CAPABILITY", "jobCapabilities[%d] needs a category in %v, a datatype in %v and a name of 1 to 128 characters.", i, capCats, capTypes)
		}
		if c.Value != nil && len(*c.Value) > 128 {
			p.add("SYSLIB_TOO_LONG_ATTR", "jobCapabilities[%d].value is longer than 128 characters.", i)
		}
	}
	for i, t := range s.Tags {
		if t == "" || len(t) > 128 {
			p.add("SYSLIB_INVALID_TAG", "tags[%d] must be 1 to 128 characters.", i)
		}
	}
}

func checkControlChars(p *problems, s *System) {
	fields := []struct{ name, v string }{{"id", s.ID}, {"owner", s.Owner}, {"tenant", s.Tenant}, {"host", s.Host},
		{"effectiveUserId", s.EffectiveUserID}, {"bucketName", s.BucketName}, {"rootDir", s.RootDir},
		{"proxyHost", s.ProxyHost}, {"dtnSystemId", s.DTNSystemID}, {"mpiCmd", s.MPICmd},
		{"batchDefaultLogicalQueue", s.BatchDefaultLogicalQueue}, {"batchSchedulerProfile", s.BatchSchedulerProfile}}
	for _, t := range s.Tags {
		fields = append(fields, struct{ name, v string }{"tags", t})
	}
	for _, kv := range s.JobEnvVariables {
		fields = append(fields, struct{ name, v string }{"jobEnvVariables.key", kv.Key}, struct{ name, v string }{"jobEnvVariables.value", kv.Value})
	}
	for _, rt := range s.JobRuntimes {
		if rt.Version != nil {
			fields = append(fields, struct{ name, v string }{"jobRuntimes.version", *rt.Version})
		}
	}
	for _, q := range s.BatchLogicalQueues {
		fields = append(fields, struct{ name, v string }{"batchLogicalQueues.name", q.Name}, struct{ name, v string }{"batchLogicalQueues.hpcQueueName", q.HPCQueueName})
	}
	for _, c := range s.JobCapabilities {
		fields = append(fields, struct{ name, v string }{"jobCapabilities.name", c.Name})
		if c.Value != nil {
			fields = append(fields, struct{ name, v string }{"jobCapabilities." + c.Name + ".value", *c.Value})
		}
	}
	seen := map[string]bool{}
	for _, f := range fields {
		if hasControl(f.v) && !seen[f.name] {
			seen[f.name] = true
			p.add("SYSLIB_CTL_CHR_ATTR", "%s contains control characters.", f.name)
		}
	}
}

// checkHostEval applies the create-only HOST_EVAL rules (25-29) and its
// syntax, so a bad HOST_EVAL is reported with the other problems.
func checkHostEval(p *problems, s *System, credentials bool) {
	if !traitsOf(s.SystemType).HostEval {
		p.add("SYSLIB_ROOT_HOST_EVAL_SYSTYPE", "HOST_EVAL in rootDir needs system type %s.", typesWith(func(t TypeTraits) bool { return t.HostEval }))
	}
	if !credentials {
		p.add("SYSLIB_ROOT_HOST_EVAL_CREDS", "HOST_EVAL in rootDir needs authnCredential in the same request (it is evaluated by logging in).")
	}
	if !strings.HasPrefix(s.RootDir, hostEvalMarker) && !strings.HasPrefix(s.RootDir, "/"+hostEvalMarker) {
		p.add("SYSLIB_ROOT_HOST_EVAL_ERR", "HOST_EVAL must be the first element of rootDir.")
	}
	if strings.Count(s.RootDir, hostEvalMarker) > 1 {
		p.add("SYSLIB_ROOT_HOST_EVAL_MULTIPLE", "HOST_EVAL may appear only once in rootDir.")
	}
	if s.IsDynamic() {
		p.add("SYSLIB_ROOT_HOST_EVAL_EFFUSR", "HOST_EVAL in rootDir needs a static effectiveUserId.")
	}
	if strings.HasPrefix(s.RootDir, hostEvalMarker) || strings.HasPrefix(s.RootDir, "/"+hostEvalMarker) {
		if _, err := ParseHostEval(s.RootDir); err != nil {
			*p = append(*p, err.Error())
		}
	}
}

// checkNumbers keeps integers in the spec's int32 range (the columns are
// 32-bit) and refuses NUL in the free-text attributes (no database stores it).
func checkNumbers(p *problems, s *System) {
	ints := []struct {
		name string
		v    int
	}{{"port", s.Port}, {"proxyPort", s.ProxyPort}, {"jobMaxJobs", s.JobMaxJobs}, {"jobMaxJobsPerUser", s.JobMaxJobsPerUser}}
	for i, q := range s.BatchLogicalQueues {
		for j, v := range []int{q.MaxJobs, q.MaxJobsPerUser, q.MinNodeCount, q.MaxNodeCount, q.MinCoresPerNode, q.MaxCoresPerNode,
			q.MinMemoryMB, q.MaxMemoryMB, q.MinMinutes, q.MaxMinutes} {
			ints = append(ints, struct {
				name string
				v    int
			}{fmt.Sprintf("batchLogicalQueues[%d] limit %d", i, j), v})
		}
	}
	for i, c := range s.JobCapabilities {
		ints = append(ints, struct {
			name string
			v    int
		}{fmt.Sprintf("jobCapabilities[%d].precedence", i), c.Precedence})
	}
	for _, n := range ints {
		if n.v < math.MinInt32 || n.v > math.MaxInt32 {
			p.add("SYSLIB_INVALID_INT", "%s %d is outside the 32-bit integer range.", n.name, n.v)
		}
	}
	texts := []struct{ name, v string }{{"description", s.Description}, {"jobWorkingDir", s.JobWorkingDir}, {"importRefId", s.ImportRefID}}
	for _, kv := range s.JobEnvVariables {
		texts = append(texts, struct{ name, v string }{"jobEnvVariables.description", kv.Description})
	}
	for _, t := range texts {
		if strings.ContainsRune(t.v, 0) {
			p.add("SYSLIB_CTL_CHR_ATTR", "%s contains a NUL character.", t.name)
		}
	}
}
