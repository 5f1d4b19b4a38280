package s3check

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/hostcheck"
)

// The bucket and object scripts/minio-start.sh creates.
const (
	minioBucket = "tapis-test"
	minioRoot   = "/data"
)

// minioEnv returns the real server's endpoint and root credential from
// TAPIS_TEST_S3_ENDPOINT, TAPIS_TEST_S3_ACCESS_KEY and
// TAPIS_TEST_S3_SECRET_KEY, or skips the test.
func minioEnv(t *testing.T) (endpoint, key, secret string) {
	t.Helper()
	endpoint = os.Getenv("TAPIS_TEST_S3_ENDPOINT")
	if endpoint == "" {
		t.Skip("TAPIS_TEST_S3_ENDPOINT is not set: start MinIO with scripts/minio-start.sh " +
			"and export TAPIS_TEST_S3_ENDPOINT, TAPIS_TEST_S3_ACCESS_KEY, TAPIS_TEST_S3_SECRET_KEY")
	}
	key, secret = os.Getenv("TAPIS_TEST_S3_ACCESS_KEY"), os.Getenv("TAPIS_TEST_S3_SECRET_KEY")
	require.NotEmpty(t, key, "TAPIS_TEST_S3_ACCESS_KEY")
	require.NotEmpty(t, secret, "TAPIS_TEST_S3_SECRET_KEY")
	return endpoint, key, secret
}

func TestMinIO(t *testing.T) {
	ep, key, secret := minioEnv(t)
	good := accessKey(key, secret)
	c := fastChecker()
	ctx := context.Background()

	t.Run("good key", func(t *testing.T) {
		require.NoError(t, c.Verify(ctx, target(ep, minioBucket, minioRoot), good))
		require.NoError(t, c.Verify(ctx, target(ep, minioBucket, "/"), good))
	})
	t.Run("good key, port from the system", func(t *testing.T) {
		host, port := splitEndpoint(t, ep)
		tg := target("http://"+host, minioBucket, minioRoot)
		tg.Port = port
		require.NoError(t, c.Verify(ctx, tg, good))
	})
	t.Run("missing prefix is an empty rootDir, not an error", func(t *testing.T) {
		require.NoError(t, c.Verify(ctx, target(ep, minioBucket, "/no/such/prefix"), good))
	})
	t.Run("bad secret", func(t *testing.T) {
		cred := accessKey(key, secret+"-wrong")
		err := c.Verify(ctx, target(ep, minioBucket, minioRoot), cred)
		requireClass(t, err, hostcheck.ErrBadCredential, cred)
		assert.NotContains(t, err.Error(), secret)
		assert.Contains(t, err.Error(), "SignatureDoesNotMatch")
	})
	t.Run("unknown access key", func(t *testing.T) {
		cred := accessKey("nosuchkey-tapis", secret)
		err := c.Verify(ctx, target(ep, minioBucket, minioRoot), cred)
		requireClass(t, err, hostcheck.ErrBadCredential, cred)
		assert.Contains(t, err.Error(), "InvalidAccessKeyId")
	})
	t.Run("missing bucket", func(t *testing.T) {
		err := c.Verify(ctx, target(ep, "no-such-bucket-tapis", minioRoot), good)
		requireClass(t, err, hostcheck.ErrRootDirMissing, good)
		assert.Contains(t, err.Error(), `S3 bucket "no-such-bucket-tapis" does not exist`)
	})
	t.Run("unreachable port", func(t *testing.T) {
		err := c.Verify(ctx, target("http://"+closedPort(t), minioBucket, minioRoot), good)
		requireClass(t, err, hostcheck.ErrUnreachable, good)
	})
	t.Run("https to the http server", func(t *testing.T) {
		host, port := splitEndpoint(t, ep)
		tg := target(host, minioBucket, minioRoot)
		tg.Port = port
		requireClass(t, c.Verify(ctx, tg, good), hostcheck.ErrUnreachable, good)
	})
}
