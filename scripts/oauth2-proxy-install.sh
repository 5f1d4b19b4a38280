#!/usr/bin/env bash
# Build oauth2-proxy (a widely deployed OIDC reverse proxy) for the browser
# end-to-end test that signs in through it against our issuer. No Debian
# package ships it, so it is built with `go install` from the Go module
# proxy into OAUTH2_PROXY_BIN_DIR (default /var/cache/tapis/oauth2-proxy-bin,
# a directory CI can cache: the first build takes a few minutes on 2 cores,
# later runs reuse it). The last line printed is the binary's path:
#
#   TAPIS_TEST_OAUTH2_PROXY=$(scripts/oauth2-proxy-install.sh | tail -1) \
#   TAPIS_TEST_CHROMIUM=/usr/bin/chromium go test ./internal/e2e/ -run OAuth2Proxy -v
set -euo pipefail
VERSION=${OAUTH2_PROXY_VERSION:-v7.15.6}
BIN=${OAUTH2_PROXY_BIN_DIR:-/var/cache/tapis/oauth2-proxy-bin}

# Build once per version; the stamp file says which version the cached
# binary is.
if [ ! -x "$BIN/oauth2-proxy" ] || [ "$(cat "$BIN/oauth2-proxy.version" 2>/dev/null)" != "$VERSION" ]; then
  echo "building oauth2-proxy@$VERSION into $BIN (a few minutes the first time)" >&2
  mkdir -p "$BIN"
  start=$(date +%s)
  (cd / && GOBIN="$BIN" GOFLAGS=-buildvcs=false go install "github.com/oauth2-proxy/oauth2-proxy/v7@$VERSION")
  echo "$VERSION" > "$BIN/oauth2-proxy.version"
  echo "built in $(( $(date +%s) - start )) s" >&2
fi
echo "$BIN/oauth2-proxy"
