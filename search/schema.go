package search

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Type is the type of a searchable attribute; it decides which operators
// apply and how values are read.
type Type int

// The attribute types.
const (
	// String is text: eq neq lt lte gt gte like nlike between nbetween in nin.
	String Type = iota + 1
	// Int is a 64-bit integer: eq neq lt lte gt gte between nbetween in nin.
	Int
	// Bool is true or false (any case): eq neq.
	Bool
	// Timestamp is an instant in a Tapis timestamp form: eq neq lt lte gt gte
	// between nbetween.
	Timestamp
	// Enum is text restricted to the names in Attr.Enum: the operators of
	// String; values (except LIKE patterns) must be one of the names.
	Enum
	// Tags is a list of strings: contains ncontains in nin (any overlap).
	Tags
)

var typeNames = [...]string{String: "string", Int: "integer", Bool: "boolean", Timestamp: "timestamp", Enum: "enum", Tags: "list of strings"}

// String names the type in messages.
func (t Type) String() string {
	if t < String || t > Tags {
		return fmt.Sprintf("Type(%d)", int(t))
	}
	return typeNames[t]
}

// ops lists the operators each type allows, in the order messages show them.
var ops = map[Type][]Op{
	String:    {Eq, Neq, Lt, Lte, Gt, Gte, Like, Nlike, Between, Nbetween, In, Nin},
	Enum:      {Eq, Neq, Lt, Lte, Gt, Gte, Like, Nlike, Between, Nbetween, In, Nin},
	Int:       {Eq, Neq, Lt, Lte, Gt, Gte, Between, Nbetween, In, Nin},
	Bool:      {Eq, Neq},
	Timestamp: {Eq, Neq, Lt, Lte, Gt, Gte, Between, Nbetween},
	Tags:      {Contains, Ncontains, In, Nin},
}

// Attr is one searchable attribute.
type Attr struct {
	// Name is the camelCase wire name, e.g. "systemType". Row.Field is asked
	// for it.
	Name string
	// Column is the SQL column, e.g. "system_type" (empty: Name in
	// snake_case). It is copied verbatim into SQL, so it comes from code,
	// never from input; NewSchema accepts only [table.]identifier.
	Column string
	// Type decides the operators and the value syntax.
	Type Type
	// Enum lists the allowed values of an Enum attribute (canonical case).
	Enum []string
}

// Schema is the allowlist of searchable (and sortable) attributes of one
// resource. Lookups accept the camelCase name, the snake_case name and the
// snake_case name in any letter case (systemType, system_type, SYSTEM_TYPE).
type Schema struct {
	attrs []*Attr
	byKey map[string]*Attr // snake_case name -> attribute
}

var (
	attrNameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)
	columnRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)
	snakeRE1   = regexp.MustCompile(`([A-Z]+)([A-Z][a-z])`)
	snakeRE2   = regexp.MustCompile(`([a-z])([A-Z])`)
)

// snake converts a camelCase name to snake_case exactly as the original
// does: ThisIsAColumn -> this_is_a_column, HTTPServer -> http_server.
func snake(s string) string {
	s = snakeRE1.ReplaceAllString(s, "${1}_${2}")
	s = snakeRE2.ReplaceAllString(s, "${1}_${2}")
	return strings.ToLower(s)
}

// NewSchema builds a schema. It refuses (a programming error) a malformed
// name or column, an unknown type, an Enum without names, names on a
// non-Enum attribute and two attributes with the same snake_case name.
func NewSchema(attrs ...Attr) (*Schema, error) {
	s := &Schema{byKey: make(map[string]*Attr, len(attrs))}
	for _, a := range attrs {
		if !attrNameRE.MatchString(a.Name) {
			return nil, fmt.Errorf("search: attribute name %q is not an identifier", a.Name)
		}
		if a.Column == "" {
			a.Column = snake(a.Name)
		}
		if !columnRE.MatchString(a.Column) {
			return nil, fmt.Errorf("search: column %q of %s is not an identifier", a.Column, a.Name)
		}
		if _, ok := ops[a.Type]; !ok {
			return nil, fmt.Errorf("search: attribute %s has no type", a.Name)
		}
		if (a.Type == Enum) != (len(a.Enum) > 0) {
			return nil, fmt.Errorf("search: attribute %s: Enum names go with (and only with) type Enum", a.Name)
		}
		key := snake(a.Name)
		if _, dup := s.byKey[key]; dup {
			return nil, fmt.Errorf("search: attribute %s given twice", a.Name)
		}
		a.Enum = slices.Clone(a.Enum)
		p := &a
		s.attrs = append(s.attrs, p)
		s.byKey[key] = p
	}
	return s, nil
}

// MustSchema is NewSchema for package-level variables: it panics on error.
func MustSchema(attrs ...Attr) *Schema {
	s, err := NewSchema(attrs...)
	if err != nil {
		panic(err)
	}
	return s
}

// Lookup finds an attribute as the original does: the name in lower case,
// then the name converted from camelCase to snake_case.
func (s *Schema) Lookup(name string) (*Attr, bool) {
	if s == nil || !attrNameRE.MatchString(name) {
		return nil, false
	}
	if a, ok := s.byKey[strings.ToLower(name)]; ok {
		return a, true
	}
	a, ok := s.byKey[snake(name)]
	return a, ok
}

// Attrs returns the attributes in the order given to NewSchema (shared with
// the schema: read, do not modify).
func (s *Schema) Attrs() []*Attr { return slices.Clone(s.attrs) }

// Limits bound what a parser accepts. A zero field takes its value from
// DefaultLimits.
type Limits struct {
	// MaxInputBytes bounds the search text (ParseQuery), the joined body
	// (ParseSQL) or the keys and values of the condition parameters
	// (ParseParams).
	MaxInputBytes int
	// MaxDepth bounds the nesting of parentheses (ParseSQL).
	MaxDepth int
	// MaxNodes bounds the size of the tree: conditions plus AND/OR nodes.
	MaxNodes int
	// MaxInList bounds the values of one in, nin, contains or ncontains.
	MaxInList int
}

// DefaultLimits returns the limits used for zero fields of a Limits. They
// admit the largest queries of the original's test suites (58 conditions in
// one POST body, parentheses five deep).
func DefaultLimits() Limits {
	return Limits{MaxInputBytes: 8 << 10, MaxDepth: 16, MaxNodes: 256, MaxInList: 100}
}

func (l Limits) orDefaults() Limits {
	d := DefaultLimits()
	if l.MaxInputBytes <= 0 {
		l.MaxInputBytes = d.MaxInputBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = d.MaxNodes
	}
	if l.MaxInList <= 0 {
		l.MaxInList = d.MaxInList
	}
	return l
}

// ErrInvalid is matched (errors.Is) by every *Error: a client's mistake, to
// be answered with 400.
var ErrInvalid = errors.New("search: invalid request")

// Error is a client's mistake in a search or list option. Code is the key of
// the original's message catalogue where one exists (SEARCH_COND_INVALID_VAL,
// SYSLIB_DB_NO_COLUMN, ...) or a SEARCH_* key of this package
// (SEARCH_SQL_SYNTAX, SEARCH_LIMIT); Msg says what is wrong in words, naming
// the attribute and the offending value.
type Error struct {
	Code string
	Msg  string
}

// Error returns the key followed by the message, as Tapis messages read.
func (e *Error) Error() string { return e.Code + " " + e.Msg }

// Is makes every *Error match ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

func errf(code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// quote shows client input in a message: quoted, escaped and at most 80
// characters long.
func quote(s string) string {
	const maxLen = 80
	if len(s) > maxLen {
		cut := maxLen
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q...", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// The error codes of this package (the others are the original's keys).
const (
	codeLimit  = "SEARCH_LIMIT"
	codeSyntax = "SEARCH_SQL_SYNTAX"
)
