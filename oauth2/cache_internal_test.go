package oauth2

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestTokenCacheIsBounded(t *testing.T) {
	c := newTokenCache(100)
	now := time.Now()
	for i := range 1000 {
		c.put(sha256.Sum256([]byte(fmt.Sprint(i))), Claims{JTI: fmt.Sprint(i)}, now.Add(time.Hour), c.generation())
		assert.LessOrEqual(t, len(c.entries), 100)
	}
	last := sha256.Sum256([]byte("999"))
	got, ok := c.get(last, now)
	assert.True(t, ok, "the newest entry is kept")
	assert.Equal(t, "999", got.JTI)
}

func TestTokenCacheHonoursDeadline(t *testing.T) {
	c := newTokenCache(10)
	now := time.Now()
	k := sha256.Sum256([]byte("t"))
	c.put(k, Claims{JTI: "t"}, now.Add(time.Second), c.generation())
	_, ok := c.get(k, now)
	assert.True(t, ok)
	_, ok = c.get(k, now.Add(2*time.Second))
	assert.False(t, ok, "an entry past its deadline (token exp or max age) is a miss")
	c.clear()
	_, ok = c.get(k, now)
	assert.False(t, ok, "clear empties the cache")
	var disabled *tokenCache = newTokenCache(-1)
	assert.Nil(t, disabled)
	disabled.clear() // must not panic
}

// TestTokenCacheDropsAPutRacingAClear: a token checked before a revocation
// cleared the cache is not kept (it may be the revoked one).
func TestTokenCacheDropsAPutRacingAClear(t *testing.T) {
	c := newTokenCache(10)
	now := time.Now()
	k := sha256.Sum256([]byte("t"))
	gen := c.generation() // the check starts
	c.clear()             // a revocation lands meanwhile
	c.put(k, Claims{JTI: "t"}, now.Add(time.Minute), gen)
	_, ok := c.get(k, now)
	assert.False(t, ok)
	c.put(k, Claims{JTI: "t"}, now.Add(time.Minute), c.generation())
	_, ok = c.get(k, now)
	assert.True(t, ok, "a check after the clear is kept")
}
