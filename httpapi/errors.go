package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/search"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/tenancy"
)

// statusTable is THE one table from domain errors to HTTP status. Order
// matters: the first match wins. Anything unmatched is a 500 whose cause is
// logged, never echoed.
var statusTable = []struct {
	err    error
	status int
}{
	{oauth2.ErrInvalidToken, http.StatusUnauthorized},
	{oauth2.ErrInvalidCredentials, http.StatusUnauthorized},
	{tenancy.ErrForbidden, http.StatusForbidden},
	{tenancy.ErrNotFound, http.StatusNotFound},
	{tenancy.ErrAlreadyExists, http.StatusConflict},
	{tenancy.ErrInUse, http.StatusConflict},
	{oauth2.ErrRateLimited, http.StatusTooManyRequests},
	{oauth2.ErrNotConfigured, http.StatusNotImplemented},
	{systems.ErrNotConfigured, http.StatusNotImplemented},
	{systems.ErrConflict, http.StatusConflict},
	{systems.ErrCredentialRejected, http.StatusBadRequest},
	{systems.ErrUpstream, http.StatusBadGateway},
	{search.ErrInvalid, http.StatusBadRequest},
	{tenancy.ErrInvalid, http.StatusBadRequest},
}

// StatusOf returns the HTTP status for a domain error (500 when unknown).
func StatusOf(err error) int {
	var he *Error
	if errors.As(err, &he) {
		return he.status
	}
	for _, row := range statusTable {
		if errors.Is(err, row.err) {
			return row.status
		}
	}
	return http.StatusInternalServerError
}

// failure translates a domain error into an envelope error. Known errors keep
// their message (domain messages are written for clients and never carry
// secrets); unknown ones are logged under the request id.
func failure(ctx context.Context, log *slog.Logger, err error) error {
	var he *Error
	if errors.As(err, &he) {
		log.DebugContext(ctx, "request refused", "request_id", RequestID(ctx), "status", he.status, "message", he.Message)
		return he
	}
	if status := StatusOf(err); status != http.StatusInternalServerError {
		log.DebugContext(ctx, "request refused", "request_id", RequestID(ctx), "status", status, "message", err.Error())
		e := NewError(status, err.Error())
		if wait, limited := retryAfter(err); limited {
			e.WithHeader("Retry-After", wait)
		}
		return e
	}
	if errors.Is(err, context.Canceled) {
		return NewError(499, "The request was cancelled.")
	}
	id := RequestID(ctx)
	log.ErrorContext(ctx, "internal error", "request_id", id, "err", tenancy.TruncateTo(err.Error(), maxLoggedError))
	return NewError(http.StatusInternalServerError, "An internal error occurred; quote request id "+id+" to the operator.")
}

// maxLoggedError bounds the text of an internal error in the log, whatever
// input a driver may have repeated in it.
const maxLoggedError = 2000

// retryAfter is the Retry-After value of a rate-limited request: the
// limiter's wait, or 60 seconds when it gave none.
func retryAfter(err error) (string, bool) {
	if !errors.Is(err, oauth2.ErrRateLimited) {
		return "", false
	}
	var rle *oauth2.RateLimitError
	if errors.As(err, &rle) {
		return strconv.Itoa(rle.RetryAfter()), true
	}
	return "60", true
}

var installOnce sync.Once

// InstallErrors makes huma's own errors (request validation, body parsing,
// unknown content types) use the Tapis envelope, with 400 instead of 422 and
// every detail named in the message. huma keeps this in package globals, so
// it changes every huma API of the process: the library never calls it on
// its own; NewHandler and the examples do. Safe to call more than once.
func InstallErrors() {
	installOnce.Do(func() {
		huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
			if status == http.StatusUnprocessableEntity {
				status = http.StatusBadRequest
			}
			if status >= 500 {
				// Never echo a raw cause; handlers log theirs before this point.
				return NewError(status, "An internal error occurred.")
			}
			var details []string
			for _, e := range errs {
				if e == nil {
					continue
				}
				if d, ok := e.(huma.ErrorDetailer); ok {
					dd := d.ErrorDetail()
					if dd.Location != "" {
						details = append(details, fmt.Sprintf("%s (%s)", tenancy.Truncate(dd.Message), tenancy.Truncate(dd.Location)))
						continue
					}
					details = append(details, tenancy.Truncate(dd.Message))
					continue
				}
				details = append(details, tenancy.Truncate(e.Error()))
			}
			text := capitalize(msg)
			if len(details) > 0 {
				text += ": " + strings.Join(details, "; ")
			}
			return NewError(status, text)
		}
		huma.NewErrorWithContext = func(_ huma.Context, status int, msg string, errs ...error) huma.StatusError {
			return huma.NewError(status, msg, errs...)
		}
	})
}

func capitalize(s string) string {
	if s == "" {
		return "Invalid request"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
