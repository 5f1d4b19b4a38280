#!/usr/bin/env bash
# Start a throw-away PostgreSQL cluster on 127.0.0.1:55432 without systemd or
# pg_ctlcluster (recipe: shared/reference/ecosystem.md). Prints the DSN for
# TAPIS_TEST_POSTGRES_DSN; stop it with scripts/pg-stop.sh.
# Run as root (it drops to the unprivileged 'postgres' user: initdb refuses to run as root).
#
#   eval "$(scripts/pg-start.sh | sed -n 's/^DSN: /export TAPIS_TEST_POSTGRES_DSN=/p')"
#   go test ./adapters/bunstore/
#   scripts/pg-stop.sh
set -euo pipefail
PG_PORT=${PG_PORT:-55432}
PG_DB=${PG_DB:-tapis}
PG_USER=${PG_USER:-tapis}
PG_PASS=${PG_PASS:-tapis-test-pw}
D=${PG_DIR:-/tmp/tapis-pg}
RUN_AS=${PG_RUN_AS:-postgres}

export DEBIAN_FRONTEND=noninteractive
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 ||
  apt-get install -y --no-install-recommends postgresql >/dev/null
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
id "$RUN_AS" >/dev/null 2>&1 || useradd -r -m -s /bin/bash "$RUN_AS"
as_pg() { runuser -u "$RUN_AS" -- "$@"; }

# A cluster left running by an earlier start is stopped before its directory goes.
if [ -f "$D/data/postmaster.pid" ]; then
  as_pg "$PGBIN/pg_ctl" -D "$D/data" -m fast -w stop >/dev/null 2>&1 || true
fi

rm -rf "$D"; mkdir -p "$D"; chown "$RUN_AS": "$D"; chmod 700 "$D"
printf '%s\n' "$PG_PASS" > "$D/.pw"; chown "$RUN_AS": "$D/.pw"
as_pg "$PGBIN/initdb" -D "$D/data" -U postgres --pwfile="$D/.pw" \
  --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$D/initdb.log"
as_pg "$PGBIN/pg_ctl" -D "$D/data" -l "$D/server.log" -w -t 30 \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $D -c fsync=off -c full_page_writes=off" start
as_pg "$PGBIN/psql" -h "$D" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q \
  -c "CREATE ROLE $PG_USER LOGIN PASSWORD '$PG_PASS'" \
  -c "CREATE DATABASE $PG_DB OWNER $PG_USER"
echo "postgres pid $(head -1 "$D/data/postmaster.pid") on 127.0.0.1:$PG_PORT"
echo "DSN: postgres://$PG_USER:$PG_PASS@127.0.0.1:$PG_PORT/$PG_DB?sslmode=disable"
