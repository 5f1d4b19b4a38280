#!/usr/bin/env bash
# Stop the throw-away MinIO server started by scripts/minio-start.sh and
# delete its data (set MINIO_KEEP=1 to keep the data and log). The built
# binary stays in MINIO_BIN_DIR.
set -euo pipefail
D=${MINIO_DIR:-/tmp/tapis-minio}

if [ ! -d "$D" ]; then
  echo "no minio in $D"
  exit 0
fi
if [ -f "$D/minio.pid" ]; then
  pid=$(cat "$D/minio.pid")
  # only if that pid is still a minio: a stale file must not kill another process
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = minio ] && kill "$pid" 2>/dev/null; then
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "minio pid $pid stopped"
  fi
fi
if [ "${MINIO_KEEP:-0}" != 1 ]; then
  rm -rf "$D"
fi
