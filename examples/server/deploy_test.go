package main

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/tapis-go/tapis/httpapi"
)

// The fields of deploy/kubernetes/deployment.yaml this server must honour
// (deploy/deploy_test.go, in its own module, checks the rest against the
// Kubernetes API types).
type deployment struct {
	Spec struct {
		Template struct {
			Spec struct {
				Containers []struct {
					Args []string `yaml:"args"`
					Env  []struct {
						Name string `yaml:"name"`
					} `yaml:"env"`
					Ports []struct {
						Name          string `yaml:"name"`
						ContainerPort int    `yaml:"containerPort"`
					} `yaml:"ports"`
					StartupProbe   probe `yaml:"startupProbe"`
					LivenessProbe  probe `yaml:"livenessProbe"`
					ReadinessProbe probe `yaml:"readinessProbe"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

// knownEnv is every variable the server reads: TAPIS_ + each flag, and
// TAPIS_KEK.
func knownEnv(t *testing.T) map[string]bool {
	t.Helper()
	known := map[string]bool{"TAPIS_KEK": true}
	_, err := parseOptions(nil, func(name string) string { known[name] = true; return "" }, io.Discard)
	require.NoError(t, err)
	return known
}

func portOf(t *testing.T, hostport string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(hostport)
	require.NoError(t, err, hostport)
	n, err := strconv.Atoi(p)
	require.NoError(t, err, hostport)
	return n
}

// Every flag, variable, port and probe path the deployment and the
// Containerfile use exists in this server, as they use it.
func TestDeployFilesMatchTheServer(t *testing.T) {
	root := filepath.Join("..", "..", "deploy")
	raw, err := os.ReadFile(filepath.Join(root, "kubernetes", "deployment.yaml"))
	require.NoError(t, err)
	var d deployment
	require.NoError(t, yaml.Unmarshal(raw, &d))
	require.Len(t, d.Spec.Template.Spec.Containers, 1)
	c := d.Spec.Template.Spec.Containers[0]

	known := knownEnv(t)
	env := map[string]string{}
	for _, e := range c.Env {
		assert.True(t, known[e.Name], "deployment.yaml sets %s, which the server does not read", e.Name)
		env[e.Name] = "x"
	}
	delete(env, "TAPIS_DB") // values from Secrets: only their names matter here
	delete(env, "TAPIS_KEK")
	env["TAPIS_LOG_LEVEL"] = "info"
	o, err := parseOptions(c.Args, envOf(env), io.Discard)
	require.NoError(t, err, "the server accepts the deployment's args %q", c.Args)
	ports := map[string]int{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	assert.Equal(t, ports["http"], portOf(t, o.addr), "-addr is the http port")
	require.NotEmpty(t, o.metricsAddr, "metrics on")
	assert.Equal(t, ports["metrics"], portOf(t, o.metricsAddr), "-metrics-addr is the metrics port")

	for name, probe := range map[string]struct{ path, port string }{
		"startup":   {c.StartupProbe.HTTPGet.Path, c.StartupProbe.HTTPGet.Port},
		"liveness":  {c.LivenessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Port},
		"readiness": {c.ReadinessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Port},
	} {
		assert.Contains(t, []string{httpapi.LivezPath, httpapi.ReadyzPath}, probe.path, "%s probe: a path the server answers", name)
		assert.Equal(t, "http", probe.port, "%s probe: the probes are on the API listener", name)
	}
	assert.Equal(t, httpapi.ReadyzPath, c.ReadinessProbe.HTTPGet.Path)
	assert.Equal(t, httpapi.LivezPath, c.LivenessProbe.HTTPGet.Path)

	// The Containerfile's ENV and EXPOSE agree too.
	cf, err := os.ReadFile(filepath.Join(root, "Containerfile"))
	require.NoError(t, err)
	envLine := regexp.MustCompile(`(?m)^ENV (.*)$`).FindSubmatch(cf)
	require.NotNil(t, envLine, "the Containerfile sets the listen address")
	imageEnv := map[string]string{}
	for _, kv := range strings.Fields(string(envLine[1])) {
		k, v, ok := strings.Cut(kv, "=")
		require.True(t, ok, kv)
		assert.True(t, known[k], "the Containerfile sets %s, which the server does not read", k)
		imageEnv[k] = v
	}
	o, err = parseOptions(nil, envOf(imageEnv), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, ports["http"], portOf(t, o.addr), "the image listens on the http port")
	assert.Regexp(t, `(?m)^EXPOSE `+strconv.Itoa(ports["http"])+` `+strconv.Itoa(ports["metrics"])+`$`, string(cf))
}
