// Package clustere2e runs examples/server as it will be deployed: three
// processes of the binary deploy/Containerfile builds (internal/serverbin)
// on one PostgreSQL schema and one KEK, behind a round-robin reverse proxy
// run inside the test. It drives a bounded mixed load through the proxy,
// kills one instance with SIGKILL and restarts it during the load, and then
// checks what must hold across instances exactly as on one: no
// acknowledged write lost, no 5xx but the proxy's own answers for the
// killed instance, revocation and key rotation seen by every instance
// within 1 s, one password limit for all, no lost update under parallel
// PATCHes, and a refused start with a wrong KEK or none. The test skips unless
// TAPIS_TEST_POSTGRES_DSN names a PostgreSQL database:
//
//	TAPIS_TEST_POSTGRES_DSN=postgres://... go test ./internal/clustere2e/ -v
//
// It logs its measured figures on lines starting with "figures:".
package clustere2e
