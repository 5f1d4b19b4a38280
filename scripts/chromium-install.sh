#!/usr/bin/env bash
# Install Debian's headless-capable Chromium for the browser end-to-end test
# (internal/e2e) when /usr/bin/chromium is missing, then print its path.
# Run as root. Idempotent: does nothing but print the path when it is there.
#
#   TAPIS_TEST_CHROMIUM=$(scripts/chromium-install.sh) go test ./internal/e2e/
set -euo pipefail
CHROMIUM=/usr/bin/chromium
export DEBIAN_FRONTEND=noninteractive
if [ ! -x "$CHROMIUM" ]; then
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
[ -x "$CHROMIUM" ] || { echo "chromium-install: $CHROMIUM missing after install" >&2; exit 1; }
echo "$CHROMIUM"
