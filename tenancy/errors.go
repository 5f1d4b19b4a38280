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

// ErrMisdirected means the request belongs to another site: an associate
// site keeps a read-only copy of the registry, whose writes only the
// primary site makes (HTTP 421). The message names the site to ask.
var ErrMisdirected = errors.New("misdirected")

// kindError carries a human message and a sentinel kind for errors.Is.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// Errorf returns an error whose message is the formatted text and which
// matches kind (one of the sentinels) under errors.Is. The message is shown to
// clients, so it must never contain a secret. String arguments are quoted at
// most MaxQuoted bytes long (see Bound).
func Errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, Bound(args)...)}
}

// Message is Errorf for a message composed of parts already bounded (a list
// of problems each made with Errorf or Addf): it is kept whole.
func Message(kind error, msg string) error {
	return &kindError{kind: kind, msg: msg}
}

// MaxQuoted is how much of one input value a message repeats.
const MaxQuoted = 200

// Bound returns args with every string longer than MaxQuoted
// bytes cut at a rune boundary and marked with its full length, so that no
// error message or log line repeats an unbounded input.
func Bound(args []any) []any {
	var out []any
	for i, a := range args {
		s, ok := a.(string)
		if !ok {
			continue
		}
		if len(s) <= MaxQuoted {
			continue
		}
		if out == nil {
			out = append([]any(nil), args...)
		}
		out[i] = Truncate(s)
	}
	if out == nil {
		return args
	}
	return out
}

// Truncate cuts s to at most MaxQuoted bytes at a rune boundary, saying how
// long it was.
func Truncate(s string) string { return TruncateTo(s, MaxQuoted) }

// TruncateTo cuts s to at most n bytes at a rune boundary, saying how long
// it was.
func TruncateTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return fmt.Sprintf("%s...(%d bytes)", s[:cut], len(s))
}

// ValidationError lists every rule a request broke. It matches ErrInvalid.
type ValidationError struct {
	// Prefix introduces the list, e.g. "Invalid POST data".
	Prefix   string
	Problems []string
}

// Addf records one broken rule.
func (v *ValidationError) Addf(format string, args ...any) {
	v.Problems = append(v.Problems, fmt.Sprintf(format, Bound(args)...))
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
