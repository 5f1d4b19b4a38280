package tenancy

import (
	"errors"
	"fmt"
	"strings"
)

// ErrForbidden means the principal may not perform the operation. Every
// domain package reports authorization failures with it.
var ErrForbidden = errors.New("forbidden")

// ErrInvalid marks a client's mistake (HTTP 400). ValidationError matches it.
var ErrInvalid = errors.New("invalid")

// kindError carries a human message and a sentinel kind for errors.Is.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// Errorf returns an error whose message is the formatted text and which
// matches kind (one of the sentinels) under errors.Is. The message is shown to
// clients, so it must never contain a secret.
func Errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// ValidationError lists every rule a request broke. It matches ErrInvalid.
type ValidationError struct {
	// Prefix introduces the list, e.g. "Invalid POST data".
	Prefix   string
	Problems []string
}

// Addf records one broken rule.
func (v *ValidationError) Addf(format string, args ...any) {
	v.Problems = append(v.Problems, fmt.Sprintf(format, args...))
}

// Err returns v when at least one rule is broken, else nil.
func (v *ValidationError) Err() error {
	if len(v.Problems) == 0 {
		return nil
	}
	return v
}

// Error joins the problems into one message naming every broken rule.
func (v *ValidationError) Error() string {
	msg := strings.Join(v.Problems, "; ")
	if v.Prefix != "" {
		return v.Prefix + "; " + msg
	}
	return msg
}

// Is makes a ValidationError match ErrInvalid.
func (v *ValidationError) Is(target error) bool { return target == ErrInvalid }
