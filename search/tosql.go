package search

import (
	"encoding/json"
	"strings"
)

// Dialect is the SQL dialect ToSQL writes.
type Dialect int

// The dialects.
const (
	SQLite Dialect = iota
	Postgres
)

// ToSQL translates a tree into a WHERE fragment with ? placeholders (bun's
// placeholder on both dialects) and its arguments. Identifiers come only
// from Attr.Column, values only travel as arguments. A nil tree gives
// "1 = 1". The fragment is parenthesised where it needs to be, so it can be
// ANDed with other conditions as it is; it must not be negated (see NULL in
// the package comment).
//
// The arguments are the values of the tree as they are: a string for
// String and Enum (and a LIKE pattern, rewritten for the dialect), an int64
// for Int, a bool for Bool, a time.Time for Timestamp (UTC, microseconds,
// as ParseTimestamp gives them); for Tags a string on SQLite and the JSON
// text of a one-element array on PostgreSQL. How a column stores a value
// is the caller's to know: a store whose column holds another form than
// its driver binds for the Go value (bun on SQLite keeps times as text)
// converts those arguments before it runs the query.
//
// Assumptions about the columns, which are how the bun adapters store them:
// String and Enum are text; Int is an integer; Bool is a boolean (0/1 on
// SQLite); Tags is a JSON array of strings held as text; Timestamp is a
// TIMESTAMPTZ on PostgreSQL and, on SQLite, text whose order is the order
// of the instants (the caller's encoding of the time.Time argument). Text
// comparisons use byte order (COLLATE "C" on PostgreSQL; SQLite's default
// BINARY), and LIKE is case-sensitive (GLOB on SQLite), so the results are
// those of Eval. On PostgreSQL an index serves the range comparisons and
// ORDER BY of a text column only when it is built with COLLATE "C" (or the
// database's collation is C).
func ToSQL(n Node, d Dialect) (string, []any) {
	if n == nil {
		return "1 = 1", nil
	}
	w := sqlWriter{d: d}
	w.node(n)
	return w.b.String(), w.args
}

type sqlWriter struct {
	d    Dialect
	b    strings.Builder
	args []any
}

func (w *sqlWriter) node(n Node) {
	switch n := n.(type) {
	case And:
		w.group(n, " AND ")
	case Or:
		w.group(n, " OR ")
	case Cond:
		w.cond(n)
	}
}

func (w *sqlWriter) group(nodes []Node, sep string) {
	if len(nodes) == 0 { // an empty And holds, an empty Or does not (as Eval)
		if sep == " AND " {
			w.b.WriteString("1 = 1")
		} else {
			w.b.WriteString("1 = 0")
		}
		return
	}
	w.b.WriteByte('(')
	for i, n := range nodes {
		if i > 0 {
			w.b.WriteString(sep)
		}
		w.node(n)
	}
	w.b.WriteByte(')')
}

// arg writes a placeholder for one value.
func (w *sqlWriter) arg(v any) {
	w.b.WriteByte('?')
	w.args = append(w.args, v)
}

// list writes "(?, ?, ...)".
func (w *sqlWriter) list(vals []any) {
	w.b.WriteByte('(')
	for i, v := range vals {
		if i > 0 {
			w.b.WriteString(", ")
		}
		w.arg(v)
	}
	w.b.WriteByte(')')
}

// column writes the column, with COLLATE "C" for the ordering of text on
// PostgreSQL.
func (w *sqlWriter) column(a *Attr, ordered bool) {
	w.b.WriteString(a.Column)
	if ordered && w.d == Postgres && (a.Type == String || a.Type == Enum) {
		w.b.WriteString(` COLLATE "C"`)
	}
}

var sqlOps = map[Op]string{Eq: " = ", Neq: " <> ", Lt: " < ", Lte: " <= ", Gt: " > ", Gte: " >= "}

func (w *sqlWriter) cond(c Cond) {
	if c.Attr.Type == Tags {
		w.tags(c)
		return
	}
	switch c.Op {
	case Eq, Neq, Lt, Lte, Gt, Gte:
		w.column(c.Attr, c.Op != Eq && c.Op != Neq)
		w.b.WriteString(sqlOps[c.Op])
		w.arg(c.Values[0])
	case Between, Nbetween:
		w.column(c.Attr, true)
		if c.Op == Nbetween {
			w.b.WriteString(" NOT")
		}
		w.b.WriteString(" BETWEEN ")
		w.arg(c.Values[0])
		w.b.WriteString(" AND ")
		w.arg(c.Values[1])
	case In, Nin:
		w.column(c.Attr, false)
		if c.Op == Nin {
			w.b.WriteString(" NOT")
		}
		w.b.WriteString(" IN ")
		w.list(c.Values)
	case Like, Nlike:
		p := c.Values[0].(Pattern)
		w.column(c.Attr, false)
		if c.Op == Nlike {
			w.b.WriteString(" NOT")
		}
		if w.d == SQLite {
			w.b.WriteString(" GLOB ")
			w.arg(p.glob())
		} else {
			w.b.WriteString(" LIKE ")
			w.arg(p.String())
			w.b.WriteString(` ESCAPE '\'`)
		}
	}
}

// tags writes a test of overlap between a JSON array column and the values:
// for in and contains, EXISTS over json_each on SQLite and jsonb
// containment of each value on PostgreSQL; their negation (on a non-NULL
// column) for nin and ncontains.
func (w *sqlWriter) tags(c Cond) {
	neg := c.Op == Nin || c.Op == Ncontains
	if neg {
		w.b.WriteByte('(')
		w.b.WriteString(c.Attr.Column)
		w.b.WriteString(" IS NOT NULL AND NOT ")
	}
	if w.d == SQLite {
		w.b.WriteString("EXISTS (SELECT 1 FROM json_each(")
		w.b.WriteString(c.Attr.Column)
		w.b.WriteString(") AS j WHERE j.value IN ")
		w.list(c.Values)
		w.b.WriteByte(')')
	} else {
		// Containment of a one-element array per value, which a GIN index
		// on CAST(column AS jsonb) serves (bunstore migration 0007).
		w.b.WriteByte('(')
		for i, v := range c.Values {
			if i > 0 {
				w.b.WriteString(" OR ")
			}
			w.b.WriteString("CAST(")
			w.b.WriteString(c.Attr.Column)
			w.b.WriteString(" AS jsonb) @> CAST(")
			one, _ := json.Marshal([]any{v}) // a string, a number or a bool: never fails
			w.arg(string(one))
			w.b.WriteString(" AS jsonb)")
		}
		w.b.WriteByte(')')
	}
	if neg {
		w.b.WriteByte(')')
	}
}

// OrderSQL writes an ORDER BY list (without the keywords) for orders, in
// the order CompareRows gives: text by bytes, NULLs first in ascending order
// and last in descending order. It is empty for no orders.
func OrderSQL(orders []Order, d Dialect) string {
	w := sqlWriter{d: d}
	for i, o := range orders {
		if i > 0 {
			w.b.WriteString(", ")
		}
		w.column(o.Attr, true)
		if o.Desc {
			w.b.WriteString(" DESC NULLS LAST")
		} else {
			w.b.WriteString(" ASC NULLS FIRST")
		}
	}
	return w.b.String()
}
