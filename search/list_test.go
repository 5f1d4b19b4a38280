package search

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Reference §8.2.
func TestParseOrderBy(t *testing.T) {
	show := func(orders []Order) string {
		parts := make([]string, len(orders))
		for i, o := range orders {
			parts[i] = o.String()
		}
		return strings.Join(parts, ",")
	}
	for in, want := range map[string]string{
		"name": "name(asc)", "name()": "name(asc)", "name(asc)": "name(asc)", "name(ASC)": "name(asc)",
		"name(desc)": "name(desc)", "name(DESC)": "name(desc)", "name(Desc)": "name(desc)",
		"name(asc),created(desc)": "name(asc),created(desc)",
		"name(asc),created":       "name(asc),created(asc)",
		"name,created(desc)":      "name(asc),created(desc)",
		"name,created":            "name(asc),created(asc)",
		"systemType(desc),ID":     "systemType(desc),id(asc)",
		"bucket_name(desc),id":    "bucketName(desc),id(asc)",
		"id,":                     "id(asc)",
	} {
		orders, err := ParseOrderBy(in, sysSchema)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, show(orders), in)
		}
	}
	orders, err := ParseOrderBy("", sysSchema)
	assert.NoError(t, err)
	assert.Nil(t, orders, "absent: no order")

	for in, says := range map[string]string{
		" ": "empty", ",": "empty",
		"name(": "invalid", "name(asc": "invalid", "(asc)": "invalid", "name(UP)": "invalid",
		"invalid?col": "invalid attribute name", "1invalidcol": "invalid attribute name", "invalid-col": "invalid attribute name",
		"name ,created": "invalid attribute name", "name, created": "invalid attribute name",
	} {
		_, err := ParseOrderBy(in, sysSchema)
		assertCode(t, "TAPIS_QUERY_PARAM_ORDERBY_ERROR", err)
		if err != nil {
			assert.Contains(t, err.Error(), says, in)
		}
	}
	for in, says := range map[string]string{"isPublic": `"isPublic"`, "notes(desc)": `"notes"`, "tags": "list"} {
		_, err := ParseOrderBy(in, sysSchema)
		assertCode(t, "SYSLIB_DB_NO_COLUMN_SORT", err)
		if err != nil {
			assert.Contains(t, err.Error(), says, in)
		}
	}
}

// Reference §8.1.
func TestParseSelect(t *testing.T) {
	summary := []string{"id", "systemType", "owner", "host", "effectiveUserId", "defaultAuthnMethod", "canExec", "parentId"}
	for in, want := range map[string]Select{
		"":                                 {All: true},
		",":                                {All: true},
		"allAttributes":                    {All: true},
		"id,allAttributes,owner":           {All: true},
		"summaryAttributes":                {Fields: summary},
		"owner,host":                       {Fields: []string{"id", "owner", "host"}},
		"owner,id":                         {Fields: []string{"owner", "id"}},
		"id, owner":                        {Fields: []string{"id", " owner"}},
		"owner,owner,summaryAttributes,id": {Fields: []string{"owner", "id", "systemType", "host", "effectiveUserId", "defaultAuthnMethod", "canExec", "parentId"}},
		"tags,summaryAttributes":           {Fields: append([]string{"id", "tags"}, summary[1:]...)},
		"Owner":                            {Fields: []string{"id", "Owner"}},
	} {
		assert.Equal(t, want, ParseSelect(in, summary), in)
	}
}

// Reference §8.3.
func TestParsePage(t *testing.T) {
	asc, err := ParseOrderBy("id", sysSchema)
	require.NoError(t, err)
	desc, err := ParseOrderBy("port(desc),id", sysSchema)
	require.NoError(t, err)
	created, err := ParseOrderBy("created", sysSchema)
	require.NoError(t, err)

	for _, tc := range []struct {
		limit, skip string
		wantLimit   int
		wantSkip    int
	}{
		{"", "", 100, 0},
		{"5", "", 5, 0},
		{"0", "", 500, 0},
		{"-1", "", 500, 0},
		{"-100", "", 500, 0},
		{"100000", "", 500, 0},
		{"500", "3", 500, 3},
		{"10", "-4", 10, 0},
	} {
		p, err := ParsePage(tc.limit, tc.skip, "", nil, 500)
		require.NoError(t, err)
		assert.Equal(t, tc.wantLimit, p.Limit, tc.limit)
		assert.Equal(t, tc.wantSkip, p.Skip, tc.skip)
		assert.Nil(t, p.After)
	}
	p, err := ParsePage("-1", "", "", nil, 0)
	require.NoError(t, err)
	assert.Equal(t, 1000, p.Limit, "the default cap")

	p, err = ParsePage("2", "", "sys005", asc, 0)
	require.NoError(t, err)
	assert.Equal(t, "id.GT.sys005", p.After.String())
	assert.Equal(t, "sys005", p.StartAfter)
	p, err = ParsePage("2", "", "18", desc, 0)
	require.NoError(t, err)
	assert.Equal(t, "port.LT.18", p.After.String())
	p, err = ParsePage("", "", "2200-04", created, 0)
	require.NoError(t, err)
	assert.Equal(t, "created.GT.2200-04-01T00:00:00Z", p.After.String())

	for _, tc := range []struct{ limit, skip, after string }{
		{"x", "", ""}, {"1.5", "", ""}, {"", "y", ""}, {"3000000000", "", ""}, {" 1", "", ""},
	} {
		_, err := ParsePage(tc.limit, tc.skip, tc.after, asc, 0)
		assertCode(t, "TAPIS_QUERY_PARAM_NOTINT", err)
	}
	_, err = ParsePage("", "", "sys005", nil, 0)
	assertCode(t, "TAPIS_QUERY_PARAM_INVALID_PAIR1", err)
	_, err = ParsePage("", "0", "sys005", asc, 0)
	assertCode(t, "TAPIS_QUERY_PARAM_INVALID_PAIR2", err)
	_, err = ParsePage("", "", "abc", desc, 0)
	assertCode(t, "SYSLIB_DB_INVALID_SEARCH_VALUE", err)
	assert.ErrorContains(t, err, "startAfter")
	assert.ErrorContains(t, err, `"abc"`)
	_, err = ParsePage("", "", "yesterday", created, 0)
	assertCode(t, "SYSLIB_DB_INVALID_SEARCH_VALUE", err)
	_, err = ParsePage("", "", "a\xff", asc, 0)
	assertCode(t, "SYSLIB_DB_INVALID_SEARCH_VALUE", err)
}

func TestParseFlag(t *testing.T) {
	for in, want := range map[string]bool{"true": true, "TRUE": true, "True": true, "false": false, "": false, "yes": false, "1": false} {
		assert.Equal(t, want, ParseFlag(in), in)
	}
}
