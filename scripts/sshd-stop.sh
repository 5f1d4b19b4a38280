#!/usr/bin/env bash
# Stop the throw-away sshd started by scripts/sshd-start.sh and delete its
# directory (set SSHD_KEEP=1 to keep it, with sshd.log). The test user stays;
# the next start resets its password, keys and environment.
set -euo pipefail
D=${SSHD_DIR:-/tmp/tapis-sshd}

if [ ! -d "$D" ]; then
  echo "no sshd in $D"
  exit 0
fi
if [ -f "$D/sshd.pid" ]; then
  pid=$(cat "$D/sshd.pid")
  # only if that pid is still an sshd: a stale file must not kill another process
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sshd ] && kill "$pid" 2>/dev/null; then
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "sshd pid $pid stopped"
  fi
fi
if [ "${SSHD_KEEP:-0}" != 1 ]; then
  rm -rf "$D"
fi
