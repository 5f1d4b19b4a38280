package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"

	"github.com/danielgtaylor/huma/v2"
)

type requestIDKey struct{}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// RequestID returns the id of the request in ctx ("-" when there is none).
func RequestID(ctx context.Context) string {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok {
		return id
	}
	return "-"
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// requestIDMiddleware tags every request with an id (the client's
// X-Request-Id when it is sane) and echoes it in the response.
func requestIDMiddleware(ctx huma.Context, next func(huma.Context)) {
	id := ctx.Header("X-Request-Id")
	if !requestIDPattern.MatchString(id) {
		id = newRequestID()
	}
	ctx.SetHeader("X-Request-Id", id)
	next(huma.WithValue(ctx, requestIDKey{}, id))
}
