package search

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Order is one sort key of a listing.
type Order struct {
	Attr *Attr
	Desc bool
}

// String shows the key in orderBy syntax, e.g. id(desc).
func (o Order) String() string {
	if o.Desc {
		return o.Attr.Name + "(desc)"
	}
	return o.Attr.Name + "(asc)"
}

var orderEntryRE = regexp.MustCompile(`^([^()]*)(?:\(([a-zA-Z]*)\))?$`)

// ParseOrderBy parses the orderBy query parameter (reference §8.2): a comma
// list of attr, attr(), attr(asc) or attr(desc), direction in any case,
// ascending by default, no spaces. Attributes are looked up in the schema
// like search attributes; Tags attributes cannot be sorted. An empty string
// (parameter absent) gives no orders; a blank one or a lone comma is an
// error, as in the original.
func ParseOrderBy(s string, sc *Schema) ([]Order, error) {
	if s == "" {
		return nil, nil
	}
	const code = "TAPIS_QUERY_PARAM_ORDERBY_ERROR"
	entries := splitEscaped(s, ',')
	for len(entries) > 0 && entries[len(entries)-1] == "" {
		entries = entries[:len(entries)-1]
	}
	if len(entries) == 0 || strings.TrimSpace(s) == "" {
		return nil, errf(code, "orderBy %s is empty; write e.g. orderBy=id(desc)", quote(s))
	}
	orders := make([]Order, 0, len(entries))
	for _, e := range entries {
		m := orderEntryRE.FindStringSubmatch(e)
		dir := ""
		if m != nil {
			dir = strings.ToLower(m[2])
		}
		if m == nil || dir != "" && dir != "asc" && dir != "desc" {
			return nil, errf(code, "orderBy entry %s is invalid; write attribute, attribute(asc) or attribute(desc)", quote(e))
		}
		if !attrNameRE.MatchString(m[1]) {
			return nil, errf(code, "orderBy entry %s: invalid attribute name %s", quote(e), quote(m[1]))
		}
		a, ok := sc.Lookup(m[1])
		if !ok {
			return nil, errf("SYSLIB_DB_NO_COLUMN_SORT", "cannot sort by %s: not an attribute that can be sorted", quote(m[1]))
		}
		if a.Type == Tags {
			return nil, errf("SYSLIB_DB_NO_COLUMN_SORT", "cannot sort by %s: it is a list", a.Name)
		}
		orders = append(orders, Order{Attr: a, Desc: dir == "desc"})
	}
	return orders, nil
}

// Select is the parsed select query parameter.
type Select struct {
	// All asks for every attribute with its native JSON type
	// (allAttributes, or an empty list).
	All bool
	// Fields lists the attributes to return in order when All is false:
	// id first unless the list names it, summaryAttributes expanded, each
	// name once. Names are as given (not trimmed, case-sensitive); the caller
	// ignores those it does not know.
	Fields []string
}

// ParseSelect parses the select query parameter (reference §8.1): a comma
// list (unescaped commas) of attribute names and the keywords allAttributes
// and summaryAttributes; summary is what summaryAttributes stands for. It
// never fails. Pass the endpoint's default (summaryAttributes or
// allAttributes) when the parameter is absent.
func ParseSelect(s string, summary []string) Select {
	var items []string
	for _, it := range splitEscaped(s, ',') {
		if it != "" {
			items = append(items, it)
		}
	}
	if len(items) == 0 || slices.Contains(items, "allAttributes") {
		return Select{All: true}
	}
	var fields []string
	add := func(names ...string) {
		for _, n := range names {
			if !slices.Contains(fields, n) {
				fields = append(fields, n)
			}
		}
	}
	if !slices.Contains(items, "id") {
		add("id")
	}
	for _, it := range items {
		if it == "summaryAttributes" {
			add(summary...)
		} else {
			add(it)
		}
	}
	return Select{Fields: fields}
}

// DefaultLimit is the limit of a listing that names none.
const DefaultLimit = 100

// Page is the validated paging of a listing.
type Page struct {
	// Limit is the most rows to return: the limit given (DefaultLimit when
	// absent), or the cap when unlimited (zero or negative, as the issue
	// asks; the original returned nothing for 0) or above the cap. It is
	// never 0.
	Limit int
	// Skip is the number of rows to skip (negative counts as 0).
	Skip int
	// StartAfter is the startAfter value as given.
	StartAfter string
	// After is the condition startAfter stands for — the first orderBy
	// attribute greater (ascending) or less (descending) than the value —
	// to be ANDed with the search; nil without startAfter. Rows tied with
	// the value on that attribute are skipped, as in the original.
	After Node
}

// ParsePage validates limit, skip and startAfter, given as their raw query
// values ("" when absent), against the parsed orderBy (reference §8.3).
// maxLimit caps every page (≤ 0: 1000). limit and skip must be 32-bit
// integers; startAfter needs orderBy, excludes skip (even skip=0) and must
// be a value of the first orderBy attribute's type.
func ParsePage(limit, skip, startAfter string, orders []Order, maxLimit int) (Page, error) {
	if maxLimit <= 0 {
		maxLimit = 1000
	}
	p := Page{Limit: DefaultLimit, StartAfter: startAfter}
	readInt := func(name, v string) (int, error) {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return 0, errf("TAPIS_QUERY_PARAM_NOTINT", "%s %s is not an integer", name, quote(v))
		}
		return int(n), nil
	}
	var err error
	if limit != "" {
		if p.Limit, err = readInt("limit", limit); err != nil {
			return Page{}, err
		}
	}
	if p.Limit <= 0 || p.Limit > maxLimit {
		p.Limit = maxLimit
	}
	if skip != "" {
		if p.Skip, err = readInt("skip", skip); err != nil {
			return Page{}, err
		}
		p.Skip = max(p.Skip, 0)
	}
	if startAfter == "" {
		return p, nil
	}
	switch {
	case len(orders) == 0:
		return Page{}, errf("TAPIS_QUERY_PARAM_INVALID_PAIR1", "startAfter needs orderBy")
	case skip != "":
		return Page{}, errf("TAPIS_QUERY_PARAM_INVALID_PAIR2", "startAfter and skip cannot be used together")
	}
	first := orders[0]
	if !utf8Text(startAfter) {
		return Page{}, errf("SYSLIB_DB_INVALID_SEARCH_VALUE", "startAfter %s is not valid UTF-8 text", quote(startAfter))
	}
	v, err := convert(first.Attr, startAfter)
	if err != nil {
		return Page{}, errf("SYSLIB_DB_INVALID_SEARCH_VALUE", "startAfter: %s", err.(*Error).Msg)
	}
	op := Gt
	if first.Desc {
		op = Lt
	}
	p.After = Cond{Attr: first.Attr, Op: op, Values: []any{v}}
	return p, nil
}

// ParseFlag reads a lenient boolean query parameter (computeTotal,
// showDeleted, ...): "true" in any case is true, anything else false.
func ParseFlag(s string) bool { return strings.EqualFold(s, "true") }
