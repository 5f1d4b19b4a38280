package sshcheck_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tapis-go/tapis/adapters/sshcheck"
	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/hostcheck/hostchecktest"
)

// A server checks LINUX systems over SSH. The policy refuses private
// addresses (the default) and gives a silent host 10 s per exchange; the
// host keys would live in the systems store (here in memory).
func Example() {
	policy := hostcheck.Policy{
		ConnectTimeout:   5 * time.Second,
		HandshakeTimeout: 10 * time.Second,
		CheckTimeout:     30 * time.Second,
		MaxPerTenant:     4,
	}
	ssh := sshcheck.New(hostchecktest.NewHostKeys(), policy)
	checks := hostcheck.Mux{"LINUX": ssh}

	err := checks.Verify(context.Background(), hostcheck.Target{
		Tenant: "dev", SystemID: "my-host", SystemType: "LINUX", AuthnMethod: sshcheck.Password,
		Host: "169.254.169.254", LoginUser: "testuser1", RootDir: "/home/testuser1",
	}, credentials.Credential{Password: "..."})
	fmt.Println(errors.Is(err, hostcheck.ErrForbiddenAddress))
	fmt.Println(err)
	// Output:
	// true
	// the host's address is not allowed: 169.254.169.254 is a cloud metadata address; host checks never connect there
}
