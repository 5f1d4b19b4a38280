// Package e2e holds end-to-end tests that drive the library from outside,
// through a real browser: browser_test.go runs the authenticator's OAuth2
// pages (login, consent, the Token Web App) in headless Chromium with
// chromedp. The tests skip unless TAPIS_TEST_CHROMIUM names a Chromium
// binary (scripts/chromium-install.sh installs one and prints its path):
//
//	TAPIS_TEST_CHROMIUM=$(scripts/chromium-install.sh) go test ./internal/e2e/ -v
//
// On a failure the test saves screenshots of the pages it passed and of the
// page it stopped on in its artifact directory (kept with go test -artifacts).
package e2e
