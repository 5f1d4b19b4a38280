package oauth2

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tapis-go/tapis/tenancy"
)

type attemptLog []string

func (a *attemptLog) AttemptEnded(e Entry, o AttemptOutcome) {
	*a = append(*a, string(e)+" "+string(o))
}

// How an attempt ended is read from the checking function's error: an
// operator must not see a store outage as guessing, nor a 429 as a wrong
// password.
func TestAttemptOutcomes(t *testing.T) {
	var log attemptLog
	l := NewLimiter(LimiterConfig{Observer: &log})
	for _, err := range []error{
		nil,
		grantErr("invalid_grant", "Invalid username/password combination."),
		grantErr("invalid_client", "Invalid client credentials."),
		tenancy.Errorf(ErrInvalidCredentials, "Invalid service account/password combination."),
		&RateLimitError{Message: "wait"},
		errors.New("connection refused"),
		grantErr("invalid_request", "Missing required payload data"),
	} {
		l.observe(EntryPassword, err)
	}
	assert.Equal(t, attemptLog{"password success", "password failure", "password failure", "password failure",
		"password limited", "password error", "password error"}, log)

	NewLimiter(LimiterConfig{}).observe(EntryPassword, nil) // no observer: nothing to do, no panic
}
