package main

import (
	"flag"
	"fmt"

	"github.com/tapis-go/tapis/adapters/globusauth"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/systems"
)

// globusOptions are the flags of the Globus client (GLOBUS systems'
// credentials through Globus Auth, checked with Globus Transfer).
type globusOptions struct {
	clientID, authURL, tokenURL, transferURL, redirectURL string
}

func (g *globusOptions) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&g.clientID, "globus-client-id", "", "client id of the native app registered with Globus Auth; enables Globus credentials for GLOBUS systems (else their endpoints answer 501)")
	fs.StringVar(&g.authURL, "globus-auth-url", globusauth.DefaultAuthURL, "Globus Auth authorize endpoint")
	fs.StringVar(&g.tokenURL, "globus-token-url", globusauth.DefaultTokenURL, "Globus Auth token endpoint")
	fs.StringVar(&g.transferURL, "globus-transfer-url", globusauth.DefaultTransferURL, "Globus Transfer API base URL (credential checks reach it under the host-check policy)")
	fs.StringVar(&g.redirectURL, "globus-redirect-url", globusauth.DefaultRedirectURL, "redirect URI registered for the Globus client (default: Globus's page showing the code)")
}

// globusClient returns the Globus client, or nil without a client id. Its
// Transfer checks run under a policy like the other host checks'.
func globusClient(g globusOptions, allowPrivate bool) (systems.Globus, error) {
	if g.clientID == "" {
		return nil, nil
	}
	c, err := globusauth.New(globusauth.Options{ClientID: g.clientID, AuthURL: g.authURL, TokenURL: g.tokenURL,
		TransferURL: g.transferURL, RedirectURL: g.redirectURL, Policy: hostcheck.Policy{AllowPrivate: allowPrivate}})
	if err != nil {
		return nil, fmt.Errorf("-globus-* flags: %w", err)
	}
	return c, nil
}
