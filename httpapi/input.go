package httpapi

import (
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/tapis-go/tapis/tenancy"
)

// The one check at the boundary for every text the API reads: no NUL byte
// and valid UTF-8 anywhere (SQLite ends a statement at a NUL and PostgreSQL
// refuses invalid UTF-8, so either would otherwise surface as a 500), and no
// control character at all in a parameter (path, query, header), which is
// always an identifier or a short value. Body text may carry tabs and line
// breaks and is checked for controls by the domain rules that know the field.

// badText says what is wrong with s, or "" when it is acceptable.
func badText(s string, param bool) string {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return "is not valid UTF-8"
		case r == 0:
			return "contains a NUL character"
		case param && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)):
			return "contains control characters"
		}
		i += size
	}
	return ""
}

// textProblems collects the broken fields of one request.
type textProblems []string

func (p *textProblems) check(name, s string, param bool) {
	if why := badText(s, param); why != "" {
		*p = append(*p, fmt.Sprintf("%s %s.", tenancy.Truncate(name), why))
	}
}

func (p textProblems) err() error {
	if len(p) == 0 {
		return nil
	}
	v := &tenancy.ValidationError{Prefix: "Invalid request", Problems: p}
	return v
}

// checkValues checks every key and value of a form or query.
func checkValues(where string, v url.Values) error {
	var p textProblems
	for _, k := range slices.Sorted(maps.Keys(v)) {
		p.check(where+" parameter name", k, true)
		for _, x := range v[k] {
			p.check(where+" parameter "+k, x, true)
		}
	}
	return p.err()
}

// inputPlan is how to find the strings of one operation input type.
type inputPlan struct {
	params []paramField // path, query and header parameters
	body   []int        // index of the Body field, when there is one
}

type paramField struct {
	index []int
	name  string
}

var inputPlans sync.Map // reflect.Type -> *inputPlan

func planOf(t reflect.Type) *inputPlan {
	if p, ok := inputPlans.Load(t); ok {
		return p.(*inputPlan)
	}
	plan := &inputPlan{}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		if f.Name == "Body" && len(f.Index) == 1 {
			plan.body = f.Index
			continue
		}
		for _, tag := range []string{"path", "query", "header"} {
			if name := f.Tag.Get(tag); name != "" {
				plan.params = append(plan.params, paramField{index: f.Index, name: strings.Split(name, ",")[0]})
			}
		}
	}
	p, _ := inputPlans.LoadOrStore(t, plan)
	return p.(*inputPlan)
}

// checkInput checks the parameters and body of an operation's parsed input.
func checkInput(in any) error {
	v := reflect.ValueOf(in)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	plan := planOf(v.Type())
	var p textProblems
	for _, f := range plan.params {
		if fv, err := v.FieldByIndexErr(f.index); err == nil {
			walkText(&p, f.name, fv, true, 0)
		}
	}
	if plan.body != nil {
		walkText(&p, "body", v.Field(plan.body[0]), false, 0)
	}
	return p.err()
}

// walkText checks every string reachable from v, naming it by its JSON path.
func walkText(p *textProblems, name string, v reflect.Value, param bool, depth int) {
	if depth > 64 || len(*p) >= 20 {
		return
	}
	switch v.Kind() {
	case reflect.String:
		p.check(name, v.String(), param)
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkText(p, name, v.Elem(), param, depth+1)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // raw bytes: parsed and checked by their handler
		}
		for i := range v.Len() {
			walkText(p, fmt.Sprintf("%s[%d]", name, i), v.Index(i), param, depth+1)
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			if k.Kind() == reflect.String {
				p.check(name+" key", k.String(), param)
			}
			walkText(p, name+"."+fmt.Sprint(k.Interface()), iter.Value(), param, depth+1)
		}
	case reflect.Struct:
		t := v.Type()
		for _, f := range reflect.VisibleFields(t) {
			if !f.IsExported() || f.Anonymous {
				continue
			}
			fname := f.Name
			if tag := strings.Split(f.Tag.Get("json"), ",")[0]; tag == "-" {
				continue
			} else if tag != "" {
				fname = tag
			}
			if fv, err := v.FieldByIndexErr(f.Index); err == nil {
				walkText(p, name+"."+fname, fv, param, depth+1)
			}
		}
	}
}
