package serverbin_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/serverbin"
)

// The image ships what the tests run: deploy/Containerfile builds with the
// same command as Build.
func TestContainerfileBuildsLikeTheTests(t *testing.T) {
	root, err := serverbin.ModuleRoot(context.Background())
	require.NoError(t, err)
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "Containerfile"))
	require.NoError(t, err)
	want := "RUN " + serverbin.Env + " go " + strings.Join(serverbin.BuildArgs("/out/tapis-server"), " ")
	var runs []string
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.Contains(line, "go build") {
			runs = append(runs, strings.TrimSpace(line))
		}
	}
	assert.Equal(t, []string{want}, runs, "the Containerfile's one build line")
	assert.Contains(t, string(raw), "COPY --from=build /out/tapis-server /tapis-server")
	assert.Regexp(t, `(?m)^FROM gcr\.io/distroless/static[^\s]*:nonroot$`, string(raw), "no shell, non-root base")
	assert.Regexp(t, `(?m)^USER 65532`, string(raw))
}

func TestBuildMakesAStaticBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server: skipped with -short")
	}
	ctx := context.Background()
	root, err := serverbin.ModuleRoot(ctx)
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "tapis-server")
	require.NoError(t, serverbin.Build(ctx, root, out))
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Greater(t, len(raw), 4)
	assert.Equal(t, "\x7fELF", string(raw[:4]))
	assert.NotContains(t, string(raw), "/lib64/ld-linux", "no dynamic loader: a static binary for a distroless base")
}
