package globusauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
)

// transfer checks tokens with Globus Transfer. It dials through the
// policy (its SSRF guard and connect deadline), never through a proxy, and
// follows no redirect.
type transfer struct {
	base string // ends with "/"
	http *http.Client
}

func newTransfer(base string, p hostcheck.Policy) *transfer {
	p = p.WithDefaults()
	return &transfer{base: base, http: &http.Client{
		Transport: &http.Transport{
			DialContext:           p.Dial,
			TLSHandshakeTimeout:   p.HandshakeTimeout,
			ResponseHeaderTimeout: p.HandshakeTimeout,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          8,
			IdleConnTimeout:       90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Verify implements hostcheck.Verifier (run by the Client's guard).
func (tr *transfer) Verify(ctx context.Context, t hostcheck.Target, c credentials.Credential) error {
	if t.AuthnMethod != "" && t.AuthnMethod != "TOKEN" {
		return fmt.Errorf("%w: GLOBUS systems use TOKEN credentials, not %s", hostcheck.ErrUnsupported, t.AuthnMethod)
	}
	if c.AccessToken == "" {
		return fmt.Errorf("%w: no Globus access token is stored", hostcheck.ErrBadCredential)
	}
	id := strings.ToLower(strings.TrimSpace(t.Host))
	if !isCollectionID(id) {
		return fmt.Errorf("%w: the host %q is not a Globus collection id (a UUID)", hostcheck.ErrUnreachable, t.Host)
	}
	notFound := fmt.Errorf("%w: Globus has no collection %s", hostcheck.ErrUnreachable, id)
	if err := tr.get(ctx, "endpoint/"+id, nil, c.AccessToken, id, notFound); err != nil {
		return err
	}
	if t.RootDir == "" {
		return nil
	}
	notFound = fmt.Errorf("%w: %s does not exist on collection %s", hostcheck.ErrRootDirMissing, t.RootDir, id)
	return tr.get(ctx, "operation/endpoint/"+id+"/ls", url.Values{"path": {t.RootDir}}, c.AccessToken, id, notFound)
}

// transferError is the error document of Globus Transfer.
type transferError struct {
	Code string `json:"code"`
}

// get calls one Transfer resource with the token: nil on 200, notFound on
// 404, else a classified error naming Transfer's error code.
func (tr *transfer) get(ctx context.Context, path string, q url.Values, token, collection string, notFound error) error {
	u := tr.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%w: the Globus Transfer URL is invalid", hostcheck.ErrUnreachable)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := tr.http.Do(req)
	if err != nil {
		return transportErr(ctx, err)
	}
	defer resp.Body.Close()
	var doc transferError
	if resp.StatusCode != http.StatusOK {
		_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&doc)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	code := safeCode(doc.Code)
	if code == "" {
		code = fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%w: Globus Transfer refused the access token (%s)", hostcheck.ErrBadCredential, code)
	case resp.StatusCode == http.StatusForbidden && code == "ConsentRequired":
		return fmt.Errorf("%w: the user has not consented to data access on collection %s (ConsentRequired): authorize again", hostcheck.ErrBadCredential, collection)
	case resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%w: Globus Transfer denied access to collection %s (%s)", hostcheck.ErrBadCredential, collection, code)
	case resp.StatusCode == http.StatusNotFound:
		return notFound
	case strings.Contains(code, "ExternalError") || strings.Contains(code, "EndpointError") || resp.StatusCode == http.StatusBadGateway:
		return fmt.Errorf("%w: collection %s did not answer Globus Transfer (%s)", hostcheck.ErrUnreachable, collection, code)
	}
	return fmt.Errorf("%w: Globus Transfer answered %s for collection %s", hostcheck.ErrUnreachable, code, collection)
}

// transportErr classifies a failed request: the policy's classes pass
// through, time-outs are ErrTimeout, the rest ErrUnreachable.
func transportErr(ctx context.Context, err error) error {
	for _, class := range []error{hostcheck.ErrForbiddenAddress, hostcheck.ErrTimeout, hostcheck.ErrUnreachable} {
		if errors.Is(err, class) {
			var ue *url.Error
			if errors.As(err, &ue) {
				return ue.Err // the policy's message, without the URL
			}
			return err
		}
	}
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return ctx.Err()
	case ctx.Err() != nil, errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w: Globus Transfer did not answer in time", hostcheck.ErrTimeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%w: Globus Transfer could not be reached: %v", hostcheck.ErrUnreachable, err)
}
