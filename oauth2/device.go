package oauth2

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"strings"
	"time"

	"github.com/tapis-go/tapis/tenancy"
)

// Device flow (RFC 8628 with the Tapis field names): the device asks for a
// code, the user enters the user code at /v3/oauth2/device and approves, and
// only then does polling the token endpoint return tokens.
const (
	deviceCodeTTL   = 10 * time.Minute
	deviceInterval  = 5 * time.Second
	deviceAccessTTL = 30 * 24 * time.Hour    // Tapis' default; capped by the tenant maximum
	userCodeChars   = "BCDFGHJKLMNPQRSTVWXZ" // no vowels (no words), no look-alikes
)

// DeviceAuthorization is the answer to POST /v3/oauth2/device/code.
type DeviceAuthorization struct {
	ClientID        string
	DeviceCode      string
	UserCode        string
	VerificationURI string
	ExpiresAt       time.Time
	ExpiresIn       time.Duration
	Interval        time.Duration
}

func newUserCode() string {
	var b strings.Builder
	for i := range 8 {
		if i == 4 {
			b.WriteByte('-')
		}
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(userCodeChars))))
		if err != nil {
			panic("oauth2: crypto/rand failed: " + err.Error())
		}
		b.WriteByte(userCodeChars[n.Int64()])
	}
	return b.String()
}

// NormalizeUserCode upper-cases a typed user code and restores its dash.
func NormalizeUserCode(s string) string {
	s = strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
	if len(s) == 8 {
		return s[:4] + "-" + s[4:]
	}
	return s
}

// StartDeviceFrom is StartDevice for a request from addr: device codes are
// created without authentication, so each address may create five times
// MaxFailures of them in a tenant before each further one must wait (429).
// A client key, when given, must match (and counts as an attempt at the
// client's secret).
func (p *Provider) StartDeviceFrom(ctx context.Context, tenantID, clientID, clientKey, verificationBase, addr string) (DeviceAuthorization, error) {
	if addr != "" {
		if err := p.limiter.Count(ctx, "d|"+tenantID+"|"+addr, 5*p.limiter.Config().MaxFailures); err != nil {
			return DeviceAuthorization{}, err
		}
	}
	if clientKey != "" {
		if _, err := p.authenticateClient(ctx, tenantID, clientID, clientKey, addr); err != nil {
			return DeviceAuthorization{}, err
		}
	}
	return p.StartDevice(ctx, tenantID, clientID, verificationBase)
}

// StartDevice creates a device code for a client; verificationBase is the
// tenant's base URL.
func (p *Provider) StartDevice(ctx context.Context, tenantID, clientID, verificationBase string) (DeviceAuthorization, error) {
	cfg, err := p.TenantConfig(ctx, tenantID)
	if err != nil {
		return DeviceAuthorization{}, err
	}
	if !cfg.allows(GrantDeviceCode) {
		return DeviceAuthorization{}, grantErr("unsupported_grant_type", "The device_code grant type is not allowed for this tenant.")
	}
	if clientID == "" {
		return DeviceAuthorization{}, grantErr("invalid_request", "Required client_id parameter missing.")
	}
	c, err := p.store.GetClient(ctx, tenantID, clientID)
	if errors.Is(err, ErrNotFound) || (err == nil && !c.Active) {
		return DeviceAuthorization{}, grantErr("invalid_client", "Invalid client: %s", clientID)
	}
	if err != nil {
		return DeviceAuthorization{}, err
	}
	now := p.stamp()
	code := randomToken(32)
	d := DeviceCode{TenantID: tenantID, CodeHash: hashSecret(code), ClientID: clientID, Status: DeviceCreated,
		AccessTTL: deviceAccessTTL, Interval: deviceInterval, Created: now, Expires: now.Add(deviceCodeTTL)}
	for range 5 { // user codes are short: retry on the rare collision
		d.UserCode = newUserCode()
		if err = p.store.CreateDeviceCode(ctx, d); !errors.Is(err, ErrAlreadyExists) {
			break
		}
	}
	if err != nil {
		return DeviceAuthorization{}, err
	}
	return DeviceAuthorization{ClientID: clientID, DeviceCode: code, UserCode: d.UserCode,
		VerificationURI: strings.TrimRight(verificationBase, "/") + "/v3/oauth2/device",
		ExpiresAt:       d.Expires, ExpiresIn: deviceCodeTTL, Interval: d.Interval}, nil
}

// EnterUserCode binds a typed user code to the signed-in user; consent is
// still needed before the device gets tokens.
func (p *Provider) EnterUserCode(ctx context.Context, tenantID, username, userCode string) (DeviceCode, error) {
	d, err := p.store.GetDeviceCodeByUserCode(ctx, tenantID, NormalizeUserCode(userCode))
	if errors.Is(err, ErrNotFound) {
		return DeviceCode{}, tenancy.Errorf(tenancy.ErrInvalid, "Invalid code.")
	}
	if err != nil {
		return DeviceCode{}, err
	}
	return p.store.UpdateDeviceCode(ctx, tenantID, d.CodeHash, func(x *DeviceCode) error {
		if x.Status != DeviceCreated || p.now().After(x.Expires) {
			return tenancy.Errorf(tenancy.ErrInvalid, "Code not eligible to be entered.")
		}
		x.Status, x.Username = DeviceEntered, username
		return nil
	})
}

// DecideDevice records the user's consent (approve with a TTL) or refusal.
func (p *Provider) DecideDevice(ctx context.Context, tenantID, username, userCode string, approve bool, ttl time.Duration) error {
	d, err := p.store.GetDeviceCodeByUserCode(ctx, tenantID, NormalizeUserCode(userCode))
	if err != nil {
		return tenancy.Errorf(tenancy.ErrInvalid, "Invalid code.")
	}
	_, err = p.store.UpdateDeviceCode(ctx, tenantID, d.CodeHash, func(x *DeviceCode) error {
		if x.Status != DeviceEntered || x.Username != username || p.now().After(x.Expires) {
			return tenancy.Errorf(tenancy.ErrInvalid, "Code not eligible for approval.")
		}
		if approve {
			x.Status = DeviceApproved
			if ttl > 0 {
				x.AccessTTL = ttl
			}
		} else {
			x.Status = DeviceDenied
		}
		return nil
	})
	return err
}

// deviceCodeGrant answers a polling device: pending until approved (with
// slow_down when it polls faster than the interval), tokens once, then
// nothing.
func deviceCodeGrant(ctx context.Context, p *Provider, cfg TenantConfig, req TokenRequest) (TokenPair, error) {
	if req.ClientID == "" {
		return TokenPair{}, grantErr("invalid_request", "Required client_id parameter missing.")
	}
	if req.DeviceCode == "" {
		return TokenPair{}, grantErr("invalid_request", "Required device_code parameter missing.")
	}
	client, err := p.authenticateClientOptionalKey(ctx, req)
	if err != nil {
		return TokenPair{}, err
	}
	hash := hashSecret(req.DeviceCode)
	var outcome error
	now := p.now()
	d, err := p.store.UpdateDeviceCode(ctx, req.TenantID, hash, func(x *DeviceCode) error {
		switch {
		case x.ClientID != req.ClientID:
			outcome = grantErr("invalid_grant", "Client IDs do not match between device code and passed in client_id")
		case now.After(x.Expires):
			outcome = grantErr("expired_token", "device code has expired.")
		case x.Status == DeviceDenied:
			outcome = grantErr("access_denied", "The user denied the authorization request.")
		case x.Status == DeviceRedeemed:
			outcome = grantErr("invalid_grant", "device code not valid.")
		case x.Status == DeviceApproved:
			x.Status = DeviceRedeemed
		case !x.LastPoll.IsZero() && now.Sub(x.LastPoll) < x.Interval:
			x.Interval += deviceInterval
			x.LastPoll = now
			outcome = &GrantError{Code: "slow_down", Description: "Polling too fast; wait longer between requests.", Interval: x.Interval}
		default:
			x.LastPoll = now
			outcome = grantErr("authorization_pending", "device code not ready.")
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return TokenPair{}, grantErr("invalid_grant", "device code not valid.")
	}
	if err != nil {
		return TokenPair{}, err
	}
	if outcome != nil {
		return TokenPair{}, outcome
	}
	pair, _, err := p.issue(ctx, cfg, issue{tenantID: req.TenantID, username: d.Username, client: &client,
		grant: GrantDeviceCode, accessTTL: d.AccessTTL, refresh: true})
	return pair, err
}

// authenticateClientOptionalKey: the device grant names its client in the
// body; a key, when given (Basic or body), must match.
func (p *Provider) authenticateClientOptionalKey(ctx context.Context, req TokenRequest) (Client, error) {
	if req.ClientKey != "" {
		return p.authenticateClient(ctx, req.TenantID, req.ClientID, req.ClientKey, req.RemoteAddr)
	}
	c, err := p.store.GetClient(ctx, req.TenantID, req.ClientID)
	if errors.Is(err, ErrNotFound) || (err == nil && !c.Active) {
		return Client{}, grantErr("invalid_client", "Invalid client credentials.")
	}
	return c, err
}
