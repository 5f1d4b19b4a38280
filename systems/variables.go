package systems

import (
	"path"
	"regexp"
	"strings"
)

// resolveCreate resolves the variables of a new system as the original does
// at create time (reference/systems.md §4.1): owner, a ${owner}
// effectiveUserId, and ${apiUserId}/${owner}/${tenant} in bucketName,
// rootDir and jobWorkingDir. PUT and PATCH never resolve.
func resolveCreate(s *System, tenant, apiUser string) {
	if s.Owner == "" || strings.EqualFold(s.Owner, VarAPIUserID) {
		s.Owner = apiUser
	}
	if s.EffectiveUserID == "" {
		s.EffectiveUserID = VarAPIUserID
	}
	if s.EffectiveUserID == VarOwner {
		s.EffectiveUserID = s.Owner
	}
	r := strings.NewReplacer(VarAPIUserID, apiUser, VarOwner, s.Owner, VarTenant, tenant)
	s.BucketName = r.Replace(s.BucketName)
	s.RootDir = r.Replace(s.RootDir)
	s.JobWorkingDir = r.Replace(s.JobWorkingDir)
}

// normalizeRootDir makes a LINUX/IRODS rootDir absolute and clean: leading
// slash, duplicate slashes collapsed, "." and ".." resolved without escaping
// the root, no trailing slash ("/" stays "/").
func normalizeRootDir(dir string) string {
	if dir == "" {
		return dir
	}
	return path.Clean("/" + dir)
}

const hostEvalMarker = "HOST_EVAL("

var (
	hostEvalPattern = regexp.MustCompile(`^/?HOST_EVAL\((.*)\)(.*)$`)
	hostEvalArg     = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\s*(?:,\s*(\S+))?$`)
)

// HostEval is a parsed HOST_EVAL($VAR[, default]) at the start of a rootDir.
type HostEval struct {
	Var     string // environment variable name, without $
	Default string // used when the variable is empty on the host
	Rest    string // the path after the closing parenthesis
}

// ParseHostEval parses a rootDir that uses HOST_EVAL. Unlike the original's
// greedy match (which failed on parentheses later in the path), the argument
// ends at the first ")".
func ParseHostEval(rootDir string) (HostEval, error) {
	m := hostEvalPattern.FindStringSubmatch(rootDir)
	if m == nil {
		return HostEval{}, errorf(ErrInvalid, "SYSLIB_HOST_EVAL_NO_MATCHES rootDir %q: HOST_EVAL( must be followed by an argument and a closing parenthesis.", rootDir)
	}
	inner := strings.TrimPrefix(strings.TrimPrefix(rootDir, "/"), hostEvalMarker)
	end := strings.IndexByte(inner, ')')
	arg, rest := strings.TrimSpace(inner[:end]), inner[end+1:]
	if arg == "" {
		return HostEval{}, errorf(ErrInvalid, "SYSLIB_HOST_EVAL_NO_ENV_VAR rootDir %q: HOST_EVAL() needs an environment variable name.", rootDir)
	}
	am := hostEvalArg.FindStringSubmatch(strings.TrimPrefix(arg, "$"))
	if am == nil {
		return HostEval{}, errorf(ErrInvalid, "SYSLIB_HOST_EVAL_INVALID_ENV_VAR rootDir %q: %q is not an environment variable name (letters, digits, _; not starting with a digit), optionally followed by a comma and a default.", rootDir, arg)
	}
	return HostEval{Var: am[1], Default: am[2], Rest: rest}, nil
}

// Resolve builds the rootDir from the variable's value on the host.
func (h HostEval) Resolve(value string) (string, error) {
	value = strings.TrimSpace(value)
	if i := strings.LastIndexByte(value, '\n'); i >= 0 { // login banners: keep the last line
		value = strings.TrimSpace(value[i+1:])
	}
	if value == "" {
		value = h.Default
	}
	if value == "" {
		return "", errorf(ErrInvalid, "SYSLIB_HOST_EVAL_RESOLVE_EMPTY The environment variable %s is empty on the host and HOST_EVAL gives no default.", h.Var)
	}
	return normalizeRootDir(value + h.Rest), nil
}
