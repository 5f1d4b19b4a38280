package httpapi_test

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/tapis-go/tapis/adapters/globusauth/globusauthtest"
	"github.com/tapis-go/tapis/internal/testenv"
)

// suiteSecrets are secret values the tests of this package send; none may
// reach the logs of the whole suite, written at debug level.
var suiteSecrets = []string{
	testenv.ServicePassword, "wrong-secret-value", "hunter2-credential-secret", "pw2-secret-value",
	"pw-not-echoed", "owner-set", "owner-new", "not-the-password", globusauthtest.SecretPrefix,
}

// TestMain runs the package's tests with every library log (the default
// logger of the test instances) captured at debug level, then fails the run
// if any test secret was logged (reference R7). That debug logs are really
// written is asserted by TestNoSecretReachesLogsBodiesOrDisk.
func TestMain(m *testing.M) {
	logs := &lockedBuffer{}
	slog.SetDefault(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	code := m.Run()
	text := logs.String()
	for _, s := range suiteSecrets {
		if strings.Contains(text, s) {
			fmt.Fprintf(os.Stderr, "FAIL: the test secret %q appears in the logs of the suite\n", s)
			code = 1
		}
	}
	os.Exit(code)
}
