package memory_test

import (
	"testing"

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
