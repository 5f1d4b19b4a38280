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
			p.limiter.observe(EntryDeviceCode, err)
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
	if !p.offers(cfg, GrantDeviceCode) {
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
