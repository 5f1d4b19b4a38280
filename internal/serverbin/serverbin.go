// Package serverbin builds examples/server the way deploy/Containerfile
// does, so the binary the process tests run is the one the image ships.
package serverbin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// BuildArgs are the go command's arguments after "go", with the output
// path last but one: CGO off (a static binary), paths trimmed, symbols
// stripped. deploy/Containerfile runs exactly
// "CGO_ENABLED=0 go " + strings.Join(BuildArgs("/out/tapis-server"), " ").
func BuildArgs(out string) []string {
	return []string{"build", "-trimpath", "-ldflags=-s", "-o", out, "./examples/server"}
}

// Env is the environment the build adds.
const Env = "CGO_ENABLED=0"

// Build compiles the server into out from the module at root.
func Build(ctx context.Context, root, out string) error {
	cmd := exec.CommandContext(ctx, "go", BuildArgs(out)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), Env)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("serverbin: %s go %s: %w: %s", Env, strings.Join(BuildArgs(out), " "), err, b)
	}
	return nil
}

// ModuleRoot is the directory of the main module's go.mod.
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("serverbin: go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("serverbin: not inside the module")
	}
	return filepath.Dir(mod), nil
}
