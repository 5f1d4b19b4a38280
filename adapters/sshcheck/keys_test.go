package sshcheck_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/tapis-go/tapis/adapters/sshcheck"
	"github.com/tapis-go/tapis/hostcheck"
)

// testKey is a client key pair in the text forms Tapis credentials carry.
type testKey struct {
	name    string
	private string // PEM or OpenSSH text
	public  ssh.PublicKey
}

func (k testKey) authorized() string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k.public)))
}

var (
	keysOnce sync.Once
	keySet   map[string]testKey
)

// testKeys returns the client keys, generated once per test binary: RSA
// (PKCS#1 PEM, PKCS#8 PEM, OpenSSH), ECDSA P-256 (SEC 1 PEM, PKCS#8,
// OpenSSH), ed25519 (OpenSSH, PKCS#8), and an RSA key nobody authorizes.
func testKeys(t testing.TB) map[string]testKey {
	t.Helper()
	keysOnce.Do(func() {
		rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		_, edKey, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)

		pemText := func(typ string, der []byte) string {
			return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
		}
		pkcs8 := func(k crypto.PrivateKey) string {
			der, err := x509.MarshalPKCS8PrivateKey(k)
			require.NoError(t, err)
			return pemText("PRIVATE KEY", der)
		}
		openssh := func(k crypto.PrivateKey) string {
			b, err := ssh.MarshalPrivateKey(k, "")
			require.NoError(t, err)
			return string(pem.EncodeToMemory(b))
		}
		pub := func(k crypto.Signer) ssh.PublicKey {
			p, err := ssh.NewPublicKey(k.Public())
			require.NoError(t, err)
			return p
		}
		ecDER, err := x509.MarshalECPrivateKey(ecKey)
		require.NoError(t, err)
		keySet = map[string]testKey{}
		for _, k := range []testKey{
			{"rsa-pkcs1", pemText("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), pub(rsaKey)},
			{"rsa-pkcs8", pkcs8(rsaKey), pub(rsaKey)},
			{"rsa-openssh", openssh(rsaKey), pub(rsaKey)},
			{"ecdsa-sec1", pemText("EC PRIVATE KEY", ecDER), pub(ecKey)},
			{"ecdsa-pkcs8", pkcs8(ecKey), pub(ecKey)},
			{"ecdsa-openssh", openssh(ecKey), pub(ecKey)},
			{"ed25519-openssh", openssh(edKey), pub(edKey)},
			{"ed25519-pkcs8", pkcs8(edKey), pub(edKey)},
			{"unauthorized-rsa", pemText("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(otherKey)), pub(otherKey)},
		} {
			keySet[k.name] = k
		}
	})
	require.NotNil(t, keySet, "key generation failed in an earlier test")
	return keySet
}

func TestParsePrivateKeyForms(t *testing.T) {
	keys := testKeys(t)
	escaped := func(s string) string { return strings.ReplaceAll(s, "\n", `\n`) }
	oneLine := func(s string) string { // body run onto one line with blanks
		return strings.Join(strings.Fields(s), " ")
	}
	for name, k := range keys {
		forms := map[string]string{
			"as is":                k.private,
			"escaped newlines":     escaped(k.private),
			"escaped, quoted JSON": escaped(strings.TrimSpace(k.private)),
			"CRLF":                 strings.ReplaceAll(k.private, "\n", "\r\n"),
			"escaped CRLF":         strings.ReplaceAll(k.private, "\n", `\r\n`),
			"blanks around":        "  \n" + k.private + "\n\n ",
			"one line":             oneLine(k.private),
		}
		for form, text := range forms {
			s, err := sshcheck.ParsePrivateKey(text)
			if assert.NoError(t, err, "%s %s", name, form) {
				assert.Equal(t, k.public.Marshal(), s.PublicKey().Marshal(), "%s %s", name, form)
			}
		}
	}
}

func TestParsePrivateKeyErrorsNeverQuoteTheKey(t *testing.T) {
	k := testKeys(t)["rsa-pkcs1"]
	body := strings.Split(k.private, "\n")[1] // a line of the key's base64
	damaged := strings.Replace(k.private, body, strings.Repeat("A", len(body)), 1)

	rsaKey, err := ssh.ParseRawPrivateKey([]byte(k.private))
	require.NoError(t, err)
	enc, err := ssh.MarshalPrivateKeyWithPassphrase(rsaKey, "", []byte("secret-passphrase"))
	require.NoError(t, err)

	for name, c := range map[string]struct{ text, want string }{
		"empty":     {"", "has no privateKey"},
		"garbage":   {"not a key " + body, "could not be read"},
		"damaged":   {damaged, "could not be read"},
		"public":    {k.authorized(), "could not be read"},
		"encrypted": {string(pem.EncodeToMemory(enc)), "encrypted with a passphrase"},
	} {
		_, err := sshcheck.ParsePrivateKey(c.text)
		require.ErrorIs(t, err, hostcheck.ErrBadCredential, name)
		assert.Contains(t, err.Error(), c.want, name)
		assert.NotContains(t, err.Error(), body[:20], name)
		assert.NotContains(t, err.Error(), "AAAAAAAAAAAAAAAA", name)
	}
}
