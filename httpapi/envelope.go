package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// Version is reported in the envelope of every response.
const Version = "1.0.0"

// Resp is the Tapis response envelope of the Python services (Tenants,
// Tokens, Authenticator).
type Resp[T any] struct {
	Result   T              `json:"result"`
	Status   string         `json:"status" enum:"success,error"`
	Message  string         `json:"message"`
	Version  string         `json:"version"`
	Metadata map[string]any `json:"metadata"`
}

// Output wraps an envelope as a huma response body.
type Output[T any] struct {
	Status int `json:"-"`
	Body   Resp[T]
}

// ok builds a success envelope.
func ok[T any](result T, message string) *Output[T] {
	return &Output[T]{Status: http.StatusOK, Body: Resp[T]{Result: result, Status: "success", Message: message, Version: Version, Metadata: map[string]any{}}}
}

// created builds a success envelope answered with 201, as the specs declare
// for creates.
func created[T any](result T, message string) *Output[T] {
	out := ok(result, message)
	out.Status = http.StatusCreated
	return out
}

// Error is an error response in the Tapis envelope. It implements
// huma.StatusError, so handlers return it directly.
type Error struct {
	status   int
	headers  http.Header
	Result   any            `json:"result"`
	Status   string         `json:"status"`
	Message  string         `json:"message"`
	Version  string         `json:"version"`
	Metadata map[string]any `json:"metadata"`
}

// NewError returns an error envelope with the given HTTP status and message.
func NewError(status int, message string) *Error {
	return &Error{status: status, Status: "error", Message: message, Version: Version, Metadata: map[string]any{}}
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// GetStatus returns the HTTP status.
func (e *Error) GetStatus() int { return e.status }

// GetHeaders returns headers the error response carries (Retry-After on a
// 429); huma writes them.
func (e *Error) GetHeaders() http.Header { return e.headers }

// WithHeader returns e with one more response header.
func (e *Error) WithHeader(name, value string) *Error {
	if e.headers == nil {
		e.headers = http.Header{}
	}
	e.headers.Set(name, value)
	return e
}

// ContentType keeps errors as plain JSON (huma would say problem+json).
func (e *Error) ContentType(string) string { return "application/json" }

func jsonEncode(w interface{ Write([]byte) (int, error) }, v any) error {
	return json.NewEncoder(w).Encode(v)
}

// Null is the result of operations that answer "result": null.
type Null struct{}

// MarshalJSON renders null.
func (Null) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// Schema documents the null result.
func (Null) Schema(huma.Registry) *huma.Schema { return &huma.Schema{Type: "null"} }
