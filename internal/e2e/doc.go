// Package e2e holds end-to-end tests that drive the library from outside,
// through a real browser: browser_test.go runs the authenticator's OAuth2
// pages (login, consent, the Token Web App) in headless Chromium with
// chromedp; oidc_test.go opens the Token Web App signed out on the
// listener's own address (http://127.0.0.1:PORT, as -dev serves it), and
// signs in through oauth2-proxy, an OIDC reverse proxy configured against
// our issuer with every check on, to reach the upstream it protects. The
// tests skip unless TAPIS_TEST_CHROMIUM names a Chromium binary
// (scripts/chromium-install.sh installs one and prints its path); the
// oauth2-proxy test also needs TAPIS_TEST_OAUTH2_PROXY
// (scripts/oauth2-proxy-install.sh builds v7.15.6 and prints its path):
//
//	TAPIS_TEST_CHROMIUM=$(scripts/chromium-install.sh) \
//	TAPIS_TEST_OAUTH2_PROXY=$(scripts/oauth2-proxy-install.sh | tail -1) go test ./internal/e2e/ -v
//
// On a failure the test saves screenshots of the pages it passed and of the
// page it stopped on in its artifact directory (kept with go test -artifacts).
package e2e
