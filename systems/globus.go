package systems

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"

	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/tenancy"
)

// Globus credentials (reference/systems.md §5.3). A user starts an
// authorization with GlobusAuthURL (a Globus Auth URL and a session id),
// signs in and consents at Globus, and finishes with GenerateGlobusTokens
// (the code Globus showed and the session id); the tokens become the user's
// TOKEN credential. The PKCE verifier of a session never leaves the server
// (the original handed it to the client as the session id): it waits in the
// GlobusSessionStore, sealed at rest, bound to the tenant, the system and the
// user who started the flow, for GlobusSessionTTL, and is taken once, by
// whichever instance the user reaches.

// Errors of a Globus client (Globus implementations wrap one of them; their
// messages never carry a token, code or verifier).
var (
	// ErrGlobusRefused means Globus Auth refused a code or a refresh token
	// (expired, revoked, used before, or not issued to this client): the
	// user must authorize again. HTTP 400.
	ErrGlobusRefused = errors.New("refused by Globus Auth")
	// ErrUpstream means a service the server relies on (Globus Auth) failed
	// or could not be reached. HTTP 502.
	ErrUpstream = errors.New("an upstream service failed")
)

const (
	// GlobusSessionTTL is how long a started Globus authorization can be
	// finished.
	GlobusSessionTTL = 15 * time.Minute
	// GlobusRefreshMargin: a stored Globus access token that expires within
	// it is refreshed before it is handed out or checked.
	GlobusRefreshMargin = time.Minute
	// GlobusTokenLifetime is the lifetime assumed for a stored Globus access
	// token whose expiry is unknown (tokens written through the credential
	// endpoint): Globus access tokens live 48 hours from when they were
	// stored at the latest.
	GlobusTokenLifetime = 48 * time.Hour
)

// GlobusTokens is an access token for Globus Transfer and the refresh token
// that renews it.
type GlobusTokens struct {
	AccessToken  string
	RefreshToken string // "" from a refresh: the old one stays valid
	Expires      time.Time
}

// String never shows the tokens.
func (GlobusTokens) String() string { return "systems.GlobusTokens{redacted}" }

// GoString never shows the tokens either.
func (t GlobusTokens) GoString() string { return t.String() }

// Globus is a Globus Auth and Transfer client (the original used its
// GlobusProxy service): adapters/globusauth, or an embedder's own. Without
// one, the Globus endpoints answer 501 and GLOBUS credentials are stored
// unchecked, as the original does.
type Globus interface {
	// AuthURL returns the Globus Auth URL at which a user consents to the
	// server's access to the collection (a GLOBUS system's host):
	// authorization code with PKCE, the S256 challenge of verifier, refresh
	// tokens requested, state echoed back.
	AuthURL(ctx context.Context, collectionID, state, verifier string) (string, error)
	// Exchange trades the code the user got for tokens, proving verifier.
	Exchange(ctx context.Context, code, verifier string) (GlobusTokens, error)
	// Refresh trades a refresh token for new tokens (refresh tokens may
	// rotate: the old one is then dead).
	Refresh(ctx context.Context, refreshToken string) (GlobusTokens, error)
	// Verify checks with Globus Transfer that the credential's access token
	// opens the collection named by the target's Host (and its RootDir),
	// under the server's host-check policy; failures wrap the hostcheck
	// classes.
	hostcheck.Verifier
}

// GlobusSession is a started Globus authorization.
type GlobusSession struct {
	ID       string // 256 random bits, base64url: the sessionId of the API
	Tenant   string
	SystemID string
	// User is the user who started it (the principal's user), the only one
	// who may finish it.
	User string
	// Collection is the system's host when the flow started: the consent
	// covers that collection only.
	Collection string
	// Verifier is the PKCE code verifier: a secret, sealed at rest.
	Verifier string
	Created  time.Time
	Expires  time.Time
}

// String never shows the verifier.
func (GlobusSession) String() string { return "systems.GlobusSession{redacted}" }

// GoString never shows the verifier either.
func (s GlobusSession) GoString() string { return s.String() }

// GlobusSessionKey names a session together with its binding: a session is
// taken only by the tenant, system and user it was started for.
type GlobusSessionKey struct {
	Tenant, SystemID, User, ID string
}

// GlobusSessionStore keeps started Globus authorizations, so that any
// instance can finish a flow another began. Implementations seal Verifier
// at rest (bunstore: with the credential KEK, bound to tenant, id, system
// and user). Times come back in UTC with microsecond precision.
// systemstest.RunGlobusSessionTests is its conformance suite.
type GlobusSessionStore interface {
	// PutGlobusSession stores a new session; ErrAlreadyExists when its id
	// is taken in its tenant.
	PutGlobusSession(ctx context.Context, s GlobusSession) error
	// TakeGlobusSession removes and returns the session k names, only when
	// its tenant, id, system and user all match k; of concurrent takes
	// exactly one gets it. Otherwise ErrNotFound and nothing is removed.
	// Expired sessions are returned too (the caller checks Expires).
	TakeGlobusSession(ctx context.Context, k GlobusSessionKey) (GlobusSession, error)
	// PurgeGlobusSessions deletes the sessions (of every tenant) that
	// expired before t and returns how many.
	PurgeGlobusSessions(ctx context.Context, before time.Time) (int, error)
}

// globus returns the Globus client and the session store, or a 501 naming
// what is missing.
func (svc *Service) globus() (Globus, GlobusSessionStore, error) {
	if svc.gl == nil {
		return nil, nil, errorf(ErrNotConfigured, "SYSAPI_GLOBUS_NOT_CONFIGURED Globus is not configured on this server: "+
			"the operator sets a Globus client id (TAPIS_GLOBUS_CLIENT_ID for the stand-alone server).")
	}
	if svc.glSessions == nil {
		return nil, nil, errorf(ErrNotConfigured, "SYSAPI_GLOBUS_NOT_CONFIGURED Globus is configured without a session store on this server.")
	}
	return svc.gl, svc.glSessions, nil
}

// randomToken returns 256 random bits, base64url without padding (43
// characters: also a valid PKCE verifier).
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// isSessionID reports whether s has the shape of an id randomToken made.
func isSessionID(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil
}

// GlobusAuthURL starts a Globus authorization for a GLOBUS system the
// principal may read: it returns the URL the user opens and the session id
// that finishes the flow (by the same user, for the same system, within
// GlobusSessionTTL, once).
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
	gl, sessions, err := svc.globus()
	if err != nil {
		return "", "", err
	}
	verifier, err := randomToken()
	if err != nil {
		return "", "", err
	}
	if sessionID, err = randomToken(); err != nil {
		return "", "", err
	}
	if url, err = gl.AuthURL(ctx, s.Host, sessionID, verifier); err != nil {
		return "", "", globusErr(err, s.ID, "the authorization request")
	}
	now := svc.now()
	err = sessions.PutGlobusSession(ctx, GlobusSession{ID: sessionID, Tenant: s.Tenant, SystemID: s.ID, User: p.Username,
		Collection: s.Host, Verifier: verifier, Created: stamp(now), Expires: stamp(now.Add(GlobusSessionTTL))})
	if err != nil {
		return "", "", err
	}
	return url, sessionID, nil
}

// GenerateGlobusTokens finishes a Globus authorization: it takes the session
// (started by the same user for the same system, unexpired, never used),
// exchanges the code for tokens with its verifier, and stores them as user's
// TOKEN credential (who may set user's credential may do this). The tokens
// come straight from Globus Auth and are not checked again.
func (svc *Service) GenerateGlobusTokens(ctx context.Context, p tenancy.Principal, id, user, authCode, sessionID string) error {
	s, err := svc.credentialTarget(ctx, p, id, user)
	if err != nil {
		return err
	}
	if err := isGlobus(s); err != nil {
		return err
	}
	gl, sessions, err := svc.globus()
	if err != nil {
		return err
	}
	if svc.vault == nil {
		return errorf(ErrNotConfigured, "SYSAPI_CRED_NOT_CONFIGURED Credential storage is not configured on this server.")
	}
	sess, err := svc.takeGlobusSession(ctx, sessions, p, s, sessionID)
	if err != nil {
		return err
	}
	tok, err := gl.Exchange(ctx, authCode, sess.Verifier)
	if err != nil {
		return globusErr(err, s.ID, "the authorization code")
	}
	c := Credential{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, AccessTokenExpires: tok.Expires}
	if err := checkPairs(c); err != nil {
		return errorf(ErrUpstream, "SYSAPI_GLOBUS_NO_REFRESH Globus Auth answered without a refresh token; nothing was stored.")
	}
	if err := svc.putCredential(ctx, p, s, user, c); err != nil {
		return err
	}
	desc := map[string]any{"System": id, "TargetUser": user, "Credential": map[string]string{"accessToken": "***", "refreshToken": "***"}}
	return svc.store.AddHistory(ctx, svc.history(p, id, "setAccessRefreshTokens", desc))
}

// takeGlobusSession takes the session sessionID that p started for s.
func (svc *Service) takeGlobusSession(ctx context.Context, sessions GlobusSessionStore, p tenancy.Principal, s System, sessionID string) (GlobusSession, error) {
	invalid := errorf(ErrInvalid, "SYSAPI_GLOBUS_SESSION_INVALID Globus session %q is unknown, used, or was started by another user or for another system: "+
		"start again with GET /v3/systems/credential/%s/globus/authUrl.", sessionID, s.ID)
	if !isSessionID(sessionID) {
		return GlobusSession{}, invalid
	}
	sess, err := sessions.TakeGlobusSession(ctx, GlobusSessionKey{Tenant: s.Tenant, SystemID: s.ID, User: p.Username, ID: sessionID})
	switch {
	case errors.Is(err, ErrNotFound):
		return GlobusSession{}, invalid
	case err != nil:
		return GlobusSession{}, err
	case !svc.now().Before(sess.Expires):
		return GlobusSession{}, errorf(ErrInvalid, "SYSAPI_GLOBUS_SESSION_EXPIRED Globus session %q expired (a session lasts %s): "+
			"start again with GET /v3/systems/credential/%s/globus/authUrl.", sessionID, GlobusSessionTTL, s.ID)
	case sess.Collection != s.Host:
		return GlobusSession{}, errorf(ErrInvalid, "SYSAPI_GLOBUS_SESSION_HOST The host of system %s changed since Globus session %q began: "+
			"start again with GET /v3/systems/credential/%s/globus/authUrl.", s.ID, sessionID, s.ID)
	}
	return sess, nil
}

// globusErr words a Globus client's failure for the client. The client's
// messages carry no secret (the Globus contract), so they are kept.
func globusErr(err error, systemID, what string) error {
	switch {
	case errors.Is(err, ErrGlobusRefused):
		return errorf(ErrInvalid, "SYSAPI_GLOBUS_REFUSED Globus Auth refused %s (%s): authorize again with GET /v3/systems/credential/%s/globus/authUrl.",
			what, err.Error(), systemID)
	case errors.Is(err, ErrUpstream):
		return errorf(ErrUpstream, "SYSAPI_GLOBUS_UNAVAILABLE %s", err.Error())
	}
	return err
}

// isGlobus refuses system types whose credentials are not Globus tokens
// (400, as the newer spec says).
func isGlobus(s System) error {
	if traitsOf(s.SystemType).Check != CheckGlobus {
		return errorf(ErrInvalid, "SYSAPI_GLOBUS_NOT_GLOBUS System %s is of type %s, not %s.", s.ID, s.SystemType,
			typesWith(func(t TypeTraits) bool { return t.Check == CheckGlobus }))
	}
	return nil
}
