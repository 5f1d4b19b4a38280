package tapis_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/tapis-go/tapis"

// allowedDeps lists, per package, the project packages it may depend on
// (transitively). Packages not listed here fall under the prefix rules in
// TestImportRules.
var allowedDeps = map[string][]string{
	"search":      {},
	"tenancy":     {},
	"seal":        {},
	"credentials": {"tenancy", "seal"},
	"hostcheck":   {"credentials", "tenancy", "seal"},
	"systems":     {"search", "tenancy", "credentials", "hostcheck", "seal"},
	"oauth2":      {"tenancy", "seal"},
	"identity":    {"oauth2", "tenancy", "seal"},
}

var domain = []string{"search", "tenancy", "seal", "credentials", "hostcheck", "systems", "oauth2", "identity"}

// TestImportRules enforces the import rules of DESIGN.md over `go list -deps`.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "./...").Output()
	require.NoError(t, err)
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		var deps []string
		for _, d := range fields[1:] {
			if d == module || strings.HasPrefix(d, module+"/") {
				deps = append(deps, strings.TrimPrefix(strings.TrimPrefix(d, module), "/"))
			}
		}
		checked++
		top := strings.SplitN(pkg, "/", 2)[0]
		switch {
		case allowedDeps[pkg] != nil:
			for _, d := range deps {
				assert.Contains(t, allowedDeps[pkg], d, "%s must not depend on %s", pkg, d)
			}
		case top == "adapters":
			for _, d := range deps {
				dtop := strings.SplitN(d, "/", 2)[0]
				assert.Contains(t, domain, dtop, "adapter %s may import domain packages only, not %s", pkg, d)
			}
		case pkg == "httpapi":
			for _, d := range deps {
				assert.False(t, strings.HasPrefix(d, "adapters"), "httpapi must not depend on %s", d)
				assert.NotEqual(t, "", d, "httpapi must not import the root package")
			}
		}
		if pkg == "" || pkg == "httpapi" || contains(domain, top) {
			for _, d := range deps {
				assert.False(t, strings.HasPrefix(d, "adapters/") || strings.HasPrefix(d, "examples/"),
					"%q must not depend on %s: only examples and tests choose adapters", pkg, d)
			}
		}
	}
	assert.Greater(t, checked, 5)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
