package search

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sysSchema is a schema for the parser tests of this package: the columns
// the original searches (reference §7.4, tenant and seq_id included) plus
// the name and default_access_method attributes its parser tests use. It is
// NOT the production allowlist, which refuses tenant and seq_id and accepts
// uuid: systems.SearchSchema is tested in systems/search_test.go (this
// package imports nothing of ours). Tests here check the mechanism: lookup
// and refusal of what a schema does not list.
var sysSchema = MustSchema(
	Attr{Name: "tenant", Type: String},
	Attr{Name: "id", Type: String},
	Attr{Name: "name", Type: String},
	Attr{Name: "description", Type: String},
	Attr{Name: "owner", Type: String},
	Attr{Name: "host", Type: String},
	Attr{Name: "effectiveUserId", Type: String},
	Attr{Name: "bucketName", Type: String},
	Attr{Name: "rootDir", Type: String},
	Attr{Name: "proxyHost", Type: String},
	Attr{Name: "dtnSystemId", Type: String},
	Attr{Name: "mpiCmd", Type: String},
	Attr{Name: "jobWorkingDir", Type: String},
	Attr{Name: "batchDefaultLogicalQueue", Type: String},
	Attr{Name: "batchSchedulerProfile", Type: String},
	Attr{Name: "importRefId", Type: String},
	Attr{Name: "parentId", Type: String},
	Attr{Name: "systemType", Type: Enum, Enum: []string{"LINUX", "S3", "IRODS", "GLOBUS"}},
	Attr{Name: "defaultAuthnMethod", Type: Enum, Enum: []string{"PASSWORD", "PKI_KEYS", "ACCESS_KEY", "TOKEN", "CERT"}},
	Attr{Name: "defaultAccessMethod", Type: Enum, Enum: []string{"PASSWORD", "PKI_KEYS", "ACCESS_KEY", "CERT"}},
	Attr{Name: "batchScheduler", Type: Enum, Enum: []string{"SLURM", "CONDOR", "PBS", "SGE", "UGE", "TORQUE"}},
	Attr{Name: "seqId", Type: Int},
	Attr{Name: "port", Type: Int},
	Attr{Name: "proxyPort", Type: Int},
	Attr{Name: "jobMaxJobs", Type: Int},
	Attr{Name: "jobMaxJobsPerUser", Type: Int},
	Attr{Name: "enabled", Type: Bool},
	Attr{Name: "useProxy", Type: Bool},
	Attr{Name: "canExec", Type: Bool},
	Attr{Name: "canRunBatch", Type: Bool},
	Attr{Name: "deleted", Type: Bool},
	Attr{Name: "enableCmdPrefix", Type: Bool},
	Attr{Name: "allowChildren", Type: Bool},
	Attr{Name: "created", Type: Timestamp},
	Attr{Name: "updated", Type: Timestamp},
	Attr{Name: "tags", Type: Tags},
)

func TestSnake(t *testing.T) {
	// reference §8.2
	for in, want := range map[string]string{
		"a": "a", "A": "a", "ThisColumn": "this_column", "thisColumn": "this_column",
		"ThisIsAColumn": "this_is_a_column", "systemType": "system_type",
		"effectiveUserId": "effective_user_id", "ID": "id", "HTTPServer": "http_server",
		"isPublic": "is_public",
	} {
		assert.Equal(t, want, snake(in), in)
	}
}

func TestLookup(t *testing.T) {
	for _, name := range []string{"systemType", "system_type", "SYSTEM_TYPE", "SystemType", "System_Type"} {
		a, ok := sysSchema.Lookup(name)
		if assert.True(t, ok, name) {
			assert.Equal(t, "system_type", a.Column)
			assert.Equal(t, "systemType", a.Name)
		}
	}
	for _, name := range []string{"ID", "id", "Id"} {
		a, ok := sysSchema.Lookup(name)
		require.True(t, ok, name)
		assert.Equal(t, "id", a.Name)
	}
	for _, name := range []string{"systemtype", "SYSTEMTYPE", "notes", "jobRuntimes", "notInTheSchema", "isPublic", "", "1a", "a-b", "tags.x"} {
		_, ok := sysSchema.Lookup(name)
		assert.False(t, ok, name)
	}
	var nilSchema *Schema
	_, ok := nilSchema.Lookup("id")
	assert.False(t, ok)
	assert.Len(t, sysSchema.Attrs(), 36)
}

func TestNewSchemaRefusesMistakes(t *testing.T) {
	for name, attrs := range map[string][]Attr{
		"bad name":      {{Name: "1x", Type: String}},
		"bad column":    {{Name: "x", Column: "x; DROP TABLE y", Type: String}},
		"no type":       {{Name: "x"}},
		"enum no names": {{Name: "x", Type: Enum}},
		"names no enum": {{Name: "x", Type: String, Enum: []string{"A"}}},
		"duplicate":     {{Name: "systemType", Type: String}, {Name: "system_type", Type: String}},
	} {
		_, err := NewSchema(attrs...)
		assert.Error(t, err, name)
	}
	s, err := NewSchema(Attr{Name: "x", Column: "t.x_col", Type: Int})
	require.NoError(t, err)
	a, _ := s.Lookup("x")
	assert.Equal(t, "t.x_col", a.Column)
	assert.Panics(t, func() { MustSchema(Attr{Name: "x"}) })
}

func TestErrorType(t *testing.T) {
	_, err := ParseQuery("foo.eq.1", sysSchema, Limits{})
	var se *Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "SYSLIB_DB_NO_COLUMN", se.Code)
	assert.True(t, errors.Is(err, ErrInvalid))
	assert.Equal(t, `SYSLIB_DB_NO_COLUMN attribute "foo" is not searchable`, err.Error())
	assert.Equal(t, "string", String.String())
	assert.Equal(t, "Type(0)", Type(0).String())
	assert.Equal(t, "Op(99)", Op(99).String())
	long := quote(string(make([]byte, 200)))
	assert.Less(t, len(long), 400)
}
