package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
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
	{tenancy.ErrMisdirected, http.StatusMisdirectedRequest},
	{oauth2.ErrPublish, http.StatusBadGateway},
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

// huma's own errors (request validation, body parsing, content
// negotiation) of the operations Register adds use the Tapis envelope, with
// 400 instead of 422 and every detail named in the message; the caller's
// other operations keep theirs.
//
// huma v2.37 has no per-API error constructor: it builds those errors with
// its package-level huma.NewErrorWithContext, which receives the operation.
// So the first Register of the process installs, once, a NewErrorWithContext
// that answers in the Tapis envelope for an operation Register marked (in
// its Metadata) and hands every other operation to the constructor in place
// before, so the process's other huma APIs are unchanged. huma.NewError is
// left alone. A caller that replaces huma.NewErrorWithContext after Register
// takes our operations' huma errors back to its own shape; the library
// never touches huma from init().

// tapisErrorsKey marks, in huma.Operation.Metadata, an operation whose huma
// errors use the Tapis envelope.
const tapisErrorsKey = "tapis-errors"

var scopeErrorsOnce sync.Once

// scopeErrors installs the Tapis errors for the operations Register marks.
func scopeErrors() {
	scopeErrorsOnce.Do(func() {
		prev := huma.NewErrorWithContext
		huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
			if ctx != nil && ctx.Operation() != nil && ctx.Operation().Metadata[tapisErrorsKey] == true {
				return frameworkError(status, msg, errs...)
			}
			return prev(ctx, status, msg, errs...)
		}
	})
}

// tapisErrors marks op and documents its errors as the Tapis envelope (a
// "default" response, which keeps huma from documenting its own).
func tapisErrors(api huma.API, op huma.Operation) huma.Operation {
	if op.Metadata == nil {
		op.Metadata = map[string]any{}
	}
	op.Metadata[tapisErrorsKey] = true
	if op.Responses == nil {
		op.Responses = map[string]*huma.Response{}
	}
	if op.Responses["default"] == nil {
		schema := api.OpenAPI().Components.Schemas.Schema(reflect.TypeOf(Error{}), true, "Error")
		op.Responses["default"] = &huma.Response{Description: "Error",
			Content: map[string]*huma.MediaType{"application/json": {Schema: schema}}}
	}
	return op
}

// dropHumaErrorSchemas removes huma's error schemas, which huma registers
// for every operation even when its errors are documented otherwise, from a
// document where no response uses them (NewHandler's: every operation is
// ours).
func dropHumaErrorSchemas(oapi *huma.OpenAPI) {
	const ref = "#/components/schemas/ErrorModel"
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Options, item.Head, item.Patch, item.Trace} {
			if op == nil {
				continue
			}
			for _, resp := range op.Responses {
				for _, mt := range resp.Content {
					if mt.Schema != nil && mt.Schema.Ref == ref {
						return
					}
				}
			}
		}
	}
	m := oapi.Components.Schemas.Map()
	delete(m, "ErrorModel")
	delete(m, "ErrorDetail")
}

// frameworkError is one of huma's own errors in the Tapis envelope.
func frameworkError(status int, msg string, errs ...error) huma.StatusError {
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

func capitalize(s string) string {
	if s == "" {
		return "Invalid request"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
