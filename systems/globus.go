package systems

import (
	"context"

	"github.com/tapis-go/tapis/tenancy"
)

// Globus is what the Globus endpoints need from a Globus Auth client (the
// original used its GlobusProxy service). An embedder supplies one through
// Config.Globus; without it the endpoints answer 501.
type Globus interface {
	// AuthURL starts an authorization for the collection (endpoint) id and
	// returns the URL the user opens and the session that ties the answer
	// to it.
	AuthURL(ctx context.Context, collectionID string) (url, sessionID string, err error)
	// ExchangeTokens trades the code the user received for tokens.
	ExchangeTokens(ctx context.Context, authCode, sessionID string) (accessToken, refreshToken string, err error)
}

func (svc *Service) globus() (Globus, error) {
	if svc.gl == nil {
		return nil, errorf(ErrNotConfigured, "SYSAPI_GLOBUS_NOT_CONFIGURED Globus is not configured on this server.")
	}
	return svc.gl, nil
}

// GlobusAuthURL starts a Globus authorization for a GLOBUS system the
// principal may read.
func (svc *Service) GlobusAuthURL(ctx context.Context, p tenancy.Principal, id string) (url, sessionID string, err error) {
	s, err := svc.live(ctx, p.TenantID, id)
	if err != nil {
		return "", "", err
	}
	if err := svc.authz.Authorize(ctx, p, ActionRead, s); err != nil {
		return "", "", err
	}
	if err := isGlobus(s); err != nil {
		return "", "", err
	}
	gl, err := svc.globus()
	if err != nil {
		return "", "", err
	}
	return gl.AuthURL(ctx, s.Host)
}

// GenerateGlobusTokens exchanges a Globus code for tokens and stores them as
// user's TOKEN credential (who may set credentials may do this).
func (svc *Service) GenerateGlobusTokens(ctx context.Context, p tenancy.Principal, id, user, authCode, sessionID string) error {
	s, err := svc.credentialTarget(ctx, p, id, user)
	if err != nil {
		return err
	}
	if err := isGlobus(s); err != nil {
		return err
	}
	gl, err := svc.globus()
	if err != nil {
		return err
	}
	access, refresh, err := gl.ExchangeTokens(ctx, authCode, sessionID)
	if err != nil {
		return err
	}
	if err := svc.putCredential(ctx, p, s, user, Credential{AccessToken: access, RefreshToken: refresh}); err != nil {
		return err
	}
	desc := map[string]any{"System": id, "TargetUser": user, "Credential": map[string]string{"accessToken": "***", "refreshToken": "***"}}
	return svc.store.AddHistory(ctx, svc.history(p, id, "setAccessRefreshTokens", desc))
}

// isGlobus refuses other system types (400, as the newer spec says).
func isGlobus(s System) error {
	if s.SystemType != TypeGlobus {
		return errorf(ErrInvalid, "SYSAPI_GLOBUS_NOT_GLOBUS System %s is of type %s, not GLOBUS.", s.ID, s.SystemType)
	}
	return nil
}
