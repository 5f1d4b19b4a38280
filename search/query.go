package search

import (
	"net/url"
	"slices"
	"strings"
)

// ParseQuery parses the search query parameter of a list request:
//
//	(attr.op.value)~(attr.op.value)~...
//
// All conditions are ANDed. A lone condition needs no parentheses; several
// must each be parenthesised. A backslash escapes the next character: \~ \(
// \) and \, stand for the characters themselves (in the values of list
// operators \, keeps its backslash, as in the original), any other escape
// keeps its backslash. In like and nlike values * matches any run of
// characters and ! one character, % and _ are literal, and \x is always the
// literal x. A blank search, or only empty pairs of parentheses, gives a nil
// Node (no conditions).
//
// Form errors (SEARCH_COND_*) are reported before any attribute is looked
// up, as the original's request filter does.
func ParseQuery(s string, sc *Schema, lim Limits) (Node, error) {
	lim = lim.orDefaults()
	if len(s) > lim.MaxInputBytes {
		return nil, errf(codeLimit, "search is %d bytes long; the limit is %d", len(s), lim.MaxInputBytes)
	}
	pieces := splitEscaped(s, '~')
	if len(pieces) == 1 && !strings.HasPrefix(s, "(") && !strings.HasSuffix(s, ")") {
		pieces[0] = "(" + pieces[0] + ")"
	}
	var forms []condForm
	for _, p := range pieces {
		if strings.TrimSpace(p) == "" {
			continue
		}
		if len(p) < 2 || p[0] != '(' || p[len(p)-1] != ')' {
			return nil, errf("SEARCH_COND_UNBALANCED", "search condition %s must be enclosed in parentheses; several conditions are written (a.eq.1)~(b.eq.2)", quote(p))
		}
		inner := p[1 : len(p)-1]
		if strings.TrimSpace(inner) == "" {
			continue
		}
		f, err := parseForm(inner)
		if err != nil {
			return nil, err
		}
		forms = append(forms, f)
	}
	return resolveForms(forms, sc, lim)
}

// ReservedParams returns the query parameters of GET /search that are list
// options, not conditions (compared in any letter case). Unlike the
// original, showDeleted and impersonationId are among them.
func ReservedParams() []string { return slices.Clone(reservedParams) }

var reservedParams = []string{"pretty", "select", "search", "orderBy", "limit", "skip", "startAfter",
	"computeTotal", "listType", "showDeleted", "impersonationId"}

// ParseParams parses the conditions of GET /search: every query parameter
// whose key is not reserved (ReservedParams and the extra keys given, any
// letter case) is the condition key.value, e.g. port.lt=7 or
// owner.eq=jdoe; a repeated key gives several conditions. All are ANDed, in
// the order of their keys. Values follow the rules of ParseQuery.
func ParseParams(q url.Values, sc *Schema, reserved []string, lim Limits) (Node, error) {
	lim = lim.orDefaults()
	keys := make([]string, 0, len(q))
	size := 0
	for k, vs := range q {
		if isReserved(k, reserved) {
			continue
		}
		keys = append(keys, k)
		for _, v := range vs {
			size += len(k) + 1 + len(v)
		}
	}
	if size > lim.MaxInputBytes {
		return nil, errf(codeLimit, "search conditions are %d bytes long; the limit is %d", size, lim.MaxInputBytes)
	}
	slices.Sort(keys)
	var forms []condForm
	for _, k := range keys {
		for _, v := range q[k] {
			f, err := parseForm(k + "." + v)
			if err != nil {
				return nil, err
			}
			forms = append(forms, f)
		}
	}
	return resolveForms(forms, sc, lim)
}

func isReserved(key string, extra []string) bool {
	for _, r := range reservedParams {
		if strings.EqualFold(key, r) {
			return true
		}
	}
	for _, r := range extra {
		if strings.EqualFold(key, r) {
			return true
		}
	}
	return false
}

// condForm is a condition that passed the form checks.
type condForm struct {
	attr string
	op   Op
	vals []string // unescaped; the raw value for like and nlike
}

// parseForm checks the form attr.op.value of one condition and removes the
// escapes of its value (reference §7.2).
func parseForm(c string) (condForm, error) {
	attr, rest, ok := strings.Cut(c, ".")
	if !ok || attr == "" {
		return condForm{}, errf("SEARCH_COND_INVALID_NOATTR", "search condition %s has no attribute; write attribute.operator.value", quote(c))
	}
	if !attrNameRE.MatchString(attr) {
		return condForm{}, errf("SEARCH_COND_INVALID_ATTR", "search condition %s: attribute name %s is invalid (a letter, then letters, digits or _)", quote(c), quote(attr))
	}
	opName, value, ok := strings.Cut(rest, ".")
	if !ok || opName == "" {
		return condForm{}, errf("SEARCH_COND_INVALID_NOOPER", "search condition %s has no operator; write attribute.operator.value", quote(c))
	}
	op, ok := parseOp(opName)
	if !ok {
		return condForm{}, errf("SEARCH_COND_INVALID_OP", "search condition %s: unknown operator %s; use eq neq gt gte lt lte in nin like nlike between nbetween contains ncontains", quote(c), quote(opName))
	}
	if strings.TrimSpace(value) == "" {
		return condForm{}, errf("SEARCH_COND_INVALID_NOVAL", "search condition %s has no value", quote(c))
	}
	raw := []string{value}
	if listOp(op) {
		raw = splitEscaped(value, ',')
		for len(raw) > 0 && raw[len(raw)-1] == "" { // empty trailing items vanish
			raw = raw[:len(raw)-1]
		}
		if len(raw) == 0 {
			return condForm{}, errf("SEARCH_COND_INVALID_NOVAL", "search condition %s has no value", quote(c))
		}
	}
	f := condForm{attr: attr, op: op, vals: make([]string, len(raw))}
	for i, v := range raw {
		if ch, bad := unescapedSpecial(v); bad {
			return condForm{}, errf("SEARCH_COND_INVALID_VAL", "search condition %s: the value has an unescaped %q; escape ~ , ( ) with a backslash", quote(c), ch)
		}
		switch {
		case op == Like || op == Nlike:
			f.vals[i] = v
		case listOp(op):
			f.vals[i] = unescape(v, "~()")
		default:
			f.vals[i] = unescape(v, "~(),")
		}
	}
	if (op == Between || op == Nbetween) && len(f.vals) != 2 {
		return condForm{}, errf("SEARCH_COND_INVALID_OP2", "search condition %s: %s needs exactly two values, e.g. port.between.0,1024", quote(c), op)
	}
	return f, nil
}

// resolveForms resolves checked conditions against the schema and ANDs them.
func resolveForms(forms []condForm, sc *Schema, lim Limits) (Node, error) {
	nodes := len(forms)
	if nodes > 1 {
		nodes++ // the AND
	}
	if nodes > lim.MaxNodes {
		return nil, errf(codeLimit, "%d search conditions make %d nodes; the limit is %d", len(forms), nodes, lim.MaxNodes)
	}
	conds := make([]Node, 0, len(forms))
	for _, f := range forms {
		c, err := newCond(sc, f.attr, f.op, f.vals, queryPattern, lim)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	return AndOf(conds...), nil
}

// splitEscaped cuts s at every sep that is not escaped by a backslash (a
// backslash escapes any next character). Escapes are kept.
func splitEscaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unescapedSpecial finds a ~ , ( or ) that is not escaped.
func unescapedSpecial(s string) (byte, bool) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '~', ',', '(', ')':
			return s[i], true
		}
	}
	return 0, false
}

// unescape removes the backslash before each character of chars; other
// escapes stay as they are.
func unescape(s, chars string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			if strings.IndexByte(chars, s[i+1]) >= 0 {
				b.WriteByte(s[i+1])
			} else {
				b.WriteString(s[i : i+2])
			}
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// queryPattern reads a like value of the query-string syntax: * and ! are
// wildcards, \x is a literal x, % and _ are literal. A lone trailing
// backslash is literal (the original loses it).
func queryPattern(v string) Pattern {
	return pattern(v, '*', '!')
}

// sqlPattern reads a LIKE literal of the SQL-like syntax: % and _ are
// wildcards, \x is a literal x.
func sqlPattern(v string) Pattern {
	return pattern(v, '%', '_')
}

func pattern(v string, many, one byte) Pattern {
	var p Pattern
	lit := func(s string) { p = p.add(Segment{Lit: s}) }
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && i+1 < len(v):
			// Escape the whole next character, which may be several bytes long.
			j := i + 1
			for j+1 < len(v) && !utf8RuneStart(v[j+1]) {
				j++
			}
			lit(v[i+1 : j+1])
			i = j
		case c == many:
			p = p.add(Segment{Wild: '%'})
		case c == one:
			p = p.add(Segment{Wild: '_'})
		default:
			lit(v[i : i+1])
		}
	}
	return p
}
