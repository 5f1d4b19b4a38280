package seal_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/seal"
)

func TestSealOpenRoundTrip(t *testing.T) {
	s, err := seal.New(seal.NewKey())
	require.NoError(t, err)
	secret := []byte("-----BEGIN RSA PRIVATE KEY----- very secret")
	sealed, err := s.Seal(secret, []byte("dev|keys"))
	require.NoError(t, err)
	assert.False(t, bytes.Contains(sealed, secret), "ciphertext must not contain the plaintext")
	got, err := s.Open(sealed, []byte("dev|keys"))
	require.NoError(t, err)
	assert.Equal(t, secret, got)
}

func TestOpenFailsOnOtherAAD(t *testing.T) {
	s, err := seal.New(seal.NewKey())
	require.NoError(t, err)
	sealed, err := s.Seal([]byte("pw"), []byte("dev|sys1|alice"))
	require.NoError(t, err)
	_, err = s.Open(sealed, []byte("dev|sys1|bob"))
	assert.ErrorIs(t, err, seal.ErrOpen)
}

func TestOpenFailsOnTamperingAndWrongKEK(t *testing.T) {
	s, err := seal.New(seal.NewKey())
	require.NoError(t, err)
	sealed, err := s.Seal([]byte("pw"), nil)
	require.NoError(t, err)
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		_, err := s.Open(bad, nil)
		assert.Error(t, err, "flipping byte %d must be detected", i)
	}
	other, err := seal.New(seal.NewKey())
	require.NoError(t, err)
	_, err = other.Open(sealed, nil)
	assert.ErrorIs(t, err, seal.ErrOpen)
	_, err = s.Open([]byte{1}, nil)
	assert.ErrorIs(t, err, seal.ErrOpen)
}

func TestRotationRewrapsDataKey(t *testing.T) {
	oldKEK, newKEK := seal.NewKey(), seal.NewKey()
	before, err := seal.New(oldKEK)
	require.NoError(t, err)
	sealed, err := before.Seal([]byte("secret"), []byte("aad"))
	require.NoError(t, err)

	after, err := seal.New(newKEK, oldKEK)
	require.NoError(t, err)
	assert.True(t, after.NeedsRewrap(sealed))
	got, err := after.Open(sealed, []byte("aad"))
	require.NoError(t, err)
	assert.Equal(t, "secret", string(got))

	rewrapped, err := after.Rewrap(sealed)
	require.NoError(t, err)
	assert.False(t, after.NeedsRewrap(rewrapped))
	onlyNew, err := seal.New(newKEK)
	require.NoError(t, err)
	got, err = onlyNew.Open(rewrapped, []byte("aad"))
	require.NoError(t, err)
	assert.Equal(t, "secret", string(got))
	_, err = onlyNew.Open(sealed, []byte("aad"))
	assert.ErrorIs(t, err, seal.ErrOpen, "the old wrapping needs the old KEK")
}

func TestNewRejectsShortKEK(t *testing.T) {
	_, err := seal.New([]byte("short"))
	assert.Error(t, err)
}
