package search

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ParseSQL parses the body of POST /search: its strings joined with single
// spaces are one SQL-like condition (reference §7.3):
//
//	expr   = and { OR and }
//	and    = term { AND term }
//	term   = "(" expr ")" | attr cmp value
//	       | attr [NOT] LIKE 'pattern' | attr NLIKE 'pattern'
//	       | attr [NOT] BETWEEN 'a' AND 'b' | attr NBETWEEN 'a' AND 'b'
//	       | attr [NOT] IN ('a', ...) | attr NIN ('a', ...)
//	cmp    = "=" | "<>" | "!=" | "<" | "<=" | ">" | ">="
//	value  = 'text' | number | -number | TRUE | FALSE | bare_word
//
// Keywords are case-insensitive; AND binds tighter than OR. Inside a quoted
// literal a quote is written twice, as in SQL; a bare word is literal text
// (system_type = LINUX); numbers may be decimal, hexadecimal (0x1F), octal
// (017), long (10L) or floating point, and a leading minus makes them
// negative (the original dropped it). LIKE patterns use % and _ as
// wildcards and backslash as the escape character. The operands of LIKE,
// BETWEEN and IN must be quoted. /* */ comments are skipped, -- comments up
// to a newline.
//
// Refused, each with a message saying why: IS [NOT] NULL and comparisons
// with NULL, a NOT before a condition, ESCAPE, arithmetic, function calls,
// unquoted dotted values, a literal on the left of a comparison. A blank body
// gives a nil Node (no conditions).
func ParseSQL(parts []string, sc *Schema, lim Limits) (Node, error) {
	lim = lim.orDefaults()
	size := max(len(parts)-1, 0) // the joining spaces
	for _, p := range parts {
		size += len(p)
	}
	if size > lim.MaxInputBytes {
		return nil, errf(codeLimit, "search is %d bytes long; the limit is %d", size, lim.MaxInputBytes)
	}
	toks, err := lex(strings.Join(parts, " "))
	if err != nil {
		return nil, err
	}
	if toks[0].kind == tEOF {
		return nil, nil
	}
	p := &sqlParser{toks: toks, sc: sc, lim: lim}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.fail(t, "unexpected %s; conditions are joined with AND or OR", t)
	}
	if c := Count(n); c > lim.MaxNodes {
		return nil, errf(codeLimit, "search has %d nodes (conditions, ANDs and ORs); the limit is %d", c, lim.MaxNodes)
	}
	return n, nil
}

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tKeyword
	tString
	tNumber
	tLParen
	tRParen
	tComma
	tCmp
	tMinus
	tArith
)

type token struct {
	kind tokKind
	text string // identifier or number text, keyword in upper case, string content, operator
	pos  int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of search"
	case tString:
		return "'" + strings.ReplaceAll(t.text, "'", "''") + "'"
	}
	return strconv.Quote(t.text)
}

var keywords = map[string]bool{"AND": true, "OR": true, "NOT": true, "LIKE": true, "NLIKE": true,
	"BETWEEN": true, "NBETWEEN": true, "IN": true, "NIN": true, "IS": true, "NULL": true,
	"TRUE": true, "FALSE": true, "ESCAPE": true}

func syntaxErr(pos int, format string, args ...any) error {
	return errf(codeSyntax, "at offset %d: %s", pos, fmt.Sprintf(format, args...))
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) }

// lex cuts the text into tokens, ending with tEOF.
func lex(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, syntaxErr(start, "/* comment is not closed")
			}
			i += 2 + end + 2
		case strings.HasPrefix(s[i:], "--"):
			end := strings.IndexByte(s[i:], '\n')
			if end < 0 {
				return nil, syntaxErr(start, "a -- comment must end with a newline (the strings of a body are joined with spaces)")
			}
			i += end + 1
		case isIdentStart(c):
			for i < len(s) && isIdentPart(s[i]) {
				i++
			}
			word := s[start:i]
			if up := strings.ToUpper(word); keywords[up] {
				toks = append(toks, token{tKeyword, up, start})
			} else {
				toks = append(toks, token{tIdent, word, start})
			}
		case isDigit(c) || c == '.' && i+1 < len(s) && isDigit(s[i+1]):
			for i < len(s) && (isIdentPart(s[i]) || s[i] == '.' ||
				(s[i] == '+' || s[i] == '-') && (s[i-1] == 'e' || s[i-1] == 'E') && !strings.ContainsAny(s[start:i], "xX")) {
				i++
			}
			num, err := number(s[start:i])
			if err != nil {
				return nil, syntaxErr(start, "%v", err)
			}
			toks = append(toks, token{tNumber, num, start})
		case c == '\'':
			var b strings.Builder
			i++
			for {
				if i >= len(s) {
					return nil, syntaxErr(start, "quoted literal is not closed")
				}
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			toks = append(toks, token{tString, b.String(), start})
		case c == '(':
			toks = append(toks, token{tLParen, "(", start})
			i++
		case c == ')':
			toks = append(toks, token{tRParen, ")", start})
			i++
		case c == ',':
			toks = append(toks, token{tComma, ",", start})
			i++
		case c == '=':
			toks = append(toks, token{tCmp, "=", start})
			i++
		case c == '<' || c == '>' || c == '!':
			op := s[i : i+1]
			if i+1 < len(s) && (s[i+1] == '=' || c == '<' && s[i+1] == '>') {
				op = s[i : i+2]
			}
			if op == "!" {
				return nil, syntaxErr(start, "unexpected \"!\"; not equal is written <> or !=")
			}
			toks = append(toks, token{tCmp, op, start})
			i += len(op)
		case c == '-':
			toks = append(toks, token{tMinus, "-", start})
			i++
		case c == '+' || c == '*' || c == '/' || c == '%':
			toks = append(toks, token{tArith, s[i : i+1], start})
			i++
		case c == '.':
			return nil, syntaxErr(start, "unexpected \".\"; quote values that contain dots, e.g. host = 'my.host.org'")
		case c == '"':
			return nil, syntaxErr(start, "unexpected '\"'; quote literals with single quotes")
		default:
			r := []rune(s[i:])[0]
			return nil, syntaxErr(start, "unexpected character %q", r)
		}
	}
	return append(toks, token{kind: tEOF, pos: len(s)}), nil
}

var floatRE = regexp.MustCompile(`^([0-9]+\.[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[fFdD]?$|^[0-9]+[eE][+-]?[0-9]+[fFdD]?$`)

// number converts a numeric literal to the decimal text the original hands
// on: 0x1F -> 31, 017 -> 15, 10L -> 10; floating point stays as written.
func number(s string) (string, error) {
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		n, err := strconv.ParseUint(strings.TrimRight(s[2:], "lL"), 16, 64)
		if err != nil {
			return "", fmt.Errorf("invalid or too large hexadecimal number %s", quote(s))
		}
		return strconv.FormatUint(n, 10), nil
	case floatRE.MatchString(s):
		return s, nil
	}
	digits := strings.TrimSuffix(strings.TrimSuffix(s, "L"), "l")
	for i := 0; i < len(digits); i++ {
		if !isDigit(digits[i]) {
			return "", fmt.Errorf("invalid number %s", quote(s))
		}
	}
	if len(digits) > 1 && digits[0] == '0' {
		n, err := strconv.ParseUint(digits, 8, 64)
		if err != nil {
			return "", fmt.Errorf("invalid or too large octal number %s", quote(s))
		}
		return strconv.FormatUint(n, 10), nil
	}
	return digits, nil
}

type sqlParser struct {
	toks  []token
	i     int
	sc    *Schema
	lim   Limits
	depth int
}

func (p *sqlParser) peek() token { return p.toks[p.i] }

func (p *sqlParser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *sqlParser) isKeyword(words ...string) bool {
	t := p.peek()
	if t.kind != tKeyword {
		return false
	}
	for _, w := range words {
		if t.text == w {
			return true
		}
	}
	return false
}

func (p *sqlParser) fail(t token, format string, args ...any) error {
	return syntaxErr(t.pos, format, args...)
}

func (p *sqlParser) or() (Node, error) {
	var nodes []Node
	for {
		n, err := p.and()
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
		if !p.isKeyword("OR") {
			return OrOf(nodes...), nil
		}
		p.next()
	}
}

func (p *sqlParser) and() (Node, error) {
	var nodes []Node
	for {
		n, err := p.term()
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
		if !p.isKeyword("AND") {
			return AndOf(nodes...), nil
		}
		p.next()
	}
}

func (p *sqlParser) term() (Node, error) {
	t := p.peek()
	switch {
	case t.kind == tLParen:
		p.depth++
		if p.depth > p.lim.MaxDepth {
			return nil, errf(codeLimit, "parentheses nest deeper than %d (at offset %d)", p.lim.MaxDepth, t.pos)
		}
		p.next()
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.fail(c, "expected \")\" to close the \"(\" at offset %d, found %s", t.pos, c)
		}
		p.depth--
		return n, nil
	case t.kind == tIdent:
		return p.comparison()
	case t.kind == tKeyword && t.text == "NOT":
		return nil, p.fail(t, "NOT before a condition is not supported; use <>, NOT LIKE, NOT IN or NOT BETWEEN")
	case t.kind == tEOF:
		return nil, p.fail(t, "a condition is missing at the end")
	case t.kind == tString || t.kind == tNumber || t.kind == tMinus || t.kind == tKeyword:
		return nil, p.fail(t, "expected an attribute name, found %s; a condition reads attribute operator value", t)
	}
	return nil, p.fail(t, "expected a condition, found %s", t)
}

var cmpOps = map[string]Op{"=": Eq, "<>": Neq, "!=": Neq, "<": Lt, "<=": Lte, ">": Gt, ">=": Gte}

func (p *sqlParser) comparison() (Node, error) {
	attr := p.next()
	t := p.next()
	var (
		op   Op
		vals []string
	)
	switch {
	case t.kind == tLParen:
		return nil, p.fail(t, "function calls are not supported (%s(...))", attr.text)
	case t.kind == tArith || t.kind == tMinus:
		return nil, p.fail(t, "arithmetic is not supported")
	case t.kind == tCmp:
		op = cmpOps[t.text]
		v, err := p.operand(t)
		if err != nil {
			return nil, err
		}
		vals = []string{v}
	case t.kind == tKeyword:
		negate := false
		kw := t
		if kw.text == "NOT" {
			negate = true
			kw = p.next()
			if kw.kind != tKeyword || kw.text != "LIKE" && kw.text != "BETWEEN" && kw.text != "IN" {
				return nil, p.fail(kw, "NOT must be followed by LIKE, BETWEEN or IN, found %s", kw)
			}
		}
		var err error
		switch kw.text {
		case "LIKE", "NLIKE":
			op = pick(negate || kw.text == "NLIKE", Nlike, Like)
			var v string
			if v, err = p.quoted("LIKE needs a quoted pattern, e.g. id LIKE 'my%'"); err == nil {
				vals = []string{v}
				if p.isKeyword("ESCAPE") {
					return nil, p.fail(p.peek(), "ESCAPE is not supported; the escape character is backslash")
				}
			}
		case "BETWEEN", "NBETWEEN":
			op = pick(negate || kw.text == "NBETWEEN", Nbetween, Between)
			vals, err = p.between(kw)
		case "IN", "NIN":
			op = pick(negate || kw.text == "NIN", Nin, In)
			vals, err = p.list(kw)
		case "IS":
			return nil, p.fail(kw, "IS NULL and IS NOT NULL are not supported")
		default:
			return nil, p.fail(kw, "expected an operator after %s, found %s", attr.text, kw)
		}
		if err != nil {
			return nil, err
		}
	default:
		return nil, p.fail(t, "expected an operator after %s, found %s", attr.text, t)
	}
	if t := p.peek(); t.kind == tArith || t.kind == tMinus {
		return nil, p.fail(t, "arithmetic is not supported")
	}
	return newCond(p.sc, attr.text, op, vals, sqlPattern, p.lim)
}

func pick(cond bool, yes, no Op) Op {
	if cond {
		return yes
	}
	return no
}

// operand reads the right side of a comparison.
func (p *sqlParser) operand(after token) (string, error) {
	t := p.next()
	switch {
	case t.kind == tString || t.kind == tNumber || t.kind == tIdent:
		return t.text, nil
	case t.kind == tMinus:
		n := p.next()
		if n.kind != tNumber {
			return "", p.fail(t, "a minus sign must be followed by a number")
		}
		return "-" + n.text, nil
	case t.kind == tKeyword && (t.text == "TRUE" || t.text == "FALSE"):
		return t.text, nil
	case t.kind == tKeyword && t.text == "NULL":
		return "", p.fail(t, "comparisons with NULL are not supported")
	}
	return "", p.fail(t, "expected a value after %s, found %s", after.text, t)
}

func (p *sqlParser) quoted(hint string) (string, error) {
	t := p.next()
	if t.kind != tString {
		return "", p.fail(t, "%s, found %s", hint, t)
	}
	return t.text, nil
}

func (p *sqlParser) between(kw token) ([]string, error) {
	const hint = "BETWEEN bounds must be quoted, e.g. port BETWEEN '0' AND '1024'"
	lo, err := p.quoted(hint)
	if err != nil {
		return nil, err
	}
	if !p.isKeyword("AND") {
		return nil, p.fail(p.peek(), "expected AND between the bounds of BETWEEN, found %s", p.peek())
	}
	p.next()
	hi, err := p.quoted(hint)
	if err != nil {
		return nil, err
	}
	return []string{lo, hi}, nil
}

func (p *sqlParser) list(kw token) ([]string, error) {
	const hint = "IN values must be quoted, e.g. owner IN ('jdoe', 'msmith')"
	if t := p.next(); t.kind != tLParen {
		return nil, p.fail(t, "expected \"(\" after %s, found %s", kw.text, t)
	}
	var vals []string
	for {
		v, err := p.quoted(hint)
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
		if len(vals) > p.lim.MaxInList {
			return nil, errf(codeLimit, "more than %d values in one %s list (at offset %d)", p.lim.MaxInList, kw.text, kw.pos)
		}
		switch t := p.next(); t.kind {
		case tComma:
		case tRParen:
			return vals, nil
		default:
			return nil, p.fail(t, "expected \",\" or \")\" in the %s list, found %s", kw.text, t)
		}
	}
}
