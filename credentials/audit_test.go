package credentials_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/credentials/credentialstest"
	"github.com/tapis-go/tapis/tenancy"
)

// mapVault is the smallest Vault, for testing the wrapper alone.
type mapVault struct {
	mu  sync.Mutex
	m   map[credentials.Key]credentials.Credential
	err error // returned by every operation when set
}

func newMapVault() *mapVault { return &mapVault{m: map[credentials.Key]credentials.Credential{}} }

func (v *mapVault) PutCredential(_ context.Context, k credentials.Key, c credentials.Credential) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.err != nil {
		return v.err
	}
	c.Updated = credentialstest.StoredTime(c.Updated)
	c.AccessTokenExpires = credentialstest.StoredTime(c.AccessTokenExpires)
	v.m[k] = c
	return nil
}

func (v *mapVault) GetCredential(_ context.Context, k credentials.Key) (credentials.Credential, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.err != nil {
		return credentials.Credential{}, v.err
	}
	c, ok := v.m[k]
	if !ok {
		return credentials.Credential{}, fmt.Errorf("map vault: %w", credentials.ErrNotFound)
	}
	return c, nil
}

func (v *mapVault) DeleteCredential(_ context.Context, k credentials.Key) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.err != nil {
		return v.err
	}
	delete(v.m, k)
	return nil
}

// failingAuditor refuses every record.
type failingAuditor struct{ calls int }

func (f *failingAuditor) Audit(context.Context, credentials.AuditRecord) error {
	f.calls++
	return errors.New("audit log is full")
}

var fixedNow = time.Date(2026, 5, 6, 7, 8, 9, 0, time.FixedZone("X", 3600))

func TestAuditedVaultConforms(t *testing.T) {
	credentialstest.RunVaultTests(t, func(*testing.T) credentials.Vault {
		return credentials.Audited(newMapVault(), &credentials.MemoryAuditor{}, nil)
	})
}

func TestMemoryAuditorConforms(t *testing.T) {
	credentialstest.RunAuditTests(t, func(*testing.T) (credentials.Auditor, credentialstest.ReadAudit) {
		a := &credentials.MemoryAuditor{}
		return a, func(_ *testing.T, tenant string) []credentials.AuditRecord {
			var out []credentials.AuditRecord
			for _, r := range a.Records() {
				if r.Tenant == tenant {
					r.Time = credentialstest.StoredTime(r.Time)
					out = append(out, r)
				}
			}
			return out
		}
	})
}

func TestAuditedWritesOneRecordPerOperation(t *testing.T) {
	service := tenancy.Principal{TenantID: "dev", Username: "alice", AccountType: tenancy.AccountService,
		TokenTenantID: "admin", TokenUsername: "files", OnBehalfOf: true}
	user := tenancy.Principal{TenantID: "dev", Username: "bob", AccountType: tenancy.AccountUser,
		TokenTenantID: "dev", TokenUsername: "bob"}
	k := credentials.Key{Tenant: "dev", SystemID: "sys1", User: "alice"}
	secret := credentialstest.Full("audited")

	inner := newMapVault()
	aud := &credentials.MemoryAuditor{}
	v := credentials.Audited(inner, aud, func() time.Time { return fixedNow })
	svcCtx := tenancy.WithPrincipal(context.Background(), service)
	userCtx := tenancy.WithPrincipal(context.Background(), user)

	type step struct {
		ctx    context.Context
		op     func(ctx context.Context) error
		action string
		result string
	}
	get := func(ctx context.Context) error {
		c, err := v.GetCredential(ctx, k)
		if err == nil {
			assert.Equal(t, secret.Password, c.Password, "the wrapper returns the secret")
		}
		return err
	}
	steps := []step{
		{svcCtx, get, "get", "not_found"},
		{userCtx, func(ctx context.Context) error { return v.PutCredential(ctx, k, secret) }, "put", "ok"},
		{svcCtx, get, "get", "ok"},
		{userCtx, func(ctx context.Context) error { return v.DeleteCredential(ctx, k) }, "delete", "ok"},
		{userCtx, func(ctx context.Context) error { return v.DeleteCredential(ctx, k) }, "delete", "ok"},
		{context.Background(), get, "get", "not_found"},
	}
	for i, s := range steps {
		_ = s.op(s.ctx)
		recs := aud.Records()
		require.Len(t, recs, i+1, "step %d (%s) writes exactly one record", i, s.action)
		r := recs[i]
		assert.Equal(t, s.action, r.Action, "step %d", i)
		assert.Equal(t, s.result, r.Result, "step %d", i)
		assert.Equal(t, fixedNow.UTC(), r.Time)
		assert.Equal(t, time.UTC, r.Time.Location())
		assert.Equal(t, "dev", r.Tenant)
		assert.Equal(t, "sys1", r.SystemID)
		assert.Equal(t, "alice", r.TargetUser)
		p, _ := tenancy.PrincipalFrom(s.ctx)
		assert.Equal(t, p.TokenTenantID, r.JWTTenant, "step %d", i)
		assert.Equal(t, p.TokenUsername, r.JWTUser, "step %d", i)
		assert.Equal(t, p.Username, r.OboUser, "step %d", i)
	}
	recs := aud.Records()
	assert.Equal(t, credentials.AuditRecord{Time: fixedNow.UTC(), Tenant: "dev", JWTTenant: "admin", JWTUser: "files",
		OboUser: "alice", SystemID: "sys1", TargetUser: "alice", Action: "get", Result: "ok"}, recs[2])
	for _, r := range recs {
		for _, format := range []string{"%v", "%+v", "%#v"} {
			text := fmt.Sprintf(format, r)
			for _, s := range credentialstest.Secrets(secret) {
				assert.NotContains(t, text, s, "an audit record never holds the value")
			}
			assert.NotContains(t, text, secret.AccessKey)
		}
	}
}

func TestAuditedResults(t *testing.T) {
	k := credentials.Key{Tenant: "dev", SystemID: "s", User: "u"}
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("wrapped: %w", credentials.ErrInvalid), "invalid"},
		{fmt.Errorf("wrapped: %w", tenancy.ErrForbidden), "denied"},
		{errors.New("connection refused"), "error"},
	} {
		inner := newMapVault()
		inner.err = c.err
		aud := &credentials.MemoryAuditor{}
		v := credentials.Audited(inner, aud, nil)
		ctx := context.Background()
		assert.ErrorIs(t, v.PutCredential(ctx, k, credentials.Credential{Password: "x"}), c.err)
		_, err := v.GetCredential(ctx, k)
		assert.ErrorIs(t, err, c.err)
		assert.ErrorIs(t, v.DeleteCredential(ctx, k), c.err)
		recs := aud.Records()
		require.Len(t, recs, 3)
		for i, r := range recs {
			assert.Equal(t, c.want, r.Result)
			assert.Equal(t, []string{"put", "get", "delete"}[i], r.Action)
			assert.False(t, r.Time.IsZero())
		}
	}
}

func TestAuditedFailsClosed(t *testing.T) {
	k := credentials.Key{Tenant: "dev", SystemID: "s", User: "u"}
	inner := newMapVault()
	require.NoError(t, inner.PutCredential(context.Background(), k, credentialstest.Full("closed")))
	fa := &failingAuditor{}
	v := credentials.Audited(inner, fa, nil)
	got, err := v.GetCredential(context.Background(), k)
	require.ErrorIs(t, err, credentials.ErrAuditFailed)
	assert.Empty(t, got.Password, "no secret leaves without its audit record")
	assert.Empty(t, got.PrivateKey)
	assert.ErrorIs(t, v.PutCredential(context.Background(), k, credentials.Credential{Password: "p"}), credentials.ErrAuditFailed)
	err = v.DeleteCredential(context.Background(), k)
	assert.ErrorIs(t, err, credentials.ErrAuditFailed)
	assert.Contains(t, err.Error(), "audit log is full", "the auditor's cause is kept for the operator")
	assert.Equal(t, 3, fa.calls, "one attempt per operation")
}

func TestAuditedRecordsCancelledOperations(t *testing.T) {
	aud := &credentials.MemoryAuditor{}
	ctxAuditor := auditorFunc(func(ctx context.Context, r credentials.AuditRecord) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return aud.Audit(ctx, r)
	})
	v := credentials.Audited(newMapVault(), ctxAuditor, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = v.GetCredential(ctx, credentials.Key{Tenant: "dev", SystemID: "s", User: "u"})
	assert.Len(t, aud.Records(), 1, "a cancelled request is still audited")
}

type auditorFunc func(ctx context.Context, r credentials.AuditRecord) error

func (f auditorFunc) Audit(ctx context.Context, r credentials.AuditRecord) error { return f(ctx, r) }

func TestMemoryAuditorMax(t *testing.T) {
	a := &credentials.MemoryAuditor{Max: 3}
	for i := range 10 {
		require.NoError(t, a.Audit(context.Background(), credentials.AuditRecord{OboUser: fmt.Sprint(i)}))
	}
	recs := a.Records()
	require.Len(t, recs, 3)
	assert.Equal(t, []string{"7", "8", "9"}, []string{recs[0].OboUser, recs[1].OboUser, recs[2].OboUser})
	recs[0].OboUser = "changed"
	assert.Equal(t, "7", a.Records()[0].OboUser, "Records returns a copy")
}
