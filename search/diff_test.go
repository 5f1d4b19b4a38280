package search

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testseed"
)

// A differential property: random searches over random rows give the same
// ids in the same order in memory and on every backend. The rows are made
// to find the edges: NULLs, case, the wildcard and escape characters as
// data, multi-byte characters, ties, timestamps that differ below the
// microsecond or only in the length of their fraction.
//
// Seeds: three fixed ones and one from the clock (internal/testseed;
// TAPIS_TEST_SEED replays one).
func TestDifferential(t *testing.T) {
	testseed.Run(t, []uint64{20240601, 7, 1234567}, differential)
}

func differential(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, seed))
	rows := randomRows(r, 80)
	bs := backends(t)
	for _, b := range bs {
		b.load(t, rows)
	}
	sortable := []string{"name", "description", "owner", "host", "systemType", "batchScheduler",
		"port", "proxyPort", "enabled", "deleted", "created", "updated", "id"}
	hits := 0
	for i := range 600 {
		text := randomExpr(r, rows, 3)
		n, err := ParseSQL([]string{text}, sysSchema, Limits{})
		require.NoError(t, err, "seed %d, query %d: %s", seed, i, text)

		var orders []Order
		for range r.IntN(3) {
			a, _ := sysSchema.Lookup(sortable[r.IntN(len(sortable))])
			orders = append(orders, Order{Attr: a, Desc: r.IntN(2) == 0})
		}
		limit := []string{"", "1", "3", "-1", "7"}[r.IntN(5)]
		skip, after := "", ""
		if len(orders) > 0 && r.IntN(3) == 0 {
			after = randomStartAfter(r, rows, orders[0].Attr)
		} else if r.IntN(2) == 0 {
			skip = strconv.Itoa(r.IntN(6))
		}
		p, err := ParsePage(limit, skip, after, orders, 0)
		require.NoError(t, err, "page %q %q %q", limit, skip, after)

		label := fmt.Sprintf("seed %d, query %d: %s ORDER BY %v limit=%q skip=%q startAfter=%q", seed, i, text, orders, limit, skip, after)
		hits += len(check(t, bs, rows, n, orders, p, label))
		if t.Failed() {
			return
		}
	}
	t.Logf("600 random searches, %d rows returned in all", hits)
}

var alphabet = []string{"a", "A", "b", "B", "_", "%", "*", "!", "[", "]", `\`, "é", "E", " ", "?", "z", "'", ","}

func randomString(r *rand.Rand, minLen, maxLen int) string {
	var b strings.Builder
	for range minLen + r.IntN(maxLen-minLen+1) {
		b.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

func randomTime(r *rand.Rand) time.Time {
	nanos := []int{0, 500000000, 120000000, 123456000, 123456789, 123456999, 1000, 999999999, 5}
	return time.Date(2020, 1, 1, 0, 0, r.IntN(4), nanos[r.IntN(len(nanos))], time.UTC)
}

func randomRows(r *rand.Rand, count int) []dbRow {
	sysTypes := []string{"LINUX", "S3", "IRODS", "GLOBUS"}
	scheds := []string{"SLURM", "CONDOR", "PBS"}
	hosts := []string{"alpha", "Alpha", "beta", "gamma.org", "é"}
	ints := []int64{-3, -2, -1, 0, 1, 2, 3, 1 << 40, -(1 << 40)}
	tagPool := []string{"a", "A", "b", "c d", "é"}
	maybe := func() bool { return r.IntN(5) == 0 }
	rows := make([]dbRow, count)
	for i := range rows {
		row := dbRow{
			ID:          fmt.Sprintf("r%03d", i),
			Description: randomString(r, 0, 4),
			Host:        hosts[r.IntN(len(hosts))],
			SystemType:  sysTypes[r.IntN(len(sysTypes))],
			BucketName:  "b", RootDir: "/", JobWorkingDir: "/w",
			ProxyPort: ints[r.IntN(len(ints))],
			Enabled:   r.IntN(2) == 0,
			Created:   randomTime(r),
		}
		if !maybe() {
			row.Name = ptr(randomString(r, 0, 3))
		}
		if !maybe() {
			row.Owner = ptr([]string{"jdoe", "JDoe", "owner1", "owner2"}[r.IntN(4)])
		}
		if !maybe() {
			row.BatchScheduler = ptr(scheds[r.IntN(len(scheds))])
		}
		if !maybe() {
			row.Port = ptr(ints[r.IntN(len(ints))])
		}
		if !maybe() {
			row.Deleted = ptr(r.IntN(2) == 0)
		}
		if !maybe() {
			row.Updated = ptr(randomTime(r))
		}
		if !maybe() {
			row.TagList = []string{}
			for _, tag := range tagPool {
				if r.IntN(3) == 0 {
					row.TagList = append(row.TagList, tag)
				}
			}
			js, _ := json.Marshal(row.TagList)
			row.Tags = ptr(string(js))
		}
		rows[i] = row
	}
	return rows
}

func sqlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// randomExpr writes a random SQL-like search.
func randomExpr(r *rand.Rand, rows []dbRow, depth int) string {
	if depth == 0 || r.IntN(3) == 0 {
		return randomCond(r, rows)
	}
	op := " AND "
	if r.IntN(2) == 0 {
		op = " OR "
	}
	s := randomExpr(r, rows, depth-1) + op + randomExpr(r, rows, depth-1)
	if r.IntN(2) == 0 {
		s = "(" + s + ")"
	}
	return s
}

func randomCond(r *rand.Rand, rows []dbRow) string {
	attrs := []string{"name", "description", "owner", "host", "systemType", "batchScheduler",
		"port", "proxyPort", "enabled", "deleted", "created", "updated", "tags"}
	name := attrs[r.IntN(len(attrs))]
	a, _ := sysSchema.Lookup(name)
	row := rows[r.IntN(len(rows))].fields()
	value := func() string { // a quoted value of the attribute's type
		switch a.Type {
		case String:
			if v, ok := fieldValue(a, row); ok && strings.TrimSpace(v.(string)) != "" && r.IntN(2) == 0 {
				return sqlQuote(v.(string))
			}
			for {
				if s := randomString(r, 1, 3); strings.TrimSpace(s) != "" {
					return sqlQuote(s)
				}
			}
		case Enum:
			return sqlQuote(a.Enum[r.IntN(len(a.Enum))])
		case Int:
			if v, ok := fieldValue(a, row); ok && r.IntN(2) == 0 {
				return sqlQuote(strconv.FormatInt(v.(int64), 10))
			}
			return sqlQuote(strconv.Itoa(r.IntN(7) - 3))
		case Bool:
			return []string{"'true'", "'FALSE'"}[r.IntN(2)]
		case Timestamp:
			tm := randomTime(r)
			if v, ok := row.Field(a.Name).(time.Time); ok && r.IntN(2) == 0 {
				tm = v
			}
			switch r.IntN(3) {
			case 0:
				return sqlQuote(tm.Format(time.RFC3339Nano))
			case 1:
				return sqlQuote(tm.In(time.FixedZone("", -6*3600)).Format("2006-01-02T15:04:05.999999999-07:00"))
			}
			return sqlQuote(tm.Format("2006-01-02T15:04:05"))
		case Tags:
			return sqlQuote([]string{"a", "A", "b", "c d", "é", "zz"}[r.IntN(6)])
		}
		panic(a.Type)
	}
	list := func() string {
		vals := []string{value()}
		for r.IntN(2) == 0 {
			vals = append(vals, value())
		}
		return "(" + strings.Join(vals, ", ") + ")"
	}
	switch a.Type {
	case Tags:
		return name + []string{" IN ", " NIN ", " NOT IN "}[r.IntN(3)] + list()
	case Bool:
		return name + []string{" = ", " <> ", " != "}[r.IntN(3)] + value()
	}
	choices := []string{"=", "<>", "<", "<=", ">", ">=", "BETWEEN", "NOT BETWEEN", "NBETWEEN"}
	if a.Type != Timestamp {
		choices = append(choices, "IN", "NIN", "NOT IN")
	}
	if a.Type == String || a.Type == Enum {
		choices = append(choices, "LIKE", "LIKE", "LIKE", "NLIKE", "NOT LIKE")
	}
	switch op := choices[r.IntN(len(choices))]; op {
	case "BETWEEN", "NOT BETWEEN", "NBETWEEN":
		return name + " " + op + " " + value() + " AND " + value()
	case "IN", "NIN", "NOT IN":
		return name + " " + op + " " + list()
	case "LIKE", "NLIKE", "NOT LIKE":
		base := ""
		if v, ok := fieldValue(a, row); ok {
			base = v.(string)
		}
		return name + " " + op + " " + sqlQuote(randomPattern(r, base))
	default:
		if a.Type == Int && r.IntN(2) == 0 {
			return name + " " + op + " " + strconv.Itoa(r.IntN(7)-3) // unquoted, maybe negative
		}
		return name + " " + op + " " + value()
	}
}

// randomPattern writes a LIKE pattern that often matches base, or nearly:
// characters become wildcards, letters change case, the wildcard and escape
// characters of the data are escaped or left to act.
func randomPattern(r *rand.Rand, base string) string {
	for {
		if r.IntN(4) == 0 {
			base = randomString(r, 1, 4)
		}
		var b strings.Builder
		if r.IntN(4) == 0 {
			b.WriteByte('%')
		}
		for _, c := range base {
			switch n := r.IntN(20); {
			case n < 3:
				b.WriteByte('_')
			case n < 5:
				b.WriteByte('%')
			case n < 9 && c < 128 && unicode.IsUpper(c):
				b.WriteRune(unicode.ToLower(c))
			case n < 9 && c < 128 && unicode.IsLower(c):
				b.WriteRune(unicode.ToUpper(c))
			case (c == '%' || c == '_' || c == '\\') && n < 15:
				b.WriteByte('\\')
				b.WriteRune(c)
			default:
				b.WriteRune(c)
			}
		}
		if r.IntN(4) == 0 {
			b.WriteByte('%')
		}
		if p := b.String(); strings.TrimSpace(p) != "" {
			return p
		}
	}
}

// randomStartAfter picks a value of attr from a random row, as text.
func randomStartAfter(r *rand.Rand, rows []dbRow, a *Attr) string {
	v, ok := fieldValue(a, rows[r.IntN(len(rows))].fields())
	if !ok {
		return ""
	}
	switch v := v.(type) {
	case time.Time:
		return v.Format(time.RFC3339Nano)
	default:
		return formatValue(v)
	}
}
