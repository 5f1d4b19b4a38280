// Package deploy checks the Kubernetes manifests beside it: each parses,
// strictly, into the Kubernetes API types, and they agree with each other and
// with the server (probe paths, ports, the Secrets' names and keys). It is a
// module of its own so that the library does not depend on the Kubernetes
// API packages; scripts/test runs it.
package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// objects decodes every document of every manifest, refusing unknown or
// duplicate fields.
func objects(t *testing.T) []runtime.Object {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{appsv1.AddToScheme, corev1.AddToScheme, policyv1.AddToScheme} {
		require.NoError(t, add(scheme))
	}
	decode := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	files, err := filepath.Glob(filepath.Join("kubernetes", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var out []runtime.Object
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
		for {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, f)
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			obj, _, err := decode.Decode(doc, nil, nil)
			require.NoError(t, err, "%s does not decode strictly into the Kubernetes API types", f)
			out = append(out, obj)
		}
	}
	return out
}

func TestManifests(t *testing.T) {
	var (
		dep     *appsv1.Deployment
		svc     *corev1.Service
		pdb     *policyv1.PodDisruptionBudget
		secrets = map[string]*corev1.Secret{}
	)
	for _, o := range objects(t) {
		switch v := o.(type) {
		case *appsv1.Deployment:
			dep = v
		case *corev1.Service:
			svc = v
		case *policyv1.PodDisruptionBudget:
			pdb = v
		case *corev1.Secret:
			secrets[v.Name] = v
		default:
			t.Errorf("unexpected object %T", o)
		}
	}
	require.NotNil(t, dep, "a Deployment")
	require.NotNil(t, svc, "a Service")
	require.NotNil(t, pdb, "a PodDisruptionBudget")

	require.NotNil(t, dep.Spec.Replicas)
	assert.Equal(t, int32(3), *dep.Spec.Replicas, "three instances")
	labels := dep.Spec.Template.Labels
	for k, v := range dep.Spec.Selector.MatchLabels {
		assert.Equal(t, v, labels[k], "the selector matches the pods")
	}
	require.Len(t, dep.Spec.Template.Spec.Containers, 1)
	c := dep.Spec.Template.Spec.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	require.NotNil(t, c.ReadinessProbe)
	require.NotNil(t, c.LivenessProbe)
	assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path, "readiness fails while the database or the KEK guard fails")
	assert.Equal(t, "/livez", c.LivenessProbe.HTTPGet.Path)
	assert.Contains(t, ports, c.ReadinessProbe.HTTPGet.Port.StrVal)
	assert.Contains(t, c.Args, "-metrics-addr")
	ann := dep.Spec.Template.Annotations
	assert.Equal(t, "true", ann["prometheus.io/scrape"])
	assert.Equal(t, "/metrics", ann["prometheus.io/path"])
	assert.Equal(t, strconv.Itoa(int(ports["metrics"])), ann["prometheus.io/port"], "the annotation names the metrics port")

	// The DSN and the KEK come from Secrets, never from the manifest.
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	for name, secret := range map[string]string{"TAPIS_DB": "tapis-db", "TAPIS_KEK": "tapis-kek"} {
		e, ok := env[name]
		require.True(t, ok, "%s is set", name)
		require.NotNil(t, e.ValueFrom, "%s comes from a Secret", name)
		require.NotNil(t, e.ValueFrom.SecretKeyRef, "%s comes from a Secret", name)
		ref := e.ValueFrom.SecretKeyRef
		assert.Equal(t, secret, ref.Name)
		s, ok := secrets[ref.Name]
		require.True(t, ok, "secrets.example.yaml shows Secret %s", ref.Name)
		assert.Contains(t, s.StringData, ref.Key, "Secret %s has key %s", ref.Name, ref.Key)
	}

	// Hardened pod: non-root, no privilege escalation, read-only root.
	psc := dep.Spec.Template.Spec.SecurityContext
	require.NotNil(t, psc)
	require.NotNil(t, psc.RunAsNonRoot)
	assert.True(t, *psc.RunAsNonRoot)
	require.NotNil(t, c.SecurityContext)
	require.NotNil(t, c.SecurityContext.ReadOnlyRootFilesystem)
	assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)
	require.NotNil(t, c.SecurityContext.AllowPrivilegeEscalation)
	assert.False(t, *c.SecurityContext.AllowPrivilegeEscalation)

	// The Service and the budget select these pods.
	for k, v := range svc.Spec.Selector {
		assert.Equal(t, v, labels[k], "the Service selects the pods")
	}
	for _, p := range svc.Spec.Ports {
		assert.Contains(t, ports, p.TargetPort.StrVal, "the Service targets a named container port")
	}
	for k, v := range pdb.Spec.Selector.MatchLabels {
		assert.Equal(t, v, labels[k], "the budget selects the pods")
	}
	require.NotNil(t, pdb.Spec.MinAvailable)
	assert.Equal(t, 2, pdb.Spec.MinAvailable.IntValue(), "a drain keeps two of three serving")
}
