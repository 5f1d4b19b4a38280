package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/tenancy"
)

// The cross-tenant, cross-user matrix of the Systems routes: every route of
// the API's own OpenAPI document under /v3/systems, for every principal, with
// the target system in each of two tenants. A route without an expectation
// fails the test, so new endpoints are covered when they appear.

// Principals: same-tenant users by the rights they hold on the target.
const (
	pOwner     = "owner"
	pNone      = "no rights"
	pRead      = "READ"
	pModify    = "MODIFY"
	pShared    = "shared"
	pPublic    = "public share"
	pOtherUser = "other-tenant user"
	pOtherAdm  = "other-tenant admin"
	pBadSvc    = "service for a tenant it may not act for"
	pNoToken   = "no token"
	pExpired   = "expired token"
	pRefresh   = "refresh token"
)

var matrixPrincipals = []string{pOwner, pNone, pRead, pModify, pShared, pPublic, pOtherUser, pOtherAdm, pBadSvc, pNoToken, pExpired, pRefresh}

// roleUser is the user of the target tenant each same-tenant role acts as.
var roleUser = map[string]string{pOwner: "testuser1", pNone: "testuser2", pRead: "testuser3", pModify: "testuser4", pShared: "testuser5", pPublic: "testuser6"}

// Operation classes by who may succeed.
var (
	readers   = []string{pOwner, pRead, pModify, pShared, pPublic}
	permRead  = []string{pOwner, pRead, pModify}
	modifiers = []string{pOwner, pModify}
	owners    = []string{pOwner}
	everyone  = []string{pOwner, pNone, pRead, pModify, pShared, pPublic}
)

// matrixOp describes one operation: who succeeds with which status, what a
// refused same-tenant user gets, and the request body.
type matrixOp struct {
	allowed   []string
	ok        int // status for allowed principals
	refused   int // status for same-tenant principals not allowed
	body      func(c *matrixCase) any
	query     string
	otherTen  int // status for users of the other tenant (on their own host)
	listCheck bool
}

var matrixOps = map[string]matrixOp{
	"healthCheck":                  {allowed: everyone, ok: 200, otherTen: 200},
	"readyCheck":                   {allowed: everyone, ok: 200, otherTen: 200},
	"getSystems":                   {allowed: everyone, ok: 200, otherTen: 200, query: "?listType=ALL&select=allAttributes", listCheck: true},
	"searchSystemsQueryParameters": {allowed: everyone, ok: 200, otherTen: 200, query: "?owner.neq=nobody&listType=ALL&select=allAttributes", listCheck: true},
	"searchSystemsRequestBody": {allowed: everyone, ok: 200, otherTen: 200, query: "?listType=ALL&select=allAttributes", listCheck: true,
		body: func(*matrixCase) any { return map[string]any{"search": []string{"owner <> 'nobody'"}} }},
	"matchConstraints": {allowed: everyone, ok: 501, otherTen: 501, body: func(*matrixCase) any { return map[string]any{"match": []string{"port > 0"}} }},
	"createSystem":     {allowed: everyone, ok: 201, otherTen: 201, body: func(c *matrixCase) any { return linuxSystem("n" + c.tag) }},
	"getSystem":        {allowed: readers, ok: 200, refused: 403, otherTen: 404},
	"isEnabled":        {allowed: readers, ok: 200, refused: 403, otherTen: 404},
	"getHistory":       {allowed: readers, ok: 200, refused: 403, otherTen: 404},
	"getShareInfo":     {allowed: readers, ok: 200, refused: 403, otherTen: 404},
	"patchSystem":      {allowed: modifiers, ok: 200, refused: 403, otherTen: 404, body: func(*matrixCase) any { return map[string]any{"description": "patched"} }},
	"putSystem": {allowed: modifiers, ok: 200, refused: 403, otherTen: 404, body: func(*matrixCase) any {
		return map[string]any{"host": "h2.example.org", "defaultAuthnMethod": "PASSWORD"}
	}},
	"shareSystem":            {allowed: modifiers, ok: 200, refused: 403, otherTen: 404, body: func(*matrixCase) any { return map[string]any{"users": []string{"testuser9"}} }},
	"unShareSystem":          {allowed: modifiers, ok: 200, refused: 403, otherTen: 404, body: func(*matrixCase) any { return map[string]any{"users": []string{"testuser9"}} }},
	"shareSystemPublic":      {allowed: modifiers, ok: 200, refused: 403, otherTen: 404},
	"unShareSystemPublic":    {allowed: modifiers, ok: 200, refused: 403, otherTen: 404},
	"unlinkFromParent":       {allowed: modifiers, ok: 200, refused: 403, otherTen: 404},
	"unlinkChildren":         {allowed: modifiers, ok: 200, refused: 403, otherTen: 404, query: "?all=true", body: func(*matrixCase) any { return map[string]any{} }},
	"enableSystem":           {allowed: owners, ok: 200, refused: 403, otherTen: 404},
	"disableSystem":          {allowed: owners, ok: 200, refused: 403, otherTen: 404},
	"deleteSystem":           {allowed: owners, ok: 200, refused: 403, otherTen: 404},
	"undeleteSystem":         {allowed: owners, ok: 200, refused: 403, otherTen: 404},
	"changeSystemOwner":      {allowed: owners, ok: 200, refused: 403, otherTen: 404},
	"grantUserPerms":         {allowed: owners, ok: 200, refused: 403, otherTen: 404, body: func(*matrixCase) any { return map[string]any{"permissions": []string{"READ"}} }},
	"revokeUserPerms":        {allowed: owners, ok: 200, refused: 403, otherTen: 404, body: func(*matrixCase) any { return map[string]any{"permissions": []string{"READ"}} }},
	"revokeUserPerm":         {allowed: owners, ok: 200, refused: 403, otherTen: 404},
	"getUserPerms":           {allowed: permRead, ok: 200, refused: 403, otherTen: 404},
	"createChildSystem":      {allowed: readers, ok: 400, refused: 403, otherTen: 404, body: func(*matrixCase) any { return map[string]any{"effectiveUserId": "u", "rootDir": "/k"} }},
	"getUserCredential":      {allowed: nil, refused: 403, otherTen: 403},
	"createUserCredential":   {allowed: owners, ok: credOK, refused: 403, otherTen: 404, query: "?skipCredentialCheck=true", body: func(*matrixCase) any { return map[string]any{"password": "pw-" + "matrix"} }},
	"removeUserCredential":   {allowed: owners, ok: credOK, refused: 403, otherTen: 404},
	"checkUserCredential":    {allowed: owners, ok: credCheck, refused: 403, otherTen: 404},
	"getGlobusAuthUrl":       {allowed: readers, ok: 400, refused: 403, otherTen: 404},
	"generateGlobusTokens":   {allowed: owners, ok: 400, refused: 403, otherTen: 404},
	"getSchedulerProfiles":   {allowed: everyone, ok: 200, otherTen: 200},
	"getSchedulerProfile":    {allowed: everyone, ok: 200, otherTen: 404},
	"createSchedulerProfile": {allowed: everyone, ok: 201, otherTen: 201, body: func(c *matrixCase) any { return map[string]any{"name": "np" + c.tag} }},
	"deleteSchedulerProfile": {allowed: owners, ok: 200, refused: 403, otherTen: 404},
}

// Credential operations of the owner in the test env (memory vault, no host
// checks): stored and removed; nothing stored to check for the target user.
const (
	credOK    = 200
	credCheck = 404
)

type matrixRoute struct{ method, path, id string }

// systemsRoutes lists the /v3/systems operations of the API's document.
func systemsRoutes(api huma.API) []matrixRoute {
	var out []matrixRoute
	for path, item := range api.OpenAPI().Paths {
		if !strings.HasPrefix(path, "/v3/systems") {
			continue
		}
		for method, op := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
			if op != nil {
				out = append(out, matrixRoute{method, path, op.OperationID})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

type matrixCase struct {
	tag      string // unique per case
	tenant   string // target tenant
	other    string // the other tenant
	system   string // target system id
	secret   string // in the target's description: must not reach refused callers
	uuid     string
	profile  string
	host     string
	otherHst string
}

type matrixEnv struct {
	t      *testing.T
	env    *testenv.Env
	tokens map[string]string
}

func (m *matrixEnv) token(tenant, user string, typ tenancy.AccountType) string {
	k := tenant + "|" + user + "|" + string(typ)
	if tok, ok := m.tokens[k]; ok {
		return tok
	}
	req := oauth2.MintRequest{TenantID: tenant, Username: user, AccountType: typ}
	if typ == tenancy.AccountService {
		req.TargetSite = "local"
	}
	tok := m.env.Token(m.t, req).Access.Raw
	m.tokens[k] = tok
	return tok
}

// setup creates the case's system (owned by testuser1 of c.tenant) with the
// permissions and shares the principals need, and a scheduler profile.
func (m *matrixEnv) setup(c *matrixCase, principal string) {
	ctx := context.Background()
	svc := m.env.Server.Systems()
	owner := tenancy.Principal{TenantID: c.tenant, Username: "testuser1", AccountType: tenancy.AccountUser, TokenTenantID: c.tenant, TokenUsername: "testuser1"}
	s := systems.Defaults()
	s.ID, s.SystemType, s.Host, s.DefaultAuthnMethod, s.RootDir = c.system, systems.TypeLinux, "h.example.org", systems.AuthnPKIKeys, "/data"
	s.Description = c.secret
	created, err := svc.Create(ctx, owner, systems.CreateInput{System: s})
	require.NoError(m.t, err)
	c.uuid = created.UUID
	_, err = svc.GrantPerms(ctx, owner, c.system, "testuser3", []string{"READ"})
	require.NoError(m.t, err)
	_, err = svc.GrantPerms(ctx, owner, c.system, "testuser4", []string{"MODIFY"})
	require.NoError(m.t, err)
	require.NoError(m.t, svc.Share(ctx, owner, c.system, []string{"testuser5"}, false))
	if principal == pPublic {
		require.NoError(m.t, svc.Share(ctx, owner, c.system, []string{systems.PublicGrantee}, false))
	}
	_, err = svc.CreateProfile(ctx, owner, systems.SchedulerProfile{Name: c.profile})
	require.NoError(m.t, err)
}

// request builds the call of principal on route for case c.
func (m *matrixEnv) request(r matrixRoute, op matrixOp, c *matrixCase, principal string) testenv.Request {
	path := r.path
	for _, p := range []string{"{systemId}", "{parentId}", "{childSystemId}", "{parentSystemId}"} {
		path = strings.ReplaceAll(path, p, c.system)
	}
	path = strings.NewReplacer("{userName}", "testuser2", "{permission}", "READ", "{name}", c.profile,
		"{authCode}", "code", "{sessionId}", "session").Replace(path)
	req := testenv.Request{Method: r.method, Path: path + op.query, Host: c.host, Headers: map[string]string{}}
	if op.body != nil {
		req.Body = op.body(c)
	}
	switch principal {
	case pOtherUser:
		req.Host, req.Headers["X-Tapis-Token"] = c.otherHst, m.token(c.other, "testuser1", tenancy.AccountUser)
	case pOtherAdm:
		admin := map[string]string{"dev": "testadmin", "other": "otheradmin"}[c.other]
		req.Host, req.Headers["X-Tapis-Token"] = c.otherHst, m.token(c.other, admin, tenancy.AccountUser)
	case pBadSvc:
		// A service of the other (non-admin) tenant acting for the owner.
		req.Headers["X-Tapis-Token"] = m.token(c.other, "jobs", tenancy.AccountService)
		req.Headers["X-Tapis-Tenant"], req.Headers["X-Tapis-User"] = c.tenant, "testuser1"
	case pNoToken:
	case pExpired:
		key, kid := m.env.SigningKey(m.t, c.tenant)
		claims := jwt.MapClaims{"jti": uuid.NewString(), "iss": "http://" + c.host + "/v3/tokens", "sub": "testuser1@" + c.tenant,
			"tapis/tenant_id": c.tenant, "tapis/token_type": "access", "tapis/delegation": false, "tapis/delegation_sub": nil,
			"tapis/username": "testuser1", "tapis/account_type": "user", "exp": time.Now().Add(-time.Hour).Unix()}
		req.Headers["X-Tapis-Token"] = sign(m.t, jwt.SigningMethodRS256, claims, key, kid)
	case pRefresh:
		req.Headers["X-Tapis-Token"] = m.env.Token(m.t, oauth2.MintRequest{TenantID: c.tenant, Username: "testuser1",
			AccountType: tenancy.AccountUser, GenerateRefresh: true}).Refresh.Raw
	default:
		req.Headers["X-Tapis-Token"] = m.token(c.tenant, roleUser[principal], tenancy.AccountUser)
	}
	return req
}

// expected is the status a principal must get.
func expected(r matrixRoute, op matrixOp, principal string) int {
	public := r.id == "healthCheck" || r.id == "readyCheck"
	switch principal {
	case pNoToken, pExpired, pRefresh:
		if public {
			return 200
		}
		return 401
	case pBadSvc:
		if public {
			return 200
		}
		return 403
	case pOtherUser, pOtherAdm:
		return op.otherTen
	}
	for _, a := range op.allowed {
		if a == principal {
			return op.ok
		}
	}
	return op.refused
}

func TestAuthorizationMatrix(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) { runMatrix(t, b.New(t)) })
	}
}

func runMatrix(t *testing.T, env *testenv.Env) {
	m := &matrixEnv{t: t, env: env, tokens: map[string]string{}}
	routes := systemsRoutes(env.API)
	require.NotEmpty(t, routes)
	for _, r := range routes {
		_, ok := matrixOps[r.id]
		require.True(t, ok, "route %s %s (%s) has no expectation in the matrix: add one", r.method, r.path, r.id)
	}
	cases, leaks := 0, 0
	n := 0
	for _, tenants := range [][2]string{{"dev", "other"}, {"other", "dev"}} {
		for _, r := range routes {
			op := matrixOps[r.id]
			for _, principal := range matrixPrincipals {
				n++
				c := &matrixCase{tag: fmt.Sprint(n), tenant: tenants[0], other: tenants[1], system: fmt.Sprintf("m%d", n),
					secret: fmt.Sprintf("SECRET-%d-%s", n, uuid.NewString()), profile: fmt.Sprintf("p%d", n),
					host: tenants[0] + "." + testenv.Host, otherHst: tenants[1] + "." + testenv.Host}
				m.setup(c, principal)
				resp := env.Do(t, m.request(r, op, c, principal))
				cases++
				want := expected(r, op, principal)
				name := fmt.Sprintf("%s %s as %s in %s", r.method, r.path, principal, c.tenant)
				if !assert.Equal(t, want, resp.Code, "%s: %s", name, resp.Raw) {
					continue
				}
				mayRead := resp.Code < 300 && slices.Contains(readers, principal) && principal != pNone
				if !mayRead && (strings.Contains(string(resp.Raw), c.secret) || strings.Contains(string(resp.Raw), c.uuid)) {
					leaks++
					t.Errorf("%s: the body leaks the target system: %s", name, resp.Raw)
				}
				if op.listCheck && resp.Code == 200 {
					leaks += m.checkList(t, name, resp, r, op, c, principal)
				}
			}
		}
	}
	t.Logf("authorization matrix: %d (route, principal, tenant) cases over %d routes, %d leaks", cases, len(routes), leaks)
	assert.GreaterOrEqual(t, cases, 700)
	assert.Zero(t, leaks)
}

// checkList asserts that every listed system can be read by the principal:
// a list never shows a row its caller may not see.
func (m *matrixEnv) checkList(t *testing.T, name string, resp testenv.Response, r matrixRoute, op matrixOp, c *matrixCase, principal string) int {
	leaks := 0
	rows, _ := resp.Body["result"].([]any)
	for _, row := range rows {
		id, _ := row.(map[string]any)["id"].(string)
		req := m.request(matrixRoute{method: http.MethodGet, path: "/v3/systems/" + id, id: "getSystem"}, matrixOp{}, c, principal)
		if got := m.env.Do(t, req); got.Code != 200 {
			leaks++
			t.Errorf("%s: listed %s, which the caller cannot read (%d)", name, id, got.Code)
		}
	}
	return leaks
}
