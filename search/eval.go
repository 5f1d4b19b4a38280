package search

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Row is one record as Eval sees it. Field is asked for an attribute's Name
// (camelCase) and answers a value of the attribute's type: a string (or a
// type whose kind is string, such as an enum type) for String and Enum, any
// integer type for Int, a bool for Bool, a time.Time for Timestamp, a
// []string for Tags; a pointer to one of these is followed. nil, a nil
// pointer or a value of another type is NULL.
type Row interface {
	Field(name string) any
}

// Fields is a Row held in a map from attribute name to value.
type Fields map[string]any

// Field returns the value stored under name (nil when absent).
func (f Fields) Field(name string) any { return f[name] }

// Eval reports whether row satisfies n. A nil n matches every row. The
// answers are those of the WHERE clause ToSQL builds over the same data
// (see the package comment for NULL, case and collation).
func Eval(n Node, row Row) bool {
	switch n := n.(type) {
	case nil:
		return true
	case And:
		for _, c := range n {
			if !Eval(c, row) {
				return false
			}
		}
		return true
	case Or:
		for _, c := range n {
			if Eval(c, row) {
				return true
			}
		}
		return false
	case Cond:
		return evalCond(n, row)
	}
	return false
}

func evalCond(c Cond, row Row) bool {
	v, ok := fieldValue(c.Attr, row)
	if !ok {
		return false // NULL: no condition holds, negated ones included
	}
	if c.Attr.Type == Tags {
		tags := v.([]string)
		hit := slices.ContainsFunc(c.Values, func(want any) bool { return slices.Contains(tags, want.(string)) })
		if c.Op == In || c.Op == Contains {
			return hit
		}
		return !hit // Nin, Ncontains
	}
	switch c.Op {
	case Eq:
		return compare(v, c.Values[0]) == 0
	case Neq:
		return compare(v, c.Values[0]) != 0
	case Lt:
		return compare(v, c.Values[0]) < 0
	case Lte:
		return compare(v, c.Values[0]) <= 0
	case Gt:
		return compare(v, c.Values[0]) > 0
	case Gte:
		return compare(v, c.Values[0]) >= 0
	case Between, Nbetween:
		in := compare(v, c.Values[0]) >= 0 && compare(v, c.Values[1]) <= 0
		return in == (c.Op == Between)
	case In, Nin:
		hit := slices.ContainsFunc(c.Values, func(want any) bool { return compare(v, want) == 0 })
		return hit == (c.Op == In)
	case Like, Nlike:
		return c.Values[0].(Pattern).Match(v.(string)) == (c.Op == Like)
	}
	return false
}

// fieldValue reads an attribute of a row as the Go type of its Type:
// string, int64, bool, time.Time (UTC, microseconds) or []string. ok is
// false for NULL.
func fieldValue(a *Attr, row Row) (any, bool) {
	v := reflect.ValueOf(row.Field(a.Name))
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil, false
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		return nil, false
	}
	switch a.Type {
	case String, Enum:
		if v.Kind() == reflect.String {
			return v.String(), true
		}
	case Int:
		switch {
		case v.CanInt():
			return v.Int(), true
		case v.CanUint() && v.Uint() <= 1<<63-1:
			return int64(v.Uint()), true
		}
	case Bool:
		if v.Kind() == reflect.Bool {
			return v.Bool(), true
		}
	case Timestamp:
		if t, ok := v.Interface().(time.Time); ok {
			return t.UTC().Truncate(time.Microsecond), true
		}
	case Tags:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String {
			tags := make([]string, v.Len())
			for i := range tags {
				tags[i] = v.Index(i).String()
			}
			return tags, true
		}
	}
	return nil, false
}

// compare orders two values of one attribute type: strings by bytes,
// false before true, times in time order.
func compare(a, b any) int {
	switch a := a.(type) {
	case string:
		return strings.Compare(a, b.(string))
	case int64:
		return cmp.Compare(a, b.(int64))
	case bool:
		switch b := b.(bool); {
		case a == b:
			return 0
		case b:
			return -1
		}
		return 1
	case time.Time:
		return a.Compare(b.(time.Time))
	}
	return 0
}

// CompareRows orders two rows by orders, as OrderSQL's ORDER BY does:
// NULLs first in ascending order (last in descending), strings by bytes,
// false before true. Rows equal on every key compare 0; append a unique
// attribute (id) to orders for a total order.
func CompareRows(a, b Row, orders []Order) int {
	for _, o := range orders {
		va, okA := fieldValue(o.Attr, a)
		vb, okB := fieldValue(o.Attr, b)
		c := 0
		switch {
		case !okA && !okB:
		case !okA:
			c = -1
		case !okB:
			c = 1
		case o.Attr.Type == Tags:
			c = slices.Compare(va.([]string), vb.([]string))
		default:
			c = compare(va, vb)
		}
		if o.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}
