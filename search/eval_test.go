package search

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustQuery(t *testing.T, q string) Node {
	t.Helper()
	n, err := ParseQuery(q, sysSchema, Limits{})
	require.NoError(t, err, q)
	return n
}

func mustSQL(t *testing.T, q string) Node {
	t.Helper()
	n, err := ParseSQL([]string{q}, sysSchema, Limits{})
	require.NoError(t, err, q)
	return n
}

type sysType string

func TestEvalValues(t *testing.T) {
	created := time.Date(2020, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600))
	port := int32(22)
	row := Fields{
		"id":          "Sys-1",
		"owner":       "jdoe",
		"systemType":  sysType("LINUX"), // a named string type
		"port":        &port,            // a pointer to another integer type
		"proxyPort":   uint16(8080),
		"enabled":     true,
		"created":     created,
		"tags":        []string{"a", "b c"},
		"description": "Hello World",
		"host":        (*string)(nil), // NULL
	}
	for q, want := range map[string]bool{
		"id.eq.Sys-1": true, "id.eq.sys-1": false, "id.neq.sys-1": true,
		"systemType.eq.LINUX": true, "systemType.in.S3,LINUX": true, "systemType.nin.S3,LINUX": false,
		"port.eq.22": true, "port.gt.21": true, "port.between.22,22": true, "port.nbetween.1,21": true,
		"port.in.1,22": true, "port.nin.1,22": false, "proxyPort.gte.8080": true, "proxyPort.lt.8080": false,
		"enabled.eq.TRUE": true, "enabled.neq.true": false,
		"created.eq.2020-05-06T06:08:09.123456Z": true, "created.lt.2020-05-06T06:08:09.123457Z": true,
		"created.gt.2020-05-06T06:08:09.123455Z": true, "created.between.2020,2021": true,
		"tags.contains.a": true, "tags.contains.b": false, "tags.in.x,b c": true, "tags.ncontains.x": true,
		"tags.nin.a": false,
		// case-sensitive LIKE and comparisons
		"description.like.Hello*": true, "description.like.hello*": false, "description.nlike.hello*": true,
		"description.like.*o!W*": true, "description.like.Hello": false, "description.gt.H": true,
		"description.gt.h": false,
		// NULL matches nothing, negations included
		"host.eq.x": false, "host.neq.x": false, "host.like.*": false, "host.nlike.x": false,
		"host.in.x": false, "host.nin.x": false, "host.between.a,z": false, "host.nbetween.a,b": false,
		"host.lt.zzz": false,
		// absent fields are NULL too; a field of the wrong type as well
		"bucketName.neq.x": false, "deleted.eq.false": false, "deleted.neq.true": false,
		"updated.neq.2020": false, "jobMaxJobs.neq.1": false,
	} {
		assert.Equal(t, want, Eval(mustQuery(t, q), row), q)
	}
	row["bucketName"] = 7 // wrong type
	assert.False(t, Eval(mustQuery(t, "bucketName.neq.x"), row))
	assert.True(t, Eval(nil, row), "no conditions")

	nullTags := Fields{"tags": nil}
	emptyTags := Fields{"tags": []string(nil)}
	assert.False(t, Eval(mustQuery(t, "tags.ncontains.x"), nullTags), "NULL tags: nothing holds")
	assert.True(t, Eval(mustQuery(t, "tags.ncontains.x"), emptyTags), "an empty list contains nothing")
	assert.False(t, Eval(mustQuery(t, "tags.contains.x"), emptyTags))
	assert.False(t, Eval(mustQuery(t, "port.neq.1"), Fields{"port": uint64(1) << 63}), "out of int64 range is NULL")
}

func TestEvalLogic(t *testing.T) {
	row := Fields{"owner": "jdoe", "port": int64(22), "enabled": true}
	for q, want := range map[string]bool{
		"owner = 'jdoe' AND port = 22":                                                   true,
		"owner = 'jdoe' AND port = 23":                                                   false,
		"owner = 'x' OR port = 22":                                                       true,
		"owner = 'x' OR port = 23":                                                       false,
		"owner = 'x' AND port = 22 OR enabled = true":                                    true,
		"owner = 'x' AND (port = 22 OR enabled = true)":                                  false,
		"(owner = 'x' OR host = 'h') OR (port BETWEEN '20' AND '30' AND enabled = true)": true,
		// NULL inside OR: unknown OR true is true, unknown OR false is false
		"host <> 'h' OR port = 22":  true,
		"host <> 'h' OR port = 23":  false,
		"host <> 'h' AND port = 22": false,
	} {
		assert.Equal(t, want, Eval(mustSQL(t, q), row), q)
	}
}

func TestPatternMatch(t *testing.T) {
	p := func(s string) Pattern { return sqlPattern(s) }
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"", "", true}, {"", "a", false}, {"%", "", true}, {"%", "anything", true},
		{"_", "", false}, {"_", "é", true}, {"__", "é", false}, {"a%b%c", "aXbYc", true},
		{"a%b%c", "aXbY", false}, {"%a%a%a%", "aaa", true}, {"%a%a%a%", "aa", false},
		{"a\\%", "a%", true}, {"a\\%", "ab", false}, {"%%", "x", true},
		{"%ab", "aab", true}, {"a_c", "abc", true}, {"a_c", "ac", false}, {"ABC", "abc", false},
		{"\\\\", "\\", true}, {"x\\", "x\\", true},
	} {
		assert.Equal(t, tc.want, p(tc.pat).Match(tc.s), "%q ~ %q", tc.pat, tc.s)
	}
	assert.Equal(t, Pattern{{Lit: "a"}, {Wild: '%'}, {Lit: "b"}}, sqlPattern("a%%%b"))
	assert.Equal(t, `a\%\_\\%`, sqlPattern(`a\%\_\\%`).String())
	assert.Equal(t, `a[*][?][[]]*?`, queryPattern(`a\*?[]*!`).glob())
}

func TestCompareRows(t *testing.T) {
	orders, err := ParseOrderBy("owner(desc),port,host", sysSchema)
	require.NoError(t, err)
	rows := []Fields{
		{"id": "1", "owner": "b", "port": int64(2), "host": "x"},
		{"id": "2", "owner": "a", "port": int64(1), "host": "x"},
		{"id": "3", "owner": "b", "port": nil, "host": "y"},
		{"id": "4", "owner": "b", "port": int64(2), "host": nil},
		{"id": "5", "owner": nil, "port": int64(0), "host": "x"},
		{"id": "6", "owner": "B", "port": int64(0), "host": "x"},
	}
	slices.SortStableFunc(rows, func(a, b Fields) int { return CompareRows(a, b, orders) })
	var ids []string
	for _, r := range rows {
		ids = append(ids, r["id"].(string))
	}
	// owner desc (NULL last, "B" < "a" < "b"), then port asc (NULL first), then host asc (NULL first)
	assert.Equal(t, []string{"3", "4", "1", "2", "6", "5"}, ids)

	tags := []Order{{Attr: mustAttr(t, "tags")}, {Attr: mustAttr(t, "enabled"), Desc: true}}
	assert.Equal(t, -1, CompareRows(Fields{"tags": []string{"a"}}, Fields{"tags": []string{"b"}}, tags))
	assert.Equal(t, -1, CompareRows(Fields{"enabled": true}, Fields{"enabled": false}, tags))
	assert.Equal(t, 0, CompareRows(Fields{}, Fields{}, tags))
}

func mustAttr(t *testing.T, name string) *Attr {
	a, ok := sysSchema.Lookup(name)
	require.True(t, ok, name)
	return a
}

func TestAndOrOf(t *testing.T) {
	a := mustQuery(t, "port.eq.1")
	b := mustQuery(t, "port.eq.2")
	c := mustQuery(t, "port.eq.3")
	assert.Nil(t, AndOf())
	assert.Nil(t, AndOf(nil, nil))
	assert.Equal(t, a, AndOf(nil, a))
	assert.Equal(t, "(port.EQ.1 AND port.EQ.2 AND port.EQ.3)", AndOf(AndOf(a, b), c).String())
	assert.Equal(t, "(port.EQ.1 AND (port.EQ.2 OR port.EQ.3))", AndOf(a, OrOf(b, c)).String())
	assert.Equal(t, "(port.EQ.1 OR port.EQ.2 OR port.EQ.3)", OrOf(a, OrOf(b, c)).String())
	assert.Equal(t, "(port.EQ.1 OR (port.EQ.2 AND port.EQ.3))", OrOf(a, AndOf(b, c)).String())
	assert.Nil(t, OrOf(a, nil), "OR with everything is everything")
	assert.Equal(t, 5, Count(OrOf(a, AndOf(b, c))))
	assert.Equal(t, 0, Count(nil))
}

func TestToSQLText(t *testing.T) {
	for _, tc := range []struct {
		q, sqlite, pg string
		args          []any
	}{
		{"owner = 'jdoe'", "owner = ?", "owner = ?", []any{"jdoe"}},
		{"host < 'h'", "host < ?", `host COLLATE "C" < ?`, []any{"h"}},
		{"port NOT BETWEEN '1' AND '2'", "port NOT BETWEEN ? AND ?", "port NOT BETWEEN ? AND ?", []any{int64(1), int64(2)}},
		{"system_type NOT IN ('S3','LINUX')", "system_type NOT IN (?, ?)", "system_type NOT IN (?, ?)", []any{"S3", "LINUX"}},
		{"id LIKE 'a%b\\_*'", "id GLOB ?", `id LIKE ? ESCAPE '\'`, nil},
		{"id NOT LIKE 'x'", "id NOT GLOB ?", `id NOT LIKE ? ESCAPE '\'`, []any{"x"}},
		{"tags IN ('a','b')", "EXISTS (SELECT 1 FROM json_each(tags) AS j WHERE j.value IN (?, ?))",
			"(CAST(tags AS jsonb) @> CAST(? AS jsonb) OR CAST(tags AS jsonb) @> CAST(? AS jsonb))", nil},
		{"tags NIN ('a')", "(tags IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each(tags) AS j WHERE j.value IN (?)))",
			"(tags IS NOT NULL AND NOT (CAST(tags AS jsonb) @> CAST(? AS jsonb)))", nil},
		{"owner = 'a' AND (port = 1 OR enabled = true)", "(owner = ? AND (port = ? OR enabled = ?))", "(owner = ? AND (port = ? OR enabled = ?))", []any{"a", int64(1), true}},
	} {
		n := mustSQL(t, tc.q)
		s, args := ToSQL(n, SQLite)
		assert.Equal(t, tc.sqlite, s, tc.q)
		p, pargs := ToSQL(n, Postgres)
		assert.Equal(t, tc.pg, p, tc.q)
		if tc.args != nil {
			assert.Equal(t, tc.args, args, tc.q)
			assert.Equal(t, tc.args, pargs, tc.q)
		}
	}
	// Tags: the values themselves on SQLite, one-element JSON arrays (for
	// jsonb containment, which a GIN index serves) on PostgreSQL.
	tags := mustSQL(t, "tags IN ('a','b \"c\"')")
	_, args := ToSQL(tags, SQLite)
	assert.Equal(t, []any{"a", `b "c"`}, args)
	_, args = ToSQL(tags, Postgres)
	assert.Equal(t, []any{`["a"]`, `["b \"c\""]`}, args)

	_, args = ToSQL(mustSQL(t, `id LIKE 'a%b\_*['`), SQLite)
	assert.Equal(t, []any{"a*b_[*][[]"}, args)
	_, args = ToSQL(mustSQL(t, `id LIKE 'a%b\_*['`), Postgres)
	assert.Equal(t, []any{`a%b\_*[`}, args)

	// Times travel as time.Time on both dialects: how a column stores them
	// is the store's to know (bunstore encodes them on SQLite).
	ts := mustSQL(t, "created > '2200-04-29T14:15:52.120-06:00'")
	_, args = ToSQL(ts, SQLite)
	assert.Equal(t, []any{time.Date(2200, 4, 29, 20, 15, 52, 120000000, time.UTC)}, args)
	_, args = ToSQL(ts, Postgres)
	assert.Equal(t, []any{time.Date(2200, 4, 29, 20, 15, 52, 120000000, time.UTC)}, args)

	s, _ := ToSQL(And{}, SQLite)
	assert.Equal(t, "1 = 1", s)
	s, _ = ToSQL(Or{}, Postgres)
	assert.Equal(t, "1 = 0", s)
	assert.True(t, Eval(And{}, Fields{}))
	assert.False(t, Eval(Or{}, Fields{}))

	s, args = ToSQL(nil, SQLite)
	assert.Equal(t, "1 = 1", s)
	assert.Nil(t, args)

	orders, err := ParseOrderBy("host(desc),port,created", sysSchema)
	require.NoError(t, err)
	assert.Equal(t, "host DESC NULLS LAST, port ASC NULLS FIRST, created ASC NULLS FIRST", OrderSQL(orders, SQLite))
	assert.Equal(t, `host COLLATE "C" DESC NULLS LAST, port ASC NULLS FIRST, created ASC NULLS FIRST`, OrderSQL(orders, Postgres))
	assert.Empty(t, OrderSQL(nil, Postgres))
}
