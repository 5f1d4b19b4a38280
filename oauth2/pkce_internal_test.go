package oauth2

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestCheckPKCE: RFC 7636 S256 with a verifier of 43 to 128 characters
// (§4.1), checked even when the hash matches; no downgrade (a verifier for
// a code issued without a challenge is refused).
func TestCheckPKCE(t *testing.T) {
	verifier := func(n int) string { return strings.Repeat("aB3-._~x", 17)[:n] }
	cases := []struct {
		name, challenge, verifier string
		wantErr                   string // "" = accepted
	}{
		{"43 characters", s256(verifier(43)), verifier(43), ""},
		{"128 characters", s256(verifier(128)), verifier(128), ""},
		{"42 characters, matching hash", s256(verifier(42)), verifier(42), "43 to 128 characters"},
		{"1 character, matching hash", s256("a"), "a", "43 to 128 characters"},
		{"129 characters, matching hash", s256(verifier(129)), verifier(129), "43 to 128 characters"},
		{"wrong verifier", s256(verifier(43)), verifier(44), "does not match"},
		{"the challenge as verifier", s256(verifier(43)), s256(verifier(43)), "does not match"},
		{"missing verifier", s256(verifier(43)), "", "is required"},
		{"verifier without challenge (downgrade)", "", verifier(43), "had no code_challenge"},
		{"no PKCE at all", "", "", ""},
	}
	for _, c := range cases {
		err := checkPKCE(AuthCode{CodeChallenge: c.challenge, CodeChallengeMethod: "S256"}, c.verifier)
		if c.wantErr == "" {
			assert.NoError(t, err, c.name)
			continue
		}
		var ge *GrantError
		if assert.ErrorAs(t, err, &ge, c.name) {
			assert.Equal(t, "invalid_grant", ge.Code, c.name)
			assert.Contains(t, ge.Description, c.wantErr, c.name)
		}
	}
}
