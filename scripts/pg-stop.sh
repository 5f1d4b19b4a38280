#!/usr/bin/env bash
# Stop the throw-away PostgreSQL cluster started by scripts/pg-start.sh and
# delete its directory (set PG_KEEP=1 to keep the data and logs).
set -euo pipefail
D=${PG_DIR:-/tmp/tapis-pg}
RUN_AS=${PG_RUN_AS:-postgres}

if [ ! -d "$D/data" ]; then
  echo "no cluster in $D"
  exit 0
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
if [ -f "$D/data/postmaster.pid" ]; then
  runuser -u "$RUN_AS" -- "$PGBIN/pg_ctl" -D "$D/data" -m fast -w -t 30 stop
fi
if [ "${PG_KEEP:-0}" != 1 ]; then
  rm -rf "$D"
fi
