#!/usr/bin/env bash
# Start a throw-away MinIO server on http://127.0.0.1:9000 for the S3 host
# check tests (recipe: shared/reference/ecosystem.md "MinIO server"). No Debian
# package ships MinIO, so the server is built with `go install` from the Go
# module proxy into MINIO_BIN_DIR (default /var/cache/tapis/minio-bin, a
# directory CI can cache: the first build takes about 3 minutes on 2 cores,
# later starts take about a second). Stop it with scripts/minio-stop.sh.
# Idempotent: an instance left by an earlier start is stopped and its data
# wiped first.
#
#   eval "$(scripts/minio-start.sh | sed -n 's/^S3_\([A-Z_]*\): /export TAPIS_TEST_S3_\1=/p')"
#   go test ./adapters/s3check/
#   scripts/minio-stop.sh
#
# Data: bucket tapis-test holding data/hello.txt; the root user's access key
# and secret are the S3 credentials printed.
set -euo pipefail
MINIO_VERSION=${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}
BIN=${MINIO_BIN_DIR:-/var/cache/tapis/minio-bin}
D=${MINIO_DIR:-/tmp/tapis-minio}
ADDR=${MINIO_ADDR:-127.0.0.1:9000}
CONSOLE_ADDR=${MINIO_CONSOLE_ADDR:-127.0.0.1:9001}
ACCESS_KEY=${MINIO_ROOT_USER:-tapisadmin}
SECRET_KEY=${MINIO_ROOT_PASSWORD:-tapisadmin-secret}
BUCKET=${MINIO_TEST_BUCKET:-tapis-test}
URL="http://$ADDR"

# Build once per version; the stamp file says which version the cached
# binary is.
if [ ! -x "$BIN/minio" ] || [ "$(cat "$BIN/minio.version" 2>/dev/null)" != "$MINIO_VERSION" ]; then
  echo "building minio@$MINIO_VERSION into $BIN (about 3 minutes the first time)" >&2
  mkdir -p "$BIN"
  start=$(date +%s)
  (cd / && GOBIN="$BIN" GOFLAGS=-buildvcs=false go install "github.com/minio/minio@$MINIO_VERSION")
  echo "$MINIO_VERSION" > "$BIN/minio.version"
  echo "built in $(( $(date +%s) - start )) s" >&2
fi

# A server left running by an earlier start is stopped before its directory
# goes (only if that pid is still a minio: a stale file must not kill another process).
if [ -f "$D/minio.pid" ]; then
  pid=$(cat "$D/minio.pid")
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = minio ] && kill "$pid" 2>/dev/null; then
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
fi

rm -rf "$D"; mkdir -p "$D/data"
MINIO_ROOT_USER="$ACCESS_KEY" MINIO_ROOT_PASSWORD="$SECRET_KEY" MINIO_BROWSER=off \
  MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off \
  nohup "$BIN/minio" server "$D/data" --quiet --address "$ADDR" --console-address "$CONSOLE_ADDR" \
  </dev/null >"$D/minio.log" 2>&1 &
echo $! > "$D/minio.pid"

ready=""
for _ in $(seq 200); do
  curl -sf "$URL/minio/health/ready" >/dev/null 2>&1 && { ready=1; break; }
  kill -0 "$(cat "$D/minio.pid")" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "minio did not answer on $URL within 20 s; log:" >&2
  cat "$D/minio.log" >&2
  exit 1
fi

# s3 REQUEST PATH [curl args...]: one SigV4-signed request as the root user.
s3() {
  local method=$1 path=$2; shift 2
  curl -sSf -X "$method" --aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@" "$URL/$path" >/dev/null
}
# health/ready can answer before the object layer takes requests (503):
# retry the first write for up to 10 s. 409: already there.
code=""
for _ in $(seq 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$ACCESS_KEY:$SECRET_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$URL/$BUCKET" || true)
  case $code in 200|409) break ;; esac
  sleep 0.1
done
case $code in
  200|409) ;;
  *) echo "minio did not create bucket $BUCKET (HTTP $code); log:" >&2; cat "$D/minio.log" >&2; exit 1 ;;
esac
printf 'hello from tapis\n' > "$D/hello.txt"
s3 PUT "$BUCKET/data/hello.txt" --data-binary "@$D/hello.txt" -H "Content-Type: text/plain"
rm -f "$D/hello.txt"

echo "minio pid $(cat "$D/minio.pid") on $URL, bucket $BUCKET with data/hello.txt"
echo "S3_ENDPOINT: $URL"
echo "S3_ACCESS_KEY: $ACCESS_KEY"
echo "S3_SECRET_KEY: $SECRET_KEY"
