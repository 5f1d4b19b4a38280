// Package vaultkv implements credentials.Vault on a HashiCorp Vault KV
// version 2 secrets engine, through github.com/hashicorp/vault/api.
//
// A credential lives at
//
//	<mount>/data/<prefix>/<tenant>/<system>/<user>
//
// with each of tenant, system and user path-escaped (url.PathEscape, and
// "." and ".." written as %2E and %2E%2E), so that a "/" or a dot segment
// inside a name can neither split a segment nor climb out of the prefix, and
// two different keys never share a path. Vault sees the escaped segment as
// the name (the client escapes the "%" once more on the wire).
//
// PutCredential writes the whole set as a new version (the fields set, and
// "updated"), so fields of an earlier set are gone from the current version.
// GetCredential reads the current version; a path with no live version is
// credentials.ErrNotFound. DeleteCredential deletes the metadata, which
// removes every version. The token needs create, update and read on
// <mount>/data/<prefix>/* and delete on <mount>/metadata/<prefix>/*.
//
// Nothing is sealed here: Vault encrypts at rest. The Vault token is never
// logged or put into an error.
package vaultkv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/tapis-go/tapis/credentials"
)

// DefaultMount is the mount of the KV v2 engine when Config names none.
const DefaultMount = "secret"

// DefaultTimeout bounds each request when Config gives no timeout.
const DefaultTimeout = 10 * time.Second

// Config describes a Vault server for Open.
type Config struct {
	// Address of the server, e.g. https://vault.example.org:8200. Empty: the
	// VAULT_ADDR environment variable, else Vault's default.
	Address string
	// Token authenticates the requests. Empty: the VAULT_TOKEN environment
	// variable.
	Token string
	// Mount is the path of the KV v2 engine; empty: "secret".
	Mount string
	// Prefix is the folder under the mount that holds the credentials, e.g.
	// "tapis/credentials"; empty: none.
	Prefix string
	// Timeout bounds each request; <= 0: DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is how often the client retries a request answered with a
	// 5xx status; < 0: never (0 keeps the client's default, 2).
	MaxRetries int
}

// String shows the configuration without the token.
func (c Config) String() string {
	token := "unset"
	if c.Token != "" {
		token = "redacted"
	}
	return fmt.Sprintf("vaultkv.Config{Address:%q Token:%s Mount:%q Prefix:%q Timeout:%s MaxRetries:%d}",
		c.Address, token, c.Mount, c.Prefix, c.Timeout, c.MaxRetries)
}

// GoString shows the configuration without the token.
func (c Config) GoString() string { return c.String() }

// Vault is a credentials.Vault on a KV v2 engine. It is safe for concurrent
// use.
type Vault struct {
	kv     *api.KVv2
	prefix []string // the operator's folder names, used as given
}

var _ credentials.Vault = (*Vault)(nil)

// Open connects a Vault client by cfg (the client also reads Vault's usual
// VAULT_* environment variables for what cfg leaves out, TLS settings among
// them) and returns the vault on it.
func Open(cfg Config) (*Vault, error) {
	ac := api.DefaultConfig()
	if ac.Error != nil {
		return nil, fmt.Errorf("vaultkv: client configuration: %w", ac.Error)
	}
	if cfg.Address != "" {
		ac.Address = cfg.Address
	}
	ac.Timeout = cfg.Timeout
	if ac.Timeout <= 0 {
		ac.Timeout = DefaultTimeout
	}
	switch {
	case cfg.MaxRetries < 0:
		ac.MaxRetries = 0
	case cfg.MaxRetries > 0:
		ac.MaxRetries = cfg.MaxRetries
	}
	client, err := api.NewClient(ac)
	if err != nil {
		return nil, fmt.Errorf("vaultkv: client: %w", err)
	}
	if cfg.Token != "" {
		client.SetToken(cfg.Token)
	}
	mount := cfg.Mount
	if mount == "" {
		mount = DefaultMount
	}
	return New(client, mount, cfg.Prefix)
}

// New returns the vault on an existing client, for the KV v2 engine mounted
// at mount, keeping credentials under prefix (empty: at the top of the
// engine). Neither may hold empty, "." or ".." segments.
func New(client *api.Client, mount, prefix string) (*Vault, error) {
	if client == nil {
		return nil, errors.New("vaultkv: no client")
	}
	m, err := segments("mount", mount)
	if err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, errors.New("vaultkv: no mount")
	}
	p, err := segments("prefix", prefix)
	if err != nil {
		return nil, err
	}
	return &Vault{kv: client.KVv2(strings.Join(m, "/")), prefix: p}, nil
}

// segments splits a mount or prefix into its folder names.
func segments(what, s string) ([]string, error) {
	s = strings.Trim(s, "/")
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, "/")
	for _, p := range parts {
		if p == "" || p == "." || p == ".." {
			return nil, fmt.Errorf("vaultkv: %s %q has an empty or dot segment", what, s)
		}
	}
	return parts, nil
}

// escape writes one key part as a path segment that Vault keeps as one name.
func escape(s string) string {
	switch s {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(s)
}

// secretPath is the path of k under the mount (without "data/").
func (v *Vault) secretPath(k credentials.Key) (string, error) {
	if k.Tenant == "" || k.SystemID == "" || k.User == "" {
		return "", fmt.Errorf("vaultkv: a credential key needs tenant, system and user: %w", credentials.ErrInvalid)
	}
	parts := append(append(make([]string, 0, len(v.prefix)+3), v.prefix...),
		escape(k.Tenant), escape(k.SystemID), escape(k.User))
	return strings.Join(parts, "/"), nil
}

// PutCredential implements credentials.Vault: it writes the whole set as
// the secret's new version.
func (v *Vault) PutCredential(ctx context.Context, k credentials.Key, c credentials.Credential) error {
	p, err := v.secretPath(k)
	if err != nil {
		return err
	}
	c.Updated = storedTime(c.Updated)
	c.AccessTokenExpires = storedTime(c.AccessTokenExpires)
	data, err := toData(c)
	if err != nil {
		return err
	}
	if _, err := v.kv.Put(ctx, p, data); err != nil {
		return fmt.Errorf("vaultkv: put credential: %w", err)
	}
	return nil
}

// GetCredential implements credentials.Vault.
func (v *Vault) GetCredential(ctx context.Context, k credentials.Key) (credentials.Credential, error) {
	p, err := v.secretPath(k)
	if err != nil {
		return credentials.Credential{}, err
	}
	s, err := v.kv.Get(ctx, p)
	switch {
	case errors.Is(err, api.ErrSecretNotFound):
		return credentials.Credential{}, fmt.Errorf("vaultkv: get credential: %w", credentials.ErrNotFound)
	case err != nil:
		return credentials.Credential{}, fmt.Errorf("vaultkv: get credential: %w", err)
	case s == nil || s.Data == nil:
		// The current version was deleted (not destroyed) by another client.
		return credentials.Credential{}, fmt.Errorf("vaultkv: get credential: %w", credentials.ErrNotFound)
	}
	return fromData(s.Data)
}

// DeleteCredential implements credentials.Vault: it deletes the secret's
// metadata and with it every version. A missing key is no error.
func (v *Vault) DeleteCredential(ctx context.Context, k credentials.Key) error {
	p, err := v.secretPath(k)
	if err != nil {
		return err
	}
	if err := v.kv.DeleteMetadata(ctx, p); err != nil {
		return fmt.Errorf("vaultkv: delete credential: %w", err)
	}
	return nil
}

// storedTime is the precision kept for Updated: UTC microseconds, as in the
// SQL stores.
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// toData turns a credential into the secret's data: its JSON fields (the
// set ones only, "updated" in RFC 3339).
func toData(c credentials.Credential) (map[string]any, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, errors.New("vaultkv: cannot encode the credential")
	}
	defer clear(b)
	var data map[string]any
	if err := json.Unmarshal(b, &data); err != nil {
		return nil, errors.New("vaultkv: cannot encode the credential")
	}
	return data, nil
}

// fromData reads a secret's data back; keys other than the credential's
// fields are ignored.
func fromData(data map[string]any) (credentials.Credential, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return credentials.Credential{}, errors.New("vaultkv: get credential: the stored secret is not a credential")
	}
	defer clear(b)
	var c credentials.Credential
	if err := json.Unmarshal(b, &c); err != nil {
		// json's message can quote the value: not wrapped.
		return credentials.Credential{}, errors.New("vaultkv: get credential: the stored secret is not a credential")
	}
	c.Updated = storedTime(c.Updated)
	c.AccessTokenExpires = storedTime(c.AccessTokenExpires)
	return c, nil
}
