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
	"cluster":     {},
	"credentials": {"tenancy", "seal"},
	"hostcheck":   {"credentials", "tenancy", "seal"},
	"systems":     {"search", "tenancy", "credentials", "hostcheck", "seal"},
	"oauth2":      {"tenancy", "seal"},
	"identity":    {"oauth2", "tenancy", "seal"},
}

var domain = []string{"search", "tenancy", "seal", "cluster", "credentials", "hostcheck", "systems", "oauth2", "identity"}

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
		if pkg == "" || pkg == "httpapi" || pkg == "devseed" || contains(domain, top) {
			for _, d := range deps {
				assert.False(t, strings.HasPrefix(d, "adapters/") || strings.HasPrefix(d, "examples/"),
					"%q must not depend on %s: only examples and tests choose adapters", pkg, d)
			}
		}
	}
	assert.Greater(t, checked, 5)
}

// TestConformancePackagesImportOnlyTheirDomain: a domain package's *test
// package (tenancy/tenancytest, systems/systemstest, ...), which out-of-tree
// adapters import to run the conformance suites, imports its domain package
// and may depend on domain packages only (never an adapter, httpapi, the
// root or an internal package), and outside the module on the standard
// library and testify only.
func TestConformancePackagesImportOnlyTheirDomain(t *testing.T) {
	out, err := exec.Command("go", "list", "-f",
		`{{.ImportPath}}|{{join .Imports " "}}|{{join .Deps " "}}`, "./...").Output()
	require.NoError(t, err)
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		pkg := strings.TrimPrefix(strings.TrimPrefix(parts[0], module), "/")
		dom, sub, ok := strings.Cut(pkg, "/")
		if !ok || !contains(domain, dom) || !strings.HasSuffix(sub, "test") || strings.Contains(sub, "/") {
			continue
		}
		checked++
		imports := strings.Fields(parts[1])
		assert.Contains(t, imports, module+"/"+dom, "%s must import its domain package %s", pkg, dom)
		for _, imp := range imports {
			if strings.HasPrefix(imp, module+"/") || !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
				continue // ours (checked below) or the standard library
			}
			assert.True(t, strings.HasPrefix(imp, "github.com/stretchr/testify/"),
				"%s may import the standard library and testify only, not %s", pkg, imp)
		}
		for _, d := range strings.Fields(parts[2]) {
			if d != module && !strings.HasPrefix(d, module+"/") {
				continue
			}
			rel := strings.TrimPrefix(strings.TrimPrefix(d, module), "/")
			assert.True(t, contains(domain, rel), "%s may depend on domain packages only, not %q", pkg, rel)
		}
	}
	assert.GreaterOrEqual(t, checked, 5, "tenancytest, oauth2test, systemstest, credentialstest, hostchecktest")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
