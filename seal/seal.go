// Package seal encrypts secrets at rest with an AES-256-GCM envelope: each
// sealed value gets a fresh random data key, the data key is wrapped by a
// key-encryption key (KEK) from configuration, and caller-chosen associated
// data (for example tenant|system|user) binds the ciphertext to its row, so a
// value copied elsewhere fails to open. Rotating the KEK re-wraps data keys
// without touching the data.
//
// It imports nothing of this module, so every domain package may use it.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// KeySize is the length of a KEK in bytes.
const KeySize = 32

const version = 1

// ErrOpen is returned when a sealed value cannot be opened: wrong KEK, wrong
// associated data, or tampered bytes. It never says which.
var ErrOpen = errors.New("seal: cannot open sealed value")

// Sealer seals with its current KEK and opens with any KEK it knows.
type Sealer struct {
	currentID string
	keks      map[string]cipher.AEAD
}

// KeyID derives a short, non-secret identifier of a KEK.
func KeyID(kek []byte) string {
	sum := sha256.Sum256(append([]byte("tapis-seal-kek-id:"), kek...))
	return hex.EncodeToString(sum[:6])
}

// New returns a Sealer that seals with current and also opens values sealed
// with any of the previous KEKs. Every KEK must be KeySize bytes.
func New(current []byte, previous ...[]byte) (*Sealer, error) {
	s := &Sealer{keks: map[string]cipher.AEAD{}}
	for i, k := range append([][]byte{current}, previous...) {
		if len(k) != KeySize {
			return nil, fmt.Errorf("seal: KEK %d is %d bytes, want %d", i, len(k), KeySize)
		}
		aead, err := newAEAD(k)
		if err != nil {
			return nil, err
		}
		id := KeyID(k)
		if i == 0 {
			s.currentID = id
		}
		s.keks[id] = aead
	}
	return s, nil
}

// NewKey returns a fresh random KEK.
func NewKey() []byte {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic("seal: crypto/rand failed: " + err.Error())
	}
	return k
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return cipher.NewGCM(block)
}

// CurrentKeyID is the id of the KEK new values are sealed with.
func (s *Sealer) CurrentKeyID() string { return s.currentID }

// Seal encrypts plaintext bound to aad.
//
// Layout: version(1) | len(kekID)(1) | kekID | len(wrapped)(2) | wrapped DEK
// (nonce+ciphertext under the KEK, aad = kekID) | nonce | ciphertext (aad).
func (s *Sealer) Seal(plaintext, aad []byte) ([]byte, error) {
	dek := NewKey()
	defer clear(dek)
	wrapped, err := s.wrap(s.currentID, dek)
	if err != nil {
		return nil, err
	}
	data, err := newAEAD(dek)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, data.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	out := append(header(s.currentID, wrapped), nonce...)
	return data.Seal(out, nonce, plaintext, aad), nil
}

// header is version | len(kekID) | kekID | len(wrapped) | wrapped.
func header(kekID string, wrapped []byte) []byte {
	out := []byte{version, byte(len(kekID))}
	out = append(out, kekID...)
	out = binary.BigEndian.AppendUint16(out, uint16(len(wrapped)))
	return append(out, wrapped...)
}

func (s *Sealer) wrap(kekID string, dek []byte) ([]byte, error) {
	kek := s.keks[kekID]
	nonce := make([]byte, kek.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return kek.Seal(nonce, nonce, dek, []byte(kekID)), nil
}

type parsed struct {
	kekID   string
	wrapped []byte
	rest    []byte // nonce | ciphertext
}

func parse(sealed []byte) (parsed, error) {
	if len(sealed) < 2 || sealed[0] != version {
		return parsed{}, ErrOpen
	}
	n := int(sealed[1])
	if len(sealed) < 2+n+2 {
		return parsed{}, ErrOpen
	}
	p := parsed{kekID: string(sealed[2 : 2+n])}
	off := 2 + n
	wl := int(binary.BigEndian.Uint16(sealed[off:]))
	off += 2
	if len(sealed) < off+wl {
		return parsed{}, ErrOpen
	}
	p.wrapped, p.rest = sealed[off:off+wl], sealed[off+wl:]
	return p, nil
}

func (s *Sealer) unwrap(p parsed) ([]byte, error) {
	kek, ok := s.keks[p.kekID]
	if !ok || len(p.wrapped) < kek.NonceSize() {
		return nil, ErrOpen
	}
	ns := kek.NonceSize()
	dek, err := kek.Open(nil, p.wrapped[:ns], p.wrapped[ns:], []byte(p.kekID))
	if err != nil {
		return nil, ErrOpen
	}
	return dek, nil
}

// Open decrypts a value sealed with the same aad.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	p, err := parse(sealed)
	if err != nil {
		return nil, err
	}
	dek, err := s.unwrap(p)
	if err != nil {
		return nil, err
	}
	defer clear(dek)
	data, err := newAEAD(dek)
	if err != nil {
		return nil, ErrOpen
	}
	ns := data.NonceSize()
	if len(p.rest) < ns {
		return nil, ErrOpen
	}
	plain, err := data.Open(nil, p.rest[:ns], p.rest[ns:], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// NeedsRewrap reports whether sealed was wrapped by a KEK other than the current one.
func (s *Sealer) NeedsRewrap(sealed []byte) bool {
	p, err := parse(sealed)
	return err == nil && p.kekID != s.currentID
}

// Rewrap re-wraps the data key of sealed under the current KEK, leaving the
// encrypted data as it is. The associated data is not needed.
func (s *Sealer) Rewrap(sealed []byte) ([]byte, error) {
	p, err := parse(sealed)
	if err != nil {
		return nil, err
	}
	dek, err := s.unwrap(p)
	if err != nil {
		return nil, err
	}
	defer clear(dek)
	wrapped, err := s.wrap(s.currentID, dek)
	if err != nil {
		return nil, err
	}
	return append(header(s.currentID, wrapped), p.rest...), nil
}

// SealedKeyID returns the id (see KeyID) of the KEK that wrapped sealed, ""
// when sealed is not a sealed value. The id is not secret: it names which
// key an operator must supply.
func SealedKeyID(sealed []byte) string {
	p, err := parse(sealed)
	if err != nil {
		return ""
	}
	return p.kekID
}
