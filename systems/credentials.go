package systems

import (
	"context"
	"errors"
	"slices"

	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/tenancy"
)

// Credentials of systems (reference/systems.md §5): one set per user per
// system in the vault, in the namespace of the system's current
// effectiveUserId (static: the login name; dynamic: the Tapis user), so
// switching a system between static and dynamic hides, never mixes, them.

// ActionCredential is setting, removing or checking a credential.
const ActionCredential Action = "manageCredential"

// credentialReaders are the services that may read secrets.
var credentialReaders = []string{"files", "jobs"}

// ErrCredentialRejected means a host refused a credential (HTTP 400, with
// the reason).
var ErrCredentialRejected = errors.New("credential rejected by the host")

// staticUser is the login name of a static system ("" for a dynamic one).
func staticUser(s System) string {
	if s.IsDynamic() {
		return ""
	}
	return s.EffectiveUserID
}

// credKey is where the credential of user on s lives.
func credKey(s System, user string) credentials.Key {
	ns := "static+"
	if s.IsDynamic() {
		ns = "dynamic+"
	}
	return credentials.Key{Tenant: s.Tenant, SystemID: s.ID, User: ns + user}
}

// target describes s for a host check as loginUser.
func target(s System, loginUser string) hostcheck.Target {
	return hostcheck.Target{Tenant: s.Tenant, SystemID: s.ID, SystemType: string(s.SystemType),
		AuthnMethod: string(s.DefaultAuthnMethod), Host: s.Host, Port: s.Port, LoginUser: loginUser,
		RootDir: s.RootDir, BucketName: s.BucketName}
}

// checkPairs refuses half key pairs.
func checkPairs(c Credential) error {
	var p problems
	for _, pair := range []struct {
		a, b       string
		an, bn     string
		aSet, bSet bool
	}{{an: "privateKey", bn: "publicKey", aSet: c.PrivateKey != "", bSet: c.PublicKey != ""},
		{an: "accessKey", bn: "accessSecret", aSet: c.AccessKey != "", bSet: c.AccessSecret != ""},
		{an: "accessToken", bn: "refreshToken", aSet: c.AccessToken != "", bSet: c.RefreshToken != ""}} {
		if pair.aSet != pair.bSet {
			p.add("SYSAPI_CRED_SECRET_MISSING", "%s and %s must be given together.", pair.an, pair.bn)
		}
	}
	return p.err("CRED")
}

// checkCredential verifies c against the host as loginUser unless skipped
// or the system type's credentials are stored as given (TypeTraits.Check:
// IRODS, and GLOBUS without a Globus client, as the original). It also
// refuses to go on when no vault is configured.
func (svc *Service) checkCredential(ctx context.Context, s System, loginUser string, c Credential, skip bool) error {
	if svc.vault == nil {
		return errorf(ErrNotConfigured, "SYSAPI_CRED_NOT_CONFIGURED Credential storage is not configured on this server.")
	}
	if err := checkPairs(c); err != nil {
		return err
	}
	if skip || !svc.checkable(s.SystemType) {
		return nil
	}
	return svc.verify(ctx, s, loginUser, c)
}

// checkable reports whether credentials of a system type are checked
// before they are stored.
func (svc *Service) checkable(t SystemType) bool {
	switch traitsOf(t).Check {
	case CheckHost:
		return true
	case CheckGlobus:
		return svc.gl != nil
	}
	return false
}

// checker is what checks a credential of a system type: the Globus client
// for Globus systems when there is one, else the Verifier (a
// hostcheck.Mux routes it by type, and answers "not supported" for a type
// it has no checker for).
func (svc *Service) checker(t SystemType) hostcheck.Verifier {
	if traitsOf(t).Check == CheckGlobus && svc.gl != nil {
		return svc.gl
	}
	return svc.check
}

// verify runs the check of the system's type; a refusal is a 400 naming
// the reason.
func (svc *Service) verify(ctx context.Context, s System, loginUser string, c Credential) error {
	check := svc.checker(s.SystemType)
	if check == nil {
		return errorf(ErrNotConfigured, "SYSAPI_CRED_CHECK_NOT_CONFIGURED Host checks are not configured on this server: use skipCredentialCheck=true.")
	}
	if c.LoginUser != "" {
		loginUser = c.LoginUser
	}
	return hostErr(check.Verify(ctx, target(s, loginUser), c), s)
}

// hostErr words a host check's failure for the client: every failure class
// of hostcheck is a 400 naming the reason; anything else is the server's.
func hostErr(err error, s System) error {
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, hostcheck.ErrBadCredential), errors.Is(err, hostcheck.ErrHostKeyMismatch),
		errors.Is(err, hostcheck.ErrRootDirMissing), errors.Is(err, hostcheck.ErrUnreachable),
		errors.Is(err, hostcheck.ErrTimeout), errors.Is(err, hostcheck.ErrForbiddenAddress),
		errors.Is(err, hostcheck.ErrUnsupported), errors.Is(err, credentials.ErrInvalid):
		return errorf(ErrCredentialRejected, "SYSAPI_CRED_VALID_FAIL The credential could not be verified on host %s: %s", s.Host, err.Error())
	}
	return err
}

// putCredential stores a credential (the vault records the audit).
func (svc *Service) putCredential(ctx context.Context, p tenancy.Principal, s System, user string, c Credential) error {
	if svc.vault == nil {
		return errorf(ErrNotConfigured, "SYSAPI_CRED_NOT_CONFIGURED Credential storage is not configured on this server.")
	}
	c.Updated = svc.stamp()
	return svc.vault.PutCredential(tenancy.WithPrincipal(ctx, p), credKey(s, user), c)
}

// mayManageCredential: owner or admin; or, on a dynamic system, users for
// their own credential when they may read the system (a permission or a
// share).
func (svc *Service) mayManageCredential(ctx context.Context, p tenancy.Principal, s System, user string) error {
	err := svc.authz.Authorize(ctx, p, ActionCredential, s)
	// Users manage their own credential only on a dynamic system: the
	// credential of a static system is everybody's login and belongs to
	// the owner (the original let any reader replace it).
	if err == nil || user != p.Username || !s.IsDynamic() {
		return err
	}
	return svc.authz.Authorize(ctx, p, ActionRead, s)
}

// credentialTarget is the live system whose credential of user p may set,
// remove or check.
func (svc *Service) credentialTarget(ctx context.Context, p tenancy.Principal, id, user string) (System, error) {
	s, err := svc.live(ctx, p.TenantID, id)
	if err != nil {
		return System{}, err
	}
	if err := checkUser(user); err != nil {
		return System{}, err
	}
	if err := svc.mayManageCredential(ctx, p, s, user); err != nil {
		return System{}, err
	}
	return s, nil
}

// SetUserCredential stores user's credential for a system after checking
// it against the host (unless skipCheck).
func (svc *Service) SetUserCredential(ctx context.Context, p tenancy.Principal, id, user string, c Credential, skipCheck bool) error {
	s, err := svc.credentialTarget(ctx, p, id, user)
	if err != nil {
		return err
	}
	if s.IsDynamic() && svc.acc != nil && c.LoginUser == "" {
		// An earlier mapping stays; the credential is checked as that login.
		login, err := svc.acc.LoginUser(ctx, s.Tenant, s.ID, user)
		if err != nil {
			return err
		}
		c.LoginUser = login
	}
	if err := svc.checkCredential(ctx, s, user, c, skipCheck); err != nil {
		return err
	}
	if err := svc.putCredential(ctx, p, s, user, c); err != nil {
		return err
	}
	// A dynamic system shows each user the login their credential opens;
	// a write without loginUser keeps an earlier mapping, as the original.
	if s.IsDynamic() && svc.acc != nil && c.LoginUser != "" {
		login := c.LoginUser
		if login == user {
			login = ""
		}
		if err := svc.acc.SetLoginUser(ctx, s.Tenant, s.ID, user, login); err != nil {
			return err
		}
	}
	desc := map[string]any{"System": id, "TargetUser": user, "SkipCredCheck": skipCheck, "Credential": map[string]any{}}
	return svc.store.AddHistory(ctx, svc.history(p, id, OpSetCred, desc))
}

// RemoveUserCredential deletes user's credential for a system.
func (svc *Service) RemoveUserCredential(ctx context.Context, p tenancy.Principal, id, user string) error {
	s, err := svc.credentialTarget(ctx, p, id, user)
	if err != nil {
		return err
	}
	if svc.vault == nil {
		return errorf(ErrNotConfigured, "SYSAPI_CRED_NOT_CONFIGURED Credential storage is not configured on this server.")
	}
	if err := svc.vault.DeleteCredential(tenancy.WithPrincipal(ctx, p), credKey(s, user)); err != nil {
		return err
	}
	if s.IsDynamic() && svc.acc != nil {
		if err := svc.acc.SetLoginUser(ctx, s.Tenant, s.ID, user, ""); err != nil {
			return err
		}
	}
	return svc.store.AddHistory(ctx, svc.history(p, id, OpRemoveCred, map[string]any{"System": id, "TargetUser": user}))
}

// CheckUserCredential verifies user's stored credential against the host.
func (svc *Service) CheckUserCredential(ctx context.Context, p tenancy.Principal, id, user string, method AuthnMethod) error {
	s, err := svc.credentialTarget(ctx, p, id, user)
	if err != nil {
		return err
	}
	if method != "" {
		if !slices.Contains(authnMethods, method) {
			return errorf(ErrInvalid, "SYSAPI_ACCMETHOD_ENUM_ERROR Invalid authnMethod %q: use one of %v.", method, authnMethods)
		}
		s.DefaultAuthnMethod = method
	}
	c, err := svc.readCredential(ctx, p, s, user)
	if err != nil {
		return err
	}
	if s.DefaultAuthnMethod == AuthnToken {
		if c, err = svc.freshGlobus(ctx, p, s, user, c); err != nil {
			return err
		}
	}
	return svc.verify(ctx, s, user, c)
}

func (svc *Service) readCredential(ctx context.Context, p tenancy.Principal, s System, user string) (Credential, error) {
	if svc.vault == nil {
		return Credential{}, errorf(ErrNotConfigured, "SYSAPI_CRED_NOT_CONFIGURED Credential storage is not configured on this server.")
	}
	c, err := svc.vault.GetCredential(tenancy.WithPrincipal(ctx, p), credKey(s, user))
	if errors.Is(err, credentials.ErrNotFound) {
		return Credential{}, errorf(ErrNotFound, "SYSAPI_CRED_NOT_FOUND No credential stored for user %s on system %s.", user, s.ID)
	}
	return c, err
}

// GetUserCredential returns user's credential (the files and jobs services
// only), reduced to the secrets of the authentication method.
func (svc *Service) GetUserCredential(ctx context.Context, p tenancy.Principal, id, user string, method AuthnMethod) (Credential, AuthnMethod, error) {
	if !p.IsService() || !slices.Contains(credentialReaders, p.TokenUsername) {
		return Credential{}, "", errorf(ErrForbidden, "SYSLIB_UNAUTH_GETCRED Only the files and jobs services may read credentials.")
	}
	if err := checkUser(user); err != nil {
		return Credential{}, "", err
	}
	s, err := svc.live(ctx, p.TenantID, id)
	if err != nil {
		return Credential{}, "", err
	}
	if method == "" {
		method = s.DefaultAuthnMethod
	} else if !slices.Contains(authnMethods, method) {
		return Credential{}, "", errorf(ErrInvalid, "SYSAPI_ACCMETHOD_ENUM_ERROR Invalid authnMethod %q: use one of %v.", method, authnMethods)
	}
	c, err := svc.readCredential(ctx, p, s, user)
	if err != nil {
		return Credential{}, "", err
	}
	if method == AuthnToken {
		if c, err = svc.freshGlobus(ctx, p, s, user, c); err != nil {
			return Credential{}, "", err
		}
	}
	return forMethod(c, method, user), method, nil
}

// forMethod keeps the secrets of one authentication method.
func forMethod(c Credential, m AuthnMethod, user string) Credential {
	out := Credential{LoginUser: c.LoginUser, Updated: c.Updated}
	if out.LoginUser == "" {
		out.LoginUser = user
	}
	switch m {
	case AuthnPassword:
		out.Password = c.Password
	case AuthnPKIKeys, AuthnTMSKeys:
		out.PrivateKey, out.PublicKey = c.PrivateKey, c.PublicKey
	case AuthnAccessKey:
		out.AccessKey, out.AccessSecret = c.AccessKey, c.AccessSecret
	case AuthnToken:
		out.AccessToken, out.RefreshToken = c.AccessToken, c.RefreshToken
	}
	return out
}

// credentialFor returns the credential a files/jobs service reads with a
// system (returnCredentials): the static login's, or the requesting user's
// for a dynamic system; nil when none is stored.
func (svc *Service) credentialFor(ctx context.Context, p tenancy.Principal, s System, method AuthnMethod) (*Credential, error) {
	user := staticUser(s)
	if user == "" {
		user = p.Username
	}
	if method == "" {
		method = s.DefaultAuthnMethod
	}
	c, err := svc.readCredential(ctx, p, s, user)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if method == AuthnToken {
		if c, err = svc.freshGlobus(ctx, p, s, user, c); err != nil {
			return nil, err
		}
	}
	out := forMethod(c, method, user)
	return &out, nil
}
