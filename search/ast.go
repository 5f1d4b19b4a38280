package search

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Op is a condition's operator.
type Op int

// The operators of the query-string syntax; the SQL-like syntax maps onto
// them (= Eq, <> and != Neq, NOT LIKE and NLIKE Nlike, ...).
const (
	Eq Op = iota + 1
	Neq
	Lt
	Lte
	Gt
	Gte
	In
	Nin
	Like
	Nlike
	Between
	Nbetween
	Contains
	Ncontains
)

var opNames = [...]string{Eq: "eq", Neq: "neq", Lt: "lt", Lte: "lte", Gt: "gt", Gte: "gte",
	In: "in", Nin: "nin", Like: "like", Nlike: "nlike", Between: "between", Nbetween: "nbetween",
	Contains: "contains", Ncontains: "ncontains"}

// String is the operator's query-string name in lower case ("eq").
func (o Op) String() string {
	if o < Eq || o > Ncontains {
		return fmt.Sprintf("Op(%d)", int(o))
	}
	return opNames[o]
}

// parseOp reads an operator name in any letter case.
func parseOp(s string) (Op, bool) {
	for o := Eq; o <= Ncontains; o++ {
		if strings.EqualFold(s, opNames[o]) {
			return o, true
		}
	}
	return 0, false
}

// listOp reports whether the operator takes a comma list of values.
func listOp(o Op) bool {
	switch o {
	case In, Nin, Between, Nbetween, Contains, Ncontains:
		return true
	}
	return false
}

// Node is a search expression: And, Or or Cond. A nil Node matches
// everything.
type Node interface {
	fmt.Stringer
	node()
}

// And holds when every one of its nodes holds (an empty And always holds).
type And []Node

// Or holds when at least one of its nodes holds (an empty Or never holds).
type Or []Node

// Cond is one condition on one attribute. Values hold the Go values of the
// attribute's type — string (String, Enum, Tags), int64, bool or time.Time
// (UTC, microseconds) — one for a comparison, two for Between and Nbetween,
// one or more for In, Nin, Contains and Ncontains; Like and Nlike hold one
// Pattern. Attr must be an attribute of a Schema: the parsers and
// ParsePage build conditions that are valid by construction; one built by
// hand must be as valid.
type Cond struct {
	Attr   *Attr
	Op     Op
	Values []any
}

func (And) node()  {}
func (Or) node()   {}
func (Cond) node() {}

// String shows the conjunction in parentheses.
func (n And) String() string { return join(n, " AND ") }

// String shows the disjunction in parentheses.
func (n Or) String() string { return join(n, " OR ") }

func join(nodes []Node, sep string) string {
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		parts[i] = n.String()
	}
	return "(" + strings.Join(parts, sep) + ")"
}

// String shows the condition as the original's DAO received it,
// column.OP.value[,value...], e.g. port.LT.7; a pattern shows in SQL LIKE
// syntax and a timestamp in RFC 3339.
func (c Cond) String() string {
	vals := make([]string, len(c.Values))
	for i, v := range c.Values {
		vals[i] = formatValue(v)
	}
	col := "?"
	if c.Attr != nil {
		col = c.Attr.Column
	}
	return col + "." + strings.ToUpper(c.Op.String()) + "." + strings.Join(vals, ",")
}

func formatValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case Pattern:
		return v.String()
	}
	return fmt.Sprint(v)
}

// Count returns the number of nodes of a tree: conditions plus AND/OR nodes.
func Count(n Node) int {
	switch n := n.(type) {
	case And:
		return 1 + countAll(n)
	case Or:
		return 1 + countAll(n)
	case Cond:
		return 1
	}
	return 0
}

func countAll(nodes []Node) int {
	c := 0
	for _, n := range nodes {
		c += Count(n)
	}
	return c
}

// AndOf combines nodes with AND, dropping nil ones and flattening nested
// Ands: the way to put a tenant or visibility predicate, or a page's After,
// around a user's search. It returns nil when no node is left and the node
// itself when one is.
func AndOf(nodes ...Node) Node { return combine(nodes, true) }

// OrOf combines nodes with OR like AndOf. A nil node (match everything)
// makes the result nil.
func OrOf(nodes ...Node) Node {
	for _, n := range nodes {
		if n == nil {
			return nil
		}
	}
	return combine(nodes, false)
}

func combine(nodes []Node, and bool) Node {
	var out []Node
	for _, n := range nodes {
		switch n := n.(type) {
		case nil:
		case And:
			if and {
				out = append(out, n...)
			} else {
				out = append(out, n)
			}
		case Or:
			if !and {
				out = append(out, n...)
			} else {
				out = append(out, n)
			}
		default:
			out = append(out, n)
		}
	}
	switch {
	case len(out) == 0:
		return nil
	case len(out) == 1:
		return out[0]
	case and:
		return And(out)
	}
	return Or(out)
}

// Pattern is a LIKE pattern in a form neutral to both syntaxes and both
// databases: literal text and wildcards.
type Pattern []Segment

// Segment is one piece of a Pattern: literal text, or a wildcard.
type Segment struct {
	// Lit is literal text (when Wild is 0).
	Lit string
	// Wild is '%' for any run of characters (the empty one included), '_' for
	// exactly one character, or 0 for literal text.
	Wild byte
}

// add appends literal text or a wildcard, merging literals and runs of '%'.
func (p Pattern) add(s Segment) Pattern {
	if n := len(p); n > 0 {
		last := &p[n-1]
		if s.Wild == 0 && last.Wild == 0 {
			last.Lit += s.Lit
			return p
		}
		if s.Wild == '%' && last.Wild == '%' {
			return p
		}
	}
	if s.Wild == 0 && s.Lit == "" {
		return p
	}
	return append(p, s)
}

// String shows the pattern in SQL LIKE syntax with backslash escapes.
func (p Pattern) String() string {
	var b strings.Builder
	for _, s := range p {
		if s.Wild != 0 {
			b.WriteByte(s.Wild)
			continue
		}
		for _, r := range s.Lit {
			if r == '%' || r == '_' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// glob writes the pattern as an SQLite GLOB pattern: * and ? wildcards,
// the literal characters * ? [ as one-character classes.
func (p Pattern) glob() string {
	var b strings.Builder
	for _, s := range p {
		switch s.Wild {
		case '%':
			b.WriteByte('*')
		case '_':
			b.WriteByte('?')
		default:
			for _, r := range s.Lit {
				switch r {
				case '*', '?', '[':
					b.WriteByte('[')
					b.WriteRune(r)
					b.WriteByte(']')
				default:
					b.WriteRune(r)
				}
			}
		}
	}
	return b.String()
}

// Match reports whether s matches the whole pattern, case-sensitively,
// '_' standing for one character (rune).
func (p Pattern) Match(s string) bool {
	type tok struct {
		r    rune
		wild byte
	}
	var pat []tok
	for _, seg := range p {
		if seg.Wild != 0 {
			pat = append(pat, tok{wild: seg.Wild})
			continue
		}
		for _, r := range seg.Lit {
			pat = append(pat, tok{r: r})
		}
	}
	str := []rune(s)
	// Greedy matching with one backtrack point, the last '%': linear in
	// practice, O(len(s)*len(pattern)) at worst.
	i, j, star, mark := 0, 0, -1, 0
	for i < len(str) {
		switch {
		case j < len(pat) && pat[j].wild == '%':
			star, mark = j, i
			j++
		case j < len(pat) && (pat[j].wild == '_' || pat[j].wild == 0 && pat[j].r == str[i]):
			i++
			j++
		case star >= 0:
			mark++
			i, j = mark, star+1
		default:
			return false
		}
	}
	for j < len(pat) && pat[j].wild == '%' {
		j++
	}
	return j == len(pat)
}
