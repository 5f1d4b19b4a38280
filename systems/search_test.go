package systems_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/search"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/systems/systemstest"
)

// productionAllowlist is what GET /v3/systems?search=, GET
// /v3/systems/search and POST /v3/systems/search may name, with its column
// and type: reference/systems.md §7.4 without tenant and seq_id (a tenant
// condition is never the client's to make; seq_id is not an attribute of
// the wire format), plus uuid, which the original refused in searches but
// sorted by (it is public and harmless; see the README's compatibility
// notes). Written out here, not derived from systems.SearchSchema, so that
// adding, dropping or re-pointing an attribute fails this test.
var productionAllowlist = []struct {
	name, column string
	typ          search.Type
}{
	{"id", "id", search.String},
	{"description", "description", search.String},
	{"systemType", "system_type", search.Enum},
	{"owner", "owner", search.String},
	{"host", "host", search.String},
	{"enabled", "enabled", search.Bool},
	{"effectiveUserId", "effective_user_id", search.String},
	{"defaultAuthnMethod", "default_authn_method", search.Enum},
	{"bucketName", "bucket_name", search.String},
	{"rootDir", "root_dir", search.String},
	{"port", "port", search.Int},
	{"useProxy", "use_proxy", search.Bool},
	{"proxyHost", "proxy_host", search.String},
	{"proxyPort", "proxy_port", search.Int},
	{"dtnSystemId", "dtn_system_id", search.String},
	{"canExec", "can_exec", search.Bool},
	{"canRunBatch", "can_run_batch", search.Bool},
	{"enableCmdPrefix", "enable_cmd_prefix", search.Bool},
	{"mpiCmd", "mpi_cmd", search.String},
	{"jobWorkingDir", "job_working_dir", search.String},
	{"jobMaxJobs", "job_max_jobs", search.Int},
	{"jobMaxJobsPerUser", "job_max_jobs_per_user", search.Int},
	{"batchScheduler", "batch_scheduler", search.Enum},
	{"batchDefaultLogicalQueue", "batch_default_logical_queue", search.String},
	{"batchSchedulerProfile", "batch_scheduler_profile", search.String},
	{"tags", "tags", search.Tags},
	{"importRefId", "import_ref_id", search.String},
	{"uuid", "uuid", search.String},
	{"allowChildren", "allow_children", search.Bool},
	{"parentId", "parent_id", search.String},
	{"deleted", "deleted", search.Bool},
	{"created", "created", search.Timestamp},
	{"updated", "updated", search.Timestamp},
}

// unlisted are names a search must refuse: the tenant (isolation is the
// store's, never a filter's), secrets and credentials, the JSON columns,
// computed attributes and internal columns.
var unlisted = []string{
	"tenant", "TENANT", "tenantId", "tenant_id", "seqId", "seq_id",
	"authnCredential", "authn_credential", "password", "privateKey", "publicKey", "accessKey", "accessSecret",
	"accessToken", "refreshToken", "loginUser", "credential", "secret",
	"notes", "jobRuntimes", "job_runtimes", "jobEnvVariables", "batchLogicalQueues", "jobCapabilities",
	"isPublic", "sharedWithUsers", "isDynamicEffectiveUser", "name", "systemtype", "foo",
}

func TestSearchSchemaIsTheAllowlist(t *testing.T) {
	attrs := systems.SearchSchema.Attrs()
	var got, want []string
	for _, a := range attrs {
		got = append(got, a.Name+" "+a.Column+" "+a.Type.String())
	}
	for _, a := range productionAllowlist {
		want = append(want, a.name+" "+a.column+" "+a.typ.String())
	}
	assert.Equal(t, want, got, "systems.SearchSchema changed: every searchable attribute is a decision (reference/systems.md §7.4)")
}

// valueFor is a valid value of a's type in the query syntaxes, and the
// operator to use it with.
func valueFor(a *search.Attr) (op, value string) {
	switch a.Type {
	case search.Enum:
		return "eq", a.Enum[0]
	case search.Int:
		return "eq", "7"
	case search.Bool:
		return "eq", "true"
	case search.Timestamp:
		return "lt", "2024-01-01T00:00:00Z"
	case search.Tags:
		return "contains", "gpu"
	}
	return "eq", "x"
}

// sqlFor is a valid SQL-like condition on a.
func sqlFor(name string, a *search.Attr) string {
	switch a.Type {
	case search.Int:
		return name + " = 7"
	case search.Bool:
		return name + " = TRUE"
	case search.Tags:
		return name + " IN ('gpu')"
	}
	_, v := valueFor(a)
	return name + " = '" + v + "'"
}

// TestSearchAcceptsEveryListedAttribute: each listed attribute works in the
// three syntaxes, by its camelCase and its snake_case name, and sorts
// (except the list-valued tags).
func TestSearchAcceptsEveryListedAttribute(t *testing.T) {
	lim := search.DefaultLimits()
	for _, want := range productionAllowlist {
		a, ok := systems.SearchSchema.Lookup(want.name)
		require.True(t, ok, want.name)
		op, value := valueFor(a)
		for _, name := range []string{want.name, want.column, strings.ToUpper(want.column)} {
			n, err := search.ParseQuery("("+name+"."+op+"."+value+")", systems.SearchSchema, lim)
			if assert.NoError(t, err, "search=(%s.%s.%s)", name, op, value) {
				c, isCond := n.(search.Cond)
				require.True(t, isCond, name)
				assert.Equal(t, want.name, c.Attr.Name)
			}
			_, err = search.ParseParams(url.Values{name + "." + op: {value}}, systems.SearchSchema, nil, lim)
			assert.NoError(t, err, "%s.%s=%s", name, op, value)
			_, err = search.ParseSQL([]string{sqlFor(name, a)}, systems.SearchSchema, lim)
			assert.NoError(t, err, sqlFor(name, a))
		}
		_, err := search.ParseOrderBy(want.name+"(desc)", systems.SearchSchema)
		if a.Type == search.Tags {
			assertSearchCode(t, "SYSLIB_DB_NO_COLUMN_SORT", err, "orderBy="+want.name)
		} else {
			assert.NoError(t, err, "orderBy=%s", want.name)
		}
		assert.NotNil(t, systems.Row(systemstest.System("dev", "s1")).Field(want.name), "Row.Field(%q): the memory store evaluates it", want.name)
	}
}

// TestRowAnswersEachAttributesValue: Row.Field gives, for each listed
// attribute, that attribute's value of the system, in the Go type the
// memory store compares (int64 for integers, plain strings for enums, UTC
// microseconds for times); written out here, so that a getter reading the
// wrong field or giving the wrong type fails.
func TestRowAnswersEachAttributesValue(t *testing.T) {
	s := systemstest.System("dev", "s1")
	s.Description, s.RootDir, s.Deleted, s.Enabled = "d", "/r", true, false
	s.Created = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600))
	want := map[string]any{
		"id": "s1", "description": "d", "systemType": "LINUX", "owner": "testuser1", "host": "login.s1.test",
		"enabled": false, "effectiveUserId": "${apiUserId}", "defaultAuthnMethod": "PKI_KEYS", "bucketName": "bucket-s1",
		"rootDir": "/r", "port": int64(2222), "useProxy": true, "proxyHost": "proxy.test", "proxyPort": int64(3128),
		"dtnSystemId": "dtn-s1", "canExec": true, "canRunBatch": true, "enableCmdPrefix": true, "mpiCmd": "mpirun",
		"jobWorkingDir": "HOST_EVAL($SCRATCH)/jobs", "jobMaxJobs": int64(10), "jobMaxJobsPerUser": int64(2),
		"batchScheduler": "SLURM", "batchDefaultLogicalQueue": "normal", "batchSchedulerProfile": "tacc",
		"tags": []string{"hpc", "test tag"}, "importRefId": "ref-s1", "uuid": "8f14e45f-ceea-467f-a0e3-5c3b6e9a2d4b",
		"allowChildren": true, "parentId": "parent-s1", "deleted": true,
		"created": time.Date(2024, 5, 6, 6, 8, 9, 123456000, time.UTC),
		"updated": systemstest.When.Add(90 * time.Minute).UTC(),
	}
	row := systems.Row(s)
	require.Len(t, want, len(productionAllowlist))
	for _, a := range productionAllowlist {
		assert.Equal(t, want[a.name], row.Field(a.name), a.name)
	}
}

// TestSearchRefusesUnlistedAttributes: every syntax, and orderBy, refuses
// an attribute that is not listed, naming it; Row has no value for it.
func TestSearchRefusesUnlistedAttributes(t *testing.T) {
	lim := search.DefaultLimits()
	row := systems.Row(systemstest.System("dev", "s1"))
	for _, name := range unlisted {
		_, err := search.ParseQuery("("+name+".eq.dev)", systems.SearchSchema, lim)
		assertSearchCode(t, "SYSLIB_DB_NO_COLUMN", err, "search=("+name+".eq.dev)")
		assert.ErrorContains(t, err, name)
		_, err = search.ParseParams(url.Values{name + ".eq": {"dev"}}, systems.SearchSchema, nil, lim)
		assertSearchCode(t, "SYSLIB_DB_NO_COLUMN", err, name+".eq=dev")
		_, err = search.ParseSQL([]string{"id = 'x' OR " + name + " = 'dev'"}, systems.SearchSchema, lim)
		assertSearchCode(t, "SYSLIB_DB_NO_COLUMN", err, name+" = 'dev'")
		_, err = search.ParseOrderBy(name, systems.SearchSchema)
		assertSearchCode(t, "SYSLIB_DB_NO_COLUMN_SORT", err, "orderBy="+name)
		_, listed := systems.SearchSchema.Lookup(name)
		assert.False(t, listed, name)
		assert.Nil(t, row.Field(name), "Row.Field(%q)", name)
	}
}

func assertSearchCode(t *testing.T, code string, err error, what string) {
	t.Helper()
	var se *search.Error
	if assert.True(t, errors.As(err, &se), "%s: want a *search.Error, got %v", what, err) {
		assert.Equal(t, code, se.Code, "%s: %s", what, se.Msg)
		assert.ErrorIs(t, err, search.ErrInvalid, what)
	}
}
