package bunstore_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/bunstore"
	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/credentials/credentialstest"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/tenancy"
)

func newSealer(t *testing.T, keys ...[]byte) *seal.Sealer {
	t.Helper()
	if len(keys) == 0 {
		keys = [][]byte{seal.NewKey()}
	}
	s, err := seal.New(keys[0], keys[1:]...)
	require.NoError(t, err)
	return s
}

func runCredentialConformance(t *testing.T, open backend) {
	t.Run("vault", func(t *testing.T) {
		credentialstest.RunVaultTests(t, func(t *testing.T) credentials.Vault { return open(t).Vault(newSealer(t)) })
	})
	t.Run("audited vault", func(t *testing.T) {
		credentialstest.RunVaultTests(t, func(t *testing.T) credentials.Vault {
			st := open(t)
			return credentials.Audited(st.Vault(newSealer(t)), st, nil)
		})
	})
	t.Run("host keys", func(t *testing.T) {
		credentialstest.RunHostKeyTests(t, func(t *testing.T) hostcheck.HostKeys { return open(t) })
	})
	t.Run("audit", func(t *testing.T) {
		credentialstest.RunAuditTests(t, func(t *testing.T) (credentials.Auditor, credentialstest.ReadAudit) {
			st := open(t)
			return st, func(t *testing.T, tenant string) []credentials.AuditRecord {
				recs, err := st.CredentialAudit(context.Background(), tenant, 1000)
				require.NoError(t, err)
				return recs
			}
		})
	})
	t.Run("MovedCiphertextDoesNotOpen", func(t *testing.T) { testMovedCiphertext(t, open(t)) })
	t.Run("KEKRotation", func(t *testing.T) { testKEKRotation(t, open(t)) })
	t.Run("AuditOnePerOperation", func(t *testing.T) { testAuditOnePerOperation(t, open(t)) })
}

func TestCredentialsSQLiteFile(t *testing.T)   { runCredentialConformance(t, sqliteFile) }
func TestCredentialsSQLiteMemory(t *testing.T) { runCredentialConformance(t, sqliteMemory) }
func TestCredentialsPostgres(t *testing.T)     { runCredentialConformance(t, postgres(t)) }

// sealedOf reads the raw sealed column of one credential.
func sealedOf(t *testing.T, st *bunstore.Store, k credentials.Key) []byte {
	t.Helper()
	var sealed []byte
	require.NoError(t, st.DB().NewSelect().Table("credentials").Column("sealed").
		Where("tenant_id = ?", k.Tenant).Where("system_id = ?", k.SystemID).Where("user_name = ?", k.User).
		Scan(context.Background(), &sealed))
	return sealed
}

// testMovedCiphertext copies a sealed value into other rows (another user,
// system and tenant): every copy fails to open with seal.ErrOpen, and no
// error shows the secret.
func testMovedCiphertext(t *testing.T, st *bunstore.Store) {
	ctx := context.Background()
	v := st.Vault(newSealer(t))
	alice := credentials.Key{Tenant: "dev", SystemID: "sys1", User: "alice"}
	secret := credentialstest.Full("alice")
	require.NoError(t, v.PutCredential(ctx, alice, secret))
	stolen := sealedOf(t, st, alice)
	targets := []credentials.Key{
		{Tenant: "dev", SystemID: "sys1", User: "bob"},
		{Tenant: "dev", SystemID: "sys2", User: "alice"},
		{Tenant: "other", SystemID: "sys1", User: "alice"},
		{Tenant: "dev|sys1", SystemID: "alice", User: ""},
	}
	for i, k := range targets {
		if i == 0 {
			// An existing row whose sealed value is overwritten.
			require.NoError(t, v.PutCredential(ctx, k, credentialstest.Full("bob")))
			_, err := st.DB().NewUpdate().Table("credentials").Set("sealed = ?", stolen).
				Where("tenant_id = ?", k.Tenant).Where("system_id = ?", k.SystemID).Where("user_name = ?", k.User).
				Exec(ctx)
			require.NoError(t, err)
		} else {
			_, err := st.DB().NewInsert().Table("credentials").Model(&map[string]any{
				"tenant_id": k.Tenant, "system_id": k.SystemID, "user_name": k.User,
				"sealed": stolen, "kek_id": "x"}).Exec(ctx)
			require.NoError(t, err)
		}
		got, err := v.GetCredential(ctx, k)
		require.Error(t, err, "%q", k)
		assert.ErrorIs(t, err, seal.ErrOpen, "%q", k)
		assert.NotErrorIs(t, err, credentials.ErrNotFound)
		assert.Empty(t, got.Password, "no secret comes back")
		for _, s := range credentialstest.Secrets(secret) {
			assert.NotContains(t, err.Error(), s)
		}
	}
	got, err := v.GetCredential(ctx, alice)
	require.NoError(t, err, "the original still opens")
	assert.Equal(t, secret.Password, got.Password)

	// Another server's KEK does not open it either.
	_, err = st.Vault(newSealer(t)).GetCredential(ctx, alice)
	assert.ErrorIs(t, err, seal.ErrOpen)
}

// testKEKRotation seals records under an old KEK, re-wraps them under a new
// one, drops the old KEK, and reads every record back.
func testKEKRotation(t *testing.T, st *bunstore.Store) {
	ctx := context.Background()
	oldKEK, newKEK := seal.NewKey(), seal.NewKey()
	before := newSealer(t, oldKEK)
	const count = 205 // more than one batch
	keyOf := func(i int) credentials.Key {
		return credentials.Key{Tenant: fmt.Sprint("t", i%3), SystemID: fmt.Sprint("sys", i%7), User: fmt.Sprint("u", i)}
	}
	for i := range count {
		require.NoError(t, st.Vault(before).PutCredential(ctx, keyOf(i), credentialstest.Full(fmt.Sprint(i))))
	}
	rotating := newSealer(t, newKEK, oldKEK)
	fresh := credentials.Key{Tenant: "t0", SystemID: "new", User: "u"}
	require.NoError(t, st.Vault(rotating).PutCredential(ctx, fresh, credentialstest.Full("fresh")))

	onlyNew := newSealer(t, newKEK)
	_, err := st.Vault(onlyNew).GetCredential(ctx, keyOf(0))
	require.ErrorIs(t, err, seal.ErrOpen, "before the rewrap the old KEK is needed")
	got, err := st.Vault(rotating).GetCredential(ctx, keyOf(0))
	require.NoError(t, err, "the rotating sealer opens old records")
	assert.Equal(t, credentialstest.Full("0").Password, got.Password)

	// A sealer that knows neither KEK re-wraps nothing and says so.
	n, err := st.RewrapCredentials(ctx, newSealer(t))
	assert.ErrorIs(t, err, seal.ErrOpen)
	assert.Equal(t, 0, n)

	n, err = st.RewrapCredentials(ctx, rotating)
	require.NoError(t, err)
	assert.Equal(t, count, n, "every old record, not the fresh one")
	n, err = st.RewrapCredentials(ctx, rotating)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "a second run is a no-op")

	v := st.Vault(onlyNew)
	for i := range count {
		got, err := v.GetCredential(ctx, keyOf(i))
		require.NoError(t, err, "record %d opens without the old KEK", i)
		assert.Equal(t, credentialstest.Full(fmt.Sprint(i)).PrivateKey, got.PrivateKey)
		assert.Equal(t, credentialstest.StoredTime(credentialstest.When), got.Updated)
	}
	got, err = v.GetCredential(ctx, fresh)
	require.NoError(t, err)
	assert.Equal(t, credentialstest.Full("fresh").AccessSecret, got.AccessSecret)
	var kekIDs []string
	require.NoError(t, st.DB().NewSelect().Table("credentials").ColumnExpr("DISTINCT kek_id").Scan(ctx, &kekIDs))
	assert.Equal(t, []string{onlyNew.CurrentKeyID()}, kekIDs)
}

// testAuditOnePerOperation runs operations through Audited with the store
// as the auditor: one row per operation, no secret in any.
func testAuditOnePerOperation(t *testing.T, st *bunstore.Store) {
	ctx := tenancy.WithPrincipal(context.Background(), tenancy.Principal{TenantID: "dev", Username: "alice",
		AccountType: tenancy.AccountService, TokenTenantID: "admin", TokenUsername: "jobs", OnBehalfOf: true})
	v := credentials.Audited(st.Vault(newSealer(t)), st, nil)
	k := credentials.Key{Tenant: "dev", SystemID: "sys1", User: "alice"}
	secret := credentialstest.Full("audit")
	require.NoError(t, v.PutCredential(ctx, k, secret))
	_, err := v.GetCredential(ctx, k)
	require.NoError(t, err)
	require.NoError(t, v.DeleteCredential(ctx, k))
	_, err = v.GetCredential(ctx, k)
	require.ErrorIs(t, err, credentials.ErrNotFound)
	recs, err := st.CredentialAudit(ctx, "dev", 0)
	require.NoError(t, err)
	require.Len(t, recs, 4)
	for i, want := range [][2]string{{"put", "ok"}, {"get", "ok"}, {"delete", "ok"}, {"get", "not_found"}} {
		assert.Equal(t, want[0], recs[i].Action)
		assert.Equal(t, want[1], recs[i].Result)
		assert.Equal(t, "jobs", recs[i].JWTUser)
		assert.Equal(t, "admin", recs[i].JWTTenant)
		assert.Equal(t, "alice", recs[i].OboUser)
		assert.Equal(t, "sys1", recs[i].SystemID)
		assert.Equal(t, "alice", recs[i].TargetUser)
		assert.False(t, recs[i].Time.IsZero())
		for _, s := range credentialstest.Secrets(secret) {
			assert.NotContains(t, fmt.Sprintf("%+v", recs[i]), s)
		}
	}
	last, err := st.CredentialAudit(ctx, "dev", 2)
	require.NoError(t, err)
	assert.Equal(t, recs[2:], last, "the newest records, oldest first")
	n, err := st.PurgeCredentialAudit(ctx, recs[3].Time.Add(time.Millisecond))
	require.NoError(t, err)
	assert.Equal(t, 4, n)
}

// TestSQLiteFileHoldsNoSecret writes, replaces, reads and deletes
// credentials (audited) in an SQLite file, then scans the raw bytes of the
// database and its WAL: no secret, and no plaintext field name of the sealed
// JSON, appears.
func TestSQLiteFileHoldsNoSecret(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openMigrated(t, "sqlite:"+filepath.Join(dir, "tapis.db"))
	v := credentials.Audited(st.Vault(newSealer(t)), st, nil)
	var secrets []string
	for i := range 20 {
		k := credentials.Key{Tenant: "scan-tenant", SystemID: fmt.Sprint("scan-system-", i%4), User: fmt.Sprint("scan-user-", i)}
		c := credentialstest.Full(fmt.Sprint("scan", i))
		secrets = append(secrets, credentialstest.Secrets(c)...)
		require.NoError(t, v.PutCredential(ctx, k, c))
		if i%3 == 0 {
			c2 := credentialstest.Full(fmt.Sprint("scan-replaced", i))
			secrets = append(secrets, credentialstest.Secrets(c2)...)
			require.NoError(t, v.PutCredential(ctx, k, c2))
		}
		_, err := v.GetCredential(ctx, k)
		require.NoError(t, err)
		if i%5 == 0 {
			require.NoError(t, v.DeleteCredential(ctx, k))
		}
	}
	require.NoError(t, st.PinHostKey(ctx, "scan-tenant", "scan-system-0", "ssh-ed25519 AAAAscan"))

	files, err := os.ReadDir(dir)
	require.NoError(t, err)
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name()))
		require.NoError(t, err)
		all = append(all, b...)
	}
	require.True(t, bytes.Contains(all, []byte("scan-user-7")), "the scan reads the stored rows")
	require.True(t, bytes.Contains(all, []byte("ssh-ed25519 AAAAscan")), "host keys are public, stored as they are")
	for _, s := range secrets {
		assert.False(t, bytes.Contains(all, []byte(s)), "secret %.12q... found in the database files", s)
		// Any 16-byte window of a secret would betray a partial plaintext.
		if len(s) > 16 {
			assert.False(t, bytes.Contains(all, []byte(s[len(s)-16:])), "secret tail found in the database files")
		}
	}
	for _, field := range []string{`"password"`, `"privateKey"`, `"accessSecret"`, `"refreshToken"`, "BEGIN OPENSSH"} {
		assert.False(t, bytes.Contains(all, []byte(field)), "%s in the clear", field)
	}
}
