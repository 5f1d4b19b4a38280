package search

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// newCond resolves one condition of any syntax: the attribute by name, the
// operator against the attribute's type, each value against the type. vals
// are the values as text; like turns the text of a LIKE value into a
// Pattern (the two syntaxes differ there).
func newCond(sc *Schema, name string, op Op, vals []string, like func(string) Pattern, lim Limits) (Cond, error) {
	a, ok := sc.Lookup(name)
	if !ok {
		return Cond{}, errf("SYSLIB_DB_NO_COLUMN", "attribute %s is not searchable", quote(name))
	}
	if !slices.Contains(ops[a.Type], op) {
		names := make([]string, len(ops[a.Type]))
		for i, o := range ops[a.Type] {
			names[i] = o.String()
		}
		return Cond{}, errf("SYSLIB_DB_INVALID_SEARCH_TYPE", "operator %s does not apply to attribute %s (%s); use one of: %s",
			op, a.Name, a.Type, strings.Join(names, ", "))
	}
	if len(vals) > lim.MaxInList {
		return Cond{}, errf(codeLimit, "attribute %s: %d values in one list; the limit is %d", a.Name, len(vals), lim.MaxInList)
	}
	switch {
	case len(vals) == 0:
		return Cond{}, errf("SEARCH_COND_INVALID_NOVAL", "attribute %s: no value given", a.Name)
	case (op == Between || op == Nbetween) && len(vals) != 2:
		return Cond{}, errf("SEARCH_COND_INVALID_OP2", "attribute %s: %s needs exactly two values, got %d", a.Name, op, len(vals))
	case !listOp(op) && len(vals) != 1:
		return Cond{}, errf("SEARCH_COND_INVALID_VAL", "attribute %s: %s takes one value, got %d", a.Name, op, len(vals))
	}
	c := Cond{Attr: a, Op: op, Values: make([]any, len(vals))}
	for i, v := range vals {
		if !utf8Text(v) {
			return Cond{}, errf("SYSLIB_DB_INVALID_SEARCH_VALUE", "attribute %s: value %s is not valid UTF-8 text", a.Name, quote(v))
		}
		if strings.TrimSpace(v) == "" {
			return Cond{}, errf("SYSLIB_DB_INVALID_SEARCH_VALUE", "attribute %s: empty value", a.Name)
		}
		if op == Like || op == Nlike {
			c.Values[i] = like(v)
			continue
		}
		val, err := convert(a, v)
		if err != nil {
			return Cond{}, err
		}
		c.Values[i] = val
	}
	return c, nil
}

// utf8Text reports whether v is valid UTF-8 without NUL bytes (which
// neither PostgreSQL text nor bun accept).
func utf8Text(v string) bool { return utf8.ValidString(v) && strings.IndexByte(v, 0) < 0 }

// convert reads one value of an attribute's type.
func convert(a *Attr, v string) (any, error) {
	bad := func(want string) error {
		return errf("SYSLIB_DB_INVALID_SEARCH_VALUE", "attribute %s: value %s is not %s", a.Name, quote(v), want)
	}
	switch a.Type {
	case Int:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, bad("an integer")
		}
		return n, nil
	case Bool:
		switch {
		case strings.EqualFold(v, "true"):
			return true, nil
		case strings.EqualFold(v, "false"):
			return false, nil
		}
		return nil, bad("true or false")
	case Timestamp:
		t, ok := ParseTimestamp(v)
		if !ok {
			return nil, bad("a timestamp (yyyy[-MM[-dd[THH[:mm[:ss[.ffffff]]]]]] with an optional Z or ±hh:mm)")
		}
		return t, nil
	case Enum:
		for _, e := range a.Enum {
			if strings.EqualFold(v, e) {
				return e, nil
			}
		}
		return nil, bad("one of " + strings.Join(a.Enum, ", "))
	}
	return v, nil
}

// ParseTimestamp reads a Tapis timestamp (reference §7.6) as UTC, truncated
// to microseconds:
//
//	yyyy[-MM[-dd[Thh[:mm[:ss[.f...]]]]]][±hh:mm][Z]
//
// One trailing Z is ignored; a lower-case t is accepted, a space is not;
// missing parts take their earliest value; an offset is applied to every
// form. (The original ignores the offset of the forms without seconds,
// Thh±hh:mm and Thh:mm±hh:mm; this reads them like the others.) Years run
// from 0001 to 9999, after the offset too.
func ParseTimestamp(s string) (time.Time, bool) {
	s = strings.TrimSuffix(s, "Z")
	if len(s) < 4 {
		return time.Time{}, false
	}
	p := tsParser{s: s}
	year, ok := p.digits(4)
	if !ok {
		return time.Time{}, false
	}
	month, day, hour, minute, sec, nsec := 1, 1, 0, 0, 0, 0
	// A '-' starts the next date part unless it is an offset (hh followed by ':').
	datePart := func() (int, bool) {
		if p.peek() == '-' && p.isDigits(p.i+1, 2) && p.at(p.i+3) != ':' {
			p.i++
			return p.digits(2)
		}
		return 0, false
	}
	if m, ok := datePart(); ok {
		month = m
		if d, ok := datePart(); ok {
			day = d
			if c := p.peek(); c == 'T' || c == 't' {
				p.i++
				if hour, ok = p.digits(2); !ok {
					return time.Time{}, false
				}
				if p.peek() == ':' {
					p.i++
					if minute, ok = p.digits(2); !ok {
						return time.Time{}, false
					}
					if p.peek() == ':' {
						p.i++
						if sec, ok = p.digits(2); !ok {
							return time.Time{}, false
						}
						if p.peek() == '.' {
							p.i++
							start := p.i
							for p.i < len(s) && isDigit(s[p.i]) {
								p.i++
							}
							frac := s[start:p.i]
							if len(frac) == 0 || len(frac) > 9 {
								return time.Time{}, false
							}
							frac += strings.Repeat("0", 9-len(frac))
							nsec, _ = strconv.Atoi(frac)
						}
					}
				}
			}
		}
	}
	offset := 0
	if p.i < len(s) {
		sign := 1
		switch s[p.i] {
		case '+':
		case '-':
			sign = -1
		default:
			return time.Time{}, false
		}
		p.i++
		oh, ok1 := p.digits(2)
		if p.peek() != ':' {
			return time.Time{}, false
		}
		p.i++
		om, ok2 := p.digits(2)
		if !ok1 || !ok2 || p.i != len(s) || oh > 18 || om > 59 || oh == 18 && om > 0 {
			return time.Time{}, false
		}
		offset = sign * (oh*3600 + om*60)
	}
	if year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // 2024-02-30 normalised into March
		return time.Time{}, false
	}
	t = t.Add(-time.Duration(offset) * time.Second).Truncate(time.Microsecond)
	if t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, false
	}
	return t, true
}

type tsParser struct {
	s string
	i int
}

func (p *tsParser) at(i int) byte {
	if i < len(p.s) {
		return p.s[i]
	}
	return 0
}

func (p *tsParser) peek() byte { return p.at(p.i) }

func (p *tsParser) isDigits(from, n int) bool {
	if from+n > len(p.s) {
		return false
	}
	for k := from; k < from+n; k++ {
		if !isDigit(p.s[k]) {
			return false
		}
	}
	return true
}

// digits reads exactly n digits that are not followed by another digit.
func (p *tsParser) digits(n int) (int, bool) {
	if !p.isDigits(p.i, n) || isDigit(p.at(p.i+n)) {
		return 0, false
	}
	v, _ := strconv.Atoi(p.s[p.i : p.i+n])
	p.i += n
	return v, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
