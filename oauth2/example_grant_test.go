package oauth2_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/tenancy"
)

// exchangeGrant is a token-exchange-like grant (after RFC 8693): a
// confidential client trades a user's access token, sent as the
// subject_token parameter, for a short-lived access token of its own for
// that user. It uses nothing but the GrantContext.
type exchangeGrant struct{}

var _ oauth2.Grant = exchangeGrant{}

func (exchangeGrant) Type() string { return "urn:ietf:params:oauth:grant-type:token-exchange" }

func (exchangeGrant) Token(ctx context.Context, g oauth2.GrantContext, req oauth2.TokenRequest) (oauth2.TokenPair, error) {
	client, err := g.AuthenticateClient(ctx, req.ClientID, req.ClientKey)
	if err != nil {
		return oauth2.TokenPair{}, err
	}
	if client.Public() {
		return oauth2.TokenPair{}, &oauth2.GrantError{Code: "unauthorized_client", Description: "Only a confidential client may exchange tokens."}
	}
	subject, err := g.ValidateToken(ctx, req.Params.Get("subject_token"), "access")
	if errors.Is(err, oauth2.ErrInvalidToken) || (err == nil && subject.AccountType != tenancy.AccountUser) {
		return oauth2.TokenPair{}, &oauth2.GrantError{Code: "invalid_grant", Description: "subject_token must be a user's access token of this tenant."}
	}
	if err != nil {
		return oauth2.TokenPair{}, err
	}
	return g.Issue(ctx, oauth2.IssueRequest{Username: subject.Username, Client: &client, AccessTTL: time.Minute})
}

// ExampleGrant adds a grant to the built-in ones and runs it through
// Provider.Token (POST /v3/oauth2/token passes its grant_type and its
// other form fields, in TokenRequest.Params, the same way).
func ExampleGrant() {
	ctx := context.Background()
	st := memory.New()
	srv, err := tapis.New(tapis.Config{Store: st, KEK: seal.NewKey(),
		PasswordCost: bcrypt.MinCost,
		Grants:       append(oauth2.DefaultGrants(), exchangeGrant{})})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	clientKey := seedExample(ctx, srv)
	prov := srv.OAuth2()

	// alice signs in with the built-in password grant (through the public
	// client cli, so she gets a refresh token too)...
	signIn, err := prov.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantPassword,
		ClientID: "cli", Username: "alice", Password: "alice-password"})
	if err != nil {
		panic(err)
	}
	// ...and the reports service exchanges her token for one of its own.
	exchange := oauth2.TokenRequest{TenantID: "dev", GrantType: exchangeGrant{}.Type(), ClientID: "reports",
		ClientKey: clientKey, Params: url.Values{"subject_token": {signIn.Access.Raw}}}
	pair, err := prov.Token(ctx, exchange)
	if err != nil {
		panic(err)
	}
	claims, err := srv.Tokens().Validate(ctx, pair.Access.Raw, "access")
	if err != nil {
		panic(err)
	}
	fmt.Println(claims.Username, claims.Raw["tapis/client_id"], claims.Raw["tapis/grant_type"])
	fmt.Println("refresh token:", pair.Refresh != nil, "lifetime:", pair.Access.ExpiresIn, "s")

	// The grant's own rule: a refresh token is no subject_token.
	exchange.Params.Set("subject_token", signIn.Refresh.Raw)
	_, err = prov.Token(ctx, exchange)
	var ge *oauth2.GrantError
	fmt.Println(errors.As(err, &ge), ge.Code)

	// The tenant's configuration still decides which grants it allows.
	admin := tenancy.Principal{TenantID: "dev", Username: "testadmin", AccountType: tenancy.AccountUser,
		TokenTenantID: "dev", TokenUsername: "testadmin"}
	if _, err := prov.UpdateConfig(ctx, admin, oauth2.ConfigUpdate{AllowableGrantTypes: &[]string{oauth2.GrantPassword}}); err != nil {
		panic(err)
	}
	exchange.Params.Set("subject_token", signIn.Access.Raw)
	_, err = prov.Token(ctx, exchange)
	fmt.Println(errors.As(err, &ge), ge.Code)
	// Output:
	// alice reports urn:ietf:params:oauth:grant-type:token-exchange
	// refresh token: false lifetime: 60 s
	// true invalid_grant
	// true unsupported_grant_type
}

// seedExample creates site local, tenant dev (admin testadmin), the user
// alice, her public client cli and her confidential client reports; it
// returns the key of reports.
func seedExample(ctx context.Context, srv *tapis.Server) string {
	ten := srv.Tenancy()
	must := func(_ any, err error) {
		if err != nil {
			panic(err)
		}
	}
	must(ten.BootstrapOwner(ctx, tenancy.Owner{Name: "Example", Email: "owner@example.org", Institution: "Example"}))
	must(ten.BootstrapSite(ctx, tenancy.Site{ID: "local", BaseURL: "https://tapis.example.org", Primary: true,
		SiteAdminTenantID: "dev", TenantBaseURLTemplate: "https://${tenant_id}.tapis.example.org",
		Services: []string{"tenants", "tokens", "authenticator"}}))
	base := "https://dev.tapis.example.org"
	must(ten.BootstrapTenant(ctx, tenancy.Tenant{ID: "dev", SiteID: "local", BaseURL: base, TokenService: base + "/v3/tokens",
		SecurityKernel: base + "/v3/security", Authenticator: base + "/v3/oauth2", Owner: "owner@example.org", AdminUser: "testadmin"}))
	must(nil, srv.Tokens().Accounts.Set(ctx, "dev", "alice", tenancy.AccountUser, "alice-password"))
	alice := tenancy.Principal{TenantID: "dev", Username: "alice", AccountType: tenancy.AccountUser, TokenTenantID: "dev", TokenUsername: "alice"}
	_, _, err := srv.OAuth2().CreateClient(ctx, alice, oauth2.NewClient{ClientID: "cli", Public: true})
	must(nil, err)
	_, key, err := srv.OAuth2().CreateClient(ctx, alice, oauth2.NewClient{ClientID: "reports"})
	must(nil, err)
	return key
}
