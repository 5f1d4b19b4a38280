package sshcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
)

// authMethods returns the SSH authentication for the target's method.
func authMethods(method string, cred credentials.Credential) ([]ssh.AuthMethod, error) {
	switch method {
	case Password:
		if cred.Password == "" {
			return nil, fmt.Errorf("%w: the credential has no password (the system's authnMethod is PASSWORD)", hostcheck.ErrBadCredential)
		}
		pw := cred.Password
		return []ssh.AuthMethod{
			ssh.Password(pw),
			// hosts that only allow keyboard-interactive (PAM) ask for the
			// password as one hidden prompt
			ssh.KeyboardInteractive(func(_, _ string, questions []string, echos []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range questions {
					if echos[i] || i > 0 {
						return nil, errors.New("the host asks more than a password")
					}
					answers[i] = pw
				}
				return answers, nil
			}),
		}, nil
	case PKIKeys:
		signer, err := ParsePrivateKey(cred.PrivateKey)
		if err != nil {
			return nil, err
		}
		if cred.PublicKey != "" {
			// a public key that does not belong to the private key is a
			// mistake worth naming (only when it parses: formats vary)
			if pub, _, _, _, perr := ssh.ParseAuthorizedKey(normalizeKeyText(cred.PublicKey)); perr == nil &&
				!bytes.Equal(pub.Marshal(), signer.PublicKey().Marshal()) {
				return nil, fmt.Errorf("%w: the credential's publicKey is not the public half of its privateKey", hostcheck.ErrBadCredential)
			}
		}
		return []ssh.AuthMethod{ssh.PublicKeys(signer)}, nil
	case "":
		return nil, fmt.Errorf("%w: the system has no authentication method", hostcheck.ErrUnsupported)
	default:
		return nil, fmt.Errorf("%w: SSH checks PASSWORD and PKI_KEYS credentials, not %s", hostcheck.ErrUnsupported, method)
	}
}

// ParsePrivateKey reads an unencrypted private key in PEM (PKCS#1,
// PKCS#8, SEC 1) or OpenSSH format: RSA, ECDSA or ed25519. Key text as
// Tapis stores it is accepted: escaped "\n" sequences instead of newlines,
// CRLF line ends, surrounding blanks, or the base64 body run onto one line.
// Errors wrap hostcheck.ErrBadCredential and never quote the key.
func ParsePrivateKey(text string) (ssh.Signer, error) {
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("%w: the credential has no privateKey (the system's authnMethod is PKI_KEYS)", hostcheck.ErrBadCredential)
	}
	signer, err := ssh.ParsePrivateKey(normalizeKeyText(text))
	if err != nil {
		if re, ok := rewrapPEM(text); ok {
			if s, rerr := ssh.ParsePrivateKey(re); rerr == nil {
				return s, nil
			}
		}
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, fmt.Errorf("%w: the privateKey is encrypted with a passphrase; store it unencrypted", hostcheck.ErrBadCredential)
		}
		return nil, fmt.Errorf("%w: the privateKey could not be read (an unencrypted RSA, ECDSA or ed25519 key in PEM or OpenSSH format is expected)", hostcheck.ErrBadCredential)
	}
	return signer, nil
}

// normalizeKeyText turns escaped newlines into newlines, drops CRs and
// blanks around the text.
func normalizeKeyText(text string) []byte {
	text = strings.NewReplacer(`\r\n`, "\n", `\n`, "\n", `\r`, "", "\r", "").Replace(text)
	return []byte(strings.TrimSpace(text) + "\n")
}

var pemBlock = regexp.MustCompile(`(?s)-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END ([A-Z0-9 ]+)-----`)

// rewrapPEM rebuilds a PEM block whose line breaks were lost or replaced
// by blanks: header, the base64 body in 64-column lines, footer.
func rewrapPEM(text string) ([]byte, bool) {
	m := pemBlock.FindStringSubmatch(string(normalizeKeyText(text)))
	if m == nil || m[1] != m[3] || strings.Contains(m[2], ":") { // ':' = PEM headers (encrypted keys)
		return nil, false
	}
	body := strings.Join(strings.Fields(m[2]), "")
	var b strings.Builder
	b.WriteString("-----BEGIN " + m[1] + "-----\n")
	for len(body) > 64 {
		b.WriteString(body[:64] + "\n")
		body = body[64:]
	}
	b.WriteString(body + "\n-----END " + m[1] + "-----\n")
	return []byte(b.String()), true
}

// hostKeys is one check's host-key decision.
type hostKeys struct {
	pinned   ssh.PublicKey // nil: trust on first use
	called   bool          // the host got as far as presenting a key
	seen     ssh.PublicKey // the key to pin after a successful login
	mismatch ssh.PublicKey // the key presented instead of the pinned one
}

// pinned reads the system's pinned host key.
func (c *Checker) pinned(ctx context.Context, t hostcheck.Target) (*hostKeys, error) {
	if t.SystemID == "" {
		return &hostKeys{}, nil
	}
	s, err := c.keys.HostKey(ctx, t.Tenant, t.SystemID)
	if err != nil {
		return nil, fmt.Errorf("sshcheck: reading the pinned host key of system %s: %w", t.SystemID, err)
	}
	if strings.TrimSpace(s) == "" {
		return &hostKeys{}, nil
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("sshcheck: the pinned host key of system %s is unreadable: %w", t.SystemID, err)
	}
	return &hostKeys{pinned: pub}, nil
}

func (h *hostKeys) callback(_ string, _ net.Addr, key ssh.PublicKey) error {
	h.called = true
	switch {
	case h.pinned == nil:
		h.seen = key
		return nil
	case bytes.Equal(key.Marshal(), h.pinned.Marshal()):
		return nil
	default:
		h.mismatch = key
		return hostcheck.ErrHostKeyMismatch
	}
}

// algorithms asks the host for the type of the pinned key, so a host with
// several keys presents the pinned one (golang/go#49631); nil (the
// library's preference) when nothing is pinned.
func (h *hostKeys) algorithms() []string {
	if h.pinned == nil {
		return nil
	}
	if t := h.pinned.Type(); t != ssh.KeyAlgoRSA {
		return []string{t}
	}
	return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
}
