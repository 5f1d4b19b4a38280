package s3check

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7/pkg/s3utils"
	"github.com/stretchr/testify/require"
)

// The in-process S3: gofakes3 (memory backend) behind sigV4Auth, which
// gofakes3 itself lacks (it accepts any credential).
const (
	fakeBucket = "tapis-test"
	fakeObject = "data/hello.txt"
	fakeKey    = "FAKEACCESSKEY0001"
	fakeSecret = "fake-secret-Zq8x1v7Kp2"
)

// newFakeS3 serves bucket fakeBucket holding fakeObject to requests signed
// with fakeKey/fakeSecret, and returns the endpoint (http://127.0.0.1:port).
func newFakeS3(t *testing.T) string {
	t.Helper()
	backend := s3mem.New()
	require.NoError(t, backend.CreateBucket(fakeBucket))
	body := []byte("hello\n")
	_, err := backend.PutObject(fakeBucket, fakeObject, map[string]string{}, bytes.NewReader(body), int64(len(body)), nil)
	require.NoError(t, err)
	faker := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	srv := httptest.NewServer(sigV4Auth(map[string]string{fakeKey: fakeSecret}, faker.Server()))
	t.Cleanup(srv.Close)
	return srv.URL
}

// sigV4Auth checks the AWS Signature Version 4 of header-signed requests
// (what minio-go sends) against secrets by access key, answering as S3 does:
// 403 InvalidAccessKeyId for an unknown key, 403 SignatureDoesNotMatch for a
// wrong secret, 403 AccessDenied for an unsigned request.
func sigV4Auth(secrets map[string]string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cred, signed, sig, ok := parseAuthorization(r.Header.Get("Authorization"))
		if !ok {
			s3Error(w, "AccessDenied", "Access Denied.")
			return
		}
		scope := strings.SplitN(cred, "/", 2) // key / date/region/s3/aws4_request
		secret, known := secrets[scope[0]]
		if len(scope) != 2 || !known {
			s3Error(w, "InvalidAccessKeyId", "The Access Key Id you provided does not exist in our records.")
			return
		}
		parts := strings.Split(scope[1], "/") // date, region, service, aws4_request
		if len(parts) != 4 {
			s3Error(w, "AuthorizationHeaderMalformed", "The authorization header is malformed.")
			return
		}
		var canonHeaders strings.Builder
		for _, h := range strings.Split(signed, ";") {
			v := r.Host
			if h != "host" {
				vals := r.Header.Values(h)
				for i := range vals {
					vals[i] = strings.Join(strings.Fields(vals[i]), " ")
				}
				v = strings.Join(vals, ",")
			}
			canonHeaders.WriteString(h + ":" + v + "\n")
		}
		canonical := strings.Join([]string{
			r.Method,
			s3utils.EncodePath(r.URL.Path),
			strings.ReplaceAll(r.URL.Query().Encode(), "+", "%20"),
			canonHeaders.String(),
			signed,
			r.Header.Get("X-Amz-Content-Sha256"),
		}, "\n")
		sum := sha256.Sum256([]byte(canonical))
		toSign := "AWS4-HMAC-SHA256\n" + r.Header.Get("X-Amz-Date") + "\n" + scope[1] + "\n" + hex.EncodeToString(sum[:])
		key := []byte("AWS4" + secret)
		for _, p := range parts {
			key = hmacSHA256(key, p)
		}
		want := hex.EncodeToString(hmacSHA256(key, toSign))
		if !hmac.Equal([]byte(want), []byte(sig)) {
			s3Error(w, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// parseAuthorization splits
// "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
func parseAuthorization(h string) (cred, signed, sig string, ok bool) {
	rest, found := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !found {
		return "", "", "", false
	}
	for f := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			sig = v
		}
	}
	hs := strings.Split(signed, ";")
	return cred, signed, sig, cred != "" && sig != "" && sort.StringsAreSorted(hs)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func s3Error(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusForbidden)
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName xml.Name `xml:"Error"`
		Code    string
		Message string
	}{Code: code, Message: msg})
}
