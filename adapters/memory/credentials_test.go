package memory_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/credentials/credentialstest"
	"github.com/tapis-go/tapis/hostcheck"
)

func TestCredentialVault(t *testing.T) {
	credentialstest.RunVaultTests(t, func(*testing.T) credentials.Vault { return memory.New() })
}

func TestAuditedCredentialVault(t *testing.T) {
	credentialstest.RunVaultTests(t, func(*testing.T) credentials.Vault {
		return credentials.Audited(memory.New(), &credentials.MemoryAuditor{}, nil)
	})
}

func TestHostKeys(t *testing.T) {
	credentialstest.RunHostKeyTests(t, func(*testing.T) hostcheck.HostKeys { return memory.New() })
}

func TestAuditor(t *testing.T) {
	credentialstest.RunAuditTests(t, func(*testing.T) (credentials.Auditor, credentialstest.ReadAudit) {
		st := memory.New()
		return st, func(t *testing.T, tenant string) []credentials.AuditRecord {
			recs, err := st.CredentialAudit(context.Background(), tenant, 1000)
			require.NoError(t, err)
			for i := range recs {
				recs[i].Time = credentialstest.StoredTime(recs[i].Time)
			}
			return recs
		}
	})
}
