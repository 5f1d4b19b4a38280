#!/usr/bin/env bash
# Stop the throw-away OpenLDAP server started by scripts/ldap-start.sh and
# delete its directory (set LDAP_KEEP=1 to keep the data).
set -euo pipefail
D=${LDAP_DIR:-/tmp/tapis-ldap}

if [ ! -d "$D" ]; then
  echo "no slapd in $D"
  exit 0
fi
if [ -f "$D/slapd.pid" ]; then
  pid=$(cat "$D/slapd.pid")
  # only if that pid is still a slapd: a stale file must not kill another process
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = slapd ] && kill "$pid" 2>/dev/null; then
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "slapd pid $pid stopped"
  fi
fi
if [ "${LDAP_KEEP:-0}" != 1 ]; then
  rm -rf "$D"
fi
