package search

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Seeds shared by the fuzz targets: the reference's cases and injection
// attempts.
var fuzzSeeds = []string{
	`enabled.eq.true`, `(port.lt.7)~(owner.eq.jdoe)`, `name.like.test\*name`, `description.like.\ \\ \\\`,
	`(description.eq.\,\(\)\~*!\)`, `tags.contains.a,b`, `created.between.1800,2200-04-29T14:15+01:00`,
	`()~( )~()`, `(a.eq.(b)`, `port.between.1,2,3`,
	`owner = 'a' AND (owner = 'b' OR port > 1) OR (owner = 'c' AND port < 9)`,
	`port = -0x1F`, `description = 'it''s'`, "id = 'a' -- c\n", `/* x */ id LIKE '%\_%'`,
	`id = 'x'; DROP TABLE systems; --`, `id = 'x' OR 1=1`, `id = '' OR ''=''`, `id' OR '1'='1`,
	`owner.eq.x')~(tenant.neq.`, `owner.eq.x' OR tenant <> '`, `id = 'a' UNION SELECT * FROM users`,
	`id IN ('a', (SELECT secret FROM t))`, `id = ?`, `id = $1`, `id = 'a' AND tenant = 'other'`,
	`tenant.neq.mine`, `id LIKE '%' ESCAPE '|'`, `port = 1e999`, `port = 0xFFFFFFFFFFFFFFFFF`,
	`((((((((((((((((((port = 1))))))))))))))))))`, "id = '\x00'", "id.eq.\xff",
}

// sqlWord matches the words of a ToSQL fragment; allowed are the words it
// may contain besides columns.
var (
	sqlWord = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_.]*|'[^']*'|"[^"]*"|[0-9]+|\S`)
	allowed = map[string]bool{"AND": true, "OR": true, "NOT": true, "IN": true, "BETWEEN": true, "LIKE": true,
		"GLOB": true, "ESCAPE": true, "EXISTS": true, "SELECT": true, "FROM": true, "json_each": true, "AS": true,
		"j": true, "j.value": true, "WHERE": true, "CAST": true, "jsonb": true, "@": true,
		"t": true, "v": true, "t.v": true, "IS": true, "NULL": true, "COLLATE": true, `"C"`: true, `'\'`: true, "1": true,
		"(": true, ")": true, ",": true, "=": true, "<": true, ">": true, "?": true}
)

// checkParsed is the property every parser result must have: a tree and
// no error, or an *Error and no tree; a tree within the limits whose SQL
// names only allowlisted columns and carries every value as an argument.
func checkParsed(t *testing.T, input string, n Node, err error) {
	if err != nil {
		var se *Error
		if !errors.As(err, &se) || n != nil {
			t.Fatalf("%q: got %T %v and node %v", input, err, err, n)
		}
		return
	}
	if c := Count(n); c > DefaultLimits().MaxNodes {
		t.Fatalf("%q: %d nodes", input, c)
	}
	columns := map[string]bool{}
	for _, a := range sysSchema.Attrs() {
		columns[a.Column] = true
	}
	for _, d := range []Dialect{SQLite, Postgres} {
		where, args := ToSQL(n, d)
		if got := strings.Count(where, "?"); got != len(args) {
			t.Fatalf("%q: %d placeholders, %d args: %s", input, got, len(args), where)
		}
		for _, w := range sqlWord.FindAllString(where, -1) {
			if !allowed[w] && !columns[w] {
				t.Fatalf("%q: unexpected %q in SQL %s", input, w, where)
			}
		}
	}
	Eval(n, Fields{"id": "x", "port": 1, "tags": []string{"a"}, "created": time.Now(), "enabled": true})
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseQuery(s, sysSchema, Limits{})
		checkParsed(t, s, n, err)
	})
}

func FuzzParseSQL(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSQL([]string{s}, sysSchema, Limits{})
		checkParsed(t, s, n, err)
	})
}

func FuzzParseParams(f *testing.F) {
	for _, s := range fuzzSeeds {
		k, v, _ := strings.Cut(s, "=")
		f.Add(k, v)
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		n, err := ParseParams(url.Values{key: {value}}, sysSchema, nil, Limits{})
		checkParsed(t, key+"="+value, n, err)
	})
}

func FuzzListOptions(f *testing.F) {
	f.Add("id(desc),created", "10", "", "x")
	f.Add("name(,", "-1", "0", "")
	f.Add("created", "", "", "2200-04+03:00")
	f.Fuzz(func(t *testing.T, orderBy, limit, skip, startAfter string) {
		ParseSelect(orderBy, []string{"id"})
		orders, err := ParseOrderBy(orderBy, sysSchema)
		if err != nil {
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("%T %v", err, err)
			}
			return
		}
		p, err := ParsePage(limit, skip, startAfter, orders, 50)
		if err != nil {
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("%T %v", err, err)
			}
			return
		}
		if p.Limit < 0 || p.Limit > 50 || p.Skip < 0 {
			t.Fatalf("page %+v", p)
		}
		OrderSQL(orders, Postgres)
		checkParsed(t, startAfter, p.After, nil)
	})
}

func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"2200-04-29T14:15:52.123456-06:00", "2200-06:00", "2024-02-30", "9999-12-31T23:59:59.999999999Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, ok := ParseTimestamp(s)
		if ok && (tm.Year() < 1 || tm.Year() > 9999 || tm.Location() != time.UTC || tm.Nanosecond()%1000 != 0) {
			t.Fatalf("%q -> %v", s, tm)
		}
	})
}
