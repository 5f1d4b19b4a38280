package s3check_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tapis-go/tapis/adapters/s3check"
	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
)

// The S3 check runs under the server's host-check policy: the policy's
// dialer (SSRF guard, connect timeout) is plugged into the Checker, and
// Guard adds the whole-check deadline and the per-tenant cap.
func Example() {
	policy := hostcheck.Policy{CheckTimeout: 20 * time.Second}
	verifier := hostcheck.Mux{
		"S3": policy.Guard(s3check.New(s3check.Options{
			DialContext:           policy.Dial,
			ResponseHeaderTimeout: 10 * time.Second,
		})),
	}
	err := verifier.Verify(context.Background(), hostcheck.Target{
		Tenant: "dev", SystemID: "my-bucket", SystemType: "S3", AuthnMethod: "ACCESS_KEY",
		Host: "https://s3.us-west-2.amazonaws.com", BucketName: "my-bucket", RootDir: "/data",
	}, credentials.Credential{AccessKey: "AKIA...", AccessSecret: "..."})
	switch {
	case err == nil:
		fmt.Println("the key lists the bucket")
	case errors.Is(err, hostcheck.ErrBadCredential):
		fmt.Println("refused:", err)
	case errors.Is(err, hostcheck.ErrRootDirMissing):
		fmt.Println("no such bucket:", err)
	default:
		fmt.Println("cannot check:", err)
	}
}
