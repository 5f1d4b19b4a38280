// Package hostcheck answers "does this credential open this host?" for the
// Systems service: the Verifier interface, a Mux by system type, and the
// policy every check runs under (connect and handshake deadlines, an SSRF
// guard, a per-tenant concurrency cap). Adapters implement the protocols
// (adapters/sshcheck, adapters/s3check).
package hostcheck

import (
	"context"
	"errors"

	"github.com/tapis-go/tapis/credentials"
)

// Failure classes of a check; adapters wrap one of them with a message a
// user can act on.
var (
	ErrBadCredential    = errors.New("the host refused the credential")
	ErrHostKeyMismatch  = errors.New("the host key changed")
	ErrUnreachable      = errors.New("the host is unreachable")
	ErrTimeout          = errors.New("the host did not answer in time")
	ErrRootDirMissing   = errors.New("rootDir does not exist on the host")
	ErrForbiddenAddress = errors.New("the host's address is not allowed")
	ErrUnsupported      = errors.New("this authentication method cannot be checked")
)

// Outcome names the class of a check's result for an operator's counts:
// "ok" for nil, the class of a classified failure (bad_credential,
// host_key_mismatch, unreachable, timeout, rootdir_missing,
// forbidden_address, unsupported), else "error". The names are a fixed
// set, whatever the error says.
func Outcome(err error) string {
	if err == nil {
		return "ok"
	}
	for _, c := range []struct {
		err  error
		name string
	}{
		{ErrBadCredential, "bad_credential"}, {ErrHostKeyMismatch, "host_key_mismatch"},
		{ErrForbiddenAddress, "forbidden_address"}, {ErrTimeout, "timeout"}, {ErrUnreachable, "unreachable"},
		{ErrRootDirMissing, "rootdir_missing"}, {ErrUnsupported, "unsupported"},
	} {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	return "error"
}

// Target is what a check connects to, taken from a system definition.
type Target struct {
	Tenant      string
	SystemID    string
	SystemType  string // LINUX, S3, IRODS, GLOBUS
	AuthnMethod string // PASSWORD, PKI_KEYS, ACCESS_KEY, ...
	Host        string
	Port        int // <= 0: the protocol's default
	LoginUser   string
	RootDir     string
	BucketName  string
}

// Verifier checks that a credential opens a target: for SSH a login and a
// stat of RootDir, for S3 one cheap call on the bucket.
type Verifier interface {
	Verify(ctx context.Context, t Target, c credentials.Credential) error
}

// Evaluator reads an environment variable on a target by logging in
// (HOST_EVAL in a system's rootDir).
type Evaluator interface {
	EvalEnv(ctx context.Context, t Target, c credentials.Credential, name string) (string, error)
}

// HostKeys pins SSH host keys per system: trust on first use, then a
// changed key is ErrHostKeyMismatch.
type HostKeys interface {
	// HostKey returns the pinned key (authorized_keys format) or "" when
	// none is pinned yet.
	HostKey(ctx context.Context, tenant, systemID string) (string, error)
	// PinHostKey records the key seen on first use.
	PinHostKey(ctx context.Context, tenant, systemID, key string) error
	// DeleteHostKey forgets a system's pinned key (its host or port
	// changed); a missing key is not an error.
	DeleteHostKey(ctx context.Context, tenant, systemID string) error
}

// Mux routes a check by system type; a type without a verifier answers
// ErrUnsupported.
type Mux map[string]Verifier

// Verify implements Verifier.
func (m Mux) Verify(ctx context.Context, t Target, c credentials.Credential) error {
	v, ok := m[t.SystemType]
	if !ok {
		return errors.Join(ErrUnsupported, errors.New("no check for system type "+t.SystemType))
	}
	return v.Verify(ctx, t, c)
}
