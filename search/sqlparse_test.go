package search

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// From the original's ASTParserTest: 58 comparisons (116 leaves).
const bigQuery = "enabled = 'true' AND (owner = 'jdoe' OR proxy_port > 1024) OR " +
	"owner = 'a' AND (owner = 'b' OR port > 1) OR (owner = 'c' AND port < 9) OR " +
	"owner = 'a1' AND (owner = 'b1' OR port > 1) OR (owner = 'c1' AND port < 9) OR " +
	"owner = 'a2' AND (owner = 'b2' OR port > 1) OR (owner = 'c2' AND port < 9) OR " +
	"owner = 'a3' AND (owner = 'b3' OR port > 1) OR (owner = 'c3' AND port < 9) OR " +
	"owner = 'a4' AND (owner = 'b4' OR port > 1) OR (owner = 'c4' AND port < 9) OR " +
	"owner = 'a5' AND (owner = 'b5' OR port > 1) OR (owner = 'c5' AND port < 9) OR " +
	"owner = 'a6' AND (owner = 'b6' OR port > 1) OR (owner = 'c6' AND port < 9) OR " +
	"owner = 'a7' AND (owner = 'b7' OR port > 1) OR (owner = 'c7' AND port < 9) OR " +
	"owner = 'a8' AND (owner = 'b8' OR port > 1) OR (owner = 'c8' AND port < 9) OR " +
	"owner = 'a9' AND (owner = 'b9' OR port > 1) OR (owner = 'c9' AND port < 9) OR " +
	"owner = 'a0' AND (owner = 'b0' OR port > 1) OR (owner = 'c0' AND port < 9)"

// From the original's ASTParserTest: 38 comparisons (76 leaves), nested.
const deepNest = "(" +
	"enabled = 'true' AND (owner = 'jdoe' OR proxy_port > 1024) OR " +
	"(owner = 'a' AND (owner = 'b' OR port > 1) OR (owner = 'c' AND port < 9)) OR" +
	"(" +
	"(owner = 'a1' AND (owner = 'b1' OR port > 1) OR (owner = 'c1' AND port < 9)) OR " +
	"(owner = 'a2' AND (owner = 'b2' OR port > 1) OR (owner = 'c2' AND port < 9))" +
	") OR" +
	"(" +
	"(" +
	"(owner = 'a3' AND (owner = 'b3' OR port > 1) OR (owner = 'c3' AND port < 9)) OR" +
	"(owner = 'a4' AND (owner = 'b4' OR port > 1) OR (owner = 'c4' AND port < 9))" +
	") OR" +
	"(" +
	"(owner = 'a5' AND (owner = 'b5' OR port > 1) OR (owner = 'c5' AND port < 9)) OR" +
	"(owner = 'a6' AND (owner = 'b6' OR port > 1) OR (owner = 'c6' AND port < 9))" +
	")" +
	")" +
	")"

// Reference §7.7 C: SQL-like text -> tree.
func TestSQLValid(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`name = 'TestSys_SrchEndpoint_001'`, `name.EQ.TestSys_SrchEndpoint_001`},
		{`enabled = 'true'`, `enabled.EQ.true`},
		{`enabled <> 'true'`, `enabled.NEQ.true`},
		{`port < 7`, `port.LT.7`},
		{`(port <= 7)`, `port.LTE.7`},
		{`(port > 7)`, `port.GT.7`},
		{`(port >= 7)`, `port.GTE.7`},
		{`name LIKE 'testname%'`, `name.LIKE.testname%`},
		{`name NLIKE 'testname%'`, `name.NLIKE.testname%`},
		{`name NOT LIKE 'testname_'`, `name.NLIKE.testname_`},
		{`port BETWEEN '0' AND '1024'`, `port.BETWEEN.0,1024`},
		{`port NBETWEEN '0' AND '1024'`, `port.NBETWEEN.0,1024`},
		{`port NOT BETWEEN '0' AND '1024'`, `port.NBETWEEN.0,1024`},
		{`owner IN ('jdoe', 'msmith')`, `owner.IN.jdoe,msmith`},
		{`owner NIN ('jdoe', 'msmith')`, `owner.NIN.jdoe,msmith`},
		{`owner NOT IN ('jdoe', 'msmith')`, `owner.NIN.jdoe,msmith`},
		{`owner IN ('jdoe')`, `owner.IN.jdoe`},
		{`owner IN ('a','b','c')`, `owner.IN.a,b,c`},
		{`host = 'my.host.org'`, `host.EQ.my.host.org`},
		{`host = 'stampede2.tacc.utexas.edu' AND owner = 'jdoe'`, `(host.EQ.stampede2.tacc.utexas.edu AND owner.EQ.jdoe)`},
		{`host = 'stampede2.tacc.utexas.edu' OR owner = 'jdoe'`, `(host.EQ.stampede2.tacc.utexas.edu OR owner.EQ.jdoe)`},
		{`enabled = 'true' AND (owner = 'jdoe' OR proxy_port > 1024)`, `(enabled.EQ.true AND (owner.EQ.jdoe OR proxy_port.GT.1024))`},
		{`owner = 'a' AND (owner = 'b' OR port > 1) OR (owner = 'c' AND port < 9)`,
			`((owner.EQ.a AND (owner.EQ.b OR port.GT.1)) OR (owner.EQ.c AND port.LT.9))`},
		{`system_type = LINUX`, `system_type.EQ.LINUX`},
		{`enabled = true`, `enabled.EQ.true`},
		{`enabled = FaLsE`, `enabled.EQ.false`},
		{`description = 'it''s'`, `description.EQ.it's`},
		{`port = 0x1F`, `port.EQ.31`},
		{`port = 017`, `port.EQ.15`},
		{`port = 10L`, `port.EQ.10`},
		{`port = 0`, `port.EQ.0`},
		{`description = 7.5`, `description.EQ.7.5`},
		{`description = 1e3`, `description.EQ.1e3`},
		{`id LIKE '%SrchAST%'AND port > '1'`, `(id.LIKE.%SrchAST% AND port.GT.1)`},
		{`/* c */ id = 'a'`, `id.EQ.a`},
		{"id = 'a' -- comment\n", `id.EQ.a`},
		{"id = 'a' -- comment\n AND port = 1", `(id.EQ.a AND port.EQ.1)`},
		{`job_working_dir IN ('noSuchDir','abc\,def')`, `job_working_dir.IN.noSuchDir,abc\,def`},
		// fixed: the sign is kept
		{`port = -1`, `port.EQ.-1`},
		{`port > - 0x10`, `port.GT.-16`},
		{`id = owner`, `id.EQ.owner`},
		{`port>7AND port<9`, ``}, // lexed as the number 7AND: an error, see below
		{"a = 1", ""},
		{`((port = 1) OR (port = 2)) OR port = 3`, `(port.EQ.1 OR port.EQ.2 OR port.EQ.3)`},
		{`port = 1 AND (port = 2 AND port = 3)`, `(port.EQ.1 AND port.EQ.2 AND port.EQ.3)`},
		{`port = 1 OR port = 2 AND port = 3`, `(port.EQ.1 OR (port.EQ.2 AND port.EQ.3))`},
		{`created >= '2200-04'`, `created.GTE.2200-04-01T00:00:00Z`},
		{`tags IN ('value 3')`, `tags.IN.value 3`},
		{`id != 'x'`, `id.NEQ.x`},
	} {
		if tc.want == "" {
			continue
		}
		n, err := ParseSQL([]string{tc.in}, sysSchema, Limits{})
		if assert.NoError(t, err, tc.in) {
			assert.Equal(t, tc.want, n.String(), tc.in)
		}
	}
}

func TestSQLStructure(t *testing.T) {
	n, err := ParseSQL([]string{bigQuery}, sysSchema, Limits{})
	require.NoError(t, err)
	assert.Len(t, conds(n), 58)
	n, err = ParseSQL([]string{deepNest}, sysSchema, Limits{})
	require.NoError(t, err)
	assert.Len(t, conds(n), 38)

	// The body's strings are joined with spaces.
	n, err = ParseSQL([]string{"owner = 'jdoe'", "AND", "port > 1"}, sysSchema, Limits{})
	require.NoError(t, err)
	assert.Equal(t, "(owner.EQ.jdoe AND port.GT.1)", n.String())

	// A quoted literal is one value, commas included (the original split it).
	n, err = ParseSQL([]string{`tags IN ('a,b', 'c')`}, sysSchema, Limits{})
	require.NoError(t, err)
	assert.Equal(t, []any{"a,b", "c"}, n.(Cond).Values)
	n, err = ParseSQL([]string{`job_working_dir IN ('noSuchDir','abc\,def')`}, sysSchema, Limits{})
	require.NoError(t, err)
	assert.Equal(t, []any{"noSuchDir", `abc\,def`}, n.(Cond).Values)
	n, err = ParseSQL([]string{`port = -1`}, sysSchema, Limits{})
	require.NoError(t, err)
	assert.Equal(t, []any{int64(-1)}, n.(Cond).Values)
	n, err = ParseSQL([]string{`description LIKE '.:_'`}, sysSchema, Limits{})
	require.NoError(t, err)
	assert.Equal(t, Pattern{{Lit: ".:"}, {Wild: '_'}}, n.(Cond).Values[0])
}

// Reference §7.7 C: what the SQL-like syntax refuses, each with a reason.
func TestSQLInvalid(t *testing.T) {
	for _, tc := range []struct{ in, code, says string }{
		{`port BETWEEN 0 AND 1024`, "SEARCH_SQL_SYNTAX", "quoted"},
		{`owner IN (jdoe, msmith)`, "SEARCH_SQL_SYNTAX", "quoted"},
		{`name LIKE 'George#_%' ESCAPE '#'`, "SEARCH_SQL_SYNTAX", "ESCAPE"},
		{`name LIKE George`, "SEARCH_SQL_SYNTAX", "quoted pattern"},
		{`host = my.host.org`, "SEARCH_SQL_SYNTAX", "dots"},
		{`name = 'Bud' tenant_id = 'iplantc.org'`, "SEARCH_SQL_SYNTAX", "AND or OR"},
		{`int1 > AND int2 <> 5`, "SEARCH_SQL_SYNTAX", "value"},
		{`country IN ('UK', 'US'`, "SEARCH_SQL_SYNTAX", `")"`},
		{`REGEX('^a.c', 'abc')`, "SEARCH_SQL_SYNTAX", "function"},
		{`NOT enabled = true`, "SEARCH_SQL_SYNTAX", "NOT"},
		{`port + 1 > 3`, "SEARCH_SQL_SYNTAX", "arithmetic"},
		{`port > 1 + 3`, "SEARCH_SQL_SYNTAX", "arithmetic"},
		{`port > 1 - 3`, "SEARCH_SQL_SYNTAX", "arithmetic"},
		{`port - 1 > 3`, "SEARCH_SQL_SYNTAX", "arithmetic"},
		{`id = 'a' -- comment`, "SEARCH_SQL_SYNTAX", "newline"},
		{`id = 'a' /* comment`, "SEARCH_SQL_SYNTAX", "not closed"},
		{`missing IS NULL`, "SEARCH_SQL_SYNTAX", "IS NULL"},
		{`id IS NOT NULL`, "SEARCH_SQL_SYNTAX", "IS NULL"},
		{`id = NULL`, "SEARCH_SQL_SYNTAX", "NULL"},
		{`'x' = id`, "SEARCH_SQL_SYNTAX", "attribute name"},
		{`7 = port`, "SEARCH_SQL_SYNTAX", "attribute name"},
		{`id = 'abc`, "SEARCH_SQL_SYNTAX", "not closed"},
		{`id = "abc"`, "SEARCH_SQL_SYNTAX", "single quotes"},
		{`id = 'a';`, "SEARCH_SQL_SYNTAX", "unexpected character"},
		{`id ! 'a'`, "SEARCH_SQL_SYNTAX", "<>"},
		{`id = 'a' AND`, "SEARCH_SQL_SYNTAX", "missing"},
		{`id = 'a' OR ()`, "SEARCH_SQL_SYNTAX", "expected a condition"},
		{`(id = 'a'`, "SEARCH_SQL_SYNTAX", `")"`},
		{`id = 'a')`, "SEARCH_SQL_SYNTAX", "unexpected"},
		{`id`, "SEARCH_SQL_SYNTAX", "operator"},
		{`id NOT = 'a'`, "SEARCH_SQL_SYNTAX", "NOT must be followed"},
		{`port BETWEEN '1' OR '2'`, "SEARCH_SQL_SYNTAX", "AND"},
		{`port IN '1'`, "SEARCH_SQL_SYNTAX", `"("`},
		{`port = 0xZZ`, "SEARCH_SQL_SYNTAX", "number"},
		{`port = 0x1FFFFFFFFFFFFFFFFFFF`, "SEARCH_SQL_SYNTAX", "too large"},
		{`port = 09`, "SEARCH_SQL_SYNTAX", "octal"},
		{`port>7AND port<9`, "SEARCH_SQL_SYNTAX", "number"},
		{`port = - 'a'`, "SEARCH_SQL_SYNTAX", "minus"},
		{`id = AND`, "SEARCH_SQL_SYNTAX", "value"},
		{`id LIKE`, "SEARCH_SQL_SYNTAX", "quoted"},
		{`id IN ('a' 'b')`, "SEARCH_SQL_SYNTAX", `","`},
		{`id = é`, "SEARCH_SQL_SYNTAX", "unexpected character 'é'"},
		// semantic
		{`port = 7.5`, "SYSLIB_DB_INVALID_SEARCH_VALUE", "integer"},
		{`foo = 1`, "SYSLIB_DB_NO_COLUMN", `"foo"`},
		{`tags = 'x'`, "SYSLIB_DB_INVALID_SEARCH_TYPE", "contains"},
		{`enabled > true`, "SYSLIB_DB_INVALID_SEARCH_TYPE", "eq, neq"},
		{`created IN ('2020')`, "SYSLIB_DB_INVALID_SEARCH_TYPE", "created"},
		{`id = ''`, "SYSLIB_DB_INVALID_SEARCH_VALUE", "empty"},
		{`port BETWEEN '1' AND 'x'`, "SYSLIB_DB_INVALID_SEARCH_VALUE", `"x"`},
		{`port = 99999999999999999999`, "SYSLIB_DB_INVALID_SEARCH_VALUE", "integer"},
	} {
		_, err := ParseSQL([]string{tc.in}, sysSchema, Limits{})
		assertCode(t, tc.code, err)
		if err != nil {
			assert.Contains(t, err.Error(), tc.says, tc.in)
		}
	}
	_, err := ParseSQL([]string{"id = 'a'", "-- comment"}, sysSchema, Limits{})
	assertCode(t, "SEARCH_SQL_SYNTAX", err)
	_, err = ParseSQL([]string{strings.Repeat("id = 'a' AND ", 10) + "id = 'b' OR"}, sysSchema, Limits{})
	assert.ErrorContains(t, err, "at offset 141")
}
