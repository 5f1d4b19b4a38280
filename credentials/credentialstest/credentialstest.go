// Package credentialstest holds the conformance suites of the credentials
// interfaces: credentials.Vault, credentials.Auditor (with a way to read the
// records back) and hostcheck.HostKeys. Every adapter runs them, so memory,
// SQLite, PostgreSQL and Vault KV give the same answers.
package credentialstest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
)

// When is a fixed time with nanoseconds in a zone other than UTC; vaults
// give it back as the same instant in UTC with microsecond precision.
var When = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("UTC+2", 2*3600))

// StoredTime is t as every vault gives it back: UTC, microseconds.
func StoredTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// Full returns a credential with every field set to a distinctive value
// derived from tag, multi-line PEM-like key material included.
func Full(tag string) credentials.Credential {
	return credentials.Credential{
		LoginUser:    "login-" + tag,
		Password:     "pw-" + tag + "-S3cr3t!",
		PrivateKey:   "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret-private-" + tag + "\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
		PublicKey:    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + tag + " public",
		AccessKey:    "AKIA-" + tag,
		AccessSecret: "access-secret-" + tag + "-wJalrXUtnFEMI",
		AccessToken:  "access-token-" + tag + "-eyJhbGciOi",
		RefreshToken: "refresh-token-" + tag + "-dGhpcyBpcw",
		Certificate:  "-----BEGIN CERTIFICATE-----\ncert-" + tag + "\n-----END CERTIFICATE-----\n",
		Updated:      When,
		// Globus access tokens live 48 hours.
		AccessTokenExpires: When.Add(48 * time.Hour),
	}
}

// Secrets lists the secret fields of c that are set (password, private key,
// access secret, tokens): the values that must never appear at rest in the
// clear, in a log or in an error.
func Secrets(c credentials.Credential) []string {
	var out []string
	for _, s := range []string{c.Password, c.PrivateKey, c.AccessSecret, c.AccessToken, c.RefreshToken} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// stored is c as a vault gives it back.
func stored(c credentials.Credential) credentials.Credential {
	c.Updated = StoredTime(c.Updated)
	c.AccessTokenExpires = StoredTime(c.AccessTokenExpires)
	return c
}

// assertCred compares credentials field by field (Credential's String
// method redacts, so a failed assert.Equal would show nothing useful).
func assertCred(t *testing.T, want, got credentials.Credential, msgAndArgs ...any) bool {
	t.Helper()
	type plain credentials.Credential // no String method: testify prints the fields
	if !assert.Equal(t, plain(stored(want)), plain(got), msgAndArgs...) {
		return false
	}
	if !want.AccessTokenExpires.IsZero() && !assert.Equal(t, time.UTC, got.AccessTokenExpires.Location(), "AccessTokenExpires comes back in UTC") {
		return false
	}
	return assert.Equal(t, time.UTC, got.Updated.Location(), "Updated comes back in UTC")
}

// oddKeys are keys whose parts hold separators, path syntax, escapes and
// non-ASCII text, paired so that a store joining the parts naively (with
// "|" or "/") or unescaping them would collide or escape its namespace.
var oddKeys = []credentials.Key{
	{Tenant: "a|b", SystemID: "c", User: "d"},
	{Tenant: "a", SystemID: "b|c", User: "d"},
	{Tenant: "a", SystemID: "b", User: "c|d"},
	{Tenant: "dev", SystemID: "x/y", User: "z"},
	{Tenant: "dev", SystemID: "x", User: "y/z"},
	{Tenant: "dev/x", SystemID: "y", User: "z"},
	{Tenant: "dev", SystemID: "sys", User: ".."},
	{Tenant: "dev", SystemID: "sys", User: "."},
	{Tenant: "dev", SystemID: "..", User: "sys"},
	{Tenant: "dev", SystemID: "sys", User: "%2F"},
	{Tenant: "dev", SystemID: "sys", User: "%252F"},
	{Tenant: "dev", SystemID: "sys", User: "a b?c#d&e=f"},
	{Tenant: "dev", SystemID: "sys", User: "static:jöhn"},
	{Tenant: "dev", SystemID: "sys", User: "dynamic:jöhn"},
	{Tenant: "dév", SystemID: "システム", User: "用户"},
	{Tenant: "dev", SystemID: "sys", User: `back\slash"quote'`},
}

// RunVaultTests runs the conformance suite of credentials.Vault against
// fresh, empty vaults from newVault.
func RunVaultTests(t *testing.T, newVault func(t *testing.T) credentials.Vault) {
	ctx := context.Background()
	k := credentials.Key{Tenant: "dev", SystemID: "sys1", User: "alice"}

	t.Run("put then get returns every field", func(t *testing.T) {
		v := newVault(t)
		in := Full("round")
		require.NoError(t, v.PutCredential(ctx, k, in))
		got, err := v.GetCredential(ctx, k)
		require.NoError(t, err)
		assertCred(t, in, got)
	})
	t.Run("a sparse credential reads back sparse", func(t *testing.T) {
		v := newVault(t)
		in := credentials.Credential{Password: "only-a-password"}
		require.NoError(t, v.PutCredential(ctx, k, in))
		got, err := v.GetCredential(ctx, k)
		require.NoError(t, err)
		assertCred(t, in, got)
		assert.True(t, got.Updated.IsZero(), "a zero Updated stays zero")
	})
	t.Run("put replaces the whole set", func(t *testing.T) {
		v := newVault(t)
		require.NoError(t, v.PutCredential(ctx, k, Full("first")))
		second := credentials.Credential{PrivateKey: "second-private", PublicKey: "second-public",
			Updated: When.Add(time.Hour)}
		require.NoError(t, v.PutCredential(ctx, k, second))
		got, err := v.GetCredential(ctx, k)
		require.NoError(t, err)
		assertCred(t, second, got, "the fields of the first put are gone")
		assert.Empty(t, got.Password)
		assert.Empty(t, got.LoginUser)
	})
	t.Run("get of a missing credential is ErrNotFound", func(t *testing.T) {
		v := newVault(t)
		_, err := v.GetCredential(ctx, k)
		assert.ErrorIs(t, err, credentials.ErrNotFound)
	})
	t.Run("delete removes; deleting a missing credential is no error", func(t *testing.T) {
		v := newVault(t)
		require.NoError(t, v.PutCredential(ctx, k, Full("del")))
		require.NoError(t, v.DeleteCredential(ctx, k))
		_, err := v.GetCredential(ctx, k)
		require.ErrorIs(t, err, credentials.ErrNotFound)
		require.NoError(t, v.DeleteCredential(ctx, k), "second delete")
		require.NoError(t, v.DeleteCredential(ctx, credentials.Key{Tenant: "dev", SystemID: "never", User: "nobody"}))
		require.NoError(t, v.PutCredential(ctx, k, Full("again")), "a deleted key can be written again")
		got, err := v.GetCredential(ctx, k)
		require.NoError(t, err)
		assertCred(t, Full("again"), got)
	})
	t.Run("tenant, system and user isolation", func(t *testing.T) {
		v := newVault(t)
		keys := []credentials.Key{
			k,
			{Tenant: "other", SystemID: k.SystemID, User: k.User},
			{Tenant: k.Tenant, SystemID: "sys2", User: k.User},
			{Tenant: k.Tenant, SystemID: k.SystemID, User: "bob"},
			{Tenant: k.Tenant, SystemID: k.SystemID, User: "Alice"},
		}
		require.NoError(t, v.PutCredential(ctx, keys[0], Full("base")))
		for _, key := range keys[1:] {
			_, err := v.GetCredential(ctx, key)
			assert.ErrorIs(t, err, credentials.ErrNotFound, "nothing stored yet under %v", key)
		}
		for i, key := range keys {
			require.NoError(t, v.PutCredential(ctx, key, Full(fmt.Sprint(i))))
		}
		for i, key := range keys {
			got, err := v.GetCredential(ctx, key)
			require.NoError(t, err)
			assertCred(t, Full(fmt.Sprint(i)), got, "key %v", key)
		}
		require.NoError(t, v.DeleteCredential(ctx, keys[0]))
		_, err := v.GetCredential(ctx, keys[0])
		require.ErrorIs(t, err, credentials.ErrNotFound)
		for i, key := range keys[1:] {
			got, err := v.GetCredential(ctx, key)
			require.NoError(t, err, "delete of %v leaves %v", keys[0], key)
			assertCred(t, Full(fmt.Sprint(i+1)), got)
		}
	})
	t.Run("keys with separators, path syntax and unicode stay distinct", func(t *testing.T) {
		v := newVault(t)
		for i, key := range oddKeys {
			require.NoError(t, v.PutCredential(ctx, key, Full(fmt.Sprint("odd", i))), "%q", key)
		}
		for i, key := range oddKeys {
			got, err := v.GetCredential(ctx, key)
			require.NoError(t, err, "%q", key)
			assertCred(t, Full(fmt.Sprint("odd", i)), got, "%q", key)
		}
		for _, key := range []credentials.Key{
			{Tenant: "a", SystemID: "b", User: "d"},
			{Tenant: "dev", SystemID: "x", User: "y"},
			{Tenant: "dev", SystemID: "x", User: "z"},
			{Tenant: "dev", SystemID: "sys", User: "/"},
			{Tenant: "dev", SystemID: "sys", User: "static:john"},
			{Tenant: "dev", SystemID: "sys", User: "sys"},
			{Tenant: "dev", SystemID: "sys", User: "%"},
		} {
			_, err := v.GetCredential(ctx, key)
			assert.ErrorIs(t, err, credentials.ErrNotFound, "%q must not alias another key", key)
		}
		for _, key := range oddKeys[:len(oddKeys)/2] {
			require.NoError(t, v.DeleteCredential(ctx, key))
		}
		for i, key := range oddKeys {
			got, err := v.GetCredential(ctx, key)
			if i < len(oddKeys)/2 {
				assert.ErrorIs(t, err, credentials.ErrNotFound, "%q deleted", key)
				continue
			}
			require.NoError(t, err, "%q", key)
			assertCred(t, Full(fmt.Sprint("odd", i)), got, "%q survives the other deletes", key)
		}
	})
	t.Run("concurrent puts of one key leave one whole value", func(t *testing.T) {
		v := newVault(t)
		const workers = 12
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- v.PutCredential(ctx, k, Full(fmt.Sprint("w", i)))
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		got, err := v.GetCredential(ctx, k)
		require.NoError(t, err)
		tag := strings.TrimPrefix(got.LoginUser, "login-")
		require.True(t, strings.HasPrefix(tag, "w"), "loginUser %q is one of the values", got.LoginUser)
		assertCred(t, Full(tag), got, "every field comes from the same put")
	})
	t.Run("values are copies", func(t *testing.T) {
		v := newVault(t)
		in := Full("copy")
		require.NoError(t, v.PutCredential(ctx, k, in))
		in.Password, in.PrivateKey = "changed after put", "changed"
		got, err := v.GetCredential(ctx, k)
		require.NoError(t, err)
		assertCred(t, Full("copy"), got)
		got.Password, got.AccessSecret = "changed after get", "changed"
		again, err := v.GetCredential(ctx, k)
		require.NoError(t, err)
		assertCred(t, Full("copy"), again)
	})
	t.Run("errors carry no secret", func(t *testing.T) {
		v := newVault(t)
		c := Full("errs")
		require.NoError(t, v.PutCredential(ctx, k, c))
		_, errMissing := v.GetCredential(ctx, credentials.Key{Tenant: "dev", SystemID: "sys1", User: "nobody"})
		require.ErrorIs(t, errMissing, credentials.ErrNotFound)
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		// A vault may or may not look at a cancelled context; when it fails,
		// the error names no secret.
		errPut := v.PutCredential(cancelled, credentials.Key{Tenant: "dev", SystemID: "s", User: "u"}, c)
		_, errGet := v.GetCredential(cancelled, k)
		for _, err := range []error{errMissing, errPut, errGet} {
			if err == nil {
				continue
			}
			for _, s := range Secrets(c) {
				assert.NotContains(t, err.Error(), s)
				assert.NotContains(t, fmt.Sprintf("%+v", err), s)
			}
		}
	})
}

// ReadAudit returns the records of tenant that an auditor holds, oldest
// first.
type ReadAudit func(t *testing.T, tenant string) []credentials.AuditRecord

// RunAuditTests runs the conformance suite of a credentials.Auditor whose
// records read back through the ReadAudit that newAuditor returns with it.
func RunAuditTests(t *testing.T, newAuditor func(t *testing.T) (credentials.Auditor, ReadAudit)) {
	ctx := context.Background()
	rec := func(i int, tenant string) credentials.AuditRecord {
		return credentials.AuditRecord{Time: When.Add(time.Duration(i) * time.Second), Tenant: tenant,
			JWTTenant: "admin", JWTUser: "files", OboUser: fmt.Sprint("user", i), SystemID: "sys|1/ü",
			TargetUser: "static:alice", Action: "get", Result: "ok"}
	}
	t.Run("records read back whole, in order, in UTC", func(t *testing.T) {
		a, read := newAuditor(t)
		var want []credentials.AuditRecord
		for i := range 5 {
			r := rec(i, "dev")
			r.Time = r.Time.Add(-time.Duration(i) * time.Minute) // insertion order, not time order
			require.NoError(t, a.Audit(ctx, r))
			r.Time = StoredTime(r.Time)
			want = append(want, r)
		}
		got := read(t, "dev")
		assert.Equal(t, want, got)
		for _, r := range got {
			assert.Equal(t, time.UTC, r.Time.Location())
		}
	})
	t.Run("records are kept per tenant", func(t *testing.T) {
		a, read := newAuditor(t)
		require.NoError(t, a.Audit(ctx, rec(1, "dev")))
		require.NoError(t, a.Audit(ctx, rec(2, "other")))
		require.NoError(t, a.Audit(ctx, rec(3, "dev")))
		dev := read(t, "dev")
		require.Len(t, dev, 2)
		assert.Equal(t, "user1", dev[0].OboUser)
		assert.Equal(t, "user3", dev[1].OboUser)
		other := read(t, "other")
		require.Len(t, other, 1)
		assert.Equal(t, "user2", other[0].OboUser)
		assert.Empty(t, read(t, "nobody"))
	})
	t.Run("concurrent audits are all kept", func(t *testing.T) {
		a, read := newAuditor(t)
		const workers, each = 8, 5
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					errs <- a.Audit(ctx, rec(w*each+i, "dev"))
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		got := read(t, "dev")
		assert.Len(t, got, workers*each)
		seen := map[string]bool{}
		for _, r := range got {
			seen[r.OboUser] = true
		}
		assert.Len(t, seen, workers*each, "no record lost or duplicated")
	})
}

// RunHostKeyTests runs the conformance suite of hostcheck.HostKeys against
// fresh, empty stores from newStore. Pinning is first-wins: pinning the same
// key again is no error, pinning another key is ErrHostKeyMismatch and keeps
// the first.
func RunHostKeyTests(t *testing.T, newStore func(t *testing.T) hostcheck.HostKeys) {
	ctx := context.Background()
	const key1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
	const key2 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7"
	t.Run("nothing pinned reads as empty", func(t *testing.T) {
		hk := newStore(t)
		got, err := hk.HostKey(ctx, "dev", "sys1")
		require.NoError(t, err)
		assert.Empty(t, got)
	})
	t.Run("pin then read; same key again is fine; another key is a mismatch", func(t *testing.T) {
		hk := newStore(t)
		require.NoError(t, hk.PinHostKey(ctx, "dev", "sys1", key1))
		got, err := hk.HostKey(ctx, "dev", "sys1")
		require.NoError(t, err)
		assert.Equal(t, key1, got)
		require.NoError(t, hk.PinHostKey(ctx, "dev", "sys1", key1))
		err = hk.PinHostKey(ctx, "dev", "sys1", key2)
		assert.ErrorIs(t, err, hostcheck.ErrHostKeyMismatch)
		got, err = hk.HostKey(ctx, "dev", "sys1")
		require.NoError(t, err)
		assert.Equal(t, key1, got, "the first pin stays")
	})
	t.Run("an empty key cannot be pinned", func(t *testing.T) {
		hk := newStore(t)
		assert.ErrorIs(t, hk.PinHostKey(ctx, "dev", "sys1", ""), credentials.ErrInvalid)
		got, err := hk.HostKey(ctx, "dev", "sys1")
		require.NoError(t, err)
		assert.Empty(t, got)
	})
	t.Run("tenant and system isolation", func(t *testing.T) {
		hk := newStore(t)
		require.NoError(t, hk.PinHostKey(ctx, "dev", "sys1", key1))
		require.NoError(t, hk.PinHostKey(ctx, "other", "sys1", key2))
		require.NoError(t, hk.PinHostKey(ctx, "dev", "sys|2", key2))
		for _, c := range []struct{ tenant, sys, want string }{
			{"dev", "sys1", key1}, {"other", "sys1", key2}, {"dev", "sys|2", key2}, {"dev", "sys", ""}, {"dev|sys", "1", ""},
		} {
			got, err := hk.HostKey(ctx, c.tenant, c.sys)
			require.NoError(t, err)
			assert.Equal(t, c.want, got, "%s/%s", c.tenant, c.sys)
		}
	})
	t.Run("concurrent first pins: exactly one key wins", func(t *testing.T) {
		hk := newStore(t)
		const workers = 8
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- hk.PinHostKey(ctx, "dev", "sys1", fmt.Sprint(key2, i))
			}()
		}
		wg.Wait()
		close(errs)
		ok := 0
		for err := range errs {
			if err == nil {
				ok++
				continue
			}
			assert.ErrorIs(t, err, hostcheck.ErrHostKeyMismatch)
		}
		assert.Equal(t, 1, ok)
		got, err := hk.HostKey(ctx, "dev", "sys1")
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(got, key2), got)
	})
	t.Run("delete forgets the pin of one system", func(t *testing.T) {
		hk := newStore(t)
		require.NoError(t, hk.PinHostKey(ctx, "dev", "sys1", key1))
		require.NoError(t, hk.PinHostKey(ctx, "other", "sys1", key1))
		require.NoError(t, hk.DeleteHostKey(ctx, "dev", "sys1"))
		require.NoError(t, hk.DeleteHostKey(ctx, "dev", "sys1"), "deleting a missing pin is no error")
		got, err := hk.HostKey(ctx, "dev", "sys1")
		require.NoError(t, err)
		assert.Empty(t, got)
		require.NoError(t, hk.PinHostKey(ctx, "dev", "sys1", key2), "a new first use")
		got, err = hk.HostKey(ctx, "other", "sys1")
		require.NoError(t, err)
		assert.Equal(t, key1, got, "other tenant untouched")
	})
}
