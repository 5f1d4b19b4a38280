package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/search"
	"github.com/tapis-go/tapis/systems"
)

// ListOptions are the listing parameters of the system lists and searches
// (reference/systems.md §8), kept as given so that errors can name them.
type ListOptions struct {
	ListType        string `query:"listType" doc:"OWNED (default), SHARED_PUBLIC or ALL."`
	Limit           string `query:"limit" doc:"Maximum number of results (default 100; zero or negative: the server's cap, 1000 unless configured)."`
	Skip            string `query:"skip" doc:"Results to skip."`
	StartAfter      string `query:"startAfter" doc:"Start after this value of the first orderBy attribute (needs orderBy, not with skip)."`
	OrderBy         string `query:"orderBy" doc:"attr(asc|desc),... ; without it results are ordered by id."`
	Select          string `query:"select" doc:"allAttributes, summaryAttributes (default) or a comma list of attributes."`
	ComputeTotal    string `query:"computeTotal" doc:"Report the total number of matches in metadata.totalCount."`
	ShowDeleted     string `query:"showDeleted" doc:"Include deleted systems."`
	ImpersonationID string `query:"impersonationId" doc:"List as this user (tenant admins and some services)."`
}

// listSystems runs a listing with the conditions already parsed.
func (h *handlers) listSystems(ctx context.Context, o ListOptions, node search.Node) (*SysOutput[[]SystemJSON], error) {
	lt, err := systems.ParseListType(o.ListType)
	if err != nil {
		return nil, err
	}
	orders, err := search.ParseOrderBy(o.OrderBy, systems.SearchSchema)
	if err != nil {
		return nil, err
	}
	pg, err := search.ParsePage(o.Limit, o.Skip, o.StartAfter, orders, h.opt.MaxListLimit)
	if err != nil {
		return nil, err
	}
	sel := o.Select
	if sel == "" {
		sel = "summaryAttributes"
	}
	shape := search.ParseSelect(sel, systems.SummaryAttributes())
	withShares := shape.All || slices.Contains(shape.Fields, "isPublic") || slices.Contains(shape.Fields, "sharedWithUsers")
	list, total, err := h.svc.Systems.List(ctx, principalOf(ctx), systems.ListQuery{ListType: lt, ShowDeleted: search.ParseFlag(o.ShowDeleted),
		Search: search.AndOf(node, pg.After), Order: orders, Limit: pg.Limit, Skip: pg.Skip,
		ComputeTotal: search.ParseFlag(o.ComputeTotal), WithShares: withShares, ImpersonationID: o.ImpersonationID,
		Fields: shape.Fields})
	if err != nil {
		return nil, err
	}
	out := make([]SystemJSON, 0, len(list))
	for _, s := range list {
		out = append(out, selectFields(s, shape))
	}
	res := sysOK(out, fmt.Sprintf("TAPIS_FOUND Systems found: %d systems", len(out)))
	var orderBy, startAfter any
	if o.OrderBy != "" {
		orderBy = o.OrderBy
	}
	if o.StartAfter != "" {
		startAfter = o.StartAfter
	}
	res.Body.Metadata = map[string]any{"recordCount": len(out), "recordLimit": pg.Limit, "recordsSkipped": pg.Skip,
		"orderBy": orderBy, "startAfter": startAfter, "totalCount": total}
	return res, nil
}

// freeFormParam is the name the Systems spec gives the free-form conditions
// of GET /v3/systems/search. Generated clients (@tapis/tapis-typescript)
// send a condition as freeFormParameterName[id.like]=abc*; the spec's own
// form encoding is the plain id.like=abc*. Both are accepted.
const freeFormParam = "freeFormParameterName"

// unwrapFreeForm turns every freeFormParameterName[attr.op]=value into
// attr.op=value. It refuses a wrapper that names no condition, nests
// brackets, or wraps a list option (which would silently not apply).
func unwrapFreeForm(q url.Values) (url.Values, error) {
	out := make(url.Values, len(q))
	var bad []string
	for k, vs := range q {
		inner, wrapped := strings.CutPrefix(k, freeFormParam)
		if !wrapped || inner == "" {
			out[k] = append(out[k], vs...)
			continue
		}
		name, closed := strings.CutSuffix(strings.TrimPrefix(inner, "["), "]")
		switch {
		case !strings.HasPrefix(inner, "[") || !closed || name == "" || strings.ContainsAny(name, "[]"):
			bad = append(bad, fmt.Sprintf("%s: write a condition as %s[attribute.operator]=value or attribute.operator=value", shortQuote(k), freeFormParam))
		case slices.ContainsFunc(search.ReservedParams(), func(r string) bool { return strings.EqualFold(r, name) }):
			bad = append(bad, fmt.Sprintf("%s: %s is a list option, not a condition; send it as a parameter of its own", shortQuote(k), shortQuote(name)))
		default:
			out[name] = append(out[name], vs...)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return nil, &search.Error{Code: "SEARCH_PARAM", Msg: strings.Join(bad, "; ")}
	}
	return out, nil
}

// shortQuote shows a client's parameter name in a message: quoted and at
// most 80 characters long.
func shortQuote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return strconv.Quote(s)
}

type queryKey struct{}

// queryMiddleware keeps the raw query for GET /v3/systems/search, whose
// conditions are the query parameters themselves.
func queryMiddleware(ctx huma.Context, next func(huma.Context)) {
	u := ctx.URL()
	next(huma.WithValue(ctx, queryKey{}, u.Query()))
}

func (h *handlers) registerSearch(api huma.API) {
	tags := []string{"Systems"}
	register(api, h, huma.Operation{OperationID: "searchSystemsQueryParameters", Method: http.MethodGet, Path: "/v3/systems/search",
		Summary: "Search systems: each query parameter attr.op=value is a condition.", Tags: tags,
		Middlewares: huma.Middlewares{queryMiddleware}}, authRequired,
		func(ctx context.Context, in *ListOptions) (*SysOutput[[]SystemJSON], error) {
			q, _ := ctx.Value(queryKey{}).(url.Values)
			q, err := unwrapFreeForm(q)
			if err != nil {
				return nil, err
			}
			node, err := search.ParseParams(q, systems.SearchSchema, nil, search.DefaultLimits())
			if err != nil {
				return nil, err
			}
			return h.listSystems(ctx, *in, node)
		})
	type bodyIn struct {
		ListOptions
		Body struct {
			Search []string `json:"search" minItems:"1" maxItems:"100" doc:"SQL-like conditions, joined with spaces."`
		}
	}
	register(api, h, huma.Operation{OperationID: "searchSystemsRequestBody", Method: http.MethodPost, Path: "/v3/systems/search",
		Summary: "Search systems with SQL-like conditions.", Tags: tags}, authRequired,
		func(ctx context.Context, in *bodyIn) (*SysOutput[[]SystemJSON], error) {
			var node search.Node
			if strings.TrimSpace(strings.Join(in.Body.Search, " ")) != "" {
				n, err := search.ParseSQL(in.Body.Search, systems.SearchSchema, search.DefaultLimits())
				if err != nil {
					return nil, err
				}
				node = n
			}
			return h.listSystems(ctx, in.ListOptions, node)
		})
	// The spec's ReqMatchConstraints: the body must parse (a bad one is a
	// 400) although matching is not supported.
	type matchIn struct {
		Body struct {
			Match []string `json:"match" minItems:"1" maxItems:"100" doc:"SQL-like constraint conditions, joined with spaces."`
		}
	}
	register(api, h, huma.Operation{OperationID: "matchConstraints", Method: http.MethodPost, Path: "/v3/systems/match/constraints",
		Summary: "Match systems against capability constraints (not supported, as in the original).", Tags: tags}, authRequired,
		func(context.Context, *matchIn) (*SysOutput[Null], error) {
			return nil, NewError(http.StatusNotImplemented, "SYSAPI_MATCH_NOT_SUPPORTED Matching constraints is not supported (the original service does not implement it either).")
		})
}
