// Package s3check is a hostcheck.Verifier for S3 systems: it checks an
// ACCESS_KEY credential with one cheap call on the system's bucket, a
// ListObjectsV2 of at most one key under the rootDir prefix, through
// minio-go with path-style addressing.
//
// Failures are classified into the hostcheck sentinels (test with
// errors.Is):
//
//   - the key is unknown, the secret is wrong, or the key may not list the
//     bucket (InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied and any
//     other HTTP 403): hostcheck.ErrBadCredential;
//   - the bucket does not exist (NoSuchBucket) or its name is not a valid
//     bucket name: hostcheck.ErrRootDirMissing, with the message
//     `S3 bucket "X" does not exist on <endpoint>`;
//   - the connection is refused, the name does not resolve, TLS fails, the
//     bucket is in another region than the one signed for, or the endpoint
//     answers something that is not an S3 answer (a 5xx, an HTML 404):
//     hostcheck.ErrUnreachable (Tapis' SYSLIB_CRED_CONN_FAIL);
//   - a deadline passes (dial, TLS handshake, response header, or the whole
//     check): hostcheck.ErrTimeout;
//   - the dialer fails with an error that already wraps one of
//     hostcheck.ErrForbiddenAddress, ErrTimeout or ErrUnreachable (as
//     hostcheck.Policy.Dial does, plugged in through Options.DialContext):
//     that class and its message are kept.
//
// A rootDir prefix under which no object exists is not an error: S3 has no
// directories, so an empty prefix is a valid, empty rootDir (as in Tapis,
// whose check accepts NoSuchKey).
//
// Error messages name the endpoint and the bucket, never the access key or
// the secret.
package s3check

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
)

// Defaults for the zero Options.
const (
	DefaultDialTimeout           = 10 * time.Second
	DefaultTLSHandshakeTimeout   = 10 * time.Second
	DefaultResponseHeaderTimeout = 15 * time.Second
	DefaultTimeout               = 30 * time.Second
	// DefaultRegion is signed into requests to endpoints whose region
	// cannot be read from the host name (MinIO, Ceph, ... and Tapis' own
	// choice for non-AWS hosts).
	DefaultRegion = "us-east-1"
)

// Options tune a Checker. The zero value is usable.
type Options struct {
	// DialContext opens the TCP connection (for example a policy's dialer
	// with an SSRF guard). Nil: a net.Dialer. Either way the dial is bounded
	// by DialTimeout.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// DialTimeout bounds the TCP connect (default DefaultDialTimeout).
	DialTimeout time.Duration
	// TLSHandshakeTimeout bounds the TLS handshake of https endpoints
	// (default DefaultTLSHandshakeTimeout).
	TLSHandshakeTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the answer once the request
	// is sent (default DefaultResponseHeaderTimeout).
	ResponseHeaderTimeout time.Duration
	// Timeout bounds the whole check, set as a deadline on its context
	// (default DefaultTimeout). A caller's earlier deadline still wins.
	Timeout time.Duration
	// TLSConfig for https endpoints (for example a private CA). Nil: the
	// system roots, TLS 1.2 or newer.
	TLSConfig *tls.Config
	// Region to sign requests for. Empty: read from an AWS host name
	// (s3.eu-west-1.amazonaws.com); for other AWS names minio-go asks the
	// bucket's location (one extra call); for any other host DefaultRegion.
	Region string
}

// Checker verifies ACCESS_KEY credentials of S3 systems. It is safe for
// concurrent use.
type Checker struct {
	opts      Options
	transport *http.Transport
}

var _ hostcheck.Verifier = (*Checker)(nil)

// New returns a Checker; zero fields of opts take their defaults.
func New(opts Options) *Checker {
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	if opts.TLSHandshakeTimeout <= 0 {
		opts.TLSHandshakeTimeout = DefaultTLSHandshakeTimeout
	}
	if opts.ResponseHeaderTimeout <= 0 {
		opts.ResponseHeaderTimeout = DefaultResponseHeaderTimeout
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.TLSConfig != nil {
		tlsConfig = opts.TLSConfig.Clone()
	}
	dial := opts.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	dialTimeout := opts.DialTimeout
	return &Checker{
		opts: opts,
		transport: &http.Transport{
			// No proxy from the environment: the dialer (and any SSRF
			// guard in it) must see the real address.
			Proxy: nil,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				ctx, cancel := context.WithTimeout(ctx, dialTimeout)
				defer cancel()
				return dial(ctx, network, addr)
			},
			TLSClientConfig:        tlsConfig,
			TLSHandshakeTimeout:    opts.TLSHandshakeTimeout,
			ResponseHeaderTimeout:  opts.ResponseHeaderTimeout,
			ExpectContinueTimeout:  time.Second,
			MaxResponseHeaderBytes: 64 << 10,
			// A check is one request (two when minio-go must look up the
			// bucket's region); keeping connections to user-named hosts
			// open between checks buys nothing and leaves goroutines behind.
			DisableKeepAlives: true,
		},
	}
}

// Verify implements hostcheck.Verifier: it lists at most one key of
// t.BucketName under the prefix t.RootDir (leading slash dropped) with the
// credential's access key and secret.
func (c *Checker) Verify(ctx context.Context, t hostcheck.Target, cred credentials.Credential) error {
	if t.SystemType != "" && t.SystemType != "S3" {
		return fmt.Errorf("s3check cannot check a %s system: %w", t.SystemType, hostcheck.ErrUnsupported)
	}
	if t.AuthnMethod != "" && t.AuthnMethod != "ACCESS_KEY" {
		return fmt.Errorf("an S3 system is checked with ACCESS_KEY, not %s: %w", t.AuthnMethod, hostcheck.ErrUnsupported)
	}
	if cred.AccessKey == "" || cred.AccessSecret == "" {
		// minio-go would send an anonymous request, which a public bucket
		// answers: never report that as a working credential.
		return &checkError{class: hostcheck.ErrBadCredential,
			msg: "the credential has no access key or no access secret"}
	}
	ep, err := parseEndpoint(t.Host, t.Port)
	if err != nil {
		return &checkError{class: hostcheck.ErrUnreachable, msg: err.Error()}
	}
	if t.BucketName == "" {
		return &checkError{class: hostcheck.ErrRootDirMissing, msg: "the S3 system has no bucketName"}
	}
	if err := s3utils.CheckValidBucketName(t.BucketName); err != nil {
		return &checkError{class: hostcheck.ErrRootDirMissing,
			msg: fmt.Sprintf("%q is not a valid S3 bucket name", t.BucketName)}
	}
	prefix := strings.TrimLeft(t.RootDir, "/")

	region := c.opts.Region
	if region == "" {
		region = s3utils.GetRegionFromURL(ep.url)
		if region == "" && !s3utils.IsAmazonEndpoint(ep.url) {
			region = DefaultRegion
		}
	}
	// The check's context: the overall deadline, and cancelled by the first
	// transport failure (see oneShot), which is kept as its cause.
	callerCtx := ctx
	ctx, cancelTimeout := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancelTimeout()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var answeredS3 atomic.Bool
	client, err := minio.New(ep.url.Host, &minio.Options{
		Creds:        miniocreds.NewStaticV4(cred.AccessKey, cred.AccessSecret, ""),
		Secure:       ep.url.Scheme == "https",
		Transport:    oneShot{base: c.transport, cancel: cancel, s3: &answeredS3},
		Region:       region,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   1, // the fewest minio-go allows; oneShot ends the back-off sleep
	})
	if err != nil {
		return &checkError{class: hostcheck.ErrUnreachable,
			msg: fmt.Sprintf("S3 endpoint %s is not usable: %s", ep, redact(err.Error(), cred))}
	}

	noOwner := false
	for obj := range client.ListObjectsIter(ctx, t.BucketName, minio.ListObjectsOptions{
		Prefix:     prefix,
		MaxKeys:    1,
		FetchOwner: &noOwner,
	}) {
		if obj.Err != nil {
			err = obj.Err
		}
		break // one answer is enough: a key, or the refusal
	}
	// A transport failure or a deadline ends the context; its cause is the
	// real failure (minio-go then reports only "context canceled", or,
	// before the first answer, nothing at all).
	if ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	if err != nil {
		return classify(callerCtx, err, answeredS3.Load(), ep, t.BucketName, cred)
	}
	return nil
}

// oneShot hands the first transport error to the check's context as its
// cause and cancels it, so that minio-go does not sleep a retry back-off
// (up to 200 ms, even with MaxRetries 1) before it gives up.
// It also notes whether the last answer looked like S3 (an XML body or an
// S3 request id), since minio-go turns any bodiless or HTML 404 into
// NoSuchBucket.
type oneShot struct {
	base   http.RoundTripper
	cancel context.CancelCauseFunc
	s3     *atomic.Bool
}

func (o oneShot) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := o.base.RoundTrip(r)
	if err != nil {
		o.cancel(err)
		return resp, err
	}
	o.s3.Store(strings.Contains(resp.Header.Get("Content-Type"), "xml") ||
		resp.Header.Get("X-Amz-Request-Id") != "" || resp.Header.Get("X-Amz-Id-2") != "")
	return resp, err
}

// endpoint is a parsed S3 endpoint: scheme and host:port only.
type endpoint struct{ url url.URL }

func (e endpoint) String() string { return e.url.Scheme + "://" + e.url.Host }

// parseEndpoint reads a system's host: "name", "name:port",
// "http://name[:port]" or "https://name[:port]" (a trailing "/" allowed;
// IPv6 in brackets, or bare without a scheme or port).
// No scheme means https; port > 0 replaces any port in the host.
func parseEndpoint(host string, port int) (endpoint, error) {
	h := strings.TrimSpace(host)
	if h == "" {
		return endpoint{}, errors.New("the system has no host")
	}
	if !strings.Contains(h, "://") {
		if ip := net.ParseIP(h); ip != nil && ip.To4() == nil {
			h = "[" + h + "]" // a bare IPv6 address
		}
		h = "https://" + h
	}
	u, err := url.Parse(h)
	if err != nil {
		return endpoint{}, fmt.Errorf("host %q is not a valid S3 endpoint", host)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return endpoint{}, fmt.Errorf("host %q: the S3 endpoint scheme must be http or https", host)
	case u.Hostname() == "":
		return endpoint{}, fmt.Errorf("host %q names no host", host)
	case u.User != nil:
		return endpoint{}, fmt.Errorf("host %q: user information is not allowed in an S3 endpoint", host)
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "":
		return endpoint{}, fmt.Errorf("host %q: an S3 endpoint has no path or query", host)
	}
	if port > 65535 {
		return endpoint{}, fmt.Errorf("port %d is out of range", port)
	}
	if port > 0 {
		u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(port))
	} else if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return endpoint{}, fmt.Errorf("host %q: port %q is out of range", host, p)
		}
	}
	return endpoint{url: url.URL{Scheme: u.Scheme, Host: u.Host}}, nil
}

// checkError is a classified failure: its message is for the user, errors.Is
// finds the class, errors.As finds the cause (which never holds the secret).
type checkError struct {
	class error
	msg   string
	cause error
}

func (e *checkError) Error() string { return e.msg }

func (e *checkError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.class}
	}
	return []error{e.class, e.cause}
}

// classify turns a minio-go or transport error into a hostcheck class;
// callerCtx tells a caller's cancel from a failure of the host.
func classify(callerCtx context.Context, err error, answeredS3 bool, ep endpoint, bucket string, cred credentials.Credential) error {
	fail := func(class error, format string, args ...any) error {
		msg := strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", "; ")
		return &checkError{class: class, msg: redact(msg, cred), cause: err}
	}

	// The server answered with an S3 error.
	if resp := minio.ToErrorResponse(err); resp.Code != "" || resp.StatusCode != 0 {
		switch resp.Code {
		case minio.NoSuchBucket:
			if !answeredS3 {
				return fail(hostcheck.ErrUnreachable, "%s did not answer as an S3 service for bucket %q (HTTP %d without an S3 error)", ep, bucket, resp.StatusCode)
			}
			return fail(hostcheck.ErrRootDirMissing, "S3 bucket %q does not exist on %s", bucket, ep)
		case "InvalidAccessKeyId":
			return fail(hostcheck.ErrBadCredential, "%s does not know the access key (InvalidAccessKeyId)", ep)
		case "SignatureDoesNotMatch":
			return fail(hostcheck.ErrBadCredential, "%s refused the access secret: the signature does not match (SignatureDoesNotMatch)", ep)
		case minio.AccessDenied:
			return fail(hostcheck.ErrBadCredential, "%s denied listing bucket %q: the key is unknown, the secret is wrong, or the key may not list the bucket (AccessDenied)", ep, bucket)
		case "PermanentRedirect", "AuthorizationHeaderMalformed", minio.InvalidRegion:
			return fail(hostcheck.ErrUnreachable, "%s says bucket %q is in another region than the one signed for (%s)", ep, bucket, safeCode(resp.Code)[1:])
		case "RequestTimeTooSkewed":
			return fail(hostcheck.ErrUnreachable, "%s refused the request time: this server's clock and the S3 host's differ too much (RequestTimeTooSkewed)", ep)
		}
		if resp.StatusCode == http.StatusForbidden {
			return fail(hostcheck.ErrBadCredential, "%s refused the credential for bucket %q (HTTP 403%s)", ep, bucket, safeCode(resp.Code))
		}
		return fail(hostcheck.ErrUnreachable, "%s did not answer as an S3 service for bucket %q (HTTP %d%s)", ep, bucket, resp.StatusCode, safeCode(resp.Code))
	}

	var netErr net.Error
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	// A dialer that classifies its own failures (hostcheck.Policy.Dial: SSRF
	// guard, connect timeout, refused) is taken at its word.
	for _, class := range []error{hostcheck.ErrForbiddenAddress, hostcheck.ErrTimeout, hostcheck.ErrUnreachable} {
		if errors.Is(err, class) {
			return fail(class, "%s: %s", ep, innermost(err))
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		return fail(hostcheck.ErrTimeout, "%s did not answer in time (%s)", ep, innermost(err))
	case callerCtx.Err() != nil && !errors.Is(callerCtx.Err(), context.DeadlineExceeded):
		return callerCtx.Err() // the caller gave up: not a property of the host
	case errors.Is(err, syscall.ECONNREFUSED):
		return fail(hostcheck.ErrUnreachable, "%s refused the connection (nothing listens on that port?)", ep)
	case errors.As(err, &dnsErr):
		return fail(hostcheck.ErrUnreachable, "cannot resolve the host of %s (%s)", ep, innermost(err))
	case errors.As(err, &certErr):
		return fail(hostcheck.ErrUnreachable, "the TLS certificate of %s is not trusted (%s)", ep, innermost(err))
	case errors.As(err, &recordErr) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fail(hostcheck.ErrUnreachable, "%s does not speak TLS (is the host http://?)", ep)
	}
	return fail(hostcheck.ErrUnreachable, "cannot reach %s (%s)", ep, innermost(err))
}

// innermost is the text of the deepest single-wrapped error: the useful part
// of "Get http://...: dial tcp ...: connect: ..." without the request URL.
func innermost(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// safeCode is " <code>" for an S3 error code, kept printable and short (it
// comes from the remote host), or "" when the answer had none (minio-go then
// puts the HTTP status line there).
func safeCode(code string) string {
	if code == "" || code[0] >= '0' && code[0] <= '9' {
		return ""
	}
	if len(code) > 64 {
		code = code[:64]
	}
	return " " + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, code)
}

// redact removes the credential's secret and key from a message, a last
// guard in case a library ever echoes them.
func redact(msg string, cred credentials.Credential) string {
	if cred.AccessSecret != "" {
		msg = strings.ReplaceAll(msg, cred.AccessSecret, "[redacted]")
	}
	if len(cred.AccessKey) >= 8 { // not a secret, but never echoed either
		msg = strings.ReplaceAll(msg, cred.AccessKey, "[redacted]")
	}
	return msg
}
