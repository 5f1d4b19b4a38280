package httpapi

import (
	"net/http"
	"strings"
	"time"
)

// Tapis serializes times differently per resource (reference/auth.md §7.7).
const (
	// registryTime is the Python str(datetime) form of sites and tenants.
	registryTime = "2006-01-02 15:04:05.000000"
	// expiresAtTime is the isoformat() of the Tokens API's expires_at.
	expiresAtTime = "2006-01-02T15:04:05.000000+00:00"
)

func fmtRegistry(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(registryTime)
}

// fmtRFC1123 is the Flask form of owners, LDAP objects and clients.
func fmtRFC1123(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(http.TimeFormat)
}

// truthy reads the boolean query flags of the Python services: true for a
// non-empty value other than false/0/no/off.
func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false", "0", "no", "off":
		return false
	}
	return true
}

// ListQuery is the limit/offset pair of the registry listings.
type ListQuery struct {
	Limit  int `query:"limit" minimum:"0" doc:"limit the number of records returned."`
	Offset int `query:"offset" minimum:"0" doc:"index (offset) to start list."`
}

// maxListLimit bounds every registry listing.
const maxListLimit = 1000

// page applies limit/offset to a full listing.
func page[T any](all []T, q ListQuery) []T {
	limit := q.Limit
	if limit <= 0 || limit > maxListLimit {
		limit = maxListLimit
	}
	if q.Offset >= len(all) {
		return []T{}
	}
	all = all[q.Offset:]
	if len(all) > limit {
		all = all[:limit]
	}
	return all
}
